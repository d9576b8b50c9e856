"""Benchmark: training implicit ALS on a generated 10M-interaction set; time, peak memory,
and an estimate for 50M.

Usage: ``.venv/bin/python bench/recs_train.py [--users 500000] [--items 100000]
[--interactions 10000000] [--small 2000000] [--factors 64] [--iterations 15]
[--threads 0] [--seed 7]``

Generates (seeded) ``interactions`` distinct user-item pairs over ``users`` × ``items``:
users' activity and items' popularity both follow power laws (Zipf exponents 0.8 and 1.0
over ranks, shuffled across ids: a few heavy listeners and hit episodes, a long tail),
with a weight per pair (a listened fraction in (0, 1], plus replays). The matrix is written
once to a temporary ``.npz``; then each trainer runs in its own process (so that
``ru_maxrss`` is its own peak), one after the other:

- ``implicit``: bare ``implicit.cpu.als.AlternatingLeastSquares`` on the CSR matrix, BLAS
  on one thread as implicit asks;
- ``podsight ALS``: ``podsight.recs.algorithms.als.ALS`` on a ``Dataset`` (ids as strings,
  the confidence transform, the same implicit fit underneath).

Each reports the seconds to load, the fit's total and per-iteration wall time, the RSS
after loading and the peak RSS (``ru_maxrss``). Both run at ``--small`` interactions too
(the same users and items), and the 50M estimate extrapolates the two sizes linearly in
the number of interactions: ALS's conjugate-gradient step costs O(nnz · factors) per
iteration plus O((users + items) · factors²) that does not grow with nnz (the intercept
of the line), and its memory is the matrix and its transpose (O(nnz)) plus the factors
(fixed). Before anything, it checks the machine's available memory (``/proc/meminfo``)
against a conservative need and stops if it would not fit.

implicit's published figure (benfred/implicit, benchmarks/README.md; Intel i7-7820X,
8 cores / 16 threads): 2.75 s per iteration at 64 factors on MovieLens-20M's ratings of 4
and more (≈10M interactions, 138k users × 27k items), 1.37 s on last.fm-360k (17.5M
plays, 359k users × 292k artists), conjugate gradient on the CPU. Printed beside ours.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import scipy.sparse as sp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

__all__ = ["generate", "main"]

PUBLISHED = [
    ("implicit, MovieLens-20M ≥4★ (≈10M), i7-7820X 8c/16t", 2.75),
    ("implicit, last.fm-360k (17.5M), i7-7820X 8c/16t", 1.37),
]
SOURCE = "benfred/implicit benchmarks/README.md (64 factors, CPU, conjugate gradient)"


def generate(users: int, items: int, interactions: int, seed: int) -> sp.csr_matrix:
    """``interactions`` distinct pairs, power-law users and items, float32 weights."""
    rng = np.random.default_rng(seed)
    user_p = _zipf(users, 0.8, rng)
    item_p = _zipf(items, 1.0, rng)
    keys = np.zeros(0, dtype=np.int64)
    while len(keys) < interactions:
        # Draw more than missing: repeats of a pair collapse into one interaction.
        want = int((interactions - len(keys)) * 1.3) + 1000
        u = rng.choice(users, size=want, p=user_p)
        i = rng.choice(items, size=want, p=item_p)
        keys = np.unique(np.concatenate([keys, u.astype(np.int64) * items + i]))
    keys = rng.permutation(keys)[:interactions]
    weights = rng.uniform(0.05, 1.0, interactions).astype(np.float32)
    weights += (rng.random(interactions) < 0.1).astype(np.float32)  # replays
    matrix = sp.csr_matrix((weights, (keys // items, keys % items)), shape=(users, items))
    matrix.sort_indices()
    return matrix


def _zipf(n: int, exponent: float, rng: np.random.Generator) -> np.ndarray:
    p = 1.0 / np.arange(1, n + 1, dtype=np.float64) ** exponent
    return rng.permutation(p / p.sum())


# -- the child process: one trainer, one matrix -------------------------------------------


def child(path: str, trainer: str, factors: int, iterations: int, threads: int) -> None:
    started = time.perf_counter()
    loaded = sp.load_npz(path).tocsr()
    times: list[float] = []
    last = [0.0]

    def tick(*_: object) -> None:
        now = time.perf_counter()
        times.append(now - last[0])
        last[0] = now

    if trainer == "implicit":
        from implicit.cpu.als import AlternatingLeastSquares
        from threadpoolctl import threadpool_limits

        matrix = loaded
        load_s = time.perf_counter() - started
        rss_loaded = _rss_now()
        with threadpool_limits(1, "blas"):
            model = AlternatingLeastSquares(
                factors=factors, iterations=iterations, random_state=0, num_threads=threads
            )
            last[0] = fit_start = time.perf_counter()
            model.fit(matrix, show_progress=False, callback=tick)
    else:
        from podsight.recs.algorithms.als import ALS
        from podsight.recs.core import Dataset

        data = Dataset(
            users=[f"u{u}" for u in range(loaded.shape[0])],
            items=[f"i{i}" for i in range(loaded.shape[1])],
            matrix=loaded,
            name="generated",
        )
        del loaded
        load_s = time.perf_counter() - started
        rss_loaded = _rss_now()

        class Ticks:
            """A Progress that times each ALS iteration (one advance per iteration)."""

            @contextmanager
            def task(self, label: str, total: int | None = None) -> Iterator[Ticks]:
                yield self

            def advance(self, n: int = 1, *, item: str | None = None) -> None:
                tick()

            def update(self, **_: object) -> None:
                pass

            def note(self, message: str, **_: object) -> None:
                pass

        model = ALS(factors=factors, iterations=iterations, random_state=0, num_threads=threads)
        last[0] = fit_start = time.perf_counter()
        model.fit(data, progress=Ticks())
    fit_s = time.perf_counter() - fit_start
    usage = resource.getrusage(resource.RUSAGE_SELF)
    peak_mb = usage.ru_maxrss / 1024
    print(
        json.dumps(
            {
                "load_s": load_s,
                "fit_s": fit_s,
                # CPU seconds of the whole process: on a shared machine, what wall time
                # would be on idle cores (over the cores used).
                "cpu_s": usage.ru_utime + usage.ru_stime,
                "iterations": times,
                "rss_loaded_mb": rss_loaded,
                "peak_mb": peak_mb,
            }
        )
    )


def _rss_now() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _available_mb() -> float:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemAvailable:"):
            return int(line.split()[1]) / 1024
    return float("inf")


# -- the parent --------------------------------------------------------------------------


def run(path: Path, trainer: str, args: argparse.Namespace) -> dict:
    cmd = [
        sys.executable,
        __file__,
        "--child",
        str(path),
        trainer,
        str(args.factors),
        str(args.iterations),
        str(args.threads),
    ]
    out = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if out.returncode:
        raise SystemExit(f"{trainer} failed:\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6]))
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=500_000)
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--interactions", type=int, default=10_000_000)
    parser.add_argument("--small", type=int, default=2_000_000)
    parser.add_argument("--factors", type=int, default=64)
    parser.add_argument("--iterations", type=int, default=15)
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    # Generating: ~40 bytes per drawn pair at a time; training: the matrix, its transpose
    # and scipy's copies, ~40 bytes per interaction, plus the factors.
    need_mb = (args.interactions * 80 + (args.users + args.items) * args.factors * 8) / 2**20
    available = _available_mb()
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}, "
        f"{available / 1024:.1f} GB available; need about {need_mb / 1024:.1f} GB"
    )
    if need_mb > 0.8 * available:
        raise SystemExit("not enough memory available for this size: lower --interactions")

    results: dict[int, dict[str, dict]] = {}
    with tempfile.TemporaryDirectory(prefix="recs-train-") as tmp:
        for size in sorted({args.small, args.interactions}):
            started = time.perf_counter()
            matrix = generate(args.users, args.items, size, args.seed)
            path = Path(tmp) / f"m{size}.npz"
            sp.save_npz(path, matrix, compressed=False)
            per_user = np.diff(matrix.indptr)
            per_item = np.bincount(matrix.indices, minlength=args.items)
            print(
                f"\ngenerated {matrix.nnz:,} interactions, {args.users:,} users × "
                f"{args.items:,} items in {time.perf_counter() - started:.1f} s; per user "
                f"median {int(np.median(per_user))}, max {per_user.max():,}; per item median "
                f"{int(np.median(per_item))}, max {per_item.max():,}; users with none "
                f"{int((per_user == 0).sum()):,}"
            )
            del matrix
            results[size] = {}
            for trainer in ("implicit", "podsight ALS"):
                r = run(path, trainer, args)
                results[size][trainer] = r
                its = np.array(r["iterations"])
                print(
                    f"  {trainer:13s} fit {r['fit_s']:7.1f} s = {len(its)} × "
                    f"{its.mean():.2f} s/iteration (min {its.min():.2f}, max {its.max():.2f}); "
                    f"CPU {r['cpu_s']:.0f} s; load {r['load_s']:.1f} s; "
                    f"RSS after load {r['rss_loaded_mb']:,.0f} MB, "
                    f"peak {r['peak_mb']:,.0f} MB"
                )

    print(f"\nper iteration at {args.factors} factors, beside implicit's published figures:")
    big = results[args.interactions]
    for trainer in ("implicit", "podsight ALS"):
        its = np.mean(big[trainer]["iterations"])
        print(f"  ours, {trainer}, {args.interactions:,} generated: {its:.2f} s")
    for label, seconds in PUBLISHED:
        print(f"  {label}: {seconds:.2f} s")
    print(f"  (source: {SOURCE})")

    if len(results) == 2:
        small = results[args.small]
        target = 50_000_000
        print(
            f"\nestimate for {target / 1e6:.0f}M interactions (same users, items), linear in nnz:"
        )
        for trainer in ("implicit", "podsight ALS"):
            a, b = small[trainer], big[trainer]
            dn = args.interactions - args.small
            t_slope = (b["fit_s"] - a["fit_s"]) / dn
            m_slope = (b["peak_mb"] - a["peak_mb"]) / dn
            fit = b["fit_s"] + t_slope * (target - args.interactions)
            peak = b["peak_mb"] + m_slope * (target - args.interactions)
            print(
                f"  {trainer:13s} fit ≈ {fit:,.0f} s ({fit / args.iterations:.1f} s/iteration), "
                f"peak ≈ {peak / 1024:.1f} GB  [{t_slope * 1e6:.2f} s and "
                f"{m_slope * 1e6:.0f} MB per extra million interactions]"
            )


if __name__ == "__main__":
    main()
