"""``podsight sync``: follow a list of shows across every source, incrementally.

The sources file (TOML) lists shows with whatever ids are known::

    [[shows]]
    name = "Huberman Lab"
    rss_url = "https://feeds.megaphone.fm/hubermanlab"
    itunes_id = 1545953110
    spotify_id = "79CkJF3UJTHFV8Dse3Oy0P"
    youtube_channel_id = "UC2D2CMWXMOVWx7giW1n3LIg"

Sources run in survivorship order (RSS, Podcast Index, Apple, Spotify, YouTube) so
keyed sources find the RSS record they link to. A source without credentials is
skipped with a message; a source whose credentials are refused or whose quota is
used up stops, and the others go on. Each show is stored in its own transaction
after all its calls succeeded, so a failure never leaves half a show.

Every run appends one metric snapshot per record that has metrics, and keeps the
fresh API responses in the lake (``api_payloads``) for ``podsight replay``.
"""

from __future__ import annotations

import logging
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from pathlib import Path

from podsight import conf
from podsight.errors import InputError
from podsight.lake.metrics import record_metrics
from podsight.progress import SILENT, Progress
from podsight.sources.connector import (
    CONNECTORS,
    Connector,
    UnknownSource,
    connector_class,
    make_connector,
)
from podsight.sources.http import (
    ApiAuthError,
    ApiError,
    ApiQuotaExceeded,
    ApiRateLimited,
    SourceNotConfigured,
)
from podsight.sources.models import SourceChannel, SourceEpisode, SyncState
from podsight.sources.payloads import record_payloads
from podsight.sources.records import Normalized
from podsight.sources.store import StoreReport, metric_snapshots, store_normalized

__all__ = [
    "SOURCES",
    "ShowSpec",
    "SourceRun",
    "SourcesFileError",
    "StoredSeen",
    "SyncReport",
    "default_sources_file",
    "load_sources_file",
    "record_run",
    "store_and_record",
    "sync_shows",
    "append_to_sources_file",
]

log = logging.getLogger(__name__)

# RSS first (it is not a connector: feeds have their own ingest), then the registry's order.
SOURCES = ("rss", *CONNECTORS)


class SourcesFileError(InputError, ValueError):
    """The sources file is missing or malformed; the message says where and how to fix it."""


@dataclass
class ShowSpec:
    name: str
    rss_url: str = ""
    itunes_id: str = ""
    podcastindex_id: str = ""
    spotify_id: str = ""
    youtube_channel_id: str = ""
    youtube_handle: str = ""

    def wants(self, source: str) -> bool:
        if source == "rss":
            return bool(self.rss_url)
        return connector_class(source).follows(self)

    def to_toml(self) -> str:
        lines = ["[[shows]]"]
        for f in fields(self):
            value = getattr(self, f.name)
            if value:
                escaped = str(value).replace("\\", "\\\\").replace('"', '\\"')
                lines.append(f'{f.name} = "{escaped}"')
        return "\n".join(lines) + "\n"


_SPEC_FIELDS = {f.name for f in fields(ShowSpec)}


def default_sources_file() -> Path:
    return conf.podsight_home() / "sources.toml"


def load_sources_file(path: Path) -> list[ShowSpec]:
    if not path.is_file():
        raise SourcesFileError(
            f"sources file {path} does not exist; create it with [[shows]] tables "
            "(see `podsight sync --help`) or add shows with `podsight discover`"
        )
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise SourcesFileError(f"{path} is not valid TOML: {exc}") from None
    unknown_top = set(document) - {"shows"}
    if unknown_top:
        raise SourcesFileError(f"{path}: unknown top-level keys {sorted(unknown_top)}")
    shows = document.get("shows", [])
    if not isinstance(shows, list):
        raise SourcesFileError(f"{path}: `shows` must be an array of tables ([[shows]])")
    specs: list[ShowSpec] = []
    for number, table in enumerate(shows, start=1):
        where = f"{path}: show #{number}"
        if not isinstance(table, dict):
            raise SourcesFileError(f"{where} is not a table")
        unknown = set(table) - _SPEC_FIELDS
        if unknown:
            raise SourcesFileError(
                f"{where} has unknown keys {sorted(unknown)}; allowed: {sorted(_SPEC_FIELDS)}"
            )
        values = {k: str(v).strip() for k, v in table.items() if v is not None}
        if not values.get("name"):
            raise SourcesFileError(f"{where} needs a `name`")
        spec = ShowSpec(**values)
        if not any(spec.wants(s) for s in SOURCES):
            raise SourcesFileError(f"{where} ({spec.name}) names no id for any source")
        specs.append(spec)
    return specs


