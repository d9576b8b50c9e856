"""What a match run reads: the canonical channels as clusters (:func:`channel_clusters`)
and every episode record of alive canonical episodes, grouped by channel, in one query
(:class:`Snapshot`), with the :class:`Mark` of the last finished run that tells new and
changed records (``dirty``) from those already scored.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import BooleanField, ExpressionWrapper, Q, TextField, Value
from django.db.models.fields.json import KT
from django.db.models.functions import NullIf, Substr

from podsight.catalog.models import Channel
from podsight.catalog.services import surviving_ids
from podsight.catalog.survivorship import date_precision
from podsight.matching.channels import Cluster
from podsight.matching.episodes import EpisodeView, PairScore
from podsight.matching.schedule import SCHEDULE_REASON
from podsight.matching.text import (
    core_descriptions,
    core_titles,
    episode_numbers,
    normalise_text,
    part_number,
)
from podsight.matching.writes import EPISODE_REVIEW_BELOW, EpisodeMove, link_status, source_rank
from podsight.sources.models import LinkMethod, SourceChannel, SourceEpisode

__all__ = [
    "DESCRIPTION_READ_CHARS",
    "Mark",
    "Row",
    "Snapshot",
    "channel_clusters",
    "dirty_channels",
    "episode_views",
]

# A description is read this far: its opening is what is compared, and its recurring
# lines (the channel's boilerplate) are found among these.
DESCRIPTION_READ_CHARS = 800


@dataclass(frozen=True)
class Mark:
    """Where the last finished run left off. Content fetched since it started is new;
    links made since it finished were made by someone else (a key link during a sync, an
    override), not by that run itself."""

    started_at: datetime
    finished_at: datetime

    def changed(self, fetched_at, first_seen_at, linked_at) -> bool:
        return (
            (fetched_at is not None and fetched_at >= self.started_at)
            or (first_seen_at is not None and first_seen_at >= self.started_at)
            or (linked_at is not None and linked_at > self.finished_at)
        )


def _changed_since(since: Mark | None) -> Q:
    if since is None:
        return Q(pk__isnull=False)
    return (
        Q(fetched_at__gte=since.started_at)
        | Q(first_seen_at__gte=since.started_at)
        | Q(linked_at__gt=since.finished_at)
    )


def dirty_channels(since: Mark | None) -> set[int] | None:
    """Canonical channels holding a record (channel or episode) new or changed since
    ``since``; ``None`` means every channel (a full run)."""
    if since is None:
        return None
    dirty = set(
        SourceChannel.objects.filter(_changed_since(since), channel__isnull=False).values_list(
            "channel_id", flat=True
        )
    )
    dirty |= set(
        SourceEpisode.objects.filter(_changed_since(since), episode__isnull=False).values_list(
            "episode__channel_id", flat=True
        )
    )
    return _alive_channels(dirty)


def _alive_channels(ids: Iterable[int]) -> set[int]:
    return set(surviving_ids(Channel, ids).values())


def _json_text(key: str) -> NullIf:
    """``data[key]`` as text, NULL when absent or JSON null. Django's ``KT`` answers a
    JSON null with the text "null" on SQLite (NULL on PostgreSQL): a channel whose author
    is null must not be named "null"."""
    return NullIf(KT(f"data__{key}"), Value("null"), output_field=TextField())


def channel_clusters(dirty: set[int] | None) -> list[Cluster]:
    by_channel: dict[int, list[dict[str, Any]]] = defaultdict(list)
    rows = SourceChannel.objects.filter(
        channel__isnull=False, channel__merged_into__isnull=True
    ).values(
        "id",
        "source",
        "external_id",
        "channel_id",
        title=_json_text("title"),
        author=_json_text("author"),
        description=_json_text("description_text"),
    )
    for row in rows:
        by_channel[row["channel_id"]].append(row)
    titles = dict(Channel.objects.filter(merged_into__isnull=True).values_list("pk", "title"))
    clusters = []
    for channel_id, records in sorted(by_channel.items()):
        names = [titles.get(channel_id) or ""]
        descriptions = []
        for record in records:
            names += [record["title"] or "", record["author"] or ""]
            descriptions.append(normalise_text(record["description"]))
        clusters.append(
            Cluster(
                channel_id=channel_id,
                sources=frozenset(r["source"] for r in records),
                names=[n for n in dict.fromkeys(names) if n],
                descriptions=[d for d in descriptions if d],
                record_labels=[f"{r['source']}:{r['external_id']}" for r in records],
                record_ids=frozenset(r["id"] for r in records),
                dirty=dirty is None or channel_id in dirty,
            )
        )
    return clusters


def _seconds(value: Any) -> float | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(str(value)).timestamp()
    except ValueError:
        return None


def _int(value: Any) -> int | None:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if number > 0 else None


@dataclass(slots=True)
class Row:
    """One episode record as matching reads it (text fields straight from ``data``)."""

    id: int
    episode_id: int
    source: str
    source_channel_id: int
    title: str | None
    published: str | None
    duration: str | None
    kind: str | None
    number: str | None
    episode_type: str | None
    precision: str | None  # "day", "month" or "year" for a calendar date (Spotify)
    description: str | None  # read: its first DESCRIPTION_READ_CHARS characters; then its
    # opening (text.core_descriptions), computed once per source channel by the snapshot
    link_method: str
    link_status: str
    link_confidence: float | None
    by_schedule: bool  # linked by schedule, not titles (``schedule.SCHEDULE_REASON``)
    dirty: bool


class Snapshot:
    """The episode records of alive canonical episodes, grouped by canonical channel,
    read with one query and kept in step with the moves a run makes, so a run never
    reads a channel's episodes twice."""

    def __init__(self, since: Mark | None) -> None:
        self.by_channel: dict[int, list[Row]] = defaultdict(list)
        # channel → (names, views): a channel is compared with several candidates.
        self._views: dict[int, tuple[tuple[str, ...], list[EpisodeView]]] = {}
        rows = SourceEpisode.objects.filter(
            episode__isnull=False, episode__merged_into__isnull=True
        )
        values = rows.values_list(
            "id",
            "episode_id",
            "source",
            "source_channel_id",
            _json_text("title"),
            _json_text("published_at"),
            _json_text("duration_s"),
            _json_text("kind"),
            _json_text("episode_number"),
            _json_text("episode_type"),
            _json_text("published_precision"),
            Substr(_json_text("description_text"), 1, DESCRIPTION_READ_CHARS),
            "link_method",
            "link_status",
            "link_confidence",
            ExpressionWrapper(
                Q(link_explanation__startswith=SCHEDULE_REASON), output_field=BooleanField()
            ),
            "fetched_at",
            "first_seen_at",
            "linked_at",
            "episode__channel_id",
        )
        by_source_channel: dict[int, list[Row]] = defaultdict(list)
        for r in values.iterator(chunk_size=20_000):
            dirty = since is None or since.changed(r[16], r[17], r[18])
            row = Row(*r[:15], bool(r[15]), dirty)
            self.by_channel[r[19]].append(row)
            by_source_channel[row.source_channel_id].append(row)
        # A record never changes source channel, so its opening is fixed for the run.
        for rows in by_source_channel.values():
            openings = core_descriptions([row.description for row in rows])
            for row, opening in zip(rows, openings, strict=True):
                row.description = opening

    def move_channel(self, merged: int, survivor: int) -> None:
        self.by_channel[survivor].extend(self.by_channel.pop(merged, []))
        self._views.pop(merged, None)
        self._views.pop(survivor, None)

    def move_episodes(self, channel_id: int, moves: Iterable[EpisodeMove]) -> None:
        target = {m.merged: m.survivor for m in moves}
        self._views.pop(channel_id, None)
        for row in self.by_channel.get(channel_id, []):
            if row.episode_id in target:
                row.episode_id = target[row.episode_id]
                row.dirty = True  # its link just changed

    def move_record(self, channel_id: int, row: Row, episode_id: int, pair: PairScore) -> None:
        self._views.pop(channel_id, None)
        row.episode_id = episode_id
        row.link_method = LinkMethod.FUZZY
        row.link_confidence = round(pair.probability, 4)
        row.link_status = link_status(pair.probability, EPISODE_REVIEW_BELOW)
        row.dirty = True

    def views(self, channel_id: int, names: Iterable[str]) -> list[EpisodeView]:
        names = tuple(names)
        cached = self._views.get(channel_id)
        if cached is None or cached[0] != names:
            cached = (names, episode_views(self.by_channel.get(channel_id, []), list(names)))
            self._views[channel_id] = cached
        return cached[1]


