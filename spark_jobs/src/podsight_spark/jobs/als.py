"""``recs.train_als``: implicit-feedback ALS (``pyspark.ml.recommendation.ALS``) on
``engagement_daily``, its factors written as files for the web side to load.

The interactions are the local engine's (``podsight.recs.data``), as far as they can be
without the catalog: each day's ``weight`` decayed by its age (``0.5 ** (age /
half_life_s)``, age from ``last_event_at`` to ``now``) and summed per user × episode; a
cell is rejected when it was unliked more than liked, last rated 1-2, skipped without
ever finishing (completion < 0.9), or its sum is negative. Kept cells enter with their
sum as the rating, so Spark's confidence ``1 + alpha·r`` is the local ``1 + alpha·w``;
rejections enter (when ``negative_weight`` > 0) as ``-negative_weight``, which Spark
reads, as implicit does, as preference 0 with confidence ``1 + alpha·negative_weight``.
Not here: episodes merged into another in the catalog since (the web side maps ids) and
Spark's regularisation, scaled by each row's count of ratings (ALS-WR), where implicit's
is not: the same ``regularization`` is a stronger one in Spark.

Files in ``output``: ``item_factors.npy`` and ``user_factors.npy`` (float32, one row per
index), ``items.parquet`` (``index``, ``episode_id``), ``users.parquet`` (``index``,
``user_id``), ``params.json`` (the parameters and counts).

With ``ratings`` instead of ``lake`` the job fits a matrix the web side built itself
(``recs.train``'s Dataset or its validation split, so held-out cells stay out): Parquet
of (``user``, ``item``, ``rating``) indices, ``n_users`` × ``n_items``; only the two
``.npy`` files are written, their rows those indices (zeros where an index has no rating).
"""

from __future__ import annotations

import io
import json
import time
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from podsight.lake_tables import ENGAGEMENT_DAILY
from podsight_spark import delta
from podsight_spark.errors import JobError
from podsight_spark.jobs._common import STORAGE_OPTIONS, table_uri
from podsight_spark.registry import Param, job

DEFAULT_HALF_LIFE_S = 90 * 86_400.0
FINISHED = 0.9
LOW_RATING = 2


def interactions(spark, engagement, *, now_s: float, half_life_s: float, negative_weight: float):
    """(user_id, episode_id, rating) per user × episode, as described above."""
    engagement.createOrReplaceTempView("engagement_daily")
    cells = spark.sql(
        f"""
        SELECT user_id, episode_id,
            sum(weight * pow(0.5, greatest(0D, {now_s!r}D
                - CAST(unix_micros(last_event_at) AS DOUBLE) / 1000000D) / {half_life_s!r}D))
                AS score,
            sum(likes) AS likes, sum(unlikes) AS unlikes, sum(skips) AS skips,
            max_by(rating, last_event_at) FILTER (WHERE rating IS NOT NULL) AS rating,
            max(max_completion) AS completion
        FROM engagement_daily
        GROUP BY user_id, episode_id
        """
    )
    cells.createOrReplaceTempView("cells")
    return spark.sql(
        f"""
        WITH c AS (
            SELECT *, (unlikes > likes OR coalesce(rating <= {LOW_RATING}, false)
                OR (skips > 0 AND completion < {FINISHED}) OR score < 0) AS rejected
            FROM cells
        )
        SELECT user_id, episode_id,
            CAST(CASE WHEN rejected THEN -{negative_weight!r}D ELSE score END AS FLOAT) AS rating
        FROM c
        WHERE (NOT rejected AND score > 0) OR (rejected AND {negative_weight!r}D > 0)
        """
    )


def _index(df, column: str):
    """(column, index): the distinct values, sorted, numbered from 0 (zipWithIndex, so no
    single partition has to hold them all)."""
    from pyspark.sql import types as T

    values = df.select(column).distinct().orderBy(column)
    field = values.schema[column]
    indexed = values.rdd.zipWithIndex().map(lambda pair: (pair[0][0], pair[1]))
    schema = T.StructType([field, T.StructField("index", T.LongType(), False)])
    return df.sparkSession.createDataFrame(indexed, schema)


def _factors(model_factors, n: int, rank: int) -> np.ndarray:
    table = model_factors.toArrow()
    out = np.zeros((n, rank), dtype=np.float32)
    if table.num_rows:
        ids = table.column("id").to_numpy()
        features = table.column("features").combine_chunks()
        values = features.flatten().to_numpy(zero_copy_only=False).astype(np.float32)
        out[ids] = values.reshape(table.num_rows, rank)
    return out


def _write_files(output: str, files: dict[str, bytes]) -> None:
    from pyarrow import fs

    filesystem, root = fs.FileSystem.from_uri(output)
    filesystem.create_dir(root, recursive=True)
    for name, data in files.items():
        with filesystem.open_output_stream(f"{root}/{name}") as f:
            f.write(data)


