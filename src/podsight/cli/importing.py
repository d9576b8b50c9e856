"""``podsight import``: bulk catalog dumps (the ``podcastindex.import_dump`` step).
(Not ``import.py``: a module cannot be named after the keyword.)"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from podsight.cli import render
from podsight.cli.output import progress_view
from podsight.pipeline import run_step

__all__ = ["import_app"]

import_app = typer.Typer(help="Import bulk catalog dumps.", no_args_is_help=True)


@import_app.command("podcastindex")
def import_podcastindex(
    dump: Annotated[
        Path, typer.Argument(help="The Podcast Index SQLite dump (podcastindex_feeds.db).")
    ],
    batch_size: Annotated[int, typer.Option(min=100, help="Rows read per batch.")] = 25_000,
    resume: Annotated[bool, typer.Option(help="Continue an interrupted import.")] = True,
    progress: Annotated[bool, typer.Option(help="Show a progress bar.")] = True,
) -> None:
    """Import the Podcast Index dump into the lake, linking feeds the catalog shares keys with."""
    report = run_step(
        "podcastindex.import_dump",
        path=dump,
        batch_size=batch_size,
        resume=resume,
        progress=progress_view(progress),
    )
    if progress:  # the summary; without progress it is only logged
        render.dump_import(report)
    if not report.finished:
        raise typer.Exit(1)
