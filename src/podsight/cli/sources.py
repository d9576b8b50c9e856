"""``podsight sync`` and ``podsight replay``: the source connectors' steps
(``sources.sync``, ``sources.replay``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from podsight.cli import render
from podsight.cli.output import console, err, progress_view
from podsight.pipeline import run_step

__all__ = ["replay", "sync"]


def sync(
    sources: Annotated[
        Path | None,
        typer.Option(
            help="Sources file (TOML, [[shows]] tables); default $PODSIGHT_HOME/sources.toml."
        ),
    ] = None,
    source: Annotated[
        list[str] | None,
        typer.Option(
            help="Only these sources (repeatable): rss, podcastindex, apple, spotify, youtube."
        ),
    ] = None,
    cache: Annotated[bool, typer.Option(help="Use the HTTP response cache.")] = True,
    progress: Annotated[bool, typer.Option(help="Show a progress bar.")] = True,
) -> None:
    """Sync the listed shows from every source, incrementally, and print a summary.

    A [[shows]] table has `name` and any of rss_url, itunes_id, podcastindex_id,
    spotify_id, youtube_channel_id, youtube_handle. Credentials come from the
    environment (SPOTIFY_CLIENT_ID/SECRET, YOUTUBE_API_KEY, PODCASTINDEX_API_KEY/SECRET);
    a source without them is skipped. Exits 1 when every source that ran failed."""
    report = run_step(
        "sources.sync",
        sources_file=sources,
        sources=source,
        cache=cache,
        progress=progress_view(progress),
    )
    render.sync_summary(report)
    if report.all_failed:
        raise typer.Exit(1)


def replay(
    source: Annotated[str | None, typer.Option(help="Only this source's payloads.")] = None,
    progress: Annotated[bool, typer.Option(help="Show a progress bar.")] = True,
) -> None:
    """Normalise and store the kept API payloads again, without calling any API."""
    report = run_step("sources.replay", source=source, progress=progress_view(progress))
    s = report.store
    console.print(
        f"replayed {report.payloads} payloads ({report.skipped} skipped, "
        f"{len(report.errors)} unreadable): shows {s.shows_new} new, {s.shows_updated} updated; "
        f"episodes {s.episodes_new} new, {s.episodes_updated} updated"
    )
    for error in report.errors[:20]:
        err.print(f"  [red]✗[/] {escape(error)}")
