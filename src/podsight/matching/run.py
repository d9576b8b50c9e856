"""``run_match``: link keyless channels across sources, then pair their episodes.

Linking moves records, never deletes: a merged-away channel or episode keeps its id and
points at the survivor (``merged_into``), so ids that were handed out keep resolving; the
moved records carry method ``fuzzy``, a confidence, an explanation and a status (``auto``,
or ``needs_review`` below the review band), and every move appends a
:class:`~podsight.matching.models.LinkEvent`. The survivor is the side holding the record
of the highest-priority source (RSS, Podcast Index, Apple, Spotify, YouTube), then the
older id.

Runs are incremental: after a first full run, a run scores only pairs in which at least
one side holds a record that is new or changed since the last finished run started
(``fetched_at`` moves only when a record's content changes). People's overrides
(:mod:`podsight.matching.review`) are applied before anything is scored, and a rejected
pair of records is never scored again.
"""

from __future__ import annotations

import math
from collections import defaultdict, deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from podsight.catalog.models import Episode
from podsight.catalog.services import refresh_episodes
from podsight.catalog.survivorship import SOURCE_PRIORITY
from podsight.matching.channels import (
    MIN_EPISODE_OVERLAP,
    MIN_NAME_SIMILARITY,
    SCHEDULE_MIN_NAME_SIMILARITY,
    ChannelEvidence,
    Cluster,
    NameIndex,
    decide,
    mention,
)
from podsight.matching.episodes import (
    FULL_KINDS,
    WINDOW_S,
    EpisodeView,
    PairScore,
    assign_one_to_one,
    can_link,
    candidate_pairs,
    score_pair,
)
from podsight.matching.models import Entity, LinkEvent, LinkOverride, MatchRun, OverrideAction
from podsight.matching.review import apply_overrides, link_origin
from podsight.matching.schedule import align_schedules
from podsight.matching.snapshot import (
    Mark,
    Row,
    Snapshot,
    channel_clusters,
    dirty_channels,
    episode_views,
)
from podsight.matching.writes import (
    CHANNEL_REVIEW_BELOW,
    EPISODE_REVIEW_BELOW,
    ChannelMerge,
    EpisodeMove,
    apply_channel_merges,
    apply_episode_moves,
    episode_survivor_first,
    link_status,
    survivor_first_of,
)
from podsight.sources.models import LinkMethod, LinkStatus, SourceEpisode

__all__ = ["MatchReport", "match_channel_episodes", "run_match"]

# A second candidate channel with at least this share of the best one's paired episodes
# makes the channel link ambiguous: it is made, but flagged for review.
AMBIGUOUS_RUNNER_UP = 0.8


@dataclass
class MatchReport:
    full: bool = True
    channels_compared: int = 0
    channels_linked: int = 0
    episode_pairs_compared: int = 0
    episodes_linked: int = 0
    episodes_relinked: int = 0  # matched records moved to a clearly better episode
    needs_review: int = 0
    overrides_applied: int = 0
    links: list[str] = field(default_factory=list)  # explanations of channel links

    def __str__(self) -> str:
        mode = "full" if self.full else "incremental"
        return (
            f"{mode} run · channels: {self.channels_linked} linked of {self.channels_compared} "
            f"pairs compared · episodes: {self.episodes_linked} linked of "
            f"{self.episode_pairs_compared} pairs compared, {self.episodes_relinked} re-linked "
            f"to a better match · {self.needs_review} link(s) need "
            f"review · {self.overrides_applied} override(s) applied"
        )


@dataclass
class _Context:
    now: datetime
    since: Mark | None
    report: MatchReport
    rejected: dict[str, set[frozenset[int]]]
    snapshot: Snapshot
    actor: str = "matcher"
    # Episode moves wait here and are written in large batches (the snapshot already
    # reflects them): one statement per table per batch instead of per channel.
    pending: list[EpisodeMove] = field(default_factory=list)
    # Channel merges likewise, written before the episode moves.
    pending_merges: list[ChannelMerge] = field(default_factory=list)

    def queue_moves(self, moves: list[EpisodeMove]) -> None:
        self.pending += moves
        if len(self.pending) >= MOVES_PER_WRITE:
            self.flush()

    def queue_merge(self, merge: ChannelMerge) -> None:
        self.pending_merges.append(merge)

    def flush(self) -> None:
        apply_channel_merges(self.pending_merges, self.now, self.actor)
        self.pending_merges = []
        apply_episode_moves(self.pending, self.now, self.actor)
        self.pending = []

    def rejects(self, entity: str, left: Iterable[int], right: Iterable[int]) -> bool:
        pairs = self.rejected.get(entity)
        if not pairs:
            return False
        right = list(right)
        return any(frozenset((a, b)) in pairs for a in left for b in right)


