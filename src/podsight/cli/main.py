"""The ``podsight`` command line. Commands are thin: they call pipeline steps by name."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from podsight import conf
from podsight.bootstrap import DatabaseUnavailable, ensure_database, setup_django
from podsight.pipeline.steps import STEPS

app = typer.Typer(help="podsight: open podcast data platform.", no_args_is_help=True)
ingest_app = typer.Typer(help="Bring catalog data in from a source.", no_args_is_help=True)
demo_app = typer.Typer(help="The seeded demo world.", no_args_is_help=True)
import_app = typer.Typer(help="Import bulk catalog dumps.", no_args_is_help=True)
discover_app = typer.Typer(
    help="Find new shows and add them to the sources file.", no_args_is_help=True
)
app.add_typer(ingest_app, name="ingest")
app.add_typer(demo_app, name="demo")
app.add_typer(import_app, name="import")
app.add_typer(discover_app, name="discover")

console = Console()
if not console.is_terminal:
    # Logs and pipes: wide enough that the per-feed summary is not folded mid-title.
    console = Console(width=200)
err = Console(stderr=True)


def _database() -> None:
    try:
        applied = ensure_database()
    except DatabaseUnavailable as exc:
        err.print(f"[red]error:[/] {exc}")
        raise typer.Exit(2) from exc
    if applied:
        err.print(f"[dim]database schema brought up to date ({len(applied)} migrations)[/]")


def _print_report(report) -> None:
    table = Table(title="feeds", show_lines=False, expand=False)
    for column in ("status", "feed", "title", "episodes", "new", "upd", "gone", "notes"):
        table.add_column(column, overflow="fold")
    colours = {"new": "green", "updated": "cyan", "failed": "red"}
    for o in report.outcomes:
        colour = colours.get(o.status, "white")
        notes = o.error or ", ".join(o.repairs)
        table.add_row(
            f"[{colour}]{o.status}[/]", escape(o.location[-48:]), escape((o.title or "")[:40]),
            str(o.episodes_total), str(o.episodes_new), str(o.episodes_updated),
            str(o.episodes_vanished), escape(notes[:120]),
        )  # fmt: skip
    console.print(table)
    counts = {s: report.count(s) for s in ("new", "updated", "unchanged", "not-modified", "failed")}
    episodes = sum(o.episodes_new for o in report.outcomes)
    summary = ", ".join(f"{n} {s}" for s, n in counts.items() if n)
    console.print(f"[bold]{len(report.outcomes)} feeds[/]: {summary}; {episodes} new episodes")


def _ingest(locations: list[str], concurrency: int, progress: bool) -> None:
    _database()
    report = STEPS["ingest.rss"](locations, concurrency=concurrency, progress=progress, console=err)
    _print_report(report)
    if report.all_failed:
        err.print("[red]every feed failed[/]; see the notes column for what to fix")
        raise typer.Exit(1)


@ingest_app.command("rss")
def ingest_rss(
    locations: Annotated[list[str], typer.Argument(help="Feed URLs, files or folders of feeds.")],
    concurrency: Annotated[int, typer.Option(min=1, max=64, help="Parallel downloads.")] = 8,
    progress: Annotated[bool, typer.Option(help="Show a progress bar.")] = True,
) -> None:
    """Fetch, parse and store RSS/Atom feeds; prints a per-feed summary.

    Exits non-zero only when every feed failed."""
    _ingest(locations, concurrency, progress)


@demo_app.command("load")
def demo_load(
    seed: Annotated[int, typer.Option(help="Seed of the demo world.")] = 42,
    shows: Annotated[int, typer.Option(min=1, max=5000, help="Number of demo shows.")] = 24,
    progress: Annotated[bool, typer.Option(help="Show a progress bar.")] = True,
    apis: Annotated[
        bool, typer.Option(help="Also sync the demo shows from the local demo APIs.")
    ] = True,
) -> None:
    """Load data for a local platform: the feeds in PODSIGHT_FEEDS if set, else the demo world.

    The demo world's RSS documents are written under PODSIGHT_HOME/demo/feeds and go
    through the same ingestion path as any real feed; then a local server answers as
    Podcast Index, Apple, Spotify and YouTube would for the same shows, and the demo
    shows are synced from it through the real connectors."""
    named = [x for x in re.split(r"[\s,]+", os.environ.get("PODSIGHT_FEEDS", "")) if x]
    if named:
        err.print(f"ingesting {len(named)} feed(s) from PODSIGHT_FEEDS")
        _ingest(named, 8, progress)
        return
    out_dir = conf.podsight_home() / "demo" / "feeds"
    paths = STEPS["demo.feeds"](out_dir, seed=seed, shows=shows)
    err.print(f"wrote {len(paths)} demo feed documents to {out_dir}")
    _ingest([str(out_dir)], 8, progress)
    if apis:
        _demo_sync(seed, shows, progress)


DEMO_API_PORT = 8010


def _demo_sync(seed: int, shows: int, progress: bool) -> None:
    from podsight.demo import build_world
    from podsight.demo.apis import build_demo_api_server, demo_show_specs, pointed_at
    from podsight.sources.sync import print_sync_summary

    world = build_world(seed=seed, shows=shows)
    specs = demo_show_specs(world)
    sources_file = conf.podsight_home() / "demo" / "sources.toml"
    sources_file.write_text("".join("\n" + s.to_toml() for s in specs).lstrip(), "utf-8")
    try:
        # A stable address keeps request URLs, and so the HTTP cache, valid across runs.
        server = build_demo_api_server(world, port=DEMO_API_PORT)
    except OSError:
        server = build_demo_api_server(world)
    with server, pointed_at(server):
        err.print(
            f"demo APIs (Podcast Index, Apple, Spotify, YouTube) on {server.base_url}; "
            f"syncing {len(specs)} shows listed in {sources_file}"
        )
        report = STEPS["sources.sync"](specs, progress=progress, console=err)
    print_sync_summary(report, console)


@demo_app.command("apis")
def demo_apis(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535)] = DEMO_API_PORT,
    seed: Annotated[int, typer.Option(help="Seed of the demo world.")] = 42,
    shows: Annotated[int, typer.Option(min=1, max=5000, help="Number of demo shows.")] = 24,
    cache_mode: Annotated[str, typer.Option(help="Caching headers: etag, max-age, ...")] = "etag",
) -> None:
    """Serve the demo world as the Podcast Index, Apple, Spotify and YouTube APIs."""
    from podsight.demo import build_world
    from podsight.demo.apis import (
        DEMO_CREDENTIALS,
        DEMO_RATE_LIMITS,
        build_demo_api_server,
        demo_show_specs,
    )

    world = build_world(seed=seed, shows=shows)
    server = build_demo_api_server(world, host=host, port=port, cache_mode=cache_mode)
    sources_file = conf.podsight_home() / "demo" / "sources.toml"
    sources_file.parent.mkdir(parents=True, exist_ok=True)
    sources_file.write_text(
        "".join("\n" + s.to_toml() for s in demo_show_specs(world)).lstrip(), "utf-8"
    )
    console.print("Point podsight at these APIs with:")
    for name, value in {**server.env(), **DEMO_CREDENTIALS, **DEMO_RATE_LIMITS}.items():
        console.print(f"  export {name}={value}")
    console.print(f"then: podsight sync --sources {sources_file}")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


@app.command()
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
    from podsight.sources.sync import (
        SourcesFileError,
        default_sources_file,
        load_sources_file,
        print_sync_summary,
    )

    _database()
    path = sources or default_sources_file()
    try:
        specs = load_sources_file(path)
    except SourcesFileError as exc:
        err.print(f"[red]error:[/] {escape(str(exc))}")
        raise typer.Exit(2) from exc
    try:
        report = STEPS["sources.sync"](
            specs, sources=source, cache=cache, progress=progress, console=err
        )
    except ValueError as exc:
        err.print(f"[red]error:[/] {escape(str(exc))}")
        raise typer.Exit(2) from exc
    print_sync_summary(report, console)
    if report.all_failed:
        raise typer.Exit(1)


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
    _database()
    if not dump.is_file():
        err.print(f"[red]error:[/] {escape(str(dump))} is not a file")
        raise typer.Exit(2)
    report = STEPS["podcastindex.import_dump"](
        dump, batch_size=batch_size, resume=resume, progress=progress, console=err
    )
    # import_dump printed its own summary.
    if not report.finished:
        raise typer.Exit(1)


def _print_discover(report) -> None:
    for source, why in report.skipped.items():
        err.print(f"[yellow]skipped {source}[/]: {escape(why)}")
    for source, why in report.errors.items():
        err.print(f"[red]{source}[/]: {escape(why)}")
    table = Table(title="shows found")
    for column in ("source", "id", "title", "feed"):
        table.add_column(column, overflow="fold")
    for show in report.found:
        table.add_row(
            show.source,
            escape(show.external_id),
            escape(str(show.data.get("title") or "")[:60]),
            escape(str(show.data.get("feed_url") or "")[:60]),
        )
    console.print(table)
    console.print(f"{len(report.added)} new show(s) added to the sources file")
    if not report.found and (report.errors or report.skipped):
        raise typer.Exit(1)


@discover_app.command("trending")
def discover_trending(
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 10,
    sources: Annotated[Path | None, typer.Option(help="Sources file to add shows to.")] = None,
) -> None:
    """Add Podcast Index's trending shows to the catalog and the sources file."""
    from podsight.sources.sync import default_sources_file

    _database()
    _print_discover(STEPS["discover.trending"](sources or default_sources_file(), limit=limit))


