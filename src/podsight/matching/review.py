"""People's corrections: confirm, reject or force a link; the matcher obeys them forever.

- **confirm** marks a record's link ``confirmed``: later runs never reconsider it.
- **reject** takes a record out of the canonical row it was matched into, back to the row
  it came from (its last :class:`~podsight.matching.models.LinkEvent`; that row is revived
  if it had been merged away), and remembers the rejected pair(s) so no run links them
  again. A channel record takes its episodes with it.
- **force** merges the canonical rows of two records (method ``manual``, confidence 1,
  status ``confirmed``) and remembers it, so the link is restored if anything undoes it.

Every action is stored as a :class:`~podsight.matching.models.LinkOverride` with who asked
for it (``actor``: the API token's name or ``cli``) and appends link events, so the
history of a record's links survives corrections. A record's ``link_explanation`` is
public (``GET /api/links``, the catalog's source records), so it says "a reviewer", never
the actor: who decided is only in the overrides and events, which need ``links:review``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from podsight.catalog.models import Channel, Episode
from podsight.catalog.services import apply_channel_values, refresh_episodes
from podsight.errors import PodsightError
from podsight.matching.models import Entity, LinkEvent, LinkOverride, OverrideAction
from podsight.matching.writes import EpisodeMove, apply_episode_moves, merge_channels
from podsight.sources.models import LinkMethod, LinkStatus, SourceChannel, SourceEpisode

__all__ = [
    "LinkError",
    "LinkRow",
    "apply_overrides",
    "confirm_link",
    "find_record",
    "force_link",
    "link_rows",
    "list_links",
    "public_explanation",
    "reject_link",
]


class LinkError(PodsightError):
    """A review action that cannot be done; ``code`` names why (for the API's 4xx)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


REVIEWER = "a reviewer"
# What a person's decision wrote into link_explanation before it stopped naming the actor
# ("forced by token:alice", "detached from channel 12 by cli"); the whole text, since
# these explanations are never combined with others.
_NAMED = re.compile(r"^(forced|detached from (?:channel|episode) \d+) by .+$", re.DOTALL)


def public_explanation(explanation: str) -> str:
    """The explanation without the name of the person who decided (rows written before
    explanations stopped naming them still do); everything else unchanged."""
    return _NAMED.sub(rf"\1 by {REVIEWER}", explanation)


def _model(entity: str):
    if entity == Entity.CHANNEL:
        return SourceChannel
    if entity == Entity.EPISODE:
        return SourceEpisode
    raise LinkError("bad_entity", f"entity must be 'channel' or 'episode', not {entity!r}")


def _canonical_field(entity: str) -> str:
    return "channel_id" if entity == Entity.CHANNEL else "episode_id"


def find_record(entity: str, ref: Any) -> SourceChannel | SourceEpisode:
    """A record by id, or by ``"source:external_id"`` (must name exactly one record)."""
    model = _model(entity)
    if isinstance(ref, int) or (isinstance(ref, str) and ref.isdigit()):
        record = model.objects.filter(pk=int(ref)).first()
        if record is None:
            raise LinkError("not_found", f"no {entity} record with id {ref}")
        return record
    if not isinstance(ref, str) or ":" not in ref:
        raise LinkError(
            "bad_record", f"name a record by id or as 'source:external_id', not {ref!r}"
        )
    source, external_id = ref.split(":", 1)
    found = list(model.objects.filter(source=source, external_id=external_id)[:2])
    if not found:
        raise LinkError("not_found", f"no {entity} record {ref}")
    if len(found) > 1:
        raise LinkError("ambiguous", f"{ref} names several {entity} records; use a record id")
    return found[0]


@transaction.atomic
def confirm_link(entity: str, ref: Any, *, actor: str, reason: str = "") -> Any:
    record = find_record(entity, ref)
    if not record.link_method or record.link_method == LinkMethod.KEY:
        raise LinkError(
            "not_a_match",
            f"{entity} record {record.pk} is linked by its own identity or a strong key; "
            "only matched links can be confirmed",
        )
    now = timezone.now()
    LinkOverride.objects.create(
        entity=entity,
        action=OverrideAction.CONFIRM,
        record_id=record.pk,
        reason=reason,
        actor=actor,
        created_at=now,
    )
    canonical = getattr(record, _canonical_field(entity))
    record.link_status = LinkStatus.CONFIRMED
    record.save(update_fields=["link_status"])
    LinkEvent.objects.create(
        **_event_fields(entity, record, canonical, canonical, "confirmed by a person", actor, now)
    )
    return record


def _event_fields(entity, record, before, after, explanation, actor, now) -> dict[str, Any]:
    return {
        "entity": entity,
        "record_id": record.pk,
        "from_canonical": before,
        "to_canonical": after,
        "method": record.link_method,
        "status": record.link_status,
        "confidence": record.link_confidence,
        "explanation": explanation,
        "actor": actor,
        "at": now,
    }


def link_origin(entity: str, record_id: int, current: int) -> int | None:
    """The canonical row the record was in before it was matched into ``current``."""
    event = (
        LinkEvent.objects.filter(entity=entity, record_id=record_id, to_canonical=current)
        .exclude(from_canonical=current)
        .exclude(from_canonical__isnull=True)
        .order_by("-id")
        .first()
    )
    return event.from_canonical if event else None


def _send_home(entity: str, record, current: int, target: int, actor: str, now: datetime):
    """Put a rejected record in ``target`` on its own identity again, and log the move."""
    field = "channel" if entity == Entity.CHANNEL else "episode"
    setattr(record, f"{field}_id", target)
    record.link_method = LinkMethod.KEY
    record.link_confidence = None
    record.link_explanation = f"detached from {field} {current} by {REVIEWER}"
    record.link_status = LinkStatus.NONE
    record.linked_at = now
    record.save(
        update_fields=[
            field,
            "link_method",
            "link_confidence",
            "link_explanation",
            "link_status",
            "linked_at",
        ]
    )
    LinkEvent.objects.create(
        **_event_fields(entity, record, current, target, "rejected", actor, now)
    )


def _detach_episode(record: SourceEpisode, channel_id: int | None, actor: str, now: datetime):
    """Move one episode record out of its canonical episode, to its origin or a new row."""
    current = record.episode_id
    origin = link_origin(Entity.EPISODE, record.pk, current) if current else None
    if origin is not None and Episode.objects.filter(pk=origin).exists():
        Episode.objects.filter(pk=origin).update(merged_into=None, updated_at=now)
        if channel_id is not None:
            Episode.objects.filter(pk=origin).update(channel_id=channel_id)
        target = origin
    else:
        source_episode = Episode.objects.get(pk=current)
        target = Episode.objects.create(
            channel_id=channel_id or source_episode.channel_id,
            title=record.data.get("title") or "",
        ).pk
    _send_home(Entity.EPISODE, record, current, target, actor, now)
    refresh_episodes({current, target})
    return target


def _detach_channel(record: SourceChannel, actor: str, now: datetime) -> int:
    current = record.channel_id
    origin = link_origin(Entity.CHANNEL, record.pk, current) if current else None
    if origin is not None and Channel.objects.filter(pk=origin).exists():
        Channel.objects.filter(pk=origin).update(merged_into=None)
        target = origin
    else:
        target = Channel.objects.create(title=record.data.get("title") or "").pk
    _send_home(Entity.CHANNEL, record, current, target, actor, now)
    # Its episodes follow: whole canonical episodes move; shared ones give the record back.
    mine = set(
        SourceEpisode.objects.filter(source_channel=record).values_list("episode_id", flat=True)
    )
    shared = set(
        SourceEpisode.objects.filter(episode_id__in=mine)
        .exclude(source_channel=record)
        .values_list("episode_id", flat=True)
    )
    Episode.objects.filter(pk__in=mine - shared).update(channel_id=target)
    for episode_record in SourceEpisode.objects.filter(
        source_channel=record, episode_id__in=shared
    ):
        _detach_episode(episode_record, target, actor, now)
    for channel_id in (current, target):
        channel = Channel.objects.get(pk=channel_id)
        apply_channel_values(channel, list(channel.source_records.all()))
    return target


@transaction.atomic
def reject_link(entity: str, ref: Any, *, actor: str, other: Any = None, reason: str = "") -> int:
    """Take the record out of its matched canonical row; returns the row it is now in.

    ``other`` (a record) narrows the rejection to that pair; by default the record is
    rejected against every record it shares its canonical row with.
    """
    record = find_record(entity, ref)
    if record.link_method != LinkMethod.FUZZY and record.link_method != LinkMethod.MANUAL:
        raise LinkError(
            "not_a_match",
            f"{entity} record {record.pk} is linked by its own identity or a strong key "
            f"({record.link_method or 'own row'}); a strong key link cannot be rejected here",
        )
    field = _canonical_field(entity)
    current = getattr(record, field)
    model = _model(entity)
    partners = list(
        model.objects.filter(**{field: current}).exclude(pk=record.pk).values_list("pk", flat=True)
    )
    if other is not None:
        other_record = find_record(entity, other)
        partners = [other_record.pk]
    now = timezone.now()
    LinkOverride.objects.bulk_create(
        LinkOverride(
            entity=entity,
            action=OverrideAction.REJECT,
            record_id=record.pk,
            other_record_id=partner,
            reason=reason,
            actor=actor,
            created_at=now,
        )
        for partner in partners
    )
    # A force of the same pair no longer holds: the newest decision wins.
    LinkOverride.objects.filter(
        entity=entity,
        action=OverrideAction.FORCE,
        record_id__in=[record.pk, *partners],
        other_record_id__in=[record.pk, *partners],
    ).delete()
    if entity == Entity.CHANNEL:
        return _detach_channel(record, actor, now)
    return _detach_episode(record, None, actor, now)


@transaction.atomic
def force_link(entity: str, ref: Any, other: Any, *, actor: str, reason: str = "") -> int:
    """Make the two records one canonical channel/episode; returns the surviving id."""
    record, target = find_record(entity, ref), find_record(entity, other)
    if record.pk == target.pk:
        raise LinkError("same_record", "a record cannot be linked to itself")
    now = timezone.now()
    LinkOverride.objects.filter(
        entity=entity,
        action=OverrideAction.REJECT,
        record_id__in=[record.pk, target.pk],
        other_record_id__in=[record.pk, target.pk],
    ).delete()
    LinkOverride.objects.create(
        entity=entity,
        action=OverrideAction.FORCE,
        record_id=record.pk,
        other_record_id=target.pk,
        reason=reason,
        actor=actor,
        created_at=now,
    )
    return _force(entity, record, target, actor, now)


def _force(entity, record, target, actor: str, now: datetime) -> int:
    explanation = f"forced by {REVIEWER}"  # the actor is in the events and the override
    if entity == Entity.CHANNEL:
        if record.channel_id == target.channel_id:
            return record.channel_id
        return merge_channels(
            record.channel_id,
            target.channel_id,
            method=LinkMethod.MANUAL,
            confidence=1.0,
            explanation=explanation,
            status=LinkStatus.CONFIRMED,
            now=now,
            actor=actor,
        )
    if record.episode_id == target.episode_id:
        return record.episode_id
    left = Episode.objects.get(pk=record.episode_id)
    right = Episode.objects.get(pk=target.episode_id)
    if left.channel_id != right.channel_id:
        raise LinkError(
            "different_channels",
            f"episode {left.pk} is in channel {left.channel_id} and episode {right.pk} in "
            f"channel {right.channel_id}: force the channel link first",
        )
    survivor, merged = sorted((left.pk, right.pk))
    if record.source == "rss" and record.episode_id != survivor:
        survivor, merged = merged, survivor
    records = frozenset(
        SourceEpisode.objects.filter(episode_id=merged).values_list("pk", flat=True)
    )
    apply_episode_moves(
        [
            EpisodeMove(
                survivor=survivor,
                merged=merged,
                records=records,
                method=LinkMethod.MANUAL,
                confidence=1.0,
                explanation=explanation,
                status=LinkStatus.CONFIRMED,
            )
        ],
        now,
        actor,
    )
    return survivor


def apply_overrides(*, now: datetime | None = None) -> int:
    """Re-assert every stored override; returns how many had to be applied again."""
    now = now or timezone.now()
    applied = 0
    for override in LinkOverride.objects.order_by("id"):
        model = _model(override.entity)
        field = _canonical_field(override.entity)
        record = model.objects.filter(pk=override.record_id).first()
        if record is None:
            continue
        if override.action == OverrideAction.CONFIRM:
            if record.link_status != LinkStatus.CONFIRMED and record.link_method in (
                LinkMethod.FUZZY,
                LinkMethod.MANUAL,
            ):
                model.objects.filter(pk=record.pk).update(link_status=LinkStatus.CONFIRMED)
                applied += 1
            continue
        other = model.objects.filter(pk=override.other_record_id).first()
        if other is None:
            continue
        together = getattr(record, field) == getattr(other, field)
        if override.action == OverrideAction.FORCE and not together:
            with transaction.atomic():
                _force(override.entity, record, other, override.actor, now)
            applied += 1
        elif override.action == OverrideAction.REJECT and together:
            with transaction.atomic():
                if override.entity == Entity.CHANNEL:
                    _detach_channel(record, override.actor, now)
                else:
                    _detach_episode(record, None, override.actor, now)
            applied += 1
    return applied


def link_rows(*, entity: str | None = None, status: str | None = None, source: str | None = None):
    """Matched links (method fuzzy or manual), newest first, as querysets per entity."""
    entities = [entity] if entity else [Entity.CHANNEL, Entity.EPISODE]
    out = {}
    for name in entities:
        queryset = _model(name).objects.filter(
            link_method__in=[LinkMethod.FUZZY, LinkMethod.MANUAL]
        )
        if status:
            queryset = queryset.filter(link_status=status)
        if source:
            queryset = queryset.filter(source=source)
        out[name] = queryset.order_by("-linked_at", "-id")
    return out


@dataclass(frozen=True)
class LinkRow:
    """One matched link as the review queue shows it."""

    entity: str
    record_id: int
    source: str
    external_id: str
    canonical_id: int | None
    status: str
    confidence: float | None
    explanation: str


def list_links(
    *, entity: str | None = None, status: str | None = None, limit: int = 50
) -> dict[str, list[LinkRow]]:
    """Up to ``limit`` links per entity from :func:`link_rows`, as plain rows."""
    out: dict[str, list[LinkRow]] = {}
    for name, queryset in link_rows(entity=entity, status=status).items():
        canonical = "channel_id" if name == Entity.CHANNEL else "episode_id"
        out[str(name)] = [
            LinkRow(
                entity=str(name),
                record_id=record.pk,
                source=record.source,
                external_id=record.external_id,
                canonical_id=getattr(record, canonical),
                status=record.link_status,
                confidence=record.link_confidence,
                explanation=record.link_explanation,
            )
            for record in queryset[:limit]
        ]
    return out
