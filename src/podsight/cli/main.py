"""The ``podsight`` command line. Commands are thin: they call pipeline steps by name."""

from __future__ import annotations

import os
import re
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from podsight import conf
from podsight.bootstrap import DatabaseUnavailable, ensure_database, setup_django
from podsight.pipeline.steps import STEPS

app = typer.Typer(help="podsight: open podcast data platform.", no_args_is_help=True)
ingest_app = typer.Typer(help="Bring catalog data in from a source.", no_args_is_help=True)
demo_app = typer.Typer(help="The seeded demo world.", no_args_is_help=True)
app.add_typer(ingest_app, name="ingest")
app.add_typer(demo_app, name="demo")

console = Console()
if not console.is_terminal:
    # Logs and pipes: wide enough that the per-feed summary is not folded mid-title.
    console = Console(width=200)
err = Console(stderr=True)


def _database() -> None:
    try:
        applied = ensure_database()
    except DatabaseUnavailable as exc:
        err.print(f"[red]error:[/] {exc}")
        raise typer.Exit(2) from exc
    if applied:
        err.print(f"[dim]database schema brought up to date ({len(applied)} migrations)[/]")


def _print_report(report) -> None:
    table = Table(title="feeds", show_lines=False, expand=False)
    for column in ("status", "feed", "title", "episodes", "new", "upd", "gone", "notes"):
        table.add_column(column, overflow="fold")
    colours = {"new": "green", "updated": "cyan", "failed": "red"}
    for o in report.outcomes:
        colour = colours.get(o.status, "white")
        notes = o.error or ", ".join(o.repairs)
        table.add_row(
            f"[{colour}]{o.status}[/]", escape(o.location[-48:]), escape((o.title or "")[:40]),
            str(o.episodes_total), str(o.episodes_new), str(o.episodes_updated),
            str(o.episodes_vanished), escape(notes[:120]),
        )  # fmt: skip
    console.print(table)
    counts = {s: report.count(s) for s in ("new", "updated", "unchanged", "not-modified", "failed")}
    episodes = sum(o.episodes_new for o in report.outcomes)
    summary = ", ".join(f"{n} {s}" for s, n in counts.items() if n)
    console.print(f"[bold]{len(report.outcomes)} feeds[/]: {summary}; {episodes} new episodes")


def _ingest(locations: list[str], concurrency: int, progress: bool) -> None:
    _database()
    report = STEPS["ingest.rss"](locations, concurrency=concurrency, progress=progress, console=err)
    _print_report(report)
    if report.all_failed:
        err.print("[red]every feed failed[/]; see the notes column for what to fix")
        raise typer.Exit(1)


@ingest_app.command("rss")
def ingest_rss(
    locations: Annotated[list[str], typer.Argument(help="Feed URLs, files or folders of feeds.")],
    concurrency: Annotated[int, typer.Option(min=1, max=64, help="Parallel downloads.")] = 8,
    progress: Annotated[bool, typer.Option(help="Show a progress bar.")] = True,
) -> None:
    """Fetch, parse and store RSS/Atom feeds; prints a per-feed summary.

    Exits non-zero only when every feed failed."""
    _ingest(locations, concurrency, progress)


@demo_app.command("load")
def demo_load(
    seed: Annotated[int, typer.Option(help="Seed of the demo world.")] = 42,
    shows: Annotated[int, typer.Option(min=1, max=5000, help="Number of demo shows.")] = 24,
    progress: Annotated[bool, typer.Option(help="Show a progress bar.")] = True,
) -> None:
    """Load data for a local platform: the feeds in PODSIGHT_FEEDS if set, else the demo world.

    The demo world's RSS documents are written under PODSIGHT_HOME/demo/feeds and go
    through the same ingestion path as any real feed."""
    named = [x for x in re.split(r"[\s,]+", os.environ.get("PODSIGHT_FEEDS", "")) if x]
    if named:
        err.print(f"ingesting {len(named)} feed(s) from PODSIGHT_FEEDS")
        _ingest(named, 8, progress)
        return
    out_dir = conf.podsight_home() / "demo" / "feeds"
    paths = STEPS["demo.feeds"](out_dir, seed=seed, shows=shows)
    err.print(f"wrote {len(paths)} demo feed documents to {out_dir}")
    _ingest([str(out_dir)], 8, progress)


@app.command()
def migrate() -> None:
    """Apply pending database migrations (other commands do this themselves)."""
    _database()
    console.print("database schema is current")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535)] = 8000,
    threads: Annotated[int, typer.Option(min=1, max=64)] = 8,
) -> None:
    """Serve the REST API (and /api/docs) with waitress."""
    _database()
    setup_django()
    from waitress import serve as waitress_serve

    from podsight.wsgi import application

    err.print(f"serving on http://{host}:{port}/api/channels  (docs: /api/docs)")
    waitress_serve(application, host=host, port=port, threads=threads, ident="podsight")


if __name__ == "__main__":
    app()