def episode_views(
    records: list[Row], names: list[str], only: set[int] | None = None
) -> list[EpisodeView]:
    """One view per canonical episode; with ``only``, one per record of those ids (keyed
    by record id), its core title still learned from all of its channel's titles."""
    by_source_channel: dict[int, list[Row]] = defaultdict(list)
    for row in records:
        by_source_channel[row.source_channel_id].append(row)
    cores: dict[int, str] = {}
    for rows in by_source_channel.values():
        titles = [r.title for r in rows]
        for row, core in zip(rows, core_titles(titles, names), strict=True):
            cores[row.id] = core
    grouped: dict[int, list[Row]] = defaultdict(list)
    for row in records:
        if only is None:
            grouped[row.episode_id].append(row)
        elif row.id in only:
            grouped[row.id].append(row)
    views = []
    for episode_id, rows in grouped.items():
        rows.sort(key=lambda r: source_rank(r.source))
        # A calendar date (Spotify's, stored as midnight UTC) only when nothing says the
        # hour: as the earliest time it would be hours off the release.
        dated = [
            (t, date_precision(r.source, {"published_precision": r.precision}))
            for r in rows
            if (t := _seconds(r.published)) is not None
        ]
        precise = [t for t, coarse in dated if not coarse]
        published, precision = (min(precise), None) if precise else min(dated, default=(None, None))
        durations = [d for d in (_int(r.duration) for r in rows) if d]
        # Feeds say "trailer" in itunes:episodeType; the connectors' ``kind`` says it too.
        kinds = [r.kind or ("trailer" if r.episode_type == "trailer" else "episode") for r in rows]
        numbers: frozenset[int] = frozenset()
        part = None
        for r in rows:
            numbers |= episode_numbers(r.title)
            part = part if part is not None else part_number(r.title)
            number = _int(r.number)
            if number:
                numbers |= {number}
        views.append(
            EpisodeView(
                key=episode_id,
                cores=tuple(dict.fromkeys(cores[r.id] for r in rows)),
                descriptions=tuple(dict.fromkeys(r.description for r in rows if r.description)),
                published_s=published,
                precision=precision,
                duration_s=durations[0] if durations else None,
                numbers=numbers,
                part=part,
                kind="episode" if "episode" in kinds else kinds[0],
                sources=frozenset(r.source for r in rows),
                records=frozenset(r.id for r in rows),
                dirty=any(r.dirty for r in rows),
            )
        )
    views.sort(key=lambda v: v.key)
    return views
