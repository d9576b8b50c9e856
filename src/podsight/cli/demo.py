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
    """Load data for a local platform through the pipeline graph: the feeds in
    PODSIGHT_FEEDS if set, else the demo world.

    The demo world's RSS documents are written under PODSIGHT_HOME/demo/feeds and its
    shows listed in PODSIGHT_HOME/sources.toml; a local server answers as Podcast Index,
    Apple, Spotify and YouTube would for the same shows and hosts the episodes'
    transcripts and chapters. The graph's catalog nodes run while it is up (sync, match,
    transcripts, analysis). Simulated listeners then get a listening history and the graph
    runs from events.consume on (engagement, training, promotion, the cached lists). Both
    runs are recorded (`podsight pipeline runs`). Exits 1 when a node failed."""
    report = run_step(
        "demo.load",
        seed=seed,
        shows=shows,
        apis=apis,
        content=content,
        listeners=listeners,
        progress=progress_view(progress),
    )
    if report.documents_url:
        console.print(f"demo APIs, transcripts and chapters served on {report.documents_url}")
    console.print(f"sources file: {report.sources_file}")
    for run in report.runs[:1]:
        _run_lines(run)
    if report.catalog is not None:
        render.catalog_summary(report.catalog)
    if report.history_kept:
        console.print("listening: the demo's history was already in the lake (kept)")
    if report.listening is not None:
        console.print(f"listening: {escape(str(report.listening))}")
    for run in report.runs[1:]:
        _run_lines(run)
    if report.model is not None:
        console.print(
            f"recommender: model {escape(report.model['version'])}, "
            f"status: {report.model['status']}"
        )
    if report.timings:
        took = ", ".join(f"{part} {seconds:.1f} s" for part, seconds in report.timings.items())
        console.print(f"took: {took}")
    if report.failed:
        failed = [n.name for r in report.runs for n in r.nodes if n.status == "failed"]
        console.print(f"[red]failed[/]: {', '.join(failed)} (their dependents did not run)")
        raise typer.Exit(1)


def _run_lines(run) -> None:  # noqa: ANN001 - a PipelineRunReport
    """The run and each node's outcome, one unwrapped line each (`podsight pipeline runs
    --nodes` shows them as a table)."""
    console.print(escape(str(run)), soft_wrap=True)
    for node in run.nodes:
        text = node.summary if node.status == "succeeded" else node.error
        took = "" if node.seconds is None else f" in {node.seconds:.1f} s"
        console.print(f"  {escape(node.name)} {node.status}{took}: {escape(text)}", soft_wrap=True)


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
    inputs: Annotated[
        bool,
        typer.Option(
            help="Also write the demo feeds and list the shows in PODSIGHT_HOME/sources.toml, "
            "for `podsight pipeline run` to run on."
        ),
    ] = False,
) -> None:
    """Serve the demo world as the Podcast Index, Apple, Spotify and YouTube APIs, and its
    episodes' transcripts and chapters."""

    def ready(info: DemoApis) -> None:
        console.print("Point podsight at these APIs with:")
        for name, value in info.settings.items():
            console.print(f"  export {name}={value}")
        if inputs:
            console.print(f"then: podsight pipeline run (the shows are in {info.sources_file})")
        else:
            console.print(f"then: podsight sync --sources {info.sources_file}")

    run_step(
        "demo.apis", host=host, port=port, seed=seed, shows=shows, cache_mode=cache_mode,
        inputs=inputs, on_ready=ready,
    )  # fmt: skip
