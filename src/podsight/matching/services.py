"""``run_match``: link keyless channels across sources, then pair their episodes.

Linking moves records, never deletes: a merged-away channel or episode keeps its id and
points at the survivor (``merged_into``), so ids that were handed out keep resolving; the
moved records carry method ``fuzzy``, a confidence and an explanation. The survivor is the
side holding the record of the highest-priority source (RSS, Podcast Index, Apple,
Spotify, YouTube), then the older id.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from podsight.catalog.models import Channel, Episode
from podsight.catalog.services import apply_channel_values, refresh_episodes
from podsight.catalog.survivorship import SOURCE_PRIORITY
from podsight.matching.channels import (
    ChannelEvidence,
    Cluster,
    NameIndex,
    decide,
    mention,
    name_similarity,
)
from podsight.matching.episodes import (
    EpisodeView,
    PairScore,
    assign_one_to_one,
    candidate_pairs,
    score_pair,
)
from podsight.matching.text import core_titles, episode_numbers, normalise_text, part_number
from podsight.sources.models import LinkMethod, SourceChannel, SourceEpisode

__all__ = ["MatchReport", "episode_views", "match_channel_episodes", "run_match"]


@dataclass
class MatchReport:
    channels_compared: int = 0
    channels_linked: int = 0
    episode_pairs_compared: int = 0
    episodes_linked: int = 0
    links: list[str] = field(default_factory=list)  # explanations of channel links

    def __str__(self) -> str:
        return (
            f"channels: {self.channels_linked} linked of {self.channels_compared} pairs "
            f"compared · episodes: {self.episodes_linked} linked of "
            f"{self.episode_pairs_compared} pairs compared"
        )


def _rank(source: str) -> int:
    return SOURCE_PRIORITY.index(source) if source in SOURCE_PRIORITY else len(SOURCE_PRIORITY)


def _clusters() -> list[Cluster]:
    by_channel: dict[int, list[SourceChannel]] = defaultdict(list)
    for record in SourceChannel.objects.filter(
        channel__isnull=False, channel__merged_into__isnull=True
    ).only("id", "source", "external_id", "data", "channel_id"):
        by_channel[record.channel_id].append(record)
    titles = dict(Channel.objects.filter(pk__in=by_channel).values_list("pk", "title"))
    clusters = []
    for channel_id, records in sorted(by_channel.items()):
        names = [titles.get(channel_id) or ""]
        descriptions = []
        for record in records:
            names += [record.data.get("title") or "", record.data.get("author") or ""]
            descriptions.append(normalise_text(record.data.get("description_text")))
        clusters.append(
            Cluster(
                channel_id=channel_id,
                sources=frozenset(r.source for r in records),
                names=[n for n in dict.fromkeys(names) if n],
                descriptions=[d for d in descriptions if d],
                record_labels=[f"{r.source}:{r.external_id}" for r in records],
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


def episode_views(channel_ids: Iterable[int], names: Iterable[str]) -> list[EpisodeView]:
    """The alive canonical episodes of these channels as :class:`EpisodeView`\\ s.

    Core titles are computed per source channel record (its decorations are its own),
    with ``names`` (the show's and channels' names) counted as decorations.
    """
    records = list(
        SourceEpisode.objects.filter(
            episode__channel_id__in=list(channel_ids), episode__merged_into__isnull=True
        ).values_list("episode_id", "source", "source_channel_id", "data")
    )
    names = list(names)
    by_source_channel: dict[int, list[int]] = defaultdict(list)
    for index, (_episode, _source, source_channel, _data) in enumerate(records):
        by_source_channel[source_channel].append(index)
    cores: dict[int, str] = {}
    for indexes in by_source_channel.values():
        titles = [records[i][3].get("title") for i in indexes]
        for i, core in zip(indexes, core_titles(titles, names), strict=True):
            cores[i] = core
    grouped: dict[int, list[int]] = defaultdict(list)
    for index, record in enumerate(records):
        grouped[record[0]].append(index)
    views = []
    for episode_id, indexes in grouped.items():
        rows = sorted((records[i] for i in indexes), key=lambda r: _rank(r[1]))
        times = [t for t in (_seconds(r[3].get("published_at")) for r in rows) if t is not None]
        durations = [r[3].get("duration_s") for r in rows if r[3].get("duration_s")]
        kinds = [r[3].get("kind") or "episode" for r in rows]
        numbers: frozenset[int] = frozenset()
        part = None
        for r in rows:
            numbers |= episode_numbers(r[3].get("title"))
            part = part if part is not None else part_number(r[3].get("title"))
            number = r[3].get("episode_number")
            if isinstance(number, int) and number > 0:
                numbers |= {number}
        views.append(
            EpisodeView(
                key=episode_id,
                cores=tuple(dict.fromkeys(cores[i] for i in indexes)),
                published_s=min(times) if times else None,
                duration_s=durations[0] if durations else None,
                numbers=numbers,
                part=part,
                kind="episode" if "episode" in kinds else kinds[0],
                sources=frozenset(r[1] for r in rows),
            )
        )
    views.sort(key=lambda v: v.key)
    return views


def _pair_episodes(left: list[EpisodeView], right: list[EpisodeView], report: MatchReport):
    scores = []
    within = left is right  # pairs inside one list: each unordered pair once
    for a, b in candidate_pairs(left, right):
        if (a.key >= b.key if within else a.key == b.key) or a.sources & b.sources:
            continue
        report.episode_pairs_compared += 1
        scores.append(score_pair(a, b))
    return assign_one_to_one(scores)


def _evidence(left: Cluster, right: Cluster, report: MatchReport) -> ChannelEvidence:
    names = left.names + right.names
    left_views = episode_views([left.channel_id], names)
    right_views = episode_views([right.channel_id], names)
    pairs = _pair_episodes(left_views, right_views, report)
    return ChannelEvidence(
        left=left,
        right=right,
        names=name_similarity(left, right),
        mentioned=mention(left, right),
        pairs=pairs,
        smaller_side=min(len(left_views), len(right_views)),
    )


def _survivor_first(a: int, b: int) -> tuple[int, int]:
    best: dict[int, tuple[int, int]] = {}
    for channel_id, source in SourceChannel.objects.filter(channel_id__in=[a, b]).values_list(
        "channel_id", "source"
    ):
        rank = (_rank(source), channel_id)
        best[channel_id] = min(best.get(channel_id, rank), rank)
    return (a, b) if best.get(a, (99, a)) <= best.get(b, (99, b)) else (b, a)


@transaction.atomic
def _merge_channels(evidence: ChannelEvidence, now: datetime) -> int:
    survivor, merged = _survivor_first(evidence.left.channel_id, evidence.right.channel_id)
    SourceChannel.objects.filter(channel_id=merged).update(
        channel_id=survivor,
        link_method=LinkMethod.FUZZY,
        link_confidence=evidence.confidence,
        link_explanation=evidence.explanation,
        linked_at=now,
    )
    Episode.objects.filter(channel_id=merged).update(channel_id=survivor)
    Channel.objects.filter(pk=merged).update(merged_into_id=survivor)
    channel = Channel.objects.get(pk=survivor)
    apply_channel_values(channel, list(channel.source_records.all()))
    return survivor


def _episode_survivor_first(pair: PairScore, views: dict[int, EpisodeView]) -> tuple[int, int]:
    def rank(key: int) -> tuple[int, int]:
        return (min(_rank(s) for s in views[key].sources), key)

    return (
        (pair.left, pair.right) if rank(pair.left) <= rank(pair.right) else (pair.right, pair.left)
    )


@transaction.atomic
def match_channel_episodes(channel_id: int, report: MatchReport, now: datetime) -> int:
    """Pair this channel's episodes that come from different sources; returns links made."""
    names = list(
        dict.fromkeys(
            n
            for record in SourceChannel.objects.filter(channel_id=channel_id)
            for n in (record.data.get("title"), record.data.get("author"))
            if n
        )
    )
    views = episode_views([channel_id], names)
    if len({s for v in views for s in v.sources}) < 2:
        return 0
    pairs = _pair_episodes(views, views, report)
    by_key = {v.key: v for v in views}
    survivors = set()
    for pair in pairs:
        survivor, merged = _episode_survivor_first(pair, by_key)
        SourceEpisode.objects.filter(episode_id=merged).update(
            episode_id=survivor,
            link_method=LinkMethod.FUZZY,
            link_confidence=round(pair.probability, 4),
            link_explanation=pair.explanation,
            linked_at=now,
        )
        Episode.objects.filter(pk=merged).update(merged_into_id=survivor)
        survivors.add(survivor)
    refresh_episodes(survivors)
    return len(pairs)


