"""Store normalised API records as per-source records, linked to the canonical catalog.

Linking here is by *strong key* only:

- a show record sharing a key (normalised feed URL, podcast:guid, iTunes id, Podcast
  Index id; see :mod:`podsight.sources.keys`) with a record that already has a
  canonical channel joins that channel (method ``key``, confidence 1.0, and an
  explanation naming the key and the other record);
- an episode record sharing its guid or enclosure URL with an episode record of
  the same canonical channel joins that canonical episode.

Everything else becomes its own canonical cluster of one, exactly like a new RSS
feed. Records without keys (Spotify, YouTube) are therefore never merged here;
fuzzy matching, which may merge clusters, is a separate step.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import connection, transaction

from podsight.catalog.models import Channel, Episode
from podsight.catalog.services import apply_channel_values, episode_values_for, refresh_episodes
from podsight.lake.metrics import MetricSnapshot
from podsight.sources.keys import KEY_LABELS, KEY_ORDER, channel_keys, normalise_media_url
from podsight.sources.models import LinkMethod, SourceChannel, SourceEpisode, SourceKey
from podsight.sources.records import EpisodeRecord, Normalized, ShowRecord

__all__ = [
    "OWN_IDENTITY",
    "StoreReport",
    "content_hash",
    "link_or_create_channel",
    "metric_snapshots",
    "store_normalized",
    "sync_keys",
]

OWN_IDENTITY = "canonical record created from this source record (cluster of one)"


@dataclass
class StoreReport:
    shows_new: int = 0
    shows_updated: int = 0
    shows_unchanged: int = 0
    shows_linked_by_key: int = 0
    episodes_new: int = 0
    episodes_updated: int = 0
    episodes_unchanged: int = 0
    episodes_vanished: int = 0
    episodes_linked_by_key: int = 0
    orphan_episodes: int = 0  # episodes whose show record was not in the batch nor stored
    channel_ids: dict[str, int] = field(default_factory=dict)  # show external id → canonical

    def add(self, other: StoreReport) -> StoreReport:
        for name in self.__dataclass_fields__:
            value = getattr(other, name)
            if isinstance(value, int):
                setattr(self, name, getattr(self, name) + value)
        self.channel_ids.update(other.channel_ids)
        return self


def content_hash(data: dict[str, Any]) -> str:
    blob = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(blob.encode()).hexdigest()


def _survivor(channel_id: int | None) -> int | None:
    seen: set[int] = set()
    while channel_id is not None and channel_id not in seen:
        seen.add(channel_id)
        nxt = Channel.objects.filter(pk=channel_id).values_list("merged_into_id", flat=True).first()
        if nxt is None:
            return channel_id
        channel_id = nxt
    return channel_id


def sync_keys(record: SourceChannel) -> set[tuple[str, str]]:
    """Make the record's SourceKey rows match its data; returns its keys."""
    wanted = channel_keys(record.source, record.external_id, record.data)
    existing = {(k.kind, k.value): k.pk for k in record.keys.all()}
    stale = [pk for key, pk in existing.items() if key not in wanted]
    if stale:
        SourceKey.objects.filter(pk__in=stale).delete()
    SourceKey.objects.bulk_create(
        [SourceKey(kind=k, value=v, record=record) for k, v in wanted if (k, v) not in existing]
    )
    return wanted


def _key_match(record: SourceChannel, keys: set[tuple[str, str]]) -> tuple[int, str] | None:
    """The canonical channel another record shares a strong key with, and why."""
    if not keys:
        return None
    for kind in KEY_ORDER:
        values = sorted(v for k, v in keys if k == kind)
        if not values:
            continue
        hit = (
            SourceKey.objects.filter(kind=kind, value__in=values, record__channel__isnull=False)
            .exclude(record=record)
            .select_related("record")
            .order_by("record_id")
            .first()
        )
        if hit is not None:
            other = hit.record
            why = f"shares {KEY_LABELS[kind]} {hit.value} with {other.source}:{other.external_id}"
            survivor = _survivor(other.channel_id)
            if survivor is not None:
                return survivor, why
    return None


