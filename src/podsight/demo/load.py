"""Loading a local platform: the demo world (or the feeds in ``PODSIGHT_FEEDS``) through
the pipeline graph, and serving the demo world as the source APIs.

:func:`load_demo` is the ``demo.load`` step's work (``podsight demo load``, ``make
run``). It prepares the pipeline's inputs and then runs the graph
(:func:`podsight.pipeline.runner.run_pipeline`): nothing here chains steps by hand.

- Inputs: the demo world's RSS documents (written under ``$PODSIGHT_HOME/demo/feeds``,
  their transcript and chapters links pointing at the demo's own server), and its shows
  added to the sources file ``$PODSIGHT_HOME/sources.toml`` with their feed file and the
  ids Podcast Index, Apple, Spotify and YouTube know them by (with ``PODSIGHT_FEEDS``:
  those feeds instead). A local server answers as those four APIs and hosts the
  documents; while the catalog run goes, podsight's connectors point at it and the safe
  fetcher trusts its origin (nothing else on loopback).
- The catalog run: the graph's ``sources.sync``, ``match`` and (``content``)
  ``content.transcripts`` and ``content.analyze``, while the server is up.
- Listening: a few hundred simulated listeners (:mod:`podsight.demo.simulate`, a fixed
  seed, their true tastes written for evaluation) play the catalog over the last 30
  days, straight into the event log; loading again keeps the history written before.
- The listening run: ``events.consume`` and everything after it in the graph
  (engagement, training, promotion, the cached lists).

Both runs are recorded like any other (``podsight pipeline runs``); the report carries
them.
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
    (then no demo world); ``feeds``: the demo world's documents otherwise. ``runs``: the
    pipeline runs (the catalog's, then the listening's when there are listeners);
    ``catalog``: the summary after the catalog run; ``listening``: the simulation's report
    (None when not run; ``history_kept``: the lake already held the demo's history);
    ``model``: the serving model version and its status after the listening run."""

    feeds_from_env: list[str] = field(default_factory=list)
    feeds: DemoFeeds | None = None
    api_url: str | None = None
    sources_file: Path | None = None
    documents_url: str | None = None  # where the demo's transcripts and chapters are served
    runs: list[Any] = field(default_factory=list)  # PipelineRunReport
    catalog: CatalogSummary | None = None
    listening: Any = None
    history_kept: bool = False
    model: dict[str, str] | None = None
    timings: dict[str, float] = field(default_factory=dict)  # seconds per part

    @property
    def failed(self) -> bool:
        """Whether a node of a run failed (the command exits 1)."""
        return any(run.failed for run in self.runs)


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
    """The demo APIs' shows, for ``podsight sync --sources`` beside ``podsight demo apis``."""
    sources_file = conf.podsight_home() / "demo" / "sources.toml"
    sources_file.parent.mkdir(parents=True, exist_ok=True)
    sources_file.write_text("".join("\n" + s.to_toml() for s in specs).lstrip(), "utf-8")
    return sources_file


def _add_to_sources_file(specs: list[Any]) -> Path:
    """The demo's shows added to the pipeline's sources file (those it lists already, by
    name or any id, are left as they are)."""
    from podsight.sources.sync import append_to_sources_file, default_sources_file

    sources_file = default_sources_file()
    sources_file.parent.mkdir(parents=True, exist_ok=True)
    append_to_sources_file(sources_file, specs)
    return sources_file


def _world_specs(world: World, feeds: DemoFeeds, apis: bool) -> list[Any]:
    """Each demo show: its feed document and (``apis``) its ids on the four platforms."""
    from dataclasses import replace

    from podsight.demo.apis import demo_show_specs
    from podsight.sources.sync import ShowSpec

    on_apis = {spec.name: spec for spec in demo_show_specs(world)} if apis else {}
    return [
        replace(on_apis.get(show.title) or ShowSpec(name=show.title), rss_url=str(path))
        for show, path in zip(world.shows, feeds.paths, strict=True)
    ]


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


CATALOG_NODES = ("sources.sync", "match")
CONTENT_NODES = ("content.transcripts", "content.analyze")
LISTENING_FROM = "events.consume"


