"""``PODSIGHT_TEST_CLOCK``: run tests with the clock set to a chosen time of day.

``PODSIGHT_TEST_CLOCK=23:55`` starts every test at 23:55:00 UTC, and
``PODSIGHT_TEST_CLOCK="23:59:58 America/Los_Angeles"`` two seconds before a Pacific
midnight (07:59:58 UTC in winter, 06:59:58 UTC in summer). The clock then runs on
(time-machine, ``tick=True``), so a test that lasts longer than the gap crosses the
boundary while it runs. Everything in the test process that reads the wall clock sees it:
``datetime.now``, ``time.time``, ``date.today`` and so Django's ``timezone.now``.
``time.monotonic`` is left alone; so are subprocesses, which keep the real clock.
The clock is set from the start of the run, so that what modules compute on import
is at the set instant too (one instant per run).

The day is the latest one on which that time has already come: the set clock is never
ahead of the real one, so a subprocess or server a test starts never receives times
from its future (it is at most a day behind).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

SETTING = "PODSIGHT_TEST_CLOCK"

_FORMAT = re.compile(r"\s*(\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?(?:\s+(\S+))?\s*")


def parse(raw: str) -> tuple[time, ZoneInfo | None]:
    """``"HH:MM[:SS[.ffffff]] [ZONE]"`` → (time of day, zone; None for UTC)."""
    match = _FORMAT.fullmatch(raw)
    if match is None:
        raise ValueError(
            f"{SETTING}={raw!r} is not HH:MM[:SS[.ffffff]] [ZONE], "
            "e.g. 23:55 or '23:59:58 America/Los_Angeles'"
        )
    hour, minute, second, fraction, zone_name = match.groups()
    try:
        at = time(int(hour), int(minute), int(second or 0), int((fraction or "0").ljust(6, "0")))
    except ValueError as exc:
        raise ValueError(f"{SETTING}={raw!r}: {exc}") from None
    zone = None
    if zone_name and zone_name.upper() != "UTC":
        try:
            zone = ZoneInfo(zone_name)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"{SETTING}={raw!r}: unknown time zone {zone_name!r} (an IANA name)"
            ) from None
    return at, zone


def start_instant(raw: str, real_now: datetime) -> datetime:
    """The latest instant not after ``real_now`` whose wall time in the zone is ``raw``'s
    (aware, in UTC)."""
    at, zone = parse(raw)
    zone_or_utc = zone or UTC
    local_day = real_now.astimezone(zone_or_utc).date()
    for day in (local_day, local_day - timedelta(days=1), local_day - timedelta(days=2)):
        candidate = datetime.combine(day, at, tzinfo=zone_or_utc).astimezone(UTC)
        if candidate <= real_now:
            return candidate
    raise AssertionError("unreachable: a time of day comes once in any 48 hours")