def _rejections() -> dict[str, set[frozenset[int]]]:
    out: dict[str, set[frozenset[int]]] = defaultdict(set)
    for entity, a, b in LinkOverride.objects.filter(action=OverrideAction.REJECT).values_list(
        "entity", "record_id", "other_record_id"
    ):
        out[entity].add(frozenset((a, b)))
    return out


def _pair_episodes(
    left: list[EpisodeView], right: list[EpisodeView], ctx: _Context
) -> list[PairScore]:
    scores = []
    within = left is right  # pairs inside one list: each unordered pair once
    for a, b in candidate_pairs(left, right):
        if (a.key >= b.key if within else a.key == b.key) or a.sources & b.sources:
            continue
        if not (a.dirty or b.dirty):
            continue  # both sides unchanged since a run that already scored them
        if ctx.rejects(Entity.EPISODE, a.records, b.records):
            continue
        ctx.report.episode_pairs_compared += 1
        scores.append(score_pair(a, b))
    return assign_one_to_one(scores)


def _comparable(views: list[EpisodeView], others: list[EpisodeView]) -> int:
    """How many of ``views`` could have a partner: full episodes (not clips, shorts or
    trailers) published while the other side was publishing too (a YouTube channel that
    started uploading halfway through the back catalogue is not missing the first half)."""
    times = [v.published_s for v in others if v.published_s is not None]
    if not times:
        return sum(1 for v in views if v.kind in FULL_KINDS)
    low, high = min(times) - WINDOW_S, max(times) + WINDOW_S
    return sum(
        1
        for v in views
        if v.kind in FULL_KINDS and (v.published_s is None or low <= v.published_s <= high)
    )


def _smaller_side(left: list[EpisodeView], right: list[EpisodeView]) -> int:
    """The overlap's denominator: the comparable episodes of the side with fewer."""
    return min(_comparable(left, right), _comparable(right, left))


@dataclass
class _Overlap:
    """What pairing two channels' episodes found (the episode part of their evidence)."""

    pairs: list[PairScore]
    smaller_side: int
    views: dict[int, EpisodeView]  # the paired episodes', by key


def _episode_overlap(left: Cluster, right: Cluster, ctx: _Context) -> _Overlap | None:
    """Pair the two channels' episodes one-to-one; ``None`` when a sample of them already
    shows too few partners."""
    if not _sample_overlaps(left, right, ctx):
        return None
    # Channel evidence always weighs every episode: a decision about two whole channels.
    # Each side's titles lose its own names; affixes naming the other side recur across
    # its titles and go as recurring segments (``core_titles``).
    left_views = [v._replace(dirty=True) for v in ctx.snapshot.views(left.channel_id, left.names)]
    right_views = ctx.snapshot.views(right.channel_id, right.names)
    pairs = _pair_episodes(left_views, right_views, ctx)
    paired = {key for pair in pairs for key in (pair.left, pair.right)}
    return _Overlap(
        pairs=pairs,
        smaller_side=_smaller_side(left_views, right_views),
        views={v.key: v for v in (*left_views, *right_views) if v.key in paired},
    )


SAMPLE = 10  # episodes of the keyless side tried before all of them are compared


def _sample_overlaps(left: Cluster, right: Cluster, ctx: _Context) -> bool:
    """Whether a few evenly spaced episodes of the smaller side find partners, at half
    the rate a link needs: candidates that fail cost a few comparisons, not hundreds."""
    views = ctx.snapshot.views(left.channel_id, left.names)
    others = ctx.snapshot.views(right.channel_id, right.names)
    if len(others) < len(views):  # sample the smaller side, as the overlap is measured
        views, others = others, views
    if len(views) <= 2 * SAMPLE:
        return True
    step = len(views) / SAMPLE
    sample = [views[int(i * step)] for i in range(SAMPLE)]
    # Sample episodes with any partner good enough to link: an upper bound on what the
    # one-to-one assignment would pair, so the screen never drops a pair that would pass.
    needed = math.ceil(MIN_EPISODE_OVERLAP / 2 * SAMPLE)
    found = tried = 0
    current = None
    for a, b in candidate_pairs(sample, others):
        if a is not current:  # pairs come grouped by sample episode
            current, tried, matched = a, tried + 1, False
            if tried - 1 - found > SAMPLE - needed:
                return False  # too many sample episodes without a partner already
        if matched or a.sources & b.sources:
            continue
        ctx.report.episode_pairs_compared += 1
        if can_link(a, b):
            found, matched = found + 1, True
            if found >= needed:
                return True
    return found >= needed


