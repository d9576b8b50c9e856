"""Benchmark: ALS fit time and memory, implicit (CPU, the local engine) against Spark ML's
ALS in ``local[2]`` (the Spark engine, ``podsight_spark``'s ``recs.train_als``), on the
same interaction sets, printed side by side; then where one machine stops being enough.

Usage: ``.venv/bin/python bench/spark_vs_local.py [--sizes 300000,1000000] [--factors 64]
[--iterations 15] [--no-movielens]`` (needs ``make venv-spark``; ``--spark-python`` or
``PODSIGHT_SPARK_PYTHON`` points at another Spark venv's python).

Sets: MovieLens-100k (``$PODSIGHT_TEST_DATA/interactions/movielens-100k/u.data``, every
rating as an interaction weighted rating/5) and generated sets of ``--sizes`` distinct
user-item pairs (power-law users and items, ``bench/recs_train.py``'s generator; users =
n/20, items = n/100). Each set is written once as Parquet; each trainer then runs in its
own process, one after the other, with two cores each (implicit ``num_threads=2``, BLAS
on one thread; Spark ``local[2]``):

- implicit: ``AlternatingLeastSquares`` on the CSR matrix of confidences ``1 + w``
  (what podsight's ALS gives it); peak memory is the process's ``ru_maxrss``;
- Spark: ``pyspark.ml.recommendation.ALS(implicitPrefs=True, alpha=1)`` on the same
  (user, item, w) rows, cached and counted before the clock starts; fit time includes
  materialising both factor matrices; peak memory is the JVM's ``VmHWM`` (its heap is
  ``PODSIGHT_SPARK_DRIVER_MEMORY``, raised here to 6g so the sizes fit).

The crossover: from the measured sizes it fits implicit's peak memory against the number
of interactions (bytes per interaction, plus a fixed part) and says at how many
interactions one machine of ``--ram-gib`` (24 here) no longer holds the fit; that is
where Spark's slower, distributed ALS starts to be the only option.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _data_dir() -> Path:
    return Path(os.environ.get("PODSIGHT_TEST_DATA") or ROOT.parent / "shared" / "data")


# -- the sets ---------------------------------------------------------------------------


def movielens(path: Path):
    import numpy as np

    raw = np.loadtxt(path, dtype=np.int64)
    users, items, ratings = raw[:, 0] - 1, raw[:, 1] - 1, raw[:, 2]
    return users.astype(np.int32), items.astype(np.int32), (ratings / 5.0).astype(np.float32)


def synthetic(n: int, seed: int):
    sys.path.insert(0, str(ROOT / "bench"))
    from recs_train import generate

    matrix = generate(max(n // 20, 10), max(n // 100, 10), n, seed).tocoo()
    return matrix.row.astype("int32"), matrix.col.astype("int32"), matrix.data.astype("float32")


def write_set(path: Path, users, items, weights) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.table({"user": users, "item": items, "w": weights}), path)


# -- the trainers (each in its own process) ----------------------------------------------


def child_implicit(path: str, factors: int, iterations: int) -> dict:
    import numpy as np
    import pyarrow.parquet as pq
    import scipy.sparse as sp
    from implicit.cpu.als import AlternatingLeastSquares
    from threadpoolctl import threadpool_limits

    table = pq.read_table(path)
    u, i, w = (table.column(c).to_numpy() for c in ("user", "item", "w"))
    matrix = sp.csr_matrix(((1.0 + w).astype(np.float32), (u, i)))
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    model = AlternatingLeastSquares(
        factors=factors, regularization=0.05, alpha=1.0, iterations=iterations,
        random_state=0, num_threads=2,
    )
    with threadpool_limits(1, "blas"):
        started = time.perf_counter()
        model.fit(matrix, show_progress=False)
        seconds = time.perf_counter() - started
    return {
        "fit_s": seconds,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "rss_before_fit_mb": base,
    }


def _vm_hwm_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def child_spark(path: str, factors: int, iterations: int) -> dict:
    os.environ.setdefault("PODSIGHT_SPARK_DRIVER_MEMORY", "6g")
    import podsight_spark.session as spark_session
    from pyspark.ml.recommendation import ALS

    spark = spark_session.get_session("podsight bench ALS")
    ratings = spark.read.parquet(path).cache()
    ratings.count()
    als = ALS(rank=factors, maxIter=iterations, regParam=0.05, alpha=1.0, implicitPrefs=True,
              userCol="user", itemCol="item", ratingCol="w", seed=0)
    started = time.perf_counter()
    model = als.fit(ratings)
    model.itemFactors.count()
    model.userFactors.count()
    seconds = time.perf_counter() - started
    jvm = spark.sparkContext._gateway.proc.pid  # the driver JVM (local: executors too)
    out = {"fit_s": seconds, "peak_rss_mb": _vm_hwm_mb(jvm),
           "python_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
    spark.stop()
    return out


def _run_child(python: str, trainer: str, path: Path, args) -> dict:
    done = subprocess.run(
        [python, __file__, "--child", trainer, str(path), "--factors", str(args.factors),
         "--iterations", str(args.iterations)],
        capture_output=True, text=True, check=False,
    )
    if done.returncode:
        sys.exit(f"the {trainer} run failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# -- the report -------------------------------------------------------------------------


def _fit_line(xs, ys):
    n = len(xs)
    mx, my = sum(xs) / n, sum(ys) / n
    var = sum((x - mx) ** 2 for x in xs)
    slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / var if var else 0.0
    return slope, my - slope * mx


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="300000,1000000",
                        help="generated sets, interactions each (comma-separated)")
    parser.add_argument("--factors", type=int, default=64)
    parser.add_argument("--iterations", type=int, default=15)
    parser.add_argument("--no-movielens", action="store_true")
    parser.add_argument("--ram-gib", type=float, default=24.0)
    parser.add_argument("--spark-python",
                        default=os.environ.get("PODSIGHT_SPARK_PYTHON")
                        or str(ROOT / ".venv-spark" / "bin" / "python"))
    parser.add_argument("--child", nargs=2, metavar=("TRAINER", "PATH"), help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child:
        trainer, path = args.child
        run = child_implicit if trainer == "implicit" else child_spark
        print(json.dumps(run(path, args.factors, args.iterations)))
        return
    if not Path(args.spark_python).exists():
        sys.exit(f"no Spark venv at {args.spark_python}: run `make venv-spark`")

    sets = []
    if not args.no_movielens:
        ml = _data_dir() / "interactions" / "movielens-100k" / "u.data"
        if ml.exists():
            sets.append(("MovieLens-100k", lambda: movielens(ml)))
        else:
            print(f"(no {ml}: set PODSIGHT_TEST_DATA; MovieLens left out)")
    for n in (int(s) for s in args.sizes.split(",") if s.strip()):
        sets.append((f"synthetic {n:,}", lambda n=n: synthetic(n, 7)))

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, make in sets:
            users, items, weights = make()
            path = Path(tmp) / "set.parquet"
            write_set(path, users, items, weights)
            shape = (int(users.max()) + 1, int(items.max()) + 1, len(weights))
            local = _run_child(sys.executable, "implicit", path, args)
            spark = _run_child(args.spark_python, "spark", path, args)
            rows.append((name, shape, local, spark))
            print(f"{name}: {shape[2]:,} interactions, {shape[0]:,} users x {shape[1]:,} items: "
                  f"implicit {local['fit_s']:.2f} s / {local['peak_rss_mb']:.0f} MB, "
                  f"Spark local[2] {spark['fit_s']:.2f} s / JVM {spark['peak_rss_mb']:.0f} MB",
                  flush=True)

    print()
    print(f"ALS, {args.factors} factors, {args.iterations} iterations, two cores each")
    print(f"{'set':<22}{'interactions':>13}{'users':>9}{'items':>8}"
          f"{'implicit s':>12}{'Spark s':>10}{'Spark/impl':>11}{'impl MB':>9}{'JVM MB':>9}")
    for name, (u, i, n), local, spark in rows:
        print(f"{name:<22}{n:>13,}{u:>9,}{i:>8,}{local['fit_s']:>12.2f}{spark['fit_s']:>10.2f}"
              f"{spark['fit_s'] / local['fit_s']:>10.1f}x{local['peak_rss_mb']:>9.0f}"
              f"{spark['peak_rss_mb']:>9.0f}")

    # Memory against size: implicit's fit holds the matrix twice (user x item and its
    # transpose: 4-byte value + 4-byte index each per interaction) and both factor
    # matrices; the line through the measured peaks gives bytes per interaction.
    xs = [n for _, (_, _, n), _, _ in rows]
    ys = [local["peak_rss_mb"] * 2**20 for _, _, local, _ in rows]
    if len(set(xs)) >= 2:
        per, fixed = _fit_line(xs, ys)
        ram = args.ram_gib * 2**30
        # The generated sets' shape (users = n/20, items = n/100) at scale: factor bytes
        # per interaction = (1/20 + 1/100) * factors * 4 (float32) for each of X and Y.
        factor_bytes = (1 / 20 + 1 / 100) * args.factors * 4
        limit = (0.8 * ram - fixed) / max(per, 1.0)
        print()
        print(f"implicit's peak memory: {per:.0f} bytes per interaction measured "
              f"(of which factors {factor_bytes:.0f} at this shape; the CSR and its "
              f"transpose 16) + {fixed / 2**20:.0f} MB fixed")
        print(f"one {args.ram_gib:.0f} GiB machine (80% usable) holds implicit's fit up to "
              f"~{limit / 1e6:,.0f} M interactions of this shape; above that the data no "
              "longer fits one machine and Spark's distributed ALS is the way on")
        ratios = [spark["fit_s"] / local["fit_s"] for _, _, local, spark in rows]
        print(f"below it implicit is {min(ratios):.0f}-{max(ratios):.0f}x faster than Spark "
              "local[2] on the same two cores")


if __name__ == "__main__":
    main()
