"""The local runner: one pass over the pipeline graph (:mod:`podsight.pipeline.graph`),
in this process, recorded in the database.

:func:`run_pipeline` takes the nodes :func:`~podsight.pipeline.graph.select` picks and runs
them one after another in dependency order, each through its registered step:

- a node whose condition does not hold here (``when``) is ``skipped``; that does not stop
  its dependents;
- a node one of whose needs failed (or was blocked) is ``blocked``, with why ("needs
  content.transcripts, which failed"); nodes beside it still run;
- a failing node is tried again ``node.retries`` times, waiting ``node.backoff_s``, then
  twice as long each time, times ``PODSIGHT_PIPELINE_BACKOFF_SCALE`` (tests: 0). A wrong
  input (:class:`~podsight.errors.UsageError`) or a step that is not registered is not
  retried: waiting changes neither. A step's report saying the work failed as a whole
  (every feed, every source) fails the node, as it fails the command in the CLI.

Each run is a :class:`~podsight.jobs.models.PipelineRun` and each node a
:class:`~podsight.jobs.models.PipelineStepRun` (status, attempts, timing, a one-line
summary, the report as JSON, the error). A step's error is recorded as its message (a
:class:`~podsight.errors.PodsightError`) or as its type and message (a bug: the traceback
goes to the log file only).

Runs never overlap: :func:`pipeline_lock` holds ``pipeline.lock`` in ``PODSIGHT_HOME``
(``fcntl.flock``, released by the kernel when the process dies), and a second run is
refused with :class:`PipelineBusy`. A run left ``running`` by a process that is gone is
marked ``interrupted`` when the next one starts.

Django is imported only inside functions: the scheduler imports :func:`pipeline_lock`
and the CLI this module's report types before Django is set up.
"""

from __future__ import annotations

import inspect
import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from podsight import conf, engines, locks
from podsight.errors import ConfigurationError, PodsightError, QualityError, UsageError
from podsight.pipeline import STEPS  # the package registers every step on first use
from podsight.pipeline import graph as graphs
from podsight.pipeline.graph import CADENCES, GRAPH, Node
from podsight.progress import SILENT, Progress

__all__ = [
    "LOCK_FILE",
    "NodeOutcome",
    "PipelineBusy",
    "PipelineRunList",
    "PipelineRunReport",
    "SETTING_PARAMS",
    "backoff_scale",
    "pipeline_lock",
    "recent_runs",
    "recover_interrupted_runs",
    "run_pipeline",
]

log = logging.getLogger(__name__)
# Tracebacks of bugs in steps: the log file only (podsight.logs), never the console.
internal_log = logging.getLogger("podsight.internal")

LOCK_FILE = "pipeline.lock"
# Parameters a node takes from a setting at run time, by step: the dump's path is where
# the operator put it, not something the graph can know.
SETTING_PARAMS: Mapping[str, Mapping[str, str]] = {
    "podcastindex.import_dump": {"path": "PODSIGHT_PODCASTINDEX_DUMP"},
}
INTERRUPTED = (
    "the process running it stopped before it finished (killed, crashed or stopped); the "
    "next run starts again"
)


class PipelineBusy(UsageError):
    """Another pipeline run holds the lock of this ``PODSIGHT_HOME``."""

    http_status = 409
    code = "pipeline_running"


@dataclass(frozen=True)
class NodeOutcome:
    """One node of a run: what happened to it. ``error`` is why it failed, or why it was
    skipped or blocked."""

    name: str
    step: str
    status: str
    attempts: int = 0
    seconds: float | None = None
    summary: str = ""
    error: str = ""


@dataclass(frozen=True)
class PipelineRunReport:
    """A pipeline run: its nodes in the order they ran."""

    run_id: int
    status: str
    trigger: str
    started_at: datetime
    finished_at: datetime | None
    seconds: float | None
    nodes: list[NodeOutcome] = field(default_factory=list)
    cadences: list[str] = field(default_factory=list)
    only: list[str] = field(default_factory=list)
    start: str = ""
    engine: str = ""
    error: str = ""

    @property
    def failed(self) -> bool:
        """Whether a node failed (the CLI exits 1)."""
        return any(node.status == "failed" for node in self.nodes)

    def counts(self) -> dict[str, int]:
        found: dict[str, int] = {}
        for node in self.nodes:
            found[node.status] = found.get(node.status, 0) + 1
        return found

    def __str__(self) -> str:
        took = f" in {self.seconds:.1f} s" if self.seconds is not None else ""
        counts = ", ".join(f"{n} {status}" for status, n in self.counts().items()) or "no nodes"
        line = f"pipeline run {self.run_id} {self.status}{took}: {counts}"
        return f"{line}; {self.error}" if self.error else line


