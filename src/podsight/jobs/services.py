"""Running allowed steps (:mod:`podsight.jobs.allowed`) as jobs in the API server.

- :func:`start` checks the request, records a ``queued`` job and hands it to this
  process's pool of worker threads (``PODSIGHT_JOB_WORKERS``, default 2, daemon threads:
  a server that stops does not wait for them). One job of a step at a time: a second
  request for a step whose job is queued or running is refused with :class:`JobRunning`
  (409, naming the running job), enforced by a partial unique index so that it also holds
  across server processes. Refusing rather than queueing: two matching runs or two
  trainings at once would do the same work twice and fight over the same rows, and the
  dashboard follows the job already running instead.
- A worker runs the step with a :class:`~podsight.jobs.progress.JobProgress` and records
  ``succeeded`` with a one-line summary and the report as JSON, or ``failed`` with the
  error: a :class:`~podsight.errors.PodsightError`'s message as written; anything else is
  a bug, logged with its traceback, and the job says so without details. A report that
  says every item failed (all feeds, every transcript) is a failed job too, as it is a
  failed command in the CLI.
- Jobs whose process died (restart, crash) stay ``queued``/``running`` in the table:
  :func:`recover_interrupted` marks them ``interrupted``. It runs on first use in a
  process and then at most every :data:`RECOVER_EVERY_S` (and for one job when it is
  read). A job's ``runner`` names its process (``host:pid:start time``): on the same host
  a dead process is certain; a job of another host counts as dead once its heartbeat is
  older than :data:`STALE_AFTER_S`.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import DatabaseError, IntegrityError, connections, transaction
from django.utils import timezone

from podsight.busy import is_database_busy
from podsight.errors import NotFoundError, PodsightError
from podsight.jobs.allowed import InvalidJob, validate
from podsight.jobs.models import ACTIVE, Job, JobStatus
from podsight.jobs.outcome import MAX_LIST_ITEMS, runner_name, summarize
from podsight.jobs.outcome import plain as _plain
from podsight.jobs.outcome import runner_alive as _runner_alive
from podsight.jobs.progress import JobProgress
from podsight.pipeline import run_step  # the package registers every step on first use

__all__ = [
    "MAX_LIST_ITEMS",
    "RECOVER_EVERY_S",
    "STALE_AFTER_S",
    "InvalidJob",
    "JobRunning",
    "NoSuchJob",
    "get",
    "jobs",
    "recover_interrupted",
    "runner_name",
    "start",
    "summarize",
]

log = logging.getLogger(__name__)

RECOVER_EVERY_S = 30.0
STALE_AFTER_S = 120.0
INTERRUPTED = (
    "The server process running this job stopped before the job finished (a restart or a "
    "crash); start it again."
)


class JobRunning(PodsightError):
    """A job of the same step is queued or running: 409 ``job_running``; ``details``
    names it (``{"job": id}``) so a client can follow that one."""

    http_status = 409
    code = "job_running"

    def __init__(self, step: str, job_id: int) -> None:
        super().__init__(
            f"A {step} job (id {job_id}) is already queued or running; follow it, or start "
            "another once it has finished."
        )
        self.details = {"job": job_id}


class NoSuchJob(NotFoundError):
    """No job with that id: 404."""


# --- recovery ---------------------------------------------------------------------------------

_recover_lock = threading.Lock()
_recovered_at: float | None = None


def _is_dead(job: Job, now: datetime) -> bool:
    alive = _runner_alive(job.runner)
    if alive is not None:
        return not alive
    if job.status != JobStatus.RUNNING:
        return False  # queued on another host: its pool may be busy; nothing tells
    beat = job.heartbeat_at or job.started_at or job.created_at
    return beat < now - timedelta(seconds=STALE_AFTER_S)


def _interrupt(jobs: list[Job]) -> list[int]:
    now = timezone.now()
    done = []
    for job in jobs:
        if _is_dead(job, now):
            # Only if it is still as seen: a live runner may just have finished it.
            changed = Job.objects.filter(pk=job.pk, status=job.status, runner=job.runner).update(
                status=JobStatus.INTERRUPTED, finished_at=now, error=INTERRUPTED
            )
            if changed:
                log.warning("job %s (%s) interrupted: its process %s is gone", job.pk, job.step,
                            job.runner)  # fmt: skip
                done.append(job.pk)
    return done


def recover_interrupted() -> list[int]:
    """Mark ``interrupted`` every queued or running job whose process is gone; their ids."""
    global _recovered_at
    with _recover_lock:
        _recovered_at = time.monotonic()
    return _interrupt(list(Job.objects.filter(status__in=ACTIVE)))


def _recover_if_due() -> None:
    with _recover_lock:
        due = _recovered_at is None or time.monotonic() - _recovered_at >= RECOVER_EVERY_S
    if due:
        try:
            recover_interrupted()
        except DatabaseError as exc:
            if not is_database_busy(exc):
                raise
            log.info("recovering interrupted jobs postponed: the database is busy")


# --- the worker pool -------------------------------------------------------------------------


class _Pool:
    """``PODSIGHT_JOB_WORKERS`` daemon threads taking job ids from one queue."""

    def __init__(self) -> None:
        self._queue: queue.Queue[int] = queue.Queue()
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()

    def submit(self, job_id: int) -> None:
        with self._lock:
            self._threads = [t for t in self._threads if t.is_alive()]
            while len(self._threads) < settings.JOB_WORKERS:
                thread = threading.Thread(
                    target=self._work, name=f"podsight-job-worker-{len(self._threads)}", daemon=True
                )
                thread.start()
                self._threads.append(thread)
        self._queue.put(job_id)

    def _work(self) -> None:
        while True:
            job_id = self._queue.get()
            try:
                _run(job_id)
            except Exception:  # noqa: BLE001 - a worker must outlive any one job
                log.exception("job %s: the worker failed around the step", job_id)
            finally:
                # Django opens a connection per thread; this one is idle until the next job.
                connections.close_all()


_POOL = _Pool()


# --- starting and reading ----------------------------------------------------------------------


def _who(user: Any, token: Any) -> str:
    name = user.get_username() if getattr(user, "is_authenticated", False) else ""
    if name:
        return name
    token_name = getattr(token, "name", "")
    return f"token:{token_name}" if token_name else ""


def start(body: Any, *, user: Any = None, token: Any = None) -> Job:
    """Check a job request (``{"step", "params", "dry_run"}``), record the job and queue it.

    With ``dry_run`` nothing is recorded: the unsaved job shows what would run.
    :class:`InvalidJob` (400) for a bad request, :class:`JobRunning` (409)."""
    step, params, dry_run = validate(body)
    job = Job(step=step, params=params, created_by=_who(user, token), runner=runner_name())
    if dry_run:
        return job
    _recover_if_due()
    running = Job.objects.filter(step=step, status__in=ACTIVE).values_list("pk", flat=True)
    if (found := running.first()) is not None:
        # Perhaps left by a dead process: check that one now rather than refuse for it.
        if not _interrupt(list(Job.objects.filter(pk=found))):
            raise JobRunning(step, found)
    try:
        with transaction.atomic():
            job.save()
    except IntegrityError:
        # Another request (or process) started one in between: the unique index said no.
        found = running.first()
        if found is None:
            raise
        raise JobRunning(step, found) from None
    # After the commit, or a worker could look for a row it cannot see yet.
    transaction.on_commit(lambda: _POOL.submit(job.pk))
    return job


def get(job_id: int) -> Job:
    """The job ``job_id`` (:class:`NoSuchJob` when none); a job whose process is gone is
    marked interrupted on the way."""
    _recover_if_due()
    try:
        job = Job.objects.get(pk=job_id)
    except Job.DoesNotExist:
        raise NoSuchJob(f"No job with id {job_id}.") from None
    if job.status in ACTIVE and _interrupt([job]):
        job.refresh_from_db()
    return job


def jobs(status: str | None = None, step: str | None = None):
    """The jobs (a queryset, for paging), of one status or step when given."""
    _recover_if_due()
    found = Job.objects.all()
    if status:
        found = found.filter(status=status)
    if step:
        found = found.filter(step=step)
    return found


# --- running one ------------------------------------------------------------------------------


def _save(job_id: int, **fields: Any) -> int:
    """Update the job's row, waiting out a busy database (the outcome must not be lost)."""
    for attempt in range(8):
        try:
            return Job.objects.filter(pk=job_id).update(**fields)
        except DatabaseError as exc:
            if not is_database_busy(exc) or attempt == 7:
                raise
            time.sleep(min(2**attempt * 0.25, 10))
    return 0  # not reached


