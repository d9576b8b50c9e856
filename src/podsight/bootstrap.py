"""Start Django outside manage.py and make sure the database schema is current.

A fresh ``PODSIGHT_HOME`` (or an empty PostgreSQL database) needs no extra step:
pending migrations are applied on first use.
"""

from __future__ import annotations

import os

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
        call_command("migrate", interactive=False, verbosity=1 if verbose else 0)
    return [f"{m.app_label}.{m.name}" for m, _ in plan]
