"""``podsight events consume``: the log into ``events`` and ``engagement_daily``, exactly
once, through restarts and SIGKILL."""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from podsight import lake
from podsight.catalog.models import Episode
from podsight.events.consumer import consume
from podsight.events.log import LocalLog
from podsight.events.services import ingest

pytestmark = pytest.mark.django_db

# A fixed morning, so that a session's hour or two stays inside its day: anchored to the
# wall clock (now − 2 days), the sessions crossed midnight when run after about 23:00 UTC.
# Fixed in the past, as events from the future are refused.
T0 = datetime(2025, 6, 2, 9, 0, tzinfo=UTC)


def _at(seconds: float) -> str:
    return (T0 + timedelta(seconds=seconds)).isoformat()


def _event(episode: int, kind: str, at: float, user: str = "ann", **fields) -> dict:
    return {
        "event_id": str(uuid.uuid4()),
        "user_id": user,
        "episode": episode,
        "type": kind,
        "occurred_at": _at(at),
        **fields,
    }


def _send(items: list[dict]) -> None:
    result = ingest(items, client="test")
    assert not result.errors, result.errors[:3]


def _events_table():
    return lake.query("SELECT * FROM e ORDER BY log_offset", e="events").to_pylist()


def _engagement() -> dict[tuple, dict]:
    rows = lake.query("SELECT * FROM g", g="engagement_daily").to_pylist()
    return {(r["user_id"], r["episode_id"], r["day"]): r for r in rows}


def _session(episode: Episode, user: str, start: float, session: str) -> list[dict]:
    """Play 0–300 s, pause, resume, then listen to the end: 300 + (duration − 300) s."""
    d = episode.duration_s
    return [
        _event(episode.pk, "play", start, user, position_s=0, session_id=session),
        _event(episode.pk, "progress", start + 150, user, position_s=150, session_id=session),
        _event(episode.pk, "pause", start + 300, user, position_s=300, session_id=session),
        _event(episode.pk, "play", start + 900, user, position_s=300, session_id=session),
        _event(episode.pk, "complete", start + 900 + d - 300, user, session_id=session),
    ]


@pytest.mark.clock
def test_engagement_is_computed_from_real_sequences(catalog):
    long, other = Episode.objects.filter(duration_s__gt=1200).order_by("pk")[:2]
    items = _session(long, "ann", 0, "s1")
    items += [
        _event(other.pk, "play", 100, "ann", position_s=0, session_id="s2"),
        _event(other.pk, "skip", 160, "ann", position_s=60, session_id="s2"),
        _event(other.pk, "unlike", 170, "ann"),
        _event(long.pk, "like", 50, "ann"),
        _event(long.pk, "rate", 60, "ann", rating=5),
        _event(long.pk, "play", 10, "bob", position_s=0, session_id="b1"),
        # 10 s of wall time cannot hold 900 s of listening: a seek the client did not send
        _event(long.pk, "progress", 20, "bob", position_s=900, session_id="b1"),
    ]
    _send(items)
    report = consume(once=True)
    assert report.events_written == len(items) and report.duplicates_dropped == 0
    table = _events_table()
    assert sorted(r["event_id"] for r in table) == sorted(i["event_id"] for i in items)
    day = T0.date()
    rows = _engagement()
    ann = rows[("ann", long.pk, day)]
    assert ann["plays"] == 2
    assert ann["listened_s"] == pytest.approx(long.duration_s)
    assert ann["max_completion"] == 1.0
    assert (ann["likes"], ann["skips"], ann["rating"]) == (1, 0, 5)
    assert ann["weight"] == pytest.approx(1.0 + 0.5 + 0.5)
    skipped = rows[("ann", other.pk, day)]
    assert skipped["listened_s"] == pytest.approx(60)
    assert skipped["skips"] == 1 and skipped["unlikes"] == 1
    completion = 60 / other.duration_s
    assert skipped["weight"] == pytest.approx(completion - 0.5 - 0.5)
    assert skipped["weight"] < 0  # negative signal is kept, not clipped to zero
    bob = rows[("bob", long.pk, day)]
    assert bob["listened_s"] == pytest.approx(30)  # 3× the 10 s of wall time


def test_a_signal_that_ends_a_drain_reaches_the_work_around_it(catalog):
    episode = Episode.objects.filter(duration_s__gt=1200).first()
    _send(_session(episode, "ann", 0, "s1"))
    received: list[int] = []
    previous = signal.signal(signal.SIGTERM, lambda signum, frame: received.append(signum))
    try:
        # SIGTERM mid-drain, as a scheduler stopping would get: the batch at hand is
        # finished and kept, then the scheduler's own handler hears of it.
        report = consume(
            once=True, batch_size=2, on_batch=lambda _: os.kill(os.getpid(), signal.SIGTERM)
        )
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert received == [signal.SIGTERM]
    assert report.events_written == 2 and _engagement()
    with pytest.raises(KeyboardInterrupt):  # Python's own SIGINT handler: an interruption
        _send(_session(episode, "bob", 0, "s2"))
        consume(once=True, batch_size=2, on_batch=lambda _: os.kill(os.getpid(), signal.SIGINT))


