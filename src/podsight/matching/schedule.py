"""Episodes paired without their titles: two channels whose schedules line up.

A channel that titles a Spanish show's videos in English shares no title with the feed,
yet it is the same show: each upload comes a steady few hours after the feed's release
and runs a steady few minutes shorter (no dynamic ads) or longer (a video intro). This
module finds that steady offset in time and in length and pairs the episodes that keep
it, one to one.

Whether two unrelated channels could line up as well is measured, not assumed. Time
only says which episodes to compare: two shows that both publish on Mondays, or daily at
six, meet every week once their offset is fitted, so a schedule's regularity is no
evidence. Length is: the chance that an unrelated episode keeps the usual difference is
the share of the other side's durations within the tolerance, compounded over the other
side's episodes in the time window (a channel posting a dozen videos a day offers a
dozen chances). The alignment counts only when that many pairs would be improbable for
unrelated channels (a binomial tail, scaled by the offsets tried, of at most
:data:`MAX_CHANCE`). A show whose episodes all run
30 minutes therefore never aligns on its schedule alone: nothing tells its episodes
apart without their titles.
"""

from __future__ import annotations

import bisect
import math
import statistics
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from podsight.matching.episodes import DAY, FULL_KINDS, EpisodeView, PairScore

__all__ = [
    "MAX_CHANCE",
    "MIN_ALIGNED",
    "MIN_ALIGNED_SHARE",
    "SCHEDULE_REASON",
    "Alignment",
    "align_schedules",
]

