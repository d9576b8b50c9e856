"""A drain (the pipeline's ``events.consume`` node, ``podsight events consume --once``)
while a long-running consumer holds the lake: nothing to do, said plainly, not an error;
and ``events.engagement`` recomputes only what the consumer did not keep exact."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pytest
from deltalake import DeltaTable

from podsight import lake
from podsight.catalog.models import Episode
from podsight.events.consumer import ConsumerBusy, consume, consumer_lock
from podsight.events.engagement import compute_engagement
from podsight.events.services import ingest
from podsight.lake.tables import ENGAGEMENT_DAILY, EVENTS
from podsight.pipeline import run_step

pytestmark = pytest.mark.django_db

T0 = datetime(2025, 6, 2, 9, 0, tzinfo=UTC)


def _send(episode: Episode, user: str, start: float) -> None:
    items = [
        {
            "event_id": str(uuid.uuid4()), "user_id": user, "episode": episode.pk, "type": kind,
            "occurred_at": (T0 + timedelta(seconds=start + at)).isoformat(),
            "session_id": f"{user}-{start}", "position_s": at,
        }  # fmt: skip
        for kind, at in (("play", 0), ("progress", 120), ("pause", 240))
    ]
    result = ingest(items, client="test")
    assert not result.errors, result.errors


def _version(table) -> int:
    return DeltaTable(str(lake.table_path(table))).version()


def _rows(table) -> list[dict]:
    return sorted(table.to_pylist(), key=lambda r: (r["day"], r["user_id"], r["episode_id"]))


# --- B1: a drain beside a running consumer -------------------------------------------------


def test_the_graphs_event_nodes_succeed_beside_a_running_consumer(catalog, monkeypatch):
    monkeypatch.setenv("PODSIGHT_PIPELINE_BACKOFF_SCALE", "0")
    _send(Episode.objects.order_by("pk").first(), "ann", 0)
    consume(once=True)
    events = _version(EVENTS)
    _send(Episode.objects.order_by("pk").first(), "bob", 600)  # for the running consumer
    with consumer_lock():
        report = run_step("pipeline.run", only=["events.consume", "events.engagement"])
    nodes = {n.name: n for n in report.nodes}
    assert report.status == "succeeded", report.nodes
    consumed = nodes["events.consume"]
    assert consumed.status == "succeeded" and consumed.attempts == 1, consumed
    assert "nothing consumed: a consumer is running on this lake" in consumed.summary
    assert f"process {os.getpid()} on host " in consumed.summary  # who holds it
    assert "keeps engagement_daily current" in nodes["events.engagement"].summary
    assert _version(EVENTS) == events  # the drain really consumed nothing


def test_the_step_drains_when_free_and_a_second_long_running_consumer_is_refused(catalog):
    _send(Episode.objects.order_by("pk").first(), "ann", 0)
    with consumer_lock():
        skipped = run_step("events.consume", once=True, refresh=False)
        assert skipped.skipped and skipped.events_written == 0
        assert str(skipped).startswith("nothing consumed: a consumer is running")
        with pytest.raises(ConsumerBusy, match=rf"process {os.getpid()} on host"):
            run_step("events.consume", once=False, refresh=False)
    done = run_step("events.consume", once=True, refresh=False)
    assert done.skipped is None and done.events_written == 3


def test_consume_once_beside_a_running_consumer_says_so_and_exits_0(catalog, home):
    podsight = str(Path(sys.executable).parent / "podsight")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PODSIGHT_"))}
    env["PODSIGHT_HOME"] = str(home)
    running = subprocess.Popen(
        [podsight, "events", "consume", "--no-refresh"], env=env,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        lock = lake.table_path(".consumer.lock")
        deadline = time.monotonic() + 60
        while f"process {running.pid} " not in (lock.read_text() if lock.exists() else ""):
            assert running.poll() is None, running.communicate()
            assert time.monotonic() < deadline, "the consumer never took its lock"
            time.sleep(0.1)

        def run(*args: str) -> subprocess.CompletedProcess:
            return subprocess.run(
                [podsight, "events", "consume", *args], env=env, capture_output=True,
                text=True, timeout=120,
            )  # fmt: skip

        drained = run("--once", "--no-refresh")
        assert drained.returncode == 0 and "Traceback" not in drained.stderr, drained
        out = " ".join(drained.stdout.split())
        assert "nothing consumed: a consumer is running on this lake" in out, out
        assert f"process {running.pid} on host" in out
        # A second long-running consumer is still refused.
        second = run("--no-refresh")
        assert second.returncode != 0 and "is running on this lake" in second.stderr, second
    finally:
        running.send_signal(signal.SIGTERM)
        running.wait(timeout=60)


# --- S2: events.engagement does only what the consumer did not --------------------------------


def test_engagement_is_not_rewritten_when_the_consumer_kept_it_exact(catalog):
    episodes = list(Episode.objects.order_by("pk")[:2])
    _send(episodes[0], "ann", 0)
    consume(once=True)
    kept = _version(ENGAGEMENT_DAILY)
    report = run_step("events.engagement", engine="local")
    assert report.skipped and "already covers every event" in report.skipped, report
    assert _version(ENGAGEMENT_DAILY) == kept
    _send(episodes[1], "bob", 600)  # more listening, consumed: still covered
    consume(once=True)
    kept = _version(ENGAGEMENT_DAILY)
    assert run_step("events.engagement").skipped
    assert _version(ENGAGEMENT_DAILY) == kept
    # What was walked is remembered: the next check reads only the commits after it.
    checked = json.loads(lake.table_path(".engagement_checked.json").read_text("utf-8"))
    assert checked == {"events": _version(EVENTS), "engagement_daily": kept}
    assert _rows(lake.query("SELECT * FROM g", g="engagement_daily")) == _rows(
        compute_engagement()
    )

    forced = run_step("events.engagement", force=True)
    assert forced.skipped is None and forced.reason == "forced" and "(forced)" in str(forced)


def test_engagement_is_recomputed_after_events_written_another_way_or_restored(catalog):
    from podsight.lake.history import restore

    episode = Episode.objects.order_by("pk").first()
    _send(episode, "ann", 0)
    consume(once=True)
    consumed = _version(EVENTS)
    # Rows written into events by something other than the consumer (no log position).
    (row,) = lake.query(
        "SELECT * FROM e WHERE type = 'play'", e="events"
    ).to_pylist()
    row.update(event_id=str(uuid.uuid4()), user_id="cid", log_offset=10_000)
    lake.append(EVENTS, pa.Table.from_pylist([row], schema=EVENTS.schema))
    other = run_step("events.engagement")
    assert other.skipped is None and "not written by the consumer" in other.reason, other
    users = {r["user_id"] for r in lake.query("SELECT * FROM g", g="engagement_daily").to_pylist()}
    assert users == {"ann", "cid"}
    assert run_step("events.engagement").skipped  # recomputed from this version already

    restore("events", consumed)
    restored = run_step("events.engagement")
    assert restored.skipped is None and "events was restored" in restored.reason, restored
    assert _rows(lake.query("SELECT * FROM g", g="engagement_daily")) == _rows(
        compute_engagement()
    )


def test_on_spark_the_decision_is_made_before_the_job_starts(catalog, home, monkeypatch):
    started = home / "spark-started"
    fake = home / "spark-python"
    fake.write_text(f"#!/bin/sh\ntouch {started}\nexit 1\n", "utf-8")
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PODSIGHT_SPARK_PYTHON", str(fake))
    _send(Episode.objects.order_by("pk").first(), "ann", 0)
    consume(once=True)
    report = run_step("events.engagement", engine="spark")
    assert report.engine == "spark" and report.skipped and "already covers" in report.skipped
    assert not started.exists()  # no JVM for nothing
