"""Estimate the episode score's weights (log2 m/u per feature level) from labelled pairs.

    .venv/bin/python bench/calibrate_weights.py --home /tmp/calib [--shows 500] [--seed 7]

Reads a demo catalog that ``bench/matching.py --home DIR`` loaded (``DIR/loaded.sqlite3``,
the catalog before matching) and its labels (written again from the generator's truth).
Inside every true channel pair (the situation the episode score is made for: a decoy
channel is told apart by the channel evidence), every pair of episodes that blocking
compares is counted under each feature level it shows, as a true pair or not. Then

    m = share of true pairs at the level,  u = share of other pairs at the level,
    weight = log2(m / u)  (counts + 0.5, so an empty level stays finite),

and the prior is log2 of true pairs to other pairs among those compared. Those assume
the features independent given the class, which templated titles break (an identical
title and a one-day gap come together), so the weights proposed are a logistic
regression on the level indicators instead (the same log-odds form: intercept = prior,
coefficient / ln 2 = bits), fitted by Newton's method on the counts of each combination
of levels; a level either class hardly shows (fewer than :data:`MIN_SEEN` pairs) keeps
the weight in use. Both are printed next to the weights in use
(``matching.episodes.WEIGHTS``). Calibrate on a
world of another seed than the one the benchmark scores (42): the weights should hold
on data they were not estimated from. Not a test.
"""

from __future__ import annotations

import argparse
import math
import os
import shutil
import sys
from collections import Counter, defaultdict
from pathlib import Path

# Feature → its levels, in the order WEIGHTS lists them; a pair shows at most one level of
# each (none when a side lacks the value, e.g. no episode numbers).
FEATURES = {
    "title": ["title>=0.97", "title>=0.90", "title>=0.80", "title>=0.65", "title<0.65"],
    "gap": ["gap<=1d", "gap<=3d", "gap<=7d", "gap>7d"],
    "duration": ["duration<=2%", "duration<=8%", "duration<=25%", "duration>25%"],
    "number": ["number=", "number≠"],
    "part": ["part≠"],
    "kind": ["kind≠"],
    "description": ["description>=0.90"],
}


MIN_SEEN = 30  # pairs of each kind a level needs before it is fitted
RIDGE = 1.0  # L2 penalty on the level weights (natural log-odds)


def count_patterns(labels_path: Path) -> Counter[tuple[tuple[str, ...], bool]]:
    """(the pair's feature levels, whether it is a true pair) → how many compared pairs."""
    from podsight.matching.episodes import candidate_pairs, feature_levels
    from podsight.matching.report import read_labels, resolve_labels, true_groups
    from podsight.matching.snapshot import Snapshot
    from podsight.sources.models import SourceChannel

    labels = read_labels(labels_path)
    episode_group: dict[int, object] = {}  # SourceEpisode pk → true group
    resolved, _ = resolve_labels("episode", labels["episode"].records)
    roots = true_groups(labels["episode"], labels["episode"].records)
    for record, (pk, _canonical) in resolved.items():
        episode_group[pk] = roots[record]
    resolved, _ = resolve_labels("channel", labels["channel"].records)
    roots = true_groups(labels["channel"], labels["channel"].records)
    channels_of: dict[object, set[int]] = defaultdict(set)  # true show → canonical channels
    for record, (_pk, canonical) in resolved.items():
        channels_of[roots[record]].add(canonical)
    names: dict[int, list[str]] = defaultdict(list)
    for channel_id, title in SourceChannel.objects.values_list("channel_id", "data__title"):
        if title:
            names[channel_id].append(title)

    snapshot = Snapshot(None)
    patterns: Counter[tuple[tuple[str, ...], bool]] = Counter()
    for channels in channels_of.values():
        ordered = sorted(channels)
        for i, left_id in enumerate(ordered):
            for right_id in ordered[i + 1 :]:
                left = snapshot.views(left_id, names[left_id])
                right = snapshot.views(right_id, names[right_id])
                for a, b in candidate_pairs(left, right):
                    if a.sources & b.sources:
                        continue
                    groups_a = {episode_group.get(r) for r in a.records} - {None}
                    groups_b = {episode_group.get(r) for r in b.records} - {None}
                    if not groups_a or not groups_b:
                        continue  # not labelled: neither a known pair nor a known non-pair
                    same = bool(groups_a & groups_b)
                    patterns[tuple(feature_levels(a, b)), same] += 1
    return patterns


