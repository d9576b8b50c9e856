"""``podsight ingest``: bring catalog data in from a source (the ``ingest.rss`` step)."""

from __future__ import annotations

from typing import Annotated

import typer

from podsight.cli import render
from podsight.cli.output import progress_view
from podsight.pipeline import run_step

__all__ = ["ingest_app"]

ingest_app = typer.Typer(help="Bring catalog data in from a source.", no_args_is_help=True)


@ingest_app.command("rss")
def ingest_rss(
    locations: Annotated[list[str], typer.Argument(help="Feed URLs, files or folders of feeds.")],
    concurrency: Annotated[int, typer.Option(min=1, max=64, help="Parallel downloads.")] = 8,
    progress: Annotated[bool, typer.Option(help="Show a progress bar.")] = True,
) -> None:
    """Fetch, parse and store RSS/Atom feeds; prints a per-feed summary.

    Exits non-zero only when every feed failed."""
    report = run_step(
        "ingest.rss",
        locations=locations,
        concurrency=concurrency,
        progress=progress_view(progress),
    )
    render.ingest_report(report)
    if report.all_failed:
        raise typer.Exit(1)