@dataclass(frozen=True)
class PipelineRunList:
    """Recent pipeline runs, newest first."""

    runs: list[PipelineRunReport]

    def __str__(self) -> str:
        return f"{len(self.runs)} pipeline run(s)"


# --- settings ---------------------------------------------------------------------------------


def backoff_scale() -> float:
    """``PODSIGHT_PIPELINE_BACKOFF_SCALE``: the factor of every retry's wait (default 1;
    0 retries at once)."""
    scale = conf.env_float("PODSIGHT_PIPELINE_BACKOFF_SCALE", 1.0)
    if scale < 0:
        raise conf.SettingError(
            f"PODSIGHT_PIPELINE_BACKOFF_SCALE must be 0 or more, not {scale:g}"
        )
    return scale


# --- the lock ---------------------------------------------------------------------------------


def _busy_message(holder: str) -> str:
    """Who holds the lock: the running run of the database when there is one, else the
    process written in the lock file."""
    try:
        from podsight.jobs.models import PipelineRun, RunStatus

        running = PipelineRun.objects.filter(status=RunStatus.RUNNING).order_by("-id").first()
    except Exception:  # noqa: BLE001 - only the message's detail: the lock file says enough
        running = None
    if running is not None:
        since = running.started_at.strftime("%Y-%m-%d %H:%M:%S UTC")
        who = f"run {running.pk} since {since}"
    else:
        who = holder.strip() or "another process"
    return (
        f"a pipeline run is already running ({who}); wait for it to finish, or stop it, "
        "then start again"
    )


@contextmanager
def pipeline_lock(wait: float = 0.0) -> Iterator[None]:
    """Hold the pipeline lock of this ``PODSIGHT_HOME`` for the block; :class:`PipelineBusy`
    when another run holds it, at once or after waiting up to ``wait`` seconds for it (Airflow
    tasks of parallel branches on one home take turns). The kernel releases it when the
    process dies, so a killed run never leaves it held."""
    if wait < 0:
        raise UsageError(f"the wait for the pipeline lock must be 0 or more seconds, not {wait}")
    with locks.held(
        conf.podsight_home() / LOCK_FILE, lambda holder: PipelineBusy(_busy_message(holder)),
        wait=wait,
    ):  # fmt: skip
        yield


# --- records ------------------------------------------------------------------------------------


def _busy_retry(write: Callable[[], Any]) -> Any:
    """Run a write, waiting out a busy database (a run's outcome must not be lost because
    the API server wrote at the same moment)."""
    from django.db import DatabaseError

    from podsight.busy import is_database_busy

    for attempt in range(8):
        try:
            return write()
        except DatabaseError as exc:
            if not is_database_busy(exc) or attempt == 7:
                raise
            time.sleep(min(2**attempt * 0.25, 10))
    raise AssertionError("not reached")


def recover_interrupted_runs() -> list[int]:
    """Mark ``interrupted`` every run left ``running`` by a process of this host that is
    gone (and the node it was in); their ids. A run of another host is left alone: its
    process cannot be checked from here."""
    from django.utils import timezone

    from podsight.jobs.models import NodeStatus, PipelineRun, PipelineStepRun, RunStatus
    from podsight.jobs.outcome import runner_alive

    done = []
    for run in PipelineRun.objects.filter(status=RunStatus.RUNNING):
        if runner_alive(run.runner) is not False:
            continue
        now = timezone.now()
        changed = PipelineRun.objects.filter(pk=run.pk, status=RunStatus.RUNNING).update(
            status=RunStatus.INTERRUPTED, finished_at=now, error=INTERRUPTED,
            seconds=(now - run.started_at).total_seconds(),
        )  # fmt: skip
        if changed:
            PipelineStepRun.objects.filter(run=run, status=NodeStatus.RUNNING).update(
                status=NodeStatus.INTERRUPTED, finished_at=now, error=INTERRUPTED
            )
            log.warning("pipeline run %s interrupted: its process %s is gone", run.pk, run.runner)
            done.append(run.pk)
    return done


