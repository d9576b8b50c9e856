"""``podsight events`` and ``podsight simulate``: listening events into the lake
(``events.consume``), engagement recomputed from them (``events.engagement``) and
simulated listeners sending them (``events.simulate``)."""

from __future__ import annotations

import signal
import threading
from contextlib import nullcontext
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from podsight.cli.output import console, err, fail, log_path, progress_view
from podsight.conf import parse_timespan
from podsight.errors import InputError, UsageError
from podsight.pipeline import run_step

__all__ = ["events_app", "simulate_app"]

events_app = typer.Typer(help="Listening events: the log and the lake.", no_args_is_help=True)
simulate_app = typer.Typer(help="Simulated activity for demos and tests.", no_args_is_help=True)


@events_app.command("consume")
def events_consume(
    once: Annotated[
        bool, typer.Option("--once", help="Drain the log and stop (batch use).")
    ] = False,
    batch_size: Annotated[
        int, typer.Option(min=1, max=1_000_000, help="Most events per micro-batch.")
    ] = 50_000,
    interval: Annotated[
        float | None,
        typer.Option(min=0.05, help="Seconds between polls of an empty log [default: 0.5]."),
    ] = None,
    refresh: Annotated[
        bool,
        typer.Option(
            help="Recompute the recommendations of the listeners each batch wrote (when a "
            "model serves); --no-refresh leaves them to the next training."
        ),
    ] = True,
) -> None:
    """Write logged events to the lake (`events`, `engagement_daily`), exactly once.

    Runs until Ctrl-C / SIGTERM (finishing the batch at hand) unless --once. The
    listeners whose events a batch wrote get their recommendations recomputed."""
    if not once:
        err.print(
            f"consuming events into the lake until Ctrl-C; each batch is logged to {log_path()}"
        )
    with err.status("consuming events…") if once else nullcontext():
        report = run_step(
            "events.consume",
            once=once, batch_size=batch_size, interval_s=interval, refresh=refresh,
        )  # fmt: skip
    # A drain beside a running consumer: not an error, that consumer does the work.
    console.print(escape(str(report)) if report.skipped else f"consumed: {escape(str(report))}")


@events_app.command("engagement")
def events_engagement(
    engine: Annotated[
        str | None,
        typer.Option(
            help="Where it runs: local (DuckDB) or spark (the Spark job) "
            "[default: PODSIGHT_ENGINE, else local]."
        ),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Recompute even if events are unchanged.")
    ] = False,
) -> None:
    """Recompute `engagement_daily` from the whole `events` table in one batch.

    Gives the rows the consumer maintains; does nothing when `events` has not changed
    since the last recomputation, or while a consumer is running."""
    with err.status("recomputing engagement…"):
        report = run_step("events.engagement", engine=engine, force=force)
    console.print(escape(str(report)))


@simulate_app.command("listeners")
def simulate_listeners(
    users: Annotated[int, typer.Option(min=1, max=1_000_000, help="Simulated listeners.")] = 5000,
    rate: Annotated[
        float, typer.Option(min=0.001, help="Events per simulated second, overall.")
    ] = 20.0,
    duration: Annotated[
        str | None, typer.Option(help="Simulated time to run: 60s, 5m, 1h, 1h30m…")
    ] = None,
    events: Annotated[int | None, typer.Option(min=1, help="Stop after this many events.")] = None,
    seed: Annotated[int, typer.Option(help="Seed of the listeners' tastes.")] = 42,
    speedup: Annotated[
        float,
        typer.Option(
            help="Simulated seconds per real second (1 = real time; 0 = as fast as possible)."
        ),
    ] = 1.0,
    url: Annotated[
        str | None, typer.Option(help="Base URL of a podsight API (POST {url}/api/events).")
    ] = None,
    token: Annotated[
        str | None,
        typer.Option(envvar="PODSIGHT_SIMULATOR_TOKEN", help="API token (events:write) for --url."),
    ] = None,
    direct: Annotated[
        bool, typer.Option("--direct", help="Write into the event log directly, not over HTTP.")
    ] = False,
    tastes: Annotated[
        Path | None,
        typer.Option(
            help="Where to write the true tastes (default $PODSIGHT_HOME/simulated/tastes.json)."
        ),
    ] = None,
    batch_size: Annotated[int, typer.Option(min=1, max=5000, help="Events per request.")] = 1000,
    progress: Annotated[bool, typer.Option(help="Show a progress bar.")] = True,
) -> None:
    """Simulated listeners with latent tastes play the catalog; their events go to the API
    (--url, --token) or straight into the event log (--direct).

    Runs for --duration of simulated time and/or --events events (until Ctrl-C with
    neither); the simulated clock runs --speedup times as fast as the real one, ending
    near the present. Each listener's true tastes are written to the --tastes file.
    Exits 1 when events were refused or could not be sent."""
    # The options' own rules, said in their names (the step checks its parameters too).
    if direct == (url is not None):
        raise UsageError("give either --url (with --token) or --direct")
    if url is not None and not token:
        raise UsageError("--url needs --token (or PODSIGHT_SIMULATOR_TOKEN)")
    if speedup != 0 and speedup < 1:
        raise UsageError("--speedup must be ≥ 1, or 0 for as fast as possible")
    try:
        seconds = parse_timespan(duration) if duration is not None else None
    except InputError as exc:
        raise UsageError(f"--duration {exc}") from exc

    def stop(signum, frame):  # noqa: ANN001, ANN202 - a signal handler
        raise KeyboardInterrupt

    # SIGTERM ends the run like Ctrl-C (what was generated is sent): a process matter.
    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGTERM, stop)
    try:
        report = run_step(
            "events.simulate",
            users=users, rate=rate, duration_s=seconds, events=events, seed=seed,
            speedup=speedup, url=url, token=token, direct=direct, tastes_path=tastes,
            batch_size=batch_size, progress=progress_view(progress),
        )  # fmt: skip
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    for sample in report.error_samples:
        err.print(f"  [red]✗[/] event {sample.get('event_id')}: {escape(str(sample['errors']))}")
    if report.errors > len(report.error_samples):
        err.print(f"  … and {report.errors - len(report.error_samples):,} more rejected events")
    console.print(f"simulated: {escape(str(report))}")
    retried = f"; {report.retries:,} request(s) retried" if report.retries else ""
    console.print(f"true tastes of the listeners: {escape(str(report.tastes_path))}{retried}")
    if report.saturated:
        err.print(
            f"[yellow]note:[/] {report.users:,} listeners cannot make {report.rate:g} events/s "
            "while listening like people do; raise --users (about 60 per event/s) for the rate"
        )
    if report.interrupted:
        unsent = report.generated - report.sent
        if report.aborted:  # e.g. the server stopped with us (make run)
            err.print(
                f"[yellow]interrupted[/]: the last {unsent:,} event(s) could not be sent "
                f"({escape(report.aborted)})"
            )
        else:
            err.print("[yellow]interrupted[/]: every event generated before was sent")
    elif report.aborted:
        raise fail(report.aborted)
    if report.errors:
        raise typer.Exit(1)
