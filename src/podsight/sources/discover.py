"""``podsight discover``: find new shows (Podcast Index trending, Apple and Podcast Index
search), store them as source records and add them to the sources file so later
syncs follow them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from podsight.sources.connector import Connector, connector_class, make_connector
from podsight.sources.http import ApiError, SourceNotConfigured
from podsight.sources.payloads import record_payloads
from podsight.sources.records import Normalized, ShowRecord
from podsight.sources.store import StoreReport
from podsight.sources.sync import ShowSpec, append_to_sources_file, store_and_record

__all__ = ["SEARCHED", "DiscoverReport", "discover_search", "discover_trending", "spec_for"]

# Sources `discover search` asks, in this order: their records carry strong keys (feed
# URL, iTunes id), so a found show joins its feed's channel. Spotify and YouTube records
# carry none, and a YouTube search costs 100 of the day's 10,000 quota units.
SEARCHED = ("apple", "podcastindex")


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
    setattr(spec, connector_class(show.source).spec_field, show.external_id)
    return spec


Call = Callable[[Any], Normalized]


def _run(calls: dict[str, Call], sources_file: Path, report: DiscoverReport) -> DiscoverReport:
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
    def search(connector: Connector) -> Normalized:
        return connector.search(term, limit=limit)

    return _run({s: search for s in SEARCHED}, sources_file, DiscoverReport())