def append_to_sources_file(path: Path, specs: Iterable[ShowSpec]) -> list[ShowSpec]:
    """Add shows not already listed (same name or any same id); returns those added."""
    existing = load_sources_file(path) if path.is_file() else []

    def ids(spec: ShowSpec) -> set[tuple[str, str]]:
        return {
            (f.name, str(getattr(spec, f.name)).lower())
            for f in fields(ShowSpec)
            if getattr(spec, f.name)
        }

    known = set().union(*(ids(s) for s in existing)) if existing else set()
    added = [s for s in specs if not (ids(s) & known)]
    if added:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as out:
            for spec in added:
                out.write("\n" + spec.to_toml())
                known |= ids(spec)
    return added


@dataclass
class SourceRun:
    source: str
    status: str = "ok"  # ok | skipped | stopped | failed | idle
    message: str = ""
    shows_ok: int = 0
    shows_failed: int = 0
    store: StoreReport = field(default_factory=StoreReport)
    calls: int = 0
    network: int = 0
    cache_hits: int = 0
    revalidated: int = 0
    retries: int = 0
    quota_units: int | None = None
    errors: list[str] = field(default_factory=list)


@dataclass
class SyncReport:
    runs: dict[str, SourceRun]
    metrics_written: int = 0
    payloads_written: int = 0

    @property
    def all_failed(self) -> bool:
        active = [r for r in self.runs.values() if r.status not in ("skipped", "idle")]
        return bool(active) and all(r.shows_ok == 0 for r in active)


class StoredSeen:
    """What the catalog holds of one source (:class:`~podsight.sources.connector.Seen`):
    the cursor each connector's incremental fetch starts from."""

    def __init__(self, source: str) -> None:
        self.source = source

    def _episodes(self, show_id: str):
        return SourceEpisode.objects.filter(
            source_channel__source=self.source, source_channel__external_id=show_id
        )

    def episode_ids(self, show_id: str) -> frozenset[str]:
        return frozenset(self._episodes(show_id).values_list("external_id", flat=True))

    def newest_published(self, show_id: str) -> datetime | None:
        newest: datetime | None = None
        for data in self._episodes(show_id).values_list("data", flat=True):
            value = (data or {}).get("published_at")
            if not value:
                continue
            try:
                when = datetime.fromisoformat(value)
            except ValueError:
                continue
            if newest is None or when > newest:
                newest = when
        return newest

    def show_id_for_handle(self, handle: str) -> str | None:
        wanted = handle.lstrip("@").lower()
        for external_id, data in SourceChannel.objects.filter(source=self.source).values_list(
            "external_id", "data"
        ):
            known = str((data or {}).get("handle") or (data or {}).get("custom_url") or "")
            if known.lstrip("@").lower() == wanted:
                return external_id
        return None


def store_and_record(result: Normalized, *, fetched_at: datetime) -> tuple[StoreReport, int]:
    """Store a connector result and append its metric snapshots; returns (report, metrics)."""
    report = store_normalized(result, fetched_at=fetched_at)
    written = record_metrics(metric_snapshots(result, fetched_at))
    return report, written


def _finish_stats(run: SourceRun, connector: Connector) -> None:
    stats = connector.api.stats
    run.calls, run.network = stats.calls, stats.network
    run.cache_hits, run.revalidated, run.retries = (
        stats.cache_hits,
        stats.revalidated,
        stats.retries,
    )
    run.quota_units = connector.quota_units


