"""``podsight.engines``: which engine a step runs on, and a Spark job run as a subprocess
(here a stand-in ``python -m podsight_spark`` that speaks the jobs' protocol: logs on
stderr, one JSON result line on stdout, exit status)."""

from __future__ import annotations

import logging
import stat
import sys
from pathlib import Path

import pytest

from podsight import engines
from podsight.errors import ConfigurationError, PodsightError

# Answers `<python> -m podsight_spark run NAME --params JSON` as the real CLI does.
FAKE = """#!{python}
import json, sys
assert sys.argv[1:4] == ["-m", "podsight_spark", "run"], sys.argv
name, flag, params = sys.argv[4], sys.argv[5], json.loads(sys.argv[6])
assert flag == "--params"
print("WARN NativeCodeLoader: Unable to load native-hadoop library", file=sys.stderr)
print(f"job {{name}} stage 1/1", file=sys.stderr, flush=True)
if name == "echo":
    print("some chatter on stdout first")
    print(json.dumps({{"rows": 3, "params": params}}))
elif name == "fails":
    print(json.dumps({{"error": "events table not found at /nowhere"}}))
    sys.exit(1)
elif name == "crashes":
    print("Traceback (most recent call last):", file=sys.stderr)
    print("py4j.protocol.Py4JJavaError: java.lang.OutOfMemoryError", file=sys.stderr)
    sys.exit(3)
elif name == "refuses":
    print("podsight_spark: error: recs.train_als: factors must be at least 1", file=sys.stderr)
    print("shutdown hook called", file=sys.stderr)
    sys.exit(2)
elif name == "recs.train_als":
    import numpy as np
    import pyarrow.parquet as pq
    ratings = pq.read_table(params["ratings"]).to_pydict()
    assert max(ratings["user"]) < params["n_users"] and max(ratings["item"]) < params["n_items"]
    import os
    os.makedirs(params["output"])
    rng = np.random.default_rng(0)
    for side, n in (("item", params["n_items"]), ("user", params["n_users"])):
        factors = rng.normal(size=(n, params["factors"])).astype(np.float32)
        np.save(params["output"] + f"/{{side}}_factors.npy", factors)
    print(json.dumps({{"job": name, "interactions": len(ratings["user"])}}))
elif name == "content.embed":
    # The job's protocol with the local embedder (the real job: test_spark_parity.py).
    import pyarrow as pa, pyarrow.parquet as pq
    from podsight.content.embed import EMBEDDERS
    assert params["output_format"] == "parquet" and params["text_column"] == "text"
    rows = pq.read_table(params["input"])
    model = EMBEDDERS[params["embedder"]]()
    vectors = model.encode(rows.column("text").to_pylist())
    flat = pa.array(vectors.reshape(-1), pa.float32())
    out = rows.append_column("embedder", pa.array([model.name] * rows.num_rows))
    out = out.append_column("vector", pa.FixedSizeListArray.from_arrays(flat, 384))
    pq.write_table(out.take(list(range(rows.num_rows))[::-1]), params["output"])
    print(json.dumps({{"job": name, "rows_written": rows.num_rows, "embedder": model.name}}))
elif name == "mute":
    print("done")
elif name == "not-installed":
    print("/x/python: No module named podsight_spark", file=sys.stderr)
    sys.exit(1)
"""


