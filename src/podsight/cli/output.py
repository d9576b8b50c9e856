"""Where the CLI prints: results on stdout, notes and errors on stderr (shared by every
command module, so all print alike), and the progress view commands hand to steps."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.markup import escape

from podsight.progress import RichProgress

__all__ = ["console", "err", "fail", "log_path", "progress_view"]

console = Console()
if not console.is_terminal:
    # Logs and pipes: wide enough that tables are not folded mid-title.
    console = Console(width=200)
err = Console(stderr=True)


def fail(message: str, code: int = 1) -> typer.Exit:
    """Print ``error: message`` on stderr; raise what this returns."""
    err.print(f"[red]error:[/] {escape(message)}", soft_wrap=True)  # one line, however long
    return typer.Exit(code)


def progress_view(enabled: bool = True) -> RichProgress:
    """Bars (unless ``--no-progress``) and notes on stderr, for a step's ``progress``."""
    return RichProgress(err, enabled=enabled)


def log_path() -> str:
    """The log file, for messages that point at it."""
    from podsight import conf
    from podsight.logs import log_file

    try:
        return str(log_file(conf.podsight_home()))
    except OSError:
        return "the log file"
