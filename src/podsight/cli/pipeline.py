"""``podsight pipeline``: the pipeline graph run by the local runner (the ``pipeline.run``
step), and the runs recorded (``pipeline.runs``)."""

from __future__ import annotations

import signal
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from podsight.cli.output import console, fail, progress_view
from podsight.cli.render import when
from podsight.errors import UsageError
from podsight.pipeline import run_step

if TYPE_CHECKING:
    from podsight.pipeline.runner import PipelineRunReport

__all__ = ["pipeline_app"]

pipeline_app = typer.Typer(
    help="The pipeline graph: run it in dependency order, see past runs.",
    no_args_is_help=True,
)

CADENCE_CHOICES = {"daily": ("daily",), "weekly": ("weekly",), "all": ("daily", "weekly")}
_STYLE = {"succeeded": "green", "failed": "red", "blocked": "yellow", "interrupted": "red",
          "skipped": "dim", "pending": "dim", "running": "cyan"}  # fmt: skip


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def _status(status: str) -> str:
    style = _STYLE.get(status)
    return f"[{style}]{status}[/]" if style else status


def run_table(report: PipelineRunReport) -> None:
    """Each node of the run: status, attempts, seconds, and its summary or why it failed,
    was blocked or skipped."""
    table = Table(title=f"pipeline run {report.run_id}", expand=False)
    for column in ("node", "status", "attempts", "seconds", "summary / error"):
        table.add_column(column, overflow="fold")
    for node in report.nodes:
        text = node.error if node.status != "succeeded" else node.summary
        table.add_row(
            escape(node.name), _status(node.status), str(node.attempts) if node.attempts else "-",
            _seconds(node.seconds), escape(text[:300]),
        )  # fmt: skip
    console.print(table)


@pipeline_app.command("run")
def run(
    only: Annotated[
        list[str] | None,
        typer.Option(
            "--only", help="Run only this node (repeatable); its needs are taken as done."
        ),
    ] = None,
    start: Annotated[
        str | None,
        typer.Option("--from", help="Run this node and every node that depends on it."),
    ] = None,
    cadence: Annotated[
        str,
        typer.Option(help="Which nodes a full run takes: daily, weekly or all."),
    ] = "daily",
    engine: Annotated[
        str | None,
        typer.Option(
            help="local or spark, for the nodes that take an engine [default: each step's "
            "own, PODSIGHT_ENGINE]."
        ),
    ] = None,
    trigger: Annotated[
        str,
        typer.Option(help="Who started the run, as recorded (an Airflow task passes airflow)."),
    ] = "cli",
    retries: Annotated[
        bool,
        typer.Option(
            help="Try a failed node again as the graph says; --no-retries tries each once "
            "(an Airflow task: Airflow retries it)."
        ),
    ] = True,
    wait: Annotated[
        float,
        typer.Option(
            min=0,
            help="While another run is in progress, wait up to this many seconds for it to "
            "end (default: refuse at once).",
        ),
    ] = 0.0,
    progress: Annotated[bool, typer.Option(help="Show progress bars.")] = True,
) -> None:
    """Run the pipeline graph in dependency order, with retries; a failed node stops only
    what depends on it. Each run is recorded (`podsight pipeline runs`). Exits 1 when a
    node failed."""
    if cadence not in CADENCE_CHOICES:
        raise UsageError(f"--cadence must be one of {', '.join(CADENCE_CHOICES)}, not {cadence!r}")
    if only and start:
        raise UsageError("give either --only or --from, not both")

    def stop(signum, frame):  # noqa: ANN001, ANN202 - a signal handler
        raise KeyboardInterrupt

    # SIGTERM ends the run as Ctrl-C does: recorded as interrupted, not left running.
    signal.signal(signal.SIGTERM, stop)
    report = run_step(
        "pipeline.run",
        only=list(only or ()), start=start, cadences=CADENCE_CHOICES[cadence], engine=engine,
        trigger=trigger, retries=retries, wait=wait, progress=progress_view(progress),
    )  # fmt: skip
    run_table(report)
    console.print(escape(str(report)))
    if report.failed:
        failed = ", ".join(n.name for n in report.nodes if n.status == "failed")
        raise fail(f"pipeline run {report.run_id} failed: {failed} (their dependents did not run)")


@pipeline_app.command("runs")
def runs(
    limit: Annotated[int, typer.Option(min=1, max=1000, help="How many runs, newest first.")] = 10,
    nodes: Annotated[
        bool, typer.Option("--nodes", help="Each run's nodes too, not only the runs.")
    ] = False,
) -> None:
    """The recent pipeline runs: when, who started them, how each ended."""
    listed = run_step("pipeline.runs", limit=limit)
    if not listed.runs:
        console.print("no pipeline run yet: start one with `podsight pipeline run`")
        return
    table = Table(title="pipeline runs", expand=False)
    for column in ("run", "status", "trigger", "started", "seconds", "nodes", "error"):
        table.add_column(column, overflow="fold")
    for found in listed.runs:
        counts = ", ".join(f"{n} {status}" for status, n in found.counts().items())
        table.add_row(
            str(found.run_id), _status(found.status), escape(found.trigger),
            when(found.started_at), _seconds(found.seconds), counts, escape(found.error[:200]),
        )  # fmt: skip
    console.print(table)
    if nodes:
        for found in listed.runs:
            run_table(found)


@pipeline_app.command("schedule")
def schedule(
    every: Annotated[
        str, typer.Option(help="How often the daily graph runs: 24h, 6h, 90m, 30s…")
    ] = "24h",
    weekly_every: Annotated[
        str, typer.Option(help="How often the weekly branch runs (directory import).")
    ] = "7d",
    engine: Annotated[
        str | None,
        typer.Option(help="local or spark, for the nodes that take an engine."),
    ] = None,
    progress: Annotated[bool, typer.Option(help="Show progress bars.")] = False,
) -> None:
    """Run the pipeline graph on a schedule until stopped (SIGTERM or Ctrl-C): never two
    runs at once (a run already going, e.g. `podsight pipeline run`, is waited for), and
    at start whatever is overdue since the last recorded run (or never ran) runs at once.
    The first signal ends the current run after its step at hand, a second one interrupts
    that step; the run is recorded as interrupted and the command exits 0."""
    from podsight.conf import parse_timespan

    report = run_step(
        "pipeline.schedule",
        every=parse_timespan(every), weekly_every=parse_timespan(weekly_every), engine=engine,
        progress=progress_view(progress),
    )  # fmt: skip
    for found in report.runs:
        console.print(
            f"run {found.run_id} ({found.cadence}) {_status(found.status)}, started "
            f"{when(found.started_at)}, {_seconds(found.seconds)} s"
            + (f": {escape(found.error[:200])}" if found.error else "")
        )
    console.print(escape(str(report)))