@pytest.fixture
def fake_spark(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "spark-python"
    path.write_text(FAKE.format(python=sys.executable), "utf-8")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PODSIGHT_SPARK_PYTHON", str(path))
    return path


def test_the_engine_comes_from_the_argument_else_the_setting(monkeypatch) -> None:
    monkeypatch.delenv("PODSIGHT_ENGINE", raising=False)
    assert engines.current() == "local"
    assert engines.current("spark") == "spark"
    monkeypatch.setenv("PODSIGHT_ENGINE", " Spark ")
    assert engines.current() == "spark"
    assert engines.current("local") == "local"  # the step's own choice wins
    monkeypatch.setenv("PODSIGHT_ENGINE", "dask")
    with pytest.raises(ConfigurationError, match=r"PODSIGHT_ENGINE='dask' .* local, spark"):
        engines.current()
    with pytest.raises(ConfigurationError, match=r"engine='gpu' is not an engine"):
        engines.current("gpu")


def test_a_job_result_is_its_last_json_line_and_its_log_goes_to_the_log(
    fake_spark: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="podsight.engines.spark"):
        result = engines.run_spark_job("echo", events="/lake/events", metadata={"k": "v"})
    assert result == {"rows": 3, "params": {"events": "/lake/events", "metadata": {"k": "v"}}}
    logged = [r.getMessage() for r in caplog.records]
    assert any("spark echo: job echo stage 1/1" in line for line in logged), logged
    assert any("native-hadoop" in line for line in logged)


def test_a_failed_job_fails_with_its_own_message(fake_spark: Path) -> None:
    with pytest.raises(engines.SparkJobError, match="events table not found at /nowhere"):
        engines.run_spark_job("fails")
    # No JSON error line: the last line of its log says what happened.
    with pytest.raises(PodsightError, match=r"exit 3.*OutOfMemoryError"):
        engines.run_spark_job("crashes")
    with pytest.raises(engines.SparkJobError, match=r"exit 2.*: recs.train_als: factors must"):
        engines.run_spark_job("refuses")
    with pytest.raises(engines.SparkJobError, match="no JSON result"):
        engines.run_spark_job("mute")
    with pytest.raises(engines.SparkUnavailable, match="make venv-spark"):
        engines.run_spark_job("not-installed")


def test_without_a_spark_python_it_says_how_to_get_one(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("PODSIGHT_SPARK_PYTHON", str(tmp_path / "nope" / "python"))
    with pytest.raises(engines.SparkUnavailable, match="PODSIGHT_SPARK_PYTHON=.*make venv-spark"):
        engines.run_spark_job("echo")
    monkeypatch.delenv("PODSIGHT_SPARK_PYTHON")
    monkeypatch.setattr(engines, "ROOT", tmp_path)  # a checkout without .venv-spark
    with pytest.raises(engines.SparkUnavailable, match=r"\.venv-spark/bin/python does not exist"):
        engines.spark_python()
    assert issubclass(engines.SparkUnavailable, PodsightError)


def test_spark_is_given_ratings_whose_confidence_is_implicits() -> None:
    import numpy as np
    import scipy.sparse as sp

    from podsight.recs.algorithms.als import ALS

    positives = sp.csr_matrix(np.array([[2.0, 0.0, 0.5, -1.0], [0.0, 3.0, 0.0, 1.0]]))
    negatives = sp.csr_matrix(np.array([[0, 0, 1.0, 0], [1.0, 0, 0, 0]]))
    for alpha, weight in ((1.0, 0.0), (2.0, 3.0), (0.5, 1.0)):
        als = ALS(alpha=alpha, negative_weight=weight)
        local = als.confidence(positives, negatives).toarray()
        ratings = als.spark_ratings(positives, negatives).toarray()
        # Spark (implicitPrefs): confidence 1 + alpha·|r|, preference r > 0; implicit: |c|,
        # preference c > 0; nothing where neither has a value.
        spark = np.where(ratings != 0, 1 + alpha * np.abs(ratings), 0.0)
        np.testing.assert_allclose(spark, np.abs(local), rtol=1e-6)
        assert ((ratings > 0) == (local > 0)).all()


def test_als_on_spark_takes_the_jobs_factors(fake_spark: Path, tmp_path: Path, monkeypatch) -> None:
    import numpy as np
    import scipy.sparse as sp

    from podsight.recs.algorithms.als import ALS
    from podsight.recs.core import Dataset

    monkeypatch.setenv("PODSIGHT_HOME", str(tmp_path / "home"))
    matrix = sp.random(30, 50, density=0.2, format="csr", random_state=1, dtype=np.float32)
    plays = Dataset(users=[f"u{i}" for i in range(30)], items=[f"i{i}" for i in range(50)],
                    matrix=matrix)  # fmt: skip
    given = []
    real = engines.run_spark_job
    monkeypatch.setattr(
        engines, "run_spark_job", lambda name, **p: given.append(p) or real(name, **p)
    )
    model = ALS(factors=4, random_state=7, alpha=2.0, engine="spark")
    model.fit(plays)
    ((params,),) = [given]
    assert (params["factors"], params["seed"], params["alpha"]) == (4, 7, 2.0), params
    assert (params["n_users"], params["n_items"]) == (30, 50)
    assert model.item_factors.shape == (50, 4) and model.user_factors.shape == (30, 4)
    expected = np.random.default_rng(0).normal(size=(50, 4)).astype(np.float32)
    np.testing.assert_array_equal(model.item_factors, expected)
    scored = model.recommend(plays.history(3), 5)
    assert len(scored.items) == 5 and not set(scored.items) & set(matrix[3].indices)
    assert not list((tmp_path / "home" / "tmp").iterdir())  # its files are cleaned up


@pytest.mark.django_db
def test_recs_train_on_spark_fits_every_als_through_the_job(
    fake_spark: Path, tmp_path: Path, monkeypatch, fresh_caches
) -> None:
    """The hybrid's ALS (its validation copy and the final fit) gets its factors from the
    job; the version records the engine among ALS's parameters."""
    import numpy as np
    import scipy.sparse as sp

    from podsight.pipeline import run_step
    from podsight.recs import data
    from podsight.recs.core import Dataset

    monkeypatch.setenv("PODSIGHT_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("PODSIGHT_ENGINE", "spark")
    rng = np.random.default_rng(3)
    dense = (rng.random((60, 50)) < 0.25) * rng.uniform(0.2, 1.0, (60, 50))
    dataset = Dataset(users=[f"u{i}" for i in range(60)], items=[f"i{i}" for i in range(50)],
                      matrix=sp.csr_matrix(dense.astype(np.float32)), name="test")  # fmt: skip
    monkeypatch.setattr(data, "build_dataset", lambda **_: dataset)
    calls = []
    real = engines.run_spark_job
    monkeypatch.setattr(
        engines, "run_spark_job", lambda name, **p: calls.append(name) or real(name, **p)
    )
    report = run_step("recs.train", models=["als"], promote=False)
    assert calls == ["recs.train_als", "recs.train_als"], calls  # validation split, then all
    assert report.status == "candidate" and report.models == ["als"]
    from podsight.recs.models import ModelVersion

    params = ModelVersion.objects.get(version=report.version).params["models"]["als"]
    assert params["engine"] == "spark", params


@pytest.mark.django_db
def test_content_analyze_on_spark_embeds_the_new_passages_through_the_job(
    fake_spark: Path, tmp_path: Path, monkeypatch, fresh_caches, rss_corpus: Path
) -> None:
    import numpy as np

    from podsight.catalog.models import Episode
    from podsight.content.embed import get_embedder
    from podsight.content.passages import read_passages
    from podsight.pipeline import run_step
    from podsight.sources.rss.ingest import ingest_feeds

    monkeypatch.setenv("PODSIGHT_HOME", str(tmp_path / "home"))
    ingest_feeds([str(rss_corpus / "podcast-feed-parser" / "bc-sample.xml")])
    ids = list(Episode.objects.values_list("pk", flat=True))
    calls = []
    real = engines.run_spark_job
    monkeypatch.setattr(
        engines, "run_spark_job", lambda name, **p: calls.append(name) or real(name, **p)
    )
    report = run_step("content.analyze", episode_ids=ids, engine="spark")
    assert calls == ["content.embed"] and report.engine == "spark"
    assert report.analysed == len(ids) > 0, report
    table = read_passages()
    flat = table.column("vector").combine_chunks().flatten().to_numpy(zero_copy_only=False)
    local = get_embedder().encode(table.column("text").to_pylist())
    # The job returned its rows in another order: each vector is its own passage's.
    np.testing.assert_allclose(flat.reshape(table.num_rows, -1), local, atol=1e-6)
    again = run_step("content.analyze", episode_ids=ids, engine="spark")
    assert again.unchanged == len(ids) and calls == ["content.embed"]  # nothing new to embed