def _report(run: Any, rows: Iterable[Any]) -> PipelineRunReport:
    return PipelineRunReport(
        run_id=run.pk,
        status=run.status,
        trigger=run.trigger,
        started_at=run.started_at,
        finished_at=run.finished_at,
        seconds=run.seconds,
        cadences=list(run.cadences),
        only=list(run.only),
        start=run.start_from,
        engine=run.engine,
        error=run.error,
        nodes=[
            NodeOutcome(
                name=row.node, step=row.step, status=row.status, attempts=row.attempts,
                seconds=row.seconds, summary=row.summary, error=row.error,
            )  # fmt: skip
            for row in rows
        ],
    )


def recent_runs(limit: int = 10) -> PipelineRunList:
    """The last ``limit`` runs, newest first, with their nodes."""
    from podsight.jobs.models import PipelineRun

    recover_interrupted_runs()
    runs = PipelineRun.objects.order_by("-started_at", "-id").prefetch_related("steps")[:limit]
    return PipelineRunList([_report(run, run.steps.all()) for run in runs])


# --- one node ---------------------------------------------------------------------------------


class _NodeProgress:
    """The caller's progress, with each of the step's bars and notes named by its node."""

    def __init__(self, inner: Progress, node: str) -> None:
        self._inner, self._node = inner, node

    def task(self, label: str, total: int | None = None):  # noqa: ANN201 - Progress.task
        return self._inner.task(f"{self._node}: {label}", total)

    def note(self, message: str, *, level: int = logging.INFO) -> None:
        self._inner.note(f"{self._node}: {message}", level=level)


@dataclass
class _Attempted:
    status: str
    attempts: int = 0
    summary: str = ""
    report: Any = None
    error: str = ""


def _summary(step: str, report: Any) -> tuple[str, str | None]:
    """One line of the report and, when the report says the work failed as a whole, why."""
    from podsight.jobs.outcome import summarize

    line, failure = summarize(step, report)
    own = getattr(report, "summary", None)
    if callable(own):
        own = own()
    if isinstance(own, str) and own and line == f"{step} finished":
        line = own  # a report that writes its own line, where summarize has none
    return line, failure


def _report_json(report: Any) -> Any:
    """The report as JSON, with its data-quality checks when the step ran any (kept on
    the report beside its fields, so the dataclass's own fields leave them out)."""
    from podsight.jobs.outcome import plain

    if report is None:
        return None
    found = plain(report)
    quality = getattr(report, "quality", None)
    if isinstance(found, dict) and quality is not None and "quality" not in found:
        found["quality"] = plain(quality)
    return found


def _params(node: Node, engine: str | None) -> dict[str, Any]:
    params = dict(node.params)
    for name, setting in SETTING_PARAMS.get(node.step, {}).items():
        if value := conf.env(setting):
            params[name] = value
    if node.engine and engine is not None:
        params["engine"] = engine
    return params


def _accepts(fn: Callable[..., Any], name: str) -> bool:
    parameters = inspect.signature(fn).parameters.values()
    return any(p.name == name or p.kind is p.VAR_KEYWORD for p in parameters)


class _NotRetried(Exception):
    """A failure that waiting cannot change (a wrong input, a missing step)."""


def _attempt(node: Node, params: dict[str, Any], progress: Progress) -> tuple[str, Any]:
    """Run the node's step once: (summary, report); raises what the step raised, or
    :class:`PodsightError` when the report says the work failed."""
    found = STEPS.get(node.step)
    if found is None:
        raise _NotRetried(
            f"no step named {node.step!r} is registered in this podsight (node {node.name}); "
            "update podsight, or leave the node out with --only/--from"
        )
    if "engine" in params and not _accepts(found.fn, "engine"):
        raise _NotRetried(f"step {node.step} takes no engine; run it without --engine")
    call = dict(params)
    if _accepts(found.fn, "progress"):
        call["progress"] = _NodeProgress(progress, node.name)
    report = found.run(**call)
    summary, failure = _summary(node.step, report)
    if failure:
        raise _ReportFailed(failure, summary, report)
    return summary, report


class _ReportFailed(PodsightError):
    """The step returned, but its report says the work failed as a whole."""

    def __init__(self, message: str, summary: str, report: Any) -> None:
        super().__init__(message)
        self.summary, self.report = summary, report


