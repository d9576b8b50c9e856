"""The one progress bar style of long commands (Rich), so every step looks the same."""

from __future__ import annotations

from rich import get_console
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

__all__ = ["step_progress"]


def step_progress(label: str, console: Console | None, *, enabled: bool = True) -> Progress:
    """A transient bar: ``label ━━━━ 12/40 0:00:03 <current item>``; none when the
    console is not a terminal (a pipe or a log cannot animate: it would get blank lines)."""
    console = console or get_console()
    return Progress(
        TextColumn(f"[bold]{label}[/]"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.description}"),
        console=console,
        disable=not enabled or not console.is_terminal,
        transient=True,
    )
