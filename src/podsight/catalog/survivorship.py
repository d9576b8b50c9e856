"""Survivorship: which linked source record supplies each canonical field.

After matching, one canonical episode can hold an RSS item, a Spotify episode and a
YouTube video (and Podcast Index / Apple copies). Each canonical field is picked from
those records by one rule (:data:`EPISODE_RULES`, :data:`CHANNEL_RULES`):

- ``priority`` (most fields): the first record, in :data:`SOURCE_PRIORITY` order (RSS,
  Podcast Index, Apple, Spotify, YouTube; then external id), with a non-empty value
  wins. RSS comes first: it is the publisher's own statement of enclosure, description
  and numbering.
- ``earliest_reliable`` (``published_at``): the earliest date among *full releases*,
  i.e. records whose kind (:func:`record_kind`) is ``episode``, ``trailer`` or
  ``bonus`` or not given; a ``clip``, ``short`` or ``live`` record is a cut or a
  broadcast of the episode, not its release, so its date counts only when no full
  release has one. A date is either *precise* (a timestamp) or *coarse*: a record whose
  ``published_precision`` is ``day``, ``month`` or ``year`` (Spotify's
  ``release_date_precision``), and every Spotify record, whose ``release_date`` never
  has a time of day. A coarse date is ranked by the end of its period plus 12 hours of
  time-zone slack (:data:`COARSE_SLACK`), so a day-precision midnight loses to a precise
  timestamp up to 36 hours after it: it is not earlier, only coarser. It wins when
  every precise timestamp is later than that (a platform that really released first).
  Among coarse dates only, the earliest wins, and a day inside a month-precision
  date's month wins over it. YouTube upload times are precise and count like any
  other, although a premiere can be uploaded before the feed's release.
- ``longest`` (``duration_s``): the longest duration among records that are not
  ``clip``, ``short`` or ``trailer``; the full content is the longest one (RSS audio
  carries dynamically inserted ads, video uploads may trim them, a clip is a part).
  A value more than :data:`OUTLIER_FACTOR` × the median of the other values is ignored
  (a live-stream VOD or a compilation linked to the episode). Records of trailer kind
  supply the duration only when no other kind has one (a trailer's own canonical
  episode), clips and shorts only when nothing else has one. Zero (unknown) durations
  lose to any positive one.

On ties the earlier record in priority order wins, so results do not depend on the
order records are given in. ``field_sources`` maps each canonical field to
``"<source>:<external_id>"`` of the record its value came from, whatever the rule.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

__all__ = [
    "CHANNEL_RULES",
    "COARSE_SLACK",
    "EPISODE_RULES",
    "NOT_A_RELEASE",
    "NOT_FULL_LENGTH",
    "OUTLIER_FACTOR",
    "SOURCE_PRIORITY",
    "date_precision",
    "record_kind",
    "survive",
]

SOURCE_PRIORITY = ("rss", "podcastindex", "apple", "spotify", "youtube")

# Kinds whose date is not the episode's release (published_at).
NOT_A_RELEASE = frozenset({"clip", "short", "live"})
# Kinds whose length is not the episode's (duration_s); trailers only for trailer episodes.
NOT_FULL_LENGTH = frozenset({"clip", "short", "trailer"})
# A coarse date also covers this much after its period: the source's day may be local time.
COARSE_SLACK = timedelta(hours=12)
# A duration this many times the median of the others is a different thing (VOD, compilation).
OUTLIER_FACTOR = 3

CHANNEL_RULES: dict[str, str] = {
    "title": "priority",
    "description_html": "priority",
    "description_text": "priority",
    "link": "priority",
    "language": "priority",
    "author": "priority",
    "owner_name": "priority",
    "owner_email": "priority",
    "image_url": "priority",
    "explicit": "priority",
    "itunes_type": "priority",
    "podcast_guid": "priority",
    "funding": "priority",
    "persons": "priority",
    "categories": "priority",
}

EPISODE_RULES: dict[str, str] = {
    "guid": "priority",
    "title": "priority",
    "description_html": "priority",
    "description_text": "priority",
    "published_at": "earliest_reliable",
    "duration_s": "longest",
    "enclosure_url": "priority",
    "enclosure_type": "priority",
    "enclosure_length": "priority",
    "episode_number": "priority",
    "season_number": "priority",
    "episode_type": "priority",
    "explicit": "priority",
    "image_url": "priority",
    "link": "priority",
    "transcripts": "priority",
    "chapters": "priority",
    "persons": "priority",
}

_COARSE = ("day", "month", "year")

Record = tuple[str, str, Mapping[str, Any]]
Candidate = tuple[str, str, Any]


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def _rank(source: str) -> int:
    try:
        return SOURCE_PRIORITY.index(source)
    except ValueError:
        return len(SOURCE_PRIORITY)


def record_kind(data: Mapping[str, Any]) -> str:
    """The record's ``kind``; RSS items, which have none, by ``episode_type``; else episode."""
    kind = data.get("kind")
    if isinstance(kind, str) and kind.strip():
        return kind.strip().lower()
    episode_type = data.get("episode_type")
    if isinstance(episode_type, str) and episode_type.strip().lower() in ("trailer", "bonus"):
        return episode_type.strip().lower()
    return "episode"


