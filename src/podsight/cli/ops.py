"""``podsight serve`` and ``podsight migrate``: running the platform (the ``serve`` and
``migrate`` steps)."""

from __future__ import annotations

from typing import Annotated

import typer

from podsight.cli.output import console, progress_view
from podsight.pipeline import run_step

__all__ = ["dashboard", "migrate", "serve"]


def migrate() -> None:
    """Apply pending database migrations (other commands do this themselves)."""
    run_step("migrate")  # the entry has applied them already; this confirms it
    console.print("database schema is current")


def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535)] = 8000,
    threads: Annotated[int, typer.Option(min=1, max=64, help="Threads per process.")] = 8,
    workers: Annotated[
        int,
        typer.Option(
            min=1,
            max=64,
            help="Processes. 1: waitress, one process. More: gunicorn pre-forks that many "
            "(Python runs one thread at a time per process; event ingestion needs the cores).",
        ),
    ] = 1,
) -> None:
    """Serve the REST API (and /api/docs)."""
    run_step("serve", host=host, port=port, threads=threads, workers=workers,
             progress=progress_view())  # fmt: skip


def dashboard(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535)] = 8501,
    api: Annotated[
        str | None,
        typer.Option(
            "--api",
            metavar="URL",
            help="The podsight API it is a client of (default PODSIGHT_DASHBOARD_API_URL, "
            "else http://127.0.0.1:8000).",
        ),
    ] = None,
) -> None:
    """Serve the dashboard: sign in with a podsight user, see and act through the API."""
    run_step("dashboard", host=host, port=port, api_url=api, progress=progress_view())