def run_match(*, now: datetime | None = None) -> MatchReport:
    """Link keyless channels (Spotify, YouTube) to the channels they are, then pair the
    episodes of every channel holding records from more than one source."""
    now = now or timezone.now()
    report = MatchReport()
    clusters = _clusters()
    index = NameIndex(clusters)
    merged: set[int] = set()
    touched: set[int] = set()
    for cluster in clusters:
        if cluster.channel_id in merged or not cluster.keyless_singleton:
            continue
        for _similarity, other in index.candidates(cluster):
            if other.channel_id in merged:
                continue
            report.channels_compared += 1
            evidence = _evidence(cluster, other, report)
            if not decide(evidence):
                continue
            explanation = evidence.explanation  # before the clusters below absorb each other
            survivor = _merge_channels(evidence, now)
            gone = other.channel_id if survivor == cluster.channel_id else cluster.channel_id
            merged.add(gone)
            kept = index.clusters[survivor]
            for part in (cluster, other):  # the survivor now speaks for both
                if part is not kept:
                    kept.sources |= part.sources
                    kept.names += [n for n in part.names if n not in kept.names]
                    kept.descriptions += part.descriptions
                    kept.record_labels += part.record_labels
            touched.add(survivor)
            report.channels_linked += 1
            report.links.append(explanation)
            break
    multi_source = {c.channel_id for c in clusters if len(c.sources) > 1} | touched
    for channel_id in sorted(multi_source - merged):
        # Each round pairs an episode at most once; an episode on three platforms (RSS,
        # Spotify, YouTube) needs a second round to gather its third record.
        for _round in range(len(SOURCE_PRIORITY)):
            linked = match_channel_episodes(channel_id, report, now)
            report.episodes_linked += linked
            if not linked:
                break
    return report
