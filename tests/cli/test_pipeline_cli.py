"""``podsight pipeline run`` / ``runs`` as a user types them, on a fresh home: a node that
works, one that fails and blocks what depends on it, the record of both, and a second
run refused while one holds the lock."""

from __future__ import annotations

import re
import subprocess
import threading
from pathlib import Path

import pytest

from .conftest import PODSIGHT, assert_clean, assert_error_line, run, user_env


def _env(home: Path) -> dict[str, str]:
    return user_env(home, PODSIGHT_PIPELINE_BACKOFF_SCALE="0")


def _row(text: str, node: str) -> str:
    return next(line for line in text.splitlines() if line.startswith(f"│ {node} "))


def test_a_node_runs_and_its_run_is_recorded(home: Path) -> None:
    ran = run(["pipeline", "run", "--only", "match", "--no-progress"], _env(home))
    assert_clean(ran)
    assert ran.code == 0, str(ran)
    row = _row(ran.out, "match")
    assert "succeeded" in row and "full run" in row  # the step's report, in one line
    assert "pipeline run 1 succeeded" in ran.out

    again = run(["pipeline", "run", "--only", "match", "--trigger", "airflow", "--no-retries",
                 "--no-progress"], _env(home))  # fmt: skip
    assert again.code == 0, str(again)
    listed = run(["pipeline", "runs"], _env(home))
    assert listed.code == 0, str(listed)
    assert "1 succeeded" in _row(listed.out, "1") and "cli" in _row(listed.out, "1")
    assert "airflow" in _row(listed.out, "2")


def test_a_failed_node_blocks_its_dependents_and_exits_1(home: Path) -> None:
    # A fresh home has no sources file: the sync fails (a wrong input: not retried).
    ran = run(["pipeline", "run", "--from", "sources.sync", "--no-progress"], _env(home))
    assert_error_line(ran, 1, "pipeline run 1 failed: sources.sync")
    assert "sources.toml does not exist" in _row(ran.out, "sources.sync")
    assert "needs sources.sync, which failed" in _row(ran.out, "match")
    assert "(sources.sync failed)" in _row(ran.out, "recs.train")
    assert "events.consume" not in ran.out  # beside the failed branch: not selected by --from

    listed = run(["pipeline", "runs", "--nodes"], _env(home))
    assert listed.code == 0, str(listed)
    assert "failed: sources.sync; blocked: match" in listed.out
    assert "needs sources.sync, which failed" in _row(listed.out, "match")


def test_usage_errors_name_what_to_do(home: Path) -> None:
    ran = run(["pipeline", "run", "--only", "nope"], _env(home))
    assert_error_line(ran, 2, "no pipeline node named 'nope'", "sources.sync, match")
    ran = run(["pipeline", "run", "--only", "match", "--from", "match"], _env(home))
    assert_error_line(ran, 2, "either --only or --from")
    ran = run(["pipeline", "run", "--cadence", "hourly"], _env(home))
    assert_error_line(ran, 2, "--cadence must be one of daily, weekly, all")


def test_a_second_run_is_refused_while_one_runs(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from podsight.pipeline.runner import pipeline_lock

    home.mkdir(parents=True)
    monkeypatch.setenv("PODSIGHT_HOME", str(home))
    with pipeline_lock():  # this process stands for the run in progress
        ran = run(["pipeline", "run", "--only", "match", "--no-progress"], _env(home))
    assert_error_line(ran, 2, "a pipeline run is already running (process ")
    again = run(["pipeline", "run", "--only", "match", "--no-progress"], _env(home))
    assert again.code == 0, str(again)

    # --wait: it takes its turn once the run in progress ends (here after 12 s).
    release = threading.Event()
    held = threading.Event()

    def hold() -> None:
        with pipeline_lock():
            held.set()
            release.wait(12)

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert held.wait(10)
        waited = run(["pipeline", "run", "--only", "match", "--wait", "120", "--no-progress"],
                     _env(home))  # fmt: skip
    finally:
        release.set()
        holder.join(10)
    assert waited.code == 0 and waited.seconds >= 12, str(waited)
    assert "pipeline run 2 succeeded" in waited.out  # the refused one recorded nothing


def test_a_run_whose_process_was_killed_is_marked_interrupted(seeded_home: Path) -> None:
    env = _env(seeded_home)
    sent = run(["simulate", "listeners", "--direct", "--events", "20", "--users", "5",
                "--speedup", "0", "--no-progress"], env)  # fmt: skip
    assert sent.code == 0, str(sent)
    # The consumer waits after writing the events (its crash-test hook): killed there.
    process = subprocess.Popen(
        [PODSIGHT, "pipeline", "run", "--only", "events.consume", "--no-progress"],
        env={**env, "PODSIGHT_CONSUMER_STALL_AT": "after-events"},
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        assert "stalled at after-events" in process.stdout.readline()
    finally:
        process.kill()
        process.communicate(timeout=30)
    listed = run(["pipeline", "runs", "--nodes"], env)
    assert listed.code == 0, str(listed)
    # The newest run (the home's demo load recorded runs of its own before it).
    runs = [line for line in listed.out.splitlines() if re.match(r"│ \d+ ", line)]
    assert "interrupted" in max(runs, key=lambda line: int(line.split()[1]))
    assert "stopped before it finished" in _row(listed.out, "events.consume")
    # The next run finishes what the killed one left (the consumer's own recovery).
    again = run(["pipeline", "run", "--only", "events.consume", "--no-progress"], env)
    assert again.code == 0, str(again)
    assert "recomputed after an interrupted run" in _row(again.out, "events.consume")