def _npy(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


def _parquet(table: pa.Table) -> bytes:
    buffer = pa.BufferOutputStream()
    pq.write_table(table, buffer)
    return buffer.getvalue().to_pybytes()


def _train_on_ratings(spark, ratings: str, n_users: int, n_items: int, *, output: str,
                      factors: int, regularization: float, alpha: float, iterations: int,
                      seed: int) -> dict[str, Any]:
    """ALS on a matrix given as indices (the web side's Dataset, or its validation
    split): the factors' rows are those indices, nothing to map."""
    from pyspark.ml.recommendation import ALS

    indexed = spark.read.parquet(ratings).selectExpr(
        "CAST(user AS INT) AS user", "CAST(item AS INT) AS item",
        "CAST(rating AS FLOAT) AS rating",
    )
    als = ALS(rank=factors, maxIter=iterations, regParam=regularization, alpha=alpha,
              implicitPrefs=True, userCol="user", itemCol="item", ratingCol="rating",
              seed=seed, coldStartStrategy="drop")
    started = time.perf_counter()
    model = als.fit(indexed)
    item_factors = _factors(model.itemFactors, n_items, factors)
    user_factors = _factors(model.userFactors, n_users, factors)
    fit_seconds = round(time.perf_counter() - started, 3)
    _write_files(output, {"item_factors.npy": _npy(item_factors),
                          "user_factors.npy": _npy(user_factors)})
    return {"output": output, "users": n_users, "items": n_items, "fit_seconds": fit_seconds}


@job(
    "recs.train_als",
    params={
        "lake": Param(str, None, "the lake's root ($PODSIGHT_HOME/lake, or s3://bucket/lake)"),
        "ratings": Param(
            str, None, "instead of lake: Parquet of (user int32, item int32, rating float32), "
            "indices already (the web side's own matrix: rating > 0 a play, < 0 a rejection)"
        ),
        "n_users": Param(int, None, "with ratings: rows of the user factors"),
        "n_items": Param(int, None, "with ratings: rows of the item factors"),
        "output": Param(str, help="directory (or URI) the factor files are written to"),
        "factors": Param(int, 64, "rank of the factor matrices"),
        "regularization": Param(float, 0.05, "Spark's regParam (scaled per row: ALS-WR)"),
        "alpha": Param(float, 1.0, "confidence 1 + alpha * weight"),
        "negative_weight": Param(float, 0.0, "rejections' confidence; 0: left out"),
        "iterations": Param(int, 15, "ALS sweeps"),
        "seed": Param(int, 0, "random seed of the initial factors"),
        "half_life_s": Param(float, DEFAULT_HALF_LIFE_S, "decay of a day's weight by its age"),
        "now": Param(float, None, "epoch seconds the decay counts from (default: now)"),
        "storage_options": STORAGE_OPTIONS,
    },
)
def train_als(
    spark,
    *,
    lake: str | None,
    ratings: str | None,
    n_users: int | None,
    n_items: int | None,
    output: str,
    factors: int,
    regularization: float,
    alpha: float,
    negative_weight: float,
    iterations: int,
    seed: int,
    half_life_s: float,
    now: float | None,
    storage_options: dict[str, str] | None,
) -> dict[str, Any]:
    """ALS (implicit preferences) on engagement_daily; factors written as files."""
    from pyspark.ml.recommendation import ALS

    if factors < 1 or iterations < 1:
        raise JobError("recs.train_als: factors and iterations must be at least 1")
    if half_life_s <= 0:
        raise JobError("recs.train_als: half_life_s must be positive (seconds)")
    if (lake is None) == (ratings is None):
        raise JobError("recs.train_als: give either lake or ratings (with n_users, n_items)")
    if ratings is not None:
        if not n_users or not n_items:
            raise JobError("recs.train_als: ratings needs n_users and n_items")
        return _train_on_ratings(
            spark, ratings, n_users, n_items, output=output, factors=factors,
            regularization=regularization, alpha=alpha, iterations=iterations, seed=seed,
        )
    now_s = time.time() if now is None else now
    uri = table_uri(lake, ENGAGEMENT_DAILY.name)
    version = delta.table_version(uri, storage_options)
    engagement = delta.read_table(spark, uri, ENGAGEMENT_DAILY, storage_options=storage_options)
    ratings = interactions(
        spark, engagement, now_s=now_s, half_life_s=half_life_s, negative_weight=negative_weight
    ).cache()
    users = _index(ratings, "user_id").cache()
    items = _index(ratings, "episode_id").cache()
    n_users, n_items = users.count(), items.count()
    if not n_users:
        raise JobError(
            f"recs.train_als: no interactions in {uri} (no engagement row with a positive "
            "weight): consume events first"
        )
    indexed = (
        ratings.join(users.withColumnRenamed("index", "user"), "user_id")
        .join(items.withColumnRenamed("index", "item"), "episode_id")
        .selectExpr("CAST(user AS INT) AS user", "CAST(item AS INT) AS item", "rating")
    )
    n_interactions = ratings.count()
    als = ALS(
        rank=factors,
        maxIter=iterations,
        regParam=regularization,
        alpha=alpha,
        implicitPrefs=True,
        userCol="user",
        itemCol="item",
        ratingCol="rating",
        seed=seed,
        coldStartStrategy="drop",
    )
    fit_started = time.perf_counter()
    model = als.fit(indexed)
    item_factors = _factors(model.itemFactors, n_items, factors)
    user_factors = _factors(model.userFactors, n_users, factors)
    fit_seconds = time.perf_counter() - fit_started

    user_ids = users.orderBy("index").toArrow()
    item_ids = items.orderBy("index").toArrow()
    params = {
        "factors": factors,
        "regularization": regularization,
        "alpha": alpha,
        "negative_weight": negative_weight,
        "iterations": iterations,
        "seed": seed,
        "half_life_s": half_life_s,
        "now": now_s,
    }
    summary = {
        "users": n_users,
        "items": n_items,
        "interactions": n_interactions,
        "engagement_version": version,
        "fit_seconds": round(fit_seconds, 3),
    }
    _write_files(
        output,
        {
            "item_factors.npy": _npy(item_factors),
            "user_factors.npy": _npy(user_factors),
            "items.parquet": _parquet(item_ids.select(["index", "episode_id"])),
            "users.parquet": _parquet(user_ids.select(["index", "user_id"])),
            "params.json": json.dumps({"params": params, **summary}, indent=2).encode(),
        },
    )
    ratings.unpersist()
    return {"output": output, "table_version": version, **summary, "params": params}
