"""``events.engagement``: ``engagement_daily`` recomputed from ``events`` in one batch equals
what the consumer maintained batch by batch, and is redone only when ``events`` changed."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from deltalake import DeltaTable

from podsight import lake
from podsight.catalog.models import Episode
from podsight.errors import ConfigurationError
from podsight.events.consumer import COVERS_KEY, consume, consumer_lock, lake_position
from podsight.events.engagement import FROM_KEY, compute_engagement, recompute
from podsight.events.services import ingest
from podsight.lake.tables import ENGAGEMENT_DAILY
from podsight.pipeline import run_step

pytestmark = pytest.mark.django_db

T0 = datetime(2025, 6, 2, 9, 0, tzinfo=UTC)
KINDS = ["play", "progress", "pause", "like", "unlike", "skip", "complete", "rate", "download"]


def _event(
    episode: Episode, kind: str, at: float, user: str, session: str, position: float | None = None
) -> dict:
    event = {
        "event_id": str(uuid.uuid4()),
        "user_id": user,
        "episode": episode.pk,
        "type": kind,
        "occurred_at": (T0 + timedelta(seconds=at)).isoformat(),
        "session_id": session,
    }
    if kind in ("play", "progress", "pause", "skip"):
        event["position_s"] = (
            round(at % max(episode.duration_s, 1), 3) if position is None else position
        )
    if kind == "rate":
        event["rating"] = 1 + int(at) % 5
    return event


def _listening(episodes: list[Episode], n: int, seed: int) -> list[dict]:
    """Random events over four days: sessions over midnight, and sessions resumed two
    days later (a previous event older than the day before)."""
    rng = random.Random(seed)
    items = []
    for i in range(n):
        at = rng.uniform(0, 4 * 86400)
        items.append(
            _event(rng.choice(episodes), rng.choice(KINDS), at, f"u{rng.randrange(12)}",
                   f"s{i % 23}")
        )  # fmt: skip
    episode = episodes[0]
    for at, kind, position in (
        (0, "play", 0), (2.2 * 86400, "progress", 500), (2.2 * 86400 + 60, "pause", 560)
    ):
        items.append(_event(episode, kind, at, "gap", "resumed", position))
    return items


def _rows(table) -> list[dict]:
    return sorted(table.to_pylist(), key=lambda r: (r["day"], r["user_id"], r["episode_id"]))


def _consumed_in_batches(items: list[dict], batch: int = 37) -> None:
    result = ingest(items, client="test")
    assert not result.errors, result.errors[:3]
    consume(once=True, batch_size=batch)


def test_the_batch_recomputation_equals_the_consumers_rows(catalog):
    episodes = list(Episode.objects.filter(duration_s__gt=600).order_by("pk")[:6])
    items = _listening(episodes, 400, seed=3)
    _consumed_in_batches(items[:250])
    _consumed_in_batches(items[250:], batch=19)
    maintained = _rows(lake.query("SELECT * FROM g", g="engagement_daily"))
    assert len(maintained) > 50 and len({r["day"] for r in maintained}) >= 4
    # The resumed session: the play two days before adds nothing, the 60 s after count.
    assert [r["listened_s"] for r in maintained if r["user_id"] == "gap"] == [0.0, 60.0]

    # Forced: the consumer's rows already cover every event (see test_drain_beside_consumer).
    report = recompute(engine="local", force=True)
    assert report.skipped is None and report.engine == "local"
    assert report.rows == len(maintained)
    assert report.days == len({r["day"] for r in maintained})
    recomputed = _rows(lake.query("SELECT * FROM g", g="engagement_daily"))
    assert recomputed == maintained  # exactly: every column, every row
    assert _rows(compute_engagement()) == maintained

    table = DeltaTable(str(lake.table_path(ENGAGEMENT_DAILY)))
    (newest,) = table.history(1)
    assert newest[FROM_KEY] == str(DeltaTable(str(lake.table_path("events"))).version())
    # The consumer's own record of what engagement covers is kept.
    assert lake_position(ENGAGEMENT_DAILY, COVERS_KEY) == lake_position(lake.TABLES["events"])


def test_it_runs_again_only_when_events_changed(catalog):
    episodes = list(Episode.objects.filter(duration_s__gt=600).order_by("pk")[:3])
    items = _listening(episodes, 60, seed=5)
    _consumed_in_batches(items[:40])
    first = run_step("events.engagement", force=True)
    assert first.skipped is None and first.rows > 0
    version = DeltaTable(str(lake.table_path(ENGAGEMENT_DAILY))).version()

    again = run_step("events.engagement")
    assert again.skipped and "unchanged" in again.skipped and again.rows == 0
    assert DeltaTable(str(lake.table_path(ENGAGEMENT_DAILY))).version() == version
    assert "not recomputed" in str(again)

    forced = run_step("events.engagement", force=True)
    assert forced.skipped is None and forced.rows == first.rows

    _consumed_in_batches(items[40:])
    later = run_step("events.engagement", force=True)
    assert later.skipped is None and later.events_version > first.events_version
    assert _rows(lake.query("SELECT * FROM g", g="engagement_daily")) == _rows(
        compute_engagement()
    )
    assert f"{later.rows:,} row(s)" in str(later)


def test_without_events_or_beside_a_running_consumer_it_does_nothing(catalog):
    nothing = recompute()
    assert nothing.skipped and "no events" in nothing.skipped
    assert not lake.exists(ENGAGEMENT_DAILY)

    episodes = list(Episode.objects.order_by("pk")[:2])
    _consumed_in_batches(_listening(episodes, 10, seed=1))
    with consumer_lock():
        busy = recompute()
    assert busy.skipped and "consumer is running" in busy.skipped
    assert recompute(force=True).skipped is None


def test_an_unknown_engine_is_refused_with_the_valid_ones(catalog, monkeypatch):
    with pytest.raises(ConfigurationError, match="'gpu' is not an engine; use one of local, spark"):
        recompute(engine="gpu")
    monkeypatch.setenv("PODSIGHT_ENGINE", "hadoop")
    with pytest.raises(ConfigurationError, match="PODSIGHT_ENGINE='hadoop'"):
        run_step("events.engagement")


def test_the_command_recomputes_then_finds_nothing_to_do(catalog, home):
    import os
    import subprocess
    import sys
    from pathlib import Path

    episodes = list(Episode.objects.order_by("pk")[:3])
    _consumed_in_batches(_listening(episodes, 30, seed=2))
    podsight = str(Path(sys.executable).parent / "podsight")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PODSIGHT_"))}
    env["PODSIGHT_HOME"] = str(home)

    def run(*args: str) -> str:
        done = subprocess.run(
            [podsight, "events", "engagement", *args], env=env, capture_output=True, text=True,
            timeout=120,
        )  # fmt: skip
        assert done.returncode == 0 and "Traceback" not in done.stderr, done
        return done.stdout

    assert "already covers every event" in run()  # the consumer kept it exact
    assert "engagement_daily recomputed on local" in run("--force")
    assert "events unchanged since the last recomputation" in run()
    assert "recomputed" in run("--force", "--engine", "local")
    assert _rows(lake.query("SELECT * FROM g", g="engagement_daily")) == _rows(
        compute_engagement()
    )


# A stand-in for `python -m podsight_spark run events.engagement`: the job's protocol
# (params in, the table written with the commit metadata given, one JSON line out), its
# rows from the local computation. The real job's rows: tests/engines/test_spark_parity.py.
FAKE_JOB = """#!{python}
import json, sys
from deltalake import CommitProperties, write_deltalake
from podsight.events.engagement import compute_engagement
params = json.loads(sys.argv[6])
assert sys.argv[4] == "events.engagement" and params["mode"] == "overwrite", params
rows = compute_engagement()
write_deltalake(params["lake"] + "/engagement_daily", rows, mode="overwrite",
                partition_by=["day"],
                commit_properties=CommitProperties(custom_metadata=params["commit_metadata"]))
print(json.dumps({{"rows_written": rows.num_rows, "table_version": 9}}))
"""


def test_on_spark_the_job_writes_the_table_and_the_step_stays_incremental(
    catalog, home, monkeypatch
):
    import stat
    import sys

    fake = home / "spark-python"
    fake.write_text(FAKE_JOB.format(python=sys.executable), "utf-8")
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PODSIGHT_SPARK_PYTHON", str(fake))
    monkeypatch.setenv("PODSIGHT_ENGINE", "spark")
    episodes = list(Episode.objects.order_by("pk")[:3])
    _consumed_in_batches(_listening(episodes, 30, seed=4))
    expected = _rows(compute_engagement())

    report = run_step("events.engagement", force=True)
    assert report.engine == "spark" and report.skipped is None
    assert (report.rows, report.days) == (len(expected), len({r["day"] for r in expected}))
    assert _rows(lake.query("SELECT * FROM g", g="engagement_daily")) == expected
    assert run_step("events.engagement").skipped  # the job's commit recorded the version
