"""recs.train_als: interactions as the local engine weighs them, ALS fitted, files out."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from deltalake import write_deltalake
from podsight_spark import registry
from podsight_spark.errors import JobError
from podsight_spark.jobs.als import interactions

from podsight.lake_tables import ENGAGEMENT_DAILY

NOW = datetime(2026, 3, 1, tzinfo=UTC)
DAY = 86_400.0


def _row(user, episode, *, weight, days_ago=0.0, likes=0, unlikes=0, skips=0, rating=None,
         completion=0.5):
    at = NOW - timedelta(seconds=days_ago * DAY)
    return {
        "user_id": user, "episode_id": episode, "day": at.date(), "plays": 1,
        "listened_s": 60.0, "max_completion": completion, "likes": likes,
        "unlikes": unlikes, "skips": skips, "downloads": 0, "rating": rating, "events": 3,
        "last_event_at": at, "weight": weight,
    }


def _write(lake, rows):
    write_deltalake(str(lake / "engagement_daily"),
                    pa.Table.from_pylist(rows, schema=ENGAGEMENT_DAILY.schema),
                    partition_by=list(ENGAGEMENT_DAILY.partition_by))


def test_interactions_weigh_decay_and_reject_as_the_local_engine(spark, tmp_path):
    rows = [
        _row("a", 1, weight=1.0),  # today: 1.0
        _row("a", 1, weight=1.0, days_ago=90),  # a half-life ago: 0.5 -> 1.5 in all
        _row("a", 2, weight=0.8, unlikes=1),  # unliked more than liked: rejected
        _row("a", 3, weight=0.8, rating=2),  # rated low: rejected
        _row("a", 4, weight=0.3, skips=1, completion=0.5),  # skipped unfinished: rejected
        _row("a", 5, weight=0.3, skips=1, completion=0.95),  # skipped but finished: kept
        _row("b", 1, weight=-0.2),  # negative sum: rejected
        _row("b", 2, weight=0.0),  # zero: no preference, left out
    ]
    df = spark.createDataFrame(pa.Table.from_pylist(rows, schema=ENGAGEMENT_DAILY.schema)
                               .to_pandas())
    got = interactions(spark, df, now_s=NOW.timestamp(), half_life_s=90 * DAY,
                       negative_weight=0.0).toPandas()
    cells = {(r.user_id, r.episode_id): r.rating for r in got.itertuples()}
    assert cells == pytest.approx({("a", 1): 1.5, ("a", 5): 0.3})
    with_negatives = interactions(spark, df, now_s=NOW.timestamp(), half_life_s=90 * DAY,
                                  negative_weight=2.0).toPandas()
    cells = {(r.user_id, r.episode_id): r.rating for r in with_negatives.itertuples()}
    assert cells == pytest.approx({("a", 1): 1.5, ("a", 2): -2.0, ("a", 3): -2.0,
                                   ("a", 4): -2.0, ("a", 5): 0.3, ("b", 1): -2.0})


def test_train_als_learns_two_tastes_and_writes_the_factor_files(spark, tmp_path):
    # Two groups of listeners, each playing only its own group's episodes.
    rng = np.random.default_rng(0)
    rows = []
    for u in range(40):
        group = u % 2
        for e in rng.choice(10, size=6, replace=False):
            rows.append(_row(f"user{u:02d}", 100 * (group + 1) + int(e),
                             weight=float(rng.uniform(0.5, 1.0)), days_ago=1))
    _write(tmp_path, rows)
    out = tmp_path / "model"
    result = registry.run("recs.train_als", {
        "lake": str(tmp_path), "output": str(out), "factors": 8, "iterations": 10,
        "regularization": 0.01, "seed": 1, "now": NOW.timestamp(),
    }, spark=spark)
    assert result["users"] == 40 and result["items"] == 20
    assert result["interactions"] == len(rows) and result["table_version"] == 0

    items = pq.read_table(out / "items.parquet").to_pydict()
    users = pq.read_table(out / "users.parquet").to_pydict()
    assert items["index"] == list(range(20)) and items["episode_id"] == sorted(items["episode_id"])
    assert users["user_id"] == sorted(users["user_id"])
    item_f = np.load(out / "item_factors.npy")
    user_f = np.load(out / "user_factors.npy")
    assert item_f.shape == (20, 8) and user_f.shape == (40, 8) and item_f.dtype == np.float32
    assert np.abs(item_f).sum(axis=1).min() > 0  # every item has its factors
    params = json.loads((out / "params.json").read_text())
    assert params["params"]["factors"] == 8 and params["users"] == 40

    # Each listener scores what they played above every episode of the other group.
    scores = user_f @ item_f.T
    item_at = {e: i for i, e in enumerate(items["episode_id"])}
    for u, user in enumerate(users["user_id"]):
        played = [item_at[r["episode_id"]] for r in rows if r["user_id"] == user]
        group = int(user[4:]) % 2
        other = [i for e, i in item_at.items() if e // 100 != group + 1]
        assert scores[u, played].min() > scores[u, other].max(), user


def test_train_als_on_the_web_sides_own_matrix(spark, tmp_path):
    # Indices given: user u, item i; user 3 and item 5 have no rating (zero rows). Two
    # factors for two tastes: item 4 is only ever rejected, and Spark regularises an item
    # by its count of positive ratings (ALS-WR), here none, so its solve is YtY's alone,
    # singular when the factors outnumber the users' independent directions.
    cells = [(0, 0, 1.0), (0, 1, 0.8), (1, 0, 0.9), (1, 1, 0.7), (2, 2, 1.0), (2, 3, 0.6),
             (4, 2, 0.9), (4, 3, 1.0), (4, 4, -1.0)]
    path = tmp_path / "ratings.parquet"
    pq.write_table(pa.table({
        "user": pa.array([c[0] for c in cells], pa.int32()),
        "item": pa.array([c[1] for c in cells], pa.int32()),
        "rating": pa.array([c[2] for c in cells], pa.float32())}), path)
    out = tmp_path / "model"
    result = registry.run("recs.train_als", {
        "ratings": str(path), "n_users": 5, "n_items": 6, "output": str(out), "factors": 2,
        "iterations": 5}, spark=spark)
    assert result["users"] == 5 and result["items"] == 6
    item_f, user_f = np.load(out / "item_factors.npy"), np.load(out / "user_factors.npy")
    assert item_f.shape == (6, 2) and user_f.shape == (5, 2)
    assert not item_f[5].any() and not user_f[3].any() and item_f[:4].any(axis=1).all()
    # Only ever rejected: preference 0 everywhere it is seen, so its least-squares factors
    # are 0 (as implicit's would be): never recommended on its own merit.
    assert not item_f[4].any()
    scores = user_f @ item_f.T
    assert scores[0, :2].min() > scores[0, 2:4].max()
    assert scores[2, 2:4].min() > scores[2, :2].max()
    with pytest.raises(JobError, match="either lake or ratings"):
        registry.run("recs.train_als", {"output": str(out)}, spark=spark)
    with pytest.raises(JobError, match="ratings needs n_users and n_items"):
        registry.run("recs.train_als", {"ratings": str(path), "output": str(out)}, spark=spark)


def test_no_interactions_is_a_clear_error(spark, tmp_path):
    _write(tmp_path, [_row("a", 1, weight=-1.0)])
    with pytest.raises(JobError, match="no interactions"):
        registry.run("recs.train_als", {"lake": str(tmp_path), "output": str(tmp_path / "m")},
                     spark=spark)
