"""``podsight content``: what episodes say (the ``content.*`` steps)."""

from __future__ import annotations

from typing import Annotated

import typer

from podsight.cli import render
from podsight.cli.output import progress_view
from podsight.pipeline import run_step

__all__ = ["content_app"]

content_app = typer.Typer(
    help="Episode content: transcripts from feeds and speech, and what they say.",
    no_args_is_help=True,
)


@content_app.command("transcripts")
def transcripts(
    asr: Annotated[
        bool,
        typer.Option(
            "--asr", help="Transcribe episodes without a transcript link from their audio."
        ),
    ] = False,
    limit: Annotated[
        int | None,
        typer.Option(min=1, help="At most this many episodes, the least recently checked first."),
    ] = None,
    concurrency: Annotated[int, typer.Option(min=1, max=64, help="Parallel downloads.")] = 8,
    progress: Annotated[bool, typer.Option(help="Show a progress bar.")] = True,
) -> None:
    """Fetch, parse and store each episode's preferred feed transcript (VTT > JSON > SRT >
    HTML > text, in the show's language); unchanged ones are not stored again.

    Exits non-zero only when every transcript attempted failed."""
    report = run_step(
        "content.transcripts",
        limit=limit,
        asr=asr,
        concurrency=concurrency,
        progress=progress_view(progress),
    )
    render.transcripts_report(report)
    if report.all_failed:
        raise typer.Exit(1)


@content_app.command("analyze")
def analyze(
    limit: Annotated[
        int | None, typer.Option(min=1, help="Analyse at most this many episodes this run.")
    ] = None,
    episode: Annotated[
        list[int] | None,
        typer.Option("--episode", help="Only this episode (repeat the option for more)."),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Analyse again even what has not changed.")
    ] = False,
    engine: Annotated[
        str | None,
        typer.Option(
            help="Where new passages are embedded: local or spark "
            "[default: PODSIGHT_ENGINE, else local]."
        ),
    ] = None,
    progress: Annotated[bool, typer.Option(help="Show a progress bar.")] = True,
) -> None:
    """Passages and embeddings, sponsor segments, keywords, topics, chapters, the search
    index and similar episodes; episodes whose transcript and embedder have not changed
    since their last analysis are skipped."""
    report = run_step(
        "content.analyze",
        limit=limit,
        episode_ids=episode or None,
        force=force,
        engine=engine,
        progress=progress_view(progress),
    )
    render.analysis_report(report)
