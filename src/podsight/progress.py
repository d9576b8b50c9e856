"""How long work tells its caller how far it is: domain code never prints.

A step or service takes a :class:`Progress` from whoever started it and reports through
it; the caller decides what that looks like:

- :data:`SILENT` (the default): nothing is shown; notes go to the log. The API, tests,
  the local runner and Airflow tasks use it, or their own implementation.
- :class:`RichProgress`: the CLI's transient Rich bar, and notes printed on stderr.

Usage in domain code::

    def work(items, *, progress: Progress = SILENT) -> Report:
        with progress.task("ingest", total=len(items)) as task:
            for item in items:
                task.advance(item=item.name)
        progress.note("skipped youtube: no API key", level=logging.WARNING)
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol

from rich import get_console
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn
from rich.progress import Progress as _RichBar

__all__ = ["SILENT", "Progress", "RichProgress", "Silent", "Task", "step_progress"]

logger = logging.getLogger("podsight.progress")
# Notes a RichProgress has already printed: to the log file only (podsight.logs), or the
# console would show each twice, once as a log line.
printed = logging.getLogger("podsight.progress.printed")


class Task(Protocol):
    """One bar: a count of done items out of an optional total."""

    def advance(self, n: int = 1, *, item: str | None = None) -> None:
        """``n`` more items done; ``item`` names what is being worked on now."""

    def update(
        self, *, completed: int | None = None, total: int | None = None, item: str | None = None
    ) -> None:
        """Set the count, the total (when it becomes known) or the current item."""


class Progress(Protocol):
    """What a caller hands to long work."""

    def task(self, label: str, total: int | None = None) -> _TaskContext:
        """A bar for one phase of the work, as a context manager yielding a :class:`Task`."""

    def note(self, message: str, *, level: int = logging.INFO) -> None:
        """A line the person who started the work should read (a skipped source, a
        failed show). Plain text: implementations escape it for their medium."""


class _TaskContext(Protocol):
    def __enter__(self) -> Task: ...

    def __exit__(self, *exc: object) -> bool | None: ...


class _NoTask:
    def advance(self, n: int = 1, *, item: str | None = None) -> None:
        pass

    def update(
        self, *, completed: int | None = None, total: int | None = None, item: str | None = None
    ) -> None:
        pass


class Silent:
    """Shows nothing; notes are logged (``podsight.progress``) so none is lost."""

    @contextmanager
    def task(self, label: str, total: int | None = None) -> Iterator[Task]:
        yield _NoTask()

    def note(self, message: str, *, level: int = logging.INFO) -> None:
        logger.log(level, "%s", message)


SILENT: Progress = Silent()


_NOTE_STYLE = {logging.WARNING: "yellow", logging.ERROR: "red", logging.CRITICAL: "red"}


class _RichTask:
    def __init__(self, bar: _RichBar, task_id) -> None:
        self._bar = bar
        self._id = task_id

    def advance(self, n: int = 1, *, item: str | None = None) -> None:
        if item is not None:
            self._bar.update(self._id, description=escape(item[-60:]))
        self._bar.advance(self._id, n)

    def update(
        self, *, completed: int | None = None, total: int | None = None, item: str | None = None
    ) -> None:
        fields = {}
        if completed is not None:
            fields["completed"] = completed
        if total is not None:
            fields["total"] = total
        if item is not None:
            fields["description"] = escape(item[-60:])
        self._bar.update(self._id, **fields)


class RichProgress:
    """The CLI's view: one transient bar per task, notes on the console (stderr by
    default). ``enabled=False`` (``--no-progress``) hides bars but keeps notes."""

    def __init__(self, console: Console | None = None, *, enabled: bool = True) -> None:
        self.console = console or Console(stderr=True)
        self.enabled = enabled

    @contextmanager
    def task(self, label: str, total: int | None = None) -> Iterator[Task]:
        with step_progress(label, self.console, enabled=self.enabled) as bar:
            yield _RichTask(bar, bar.add_task("", total=total))

    def note(self, message: str, *, level: int = logging.INFO) -> None:
        printed.log(level, "%s", message)
        style = _NOTE_STYLE.get(level)
        text = escape(message)
        self.console.print(f"[{style}]{text}[/]" if style else text, soft_wrap=True)


def step_progress(label: str, console: Console | None, *, enabled: bool = True) -> _RichBar:
    """A transient bar: ``label ━━━━ 12/40 0:00:03 <current item>``; none when the
    console is not a terminal (a pipe or a log cannot animate: it would get blank lines)."""
    console = console or get_console()
    return _RichBar(
        TextColumn(f"[bold]{label}[/]"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.description}"),
        console=console,
        disable=not enabled or not console.is_terminal,
        transient=True,
    )
