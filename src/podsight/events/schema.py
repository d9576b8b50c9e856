"""What a listening event is, and the check of one submitted item.

Hand-written rather than a DRF serializer: a batch holds up to 5,000 items and the
serializer cost ~60 µs per item, more than the whole budget of the ingest path (see
``docs/events.md``). Every problem of an item is reported, keyed by field, in the
API's error vocabulary.
"""

from __future__ import annotations

import math
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

__all__ = [
    "CHANNEL_TYPES",
    "EVENT_TYPES",
    "FIELDS",
    "MAX_BATCH",
    "POSITION_TYPES",
    "Checked",
    "check_item",
]

MAX_BATCH = 5_000
EVENT_TYPES = frozenset(
    (
        "play",
        "pause",
        "seek",
        "progress",
        "complete",
        "skip",
        "like",
        "unlike",
        "rate",
        "subscribe",
        "unsubscribe",
        "download",
    )
)
# These concern a show; an episode reference is optional for them (its show is taken).
CHANNEL_TYPES = frozenset(("subscribe", "unsubscribe"))
POSITION_TYPES = frozenset(("play", "pause", "seek", "progress", "complete", "skip"))
FIELDS = frozenset(
    (
        "event_id",
        "user_id",
        "episode",
        "channel",
        "feed_url",
        "enclosure_url",
        "source",
        "external_id",
        "type",
        "occurred_at",
        "position_s",
        "duration_s",
        "rating",
        "device",
        "session_id",
    )
)
MAX_TEXT = 200
_CANONICAL_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
MAX_URL = 2_000
# Clocks on phones drift; beyond this an event "from the future" is a bug in the client.
FUTURE_TOLERANCE = timedelta(minutes=10)
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
MAX_SECONDS = 7 * 24 * 3600.0  # a week: longer than any episode


@dataclass(slots=True)
class Checked:
    """A valid item, normalised; the episode reference still to be resolved."""

    event_id: str
    user_id: str
    type: str
    occurred_at: datetime
    position_s: float | None
    duration_s: float | None
    rating: int | None
    device: str | None
    session_id: str | None
    # Exactly one reference kind is set.
    episode: int | None
    channel: int | None
    feed_url: str | None
    enclosure_url: str | None
    source: str | None
    external_id: str | None
    # Fields that do not apply to the type: ignored, not stored (field → [message]).
    warnings: dict[str, list[str]] | None = None


def _ignored(item: dict, kind: Any) -> dict[str, list[str]]:
    """Fields sent that the event's type has no use for. They cost the event nothing: a
    client's generic "position" or "rating" on every event must not lose a like."""
    if kind not in EVENT_TYPES:
        return {}  # the type itself is refused; check every field as usual
    ignored = {}
    if item.get("position_s") is not None and kind not in POSITION_TYPES:
        ignored["position_s"] = [
            f"ignored: a position applies only to {', '.join(sorted(POSITION_TYPES))} events"
        ]
    if item.get("rating") is not None and kind != "rate":
        ignored["rating"] = ["ignored: only rate events carry a rating"]
    if item.get("duration_s") is not None and kind in CHANNEL_TYPES:
        ignored["duration_s"] = ["ignored: subscribe and unsubscribe events concern a show"]
    return ignored


def _text(item: dict, name: str, errors: dict, limit: int = MAX_TEXT) -> str | None:
    value = item.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        errors[name] = [f"must be a string, not {type(value).__name__}"]
        return None
    value = value.strip()
    if not value:
        return None
    if len(value) > limit:
        errors[name] = [f"must be at most {limit} characters"]
        return None
    return value


def _seconds(item: dict, name: str, errors: dict) -> float | None:
    value = item.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        errors[name] = [f"must be a number of seconds, not {type(value).__name__}"]
        return None
    value = float(value)
    if not math.isfinite(value) or value < 0:
        errors[name] = ["must be a finite number ≥ 0"]
        return None
    if value > MAX_SECONDS:
        errors[name] = [f"must be at most {MAX_SECONDS:.0f} s (one week)"]
        return None
    return value


def _id(item: dict, name: str, errors: dict) -> int | None:
    value = item.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        errors[name] = ["must be a positive integer id"]
        return None
    return value


def _when(value: Any, errors: dict, now: datetime) -> datetime | None:
    if not isinstance(value, str):
        errors["occurred_at"] = [
            "required: an ISO 8601 timestamp with a time zone, e.g. 2026-11-21T09:30:00Z"
        ]
        return None
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        errors["occurred_at"] = [f"not an ISO 8601 timestamp: {value[:40]!r}"]
        return None
    if when.tzinfo is None:
        errors["occurred_at"] = ["needs a time zone (e.g. a trailing Z for UTC)"]
        return None
    when = when.astimezone(UTC)
    if when > now + FUTURE_TOLERANCE:
        errors["occurred_at"] = [
            f"is in the future ({when.isoformat(timespec='seconds')}; the server's clock says "
            f"{now.isoformat(timespec='seconds')})"
        ]
        return None
    if when < EARLIEST:
        errors["occurred_at"] = ["is before 2000-01-01"]
        return None
    return when


