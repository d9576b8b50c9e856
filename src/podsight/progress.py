"""The one progress bar style of long commands (Rich), so every step looks the same."""

from __future__ import annotations

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

__all__ = ["step_progress"]


def step_progress(label: str, console: Console, *, enabled: bool = True) -> Progress:
    """A transient bar: ``label ━━━━ 12/40 0:00:03 <current item>``."""
    return Progress(
        TextColumn(f"[bold]{label}[/]"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.description}"),
        console=console,
        disable=not enabled,
        transient=True,
    )