def _run_node(
    node: Node,
    params: dict[str, Any],
    progress: Progress,
    stop: threading.Event | None,
    retries: int,
    on_attempt: Callable[[int], None],
) -> _Attempted:
    scale = backoff_scale()
    outcome = _Attempted("failed")
    for attempt in range(1, retries + 2):
        outcome.attempts = attempt
        on_attempt(attempt)  # recorded as it starts: a run killed mid-node shows how far
        retry = True
        try:
            outcome.summary, outcome.report = _attempt(node, params, progress)
        except _NotRetried as exc:
            outcome.error, retry = str(exc), False
        except _ReportFailed as exc:
            outcome.error, outcome.summary, outcome.report = str(exc), exc.summary, exc.report
        except UsageError as exc:
            outcome.error, retry = str(exc), False
        except QualityError as exc:
            # The bad data is written: a second attempt would start from it and, with
            # nothing new to write, pass its checks, letting dependents read it.
            outcome.error, retry = str(exc), False
        except PodsightError as exc:
            outcome.error = str(exc)
        except Exception as exc:  # noqa: BLE001 - a bug in a step fails its node, not the run
            internal_log.error("pipeline node %s (step %s) failed unexpectedly", node.name,
                               node.step, exc_info=True)  # fmt: skip
            outcome.error = f"{type(exc).__name__}: {exc}"
        else:
            outcome.status, outcome.error = "succeeded", ""
            return outcome
        log.info("pipeline node %s failed (attempt %d): %s", node.name, attempt, outcome.error)
        if not retry or attempt > retries:
            break
        wait = node.backoff_s * 2 ** (attempt - 1) * scale
        progress.note(
            f"{node.name} failed (attempt {attempt} of {retries + 1}): {outcome.error}; "
            f"trying again in {wait:.0f} s",
            level=logging.WARNING,
        )
        if stop is not None:
            if stop.wait(wait):
                break
        elif wait:
            time.sleep(wait)
    return outcome


# --- the run ------------------------------------------------------------------------------------


def _selected(
    only: Iterable[str], start: str | None, cadences: tuple[str, ...], graph: Mapping[str, Node]
) -> list[Node]:
    only = list(only)
    if only and start:
        raise UsageError("give either --only or --from, not both")
    wrong = [c for c in cadences if c not in CADENCES]
    if wrong or not cadences:
        raise UsageError(f"cadence must be one of {', '.join(CADENCES)}, not {wrong or 'none'}")
    try:
        return graphs.select(only=only, start=start, cadences=cadences, graph=graph)
    except KeyError as exc:
        raise UsageError(
            f"no pipeline node named {exc.args[0]!r}; the nodes are: {', '.join(graph)}"
        ) from None


def _why_blocked(node: Node, status: dict[str, str], cause: dict[str, str]) -> str | None:
    for need in node.needs:
        if status.get(need) == "failed":
            return f"needs {need}, which failed"
        if status.get(need) == "blocked":
            return f"needs {need}, which was blocked ({cause[need]} failed)"
    return None


def run_pipeline(
    *,
    only: Iterable[str] = (),
    start: str | None = None,
    cadences: Iterable[str] = ("daily",),
    engine: str | None = None,
    trigger: str = "cli",
    progress: Progress = SILENT,
    lock: bool = True,
    stop: threading.Event | None = None,
    retries: bool = True,
    lock_wait: float = 0.0,
    graph: Mapping[str, Node] = GRAPH,
) -> PipelineRunReport:
    """Run the graph's nodes (``only`` these, or ``start`` and what depends on it, or every
    node of ``cadences``) in dependency order; the recorded run.

    ``engine`` (``local``/``spark``) goes to the nodes that take one; ``trigger`` says who
    started the run (``cli``, ``schedule``, ``airflow``…). ``lock=False`` when the caller
    holds :func:`pipeline_lock` already (the scheduler, across its runs). ``stop``: once
    set, the run ends after the node at hand (and during a retry's wait), recorded as
    ``interrupted``. ``retries=False``: each node is tried once (an Airflow task, which
    Airflow retries itself). ``lock_wait``: seconds to wait for a run in progress to end
    before refusing. ``graph``: tests run a small graph of their own."""
    cadences = tuple(cadences)
    selected = _selected(only, start, cadences, graph)
    if not trigger or len(trigger) > 32:
        raise UsageError("trigger must be a name of 1 to 32 characters (cli, schedule, airflow…)")
    if engine:
        try:
            engine = engines.current(engine)  # the engines and their message: engines.py
        except ConfigurationError as exc:
            # An argument, not a setting: the request is wrong (not the server's 503).
            raise UsageError(str(exc)) from None
    backoff_scale()  # a bad setting is said before anything runs
    with pipeline_lock(lock_wait) if lock else nullcontext():
        from podsight.bootstrap import ensure_database

        ensure_database()
        recover_interrupted_runs()
        return _run(selected, only, start, cadences, engine, trigger, progress, stop, retries)


