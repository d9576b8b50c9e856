"""``podsight directory``: search the imported Podcast Index dump, add a feed to the catalog.

Thin like the other commands: each calls a pipeline step (``directory.search``,
``directory.add``, ``directory.reindex``) and prints its result. Expected failures are
:class:`~podsight.errors.PodsightError`s, which the CLI's entry prints as one ``error: …``
line with their exit code (nothing imported yet: 1; an unknown id or a bad search: 2).
``add`` whose feed cannot be read still added the show: it warns and exits 0.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from podsight.cli.output import console, err, progress_view
from podsight.pipeline import run_step

__all__ = ["directory_app"]

directory_app = typer.Typer(
    help="The Podcast Index directory: search every feed of the imported dump, add one to "
    "the catalog.",
    no_args_is_help=True,
)


@directory_app.command("search")
def search(
    words: Annotated[list[str], typer.Argument(help="Words of the title, author or description.")],
    language: Annotated[
        str | None, typer.Option(help="Only feeds in this language (en matches en-us).")
    ] = None,
    category: Annotated[str | None, typer.Option(help="Only feeds in this category.")] = None,
    # max: directory.service.MAX_PAGE_SIZE, which loads DRF: the CLI imports before Django is set up
    limit: Annotated[int, typer.Option(min=1, max=100, help="Results to show.")] = 20,
    cursor: Annotated[
        str | None, typer.Option(help="Continue after a previous page (printed at its end).")
    ] = None,
) -> None:
    """Search every imported dump feed by title, author and description, best first."""
    term = " ".join(words)
    page = run_step(
        "directory.search",
        q=term,
        language=language,
        category=category,
        page_size=limit,
        cursor=cursor,
    )
    if not page.results:
        console.print(f"no feed in the directory matches {escape(term)!r}")
        return
    table = Table(title=f"directory: {escape(term)}")
    for column in ("id", "title", "author", "lang", "episodes", "pop", "dead", "channel"):
        table.add_column(column, overflow="fold")
    for row in page.results:
        table.add_row(
            str(row["podcastindex_id"]),
            escape(row["title"][:60]),
            escape(row["author"][:30]),
            row["language"] or "",
            "" if row["episode_count"] is None else str(row["episode_count"]),
            "" if row["popularity"] is None else str(row["popularity"]),
            "yes" if row["dead"] else "",
            "" if row["channel"] is None else str(row["channel"]),
        )
    console.print(table)
    console.print("add one to the catalog: podsight directory add ID")
    if page.next_cursor:
        console.print(f"more: add --cursor {page.next_cursor}")


@directory_app.command("add")
def add(
    podcastindex_id: Annotated[int, typer.Argument(help="The feed's Podcast Index id.")],
    sources: Annotated[Path | None, typer.Option(help="Sources file to add the show to.")] = None,
    progress: Annotated[bool, typer.Option(help="Show a progress bar.")] = True,
) -> None:
    """Put a directory feed in the sources file and the catalog, and ingest its feed."""
    result = run_step(
        "directory.add",
        podcastindex_id=podcastindex_id,
        sources_file=sources,
        progress=progress_view(progress),
    )
    listed = "added to" if result.added_to_sources else "already in"
    console.print(
        f"{escape(result.title or str(podcastindex_id))} (Podcast Index {podcastindex_id}): "
        f"channel {result.channel}; {listed} {escape(str(result.sources_file))}"
    )
    if result.feed_failed:
        # The show is added (sources file, channel linked to its dump row): the feed is
        # read by the next `podsight sync`, so this is a warning, not a failed run.
        err.print(
            f"[yellow]warning:[/] its feed {escape(result.feed_url)} could not be read "
            f"({escape(result.feed_error)}); the channel holds the dump's data until "
            "`podsight sync` reads the feed",
            soft_wrap=True,
        )
        return
    console.print(
        f"feed {escape(result.feed_url)}: {result.feed_status}, {result.episodes} episodes"
    )


@directory_app.command("reindex")
def reindex(
    rebuild: Annotated[
        bool, typer.Option(help="Build the index anew instead of catching up.")
    ] = False,
    progress: Annotated[bool, typer.Option(help="Show a progress bar.")] = True,
) -> None:
    """Bring the search index in step with the imported dump (an import does this too)."""
    result = run_step("directory.reindex", rebuild=rebuild, progress=progress_view(progress))
    console.print(str(result))
