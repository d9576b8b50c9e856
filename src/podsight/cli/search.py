"""``podsight search "QUERY"``: episodes by what is said in them (the ``search`` step).

An expected failure (a bad filter) is a :class:`~podsight.errors.PodsightError`, printed by
the CLI's entry as one ``error: …`` line with exit code 2. Nothing indexed yet is not an
error: the command says what to run and exits 0.
"""

from __future__ import annotations

from typing import Annotated

import typer

from podsight.cli.render import search_results
from podsight.pipeline import run_step

__all__ = ["search"]


def search(
    words: Annotated[list[str], typer.Argument(help="What was said, in your own words.")],
    channel: Annotated[int | None, typer.Option(min=1, help="Only this channel (id).")] = None,
    language: Annotated[
        str | None, typer.Option(help="Only channels in this language (en matches en-us).")
    ] = None,
    published_after: Annotated[
        str | None,
        typer.Option(help="Only episodes published from then on (2024-01-31, or a time)."),
    ] = None,
    # max: content.search.MAX_LIMIT (the CLI imports before Django is set up)
    limit: Annotated[int, typer.Option(min=1, max=50, help="Episodes to show.")] = 10,
) -> None:
    """Search the episodes' transcripts (and show notes) by meaning and by words; each
    result shows its best moments with their times and a link that starts playing there."""
    report = run_step(
        "search",
        query=" ".join(words),
        channel=channel,
        language=language,
        published_after=published_after,
        limit=limit,
    )
    search_results(report)
