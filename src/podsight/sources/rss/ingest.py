"""Ingest RSS/Atom feeds (URLs, files, folders) into per-source records and the catalog.

One feed is one transaction: a feed that cannot be fetched or read is recorded
on its :class:`~podsight.sources.models.Feed` row with the reason, and the run
goes on. Re-ingesting an unchanged feed writes nothing but the feed's check time.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils import timezone
from rich.console import Console
from rich.markup import escape

from podsight.catalog.models import Channel, Episode
from podsight.catalog.services import apply_channel_values, episode_values_for, refresh_episodes
from podsight.progress import step_progress
from podsight.sources.models import Feed, LinkMethod, Source, SourceChannel, SourceEpisode
from podsight.sources.rss.fetch import FetchRequest, FetchResult, fetch_feeds
from podsight.sources.rss.model import ParsedChannel, ParsedEpisode, ParseResult
from podsight.sources.rss.parser import FeedParseError, parse_feed
from podsight.sources.store import OWN_IDENTITY, content_hash, link_or_create_channel, sync_keys

__all__ = ["FeedOutcome", "IngestReport", "expand_locations", "ingest_feeds", "store_feed"]

log = logging.getLogger(__name__)

# Files in a folder that are feeds; anything else (JSON expectations, XSDs, notes) is skipped.
FEED_SUFFIXES = {".xml", ".rss", ".atom", ".rdf", ".feed"}


@dataclass
class FeedOutcome:
    location: str
    status: str  # new | updated | unchanged | not-modified | failed
    title: str = ""
    episodes_total: int = 0
    episodes_new: int = 0
    episodes_updated: int = 0
    episodes_vanished: int = 0
    repairs: list[str] = field(default_factory=list)
    error: str = ""
    channel_id: int | None = None

    @property
    def failed(self) -> bool:
        return self.status == "failed"


@dataclass
class IngestReport:
    outcomes: list[FeedOutcome]

    @property
    def all_failed(self) -> bool:
        return bool(self.outcomes) and all(o.failed for o in self.outcomes)

    def count(self, status: str) -> int:
        return sum(1 for o in self.outcomes if o.status == status)


def _is_url(location: str) -> bool:
    return "://" in location and not location.startswith("file://")


def expand_locations(locations: Iterable[str]) -> list[str]:
    """URLs stay as they are; folders become their feed files (recursively), sorted."""
    out: list[str] = []
    for location in locations:
        if _is_url(location):
            out.append(location)
            continue
        path = Path(location.removeprefix("file://")).expanduser()
        if path.is_dir():
            out.extend(
                str(p)
                for p in sorted(path.rglob("*"))
                if p.is_file() and p.suffix.lower() in FEED_SUFFIXES
            )
        else:
            out.append(str(path))
    return list(dict.fromkeys(out))


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    return value


def channel_data(channel: ParsedChannel) -> dict[str, Any]:
    data = _jsonable(dataclasses.asdict(channel))
    data["categories"] = [list(c.path) for c in channel.categories]
    return data


def episode_data(episode: ParsedEpisode) -> dict[str, Any]:
    return _jsonable(dataclasses.asdict(episode))


def _find_feed(location: str) -> Feed:
    feed = Feed.objects.filter(url=location).first()
    if feed is None:
        # A feed that moved permanently is still found under its old address.
        for candidate in Feed.objects.filter(previous_urls__icontains=location):
            if location in candidate.previous_urls:
                return candidate
        feed = Feed.objects.create(url=location)
    return feed


def _record_failure(feed: Feed, error: str, http_status: int | None, now: datetime) -> None:
    feed.last_checked_at = now
    feed.last_status = "failed"
    feed.last_http_status = http_status
    feed.last_error = error
    feed.consecutive_failures += 1
    feed.save()


def store_feed(feed: Feed, result: ParseResult, *, fetched_at: datetime) -> FeedOutcome:
    """Write one parsed feed: its source records, and canonical clusters for new ones."""
    outcome = FeedOutcome(location=feed.url, status="unchanged", repairs=list(result.repairs))
    with transaction.atomic():
        cdata = channel_data(result.channel)
        chash = content_hash(cdata)
        record = feed.source_channel
        if record is None:
            record = SourceChannel.objects.filter(source=Source.RSS, external_id=feed.url).first()
        url = result.channel.self_url or feed.url
        if record is None:
            record = SourceChannel.objects.create(
                source=Source.RSS,
                external_id=feed.url,
                url=url,
                data=cdata,
                content_hash=chash,
                fetched_at=fetched_at,
            )
            # Another source (Apple's feedUrl, Podcast Index) may already know this feed.
            link_or_create_channel(record, now=fetched_at)
            outcome.status = "new"
        elif record.content_hash != chash or record.vanished_at is not None or record.url != url:
            record.data, record.content_hash, record.url = cdata, chash, url
            record.fetched_at, record.vanished_at = fetched_at, None
            record.save()
            sync_keys(record)
            if record.channel_id is not None:
                channel = Channel.objects.get(pk=record.channel_id)
                apply_channel_values(channel, list(channel.source_records.all()))
            outcome.status = "updated"
        if feed.source_channel_id != record.pk:
            feed.source_channel = record
        canonical_channel_id = record.channel_id
        if canonical_channel_id is not None:
            survivor = (
                Channel.objects.filter(pk=canonical_channel_id)
                .values_list("merged_into_id", flat=True)
                .first()
            )
            canonical_channel_id = survivor or canonical_channel_id

        changes = _store_episodes(record, canonical_channel_id, result, fetched_at)
        outcome.episodes_new, outcome.episodes_updated, outcome.episodes_vanished = changes
        outcome.episodes_total = len(_unique_identities(result.episodes))
        if outcome.status == "unchanged" and any(changes):
            outcome.status = "updated"

        feed.last_status = "ok"
        feed.last_error = ""
        feed.consecutive_failures = 0
        feed.repairs = list(result.repairs)
        feed.last_checked_at = fetched_at
        feed.save()
    outcome.title = result.channel.title or ""
    outcome.channel_id = canonical_channel_id
    return outcome


def _unique_identities(episodes: Sequence[ParsedEpisode]) -> dict[str, ParsedEpisode]:
    """Identity → episode. Publishers sometimes reuse one guid for different items; the
    first keeps the identity, later ones with another title get a title-derived suffix
    (stable across runs) so nothing is lost. True repeats are dropped."""
    out: dict[str, ParsedEpisode] = {}
    for episode in episodes:
        first = out.get(episode.identity)
        if first is None:
            out[episode.identity] = episode
        elif first.title != episode.title:
            digest = hashlib.sha1((episode.title or "").encode()).hexdigest()[:12]
            out.setdefault(f"{episode.identity}#{digest}", episode)
    return out


def _store_episodes(
    record: SourceChannel, channel_id: int | None, result: ParseResult, now: datetime
) -> tuple[int, int, int]:
    parsed = _unique_identities(result.episodes)
    existing = {r.external_id: r for r in record.episodes.all()}

    new_records: list[SourceEpisode] = []
    changed: list[SourceEpisode] = []
    for identity, episode in parsed.items():
        data = episode_data(episode)
        digest = content_hash(data)
        current = existing.get(identity)
        if current is None:
            new_records.append(
                SourceEpisode(
                    source=Source.RSS,
                    external_id=identity,
                    source_channel=record,
                    url=episode.link or episode.enclosure_url or "",
                    data=data,
                    content_hash=digest,
                    fetched_at=now,
                    link_method=LinkMethod.KEY,
                    link_confidence=1.0,
                    link_explanation=OWN_IDENTITY,
                    linked_at=now,
                )
            )
        elif current.content_hash != digest or current.vanished_at is not None:
            current.data, current.content_hash = data, digest
            current.url = episode.link or episode.enclosure_url or ""
            current.fetched_at, current.vanished_at = now, None
            changed.append(current)

    vanished: list[SourceEpisode] = []
    if result.complete:  # a cut-short document says nothing about the items it lost
        for identity, current in existing.items():
            if identity not in parsed and current.vanished_at is None:
                current.vanished_at = now
                vanished.append(current)

    if new_records:
        if channel_id is None:
            raise RuntimeError(f"source channel {record.pk} has no canonical channel")
        episodes = []
        for source_episode in new_records:
            episodes.append(Episode(channel_id=channel_id, **episode_values_for([source_episode])))
        Episode.objects.bulk_create(episodes, batch_size=500)
        for source_episode, episode in zip(new_records, episodes, strict=True):
            source_episode.episode = episode
        SourceEpisode.objects.bulk_create(new_records, batch_size=500)
    touched = changed + vanished
    if touched:
        SourceEpisode.objects.bulk_update(
            touched, ["data", "content_hash", "url", "fetched_at", "vanished_at"], batch_size=500
        )
        refresh_episodes(r.episode_id for r in touched if r.episode_id is not None)
    return len(new_records), len(changed), len(vanished)


def ingest_feeds(
    locations: Sequence[str],
    *,
    concurrency: int = 8,
    console: Console | None = None,
    progress: bool = True,
) -> IngestReport:
    """Fetch (URLs) or read (files), parse and store every feed; never stops at one failure."""
    console = console or Console(stderr=True)
    targets = expand_locations(locations)
    feeds = {location: _find_feed(_feed_key(location)) for location in targets}

    fetched: dict[str, FetchResult] = {}
    urls = [loc for loc in targets if _is_url(loc)]
    if urls:
        requests = [
            FetchRequest(
                url=feeds[u].url,
                etag=feeds[u].etag or None,
                last_modified=feeds[u].last_modified or None,
            )
            for u in urls
        ]
        results = fetch_feeds(requests, concurrency=concurrency, progress=progress, console=console)
        fetched = dict(zip(urls, results, strict=True))

    outcomes: list[FeedOutcome] = []
    with step_progress("ingest", console, enabled=progress) as bar:
        task = bar.add_task("", total=len(targets))
        for location in targets:
            bar.update(task, description=escape(location[-60:]))
            outcomes.append(_ingest_one(feeds[location], location, fetched.get(location)))
            bar.advance(task)
    return IngestReport(outcomes)


def _feed_key(location: str) -> str:
    return location if _is_url(location) else Path(location).expanduser().resolve().as_uri()


def _ingest_one(feed: Feed, location: str, fetch: FetchResult | None) -> FeedOutcome:
    now = timezone.now()
    http_charset = None
    source_url: str | None = None
    if fetch is not None:
        if fetch.error is not None:
            _record_failure(feed, str(fetch.error), fetch.status, now)
            return FeedOutcome(location=location, status="failed", error=str(fetch.error))
        _remember_http_state(feed, fetch, now)
        if fetch.not_modified:
            feed.last_status = "not-modified"
            feed.last_error = ""
            feed.consecutive_failures = 0
            feed.save()
            title = feed.source_channel.data.get("title", "") if feed.source_channel else ""
            return FeedOutcome(location=location, status="not-modified", title=title or "")
        body = fetch.content or b""
        http_charset = fetch.charset
        source_url = feed.url
    else:
        try:
            body = Path(location).expanduser().read_bytes()
        except OSError as exc:
            message = f"cannot read {location}: {exc.strerror or exc}"
            _record_failure(feed, message, None, now)
            return FeedOutcome(location=location, status="failed", error=message)
    try:
        result = parse_feed(body, url=source_url, http_charset=http_charset)
    except FeedParseError as exc:
        _record_failure(feed, str(exc), fetch.status if fetch else None, now)
        return FeedOutcome(location=location, status="failed", error=str(exc))
    outcome = store_feed(feed, result, fetched_at=now)
    outcome.location = location
    return outcome


def _remember_http_state(feed: Feed, fetch: FetchResult, now: datetime) -> None:
    feed.last_checked_at = now
    feed.last_http_status = fetch.status
    if not fetch.not_modified:
        feed.etag = fetch.etag or ""
        feed.last_modified = fetch.last_modified or ""
    if fetch.permanent_redirect and fetch.permanent_redirect != feed.url:
        if Feed.objects.filter(url=fetch.permanent_redirect).exclude(pk=feed.pk).exists():
            log.warning(
                "feed %s moved to %s, which is already known", feed.url, fetch.permanent_redirect
            )
        else:
            log.info("feed %s moved permanently to %s", feed.url, fetch.permanent_redirect)
            feed.previous_urls = [*feed.previous_urls, feed.url]
            feed.url = fetch.permanent_redirect
    feed.save()