def _lock_keys(keys: set[tuple[str, str]]) -> None:
    """On PostgreSQL, link records that share a key one at a time (until commit): two
    parallel runs creating records with a common key would otherwise both miss the other's
    uncommitted key and make two channels. SQLite's single writer needs no lock."""
    if connection.vendor != "postgresql" or not keys:
        return
    ids = sorted(  # sorted: two transactions never wait on each other's locks in a cycle
        {
            int.from_bytes(hashlib.sha256(f"{k}\0{v}".encode()).digest()[:8], "big", signed=True)
            for k, v in keys
        }
    )
    with connection.cursor() as cursor:
        for lock_id in ids:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [lock_id])


def link_or_create_channel(record: SourceChannel, *, now: datetime) -> bool:
    """Give a new, saved record its canonical channel; returns whether a key linked it."""
    _lock_keys(channel_keys(record.source, record.external_id, record.data))
    keys = sync_keys(record)
    match = _key_match(record, keys)
    if match is not None:
        channel_id, why = match
        channel = Channel.objects.get(pk=channel_id)
        record.channel = channel
        record.link_method, record.link_confidence, record.link_explanation = (
            LinkMethod.KEY,
            1.0,
            why,
        )
        record.linked_at = now
        record.save()
        apply_channel_values(channel, list(channel.source_records.all()))
        return True
    channel = Channel()
    apply_channel_values(channel, [record])
    record.channel = channel
    record.link_method, record.link_confidence, record.link_explanation = (
        LinkMethod.KEY,
        1.0,
        OWN_IDENTITY,
    )
    record.linked_at = now
    record.save()
    return False


def _store_show(show: ShowRecord, now: datetime, report: StoreReport) -> SourceChannel:
    digest = content_hash(show.data)
    record = SourceChannel.objects.filter(source=show.source, external_id=show.external_id).first()
    if record is None:
        record = SourceChannel.objects.create(
            source=show.source,
            external_id=show.external_id,
            url=show.url,
            data=show.data,
            content_hash=digest,
            fetched_at=now,
        )
        report.shows_new += 1
        if link_or_create_channel(record, now=now):
            report.shows_linked_by_key += 1
    elif record.content_hash != digest or record.vanished_at is not None or record.url != show.url:
        record.data, record.content_hash, record.url = show.data, digest, show.url
        record.fetched_at, record.vanished_at = now, None
        record.save()
        sync_keys(record)
        if record.channel_id is None:
            if link_or_create_channel(record, now=now):
                report.shows_linked_by_key += 1
        else:
            channel = Channel.objects.get(pk=record.channel_id)
            apply_channel_values(channel, list(channel.source_records.all()))
        report.shows_updated += 1
    else:
        report.shows_unchanged += 1
    return record


def _episode_index(channel_id: int, exclude_record: int) -> dict[tuple[str, str], tuple[int, str]]:
    """(key kind, value) → (canonical episode id, "source:external_id") within a channel."""
    index: dict[tuple[str, str], tuple[int, str]] = {}
    rows = (
        SourceEpisode.objects.filter(source_channel__channel_id=channel_id, episode__isnull=False)
        .exclude(source_channel_id=exclude_record)
        .values_list("episode_id", "source", "external_id", "data")
        .order_by("id")
    )
    for episode_id, source, external_id, data in rows:
        label = f"{source}:{external_id}"
        guid = (data or {}).get("guid")
        if isinstance(guid, str) and guid.strip():
            index.setdefault(("guid", guid.strip()), (episode_id, label))
        enclosure = normalise_media_url((data or {}).get("enclosure_url"))
        if enclosure:
            index.setdefault(("enclosure_url", enclosure), (episode_id, label))
    return index


def _episode_key_match(
    data: dict[str, Any], index: dict[tuple[str, str], tuple[int, str]]
) -> tuple[int, str] | None:
    guid = data.get("guid")
    if isinstance(guid, str) and guid.strip():
        hit = index.get(("guid", guid.strip()))
        if hit:
            return hit[0], f"shares episode guid {guid.strip()} with {hit[1]}"
    enclosure = normalise_media_url(data.get("enclosure_url"))
    if enclosure:
        hit = index.get(("enclosure_url", enclosure))
        if hit:
            return hit[0], f"shares enclosure URL {enclosure} with {hit[1]}"
    return None


