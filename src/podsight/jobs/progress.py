"""A :class:`~podsight.progress.Progress` that records a job's progress in its row.

Steps report from any of their threads, often thousands of times a second; none of those
calls touches the database. They change a small in-memory state, and one recorder thread
per running job writes it when it changed, at most every :data:`WRITE_INTERVAL_S`, and
beats the job's heartbeat every :data:`HEARTBEAT_S` even when nothing moves (so another
host can tell a job whose process died). The recorder closes its database connection
when it stops.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.db import DatabaseError, connections
from django.utils import timezone

from podsight.busy import is_database_busy
from podsight.jobs.models import Job, JobStatus
from podsight.progress import Task

__all__ = ["HEARTBEAT_S", "MAX_NOTES", "WRITE_INTERVAL_S", "JobProgress"]

log = logging.getLogger(__name__)

WRITE_INTERVAL_S = 0.5
HEARTBEAT_S = 10.0
MAX_NOTES = 50
_TEXT = 200  # label and item columns


class _JobTask:
    def __init__(self, owner: JobProgress) -> None:
        self._owner = owner

    def advance(self, n: int = 1, *, item: str | None = None) -> None:
        with self._owner.lock:
            self._owner.state["done"] += n
            if item is not None:
                self._owner.state["item"] = item[-_TEXT:]
            self._owner.dirty = True

    def update(
        self, *, completed: int | None = None, total: int | None = None, item: str | None = None
    ) -> None:
        with self._owner.lock:
            state = self._owner.state
            if completed is not None:
                state["done"] = completed
            if total is not None:
                state["total"] = total
            if item is not None:
                state["item"] = item[-_TEXT:]
            self._owner.dirty = True


class JobProgress:
    """The progress of job ``job_id``; :meth:`start` the recorder before the step runs and
    :meth:`stop` it after (what it last saw is in :meth:`fields`, for the final write)."""

    def __init__(self, job_id: int) -> None:
        self.job_id = job_id
        self.lock = threading.Lock()
        self.state: dict[str, Any] = {"label": "", "item": "", "done": 0, "total": None}
        self.notes: list[dict[str, str]] = []
        self.dirty = False
        self._stopping = threading.Event()
        self._thread = threading.Thread(
            target=self._record, name=f"podsight-job-{job_id}-progress", daemon=True
        )

    # --- the Progress protocol -------------------------------------------------------

    @contextmanager
    def task(self, label: str, total: int | None = None) -> Iterator[Task]:
        with self.lock:
            self.state = {"label": label[:_TEXT], "item": "", "done": 0, "total": total}
            self.dirty = True
        yield _JobTask(self)

    def note(self, message: str, *, level: int = logging.INFO) -> None:
        log.log(level, "job %s: %s", self.job_id, message)
        with self.lock:
            self.notes.append({"level": logging.getLevelName(level), "message": message[:1000]})
            # The latest matter most: an early "skipped youtube" is repeated at the end.
            del self.notes[:-MAX_NOTES]
            self.dirty = True

    # --- recording ---------------------------------------------------------------------

    def fields(self) -> dict[str, Any]:
        """The row's progress columns as the step last left them."""
        with self.lock:
            return {
                "progress_label": self.state["label"],
                "progress_item": self.state["item"],
                "progress_done": max(0, int(self.state["done"])),
                "progress_total": self.state["total"],
                "notes": list(self.notes),
            }

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join()

    def _record(self) -> None:
        last_beat = 0.0
        clock = 0.0
        try:
            while not self._stopping.wait(WRITE_INTERVAL_S):
                clock += WRITE_INTERVAL_S
                with self.lock:
                    changed, self.dirty = self.dirty, False
                if not changed and clock - last_beat < HEARTBEAT_S:
                    continue
                fields = self.fields() if changed else {}
                if self._write(fields):
                    last_beat = clock
                elif changed:
                    with self.lock:
                        self.dirty = True  # not written: try again next time
        finally:
            connections.close_all()  # this thread's connection; it ends here

    def _write(self, fields: dict[str, Any]) -> bool:
        try:
            Job.objects.filter(pk=self.job_id, status=JobStatus.RUNNING).update(
                heartbeat_at=timezone.now(), **fields
            )
        except DatabaseError as exc:
            # A busy database delays progress, it must not fail the job.
            if not is_database_busy(exc):
                log.warning("job %s: progress not recorded: %s", self.job_id, exc)
            return False
        return True
