"""``PODSIGHT_TEST_CLOCK`` (tests/clock_travel.py): the instant it names, and that the code
under test really reads it."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from datetime import time as dt_time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import timezone

from clock_travel import SETTING, parse, start_instant, start_instants

ROOT = Path(__file__).resolve().parent.parent


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


@pytest.mark.parametrize(
    ("raw", "real_now", "start"),
    [
        # Today's 23:55 UTC has not come yet at 00:55: yesterday's.
        ("23:55", "2026-12-06T00:55:00Z", "2026-12-05T23:55:00Z"),
        ("23:55", "2026-12-06T23:56:00Z", "2026-12-06T23:55:00Z"),
        ("23:55 UTC", "2026-12-06T23:55:00Z", "2026-12-06T23:55:00Z"),
        ("7:59:30.25", "2026-12-06T08:00:00Z", "2026-12-06T07:59:30.250000Z"),
        # A Pacific midnight is 08:00 UTC in winter (PST) and 07:00 UTC in summer (PDT).
        ("23:59:58 America/Los_Angeles", "2026-12-06T00:55:00Z", "2026-12-05T07:59:58Z"),
        ("23:59:58 America/Los_Angeles", "2026-12-06T08:00:00Z", "2026-12-06T07:59:58Z"),
        ("23:59:58 America/Los_Angeles", "2026-07-01T12:00:00Z", "2026-07-01T06:59:58Z"),
        # The day the clocks go back (2026-11-01): that evening is already PST.
        ("23:59:58 America/Los_Angeles", "2026-11-02T09:00:00Z", "2026-11-02T07:59:58Z"),
    ],
)
def test_the_start_is_the_latest_past_instant_at_that_time_of_day(raw, real_now, start):
    now = _utc(real_now)
    got = start_instant(raw, now)
    assert got == _utc(start)
    assert now - timedelta(days=1) < got <= now


def test_several_instants_are_separated_by_commas():
    now = _utc("2026-12-06T00:55:00Z")
    assert start_instants("23:55, 23:59:59 America/Los_Angeles", now) == [
        ("23:55", _utc("2026-12-05T23:55:00Z")),
        ("23:59:59 America/Los_Angeles", _utc("2026-12-05T07:59:59Z")),
    ]
    with pytest.raises(ValueError, match="has an empty entry"):
        start_instants("23:55,", now)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("noon", "is not HH:MM"),
        ("24:00", "hour must be in 0..23"),
        ("23:60", "minute must be in 0..59"),
        ("23:55 Mars/Olympus", "unknown time zone 'Mars/Olympus'"),
        ("23:55 UTC extra", "is not HH:MM"),
    ],
)
def test_bad_settings_are_refused_with_the_format(raw, message):
    with pytest.raises(ValueError, match=message):
        parse(raw)


@pytest.mark.clock
def test_the_code_under_test_reads_the_set_clock(set_clock, clock_starts):
    """Under ``PODSIGHT_TEST_CLOCK`` every wall clock the code reads starts at the set
    instant and runs on from it."""
    start = set_clock
    if start is None:
        pytest.skip(f"checks a set clock: runs when {SETTING} is set (make test's reruns)")
    (raw,) = [raw for raw, instant in clock_starts if instant == start]
    at, zone = parse(raw)
    assert start.astimezone(zone or UTC).time() == at
    assert time_machine.escape_hatch.is_travelling(), "the clock was not set"
    real = datetime.fromtimestamp(time_machine.escape_hatch.time.time(), UTC)
    assert timedelta(0) <= real - start < timedelta(days=1)
    readings = {
        "django.utils.timezone.now": timezone.now(),
        "datetime.now(UTC)": datetime.now(UTC),
        "datetime.now() (local)": datetime.now().astimezone(UTC),
        "time.time": datetime.fromtimestamp(time.time(), UTC),
        "time.time_ns": datetime.fromtimestamp(time.time_ns() / 1e9, UTC),
    }
    for name, value in readings.items():
        assert start <= value < start + timedelta(seconds=5), (name, value, start)
    assert date.today() in {(start + timedelta(seconds=s)).astimezone().date() for s in (0, 5)}
    before = time.time()
    time.sleep(0.05)
    assert time.time() - before >= 0.05  # the set clock runs on (tick)


def _pytest(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args],
        cwd=ROOT, env={**os.environ, **env}, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_a_run_with_the_clock_set_reads_it():
    """The mechanism end to end: a pytest run with two instants, two seconds before a
    Pacific midnight and at 23:55 UTC, passes the check above at each."""
    run = _pytest(
        {SETTING: "23:59:58 America/Los_Angeles, 23:55"},
        "tests/test_clock.py::test_the_code_under_test_reads_the_set_clock",
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "2 passed" in run.stdout, run.stdout
    said = re.findall(
        r"clock: each test started at (\S+) \(PODSIGHT_TEST_CLOCK '([^']+)'\)", run.stdout
    )
    assert [raw for _, raw in said] == ["23:59:58 America/Los_Angeles", "23:55"], run.stdout
    pacific = datetime.fromisoformat(said[0][0]).astimezone(ZoneInfo("America/Los_Angeles"))
    assert pacific.time() == dt_time(23, 59, 58)
    assert datetime.fromisoformat(said[1][0]).time() == dt_time(23, 55)


def test_a_bad_setting_stops_the_run_with_its_format():
    bad = _pytest({SETTING: "23:55, 25:00"}, "tests/test_clock.py")
    assert bad.returncode == 4, bad.stdout + bad.stderr  # pytest's usage error
    assert f"{SETTING}='25:00'" in bad.stderr and "hour must be in 0..23" in bad.stderr
    assert "Traceback" not in bad.stdout + bad.stderr