def date_precision(source: str, data: Mapping[str, Any]) -> str | None:
    """``day``/``month``/``year`` for a coarse ``published_at``, ``None`` for a timestamp."""
    precision = data.get("published_precision")
    if precision in _COARSE:
        return precision
    if source == "spotify":  # release_date is a calendar date, even when the flag is missing
        return "day"
    return None


def survive(
    records: Iterable[Record], rules: Mapping[str, str]
) -> tuple[dict[str, Any], dict[str, str]]:
    """Pick canonical values from ``(source, external_id, data)`` records.

    Returns ``(values, field_sources)``; fields no record fills are absent from both.
    """
    ordered = sorted(records, key=lambda r: (_rank(r[0]), r[1]))
    # Priority fields in one pass over the records, each taking the first non-empty value
    # (records carry a few of the fields: cheaper than a scan of the records per field).
    first: dict[str, Candidate] = {}
    for source, external_id, data in ordered:
        for field, value in data.items():
            if field not in first and rules.get(field) == "priority" and not _empty(value):
                first[field] = (source, external_id, value)
    values: dict[str, Any] = {}
    origins: dict[str, str] = {}
    for field, rule in rules.items():
        if rule == "priority":
            chosen = first.get(field)
        elif rule == "earliest_reliable":
            chosen = _earliest_reliable(ordered, field)
        elif rule == "longest":
            chosen = _longest(ordered, field)
        else:
            raise ValueError(f"unknown survivorship rule {rule!r} for {field!r}")
        if chosen is None:
            continue
        source, external_id, value = chosen
        values[field] = value
        origins[field] = f"{source}:{external_id}"
    return values, origins


# --- published_at ------------------------------------------------------------------------


def _as_datetime(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.strip())
        except ValueError:
            return None
    else:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def _period_end(moment: datetime, precision: str) -> datetime:
    """The end of the day/month/year ``moment`` starts, plus :data:`COARSE_SLACK`."""
    try:
        if precision == "day":
            end = moment + timedelta(days=1)
        elif precision == "month":
            year, month = divmod(moment.month, 12)
            end = moment.replace(year=moment.year + year, month=month + 1, day=1)
        else:
            end = moment.replace(year=moment.year + 1, month=1, day=1)
        return end + COARSE_SLACK
    except (OverflowError, ValueError):
        return datetime.max.replace(tzinfo=UTC)


def _earliest_reliable(ordered: Sequence[Record], field: str) -> Candidate | None:
    dated: list[tuple[tuple[datetime, int, int], bool, Candidate]] = []
    for index, (source, external_id, data) in enumerate(ordered):
        value = data.get(field)
        moment = None if _empty(value) else _as_datetime(value)
        if moment is None:
            continue
        precision = date_precision(source, data)
        # A coarse date is ranked by the last moment it can stand for.
        latest = moment if precision is None else _period_end(moment, precision)
        key = (latest, 0 if precision is None else 1 + _COARSE.index(precision), index)
        release = record_kind(data) not in NOT_A_RELEASE
        dated.append((key, release, (source, external_id, value)))
    pool = [d for d in dated if d[1]] or dated
    return min(pool, key=lambda d: d[0])[2] if pool else None


# --- duration_s --------------------------------------------------------------------------


def _seconds(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) and value >= 0 else None


def _longest(ordered: Sequence[Record], field: str) -> Candidate | None:
    tiers: tuple[list[tuple[float, Candidate]], ...] = ([], [], [])
    for source, external_id, data in ordered:
        seconds = _seconds(data.get(field))
        if seconds is None:
            continue
        kind = record_kind(data)
        tier = 0 if kind not in NOT_FULL_LENGTH else 1 if kind == "trailer" else 2
        tiers[tier].append((seconds, (source, external_id, data[field])))
    pool = next((t for t in tiers if t), None)
    if pool is None:
        return None
    pool = [p for p in pool if p[0] > 0] or pool
    kept = [
        p
        for i, p in enumerate(pool)
        if len(pool) == 1
        or p[0] <= OUTLIER_FACTOR * statistics.median(q[0] for j, q in enumerate(pool) if j != i)
    ]
    # max() keeps the first of equal values: the higher-priority record.
    return max(kept or pool, key=lambda p: p[0])[1]
