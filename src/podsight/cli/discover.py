"""``podsight discover``: find new shows, add them to the sources file
(``discover.trending``, ``discover.search``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from podsight.cli import render
from podsight.pipeline import run_step

__all__ = ["discover_app"]

discover_app = typer.Typer(
    help="Find new shows and add them to the sources file.", no_args_is_help=True
)


@discover_app.command("trending")
def discover_trending(
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 10,
    sources: Annotated[Path | None, typer.Option(help="Sources file to add shows to.")] = None,
) -> None:
    """Add Podcast Index's trending shows to the catalog and the sources file."""
    render.discover_report(run_step("discover.trending", sources_file=sources, limit=limit))


@discover_app.command("search")
def discover_search(
    term: Annotated[str, typer.Argument(help="What to search for.")],
    limit: Annotated[int, typer.Option(min=1, max=200)] = 10,
    sources: Annotated[Path | None, typer.Option(help="Sources file to add shows to.")] = None,
) -> None:
    """Search Apple Podcasts and Podcast Index; add what is found."""
    render.discover_report(
        run_step("discover.search", term=term, sources_file=sources, limit=limit)
    )
