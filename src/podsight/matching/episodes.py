"""Episode pairs: blocking by publish time, features, a Fellegi–Sunter score, one-to-one.

Two episodes are compared only when they were published within :data:`WINDOW_S` of each
other (sorted lists and bisection: no all-pairs). Each feature falls into a level, and each
level adds its weight, log2(m/u) in bits, where m is how often true pairs show that level and
u how often non-pairs in the same time block do. The sum plus the prior (the log-odds that
two episodes of one block are the same) gives the match probability ``2^w / (1 + 2^w)``.
The weights are in :data:`WEIGHTS`; ``docs/matching.md`` says where each comes from.
Pairs are then assigned one-to-one, best score first, so a trailer or clip can never take a
full episode's link from the full upload.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from rapidfuzz import fuzz

__all__ = [
    "ACCEPT_P",
    "WEIGHTS",
    "WINDOW_S",
    "EpisodeView",
    "PairScore",
    "assign_one_to_one",
    "can_link",
    "feature_levels",
    "candidate_pairs",
    "score_pair",
]

DAY = 86_400
WINDOW_S = 14 * DAY  # platforms publish the same episode hours to days apart
ACCEPT_P = 0.95  # links at or above this probability are made
FULL_KINDS = frozenset({"episode", "live", ""})
# Durations this close are the same length whatever the ratio (rounding, a jingle); up to
# AD_LENGTH_S apart is what dynamic ads and a video-only intro add, which for a short
# episode is a large share of it.
SAME_LENGTH_S = 20
AD_LENGTH_S = 300

# Weights in bits (log2 m/u) per feature level.
WEIGHTS: dict[str, float] = {
    "prior": -4.0,  # ~1 in 16 pairs within a two-week block is a true pair
    "title>=0.97": 8.0,
    "title>=0.90": 6.0,
    "title>=0.80": 3.0,
    "title>=0.65": 0.0,
    "title<0.65": -6.0,
    "gap<=1d": 4.0,
    "gap<=3d": 1.5,
    "gap<=7d": -1.0,
    "gap>7d": -4.0,
    "duration<=2%": 3.0,  # or ≤ SAME_LENGTH_S apart
    "duration<=8%": 1.5,  # or ≤ AD_LENGTH_S apart
    "duration<=25%": -1.0,
    "duration>25%": -5.0,
    "number=": 3.0,
    "number≠": -6.0,
    "part≠": -6.0,
    "kind≠": -12.0,  # a trailer, clip or short against a full episode
    # The opening of the show notes, copied from the feed to Spotify and YouTube (real
    # Huberman Lab pairs: identical). Evidence only when it agrees: platforms often write
    # their own, so disagreement says little. m/u on the demo world is +2.7 bits, where
    # templated notes make 10% of other pairs alike; real notes differ more across
    # episodes. Below 4.25 bits, so a pair whose title is far off stays ruled out by its
    # title alone (and that early exit stays).
    "description>=0.90": 3.0,
}


class EpisodeView(NamedTuple):
    """What matching knows of one episode (a canonical episode, or one record).

    A named tuple, not a frozen dataclass: a run builds one per episode (4 × 10⁵ at the
    scale benchmark), and a tuple builds several times faster.
    """

    key: int  # the caller's id for it
    cores: tuple[str, ...]  # core titles (matching.text.core_titles), one per record
    published_s: float | None  # unix seconds, earliest of its records
    duration_s: int | None
    numbers: frozenset[int] = frozenset()
    part: int | None = None
    kind: str = "episode"
    sources: frozenset[str] = frozenset()
    records: frozenset[int] = frozenset()  # SourceEpisode ids
    dirty: bool = True  # holds a record new or changed since the last run
    precision: str | None = None  # "day", "month", "year": published_s is a calendar date
    descriptions: tuple[str, ...] = ()  # description openings (text.core_descriptions)


@dataclass(frozen=True)
class PairScore:
    left: int
    right: int
    weight: float
    probability: float
    reasons: tuple[str, ...]

    @property
    def explanation(self) -> str:
        return f"{'; '.join(self.reasons)}; {self.weight:+.1f} bits → p {self.probability:.4f}"


def _title_similarity(left: Sequence[str], right: Sequence[str]) -> float:
    best = 0.0
    for a in left:
        for b in right:
            if not a or not b:
                continue
            # token_set_ratio forgives a title shortened on one platform; discounted
            # so that an exact title still ranks above a subset. Below the lowest title
            # level the exact value does not matter: the cutoffs let rapidfuzz stop early.
            ratio = fuzz.ratio(a, b, score_cutoff=_TITLE_CUTOFF)
            if ratio < 100:
                subset = fuzz.token_set_ratio(a, b, score_cutoff=_TITLE_CUTOFF / 0.95)
                ratio = max(ratio, 0.95 * subset)
            best = max(best, ratio / 100)
    return best


_TITLE_CUTOFF = 65.0  # the lowest title level's bound, in rapidfuzz's 0–100 scale
_TITLE_LEVELS = (
    (0.97, "title>=0.97"),
    (0.90, "title>=0.90"),
    (0.80, "title>=0.80"),
    (0.65, "title>=0.65"),
)


def _level(value: float, levels: Sequence[tuple[float, str]], last: str) -> str:
    for bound, name in levels:
        if value >= bound:
            return name
    return last


def score_pair(left: EpisodeView, right: EpisodeView) -> PairScore:
    return _score(left, right, _title_similarity(left.cores, right.cores))


def feature_levels(left: EpisodeView, right: EpisodeView) -> list[str]:
    """The level of each feature the pair has (keys of :data:`WEIGHTS`): what
    ``bench/calibrate_weights.py`` counts to estimate the weights."""
    similarity = _title_similarity(left.cores, right.cores)
    levels = [level for level, _ in _levels(left, right, similarity)]
    described = _description_level(left, right)
    return levels + [described[0]] if described else levels


def _levels(left: EpisodeView, right: EpisodeView, similarity: float) -> Iterator[tuple[str, str]]:
    """(level, what it says) for each feature the pair has, the title first; lazily, so a
    pair whose title already rules it out computes nothing else."""
    yield _level(similarity, _TITLE_LEVELS, "title<0.65"), f"title {similarity:.2f}"

    if left.published_s is not None and right.published_s is not None:
        gap = abs(left.published_s - right.published_s)
        level = (
            "gap<=1d"
            if gap <= DAY
            else "gap<=3d"
            if gap <= 3 * DAY
            else "gap<=7d"
            if gap <= 7 * DAY
            else "gap>7d"
        )
        yield level, f"published {_hours(gap)} apart"

    if left.duration_s and right.duration_s:
        difference = abs(left.duration_s - right.duration_s)
        ratio = difference / max(left.duration_s, right.duration_s)
        level = (
            "duration<=2%"
            if ratio <= 0.02 or difference <= SAME_LENGTH_S
            else "duration<=8%"
            if ratio <= 0.08 or difference <= AD_LENGTH_S
            else "duration<=25%"
            if ratio <= 0.25
            else "duration>25%"
        )
        yield level, f"durations {_duration_gap(difference)} ({ratio:.0%}) apart"

    if left.numbers and right.numbers:
        shown = "/".join(str(n) for n in sorted(left.numbers))
        if left.numbers & right.numbers:
            yield "number=", f"episode #{shown} on both"
        else:
            other = "/".join(str(n) for n in sorted(right.numbers))
            yield "number≠", f"episode #{shown} vs #{other}"
    if left.part is not None and right.part is not None and left.part != right.part:
        yield "part≠", f"part {left.part} vs {right.part}"

    if (left.kind in FULL_KINDS) != (right.kind in FULL_KINDS):
        yield "kind≠", f"{left.kind or 'episode'} vs {right.kind or 'episode'}"


def _description_level(left: EpisodeView, right: EpisodeView) -> tuple[str, str] | None:
    """The description's level and what it says, when the openings agree."""
    best = 0.0
    for a in left.descriptions:
        for b in right.descriptions:
            best = max(best, fuzz.ratio(a, b, score_cutoff=90) / 100)
    return ("description>=0.90", f"descriptions {best:.2f} alike") if best else None


