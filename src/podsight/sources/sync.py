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
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape

from podsight import conf
from podsight.errors import InputError
from podsight.lake.metrics import record_metrics
from podsight.progress import step_progress
from podsight.sources.http import (
    ApiAuthError,
    ApiError,
    ApiQuotaExceeded,
    ApiRateLimited,
    SourceNotConfigured,
)
from podsight.sources.models import SourceChannel, SourceEpisode
from podsight.sources.payloads import record_payloads
from podsight.sources.records import Normalized
from podsight.sources.store import StoreReport, metric_snapshots, store_normalized

__all__ = [
    "SOURCES",
    "ShowSpec",
    "SourceRun",
    "SourcesFileError",
    "SyncReport",
    "default_sources_file",
    "load_sources_file",
    "store_and_record",
    "sync_shows",
    "append_to_sources_file",
]

log = logging.getLogger(__name__)

SOURCES = ("rss", "podcastindex", "apple", "spotify", "youtube")


class SourcesFileError(InputError, ValueError):
    """The sources file is missing or malformed; the message says where and how to fix it."""


class UnknownSource(InputError, ValueError):
    """A source name that podsight has no connector for."""


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
        return {
            "rss": bool(self.rss_url),
            "podcastindex": bool(self.podcastindex_id or self.rss_url),
            "apple": bool(self.itunes_id),
            "spotify": bool(self.spotify_id),
            "youtube": bool(self.youtube_channel_id or self.youtube_handle),
        }[source]

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


def _known_episode_ids(source: str, external_id: str) -> set[str]:
    return set(
        SourceEpisode.objects.filter(
            source_channel__source=source, source_channel__external_id=external_id
        ).values_list("external_id", flat=True)
    )


def _newest_published(source: str, external_id: str) -> datetime | None:
    newest: datetime | None = None
    for data in SourceEpisode.objects.filter(
        source_channel__source=source, source_channel__external_id=external_id
    ).values_list("data", flat=True):
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


def _youtube_channel_for_handle(handle: str) -> str | None:
    wanted = handle.lstrip("@").lower()
    for external_id, data in SourceChannel.objects.filter(source="youtube").values_list(
        "external_id", "data"
    ):
        known = str((data or {}).get("handle") or (data or {}).get("custom_url") or "")
        if known.lstrip("@").lower() == wanted:
            return external_id
    return None


# -- per-source fetchers: one show spec → Normalized -----------------------------------


def _fetch_podcastindex(connector: Any, spec: ShowSpec) -> Normalized:
    if spec.podcastindex_id:
        result = connector.show(feed_id=int(spec.podcastindex_id))
    else:
        result = connector.show(feed_url=spec.rss_url)
    for show in result.shows:
        since = _newest_published("podcastindex", show.external_id)
        result.extend(connector.episodes([int(show.external_id)], since=since))
    return result


def _fetch_apple(connector: Any, spec: ShowSpec) -> Normalized:
    return connector.fetch_show(
        spec.itunes_id, known_episode_ids=_known_episode_ids("apple", spec.itunes_id)
    )


def _fetch_spotify(connector: Any, spec: ShowSpec) -> Normalized:
    return connector.fetch_show(
        spec.spotify_id, known_episode_ids=_known_episode_ids("spotify", spec.spotify_id)
    )


def _fetch_youtube(connector: Any, spec: ShowSpec) -> Normalized:
    channel_id = spec.youtube_channel_id or _youtube_channel_for_handle(spec.youtube_handle)
    known = _known_episode_ids("youtube", channel_id) if channel_id else set()
    if spec.youtube_channel_id:
        return connector.fetch_channel(channel_id=spec.youtube_channel_id, known_video_ids=known)
    return connector.fetch_channel(handle=spec.youtube_handle, known_video_ids=known)


FETCHERS: dict[str, Callable[[Any, ShowSpec], Normalized]] = {
    "podcastindex": _fetch_podcastindex,
    "apple": _fetch_apple,
    "spotify": _fetch_spotify,
    "youtube": _fetch_youtube,
}


