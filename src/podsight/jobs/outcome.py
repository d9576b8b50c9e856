"""What the jobs and the pipeline runner record of a step's outcome, and which process ran
it: a report's one-line summary (:func:`summarize`), the report as JSON (:func:`plain`),
this process's name (:func:`runner_name`) and whether a named process still runs
(:func:`runner_alive`).

Apart from :mod:`podsight.jobs.services` so that the pipeline runner can use them without
importing what starting jobs needs (the allowed steps' parameter rules import the
recommenders and the sources: seconds of start-up for each ``podsight pipeline run``).
"""

from __future__ import annotations

import dataclasses
import enum
import math
import os
import socket
from datetime import date, datetime
from pathlib import Path
from typing import Any

__all__ = ["MAX_LIST_ITEMS", "plain", "runner_alive", "runner_name", "summarize"]

# Lists in a report kept in the job (per-feed outcomes…): the first this many.
MAX_LIST_ITEMS = 200


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


def runner_alive(runner: str) -> bool | None:
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


# --- reports ---------------------------------------------------------------------------------


def plain(value: Any, depth: int = 0) -> Any:
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
        return plain(value.value, depth + 1)
    as_dict = getattr(value, "as_dict", None)
    if callable(as_dict):
        return plain(as_dict(), depth + 1)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            f.name: plain(getattr(value, f.name), depth + 1) for f in dataclasses.fields(value)
        }
    if isinstance(value, dict):
        return {str(k): plain(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = sorted(value, key=str) if isinstance(value, set | frozenset) else value
        return [plain(v, depth + 1) for v in list(items)[:MAX_LIST_ITEMS]]
    if hasattr(value, "item") and callable(value.item):  # a numpy scalar
        return plain(value.item(), depth + 1)
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
            f"{report.unchanged} unchanged ({report.not_modified} not modified), "
            f"{report.failed} failed, {report.no_link} without a "
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
