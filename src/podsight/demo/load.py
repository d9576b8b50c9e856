"""Loading a local platform: the demo world (or the feeds in ``PODSIGHT_FEEDS``) through
the real paths, and serving the demo world as the source APIs.

:func:`load_demo` is the ``demo.load`` step's work (``podsight demo load``, ``make
run``): write the world's RSS documents, ingest them, serve the world as Podcast Index,
Apple, Spotify and YouTube on a local server and sync the demo shows from it through the
real connectors, then match, so each demo show is one channel with its platforms'
records linked. The ingest, sync and match steps are passed in (as :func:`add_feed
<podsight.directory.service.add_feed>` takes its ingest), so this module depends on no
front end and each part reports like it does on its own.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from podsight import conf
from podsight.progress import SILENT, Progress

if TYPE_CHECKING:
    from podsight.demo.apiserver import ApiServer
    from podsight.matching.report import CatalogSummary
    from podsight.matching.run import MatchReport
    from podsight.sources.rss.ingest import IngestReport
    from podsight.sources.sync import SyncReport

__all__ = [
    "DEMO_API_PORT",
    "DemoApis",
    "DemoFeeds",
    "DemoLoadReport",
    "demo_apis",
    "demo_feeds",
    "feeds_from_environment",
    "load_demo",
]

# A stable address keeps request URLs, and so the HTTP cache, valid across runs.
DEMO_API_PORT = 8010


@dataclass
class DemoFeeds:
    """The demo world's RSS documents, written into ``out_dir``."""

    out_dir: Path
    paths: list[Path]


@dataclass
class DemoLoadReport:
    """What ``demo.load`` did. ``feeds_from_env``: the feeds named in ``PODSIGHT_FEEDS``
    (then no demo world); ``feeds``: the demo world's documents otherwise. ``sync`` is
    None when the APIs were not synced; ``match`` and ``catalog`` are None when every
    feed failed (nothing was matched)."""

    ingest: IngestReport
    feeds_from_env: list[str] = field(default_factory=list)
    feeds: DemoFeeds | None = None
    api_url: str | None = None
    sources_file: Path | None = None
    sync: SyncReport | None = None
    match: MatchReport | None = None
    catalog: CatalogSummary | None = None


@dataclass
class DemoApis:
    """A demo API server and the settings that point podsight at it."""

    base_url: str
    settings: dict[str, str]
    sources_file: Path
    shows: int


def feeds_from_environment() -> list[str]:
    """The feeds of ``PODSIGHT_FEEDS`` (separated by spaces or commas)."""
    return [x for x in re.split(r"[\s,]+", os.environ.get("PODSIGHT_FEEDS", "")) if x]


def demo_feeds(out_dir: Path, *, seed: int = 42, shows: int = 24) -> DemoFeeds:
    """Write the seeded demo world's RSS documents into ``out_dir``."""
    from podsight.demo import build_world, write_rss_feeds

    # A folder reused with another seed or size must not keep the old world's feeds.
    if out_dir.is_dir():
        for stale in out_dir.glob("*.xml"):
            stale.unlink()
    return DemoFeeds(out_dir, write_rss_feeds(build_world(seed=seed, shows=shows), out_dir))


def _write_sources_file(specs: list[Any]) -> Path:
    sources_file = conf.podsight_home() / "demo" / "sources.toml"
    sources_file.parent.mkdir(parents=True, exist_ok=True)
    sources_file.write_text("".join("\n" + s.to_toml() for s in specs).lstrip(), "utf-8")
    return sources_file


@contextmanager
def _demo_server(world: Any, **options: Any) -> Iterator[ApiServer]:
    from podsight.demo.apis import build_demo_api_server

    try:
        server = build_demo_api_server(world, port=DEMO_API_PORT, **options)
    except OSError:  # the stable port is taken: any free one
        server = build_demo_api_server(world, **options)
    with server:
        yield server


def load_demo(
    *,
    seed: int = 42,
    shows: int = 24,
    apis: bool = True,
    ingest: Callable[..., IngestReport],
    sync: Callable[..., SyncReport],
    match: Callable[..., MatchReport],
    progress: Progress = SILENT,
) -> DemoLoadReport:
    """Load data for a local platform: the feeds in ``PODSIGHT_FEEDS`` if set, else the
    demo world (its feeds, then its APIs when ``apis``); then match. ``ingest``, ``sync``
    and ``match`` are the pipeline's steps of those names."""
    from podsight.matching.report import catalog_summary

    named = feeds_from_environment()
    if named:
        progress.note(f"ingesting {len(named)} feed(s) from PODSIGHT_FEEDS")
        report = DemoLoadReport(ingest=ingest(named, progress=progress), feeds_from_env=named)
    else:
        out_dir = conf.podsight_home() / "demo" / "feeds"
        feeds = demo_feeds(out_dir, seed=seed, shows=shows)
        progress.note(f"wrote {len(feeds.paths)} demo feed documents to {out_dir}")
        report = DemoLoadReport(ingest=ingest([str(out_dir)], progress=progress), feeds=feeds)
    if report.ingest.all_failed:
        return report
    if not named and apis:
        _sync_demo_apis(report, seed=seed, shows=shows, sync=sync, progress=progress)
    # One show on several platforms is one channel only once matching has linked them.
    report.match = match(full=False, progress=progress)
    report.catalog = catalog_summary()
    return report


def _sync_demo_apis(
    report: DemoLoadReport, *, seed: int, shows: int, sync: Callable[..., SyncReport],
    progress: Progress,
) -> None:  # fmt: skip
    from podsight.demo import build_world
    from podsight.demo.apis import demo_show_specs, pointed_at

    world = build_world(seed=seed, shows=shows)
    specs = demo_show_specs(world)
    report.sources_file = _write_sources_file(specs)
    with _demo_server(world) as server, pointed_at(server):
        report.api_url = server.base_url
        progress.note(
            f"demo APIs (Podcast Index, Apple, Spotify, YouTube) on {server.base_url}; "
            f"syncing {len(specs)} shows listed in {report.sources_file}"
        )
        report.sync = sync(specs=specs, progress=progress)


def demo_apis(
    *,
    host: str = "127.0.0.1",
    port: int = DEMO_API_PORT,
    seed: int = 42,
    shows: int = 24,
    cache_mode: str = "etag",
    on_ready: Callable[[DemoApis], None] | None = None,
) -> DemoApis:
    """Serve the demo world as the four APIs until interrupted (Ctrl-C); ``on_ready`` is
    called once the server listens and the demo sources file is written."""
    from podsight.demo import build_world
    from podsight.demo.apis import (
        DEMO_CREDENTIALS,
        DEMO_RATE_LIMITS,
        build_demo_api_server,
        demo_show_specs,
    )

    world = build_world(seed=seed, shows=shows)
    server = build_demo_api_server(world, host=host, port=port, cache_mode=cache_mode)
    specs = demo_show_specs(world)
    info = DemoApis(
        base_url=server.base_url,
        settings={**server.env(), **DEMO_CREDENTIALS, **DEMO_RATE_LIMITS},
        sources_file=_write_sources_file(specs),
        shows=len(specs),
    )
    if on_ready is not None:
        on_ready(info)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return info
