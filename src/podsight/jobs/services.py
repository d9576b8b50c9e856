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

import dataclasses
import enum
import logging
import math
import os
import queue
import socket
import threading
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import DatabaseError, IntegrityError, connections, transaction
from django.utils import timezone

from podsight.busy import is_database_busy
from podsight.errors import NotFoundError, PodsightError
from podsight.jobs.allowed import InvalidJob, validate
from podsight.jobs.models import ACTIVE, Job, JobStatus
from podsight.jobs.progress import JobProgress
from podsight.pipeline.registry import run_step

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
# Lists in a report kept in the job (per-feed outcomes…): the first this many.
MAX_LIST_ITEMS = 200
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


# --- this process ---------------------------------------------------------------------------


def _process_start(pid: int) -> str | None:
    """When process ``pid`` started (clock ticks since boot, Linux's /proc), to tell it from
    a later process given the same pid; None when unknown."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            fields = stat.read().rsplit(b")", 1)[1].split()
        return fields[19].decode()
    except (OSError, IndexError):
        return None


_HOST = socket.gethostname()
_runner: tuple[int, str] | None = None


def runner_name() -> str:
    """This process's name in a job's ``runner``: ``host:pid:start``. Worked out per
    process, not on import: gunicorn imports the app in its master and forks workers."""
    global _runner
    pid = os.getpid()
    if _runner is None or _runner[0] != pid:
        _runner = (pid, f"{_HOST}:{pid}:{_process_start(pid) or ''}")
    return _runner[1]


def _runner_alive(runner: str) -> bool | None:
    """Whether the process named ``runner`` still runs; None when it cannot be told (it
    ran on another host)."""
    parts = runner.rsplit(":", 2)
    if len(parts) != 3 or not parts[1].isdigit():
        return False  # not a runner this code wrote
    host, pid_text, started = parts
    if host != _HOST:
        return None
    pid = int(pid_text)
    if pid == os.getpid():
        return runner == runner_name()  # the same pid in a new process is another one
    now_started = _process_start(pid)
    if now_started is not None or started:
        return now_started == started
    try:  # no /proc: whether any process has that pid
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


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


# --- reports ---------------------------------------------------------------------------------


def _plain(value: Any, depth: int = 0) -> Any:
    """``value`` as JSON (a report dataclass, its lists cut at :data:`MAX_LIST_ITEMS`)."""
    if depth > 12:
        return str(value)
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd")  # PostgreSQL's json and text refuse NUL
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, enum.Enum):
        return _plain(value.value, depth + 1)
    as_dict = getattr(value, "as_dict", None)
    if callable(as_dict):
        return _plain(as_dict(), depth + 1)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            f.name: _plain(getattr(value, f.name), depth + 1) for f in dataclasses.fields(value)
        }
    if isinstance(value, dict):
        return {str(k): _plain(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = sorted(value, key=str) if isinstance(value, set | frozenset) else value
        return [_plain(v, depth + 1) for v in list(items)[:MAX_LIST_ITEMS]]
    if hasattr(value, "item") and callable(value.item):  # a numpy scalar
        return _plain(value.item(), depth + 1)
    return str(value)


def _count_words(counts: dict[str, int]) -> str:
    return ", ".join(f"{n} {name}" for name, n in counts.items() if n) or "nothing to do"


def summarize(step: str, report: Any) -> tuple[str, str | None]:
    """``(summary, failure)``: one line of what a step's report says, and the error when the
    report says the run failed as a whole (as the CLI exits 1 for it), else None."""
    if step == "ingest.rss":
        statuses = ("new", "updated", "unchanged", "not-modified", "incomplete", "failed")
        counts = {s: report.count(s) for s in statuses}
        episodes = sum(o.episodes_new for o in report.outcomes)
        line = f"{len(report.outcomes)} feed(s): {_count_words(counts)}; {episodes} new episodes"
        if report.all_failed:
            errors = "; ".join(f"{o.location}: {o.error}" for o in report.outcomes[:3])
            return line, f"every feed failed: {errors}"
        return line, None
    if step == "sources.sync":
        parts = []
        for run in report.runs.values():
            part = f"{run.source} {run.status}"
            if run.shows_ok or run.shows_failed:
                part += f" ({run.shows_ok} shows, {run.store.episodes_new} new episodes"
                part += f", {run.shows_failed} failed)" if run.shows_failed else ")"
            parts.append(part)
        line = "; ".join(parts) or "no source to sync"
        if report.all_failed:
            errors = [e for run in report.runs.values() for e in [run.message, *run.errors] if e]
            return line, "every source failed: " + "; ".join(errors[:3])
        return line, None
    if step == "match":
        return str(report.run), None
    if step == "content.transcripts":
        line = (
            f"{report.episodes} episodes: {report.stored} transcripts stored, "
            f"{report.unchanged} unchanged, {report.failed} failed, {report.no_link} without a "
            "transcript link"
        )
        if report.all_failed:
            errors = [f"{o.episode_id}: {o.error}" for o in report.outcomes if o.error][:3]
            return line, "every transcript failed: " + ("; ".join(errors) or "see the report")
        return line, None
    if step == "content.analyze":
        return str(report), None
    if step == "recs.train":
        ndcg = (report.metrics.get("hybrid") or {}).get("ndcg@10")
        measured = "" if ndcg is None else f", validation NDCG@10 {ndcg:.4f}"
        line = f"model {report.version} {report.status}{measured}: {report.note}"
        if report.status == "serving":
            line += f"; {report.cached} users' recommendations precomputed"
        return line, None
    if step in ("recs.promote", "recs.rollback"):
        before = f" (before: {report.previous})" if report.previous else ""
        line = f"{report.action}: model {report.version} is {report.status}{before}"
        return f"{line}; {report.note}" if report.note else line, None
    if step == "directory.add":
        where = "added to" if report.added_to_sources else "already in"
        line = (
            f"{report.title}: {where} the sources file; its feed {report.feed_status}, "
            f"{report.episodes} episodes"
        )
        if report.feed_failed:
            return line, f"{report.title} was added, but its feed failed: {report.feed_error}"
        return line, None
    # A step without its own line: the report's text when its class writes one.
    if type(report).__str__ is not object.__str__:
        return str(report), None
    return f"{step} finished", None
