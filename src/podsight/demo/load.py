"""Loading a local platform: the demo world (or the feeds in ``PODSIGHT_FEEDS``) through
the real paths, and serving the demo world as the source APIs.

:func:`load_demo` is the ``demo.load`` step's work (``podsight demo load``, ``make
run``): start a local server for the world (its podcast host's transcript and chapters
documents, and Podcast Index, Apple, Spotify and YouTube), write the world's RSS
documents with their document links pointing there, ingest them, sync the demo shows
from the APIs through the real connectors, then match, so each demo show is one channel
with its platforms' records linked; then fetch the transcripts the feeds link (the safe
fetcher trusts this one server's origin while it does, nothing else on loopback) and
analyse them, so search answers. Then the demo gets a listening history: a few hundred
simulated listeners (:mod:`podsight.demo.simulate`, a fixed seed, their true tastes
written for evaluation) play the catalog over the last 30 days, as fast as the machine
goes; the events go into the event log, the consumer writes them to the lake, and the
recommender is trained on them, so every simulated listener has recommendations. The
ingest, sync, match, transcripts, analyze, simulate, consume and train steps are passed
in (as :func:`add_feed <podsight.directory.service.add_feed>` takes its ingest), so this
module depends on no front end and each part reports like it does on its own.
"""

from __future__ import annotations

import os
import re
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from podsight import conf
from podsight.progress import SILENT, Progress

if TYPE_CHECKING:
    from podsight.demo.apiserver import ApiServer
    from podsight.demo.world import World
    from podsight.matching.report import CatalogSummary
    from podsight.matching.run import MatchReport
    from podsight.sources.rss.ingest import IngestReport
    from podsight.sources.sync import SyncReport

__all__ = [
    "DEMO_API_PORT",
    "DEMO_LISTENERS",
    "HISTORY_DAYS",
    "HISTORY_RATE",
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
# The demo's listening history: listeners (``make run``'s live simulator plays the same
# ones, so their new plays change their recommendations), how many days back, and the
# events per simulated second per listener: ~14 sessions each over the 30 days, 155,000
# events for 300 listeners (docs/recs.md "Demo" gives what it costs).
DEMO_LISTENERS = 300
HISTORY_DAYS = 30
HISTORY_RATE = 0.0002


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
    # The content steps' reports (content.transcripts, content.analyze); None when not run.
    transcripts: Any = None
    analysis: Any = None
    # The listening history's: events.simulate, events.consume and recs.train (None when
    # not run); ``history_kept``: the lake already held the demo's history.
    listening: Any = None
    consumed: Any = None
    recommender: Any = None
    history_kept: bool = False
    documents_url: str | None = None  # where the demo's transcripts and chapters are served
    timings: dict[str, float] = field(default_factory=dict)  # seconds per part


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


def demo_feeds(
    out_dir: Path, *, seed: int = 42, shows: int = 24, world: World | None = None
) -> DemoFeeds:
    """Write the seeded demo world's RSS documents into ``out_dir`` (``world``: that world,
    e.g. with its documents hosted locally, instead of building it from the seed)."""
    from podsight.demo import build_world, write_rss_feeds

    # A folder reused with another seed or size must not keep the old world's feeds.
    if out_dir.is_dir():
        for stale in out_dir.glob("*.xml"):
            stale.unlink()
    world = world or build_world(seed=seed, shows=shows)
    return DemoFeeds(out_dir, write_rss_feeds(world, out_dir))


def _write_sources_file(specs: list[Any]) -> Path:
    sources_file = conf.podsight_home() / "demo" / "sources.toml"
    sources_file.parent.mkdir(parents=True, exist_ok=True)
    sources_file.write_text("".join("\n" + s.to_toml() for s in specs).lstrip(), "utf-8")
    return sources_file


def _pick_port(host: str) -> int:
    """The stable port if it is free, else any free one."""
    for port in (DEMO_API_PORT, 0):
        with socket.socket() as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as HTTPServer does
            try:
                probe.bind((host, port))
            except OSError:
                continue
            return int(probe.getsockname()[1])
    raise OSError(f"no free port on {host}")


@contextmanager
def _demo_server(world: World, **options: Any) -> Iterator[ApiServer]:
    """The world's server; the world's document links point at it (the feeds and the
    Podcast Index records carry them, so they are set before either is built)."""
    from podsight.demo.apis import build_demo_api_server
    from podsight.demo.documents import host_documents

    host = "127.0.0.1"
    for attempt in range(3):
        port = _pick_port(host)
        host_documents(world, f"http://{host}:{port}")
        try:
            server = build_demo_api_server(world, host=host, port=port, **options)
            break
        except OSError:  # taken between the probe and the bind: another port
            if attempt == 2:
                raise
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
    transcripts: Callable[..., Any] | None = None,
    analyze: Callable[..., Any] | None = None,
    listeners: int = DEMO_LISTENERS,
    simulate: Callable[..., Any] | None = None,
    consume: Callable[..., Any] | None = None,
    train: Callable[..., Any] | None = None,
    progress: Progress = SILENT,
) -> DemoLoadReport:
    """Load data for a local platform: the feeds in ``PODSIGHT_FEEDS`` if set, else the
    demo world (its feeds, then its APIs when ``apis``); then match; then fetch the
    episodes' transcripts and analyse them; then give ``listeners`` simulated listeners
    a history, write it to the lake and train the recommender on it. ``ingest``, ``sync``,
    ``match``, ``transcripts``, ``analyze``, ``simulate`` (events.simulate), ``consume``
    (events.consume) and ``train`` (recs.train) are the pipeline's steps (each skipped
    when None)."""
    from podsight.demo import build_world

    named = feeds_from_environment()
    if named:
        progress.note(f"ingesting {len(named)} feed(s) from PODSIGHT_FEEDS")
        with _timed(timings := {}, "ingest"):
            ingested = ingest(named, progress=progress)
        report = DemoLoadReport(ingest=ingested, feeds_from_env=named, timings=timings)
        if not report.ingest.all_failed:
            _match_and_understand(report, match, transcripts, analyze, progress)
            _listening_history(
                report, listeners=listeners, seed=seed, simulate=simulate, consume=consume,
                train=train, progress=progress,
            )  # fmt: skip
        return report
    world = build_world(seed=seed, shows=shows)
    with _demo_server(world) as server:
        out_dir = conf.podsight_home() / "demo" / "feeds"
        feeds = demo_feeds(out_dir, world=world)
        progress.note(
            f"wrote {len(feeds.paths)} demo feed documents to {out_dir}; their transcripts "
            f"and chapters are served on {server.base_url}"
        )
        with _timed(timings := {}, "ingest"):
            ingested = ingest([str(out_dir)], progress=progress)
        report = DemoLoadReport(
            ingest=ingested, feeds=feeds, documents_url=server.base_url, timings=timings
        )
        if report.ingest.all_failed:
            return report
        if apis:
            _sync_demo_apis(report, world, server, sync=sync, progress=progress)
        _match_and_understand(
            report, match, transcripts, analyze, progress, trusted=server.base_url
        )
    _listening_history(
        report, listeners=listeners, seed=seed, simulate=simulate, consume=consume,
        train=train, progress=progress,
    )  # fmt: skip
    return report


def _history_written() -> bool:
    """Whether the lake already holds listening the simulator wrote straight into the log
    (the demo's history: ``make run``'s live listeners send theirs over HTTP)."""
    from podsight import lake
    from podsight.lake.tables import EVENTS

    if not lake.exists(EVENTS):
        return False
    found = lake.query("SELECT 1 FROM e WHERE client = 'simulator' LIMIT 1", e=EVENTS)
    return found.num_rows > 0


def _listening_history(
    report: DemoLoadReport, *, listeners: int, seed: int,
    simulate: Callable[..., Any] | None, consume: Callable[..., Any] | None,
    train: Callable[..., Any] | None, progress: Progress,
) -> None:  # fmt: skip
    """Simulated listening over the last ``HISTORY_DAYS`` days into the lake, and the
    recommender trained on it. Loading the demo again keeps the history it wrote before
    (a second one would double every listener's plays)."""
    if simulate is None or listeners <= 0:
        return
    if _history_written():
        report.history_kept = True
        progress.note("the lake already holds the demo's listening history: kept, not repeated")
        from podsight.demo import simulate as simulator

        if not simulator.default_tastes_path().exists():  # evaluation reads it
            catalog = simulator.load_catalog()
            simulator.write_tastes(
                simulator.default_tastes_path(),
                simulator.build_listeners(catalog, listeners, seed), catalog, seed=seed,
            )  # fmt: skip
    else:
        with _timed(report.timings, "listening"):
            report.listening = simulate(
                users=listeners, rate=HISTORY_RATE * listeners,
                duration_s=HISTORY_DAYS * 86_400.0,
                seed=seed, speedup=0.0, direct=True, batch_size=5_000, progress=progress,
            )  # fmt: skip
    if consume is not None:
        with _timed(report.timings, "consume"):
            # No refresh of lists a previous model computed: training follows.
            report.consumed = consume(once=True, refresh=train is None)
    if train is not None:
        with _timed(report.timings, "train"):
            report.recommender = train(progress=progress)


@contextmanager
def _timed(timings: dict[str, float], part: str) -> Iterator[None]:
    started = time.monotonic()
    try:
        yield
    finally:
        timings[part] = round(time.monotonic() - started, 2)


def _match_and_understand(
    report: DemoLoadReport,
    match: Callable[..., MatchReport],
    transcripts: Callable[..., Any] | None,
    analyze: Callable[..., Any] | None,
    progress: Progress,
    *,
    trusted: str | None = None,
) -> None:
    from podsight.matching.report import catalog_summary
    from podsight.sources.rss.fetch import trusting

    # One show on several platforms is one channel only once matching has linked them.
    with _timed(report.timings, "match"):
        report.match = match(full=False, progress=progress)
    report.catalog = catalog_summary()
    # The demo's own server on loopback (its transcripts, and the chapters the analysis
    # reads), and no other private address.
    with trusting(trusted) if trusted else nullcontext():
        if transcripts is not None:
            with _timed(report.timings, "transcripts"):
                report.transcripts = transcripts(progress=progress)
        if analyze is not None:
            with _timed(report.timings, "analyze"):
                report.analysis = analyze(progress=progress)


def _sync_demo_apis(
    report: DemoLoadReport, world: World, server: ApiServer, *,
    sync: Callable[..., SyncReport], progress: Progress,
) -> None:  # fmt: skip
    from podsight.demo.apis import demo_show_specs, pointed_at

    specs = demo_show_specs(world)
    report.sources_file = _write_sources_file(specs)
    with pointed_at(server), _timed(report.timings, "sync"):
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
