"""YouTube Data API quota: a local ledger of the units each call costs.

The API gives a Google Cloud project a daily budget of *units* (10,000 by default)
that resets at midnight Pacific time (``America/Los_Angeles``, so 07:00 or 08:00
UTC depending on daylight saving). Every request costs units, whether it answers
200, 304 or an error: list methods 1 unit, ``search.list`` 100.

:class:`QuotaLedger` keeps the units used per quota day in a small JSON file
(``$PODSIGHT_HOME/state/youtube_quota.json``) shared by every process on the
machine, so a run can refuse a call *before* it would overrun the budget
(``PODSIGHT_YOUTUBE_QUOTA_BUDGET``, default 10000) instead of finding out from a
``quotaExceeded`` error halfway through a sync.

The connector reserves a call's cost before calling and settles it afterwards
with what was really spent: the cost times the number of attempts that went out
to the network (a retried call costs once per attempt; a response served from the
local HTTP cache without a network call costs nothing and is refunded).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from podsight import conf
from podsight.sources.http import ApiQuotaExceeded

try:  # POSIX: serialise read-modify-write between processes
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

__all__ = [
    "BUDGET_SETTING",
    "COSTS",
    "DEFAULT_BUDGET",
    "PACIFIC",
    "QuotaLedger",
    "Reservation",
    "cost_of",
    "quota_day",
    "quota_resets_at",
]

log = logging.getLogger(__name__)

PACIFIC = ZoneInfo("America/Los_Angeles")
BUDGET_SETTING = "PODSIGHT_YOUTUBE_QUOTA_BUDGET"
DEFAULT_BUDGET = 10_000
KEEP_DAYS = 14

# Documented costs of the read methods (https://developers.google.com/youtube/v3/determine_quota_cost).
COSTS: dict[str, int] = {
    "activities": 1,
    "captions": 50,
    "channelSections": 1,
    "channels": 1,
    "commentThreads": 1,
    "comments": 1,
    "i18nLanguages": 1,
    "i18nRegions": 1,
    "playlistItems": 1,
    "playlists": 1,
    "search": 100,
    "subscriptions": 1,
    "videoCategories": 1,
    "videos": 1,
}


def cost_of(endpoint: str) -> int:
    """Units one call of ``endpoint`` (``"videos"``, ``"search"``…) costs."""
    name = endpoint.strip("/").split("/", 1)[0].split("?", 1)[0]
    try:
        return COSTS[name]
    except KeyError:
        raise ValueError(
            f"no known YouTube quota cost for endpoint {endpoint!r}; known: {sorted(COSTS)}"
        ) from None


def quota_day(now: datetime) -> date:
    """The quota day ``now`` falls in (the calendar day in Pacific time)."""
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    return now.astimezone(PACIFIC).date()


def quota_resets_at(now: datetime) -> datetime:
    """When the quota day of ``now`` ends: the next midnight in Pacific time (aware)."""
    day = quota_day(now) + timedelta(days=1)
    return datetime.combine(day, time(0, 0), tzinfo=PACIFIC)


def _describe_reset(now: datetime) -> str:
    at = quota_resets_at(now)
    return f"{at:%Y-%m-%d %H:%M} {at.tzname()} ({at.astimezone(UTC):%Y-%m-%d %H:%M} UTC)"


@dataclass(frozen=True)
class Reservation:
    """Units taken from one quota day for one call, before it was made."""

    day: date
    units: int
    endpoint: str = ""


class QuotaLedger:
    """Units used per YouTube quota day, persisted in ``path``, checked against ``budget``."""

    def __init__(
        self,
        budget: int,
        path: Path,
        *,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        if isinstance(budget, bool) or not isinstance(budget, int) or budget < 0:
            raise ValueError(f"the YouTube quota budget must be a whole number ≥ 0, not {budget!r}")
        self.budget = budget
        self.path = Path(path)
        self._clock = clock or (lambda: datetime.now(UTC))
        self._lock = threading.Lock()
        self._spent = 0

    @classmethod
    def from_env(cls, *, clock: Callable[[], datetime] | None = None) -> QuotaLedger:
        """Budget from ``PODSIGHT_YOUTUBE_QUOTA_BUDGET``; file under ``$PODSIGHT_HOME/state``."""
        raw = conf.env_float(BUDGET_SETTING, DEFAULT_BUDGET)
        if raw < 0 or raw != int(raw):
            raise conf.SettingError(
                f"{BUDGET_SETTING} must be a whole number of units ≥ 0, not {raw:g}"
            )
        path = conf.podsight_home() / "state" / "youtube_quota.json"
        return cls(int(raw), path, clock=clock)

    # -- what the sync reports --------------------------------------------------------

    def now(self) -> datetime:
        return self._clock()

    @property
    def today(self) -> date:
        return quota_day(self.now())

    @property
    def resets_at(self) -> datetime:
        return quota_resets_at(self.now())

    @property
    def used_today(self) -> int:
        """Units used in the current quota day by every process sharing the file."""
        with self._locked() as state:
            return int(state["days"].get(self.today.isoformat(), {}).get("used", 0))

    @property
    def remaining(self) -> int:
        return max(0, self.budget - self.used_today)

    @property
    def exhausted_today(self) -> bool:
        """YouTube itself answered ``quotaExceeded`` earlier in this quota day."""
        with self._locked() as state:
            return bool(state["days"].get(self.today.isoformat(), {}).get("exhausted", False))

    @property
    def spent_this_run(self) -> int:
        """Units charged through this ledger object (this process, this run)."""
        return self._spent

    # -- reserving and settling -------------------------------------------------------

    def reserve(self, units: int, *, endpoint: str = "") -> Reservation:
        """Take ``units`` from today's budget, or raise :class:`ApiQuotaExceeded` (no call)."""
        if units < 0:
            raise ValueError("cannot reserve a negative number of units")
        now = self.now()
        day = quota_day(now)
        what = f" for {endpoint}" if endpoint else ""
        with self._locked(write=True) as state:
            entry = state["days"].setdefault(day.isoformat(), {"used": 0})
            used = int(entry.get("used", 0))
            if entry.get("exhausted"):
                raise ApiQuotaExceeded(
                    "YouTube answered quotaExceeded earlier in this quota day, so no more calls "
                    f"are made until it resets at {_describe_reset(now)} "
                    f"(used {used} units by podsight's count)",
                    source="youtube",
                    endpoint=endpoint,
                )
            if used + units > self.budget:
                raise ApiQuotaExceeded(
                    f"daily YouTube quota budget of {self.budget} units would be exceeded: "
                    f"used {used}, the next call{what} costs {units}; resets at "
                    f"{_describe_reset(now)}; set {BUDGET_SETTING} if the project's quota "
                    "is larger",
                    source="youtube",
                    endpoint=endpoint,
                )
            entry["used"] = used + units
        self._spent += units
        return Reservation(day, units, endpoint)

    def settle(self, reservation: Reservation, units: int) -> None:
        """Replace a reservation by what the call really cost (may be more or less)."""
        delta = units - reservation.units
        if delta == 0:
            return
        with self._locked(write=True) as state:
            entry = state["days"].setdefault(reservation.day.isoformat(), {"used": 0})
            entry["used"] = max(0, int(entry.get("used", 0)) + delta)
        self._spent = max(0, self._spent + delta)

    def refund(self, reservation: Reservation) -> None:
        self.settle(reservation, 0)

    def mark_exhausted(self, day: date | None = None) -> None:
        """YouTube said the project's quota is used up: make no more calls in that quota day
        (``day``: the one the refused call was reserved in; by default today's)."""
        day = day or self.today
        with self._locked(write=True) as state:
            state["days"].setdefault(day.isoformat(), {"used": 0})["exhausted"] = True

    # -- file -------------------------------------------------------------------------

    @contextlib.contextmanager
    def _locked(self, *, write: bool = False) -> Iterator[dict[str, Any]]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._lock:
            lock_path = self.path.with_name(self.path.name + ".lock")
            with open(lock_path, "a+") as lock_file:
                if fcntl is not None:
                    fcntl.flock(lock_file, fcntl.LOCK_EX)
                try:
                    state = self._read()
                    yield state
                    if write:
                        self._write(state)
                finally:
                    if fcntl is not None:
                        fcntl.flock(lock_file, fcntl.LOCK_UN)

    def _read(self) -> dict[str, Any]:
        try:
            raw = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {"version": 1, "days": {}}
        try:
            state = json.loads(raw)
            if not isinstance(state, dict) or not isinstance(state.get("days"), dict):
                raise ValueError("unexpected structure")
        except ValueError as exc:
            log.warning("YouTube quota ledger %s is unreadable (%s); starting anew", self.path, exc)
            return {"version": 1, "days": {}}
        return state

    def _write(self, state: dict[str, Any]) -> None:
        days = state["days"]
        for old in sorted(days)[:-KEEP_DAYS]:
            del days[old]
        state["version"] = 1
        state["budget"] = self.budget
        tmp = self.path.with_name(f"{self.path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(state, indent=1, sort_keys=True) + "\n", encoding="utf-8")
        os.replace(tmp, self.path)