def match_channel_episodes(channel_id: int, names: list[str], ctx: _Context) -> int:
    """Pair this channel's episodes that come from different sources; returns links made."""
    views = ctx.snapshot.views(channel_id, names)
    if len({s for v in views for s in v.sources}) < 2 or not any(v.dirty for v in views):
        return 0
    pairs = _pair_episodes(views, views, ctx)
    return _link_episode_pairs(channel_id, pairs, {v.key: v for v in views}, ctx)


def pair_by_schedule(channel_id: int, names: list[str], ctx: _Context) -> int:
    """Pair the new episodes of a channel whose platforms were linked by schedule (their
    titles do not pair up): each such platform's records are aligned again with every
    other platform's in the channel, and pairs of records not yet linked to each other's
    platform are linked, for review. Returns links made."""
    rows = ctx.snapshot.by_channel.get(channel_id, [])
    scheduled = {row.source_channel_id for row in rows if row.by_schedule}
    if not scheduled or not any(row.dirty for row in rows):
        return 0
    by_source_channel: dict[int, list[Row]] = defaultdict(list)
    for row in rows:
        by_source_channel[row.source_channel_id].append(row)
    linked = 0
    for scheduled_id in sorted(scheduled):
        for other_id, others in sorted(by_source_channel.items()):
            mine = by_source_channel[scheduled_id]
            if other_id == scheduled_id or others[0].source == mine[0].source:
                continue
            pairs = _schedule_pairs(channel_id, mine, others, names, ctx)
            if pairs:
                views = {v.key: v for v in ctx.snapshot.views(channel_id, names)}
                linked += _link_episode_pairs(
                    channel_id, pairs, views, ctx, forced_status=LinkStatus.NEEDS_REVIEW
                )
    return linked


def _schedule_pairs(
    channel_id: int, mine: list[Row], others: list[Row], names: list[str], ctx: _Context
) -> list[PairScore]:
    """Pairs of canonical episodes from aligning two platforms' records in one channel:
    only records whose episodes hold nothing of the other platform yet, and not both
    unchanged since the last run."""
    mine_episodes = {row.episode_id for row in mine}
    other_episodes = {row.episode_id for row in others}
    open_mine = [r for r in mine if r.episode_id not in other_episodes]
    open_others = [r for r in others if r.episode_id not in mine_episodes]
    if not any(r.dirty for r in (*open_mine, *open_others)) or not (open_mine and open_others):
        return []
    mine_ids = {r.id for r in mine}
    records = episode_views(
        ctx.snapshot.by_channel[channel_id], names, only=mine_ids | {r.id for r in others}
    )
    left = [v for v in records if v.key in mine_ids]
    right = [v for v in records if v.key not in mine_ids]
    comparable = _smaller_side(left, right)
    alignment = align_schedules(left, right, comparable)
    if alignment is None or not alignment.aligned:
        return []
    row_of = {r.id: r for r in (*open_mine, *open_others)}
    episodes = {v.key: v for v in ctx.snapshot.views(channel_id, names)}
    pairs = []
    for pair in alignment.pairs:
        a, b = row_of.get(pair.left), row_of.get(pair.right)
        if a is None or b is None or not (a.dirty or b.dirty):
            continue
        # Each may hold a third platform's record already (RSS and Spotify, aligned with
        # YouTube in turn): never two of one platform, never a pair someone rejected.
        left, right = episodes[a.episode_id], episodes[b.episode_id]
        if left.sources & right.sources:
            continue
        if ctx.rejects(Entity.EPISODE, left.records, right.records):
            continue
        pairs.append(replace(pair, left=a.episode_id, right=b.episode_id))
    return pairs


