"""Start Django outside manage.py and make sure the database schema is current.

A fresh ``PODSIGHT_HOME`` (or an empty PostgreSQL database) needs no extra step:
pending migrations are applied on first use.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

__all__ = ["DatabaseUnavailable", "ensure_database", "setup_django"]


class DatabaseUnavailable(RuntimeError):
    """The configured database cannot be reached; the message says what to check."""


def setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "podsight.settings")
    import django
    from django.apps import apps

    if not apps.ready:
        django.setup()


def ensure_database(verbose: bool = False) -> list[str]:
    """Apply pending migrations; returns the names applied (empty when already current)."""
    setup_django()
    from django.core.management import call_command
    from django.db import DEFAULT_DB_ALIAS, connections
    from django.db.migrations.executor import MigrationExecutor
    from django.db.utils import OperationalError

    connection = connections[DEFAULT_DB_ALIAS]
    try:
        executor = MigrationExecutor(connection)
        plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except OperationalError as exc:
        where = connection.settings_dict.get("HOST") or connection.settings_dict.get("NAME")
        raise DatabaseUnavailable(
            f"cannot open the database at {where}: {exc}. Check DATABASE_URL (unset it to use "
            "SQLite under PODSIGHT_HOME) and that the server is running."
        ) from exc
    if plan:
        # Several first commands on one fresh home (parallel ingests) must not all run
        # the same migrations: one migrates, the others wait and find nothing left to do.
        with _migration_lock(connection):
            executor.loader.build_graph()
            plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
            if plan:
                call_command("migrate", interactive=False, verbosity=1 if verbose else 0)
    return [f"{m.app_label}.{m.name}" for m, _ in plan]


# Any fixed 64-bit number, the same in every podsight process.
_PG_MIGRATION_LOCK = 0x706F64736967  # "podsig"


@contextlib.contextmanager
def _migration_lock(connection) -> Iterator[None]:
    """Serialise migrations between processes: an advisory lock on PostgreSQL, a lock
    file beside the SQLite database."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s)", [_PG_MIGRATION_LOCK])
        try:
            yield
        finally:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [_PG_MIGRATION_LOCK])
        return
    name = str(connection.settings_dict.get("NAME") or "")
    if connection.vendor != "sqlite" or not name or name == ":memory:" or "mode=memory" in name:
        yield
        return
    import fcntl

    with open(Path(name).with_name(Path(name).name + ".migrate-lock"), "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