def _run(job_id: int) -> None:
    now = timezone.now()
    claimed = _save_claim(job_id, now)
    if not claimed:
        return  # interrupted (or gone) before a worker took it
    try:
        _execute(job_id)
    except Exception:  # noqa: BLE001 - around the step (summary, report, the final save)
        # Whatever failed, the row must not stay `running`: that would hold its step
        # (one job per step) for as long as this process lives.
        log.exception("job %s: failed around its step", job_id)
        error = f"job {job_id} failed unexpectedly (a bug); the server log has the details."
        _save(job_id, status=JobStatus.FAILED, finished_at=timezone.now(), error=error)


def _execute(job_id: int) -> None:
    job = _read(job_id)
    progress = JobProgress(job_id)
    progress.start()
    outcome: dict[str, Any]
    try:
        report = run_step(job.step, progress=progress, **job.params)
    except PodsightError as exc:
        log.info("job %s (%s) failed: %s", job_id, job.step, exc)
        outcome = {"status": JobStatus.FAILED, "error": _plain(str(exc))}
    except Exception:  # noqa: BLE001 - a bug in a step: logged, and the job says so
        log.exception("job %s (%s) failed unexpectedly", job_id, job.step)
        outcome = {
            "status": JobStatus.FAILED,
            "error": f"{job.step} failed unexpectedly (a bug); the server log has the details "
            f"(job {job_id}).",
        }
    else:
        summary, failure = summarize(job.step, report)
        outcome = {
            "status": JobStatus.FAILED if failure else JobStatus.SUCCEEDED,
            "summary": summary,
            "error": failure or "",
            "report": _plain(report),
        }
    finally:
        progress.stop()
    _save(job_id, finished_at=timezone.now(), heartbeat_at=timezone.now(), **progress.fields(),
          **outcome)  # fmt: skip


def _read(job_id: int) -> Job:
    """The claimed job's row, waiting out a busy database as the writes here do (a worker
    that gave up at once would fail the job for another writer's moment)."""
    for attempt in range(8):
        try:
            return Job.objects.get(pk=job_id)
        except DatabaseError as exc:
            if not is_database_busy(exc) or attempt == 7:
                raise
            time.sleep(min(2**attempt * 0.25, 10))
    raise AssertionError("not reached")


def _save_claim(job_id: int, now: datetime) -> int:
    for attempt in range(8):
        try:
            return Job.objects.filter(pk=job_id, status=JobStatus.QUEUED).update(
                status=JobStatus.RUNNING, started_at=now, heartbeat_at=now, runner=runner_name()
            )
        except DatabaseError as exc:
            if not is_database_busy(exc) or attempt == 7:
                raise
            time.sleep(min(2**attempt * 0.25, 10))
    return 0