def _link_episode_pairs(
    channel_id: int,
    pairs: list[PairScore],
    by_key: dict[int, EpisodeView],
    ctx: _Context,
    forced_status: str | None = None,
) -> int:
    """Link each pair; ``forced_status`` overrides the one their probabilities give."""
    moves = []
    for pair in pairs:
        survivor, merged = episode_survivor_first(pair, by_key)
        confidence = round(pair.probability, 4)
        status = forced_status or link_status(pair.probability, EPISODE_REVIEW_BELOW)
        ctx.report.needs_review += status == LinkStatus.NEEDS_REVIEW
        moves.append(
            EpisodeMove(
                survivor=survivor,
                merged=merged,
                records=by_key[merged].records,
                method=LinkMethod.FUZZY,
                confidence=confidence,
                explanation=pair.explanation,
                status=status,
            )
        )
    ctx.queue_moves(moves)
    ctx.snapshot.move_episodes(channel_id, moves)
    return len(moves)


MOVES_PER_WRITE = 20_000
LINKS_PER_TRANSACTION = 200

# A matched record moves to a new episode only when the new pair scores this many bits
# above the link it has: a near tie (a re-upload) never takes a link away.
RELINK_MARGIN_BITS = 2.0


def _bits(probability: float | None) -> float:
    if probability is None or probability >= 1:
        return math.inf
    return math.log2(probability / (1 - probability)) if probability > 0 else -math.inf


def relink_better_matches(channel_id: int, names: list[str], ctx: _Context) -> int:
    """Move matched records to new episodes they match clearly better than the episode
    they were linked to (an RSS episode that arrived after its YouTube upload had been
    paired with a neighbour). Returns how many moved; each move keeps its history as a
    :class:`LinkEvent`, and people's links (confirmed, manual) never move."""
    views = ctx.snapshot.views(channel_id, names)
    fresh = [v for v in views if v.dirty and len(v.records) == 1]
    if not fresh:
        return 0
    rows = ctx.snapshot.by_channel.get(channel_id, [])
    group_size: dict[int, int] = defaultdict(int)
    for row in rows:
        group_size[row.episode_id] += 1
    movable = {
        row.id: row
        for row in rows
        if row.link_method == LinkMethod.FUZZY
        and row.link_status != LinkStatus.CONFIRMED
        and group_size[row.episode_id] > 1
    }
    if not movable:
        return 0
    records = episode_views(rows, names, only=set(movable))
    better = []
    for new, record in candidate_pairs(fresh, records):
        if new.sources & record.sources or ctx.rejects(Entity.EPISODE, new.records, [record.key]):
            continue
        ctx.report.episode_pairs_compared += 1
        score = score_pair(new, record)
        if score.weight >= _bits(movable[record.key].link_confidence) + RELINK_MARGIN_BITS:
            better.append(score)
    moved = 0
    for pair in assign_one_to_one(better):
        row = movable[pair.right]
        _move_record(row, pair.left, pair, ctx)
        ctx.snapshot.move_record(channel_id, row, pair.left, pair)
        moved += 1
    return moved


def _move_record(row: Row, episode_id: int, pair: PairScore, ctx: _Context) -> None:

    ctx.flush()  # the record's history below is read from the database
    previous = row.episode_id
    confidence = round(pair.probability, 4)
    status = link_status(pair.probability, EPISODE_REVIEW_BELOW)
    ctx.report.needs_review += status == LinkStatus.NEEDS_REVIEW
    explanation = (
        f"{pair.explanation}; re-linked from episode {previous} (p {row.link_confidence:.4f} there)"
    )
    with transaction.atomic():
        SourceEpisode.objects.filter(pk=row.id).update(
            episode_id=episode_id,
            link_method=LinkMethod.FUZZY,
            link_confidence=confidence,
            link_explanation=explanation,
            link_status=status,
            linked_at=ctx.now,
        )
        # The row the record came from answers with its new episode from now on.
        origin = link_origin(Entity.EPISODE, row.id, previous)
        if origin is not None and origin != episode_id:
            Episode.objects.filter(pk=origin).update(merged_into_id=episode_id, updated_at=ctx.now)
        LinkEvent.objects.create(
            entity=Entity.EPISODE,
            record_id=row.id,
            from_canonical=previous,
            to_canonical=episode_id,
            method=LinkMethod.FUZZY,
            status=status,
            confidence=confidence,
            explanation=explanation,
            actor=ctx.actor,
            at=ctx.now,
        )
        refresh_episodes({previous, episode_id})