@pytest.mark.clock
def test_later_batches_recompute_rows_instead_of_adding_twice(catalog):
    episode = Episode.objects.filter(duration_s__gt=1200).first()
    first = _session(episode, "ann", 0, "s1")
    _send(first[:3])
    consume(once=True)
    assert _engagement()[("ann", episode.pk, T0.date())]["listened_s"] == pytest.approx(300)
    _send(first[3:])
    report = consume(once=True)
    assert report.events_written == 2
    row = _engagement()[("ann", episode.pk, T0.date())]
    assert row["listened_s"] == pytest.approx(episode.duration_s)
    assert row["plays"] == 2 and row["events"] == 5
    assert consume(once=True).events_written == 0  # drained: nothing written twice


@pytest.mark.clock
def test_an_id_reused_at_another_hour_of_the_day_is_stored_once(catalog):
    # The log recognises a retry by the event's hour and id; the same id sent for
    # another hour of the same day gets past it and is dropped by the consumer.
    episode = Episode.objects.first()
    one_am = datetime.combine(T0.date(), datetime.min.time(), UTC) + timedelta(hours=1)
    first = _event(episode.pk, "like", 0) | {"occurred_at": one_am.isoformat()}
    assert ingest([first], client="test").accepted == 1
    assert ingest([first], client="test").duplicates == [first["event_id"]]
    reused = first | {"occurred_at": (one_am + timedelta(hours=2)).isoformat()}
    assert ingest([reused], client="test").accepted == 1
    report = consume(once=True)
    assert (report.events_written, report.duplicates_dropped) == (1, 1)
    (row,) = _events_table()
    assert row["event_id"] == first["event_id"] and row["occurred_at"] == one_am


@pytest.mark.clock
def test_a_session_over_midnight_counts_on_both_days(catalog):
    episode = Episode.objects.filter(duration_s__gt=1800).first()
    midnight = datetime.combine(T0.date(), datetime.min.time(), UTC) + timedelta(days=1)
    start = (midnight - T0).total_seconds() - 600  # ten minutes before midnight
    items = [
        _event(episode.pk, "play", start, position_s=0, session_id="late"),
        _event(episode.pk, "progress", start + 300, position_s=300, session_id="late"),
    ]
    _send(items)
    consume(once=True)
    _send([_event(episode.pk, "pause", start + 1200, position_s=1200, session_id="late")])
    consume(once=True)
    rows = _engagement()
    assert rows[("ann", episode.pk, T0.date())]["listened_s"] == pytest.approx(300)
    assert rows[("ann", episode.pk, midnight.date())]["listened_s"] == pytest.approx(900)


CONSUMER = """
import sys
from podsight.events.consumer import consume
consume(once=True, batch_size=int(sys.argv[1]))
"""


