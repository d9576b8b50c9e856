"""``podsight lake`` and ``podsight db``: a lake table's versions and going back to one
(the ``lake.history`` and ``lake.restore`` steps), and database backups (``db.backup``,
``db.restore``). docs/operations.md says when to use which."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from podsight.cli.output import console, err
from podsight.pipeline import run_step

__all__ = ["db_app", "lake_app"]

lake_app = typer.Typer(
    help="The lake's Delta tables: their versions, and restoring an older one.",
    no_args_is_help=True,
)
db_app = typer.Typer(help="The database: backup and restore.", no_args_is_help=True)


@lake_app.command("history")
def history(
    table: Annotated[str, typer.Argument(help="A lake table, e.g. engagement_daily.")],
    limit: Annotated[int, typer.Option(min=1, help="At most this many versions.")] = 20,
) -> None:
    """A lake table's versions, newest first: time, operation, rows added and removed,
    podsight's commit metadata."""
    report = run_step("lake.history", table=table, limit=limit)
    shown = Table(title=f"{report.table} (current version {report.current})")
    for column in ("version", "time (UTC)", "operation", "rows added", "rows removed", "metadata"):
        shown.add_column(column, overflow="fold")
    for v in report.versions:
        shown.add_row(
            str(v.version),
            v.timestamp.strftime("%Y-%m-%d %H:%M:%S"),
            v.operation,
            "-" if v.rows_added is None else f"{v.rows_added:,}",
            "-" if v.rows_removed is None else f"{v.rows_removed:,}",
            escape(", ".join(f"{k}={val}" for k, val in sorted(v.metadata.items()))),
        )
    console.print(shown)


@lake_app.command("restore")
def restore(
    table: Annotated[str, typer.Argument(help="A lake table, e.g. engagement_daily.")],
    version: Annotated[
        int, typer.Option("--version", min=0, help="The version whose content comes back.")
    ],
) -> None:
    """Make a lake table's content that of an older version, as a new version (nothing
    is lost: restoring the version before undoes it)."""
    done = run_step("lake.restore", table=table, version=version)
    console.print(
        f"{done.table}: version {done.restored}'s content is now version {done.version} "
        f"(was {done.previous}; {done.files_removed} file(s) taken out, "
        f"{done.files_restored} put back)"
    )
    if done.redo:
        console.print(done.redo, soft_wrap=True)
    err.print(
        f"undo with `podsight lake restore {done.table} --version {done.previous}`",
        soft_wrap=True,
    )


@db_app.command("backup")
def backup(
    path: Annotated[Path, typer.Argument(help="The backup file to write (a new file).")],
) -> None:
    """Write a consistent copy of the database while it runs (SQLite: the online backup
    API; PostgreSQL: pg_dump -Fc)."""
    done = run_step("db.backup", path=path)
    console.print(
        f"backed up {done.engine} database {done.database} to {done.path} "
        f"({done.bytes:,} bytes in {done.seconds:.2f} s)"
    )


@db_app.command("restore")
def restore_db(
    path: Annotated[Path, typer.Argument(help="A file written by `podsight db backup`.")],
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="Restore a backup whose migrations differ from this podsight's (an older "
            "or newer schema).",
        ),
    ] = False,
) -> None:
    """Replace the database's content with a backup (stop `podsight serve` and
    `podsight events consume` first). The current database is backed up next to the
    file first."""
    done = run_step("db.restore", path=path, force=force)
    console.print(
        f"restored {done.engine} database {done.database} from {done.path} ({done.seconds:.2f} s)"
    )
    if done.safety:
        err.print(
            f"the database as it was is in {done.safety}; undo with "
            f"`podsight db restore {done.safety}`",
            soft_wrap=True,
        )