def make_connector(source: str, *, cache: bool = True) -> Any:
    """The source's connector from environment settings (raises SourceNotConfigured)."""
    if source == "podcastindex":
        from podsight.sources.podcastindex.client import PodcastIndexConnector

        return PodcastIndexConnector.from_env(cache=cache)
    if source == "apple":
        from podsight.sources.apple.client import AppleConnector

        return AppleConnector.from_env(cache=cache)
    if source == "spotify":
        from podsight.sources.spotify.client import SpotifyConnector

        return SpotifyConnector.from_env(cache=cache)
    if source == "youtube":
        from podsight.sources.youtube.client import YouTubeConnector

        return YouTubeConnector.from_env(cache=cache)
    raise UnknownSource(f"unknown source {source!r}; known: {', '.join(SOURCES)}")


def store_and_record(result: Normalized, *, fetched_at: datetime) -> tuple[StoreReport, int]:
    """Store a connector result and append its metric snapshots; returns (report, metrics)."""
    report = store_normalized(result, fetched_at=fetched_at)
    written = record_metrics(metric_snapshots(result, fetched_at))
    return report, written


def _finish_stats(run: SourceRun, connector: Any) -> None:
    api = getattr(connector, "api", None)
    stats = getattr(api, "stats", None)
    if stats is not None:
        run.calls, run.network = stats.calls, stats.network
        run.cache_hits, run.revalidated, run.retries = (
            stats.cache_hits,
            stats.revalidated,
            stats.retries,
        )
    quota = getattr(connector, "quota", None)
    if quota is not None:
        run.quota_units = int(quota.spent_this_run)


def _sync_rss(specs: Sequence[ShowSpec], run: SourceRun, console: Console, progress: bool) -> None:
    from podsight.sources.rss.ingest import ingest_feeds

    urls = [s.rss_url for s in specs if s.rss_url]
    from podsight.progress import RichProgress

    report = ingest_feeds(urls, progress=RichProgress(console, enabled=progress))
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
    console: Console | None = None,
    progress: bool = True,
    cache: bool = True,
) -> SyncReport:
    """Sync every show from every selected source; never stops at one failure."""
    console = console or Console(stderr=True)
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
            _sync_rss(wanted, run, console, progress)
            continue
        try:
            connector = make_connector(source, cache=cache)
        except SourceNotConfigured as exc:
            run.status, run.message = "skipped", str(exc)
            console.print(f"[yellow]skipped {source}[/]: {escape(str(exc))}")
            continue
        except (ApiError, ValueError) as exc:  # e.g. a malformed setting: say which
            run.status, run.message = "failed", str(exc)
            run.shows_failed = len(wanted)
            console.print(f"[red]{source}[/]: {escape(str(exc))}")
            continue
        try:
            _sync_source(source, connector, wanted, run, report, console, progress)
        finally:
            _finish_stats(run, connector)
            report.payloads_written += record_payloads(connector.api.take_payloads())
            connector.close()
    return report


def _sync_source(
    source: str,
    connector: Any,
    specs: Sequence[ShowSpec],
    run: SourceRun,
    report: SyncReport,
    console: Console,
    progress: bool,
) -> None:
    fetch = FETCHERS[source]
    with step_progress(source, console, enabled=progress) as bar:
        task = bar.add_task("", total=len(specs))
        for index, spec in enumerate(specs):
            bar.update(task, description=escape(spec.name[:60]))
            fetched_at = datetime.now(UTC)
            try:
                result = fetch(connector, spec)
            except (ApiQuotaExceeded, ApiAuthError, ApiRateLimited) as exc:
                # Nothing more will succeed for this source in this run.
                run.status = "stopped"
                run.message = str(exc)
                run.shows_failed += len(specs) - index
                run.errors.append(f"{spec.name}: {exc}")
                console.print(f"[red]stopped {source}[/]: {escape(str(exc))}")
                return
            except ApiError as exc:
                run.shows_failed += 1
                run.errors.append(f"{spec.name}: {exc}")
                console.print(f"[red]{source}[/] {escape(spec.name)}: {escape(str(exc))}")
                bar.advance(task)
                continue
            stored, metrics = store_and_record(result, fetched_at=fetched_at)
            run.store.add(stored)
            report.metrics_written += metrics
            run.shows_ok += 1
            bar.advance(task)
    if run.shows_failed and not run.shows_ok:
        run.status = "failed"
