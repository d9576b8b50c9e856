"""The scheduler (``podsight pipeline schedule``): the real command in a subprocess on a
fresh home (one local feed in its sources file, so every node of the daily graph runs
for real and fast), stopped by SIGTERM; and in this process, on a small graph of its own,
catching up after downtime, waiting for a run holding the lock, and a signal stopping a
run at a node."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from podsight.pipeline import STEPS
from podsight.pipeline.graph import Node, build
from podsight.pipeline.registry import step

BIN = Path(sys.executable).parent


def _runs(home: Path) -> list[tuple[int, str, str, str]]:
    with sqlite3.connect(home / "podsight.sqlite3") as db:
        return db.execute(
            "SELECT id, status, trigger, cadences FROM jobs_pipelinerun ORDER BY id"
        ).fetchall()


def _wait(what, timeout: float, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the scheduler exited early: {process.communicate()}")
        try:
            if what():
                return
        except sqlite3.OperationalError:  # the database is not migrated yet
            pass
        time.sleep(0.2)
    process.kill()
    raise AssertionError(f"timed out: {process.communicate()}")


def _start(env: dict[str, str], every: str) -> subprocess.Popen:
    return subprocess.Popen(
        [BIN / "podsight", "pipeline", "schedule", "--every", every],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def test_the_scheduler_runs_stops_on_sigterm_and_catches_up_from_the_records(
    tmp_path: Path, rss_corpus: Path
):
    home = tmp_path / "home"
    home.mkdir()
    feed = rss_corpus / "podcast-feed-parser" / "bc-sample.xml"
    (home / "sources.toml").write_text(f'[[shows]]\nname = "bc"\nrss_url = "{feed}"\n', "utf-8")
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "PODSIGHT_FEEDS")}
    env.update(PODSIGHT_HOME=str(home), PODSIGHT_PIPELINE_BACKOFF_SCALE="0")

    # 1. A fresh home: the daily and the weekly run are due now; SIGTERM while the first
    # one runs ends it after its node at hand, recorded interrupted, and the command
    # exits 0 with its summary.
    scheduler = _start(env, "2s")
    _wait(lambda: any(r[1] == "running" for r in _runs(home)), 90, scheduler)
    scheduler.send_signal(signal.SIGTERM)
    out, err = scheduler.communicate(timeout=120)
    assert scheduler.returncode == 0, out + err
    assert "SIGTERM: stopping after the current step" in err
    assert "scheduler stopped on SIGTERM" in out, out
    runs = _runs(home)
    assert runs[0][1:] == ("interrupted", "schedule", '["daily"]'), runs
    with sqlite3.connect(home / "podsight.sqlite3") as db:
        nodes = dict(db.execute(
            "SELECT node, status FROM jobs_pipelinesteprun WHERE run_id = ?", [runs[0][0]]
        ).fetchall())  # fmt: skip
    assert "pending" in nodes.values(), nodes  # the nodes after the one at hand never ran

    # 2. Started again: an interrupted run did not do the day's work, so it runs at once,
    # then again every 2 s; the weekly branch once (it is skipped: no dump configured).
    scheduler = _start(env, "2s")
    _wait(lambda: sum(r[1] == "succeeded" and r[3] == '["daily"]' for r in _runs(home)) >= 2,
          120, scheduler)  # fmt: skip
    scheduler.send_signal(signal.SIGTERM)
    out, err = scheduler.communicate(timeout=120)
    assert scheduler.returncode == 0, out + err
    assert "daily run due now" in err
    daily = [r for r in _runs(home)[1:] if r[3] == '["daily"]']
    assert len(daily) >= 2 and all(r[2] == "schedule" for r in daily)
    assert all(r[1] in ("succeeded", "interrupted") for r in daily), daily
    assert [r[1] for r in _runs(home) if r[3] == '["weekly"]'] == ["succeeded"]

    # 3. Started again with a day's interval: the last complete daily run is seconds old,
    # so nothing runs until tomorrow; the weekly one is not due either.
    before = _runs(home)
    scheduler = _start(env, "24h")
    time.sleep(8)  # long enough for a due run to have started (the first took ~1-16 s)
    scheduler.send_signal(signal.SIGINT)
    out, err = scheduler.communicate(timeout=60)
    assert scheduler.returncode == 0, out + err
    assert "daily run due 20" in err and "0 run(s)" in out, out + err
    assert _runs(home) == before


# --- in this process, on a small graph --------------------------------------------------


@pytest.fixture
def tiny(monkeypatch, tmp_path):
    """Two nodes of a step that records its calls (and can be made slow)."""
    monkeypatch.setenv("PODSIGHT_HOME", str(tmp_path))
    monkeypatch.setenv("PODSIGHT_PIPELINE_BACKOFF_SCALE", "0")
    calls: list[str] = []
    state = {"sleep": 0.0, "stop": threading.Event()}

    def tick(*, name: str) -> None:
        """Record the call (and take ``state["sleep"]`` seconds); the scheduler stops
        after the last node of a run."""
        calls.append(name)
        if name == "first" and state.get("signal"):
            # From inside the run, so the scheduler's handler is surely installed (a
            # timer could fire before it is and end the whole test process).
            os.kill(os.getpid(), state["signal"])
        time.sleep(state["sleep"])
        if name == "second":
            state["stop"].set()

    registered = step("test.tick", report="podsight.pipeline.reports:Migrated")
    saved = dict(STEPS)
    registered(tick)
    graph = build(
        Node("first", "test.tick", params={"name": "first"}, retries=0),
        Node("second", "test.tick", needs=("first",), params={"name": "second"}, retries=0),
    )
    yield graph, calls, state
    STEPS.clear()
    STEPS.update(saved)


def _record_run(cadence: str, started: datetime, status: str = "succeeded") -> None:
    from podsight.jobs.models import PipelineRun

    PipelineRun.objects.create(
        trigger="schedule", cadences=[cadence], status=status, started_at=started,
        finished_at=started + timedelta(seconds=5),
    )  # fmt: skip


def _schedule_once(tiny, **options):
    """Schedule until the first run's last node ran (or 30 s)."""
    from podsight.pipeline.schedule import schedule

    graph, _, state = tiny
    timer = threading.Timer(30, state["stop"].set)
    timer.start()
    try:
        return schedule(stop=state["stop"], graph=graph, **options)
    finally:
        timer.cancel()