def _score(left: EpisodeView, right: EpisodeView, similarity: float) -> PairScore:
    weight = WEIGHTS["prior"]
    reasons: list[str] = []
    for level, said in _levels(left, right, similarity):
        weight += WEIGHTS[level]
        reasons.append(f"{said} ({WEIGHTS[level]:+.1f})")
        if len(reasons) == 1 and weight + _MAX_REST < _FLOOR_BITS:
            # No other feature can lift this pair to a link: skip them (most pairs of a
            # time block end here, which keeps blocking cheap at 10⁵ episodes).
            return PairScore(left.key, right.key, weight, _probability(weight), tuple(reasons))
    # The descriptions last, and only when they could still make the link: comparing
    # two openings costs more than all the other features together.
    described = (
        _description_level(left, right)
        if weight + WEIGHTS["description>=0.90"] >= _FLOOR_BITS
        and left.descriptions
        and right.descriptions
        else None
    )
    if described:
        level, said = described
        weight += WEIGHTS[level]
        reasons.append(f"{said} ({WEIGHTS[level]:+.1f})")
    return PairScore(left.key, right.key, weight, _probability(weight), tuple(reasons))


def can_link(left: EpisodeView, right: EpisodeView) -> bool:
    """Whether the pair scores at least :data:`ACCEPT_P`: :func:`score_pair`'s verdict,
    with the usual case (titles too far apart) decided before anything is built."""
    similarity = _title_similarity(left.cores, right.cores)
    title_level = _level(similarity, _TITLE_LEVELS, "title<0.65")
    if WEIGHTS["prior"] + WEIGHTS[title_level] + _MAX_REST < _FLOOR_BITS:
        return False
    return _score(left, right, similarity).probability >= ACCEPT_P


def _probability(weight: float) -> float:
    return 1 / (1 + math.pow(2, -weight))


# The most the features after the title can add, and the weight below which a pair can
# never reach ACCEPT_P.
_MAX_REST = (
    WEIGHTS["gap<=1d"] + WEIGHTS["duration<=2%"] + WEIGHTS["number="] + WEIGHTS["description>=0.90"]
)
_FLOOR_BITS = math.log2(ACCEPT_P / (1 - ACCEPT_P))


def _duration_gap(seconds: int) -> str:
    return f"{seconds} s" if seconds < 120 else f"{seconds / 60:.0f} min"


def _hours(seconds: float) -> str:
    hours = seconds / 3600
    return f"{hours:.0f} h" if hours < 48 else f"{hours / 24:.1f} days"


def candidate_pairs(
    left: Sequence[EpisodeView], right: Sequence[EpisodeView], window_s: float = WINDOW_S
) -> Iterable[tuple[EpisodeView, EpisodeView]]:
    """Pairs published within ``window_s`` of each other; undated episodes pair with all
    of the other side only when that side is small (a show's worth)."""
    dated = sorted((e for e in right if e.published_s is not None), key=lambda e: e.published_s)
    times = [e.published_s for e in dated]
    undated_right = [e for e in right if e.published_s is None]
    for episode in left:
        if episode.published_s is None:
            if len(right) <= 500:
                yield from ((episode, other) for other in right)
            continue
        start = bisect.bisect_left(times, episode.published_s - window_s)
        stop = bisect.bisect_right(times, episode.published_s + window_s)
        for other in dated[start:stop]:
            yield episode, other
        if len(left) <= 500:
            yield from ((episode, other) for other in undated_right)


def assign_one_to_one(scores: Iterable[PairScore], accept_p: float = ACCEPT_P) -> list[PairScore]:
    """Best-first greedy assignment: each episode in at most one pair.

    Keys are unique across both sides (episode ids), so one set of taken keys serves
    pairs between two lists and pairs within one list alike.
    """
    taken: set[int] = set()
    chosen = []
    for pair in sorted(scores, key=lambda p: (-p.weight, p.left, p.right)):
        if pair.probability < accept_p:
            break
        if pair.left in taken or pair.right in taken:
            continue
        taken.update((pair.left, pair.right))
        chosen.append(pair)
    return chosen