def fit_logistic(
    patterns: Counter[tuple[tuple[str, ...], bool]],
    free: list[str],
    kept: set[str],
    ridge: float = RIDGE,
) -> list[float]:
    """Logistic regression of "true pair" on level indicators, by Newton's method on the
    aggregated patterns (a few hundred): [intercept, *free levels] in natural log-odds.
    Pairs showing a ``kept`` level (one that keeps its weight in use) are left out. The
    ridge keeps a level that true pairs rarely show finite, and splits what the intercept
    and a feature whose levels always sum to one could each explain (their sum is what
    the data fixes)."""
    index = {level: i + 1 for i, level in enumerate(free)}
    rows: dict[tuple[str, ...], list[float]] = defaultdict(lambda: [0.0, 0.0])  # true, all
    for (levels, same), n in patterns.items():
        rows[levels][0] += n * same
        rows[levels][1] += n
    data = []
    for levels, (positives, total) in rows.items():
        if any(level in kept for level in levels):
            continue  # the kept weight decides these pairs; fitting around it would only
            # push the other levels of its feature up (true pairs never show it)
        columns = [0] + [index[level] for level in levels if level in index]
        data.append((columns, positives, total))
    size = len(free) + 1
    theta = [0.0] * size
    for _ in range(50):
        gradient = [-ridge * t for t in theta]
        gradient[0] += ridge * theta[0]  # the intercept is not penalised
        hessian = [[0.0] * size for _ in range(size)]
        for columns, positives, total in data:
            eta = sum(theta[c] for c in columns)
            p = 1 / (1 + math.exp(-eta))
            residual = positives - total * p
            weight = total * p * (1 - p)
            for c in columns:
                gradient[c] += residual
                for d in columns:
                    hessian[c][d] += weight
        for i in range(1, size):
            hessian[i][i] += ridge
        step = _solve(hessian, gradient)
        theta = [t + s for t, s in zip(theta, step, strict=True)]
        if max(abs(s) for s in step) < 1e-9:
            break
    return theta


def _solve(matrix: list[list[float]], vector: list[float]) -> list[float]:
    """x with matrix · x = vector (Gaussian elimination with partial pivoting)."""
    n = len(vector)
    a = [row[:] + [vector[i]] for i, row in enumerate(matrix)]
    for col in range(n):
        pivot = max(range(col, n), key=lambda r: abs(a[r][col]))
        a[col], a[pivot] = a[pivot], a[col]
        for r in range(col + 1, n):
            factor = a[r][col] / a[col][col]
            for c in range(col, n + 1):
                a[r][c] -= factor * a[col][c]
    x = [0.0] * n
    for r in range(n - 1, -1, -1):
        x[r] = (a[r][n] - sum(a[r][c] * x[c] for c in range(r + 1, n))) / a[r][r]
    return x


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--home", type=Path, required=True)
    parser.add_argument("--shows", type=int, default=500)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    loaded = args.home / "loaded.sqlite3"
    if not loaded.exists():
        sys.exit(
            f"{loaded} not found: load the world first with "
            f"`bench/matching.py --shows {args.shows} --seed {args.seed} --home {args.home}`"
        )
    os.environ["PODSIGHT_HOME"] = str(args.home)
    os.environ["DATABASE_URL"] = f"sqlite:///{args.home / 'db.sqlite3'}"
    shutil.copyfile(loaded, args.home / "db.sqlite3")

    from podsight.bootstrap import ensure_database

    ensure_database()
    from podsight.demo import build_world
    from podsight.demo.truth import write_labels
    from podsight.matching.episodes import WEIGHTS

    labels_path = args.home / "labels.csv"
    write_labels(build_world(seed=args.seed, shows=args.shows), labels_path)
    patterns = count_patterns(labels_path)
    true_pairs = sum(n for (_, same), n in patterns.items() if same)
    other_pairs = sum(n for (_, same), n in patterns.items() if not same)
    seen: Counter[tuple[str, bool]] = Counter()
    for (levels, same), n in patterns.items():
        for level in levels:
            seen[level, same] += n
    levels = [level for group in FEATURES.values() for level in group]
    # A level true pairs (or other pairs) hardly ever show has no data to weigh it: it
    # keeps the weight in use.
    free = [lv for lv in levels if min(seen[lv, True], seen[lv, False]) >= MIN_SEEN]
    theta = fit_logistic(patterns, free, set(levels) - set(free))
    bits = {"prior": theta[0] / math.log(2)}
    bits.update({lv: t / math.log(2) for lv, t in zip(free, theta[1:], strict=True)})

    print(
        f"episode pairs compared inside true channel pairs: {true_pairs:,} true, "
        f"{other_pairs:,} other (seed {args.seed}, {args.shows} shows)"
    )
    print(f"{'level':<15} {'true':>8} {'other':>8} {'m/u bits':>9} {'fitted':>7} {'in use':>7}")
    print(f"{'prior':<15} {'':>8} {'':>8} {'':>9} {bits['prior']:>+7.1f} {WEIGHTS['prior']:>+7.1f}")
    for level in levels:
        m = (seen[level, True] + 0.5) / (true_pairs + 1)
        u = (seen[level, False] + 0.5) / (other_pairs + 1)
        fitted = f"{bits[level]:+.1f}" if level in bits else "kept"
        print(
            f"{level:<15} {seen[level, True]:>8} {seen[level, False]:>8} "
            f"{math.log2(m / u):>+9.1f} {fitted:>7} {WEIGHTS[level]:>+7.1f}"
        )
    print("fitted, as WEIGHTS (levels not fitted keep theirs):")
    print({k: round(bits.get(k, WEIGHTS[k]), 1) for k in WEIGHTS})


if __name__ == "__main__":
    main()
