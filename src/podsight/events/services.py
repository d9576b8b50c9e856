"""Accepting listening events: check each item, resolve what it names, store the valid
ones in the durable log, and say what happened to every item."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from podsight.events.log import EventLog, Record, open_log
from podsight.events.resolve import Resolver, Target
from podsight.events.schema import CHANNEL_TYPES, Checked, check_item
from podsight.lake.tables import DURATION_SLACK, DURATION_SLACK_S
from podsight.sources.models import CandidateKind, CatalogCandidate

__all__ = ["IngestResult", "ingest", "reference_key", "resolver"]


resolver = Resolver()


@dataclass
class IngestResult:
    accepted: int = 0
    duplicates: list[str] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)
    # Items kept without some field that does not apply to their type.
    warnings: list[dict[str, Any]] = field(default_factory=list)
    candidates: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "accepted": self.accepted,
            "duplicates": self.duplicates,
            "rejected": len(self.errors),
            "errors": self.errors,
            "warnings": self.warnings,
        }


def reference_key(item: Checked) -> tuple:
    if item.episode is not None:
        return ("episode", item.episode)
    if item.source is not None:
        return ("external", item.source, item.external_id)
    if item.enclosure_url is not None:
        return ("enclosure", item.feed_url, item.enclosure_url)
    if item.channel is not None:
        return ("channel", item.channel)
    return ("feed", item.feed_url)


def _micros(when: datetime) -> int:
    return int(when.timestamp() * 1_000_000)


def _payload(
    item: Checked, target: Target | None, client: str, received_us: int, occurred_us: int
) -> bytes:
    duration = item.duration_s
    if duration is None and target is not None and target.duration_s:
        duration = float(target.duration_s)
    return orjson.dumps(
        {
            "event_id": item.event_id,
            "user_id": item.user_id,
            "type": item.type,
            "occurred_us": occurred_us,
            "received_us": received_us,
            "episode_id": target.episode_id if target else None,
            "channel_id": target.channel_id if target else None,
            "position_s": item.position_s,
            "duration_s": duration,
            "rating": item.rating,
            "device": item.device,
            "session_id": item.session_id,
            "client": client,
            "feed_url": item.feed_url,
            "enclosure_url": item.enclosure_url,
            "source": item.source,
            "external_id": item.external_id,
        }
    )


def _error(index: int, item: Any, errors: dict[str, list[str]]) -> dict[str, Any]:
    event_id = item.get("event_id") if isinstance(item, dict) else None
    return {
        "index": index,
        "event_id": event_id if isinstance(event_id, str) else None,
        "errors": errors,
    }


def ingest(
    items: list[Any],
    *,
    client: str,
    log: EventLog | None = None,
    keep_unknown: str | None = None,
    now: datetime | None = None,
    for_user: str | None = None,
) -> IngestResult:
    """Check, resolve and durably store a batch; returns what happened to each item.

    Unknown episodes and shows are per-item errors, unless ``keep_unknown`` names an
    origin (e.g. ``"gpodder"``): then the event is kept with what it named and the
    feed or episode becomes a :class:`CatalogCandidate`.
    ``for_user`` (a token tied to a user): items without ``user_id`` are that user's, items
    naming another user are errors.
    Raises :class:`~podsight.events.log.LogUnavailable` when the log did not store the
    batch (nothing of it may then be reported as accepted)."""
    now = now or datetime.now(UTC)
    result = IngestResult()
    checked: list[tuple[int, Checked]] = []
    first_index: dict[str, int] = {}
    for index, raw in enumerate(items):
        item, errors = check_item(raw, now, for_user=for_user)
        if item is None:
            result.errors.append(_error(index, raw, errors))
            continue
        if item.warnings:
            result.warnings.append(
                {"index": index, "event_id": item.event_id, "warnings": item.warnings}
            )
        earlier = first_index.get(item.event_id)
        if earlier is not None:
            result.errors.append(
                _error(
                    index,
                    raw,
                    {"event_id": [f"repeats item {earlier} of this batch (that one is kept)"]},
                )
            )
            continue
        first_index[item.event_id] = index
        checked.append((index, item))

    keys = [reference_key(item) for _, item in checked]
    targets = resolver.resolve(keys)
    received_us = _micros(now)
    records: list[Record] = []
    unknown: list[Checked] = []
    for (index, item), key in zip(checked, keys, strict=True):
        target = targets.get(key)
        if target is None or (target.episode_id is None and item.type not in CHANNEL_TYPES):
            if keep_unknown is None:
                result.errors.append(
                    _error(index, {"event_id": item.event_id}, _unknown_message(key, target))
                )
                continue
            unknown.append(item)
        elif (
            item.position_s is not None
            and item.duration_s is None
            and target.duration_s
            and item.position_s > target.duration_s * DURATION_SLACK + DURATION_SLACK_S
        ):
            result.errors.append(
                _error(
                    index,
                    {"event_id": item.event_id},
                    {
                        "position_s": [
                            f"{item.position_s:g} s is beyond the episode's duration "
                            f"({target.duration_s} s in the catalog)"
                        ]
                    },
                )
            )
            continue
        occurred_us = _micros(item.occurred_at)
        payload = _payload(item, target, client, received_us, occurred_us)
        records.append(Record(item.event_id, item.user_id, payload, occurred_us))

    log = log or open_log()
    appended = log.append(records)
    result.duplicates = sorted(appended.duplicates)
    result.accepted = appended.stored
    if unknown and keep_unknown:
        result.candidates = note_candidates(unknown, keep_unknown)
    result.errors.sort(key=lambda e: e["index"])
    return result


def _unknown_message(key: tuple, target: Target | None) -> dict[str, list[str]]:
    kind = key[0]
    if kind == "episode":
        return {"episode": [f"no episode {key[1]} in the catalog"]}
    if kind == "channel":
        return {"channel": [f"no show {key[1]} in the catalog"]}
    if kind == "external":
        return {"external_id": [f"no {key[1]} episode {key[2]!r} in the catalog"]}
    if kind == "enclosure" and target is not None:
        return {"enclosure_url": ["the catalog holds this feed but no episode with this enclosure"]}
    if kind == "enclosure":
        return {"feed_url": ["the catalog does not hold this feed"]}
    return {"feed_url": ["the catalog does not hold this feed"]}


def note_candidates(items: list[Checked], origin: str) -> int:
    """Count unknown feeds and episodes as catalog candidates; returns how many were new."""
    now = timezone.now()
    wanted: dict[tuple[str, str, str], int] = {}
    for item in items:
        if item.feed_url is None:
            continue
        if item.enclosure_url is not None and item.type not in CHANNEL_TYPES:
            key = (CandidateKind.EPISODE, item.feed_url, item.enclosure_url)
        else:
            key = (CandidateKind.FEED, item.feed_url, "")
        wanted[key] = wanted.get(key, 0) + 1
    new = 0
    with transaction.atomic():
        for (kind, feed_url, episode_url), count in wanted.items():
            updated = CatalogCandidate.objects.filter(
                kind=kind, feed_url=feed_url, episode_url=episode_url
            ).update(mentions=F("mentions") + count, last_seen_at=now)
            if not updated:
                CatalogCandidate.objects.create(
                    kind=kind,
                    feed_url=feed_url,
                    episode_url=episode_url,
                    origin=origin,
                    mentions=count,
                    first_seen_at=now,
                    last_seen_at=now,
                )
                new += 1
    return new