def _sync_rss(specs: Sequence[ShowSpec], run: SourceRun, progress: Progress) -> None:
    from podsight.sources.rss.ingest import ingest_feeds

    urls = [s.rss_url for s in specs if s.rss_url]
    report = ingest_feeds(urls, progress=progress)
    for outcome in report.outcomes:
        if outcome.failed:
            run.shows_failed += 1
            run.errors.append(f"{outcome.location}: {outcome.error}")
        else:
            run.shows_ok += 1
            run.store.episodes_new += outcome.episodes_new
            run.store.episodes_updated += outcome.episodes_updated
            run.store.episodes_vanished += outcome.episodes_vanished
            if outcome.change == "new":
                run.store.shows_new += 1
            elif outcome.change == "updated":
                run.store.shows_updated += 1
            else:
                run.store.shows_unchanged += 1


def sync_shows(
    specs: Sequence[ShowSpec],
    *,
    sources: Iterable[str] | None = None,
    progress: Progress = SILENT,
    cache: bool = True,
) -> SyncReport:
    """Sync every show from every selected source; never stops at one failure."""
    selected = [s for s in SOURCES if sources is None or s in set(sources)]
    unknown = set(sources or ()) - set(SOURCES)
    if unknown:
        raise UnknownSource(f"unknown source(s) {sorted(unknown)}; known: {', '.join(SOURCES)}")
    report = SyncReport(runs={s: SourceRun(s) for s in selected})
    for source in selected:
        run = report.runs[source]
        wanted = [s for s in specs if s.wants(source)]
        if not wanted:
            run.status = "idle"
            run.message = "no show lists an id for this source"
            continue
        if source == "rss":
            _sync_rss(wanted, run, progress)
            continue
        try:
            connector = make_connector(source, cache=cache)
        except SourceNotConfigured as exc:
            run.status, run.message = "skipped", str(exc)
            progress.note(f"skipped {source}: {exc}", level=logging.WARNING)
            record_run(run)
            continue
        except (ApiError, ValueError) as exc:  # e.g. a malformed setting: say which
            run.status, run.message = "failed", str(exc)
            run.shows_failed = len(wanted)
            progress.note(f"{source}: {exc}", level=logging.ERROR)
            record_run(run)
            continue
        try:
            _sync_source(connector, wanted, run, report, progress)
        finally:
            _finish_stats(run, connector)
            report.payloads_written += record_payloads(connector.api.take_payloads())
            connector.close()
            record_run(run)
    return report


def record_run(run: SourceRun) -> None:
    """Keep how this source's run went (:class:`SyncState`) for operators; RSS keeps its
    state per feed instead. The last error stays until a newer one replaces it."""
    now = datetime.now(UTC)
    error = run.errors[-1] if run.errors else (run.message if run.status == "failed" else "")
    values: dict = {
        "last_run_at": now,
        "status": run.status,
        "message": run.message,
        "shows_ok": run.shows_ok,
        "shows_failed": run.shows_failed,
    }
    if error:
        values.update(last_error=error, last_error_at=now)
    SyncState.objects.update_or_create(source=run.source, defaults=values)


def _sync_source(
    connector: Connector,
    specs: Sequence[ShowSpec],
    run: SourceRun,
    report: SyncReport,
    progress: Progress,
) -> None:
    source = connector.source
    seen = StoredSeen(source)
    with progress.task(source, total=len(specs)) as task:
        for index, spec in enumerate(specs):
            task.update(item=spec.name[:60])
            fetched_at = datetime.now(UTC)
            try:
                result = connector.fetch_show(spec, seen)
            except (ApiQuotaExceeded, ApiAuthError, ApiRateLimited) as exc:
                # Nothing more will succeed for this source in this run.
                run.status = "stopped"
                run.message = str(exc)
                run.shows_failed += len(specs) - index
                run.errors.append(f"{spec.name}: {exc}")
                progress.note(f"stopped {source}: {exc}", level=logging.ERROR)
                return
            except ApiError as exc:
                run.shows_failed += 1
                run.errors.append(f"{spec.name}: {exc}")
                progress.note(f"{source} {spec.name}: {exc}", level=logging.ERROR)
                task.advance()
                continue
            stored, metrics = store_and_record(result, fetched_at=fetched_at)
            run.store.add(stored)
            report.metrics_written += metrics
            run.shows_ok += 1
            task.advance()
    if run.shows_failed and not run.shows_ok:
        run.status = "failed"