def _run(
    selected: list[Node],
    only: Iterable[str],
    start: str | None,
    cadences: tuple[str, ...],
    engine: str | None,
    trigger: str,
    progress: Progress,
    stop: threading.Event | None,
    retries: bool,
) -> PipelineRunReport:
    from django.utils import timezone

    from podsight.jobs.models import NodeStatus, PipelineRun, PipelineStepRun, RunStatus
    from podsight.jobs.outcome import plain, runner_name

    run = _busy_retry(lambda: PipelineRun.objects.create(
        trigger=trigger, cadences=list(cadences), only=list(only), start_from=start or "",
        engine=engine or "", runner=runner_name(),
    ))  # fmt: skip
    rows = {
        node.name: _busy_retry(lambda n=node, i=i: PipelineStepRun.objects.create(
            run=run, position=i, node=n.name, step=n.step,
        ))  # fmt: skip
        for i, node in enumerate(selected)
    }
    log.info("pipeline run %s started (%s): %s", run.pk, trigger, ", ".join(rows))
    began = time.monotonic()

    def save(row: Any, **fields: Any) -> None:
        for name, value in fields.items():
            setattr(row, name, value)
        _busy_retry(lambda: type(row).objects.filter(pk=row.pk).update(**fields))

    status: dict[str, str] = {}
    cause: dict[str, str] = {}  # a failed or blocked node: the failed node at the root
    current: Any = None
    stopped_before: str | None = None
    try:
        with progress.task("pipeline", total=len(selected)) as bar:
            for node in selected:
                if stop is not None and stop.is_set():
                    stopped_before = node.name
                    break
                row = current = rows[node.name]
                bar.update(item=node.name)
                now = timezone.now()
                if (blocked := _why_blocked(node, status, cause)) is not None:
                    status[node.name] = NodeStatus.BLOCKED
                    cause[node.name] = next(
                        cause[n] for n in node.needs if status.get(n) in ("failed", "blocked")
                    )
                    save(row, status=NodeStatus.BLOCKED, error=blocked, started_at=now,
                         finished_at=now, seconds=0.0)  # fmt: skip
                elif (skip := node.skip_reason()) is not None:
                    status[node.name] = NodeStatus.SKIPPED
                    save(row, status=NodeStatus.SKIPPED, error=skip, started_at=now,
                         finished_at=now, seconds=0.0)  # fmt: skip
                else:
                    save(row, status=NodeStatus.RUNNING, started_at=now)
                    node_began = time.monotonic()
                    outcome = _run_node(
                        node, _params(node, engine), progress, stop,
                        node.retries if retries else 0,
                        lambda n, row=row: save(row, attempts=n),
                    )  # fmt: skip
                    status[node.name] = outcome.status
                    if outcome.status == "failed":
                        cause[node.name] = node.name
                        progress.note(f"{node.name} failed: {outcome.error}", level=logging.ERROR)
                    report = _report_json(outcome.report)
                    save(row, status=outcome.status, attempts=outcome.attempts,
                         finished_at=timezone.now(), seconds=time.monotonic() - node_began,
                         summary=plain(outcome.summary), error=plain(outcome.error),
                         report=report)  # fmt: skip
                current = None
                bar.advance()
    except BaseException as exc:  # Ctrl-C, SIGTERM as SystemExit, a failing record
        interrupted_at = timezone.now()
        why = (
            f"stopped ({type(exc).__name__}) during {current.node}"
            if current is not None else f"stopped ({type(exc).__name__})"
        )  # fmt: skip
        if current is not None:
            save(current, status=NodeStatus.INTERRUPTED, finished_at=interrupted_at, error=why)
        save(run, status=RunStatus.INTERRUPTED, finished_at=interrupted_at, error=why,
             seconds=time.monotonic() - began)  # fmt: skip
        raise
    failed = [name for name, s in status.items() if s == "failed"]
    if stopped_before is not None:
        final, error = RunStatus.INTERRUPTED, f"stopped on request before {stopped_before}"
    elif failed:
        blocked = [name for name, s in status.items() if s == "blocked"]
        error = f"failed: {', '.join(failed)}" + (
            f"; blocked: {', '.join(blocked)}" if blocked else ""
        )
        final = RunStatus.FAILED
    else:
        final, error = RunStatus.SUCCEEDED, ""
    save(run, status=final, finished_at=timezone.now(), seconds=time.monotonic() - began,
         error=error)  # fmt: skip
    log.info("pipeline run %s %s", run.pk, final)
    return _report(run, PipelineStepRun.objects.filter(run=run).order_by("position"))
