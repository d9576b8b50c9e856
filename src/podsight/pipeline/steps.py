"""The registry of named pipeline steps."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from podsight.bootstrap import ensure_database

__all__ = ["STEPS", "build_demo_feeds", "ingest_rss", "step"]

STEPS: dict[str, Callable[..., Any]] = {}


def step(name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def register(fn: Callable[..., Any]) -> Callable[..., Any]:
        STEPS[name] = fn
        return fn

    return register


@step("ingest.rss")
def ingest_rss(
    locations: Sequence[str], *, concurrency: int = 8, progress: bool = True, console=None
):
    """Fetch/read, parse and store RSS/Atom feeds → :class:`IngestReport`."""
    ensure_database()
    from podsight.progress import RichProgress
    from podsight.sources.rss.ingest import ingest_feeds

    return ingest_feeds(
        locations, concurrency=concurrency, progress=RichProgress(console, enabled=progress)
    )


@step("demo.feeds")
def build_demo_feeds(out_dir: Path, *, seed: int = 42, shows: int = 24) -> list[Path]:
    """Write the seeded demo world's RSS documents into ``out_dir`` → their paths."""
    from podsight.demo import build_world, write_rss_feeds

    # A folder reused with another seed or size must not keep the old world's feeds.
    if out_dir.is_dir():
        for stale in out_dir.glob("*.xml"):
            stale.unlink()
    return write_rss_feeds(build_world(seed=seed, shows=shows), out_dir)


@step("sources.sync")
def sync_sources(specs, *, sources=None, cache: bool = True, progress: bool = True, console=None):
    """Sync shows (``ShowSpec`` list) from every selected source → :class:`SyncReport`."""
    ensure_database()
    from podsight.sources.sync import sync_shows

    return sync_shows(specs, sources=sources, cache=cache, progress=progress, console=console)


@step("sources.replay")
def replay_sources(source: str | None = None, *, progress: bool = True, console=None):
    """Re-normalise and store kept API payloads → :class:`ReplayReport`."""
    ensure_database()
    from podsight.sources.replay import replay_payloads

    return replay_payloads(source, progress=progress, console=console)


@step("podcastindex.import_dump")
def import_podcastindex_dump(path: Path, **options: Any):
    """Import the Podcast Index SQLite dump → :class:`DumpImportReport`."""
    ensure_database()
    from podsight.sources.podcastindex.dump import import_dump

    return import_dump(path, **options)


@step("match")
def match_records(**options: Any):
    """Link keyless channels and pair episodes across sources → :class:`MatchReport`."""
    ensure_database()
    from podsight.matching.services import run_match

    return run_match(**options)


@step("discover.trending")
def discover_trending(sources_file: Path, *, limit: int = 10):
    ensure_database()
    from podsight.sources.discover import discover_trending as run

    return run(sources_file, limit=limit)


@step("discover.search")
def discover_search(term: str, sources_file: Path, *, limit: int = 10):
    ensure_database()
    from podsight.sources.discover import discover_search as run

    return run(term, sources_file, limit=limit)


@step("events.consume")
def consume_events(**options: Any):
    """Move listening events from the log into the lake → :class:`ConsumeReport`."""
    ensure_database()
    from podsight.events.consumer import consume

    return consume(**options)


@step("events.simulate")
def simulate_listeners(**options: Any):
    """Simulated listeners send listening events → :class:`SimulationReport`."""
    ensure_database()
    from podsight.events.simulate import run

    return run(**options)


@step("directory.search")
def directory_search(q: str | None, **options: Any):
    """Search the imported Podcast Index dump → :class:`DirectoryPage`.

    No migration check here: the API calls it on every request (the server, like the
    CLI's entry, has set Django up already)."""
    from podsight.bootstrap import setup_django

    setup_django()
    from podsight.directory.service import search

    return search(q, **options)


@step("directory.add")
def directory_add(
    podcastindex_id: int, *, sources_file: Path | None = None, progress: bool = False, console=None
):
    """Add a directory feed to the sources file and the catalog → :class:`AddResult`."""
    ensure_database()
    from podsight.directory.service import add_feed
    from podsight.sources.sync import default_sources_file

    return add_feed(
        podcastindex_id,
        sources_file=sources_file or default_sources_file(),
        ingest=STEPS["ingest.rss"],
        progress=progress,
        console=console,
    )


@step("directory.reindex")
def directory_reindex(*, rebuild: bool = False, progress: bool = True, console=None):
    """Bring the directory index in step with the lake (or rebuild it) → :class:`IndexSync`."""
    from podsight.directory.index import sync_with_lake

    result, _writer, _lock = sync_with_lake(progress=progress, console=console, rebuild=rebuild)
    return result