def _consumer(home: Path, batch: int, stall: str | None = None) -> subprocess.Popen:
    env = {**os.environ, "PODSIGHT_HOME": str(home)}
    env.pop("PODSIGHT_CONSUMER_STALL_AT", None)
    if stall:
        env["PODSIGHT_CONSUMER_STALL_AT"] = stall
    return subprocess.Popen(
        [sys.executable, "-c", CONSUMER, str(batch)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _many(episodes: list[Episode], n: int, seed: int) -> list[dict]:
    rng = random.Random(seed)
    items = []
    for i in range(n):
        episode = rng.choice(episodes)
        kind = rng.choice(["play", "progress", "pause", "like", "skip", "complete"])
        extra = {}
        if kind in ("play", "progress", "pause", "skip"):
            extra["position_s"] = rng.uniform(0, episode.duration_s)
        items.append(
            _event(
                episode.pk,
                kind,
                rng.uniform(0, 1.5 * 86400),
                f"u{rng.randrange(40)}",
                session_id=f"s{i % 97}",
                **extra,
            )
        )
    return items


def _copy_log(home: Path, clean: Path) -> None:
    """The log as a fresh home's (the backup API: WAL contents included)."""
    (clean / "events").mkdir(parents=True)
    source = sqlite3.connect(home / "events" / "log.sqlite3")
    target = sqlite3.connect(clean / "events" / "log.sqlite3")
    source.backup(target)
    source.close()
    target.close()


def test_sigkill_between_the_two_commits_loses_and_doubles_nothing(catalog, home):
    episodes = list(Episode.objects.filter(duration_s__gt=600)[:20])
    items = _many(episodes, 3_000, seed=1)
    _send(items)
    stalled = _consumer(home, 1_000, stall="after-events")
    line = stalled.stdout.readline()
    assert "stalled at after-events" in line, stalled.stderr.read()
    stalled.send_signal(signal.SIGKILL)
    stalled.wait(30)
    assert len(_events_table()) == 1_000  # the first batch's events are in; no engagement yet
    assert not lake.exists("engagement_daily")
    rerun = _consumer(home, 1_000)
    assert rerun.wait(120) == 0, rerun.stderr.read()
    after_crash = (_events_table(), _engagement())
    # The same log consumed without interruption into a second lake.
    clean = home / "clean"
    _copy_log(home, clean)
    assert _consumer(clean, 1_000).wait(120) == 0
    os.environ["PODSIGHT_HOME"] = str(clean)
    try:
        reference = (_events_table(), _engagement())
    finally:
        os.environ["PODSIGHT_HOME"] = str(home)
    assert sorted(r["event_id"] for r in after_crash[0]) == sorted(i["event_id"] for i in items)
    strip = lambda rows: [{k: v for k, v in r.items() if k != "received_at"} for r in rows]  # noqa: E731
    assert strip(after_crash[0]) == strip(reference[0])
    assert after_crash[1] == reference[1]


def test_sigkill_at_random_moments_still_ends_exact(catalog, home):
    episodes = list(Episode.objects.filter(duration_s__gt=600)[:20])
    items = _many(episodes, 4_000, seed=2)
    _send(items)
    rng = random.Random(3)
    kills = 0
    # Small batches make the run long next to a process's start (imports): every life
    # gets a little way and is killed mid-run, wherever it happens to be.
    for _ in range(200):
        process = _consumer(home, 100)
        time.sleep(rng.uniform(0.5, 1.5))
        if process.poll() is not None:
            assert process.returncode == 0, process.stderr.read()
            break
        process.send_signal(signal.SIGKILL)
        process.wait(30)
        kills += 1
    final = _consumer(home, 100)
    assert final.wait(300) == 0, final.stderr.read()
    assert kills >= 3  # the run was really interrupted, several times
    table = _events_table()
    assert len(table) == len(items)
    assert sorted(r["event_id"] for r in table) == sorted(i["event_id"] for i in items)
    got = _engagement()
    clean = home / "clean"
    _copy_log(home, clean)
    assert _consumer(clean, 4_000).wait(300) == 0
    os.environ["PODSIGHT_HOME"] = str(clean)
    try:
        reference = _engagement()
    finally:
        os.environ["PODSIGHT_HOME"] = str(home)
    assert got == reference
    assert LocalLog().end() == {0: len(items) + 1}


# -- the recommendations' refresh after each batch ----------------------------------------


@pytest.mark.clock
def test_each_batch_hands_its_users_over_once_their_engagement_is_in_the_lake(catalog):
    episode = Episode.objects.filter(duration_s__gt=1200).first()
    _send([_event(episode.pk, "like", 10, "ann"), _event(episode.pk, "like", 20, "bob")])
    _send([_event(episode.pk, "skip", 30, "cat", position_s=5)])
    subscribe = _event(episode.pk, "subscribe", 40, "dan")
    del subscribe["episode"]
    _send([{**subscribe, "channel": episode.channel_id}])
    # Progress alone moves a position already counted: no refresh for it.
    _send([_event(episode.pk, "progress", 50, "eve", position_s=60, session_id="e")])
    calls: list[tuple[set[str], set[str]]] = []

    def refresh(users: set[str]) -> None:
        # What the refresh reads must already be there: the lake's engagement users.
        in_lake = {user for user, _, _ in _engagement()} if users - {"dan"} else set()
        calls.append((set(users), in_lake))

    report = consume(once=True, batch_size=2, on_written=refresh)
    assert report.batches == 3
    handed = set().union(*(users for users, _ in calls))
    assert handed == {"ann", "bob", "cat", "dan"}  # a subscriber too: follows change lists
    for users, in_lake in calls:
        assert users - {"dan"} <= in_lake


@pytest.mark.clock
def test_a_failing_refresh_neither_loses_nor_stalls_consumption(catalog, caplog):
    episode = Episode.objects.filter(duration_s__gt=1200).first()
    items = [_event(episode.pk, "like", i, f"u{i}") for i in range(6)]
    _send(items)
    calls = []

    def broken(users: set[str]) -> None:
        calls.append(users)
        raise RuntimeError("the model store is gone")

    with caplog.at_level("WARNING", logger="podsight.events.consume"):
        report = consume(once=True, batch_size=2, on_written=broken)
    assert report.batches == 3 and report.events_written == 6
    assert len(_events_table()) == 6 and len(_engagement()) == 6
    assert calls and "the model store is gone" in caplog.text


@pytest.mark.clock
def test_a_slow_refresh_does_not_hold_the_consumer_up(catalog):
    episode = Episode.objects.filter(duration_s__gt=1200).first()
    _send([_event(episode.pk, "like", i, f"u{i}") for i in range(8)])
    started = time.monotonic()
    seen: list[float] = []
    batches: list[float] = []

    def slow(users: set[str]) -> None:
        seen.append(time.monotonic() - started)
        time.sleep(3.0)

    report = consume(
        once=True, batch_size=2, on_written=slow,
        on_batch=lambda r: batches.append(time.monotonic() - started),
    )  # fmt: skip
    assert report.batches == 4
    # Every batch was written while the first refresh still ran; the users handed over
    # meanwhile were gathered into one more call, not queued one call per batch.
    assert batches[-1] < seen[0] + 3.0
    assert len(seen) == 2
    assert time.monotonic() - started >= 6.0  # consume returned after the refresh finished
