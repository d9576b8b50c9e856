"""Keeping canonical rows in step with the source records linked to them."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from podsight.catalog.models import Channel, ChannelCategory, Episode
from podsight.catalog.survivorship import CHANNEL_RULES, EPISODE_RULES, survive

__all__ = [
    "apply_channel_values",
    "channel_metrics",
    "episode_values_for",
    "refresh_episodes",
    "resolve_channel",
    "resolve_episode",
    "surviving_ids",
]

_CHANNEL_DEFAULTS: dict[str, Any] = {
    f.name: f.get_default() for f in Channel._meta.concrete_fields if f.name in CHANNEL_RULES
}
_EPISODE_DEFAULTS: dict[str, Any] = {
    f.name: f.get_default() for f in Episode._meta.concrete_fields if f.name in EPISODE_RULES
}


def _resolve(model: type[Channel] | type[Episode], pk: int):
    """Follow ``merged_into`` to the surviving row; ``None`` if the id never existed."""
    seen: set[int] = set()
    row = model.objects.filter(pk=pk).first()
    while row is not None and row.merged_into_id is not None and row.pk not in seen:
        seen.add(row.pk)
        row = model.objects.filter(pk=row.merged_into_id).first()
    return row


def surviving_ids(model: type[Channel] | type[Episode], ids: Iterable[int]) -> dict[int, int]:
    """id → the alive id it was merged into (itself when alive), for many ids with one
    query per merge generation; ids that never existed are left out."""
    parent: dict[int, int | None] = {}
    pending = set(ids)
    while pending:
        rows = model.objects.filter(pk__in=pending).values_list("id", "merged_into_id")
        pending = set()
        for pk, merged_into in rows:
            parent[pk] = merged_into
            if merged_into is not None and merged_into not in parent:
                pending.add(merged_into)
    out: dict[int, int] = {}
    for pk in parent:
        node, seen = pk, set()
        while parent.get(node) is not None and node not in seen:
            seen.add(node)
            node = parent[node]
        if node in parent:
            out[pk] = node
    return out


def resolve_channel(pk: int) -> Channel | None:
    return _resolve(Channel, pk)


def resolve_episode(pk: int) -> Episode | None:
    return _resolve(Episode, pk)


def _record_tuples(records: Iterable[Any]) -> list[tuple[str, str, dict[str, Any]]]:
    # Vanished records still count, but only when nothing live says otherwise.
    live = [r for r in records if r.vanished_at is None]
    chosen = live or list(records)
    return [(r.source, r.external_id, r.data) for r in chosen]


def episode_values_for(records: Sequence[Any]) -> dict[str, Any]:
    """Canonical episode field values, model-ready, ``field_sources`` included."""
    values, origins = survive(_record_tuples(records), EPISODE_RULES)
    out = dict(_EPISODE_DEFAULTS)
    out.update(values)
    if isinstance(out.get("published_at"), str):
        out["published_at"] = datetime.fromisoformat(out["published_at"])
    out["has_transcript"] = bool(out.get("transcripts"))
    out["available"] = any(r.vanished_at is None for r in records)
    out["field_sources"] = origins
    return out


def apply_channel_values(channel: Channel, records: Sequence[Any]) -> bool:
    """Set the channel's canonical fields from its records; returns whether anything changed."""
    values, origins = survive(_record_tuples(records), CHANNEL_RULES)
    categories = values.pop("categories", None) or []
    merged = dict(_CHANNEL_DEFAULTS)
    merged.update({k: v for k, v in values.items() if k in _CHANNEL_DEFAULTS})
    merged["field_sources"] = origins
    changed = False
    for name, value in merged.items():
        if getattr(channel, name) != value:
            setattr(channel, name, value)
            changed = True
    if channel.pk is None:
        channel.save()
        changed = True
    elif changed:
        channel.save()
    if _set_categories(channel, categories):
        changed = True
    return changed