@pytest.mark.django_db(transaction=True)
def test_catch_up_runs_at_once_when_the_last_run_is_older_than_the_interval(tiny):
    _, calls, _ = tiny
    _record_run("daily", datetime.now(UTC) - timedelta(days=2))
    # An interrupted run did not do the day's work: it does not count.
    _record_run("daily", datetime.now(UTC) - timedelta(hours=1), status="interrupted")
    began = time.monotonic()
    report = _schedule_once(tiny, every=24 * 3600)
    assert [r.status for r in report.runs] == ["succeeded"]
    assert calls == ["first", "second"] and time.monotonic() - began < 20


@pytest.mark.django_db(transaction=True)
def test_no_run_before_the_interval_is_up_since_the_last_one(tiny):
    _, calls, _ = tiny
    last = datetime.now(UTC) - timedelta(hours=23, minutes=59, seconds=57)
    _record_run("daily", last)
    report = _schedule_once(tiny, every=24 * 3600)
    # Due 24 h after the recorded run (3 s after start), not before.
    assert [r.status for r in report.runs] == ["succeeded"] and calls == ["first", "second"]
    assert report.runs[0].started_at >= last + timedelta(hours=24)


@pytest.mark.django_db(transaction=True)
def test_a_due_run_waits_while_another_run_holds_the_lock(tiny, monkeypatch):
    from podsight.pipeline import schedule as scheduling
    from podsight.pipeline.runner import pipeline_lock

    _, calls, _ = tiny
    monkeypatch.setattr(scheduling, "BUSY_RETRY_S", 0.5)
    held = threading.Event()
    release = threading.Event()

    def other_run() -> None:  # another process's run, as far as the lock goes
        with pipeline_lock():
            held.set()
            release.wait(10)

    holder = threading.Thread(target=other_run)
    holder.start()
    held.wait(5)
    threading.Timer(1.2, release.set).start()
    report = _schedule_once(tiny, every=3600)
    holder.join()
    assert report.busy >= 2 and [r.status for r in report.runs] == ["succeeded"]
    assert calls == ["first", "second"]


@pytest.mark.django_db(transaction=True)
def test_a_signal_ends_the_run_after_its_current_node_recorded_interrupted(tiny):
    from podsight.jobs.models import PipelineStepRun
    from podsight.pipeline.schedule import schedule

    graph, calls, state = tiny
    state["sleep"] = 1.0
    state["signal"] = signal.SIGTERM
    report = schedule(graph=graph, every=3600)
    assert report.stopped_by == "SIGTERM"
    assert [r.status for r in report.runs] == ["interrupted"] and calls == ["first"]
    nodes = dict(
        PipelineStepRun.objects.filter(run_id=report.runs[0].run_id).values_list("node", "status")
    )
    assert nodes == {"first": "succeeded", "second": "pending"}
    # The handlers are the process's own again.
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL
