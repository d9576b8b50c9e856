"""``podsight discover``: find new shows (Podcast Index trending, Apple and Podcast Index
search), store them as source records and add them to the sources file so later
syncs follow them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from podsight.sources.http import ApiError, SourceNotConfigured
from podsight.sources.payloads import record_payloads
from podsight.sources.records import Normalized, ShowRecord
from podsight.sources.store import StoreReport
from podsight.sources.sync import ShowSpec, append_to_sources_file, make_connector, store_and_record

__all__ = ["DiscoverReport", "discover_search", "discover_trending", "spec_for"]


@dataclass
class DiscoverReport:
    found: list[ShowRecord] = field(default_factory=list)
    added: list[ShowSpec] = field(default_factory=list)
    store: StoreReport = field(default_factory=StoreReport)
    skipped: dict[str, str] = field(default_factory=dict)  # source → why
    errors: dict[str, str] = field(default_factory=dict)


def spec_for(show: ShowRecord) -> ShowSpec:
    data = show.data
    spec = ShowSpec(name=str(data.get("title") or show.external_id))
    spec.rss_url = str(data.get("feed_url") or "")
    if data.get("itunes_id"):
        spec.itunes_id = str(data["itunes_id"])
    if show.source == "podcastindex":
        spec.podcastindex_id = show.external_id
    elif show.source == "apple":
        spec.itunes_id = show.external_id
    elif show.source == "spotify":
        spec.spotify_id = show.external_id
    elif show.source == "youtube":
        spec.youtube_channel_id = show.external_id
    return spec


def _run(calls: dict[str, Any], sources_file: Path, report: DiscoverReport) -> DiscoverReport:
    for source, call in calls.items():
        try:
            connector = make_connector(source)
        except SourceNotConfigured as exc:
            report.skipped[source] = str(exc)
            continue
        try:
            result: Normalized = call(connector)
        except ApiError as exc:
            report.errors[source] = str(exc)
            continue
        finally:
            record_payloads(connector.api.take_payloads())
            connector.close()
        # Discovery lists shows; their episodes come with the next sync.
        shows_only = Normalized(shows=result.shows)
        stored, _ = store_and_record(shows_only, fetched_at=datetime.now(UTC))
        report.store.add(stored)
        report.found.extend(result.shows)
    report.added = append_to_sources_file(sources_file, [spec_for(s) for s in report.found])
    return report


def discover_trending(sources_file: Path, *, limit: int = 10) -> DiscoverReport:
    return _run({"podcastindex": lambda c: c.trending(max=limit)}, sources_file, DiscoverReport())


def discover_search(term: str, sources_file: Path, *, limit: int = 10) -> DiscoverReport:
    return _run(
        {
            "apple": lambda c: c.search(term, limit=limit),
            "podcastindex": lambda c: c.search(term, max=limit),
        },
        sources_file,
        DiscoverReport(),
    )