def _set_categories(channel: Channel, paths: list[list[str]]) -> bool:
    wanted: dict[str, tuple[str, str]] = {}
    for path in paths:
        parts = [p for p in path if p]
        if parts:
            wanted[" > ".join(parts)] = (parts[-1], parts[-2] if len(parts) > 1 else "")
    existing = {c.path: c for c in channel.categories.all()}
    if set(existing) == set(wanted):
        return False
    stale = [c.pk for p, c in existing.items() if p not in wanted]
    if stale:
        ChannelCategory.objects.filter(pk__in=stale).delete()
    ChannelCategory.objects.bulk_create(
        [
            ChannelCategory(channel=channel, path=p, name=n, parent=parent)
            for p, (n, parent) in wanted.items()
            if p not in existing
        ]
    )
    return True


@transaction.atomic
def refresh_episodes(episode_ids: Iterable[int]) -> int:
    """Recompute canonical episodes from their linked records; returns how many changed."""
    from podsight.sources.models import SourceEpisode

    ids = set(episode_ids)
    if not ids:
        return 0
    by_episode: dict[int, list[Any]] = defaultdict(list)
    # Plain rows, not model instances: this runs over 10⁵ records after a matching run.
    for record in SourceEpisode.objects.filter(episode_id__in=ids).values_list(
        "episode_id", "source", "external_id", "data", "vanished_at", named=True
    ):
        by_episode[record.episode_id].append(record)
    # Rows grouped by the fields that changed: each group is one statement writing only
    # those (preparing every field of every row for the database cost more than the write).
    changed: dict[tuple[str, ...], list[tuple[int, dict[str, Any]]]] = defaultdict(list)
    for pk, *current in Episode.objects.filter(pk__in=ids).values_list(
        "pk", *_EPISODE_VALUE_FIELDS
    ):
        records = by_episode.get(pk)
        if not records:
            continue
        values = episode_values_for(records)
        differ = tuple(
            n for n, old in zip(_EPISODE_VALUE_FIELDS, current, strict=True) if old != values[n]
        )
        if differ:
            changed[differ].append((pk, values))
    now = timezone.now()
    for names, rows in changed.items():
        _write_episodes(rows, names, now)
    return sum(len(rows) for rows in changed.values())


# What ``episode_values_for`` sets: the fields a refresh compares and writes.
_EPISODE_VALUE_FIELDS = (*_EPISODE_DEFAULTS, "has_transcript", "available", "field_sources")


def _write_episodes(
    rows: list[tuple[int, dict[str, Any]]], names: Sequence[str], updated_at: datetime
) -> None:
    """Write ``names`` of each ``(pk, values)`` row, stamped ``updated_at``: one
    ``UPDATE … WHERE id = ?`` run over many rows (executemany); Django's ``bulk_update``
    builds a CASE per field and row, several times slower at 10⁵ rows."""
    from django.db import connection

    fields = [Episode._meta.get_field(name) for name in names]
    stamp = Episode._meta.get_field("updated_at")
    table = connection.ops.quote_name(Episode._meta.db_table)
    assignments = ", ".join(f"{connection.ops.quote_name(f.column)} = %s" for f in (*fields, stamp))
    stamped = stamp.get_db_prep_save(updated_at, connection)
    params = [
        [*(f.get_db_prep_save(values[f.name], connection) for f in fields), stamped, pk]
        for pk, values in rows
    ]
    with connection.cursor() as cursor:
        cursor.executemany(f"UPDATE {table} SET {assignments} WHERE id = %s", params)


def channel_metrics(channel: Channel, metric: str | None = None) -> dict[str, Any]:
    """A show's metrics over time: ``series``, what each of its own source records reported
    (subscribers, views, episode counts…, one series per record and metric), and
    ``episodes``, what its episodes add up to per platform and metric each day (views,
    likes, comments…: :func:`~podsight.lake.metrics.metric_overview`)."""
    from podsight.lake.metrics import metric_overview
    from podsight.sources.models import SourceChannel, SourceEpisode

    own = SourceChannel.objects.filter(channel_id=channel.pk).values_list("source", "external_id")
    episodes = SourceEpisode.objects.filter(episode__channel_id=channel.pk).values_list(
        "source", "external_id"
    )
    series, totals = metric_overview(list(own), list(episodes), metric)
    return {"channel": channel.pk, "series": series, "episodes": totals}