def _store_episodes(
    record: SourceChannel,
    episodes: Sequence[EpisodeRecord],
    *,
    complete: bool,
    now: datetime,
    report: StoreReport,
) -> None:
    channel_id = _survivor(record.channel_id)
    existing = {r.external_id: r for r in record.episodes.all()}
    index: dict[tuple[str, str], tuple[int, str]] | None = None
    changed: list[SourceEpisode] = []
    # New records, written in bulk after the loop: those that need a canonical episode of
    # their own, and those that joined another record's episode by a shared key.
    created: list[SourceEpisode] = []
    own: list[SourceEpisode] = []
    linked: list[SourceEpisode] = []
    seen: set[str] = set()
    for item in episodes:
        if item.external_id in seen:
            continue
        seen.add(item.external_id)
        digest = content_hash(item.data)
        current = existing.get(item.external_id)
        if current is None:
            source_episode = SourceEpisode(
                source=item.source,
                external_id=item.external_id,
                source_channel=record,
                url=item.url,
                data=item.data,
                content_hash=digest,
                fetched_at=now,
                linked_at=now,
                link_method=LinkMethod.KEY,
                link_confidence=1.0,
            )
            if index is None and channel_id is not None:
                index = _episode_index(channel_id, record.pk)
            match = _episode_key_match(item.data, index or {}) if channel_id else None
            if match is not None:
                source_episode.episode_id, source_episode.link_explanation = match
                report.episodes_linked_by_key += 1
                linked.append(source_episode)
            elif channel_id is not None:
                own.append(source_episode)
            created.append(source_episode)
            report.episodes_new += 1
        elif (current.content_hash, current.url, current.vanished_at) != (digest, item.url, None):
            current.data, current.content_hash, current.url = item.data, digest, item.url
            current.fetched_at, current.vanished_at = now, None
            changed.append(current)
            report.episodes_updated += 1
        else:
            report.episodes_unchanged += 1
    if own:
        rows = [Episode(channel_id=channel_id, **episode_values_for([r])) for r in own]
        Episode.objects.bulk_create(rows, batch_size=500)
        for source_episode, episode in zip(own, rows, strict=True):
            source_episode.episode = episode
            source_episode.link_explanation = OWN_IDENTITY
    SourceEpisode.objects.bulk_create(created, batch_size=500)
    if linked:
        refresh_episodes({r.episode_id for r in linked})
    vanished: list[SourceEpisode] = []
    if complete:
        for external_id, current in existing.items():
            if external_id not in seen and current.vanished_at is None:
                current.vanished_at = now
                vanished.append(current)
        report.episodes_vanished += len(vanished)
    touched = changed + vanished
    if touched:
        SourceEpisode.objects.bulk_update(
            touched, ["data", "content_hash", "url", "fetched_at", "vanished_at"], batch_size=500
        )
        refresh_episodes(r.episode_id for r in touched if r.episode_id is not None)


def store_normalized(result: Normalized, *, fetched_at: datetime) -> StoreReport:
    """Write one connector result; one transaction per show, so a failure loses one show."""
    report = StoreReport()
    by_show: dict[tuple[str, str], list[EpisodeRecord]] = {}
    for episode in result.episodes:
        by_show.setdefault((episode.source, episode.show_external_id), []).append(episode)
    shows = {(s.source, s.external_id): s for s in result.shows}
    for key in list(by_show):
        if key not in shows:
            shows.setdefault(key, None)  # type: ignore[arg-type]
    for (source, external_id), show in shows.items():
        with transaction.atomic():
            if show is not None:
                record = _store_show(show, fetched_at, report)
            else:
                record = SourceChannel.objects.filter(
                    source=source, external_id=external_id
                ).first()
                if record is None:
                    report.orphan_episodes += len(by_show.get((source, external_id), []))
                    continue
            episodes = by_show.get((source, external_id), [])
            if episodes or external_id in result.complete_shows:
                _store_episodes(
                    record,
                    episodes,
                    complete=external_id in result.complete_shows,
                    now=fetched_at,
                    report=report,
                )
            if record.channel_id is not None:
                report.channel_ids[external_id] = _survivor(record.channel_id) or record.channel_id
    return report


def metric_snapshots(result: Normalized, observed_at: datetime) -> Iterable[MetricSnapshot]:
    """One snapshot per metric of every record in the result."""
    for show in result.shows:
        for metric, value in show.metrics.items():
            if value is not None:
                yield MetricSnapshot(
                    show.source, "channel", show.external_id, metric, float(value), observed_at
                )
    for episode in result.episodes:
        for metric, value in episode.metrics.items():
            if value is not None:
                yield MetricSnapshot(
                    episode.source,
                    "episode",
                    episode.external_id,
                    metric,
                    float(value),
                    observed_at,
                )