HOUR = 3600
CANDIDATE_GAP_S = DAY  # pairs considered: published within a day of each other
TIME_TOLERANCE_S = 3 * HOUR  # around the channel pair's usual offset (upload times vary)
DURATION_TOLERANCE_S = 30  # around the usual difference in length …
DURATION_TOLERANCE_SHARE = 0.01  # … or this share of the episode, whichever is larger
MIN_ALIGNED = 8  # pairs an alignment needs, whatever the channel's size
MIN_ALIGNED_SHARE = 0.8  # of the smaller side's episodes that could have a partner
MAX_CHANCE = 1e-6  # that unrelated channels line up this well
# Opens the explanation of every episode link made by schedule; a later run finds the
# channels whose new episodes it pairs the same way by it.
SCHEDULE_REASON = "titles not compared"
_TIME_BIN_S = HOUR
_DURATION_BIN_S = 30
# Offsets tried: one time bin of the ±1 day window times one length bin; an alignment
# found by trying many offsets must beat the chance of any of them.
_OFFSETS_TRIED = (2 * CANDIDATE_GAP_S // _TIME_BIN_S) * 100


@dataclass(frozen=True)
class Alignment:
    pairs: list[PairScore]
    comparable: int  # episodes of the smaller side that could have had a partner
    time_offset_s: float  # left minus right, the pair's usual gap
    duration_offset_s: float  # left minus right, the usual difference in length
    chance: float  # that unrelated channels line up this well

    @property
    def aligned(self) -> bool:
        return (
            len(self.pairs) >= MIN_ALIGNED
            and len(self.pairs) >= MIN_ALIGNED_SHARE * self.comparable
            and self.chance <= MAX_CHANCE
        )

    @property
    def summary(self) -> str:
        return (
            f"titles do not pair up, but {len(self.pairs)} of {self.comparable} episodes "
            f"line up in time and length (the other side {_signed_hours(-self.time_offset_s)}"
            f" and {_signed_duration(-self.duration_offset_s)}, episode by episode; unrelated "
            f"channels would line up this well with chance {self.chance:.0e})"
        )


def _usable(views: Sequence[EpisodeView]) -> list[EpisodeView]:
    """Full episodes with a length and a time of day or at least a day (a month or a year
    says nothing about a schedule)."""
    return sorted(
        (
            v
            for v in views
            if v.kind in FULL_KINDS
            and v.published_s is not None
            and v.duration_s
            and v.precision in (None, "day")
        ),
        key=lambda v: v.published_s,
    )


def _conflict(a: EpisodeView, b: EpisodeView) -> bool:
    return bool(
        a.sources & b.sources
        or (a.numbers and b.numbers and not a.numbers & b.numbers)
        or (a.part is not None and b.part is not None and a.part != b.part)
    )


def _mode(values: list[float], width: float) -> float:
    """The median of the values in the densest three adjacent bins of ``width``."""
    bins = Counter(math.floor(v / width) for v in values)
    best = max(bins, key=lambda b: (bins[b - 1] + bins[b] + bins[b + 1], -abs(b)))
    near = [v for v in values if best - 1 <= math.floor(v / width) <= best + 1]
    return statistics.median(near)


def _tolerance(duration_s: int) -> float:
    return max(DURATION_TOLERANCE_S, DURATION_TOLERANCE_SHARE * duration_s)


def align_schedules(
    left: Sequence[EpisodeView], right: Sequence[EpisodeView], comparable: int
) -> Alignment | None:
    """Pair ``left`` and ``right`` episodes by their usual offsets in time and length;
    ``None`` when there are too few dated episodes with durations to try. ``comparable``
    is how many of the smaller side's episodes could have a partner (the overlap's
    denominator, as for title-based pairing)."""
    lefts, rights = _usable(left), _usable(right)
    if min(len(lefts), len(rights)) < MIN_ALIGNED:
        return None
    times = [v.published_s for v in rights]
    candidates: list[tuple[EpisodeView, EpisodeView, float, float]] = []
    for a in lefts:
        start = bisect.bisect_left(times, a.published_s - CANDIDATE_GAP_S)
        stop = bisect.bisect_right(times, a.published_s + CANDIDATE_GAP_S)
        for b in rights[start:stop]:
            if not _conflict(a, b):
                dt = a.published_s - b.published_s
                candidates.append((a, b, dt, a.duration_s - b.duration_s))
    if not candidates:
        return None
    time_offset = _mode([c[2] for c in candidates], _TIME_BIN_S)
    in_time = [c for c in candidates if abs(c[2] - time_offset) <= TIME_TOLERANCE_S]
    duration_offset = _mode([c[3] for c in in_time], _DURATION_BIN_S)
    kept = []
    for a, b, dt, dd in in_time:
        off = abs(dd - duration_offset)
        if off <= _tolerance(a.duration_s):
            kept.append((off / _tolerance(a.duration_s) + abs(dt - time_offset) / HOUR, a, b))
    kept.sort(key=lambda k: (k[0], k[1].key, k[2].key))
    durations = sorted(v.duration_s for v in rights)
    # Left episodes that could have had a partner: those inside the right side's span.
    low, high = times[0] - TIME_TOLERANCE_S, times[-1] + TIME_TOLERANCE_S
    in_span = {a.key for a in lefts if low <= a.published_s - time_offset <= high}
    taken: set[int] = set()
    chosen: list[tuple[EpisodeView, EpisodeView]] = []
    for _, a, b in kept:
        if a.key in taken or b.key in taken or a.key not in in_span:
            continue
        taken.update((a.key, b.key))
        chosen.append((a, b))
    # A paired episode's own partner is not a chance partner: it leaves the count.
    chances = {
        a.key: _chance(a, times, durations, (time_offset, duration_offset), a.key in taken)
        for a in lefts
        if a.key in in_span
    }
    pairs = [_pair(a, b, time_offset, duration_offset, chances[a.key]) for a, b in chosen]
    mean = statistics.fmean(chances.values()) if chances else 1.0
    tail = _binomial_tail(len(pairs), len(chances), mean)
    return Alignment(
        pairs=pairs,
        comparable=comparable,
        time_offset_s=time_offset,
        duration_offset_s=duration_offset,
        chance=min(1.0, tail * _OFFSETS_TRIED),
    )


def _chance(
    episode: EpisodeView,
    times: list[float],
    durations: list[int],
    offsets: tuple[float, float],
    partnered: bool,
) -> float:
    """The chance that, were the right side unrelated, one of its episodes in this
    episode's time window would keep the usual difference in length: each does with the
    share of the right side's durations within the length tolerance (the partner's own
    left out), and a busy channel has several in the window."""
    time_offset, duration_offset = offsets
    at = episode.published_s - time_offset
    in_window = bisect.bisect_right(times, at + TIME_TOLERANCE_S) - bisect.bisect_left(
        times, at - TIME_TOLERANCE_S
    )
    expected = episode.duration_s - duration_offset
    tolerance = _tolerance(episode.duration_s)
    near = bisect.bisect_right(durations, expected + tolerance) - bisect.bisect_left(
        durations, expected - tolerance
    )
    # Half an episode at least: a share measured as zero is only below what was sampled.
    share = min(1.0, max(near - partnered, 0.5) / len(durations))
    return 1 - (1 - share) ** in_window


def _binomial_tail(successes: int, trials: int, p: float) -> float:
    """P(X ≥ successes) for X ~ Binomial(trials, p), summed in log space."""
    trials = max(trials, successes)
    if successes <= 0 or p >= 1:
        return 1.0
    log_p, log_q = math.log(p), math.log1p(-p)
    terms = [
        math.lgamma(trials + 1)
        - math.lgamma(k + 1)
        - math.lgamma(trials - k + 1)
        + k * log_p
        + (trials - k) * log_q
        for k in range(successes, trials + 1)
    ]
    top = max(terms)
    return min(1.0, math.exp(top) * sum(math.exp(t - top) for t in terms))


def _pair(
    a: EpisodeView, b: EpisodeView, time_offset: float, duration_offset: float, chance: float
) -> PairScore:
    gap = a.published_s - b.published_s
    difference = a.duration_s - b.duration_s
    probability = round(1 - chance, 4)
    reasons = (
        f"{SCHEDULE_REASON} (this channel pair's titles do not match: another language?)",
        f"published {_signed_hours(gap)} apart, usual {_signed_hours(time_offset)}",
        f"lengths differ by {_signed_duration(difference)}, usual "
        f"{_signed_duration(duration_offset)}",
        f"an unrelated episode would sit there by chance {chance:.1%}",
    )
    odds = min(max(probability, 1e-4), 1 - 1e-4)
    weight = math.log2(odds / (1 - odds))
    return PairScore(a.key, b.key, round(weight, 2), probability, reasons)


def _signed_hours(seconds: float) -> str:
    return f"{seconds / HOUR:+.1f} h"


def _signed_duration(seconds: float) -> str:
    return f"{seconds:+.0f} s" if abs(seconds) < 120 else f"{seconds / 60:+.1f} min"