@discover_app.command("search")
def discover_search(
    term: Annotated[str, typer.Argument(help="What to search for.")],
    limit: Annotated[int, typer.Option(min=1, max=200)] = 10,
    sources: Annotated[Path | None, typer.Option(help="Sources file to add shows to.")] = None,
) -> None:
    """Search Apple Podcasts and Podcast Index; add what is found."""
    from podsight.sources.sync import default_sources_file

    _database()
    _print_discover(STEPS["discover.search"](term, sources or default_sources_file(), limit=limit))


@app.command()
def replay(
    source: Annotated[str | None, typer.Option(help="Only this source's payloads.")] = None,
    progress: Annotated[bool, typer.Option(help="Show a progress bar.")] = True,
) -> None:
    """Normalise and store the kept API payloads again, without calling any API."""
    _database()
    report = STEPS["sources.replay"](source, progress=progress, console=err)
    s = report.store
    console.print(
        f"replayed {report.payloads} payloads ({report.skipped} skipped, "
        f"{len(report.errors)} unreadable): shows {s.shows_new} new, {s.shows_updated} updated; "
        f"episodes {s.episodes_new} new, {s.episodes_updated} updated"
    )
    for error in report.errors[:20]:
        err.print(f"  [red]✗[/] {escape(error)}")


@app.command()
def match() -> None:
    """Link Spotify and YouTube records to the shows they are, and pair episodes across
    sources (run after a sync; links made earlier are kept)."""
    _database()
    report = STEPS["match"]()
    console.print(str(report))
    for explanation in report.links:
        console.print(f"  [green]✓[/] {escape(explanation)}")


@app.command()
def migrate() -> None:
    """Apply pending database migrations (other commands do this themselves)."""
    _database()
    console.print("database schema is current")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535)] = 8000,
    threads: Annotated[int, typer.Option(min=1, max=64)] = 8,
) -> None:
    """Serve the REST API (and /api/docs) with waitress."""
    _database()
    setup_django()
    from waitress import serve as waitress_serve

    from podsight.wsgi import application

    err.print(f"serving on http://{host}:{port}/api/channels  (docs: /api/docs)")
    waitress_serve(application, host=host, port=port, threads=threads, ident="podsight")


if __name__ == "__main__":
    app()
