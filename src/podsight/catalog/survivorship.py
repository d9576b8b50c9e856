"""Survivorship: which linked source record supplies each canonical field.

Rules (kept deliberately simple until cross-source matching lands):
- ``priority``: the first record, in :data:`SOURCE_PRIORITY` order, with a non-empty
  value wins. RSS comes first: it is the publisher's own statement of enclosure,
  description and numbering.
- ``earliest``: the earliest non-empty value wins (``published_at``: re-uploads and
  late mirrors are later than the original release).

``field_sources`` maps each canonical field to ``"<source>:<external_id>"`` of the
record it came from, so every canonical value can say where it came from.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

__all__ = ["CHANNEL_RULES", "EPISODE_RULES", "SOURCE_PRIORITY", "survive"]

SOURCE_PRIORITY = ("rss", "podcastindex", "apple", "spotify", "youtube")

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
    "published_at": "earliest",
    "duration_s": "priority",
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


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def _rank(source: str) -> int:
    try:
        return SOURCE_PRIORITY.index(source)
    except ValueError:
        return len(SOURCE_PRIORITY)


def survive(
    records: Iterable[tuple[str, str, Mapping[str, Any]]], rules: Mapping[str, str]
) -> tuple[dict[str, Any], dict[str, str]]:
    """Pick canonical values from ``(source, external_id, data)`` records.

    Returns ``(values, field_sources)``; fields no record fills are absent from both.
    """
    ordered = sorted(records, key=lambda r: (_rank(r[0]), r[1]))
    values: dict[str, Any] = {}
    origins: dict[str, str] = {}
    for field, rule in rules.items():
        candidates = [(s, x, d[field]) for s, x, d in ordered if not _empty(d.get(field))]
        if not candidates:
            continue
        if rule == "earliest":
            source, external_id, value = min(candidates, key=lambda c: _as_datetime(c[2]))
        else:
            source, external_id, value = candidates[0]
        values[field] = value
        origins[field] = f"{source}:{external_id}"
    return values, origins


def _as_datetime(value: Any) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
