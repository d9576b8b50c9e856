"""Where the CLI prints: results on stdout, notes and errors on stderr (shared by every
command module, so all print alike)."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.markup import escape

__all__ = ["console", "err", "fail"]

console = Console()
if not console.is_terminal:
    # Logs and pipes: wide enough that tables are not folded mid-title.
    console = Console(width=200)
err = Console(stderr=True)


def fail(message: str, code: int = 1) -> typer.Exit:
    """Print ``error: message`` on stderr; raise what this returns."""
    err.print(f"[red]error:[/] {escape(message)}", soft_wrap=True)  # one line, however long
    return typer.Exit(code)
