"""``podsight match`` and ``podsight links``: cross-source matching (the ``match`` step)
and the review of its links (``links.list``, ``links.confirm``, ``links.reject``,
``links.force``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from podsight.cli import render
from podsight.cli.output import console, progress_view
from podsight.pipeline import run_step

__all__ = ["links_app", "match"]

links_app = typer.Typer(
    help="Review matched links: list, confirm, reject or force them.", no_args_is_help=True
)


def match(
    full: Annotated[
        bool, typer.Option(help="Score every record again, not only those new since the last run.")
    ] = False,
    report: Annotated[
        bool, typer.Option("--report", help="Print link counts per source pair afterwards.")
    ] = False,
    labels: Annotated[
        Path | None,
        typer.Option(help="CSV of known record pairs: print precision, recall, F1 and errors."),
    ] = None,
    progress: Annotated[bool, typer.Option(help="Show a progress bar.")] = True,
) -> None:
    """Link Spotify and YouTube records to the shows they are, and pair episodes across
    sources (run after a sync; links made earlier, and people's overrides, are kept)."""
    result = run_step(
        "match", full=full, pair_counts=report, labels=labels, progress=progress_view(progress)
    )
    render.match_run(result.run)
    render.match_quality(result)


EntityArg = Annotated[str, typer.Argument(help="channel or episode")]
RecordArg = Annotated[str, typer.Argument(help="Record id, or source:external_id.")]


@links_app.command("list")
def links_list(
    status: Annotated[
        str | None, typer.Option(help="auto, needs_review or confirmed.")
    ] = "needs_review",
    entity: Annotated[str | None, typer.Option(help="channel or episode.")] = None,
    limit: Annotated[int, typer.Option(min=1)] = 50,
) -> None:
    """Matched links, newest first (by default those that need review)."""
    report = run_step("links.list", status=status, entity=entity, limit=limit)
    table = Table(title=f"links ({status or 'any status'})")
    for name in ("entity", "record", "canonical", "status", "confidence", "explanation"):
        table.add_column(name)
    for name, rows in report.links.items():
        for row in rows:
            table.add_row(
                name,
                f"{row.record_id} {row.source}:{row.external_id}",
                str(row.canonical_id),
                row.status,
                f"{row.confidence:.3f}" if row.confidence is not None else "",
                escape(row.explanation[:120]),
            )
    console.print(table)


@links_app.command("confirm")
def links_confirm(entity: EntityArg, record: RecordArg, reason: str = "") -> None:
    """Mark a matched link right; no later run reconsiders it."""
    done = run_step("links.confirm", entity=entity, record=record, reason=reason)
    console.print(f"confirmed {entity} record {done.record_id}")


@links_app.command("reject")
def links_reject(
    entity: EntityArg,
    record: RecordArg,
    other: Annotated[str | None, typer.Option(help="Only the pair with this record.")] = None,
    reason: str = "",
) -> None:
    """Take a record out of the row it was matched into; it is never linked there again."""
    done = run_step("links.reject", entity=entity, record=record, other=other, reason=reason)
    console.print(f"rejected: {entity} record {record} is now in {entity} {done.canonical_id}")


@links_app.command("force")
def links_force(entity: EntityArg, record: RecordArg, other: RecordArg, reason: str = "") -> None:
    """Make two records one channel/episode, whatever the matcher says."""
    done = run_step("links.force", entity=entity, record=record, other=other, reason=reason)
    console.print(f"forced: both records are now {entity} {done.canonical_id}")