def _candidates(
    cluster: Cluster, index: NameIndex, merged: set[int], ctx: _Context
) -> Iterator[tuple[float, Cluster, str | None]]:
    """Channels worth comparing episodes with: (name similarity, channel, mentioned name)."""
    for similarity, other in index.candidates(cluster):
        if other.channel_id in merged or not (cluster.dirty or other.dirty):
            continue
        if ctx.rejects(Entity.CHANNEL, cluster.record_ids, other.record_ids):
            continue
        mentioned = mention(cluster, other)
        if similarity < MIN_NAME_SIMILARITY and not mentioned:
            continue  # cannot pass ``decide``: spare the episode comparison
        yield similarity, other, mentioned


def _best_channel(
    cluster: Cluster,
    index: NameIndex,
    merged: set[int],
    ctx: _Context,
) -> tuple[ChannelEvidence, str] | None:
    """The candidate channel with the strongest evidence, and the link's status."""
    passing: list[ChannelEvidence] = []
    titles_failed: list[tuple[float, Cluster, str | None]] = []
    for similarity, other, mentioned in _candidates(cluster, index, merged, ctx):
        ctx.report.channels_compared += 1
        overlap = _episode_overlap(cluster, other, ctx)
        if overlap is None or len(overlap.pairs) < MIN_EPISODE_OVERLAP * overlap.smaller_side:
            if similarity >= SCHEDULE_MIN_NAME_SIMILARITY or mentioned:
                titles_failed.append((similarity, other, mentioned))
        if overlap is None:
            continue
        evidence = ChannelEvidence(
            left=cluster,
            right=other,
            names=similarity,
            mentioned=mentioned,
            pairs=overlap.pairs,
            smaller_side=overlap.smaller_side,
            views=overlap.views,
        )
        if decide(evidence):
            passing.append(evidence)
    if not passing:
        passing = [
            evidence
            for similarity, other, mentioned in titles_failed
            if (evidence := _schedule_evidence(cluster, other, similarity, mentioned, ctx))
            and decide(evidence)
        ]
    if not passing:
        return None
    passing.sort(key=lambda e: (-e.matched, -e.confidence, e.right.channel_id))
    best = passing[0]
    status = link_status(best.confidence, CHANNEL_REVIEW_BELOW)
    if best.schedule is not None:
        status = LinkStatus.NEEDS_REVIEW  # nothing but a schedule and a name: a person checks
    if len(passing) > 1 and passing[1].matched >= AMBIGUOUS_RUNNER_UP * best.matched:
        status = LinkStatus.NEEDS_REVIEW
    return best, status


def _schedule_evidence(
    cluster: Cluster, other: Cluster, similarity: float, mentioned: str | None, ctx: _Context
) -> ChannelEvidence | None:
    """Evidence from the two channels' schedules, for a pair whose titles do not pair up
    (a channel that titles a non-English show's videos in English)."""
    left = ctx.snapshot.views(cluster.channel_id, cluster.names)
    right = ctx.snapshot.views(other.channel_id, other.names)
    comparable = _smaller_side(left, right)
    alignment = align_schedules(left, right, comparable)
    if alignment is None:
        return None
    paired = {key for pair in alignment.pairs for key in (pair.left, pair.right)}
    return ChannelEvidence(
        left=cluster,
        right=other,
        names=similarity,
        mentioned=mentioned,
        pairs=alignment.pairs,
        smaller_side=comparable,
        views={v.key: v for v in (*left, *right) if v.key in paired},
        schedule=alignment,
    )


def _link_channels(ctx: _Context, clusters: list[Cluster]) -> set[int]:
    """Link keyless channels, with the episodes their evidence paired; returns
    the channels whose episodes still need pairing within the channel: those that held
    records of several sources before, and have new or changed ones."""
    index = NameIndex(clusters)
    merged: set[int] = set()
    final: dict[int, int] = {}  # merged-away channel → the channel it went into
    # Before linking: linking below widens the clusters' sources.
    multi_source = {c.channel_id for c in clusters if len(c.sources) > 1 and c.dirty}
    # A Spotify show and a YouTube channel may find each other before either finds the
    # feed: the pair is keyless still and goes round again.
    queue = deque(c for c in clusters if c.keyless)
    while queue:
        # Commits in groups of links: one per link costs more than the link itself, and a
        # run-long transaction would lock out a sync writing meanwhile.
        with transaction.atomic():
            for _ in range(LINKS_PER_TRANSACTION):
                if not queue:
                    break
                _link_one(queue.popleft(), queue, index, merged, final, ctx)
            ctx.flush()

    def alive(channel_id: int) -> int:
        while channel_id in final:
            channel_id = final[channel_id]
        return channel_id

    return {alive(c) for c in multi_source}


