"""The weekly directory import: skipped where no dump is configured (the graph's `when`),
or where podsight says it skipped (exit code 99); run otherwise, through PODSIGHT_BIN."""

from __future__ import annotations

from pathlib import Path

import pytest


def _run_weekly(dagbag) -> dict[str, str]:
    run = dagbag.dags["podsight_weekly"].test()
    return {ti.task_id: str(ti.state) for ti in run.get_task_instances()}


def _fake_podsight(tmp_path: Path, body: str) -> Path:
    # Stands in for podsight's CLI here: what is tested is how Airflow calls it and reads
    # its exit code (the real CLI runs in test_same_tables.py).
    script = tmp_path / "podsight"
    script.write_text(f'#!/bin/sh\necho "$@ home=$PODSIGHT_HOME" >> {tmp_path}/calls\n{body}\n')
    script.chmod(0o755)
    return script


@pytest.fixture
def weekly_env(monkeypatch, tmp_path, airflow_db):
    monkeypatch.setenv("PODSIGHT_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("PODSIGHT_PODCASTINDEX_DUMP", raising=False)
    return monkeypatch


def test_no_dump_configured_skips_without_calling_podsight(dagbag, weekly_env, tmp_path):
    weekly_env.setenv("PODSIGHT_BIN", str(_fake_podsight(tmp_path, "exit 1")))
    assert _run_weekly(dagbag) == {"directory.import": "skipped"}
    assert not (tmp_path / "calls").exists()


def test_exit_code_99_is_a_skip_and_the_dump_import_runs_through_the_cli(
    dagbag, weekly_env, tmp_path
):
    weekly_env.setenv("PODSIGHT_PODCASTINDEX_DUMP", str(tmp_path / "feeds.db"))
    weekly_env.setenv("PODSIGHT_BIN", str(_fake_podsight(tmp_path, "exit 99")))
    assert _run_weekly(dagbag) == {"directory.import": "skipped"}
    weekly_env.setenv("PODSIGHT_BIN", str(_fake_podsight(tmp_path, "exit 0")))
    assert _run_weekly(dagbag) == {"directory.import": "success"}
    calls = (tmp_path / "calls").read_text().splitlines()
    assert (
        calls
        == [
            "pipeline run --only directory.import --trigger airflow --no-retries --wait 3600 "
            f"--no-progress "
            f"home={tmp_path / 'home'}"
        ]
        * 2
    )
