"""One link in detail, for a person deciding on it: the records side by side, the score's
reasons, and the link's history.

:func:`link_detail` gives the record and every record it shares its canonical row with,
each as comparable fields (title, author, feed URL, language, episode count, dates, ids…),
and the matcher's explanation split into its reasons (each feature with the bits it added,
as :mod:`podsight.matching.episodes` and :mod:`podsight.matching.channels` write them).
:func:`link_history` gives the record's :class:`~podsight.matching.models.LinkEvent` rows
and the people's decisions (:class:`~podsight.matching.models.LinkOverride`) about it.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from django.db.models import Q
from django.db.models.fields.json import KT

from podsight.matching.models import Entity, LinkEvent, LinkOverride
from podsight.matching.review import find_record, public_explanation
from podsight.sources.models import SourceChannel, SourceEpisode

__all__ = [
    "HISTORY_LIMIT",
    "PARTNER_LIMIT",
    "link_detail",
    "link_history",
    "reasons",
    "record_fields",
]

PARTNER_LIMIT = 20
HISTORY_LIMIT = 200
TEXT_LIMIT = 300  # a description is compared by its opening, as the matcher does

# The fields compared side by side, in this order; a record shows those it has.
CHANNEL_FIELDS = (
    "title", "author", "owner_name", "feed_url", "link", "language", "episodes",
    "total_episodes", "first_published_at", "last_published_at", "latest_published_at",
    "categories", "explicit", "itunes_type", "podcast_guid", "itunes_id", "podcastindex_id",
    "handle", "country", "media_type", "description_text",
)  # fmt: skip
EPISODE_FIELDS = (
    "title", "channel", "published_at", "published_precision", "duration_s",
    "episode_number", "season_number", "kind", "episode_type", "language", "guid",
    "enclosure_url", "link", "explicit", "tags", "description_text",
)  # fmt: skip
# Scored reasons end in the bits they added: "title 0.98 (+5.0)".
_BITS = re.compile(r"^(?P<text>.*) \((?P<bits>[+-]\d+(?:\.\d+)?)\)$")
# The episode score's total: "+6.3 bits → p 0.9876".
_TOTAL = re.compile(r"^(?P<bits>[+-]\d+(?:\.\d+)?) bits → p (?P<p>\d(?:\.\d+)?)$")


def reasons(explanation: str) -> list[dict[str, Any]]:
    """The explanation's parts: ``text``, ``bits`` (what a scored feature added, else
    None) and ``total`` (true for the score's sum), in the order the matcher wrote them."""
    out: list[dict[str, Any]] = []
    for part in (p.strip() for p in explanation.split("; ")):
        if not part:
            continue
        total = _TOTAL.match(part)
        scored = _BITS.match(part)
        if total:
            out.append({"text": part, "bits": float(total["bits"]), "total": True})
        elif scored:
            out.append({"text": scored["text"], "bits": float(scored["bits"]), "total": False})
        else:
            out.append({"text": part, "bits": None, "total": False})
    return out


def _plain(value: Any) -> Any:
    """A value a table cell can show: text cut to its opening, lists joined."""
    if isinstance(value, str):
        return value if len(value) <= TEXT_LIMIT else value[: TEXT_LIMIT - 1] + "…"
    if isinstance(value, list):
        items = [" / ".join(map(str, v)) if isinstance(v, list) else v for v in value]
        if all(isinstance(v, (str, int, float)) for v in items):
            return _plain(", ".join(map(str, items)))
        return None  # transcripts, chapters, persons: not what a link is decided on
    if isinstance(value, (int, float, bool)) or value is None:
        return value
    return None


def _episode_dates(record: SourceChannel) -> tuple[str | None, str | None]:
    """The first and last ``published_at`` of the channel record's episodes."""
    values = []
    for text in (
        SourceEpisode.objects.filter(source_channel=record)
        .annotate(published=KT("data__published_at"))
        .values_list("published", flat=True)
    ):
        try:
            value = datetime.fromisoformat(text)
        except (TypeError, ValueError):
            continue  # no date, or one the source wrote oddly: not a bound
        values.append(value if value.tzinfo else value.replace(tzinfo=UTC))
    if not values:
        return None, None
    return min(values).isoformat(), max(values).isoformat()


def record_fields(entity: str, record: SourceChannel | SourceEpisode) -> dict[str, Any]:
    """The record's comparable fields, in :data:`CHANNEL_FIELDS`/:data:`EPISODE_FIELDS`
    order, only those it has."""
    data = dict(record.data or {})
    if entity == Entity.CHANNEL:
        order = CHANNEL_FIELDS
        data["episodes"] = SourceEpisode.objects.filter(source_channel=record).count()
        data["first_published_at"], data["last_published_at"] = _episode_dates(record)
        feed = getattr(record, "feed", None) if record.source == "rss" else None
        if feed is not None and not data.get("feed_url"):
            data["feed_url"] = feed.url
    else:
        order = EPISODE_FIELDS
        data["channel"] = (record.source_channel.data or {}).get("title")
    fields = {}
    for name in order:
        value = _plain(data.get(name))
        if value is not None and value != "":
            fields[name] = value
    return fields


def _record(entity: str, record: SourceChannel | SourceEpisode) -> dict[str, Any]:
    canonical = record.channel_id if entity == Entity.CHANNEL else record.episode_id
    return {
        "record_id": record.pk,
        "source": record.source,
        "external_id": record.external_id,
        "url": record.url,
        "canonical_id": canonical,
        "method": record.link_method,
        "status": record.link_status,
        "confidence": record.link_confidence,
        "explanation": public_explanation(record.link_explanation),
        "linked_at": record.linked_at,
        "fetched_at": record.fetched_at,
        "first_seen_at": record.first_seen_at,
        "vanished_at": record.vanished_at,
        "fields": record_fields(entity, record),
    }


def link_detail(entity: str, record_id: int) -> dict[str, Any]:
    """The record, its partners (the other records of its canonical row, up to
    :data:`PARTNER_LIMIT`) and the reasons of its link. ``LinkError`` (``bad_entity``,
    ``not_found``) when there is no such record."""
    record = find_record(entity, record_id)
    if entity == Entity.CHANNEL:
        partners = SourceChannel.objects.filter(channel_id=record.channel_id)
    else:
        partners = SourceEpisode.objects.filter(episode_id=record.episode_id).select_related(
            "source_channel"
        )
    canonical = record.channel_id if entity == Entity.CHANNEL else record.episode_id
    if canonical is None:  # in no canonical row (its row was deleted): no partners
        partners = partners.none()
    partners = partners.exclude(pk=record.pk).order_by("id")[:PARTNER_LIMIT]
    head = _record(entity, record)
    rest = [_record(entity, p) for p in partners]
    present = {name for r in (head, *rest) for name in r["fields"]}
    order = CHANNEL_FIELDS if entity == Entity.CHANNEL else EPISODE_FIELDS
    return {
        "id": f"{entity}:{record.pk}",
        "entity": entity,
        **{k: head[k] for k in ("canonical_id", "method", "status", "confidence")},
        "explanation": head["explanation"],
        "reasons": reasons(head["explanation"]),
        "linked_at": record.linked_at,
        "record": head,
        "fields": [name for name in order if name in present],
        "partners": rest,
    }


def link_history(entity: str, record_id: int) -> dict[str, Any]:
    """The record's link events and the overrides naming it, newest first (up to
    :data:`HISTORY_LIMIT` each)."""
    record = find_record(entity, record_id)
    events = LinkEvent.objects.filter(entity=entity, record_id=record.pk).order_by("-at", "-id")
    overrides = LinkOverride.objects.filter(
        Q(record_id=record.pk) | Q(other_record_id=record.pk), entity=entity
    ).order_by("-created_at", "-id")
    return {
        "id": f"{entity}:{record.pk}",
        "entity": entity,
        "record_id": record.pk,
        "events": [
            {
                "at": e.at,
                "actor": e.actor,
                "from_canonical": e.from_canonical,
                "to_canonical": e.to_canonical,
                "method": e.method,
                "status": e.status,
                "confidence": e.confidence,
                "explanation": e.explanation,
            }
            for e in events[:HISTORY_LIMIT]
        ],
        "overrides": [
            {
                "at": o.created_at,
                "actor": o.actor,
                "action": o.action,
                "record_id": o.record_id,
                "other_record_id": o.other_record_id,
                "reason": o.reason,
            }
            for o in overrides[:HISTORY_LIMIT]
        ],
    }