def load_demo(
    *,
    seed: int = 42,
    shows: int = 24,
    apis: bool = True,
    content: bool = True,
    listeners: int = DEMO_LISTENERS,
    run: Callable[..., Any],
    simulate: Callable[..., Any] | None = None,
    progress: Progress = SILENT,
) -> DemoLoadReport:
    """Prepare the demo's inputs and run the pipeline graph on them: the feeds in
    ``PODSIGHT_FEEDS`` if set, else the demo world (its feeds, and its APIs when
    ``apis``); the catalog run (with the content nodes when ``content``) while the demo
    server is up; then ``listeners`` simulated listeners' history and the listening run.
    ``run`` is :func:`~podsight.pipeline.runner.run_pipeline`, ``simulate`` the
    ``events.simulate`` step."""
    from podsight.demo import build_world
    from podsight.matching.report import catalog_summary
    from podsight.sources.rss.fetch import trusting
    from podsight.sources.sync import ShowSpec

    nodes = [*CATALOG_NODES, *(CONTENT_NODES if content else ())]
    named = feeds_from_environment()
    report = DemoLoadReport(feeds_from_env=named)
    if named:
        progress.note(f"syncing {len(named)} feed(s) from PODSIGHT_FEEDS")
        report.sources_file = _add_to_sources_file(
            [ShowSpec(name=location, rss_url=location) for location in named]
        )
        with _timed(report.timings, "catalog"):
            report.runs.append(run(only=nodes, trigger="demo", progress=progress))
    else:
        world = build_world(seed=seed, shows=shows)
        with _demo_server(world) as server:
            out_dir = conf.podsight_home() / "demo" / "feeds"
            report.feeds = demo_feeds(out_dir, world=world)
            report.documents_url = server.base_url
            report.sources_file = _add_to_sources_file(_world_specs(world, report.feeds, apis))
            progress.note(
                f"wrote {len(report.feeds.paths)} demo feed documents to {out_dir} and listed "
                f"the shows in {report.sources_file}; the demo APIs, transcripts and "
                f"chapters are served on {server.base_url}"
            )
            if apis:
                report.api_url = server.base_url
            with _pointed(server, apis), trusting(server.base_url):
                with _timed(report.timings, "catalog"):
                    report.runs.append(run(only=nodes, trigger="demo", progress=progress))
    report.catalog = catalog_summary()
    if report.failed or listeners <= 0 or simulate is None:
        return report
    _listening_history(report, listeners=listeners, seed=seed, simulate=simulate,
                       progress=progress)  # fmt: skip
    with _timed(report.timings, "listening run"):
        report.runs.append(run(start=LISTENING_FROM, trigger="demo", progress=progress))
    report.model = _serving_model()
    return report


def _pointed(server: ApiServer, apis: bool):
    from podsight.demo.apis import pointed_at

    return pointed_at(server) if apis else nullcontext()


def _serving_model() -> dict[str, str] | None:
    from podsight.recs.models import ModelStatus, ModelVersion

    row = ModelVersion.objects.filter(status=ModelStatus.SERVING).first()
    return None if row is None else {"version": row.version, "status": row.status}


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
    report: DemoLoadReport, *, listeners: int, seed: int, simulate: Callable[..., Any],
    progress: Progress,
) -> None:  # fmt: skip
    """Simulated listening over the last ``HISTORY_DAYS`` days into the event log (the
    listening run consumes it). Loading the demo again keeps the history it wrote before
    (a second one would double every listener's plays)."""
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
        return
    with _timed(report.timings, "simulation"):
        report.listening = simulate(
            users=listeners, rate=HISTORY_RATE * listeners,
            duration_s=HISTORY_DAYS * 86_400.0,
            seed=seed, speedup=0.0, direct=True, batch_size=5_000, progress=progress,
        )  # fmt: skip


@contextmanager
def _timed(timings: dict[str, float], part: str) -> Iterator[None]:
    started = time.monotonic()
    try:
        yield
    finally:
        timings[part] = round(time.monotonic() - started, 2)


def demo_apis(
    *,
    host: str = "127.0.0.1",
    port: int = DEMO_API_PORT,
    seed: int = 42,
    shows: int = 24,
    cache_mode: str = "etag",
    inputs: bool = False,
    on_ready: Callable[[DemoApis], None] | None = None,
) -> DemoApis:
    """Serve the demo world as the four APIs, and its episodes' transcripts and chapters,
    until interrupted (Ctrl-C); ``on_ready`` is called once the server listens and the
    demo sources file is written. ``inputs``: also write the world's feeds (their
    document links pointing at this server) and list its shows in the home's sources
    file, so the pipeline (``podsight pipeline run``, the scheduler) runs on the demo with
    the settings printed."""
    from podsight.demo import build_world
    from podsight.demo.apis import (
        DEMO_CREDENTIALS,
        DEMO_RATE_LIMITS,
        build_demo_api_server,
        demo_show_specs,
    )
    from podsight.demo.documents import host_documents

    world = build_world(seed=seed, shows=shows)
    port = port or _pick_port(host)
    # The documents' links name this server before the feeds and API records are built.
    host_documents(world, f"http://{host}:{port}")
    server = build_demo_api_server(world, host=host, port=port, cache_mode=cache_mode)
    specs = demo_show_specs(world)
    settings = {**server.env(), **DEMO_CREDENTIALS, **DEMO_RATE_LIMITS}
    sources_file = _write_sources_file(specs)
    if inputs:
        feeds = demo_feeds(conf.podsight_home() / "demo" / "feeds", world=world)
        sources_file = _add_to_sources_file(_world_specs(world, feeds, True))
        # The documents are on this loopback server, which the safe fetcher refuses.
        settings["PODSIGHT_ALLOW_PRIVATE_URLS"] = "1"
    info = DemoApis(
        base_url=server.base_url, settings=settings, sources_file=sources_file, shows=len(specs)
    )
    if on_ready is not None:
        on_ready(info)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return info
