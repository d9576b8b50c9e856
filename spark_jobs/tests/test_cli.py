"""The command line the web side calls: `python -m podsight_spark run JOB --params JSON`."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from deltalake import DeltaTable
from lakedata import EXPECTED, write_events


def _cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "podsight_spark", *args],
        capture_output=True, text=True, timeout=300, env={**os.environ, **(env or {})},
    )


def test_run_prints_one_json_line(tmp_path):
    write_events(tmp_path)
    done = _cli("run", "events.engagement", "--params", json.dumps({"lake": str(tmp_path)}),
                env={"PODSIGHT_SPARK_MASTER": "local[2]"})
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    assert len(lines) == 1, done.stdout
    result = json.loads(lines[0])
    assert result["job"] == "events.engagement"
    assert result["rows_written"] == len(EXPECTED) and result["table_version"] == 0
    assert result["seconds"] > 0
    assert DeltaTable(str(tmp_path / "engagement_daily")).to_pyarrow_table().num_rows == len(
        EXPECTED)


def test_run_failures_exit_2_with_the_reason(tmp_path):
    done = _cli("run", "events.nope", "--params", "{}")
    assert done.returncode == 2 and done.stdout == ""
    assert "podsight_spark: error: no job 'events.nope'" in done.stderr
    assert "events.engagement" in done.stderr
    done = _cli("run", "events.engagement", "--params", "{lake:")
    assert done.returncode == 2 and "--params is not valid JSON" in done.stderr
    done = _cli("run", "events.engagement", "--params", json.dumps({"lake": str(tmp_path)}))
    assert done.returncode == 2 and "no Delta table 'events'" in done.stderr


def test_list_names_every_job_and_its_parameters():
    done = _cli("list", "--json")
    assert done.returncode == 0, done.stderr
    jobs = {j["name"]: j for j in json.loads(done.stdout)}
    assert set(jobs) == {"events.engagement", "recs.train_als", "content.embed"}
    assert jobs["events.engagement"]["params"]["lake"]["required"] is True
    assert jobs["recs.train_als"]["params"]["factors"]["default"] == 64
    text = _cli("list").stdout
    assert "content.embed: Passage embeddings" in text