def _link_one(
    cluster: Cluster,
    queue: deque[Cluster],
    index: NameIndex,
    merged: set[int],
    final: dict[int, int],
    ctx: _Context,
) -> None:
    """Link one keyless cluster to its best channel, if any passes."""
    if cluster.channel_id in merged:
        return
    found = _best_channel(cluster, index, merged, ctx)
    if found is None:
        return
    evidence, status = found
    other = evidence.right
    explanation = evidence.explanation  # before the clusters below absorb each other
    # The clusters know their records' sources: the same rule as ``merge_channels``,
    # without asking the database.
    survivor, gone = survivor_first_of({c.channel_id: c.sources for c in (cluster, other)})
    ctx.queue_merge(
        ChannelMerge(survivor, gone, LinkMethod.FUZZY, evidence.confidence, explanation, status)
    )
    ctx.report.needs_review += status == LinkStatus.NEEDS_REVIEW
    ctx.snapshot.move_channel(gone, survivor)
    # The evidence already paired the two sides' episodes one-to-one: link them now.
    ctx.report.episodes_linked += _link_episode_pairs(
        survivor,
        evidence.pairs,
        evidence.views,
        ctx,
        forced_status=LinkStatus.NEEDS_REVIEW if evidence.schedule else None,
    )
    merged.add(gone)
    final[gone] = survivor
    kept = index.clusters[survivor]
    index.mentions[survivor] |= index.mentions.get(gone, set())
    for part in (cluster, other):  # the survivor now speaks for both
        if part is not kept:
            kept.sources |= part.sources
            kept.names += [n for n in part.names if n not in kept.names]
            kept.descriptions += part.descriptions
            kept.record_labels += part.record_labels
            kept.record_ids |= part.record_ids
    kept.dirty = True
    ctx.report.channels_linked += 1
    ctx.report.links.append(explanation)
    if kept.keyless:
        queue.append(kept)


def _last_mark() -> Mark | None:
    run = MatchRun.objects.filter(finished_at__isnull=False).order_by("-id").first()
    return Mark(run.started_at, run.finished_at) if run else None


def run_match(
    *,
    full: bool = False,
    now: datetime | None = None,
    on_channel: Callable[[int, int], None] | None = None,
) -> MatchReport:
    """Link keyless channels (Spotify, YouTube) to the channels they are, then pair the
    episodes of every channel holding records from more than one source.

    Incremental unless ``full`` or no run has finished before. ``on_channel(done, total)``
    reports progress over the channels whose episodes are paired.
    """
    now = now or timezone.now()
    since = None if full else _last_mark()
    report = MatchReport(full=since is None)
    run = MatchRun.objects.create(started_at=now, full=since is None)
    report.overrides_applied = apply_overrides(now=now)
    dirty = dirty_channels(since)
    ctx = _Context(
        now=now,
        since=since,
        report=report,
        rejected=_rejections(),
        snapshot=Snapshot(since),
    )
    clusters = channel_clusters(dirty)
    names = {c.channel_id: c.names for c in clusters}
    ordered = sorted(_link_channels(ctx, clusters))
    for done, channel_id in enumerate(ordered, 1):
        # Each round pairs an episode at most once; an episode on three platforms (RSS,
        # Spotify, YouTube) needs a second round to gather its third record.
        for _round in range(len(SOURCE_PRIORITY)):
            linked = match_channel_episodes(channel_id, names[channel_id], ctx)
            report.episodes_linked += linked
            if not linked:
                break
        report.episodes_linked += pair_by_schedule(channel_id, names[channel_id], ctx)
        report.episodes_relinked += relink_better_matches(channel_id, names[channel_id], ctx)
        if on_channel:
            on_channel(done, len(ordered))
    ctx.flush()
    run.finished_at = timezone.now()
    run.report = {k: v for k, v in asdict(report).items() if k != "links"}
    run.save(update_fields=["finished_at", "report"])
    return report