def check_item(
    item: Any, now: datetime, for_user: str | None = None
) -> tuple[Checked | None, dict[str, list[str]]]:
    """``(checked, {})`` for a valid item, ``(None, errors)`` otherwise.

    ``for_user``: the user a token acts for. Its events are that user's alone: a missing
    ``user_id`` means that user, another one is an error."""
    if not isinstance(item, dict):
        return None, {"non_field_errors": [f"an event is an object, not {type(item).__name__}"]}
    errors: dict[str, list[str]] = {}
    unknown = item.keys() - FIELDS
    if unknown:
        errors["non_field_errors"] = [f"unknown field(s): {', '.join(sorted(unknown))}"]

    raw_id = item.get("event_id")
    event_id = None
    if not isinstance(raw_id, str):
        errors["event_id"] = ["required: a UUID chosen by the client"]
    else:
        if _CANONICAL_UUID.fullmatch(raw_id):
            event_id = raw_id  # the usual form: skip the slower parse
        else:
            try:
                event_id = str(uuid.UUID(raw_id))
            except ValueError:
                errors["event_id"] = [f"not a UUID: {raw_id[:40]!r}"]

    user_id = _text(item, "user_id", errors, 150)
    if for_user is not None and "user_id" not in errors:
        if user_id is None:
            user_id = for_user
        elif user_id != for_user:
            errors["user_id"] = [
                f"this token acts for {for_user!r} and writes only that user's events, "
                f"not {user_id[:40]!r}'s"
            ]
    if user_id is None and "user_id" not in errors:
        errors["user_id"] = ["required"]

    kind = item.get("type")
    if kind not in EVENT_TYPES:
        errors["type"] = [f"must be one of: {', '.join(sorted(EVENT_TYPES))}"]

    occurred_at = _when(item.get("occurred_at"), errors, now)
    ignored = _ignored(item, kind)
    position = None if "position_s" in ignored else _seconds(item, "position_s", errors)
    duration = None if "duration_s" in ignored else _seconds(item, "duration_s", errors)
    if duration == 0:
        errors["duration_s"] = ["must be > 0"]
        duration = None
    if position is not None and duration is not None and position > duration:
        errors["position_s"] = [f"{position:g} s is beyond the duration ({duration:g} s)"]

    rating = item.get("rating")
    if kind == "rate":
        if isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 5:
            errors["rating"] = ["a rate event needs a rating: an integer from 1 to 5"]
    elif rating is not None and "rating" not in ignored:
        errors["rating"] = ["only rate events carry a rating"]

    episode = _id(item, "episode", errors)
    channel = _id(item, "channel", errors)
    feed_url = _text(item, "feed_url", errors, MAX_URL)
    enclosure_url = _text(item, "enclosure_url", errors, MAX_URL)
    source = _text(item, "source", errors, 20)
    external_id = _text(item, "external_id", errors, MAX_URL)
    references = (
        (episode is not None)
        + (channel is not None)
        + (enclosure_url is not None)
        + (source is not None or external_id is not None)
    )
    is_channel_event = kind in CHANNEL_TYPES
    if references > 1:
        given = [
            name
            for name, value in (
                ("episode", episode),
                ("channel", channel),
                ("feed_url + enclosure_url", enclosure_url),
                ("source + external_id", source or external_id),
            )
            if value is not None
        ]
        errors["episode"] = [f"give one reference, not several ({'; '.join(given)})"]
    elif not references and not (is_channel_event and feed_url):
        if not any(n in errors for n in ("episode", "channel", "feed_url", "enclosure_url")):
            alone = "; or `channel` / `feed_url` alone for (un)subscribe"
            errors["episode"] = [
                "required: `episode` (canonical id), `feed_url` + `enclosure_url`, or "
                "`source` + `external_id`" + (alone if is_channel_event else "")
            ]
    elif enclosure_url is not None and feed_url is None:
        errors["feed_url"] = ["`enclosure_url` needs the `feed_url` it belongs to"]
    elif (source is None) != (external_id is None):
        errors["external_id" if external_id is None else "source"] = [
            "`source` and `external_id` go together"
        ]
    elif channel is not None and not is_channel_event:
        errors["channel"] = ["only subscribe and unsubscribe events may name just a show"]

    device = _text(item, "device", errors)
    session_id = _text(item, "session_id", errors)
    if errors:
        return None, errors
    return (
        Checked(
            event_id=event_id,
            user_id=user_id,
            type=kind,
            occurred_at=occurred_at,
            position_s=position,
            duration_s=duration,
            rating=rating if kind == "rate" else None,
            device=device,
            session_id=session_id,
            episode=episode,
            channel=channel,
            feed_url=feed_url,
            enclosure_url=enclosure_url,
            source=source,
            external_id=external_id,
            warnings=ignored or None,
        ),
        {},
    )
