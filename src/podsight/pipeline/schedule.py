"""The local scheduler: the pipeline graph run every day (and its weekly branch every
week) by one long-running process, ``podsight pipeline schedule``.

- **Never two runs at once.** Each run takes the runner's lock
  (:func:`~podsight.pipeline.runner.pipeline_lock`) for its duration only, so a run
  started by hand (``podsight pipeline run``) or by Airflow between two scheduled ones
  goes ahead; when the lock is held at a due time, the scheduled run waits (logged) and
  tries again every ``BUSY_RETRY_S`` seconds.
- **Catch-up after downtime.** The due times come from the runs the database recorded,
  not from when this process started: a cadence whose last complete run (succeeded or
  failed, every node of that cadence: not ``--only``/``--from``, not interrupted) started
  longer ago than its interval, or that never ran, runs at once; otherwise the next run is
  due one interval after the last one started. Restarting the scheduler never skips a day
  nor repeats one.
- **Stopping.** SIGTERM or SIGINT (Ctrl-C) asks the run at hand to stop after the node it
  is running (the runner records the run ``interrupted``, the nodes not reached
  ``pending``); a second signal interrupts that node itself (recorded ``interrupted``).
  Either way the scheduler returns its summary and the command exits 0.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from podsight.pipeline.graph import CADENCES, GRAPH, Node
from podsight.progress import SILENT, Progress

__all__ = [
    "BUSY_RETRY_S",
    "DEFAULT_EVERY",
    "DEFAULT_WEEKLY_EVERY",
    "ScheduleReport",
    "ScheduledRun",
    "last_complete_run",
    "schedule",
]

log = logging.getLogger(__name__)

DEFAULT_EVERY = 24 * 3600.0
DEFAULT_WEEKLY_EVERY = 7 * 24 * 3600.0
# How long a due run waits for another run holding the lock before trying again.
BUSY_RETRY_S = 60.0
# Runs a scheduled cadence counts as its last one (an interrupted run did not do the work).
_COMPLETE = ("succeeded", "failed")


@dataclass(frozen=True)
class ScheduledRun:
    run_id: int
    cadence: str
    status: str
    started_at: datetime
    seconds: float | None
    error: str = ""


@dataclass
class ScheduleReport:
    """What one scheduler process did until it stopped."""

    every_s: float
    weekly_every_s: float
    runs: list[ScheduledRun] = field(default_factory=list)
    busy: int = 0  # due times at which another run held the lock
    stopped_by: str = ""  # SIGTERM, SIGINT, or "" (asked through the stop event)
    seconds: float = 0.0

    def __str__(self) -> str:
        counts: dict[str, int] = {}
        for run in self.runs:
            counts[run.status] = counts.get(run.status, 0) + 1
        done = ", ".join(f"{n} {status}" for status, n in counts.items()) or "none"
        why = f" on {self.stopped_by}" if self.stopped_by else ""
        busy = f"; {self.busy} time(s) another run held the lock" if self.busy else ""
        return (
            f"scheduler stopped{why} after {self.seconds:.1f} s: {len(self.runs)} run(s) "
            f"({done}){busy}"
        )


def last_complete_run(cadence: str) -> datetime | None:
    """When the last complete scheduled-or-manual run of ``cadence`` started (every node
    of that cadence, ended succeeded or failed), or None."""
    from podsight.jobs.models import PipelineRun

    recent = PipelineRun.objects.filter(status__in=_COMPLETE).order_by("-started_at", "-id")
    for started, cadences, only, start in recent.values_list(
        "started_at", "cadences", "only", "start_from"
    ).iterator():
        if cadence in (cadences or ()) and not only and not start:
            return started
    return None


def _due(cadence: str, every: float, now: datetime) -> datetime:
    last = last_complete_run(cadence)
    if last is None:
        return now
    return max(now, last + timedelta(seconds=every))


@contextmanager
def _signals(stop: threading.Event, report: ScheduleReport) -> Iterator[None]:
    """SIGTERM/SIGINT: the first sets ``stop`` (the run ends after its current node), the
    second interrupts the node too. Only the main thread can take signals."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handle(signum: int, frame: Any) -> None:
        name = signal.Signals(signum).name
        if stop.is_set():
            log.warning("%s again: interrupting the current step", name)
            raise KeyboardInterrupt
        report.stopped_by = name
        log.warning("%s: stopping after the current step (again to interrupt it)", name)
        stop.set()

    saved = {sig: signal.signal(sig, handle) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for sig, handler in saved.items():
            signal.signal(sig, handler)


def schedule(
    *,
    every: float = DEFAULT_EVERY,
    weekly_every: float = DEFAULT_WEEKLY_EVERY,
    stop: threading.Event | None = None,
    engine: str | None = None,
    progress: Progress = SILENT,
    graph: Mapping[str, Node] = GRAPH,
) -> ScheduleReport:
    """Run the daily nodes every ``every`` seconds and the weekly ones every
    ``weekly_every``, catching up on what is overdue, until ``stop`` is set or a SIGTERM or
    SIGINT arrives; the runs it started. ``graph``: tests schedule a small one."""
    from podsight.errors import InputError
    from podsight.pipeline.runner import PipelineBusy, run_pipeline

    if every <= 0 or weekly_every <= 0:
        raise InputError("the intervals must be longer than 0 s")
    stop = stop or threading.Event()
    report = ScheduleReport(every_s=every, weekly_every_s=weekly_every)
    intervals = {"daily": every, "weekly": weekly_every}
    cadences = [c for c in CADENCES if any(n.cadence == c for n in graph.values())]
    began = time.monotonic()
    with _signals(stop, report):
        now = datetime.now(UTC)
        due = {cadence: _due(cadence, intervals[cadence], now) for cadence in cadences}
        for cadence in cadences:
            late = "now (never ran, or overdue)" if due[cadence] <= now else due[cadence]
            progress.note(f"{cadence} run due {late}")
        try:
            while not stop.is_set():
                now = datetime.now(UTC)
                for cadence in cadences:
                    if stop.is_set() or due[cadence] > now:
                        continue
                    try:
                        run = run_pipeline(
                            cadences=(cadence,), engine=engine, trigger="schedule",
                            progress=progress, stop=stop, graph=graph,
                        )  # fmt: skip
                    except PipelineBusy as exc:
                        report.busy += 1
                        retry = min(BUSY_RETRY_S, intervals[cadence])
                        progress.note(
                            f"{cadence} run due but {exc}; trying again in {retry:g} s",
                            level=logging.WARNING,
                        )
                        due[cadence] = now + timedelta(seconds=retry)
                        continue
                    report.runs.append(_scheduled(run, cadence))
                    progress.note(f"{cadence}: {run}")
                    due[cadence] = _next(run.started_at, intervals[cadence])
                if due and not stop.is_set():
                    wait = (min(due.values()) - datetime.now(UTC)).total_seconds()
                    stop.wait(max(0.0, wait))
                elif not due:
                    stop.wait()
        except KeyboardInterrupt:
            # The second signal: the runner recorded the run and its node interrupted.
            report.stopped_by = report.stopped_by or "SIGINT"
            _record_interrupted(report)
    report.seconds = round(time.monotonic() - began, 2)
    return report


def _next(started: datetime, every: float) -> datetime:
    return max(datetime.now(UTC), started + timedelta(seconds=every))


def _scheduled(run: Any, cadence: str) -> ScheduledRun:
    return ScheduledRun(run.run_id, cadence, run.status, run.started_at, run.seconds, run.error)


def _record_interrupted(report: ScheduleReport) -> None:
    """The run a second signal interrupted, into the summary (the runner raised, so no
    report came back)."""
    from podsight.jobs.models import PipelineRun

    row = (
        PipelineRun.objects.filter(trigger="schedule", status="interrupted")
        .order_by("-started_at", "-id")
        .first()
    )
    if row is not None and all(run.run_id != row.pk for run in report.runs):
        cadence = (row.cadences or ["daily"])[0]
        report.runs.append(
            ScheduledRun(row.pk, cadence, row.status, row.started_at, row.seconds, row.error)
        )
