"""``podsight demo``: the seeded demo world (``demo.load``, ``demo.labels``, ``demo.apis``)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from podsight.cli import render
from podsight.cli.output import console, progress_view
from podsight.pipeline import run_step

if TYPE_CHECKING:  # a report type only
    from podsight.demo.load import DemoApis

__all__ = ["demo_app", "DEMO_API_PORT"]

demo_app = typer.Typer(help="The seeded demo world.", no_args_is_help=True)

# demo.load.DEMO_API_PORT (the CLI imports no domain module; tests/cli checks they agree)
DEMO_API_PORT = 8010


@demo_app.command("load")
def demo_load(
    seed: Annotated[int, typer.Option(help="Seed of the demo world.")] = 42,
    shows: Annotated[int, typer.Option(min=1, max=5000, help="Number of demo shows.")] = 24,
    progress: Annotated[bool, typer.Option(help="Show a progress bar.")] = True,
    apis: Annotated[
        bool, typer.Option(help="Also sync the demo shows from the local demo APIs.")
    ] = True,
    content: Annotated[
        bool, typer.Option(help="Also fetch the episodes' transcripts and analyse them.")
    ] = True,
    listeners: Annotated[
        int,
        typer.Option(
            min=0,
            max=100_000,
            help="Simulated listeners given 30 days of listening history (0: none).",
        ),
    ] = 300,
) -> None:
    """Load data for a local platform: the feeds in PODSIGHT_FEEDS if set, else the demo world.

    The demo world's RSS documents are written under PODSIGHT_HOME/demo/feeds and go
    through the same ingestion path as any real feed; then a local server answers as
    Podcast Index, Apple, Spotify and YouTube would for the same shows, and the demo
    shows are synced from it through the real connectors. The same server hosts the demo
    episodes' transcripts and chapters: they are fetched and analysed, so search answers.
    Simulated listeners then get a listening history (written to the lake) and the
    recommender is trained on it."""
    report = run_step(
        "demo.load",
        seed=seed,
        shows=shows,
        apis=apis,
        content=content,
        listeners=listeners,
        progress=progress_view(progress),
    )
    render.ingest_report(report.ingest)
    if report.ingest.all_failed:
        raise typer.Exit(1)
    if report.sync is not None:
        render.sync_summary(report.sync)
    console.print(f"matching: {escape(str(report.match))}")
    render.catalog_summary(report.catalog)
    if report.transcripts is not None:
        where = f" (served by the demo on {report.documents_url})" if report.documents_url else ""
        console.print(f"transcripts{where}:")
        render.transcripts_report(report.transcripts)
    if report.analysis is not None:
        console.print(f"analysis: {escape(str(report.analysis))}")
    if report.history_kept:
        console.print("listening: the demo's history was already in the lake (kept)")
    if report.listening is not None:
        console.print(f"listening: {escape(str(report.listening))}")
    if report.consumed is not None:
        console.print(f"consumed: {escape(str(report.consumed))}")
    if report.recommender is not None:
        render.train_report(report.recommender)
    if report.timings:
        took = ", ".join(f"{part} {seconds:.1f} s" for part, seconds in report.timings.items())
        console.print(f"took: {took}")


@demo_app.command("labels")
def demo_labels(
    path: Annotated[Path, typer.Argument(help="Where to write the labels CSV.")],
    seed: Annotated[int, typer.Option(help="Seed of the loaded demo world.")] = 42,
    shows: Annotated[int, typer.Option(min=1, max=5000, help="Shows of the loaded world.")] = 24,
) -> None:
    """Write the ground truth of the loaded demo world as a labels CSV for
    ``podsight match --report --labels PATH``."""
    counts = run_step("demo.labels", path=path, seed=seed, shows=shows)
    console.print(
        f"wrote {path}: {counts.channel_records} channel and {counts.episode_records} episode "
        f"records labelled ({counts.world_shows} shows, {counts.world_episodes} episodes)"
    )


@demo_app.command("apis")
def demo_apis(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535)] = DEMO_API_PORT,
    seed: Annotated[int, typer.Option(help="Seed of the demo world.")] = 42,
    shows: Annotated[int, typer.Option(min=1, max=5000, help="Number of demo shows.")] = 24,
    cache_mode: Annotated[str, typer.Option(help="Caching headers: etag, max-age, ...")] = "etag",
) -> None:
    """Serve the demo world as the Podcast Index, Apple, Spotify and YouTube APIs."""

    def ready(info: DemoApis) -> None:
        console.print("Point podsight at these APIs with:")
        for name, value in info.settings.items():
            console.print(f"  export {name}={value}")
        console.print(f"then: podsight sync --sources {info.sources_file}")

    run_step(
        "demo.apis", host=host, port=port, seed=seed, shows=shows, cache_mode=cache_mode,
        on_ready=ready,
    )  # fmt: skip
