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

from clock_travel import SETTING, parse, start_instant

ROOT = Path(__file__).resolve().parent.parent
IMPORTED_AT = datetime.now(UTC)  # what a module reads on import


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
def test_the_code_under_test_reads_the_set_clock(set_clock):
    """Under ``PODSIGHT_TEST_CLOCK`` every wall clock the code reads starts at the set
    instant and runs on from it."""
    start = set_clock
    if start is None:
        pytest.skip(f"checks a set clock: runs when {SETTING} is set (make test's reruns)")
    at, zone = parse(os.environ[SETTING])
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
    # Collected after the run set its clock: a minute or two of collection at most.
    assert start <= IMPORTED_AT < start + timedelta(minutes=2), IMPORTED_AT
    assert date.today() in {(start + timedelta(seconds=s)).astimezone().date() for s in (0, 5)}
    before = time.time()
    time.sleep(0.05)
    assert time.time() - before >= 0.05  # the set clock runs on (tick)


def test_a_run_with_the_clock_set_reads_it():
    """The mechanism end to end: a pytest run with the setting passes the check above,
    with the clock set two seconds before a Pacific midnight."""
    env = {**os.environ, SETTING: "23:59:58 America/Los_Angeles"}
    run = subprocess.run(
        [
            sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rs",
            "tests/test_clock.py::test_the_code_under_test_reads_the_set_clock",
        ],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout + run.stderr
    assert "1 passed" in run.stdout, run.stdout
    header = re.search(
        r"clock: each test started at (\S+) \(PODSIGHT_TEST_CLOCK='23:59:58 America/Los_Angeles'\)",
        run.stdout,
    )
    assert header, run.stdout
    pacific = datetime.fromisoformat(header[1]).astimezone(ZoneInfo("America/Los_Angeles"))
    assert pacific.time() == dt_time(23, 59, 58)
    bad = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_clock.py"],
        cwd=ROOT, env={**os.environ, SETTING: "25:00"}, capture_output=True, text=True,
        timeout=120,
    )  # fmt: skip
    assert bad.returncode == 4, bad.stdout + bad.stderr  # pytest's usage error
    assert f"{SETTING}='25:00'" in bad.stderr and "hour must be in 0..23" in bad.stderr


def test_a_clock_test_make_test_clock_would_not_find_stops_the_run(tmp_path):
    """`make test-clock` collects only the files that say ``mark.clock``; a clock test
    marked otherwise (an alias, a hook) stops the run instead of going unrun. One run: the
    test marked as the rule says is not named."""
    for name, mark in [("said", "@pytest.mark.clock"),
                       ("aliased", '@getattr(pytest.mark, "clo" + "ck")')]:  # fmt: skip
        test = f"import pytest\n\n\n{mark}\ndef test_x():\n    pass\n"
        (tmp_path / f"test_{name}.py").write_text(test)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "tests"), str(ROOT / "src")])}
    env.pop(SETTING, None)
    run = subprocess.run(
        [
            sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "conftest",
            "--rootdir", str(tmp_path), "-o", "markers=clock: reads the wall clock",
            "test_said.py", "test_aliased.py",
        ],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert run.returncode == 4, run.stdout + run.stderr  # pytest's usage error
    assert "1 tests are marked clock" in run.stderr, run.stderr
    assert "test_aliased.py::test_x" in run.stderr and "mark.clock" in run.stderr, run.stderr
    assert "test_said.py" not in run.stderr, run.stderr
