"""Start Django outside manage.py and make sure the database schema is current.

A fresh ``PODSIGHT_HOME`` (or an empty PostgreSQL database) needs no extra step:
pending migrations are applied on first use. The CLI's entry calls :func:`start` once,
before anything reaches the ORM (``podsight serve`` loads the WSGI application after it).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from podsight import conf
from podsight.errors import ConfigurationError

# Any fixed 64-bit key: the advisory lock that serialises migrations on PostgreSQL.
_PG_MIGRATION_LOCK = 0x706F647369676874  # "podsight"

__all__ = ["DatabaseUnavailable", "check_home", "ensure_database", "setup_django", "start"]


class DatabaseUnavailable(ConfigurationError, RuntimeError):
    """The configured database cannot be reached; the message says what to check."""


def check_home() -> Path:
    """``PODSIGHT_HOME``, created if missing; :class:`ConfigurationError` when it cannot
    be created or written (checked by writing, which also holds for root)."""
    raw = os.environ.get("PODSIGHT_HOME") or "var"
    fix = "set PODSIGHT_HOME to a folder you can write (default ./var)"
    try:
        path = conf.podsight_home()
        with tempfile.TemporaryFile(dir=path):
            pass
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise ConfigurationError(f"PODSIGHT_HOME {raw} cannot be used ({reason}); {fix}") from exc
    return path


def setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "podsight.settings")
    import django
    from django.apps import apps

    if not apps.ready:
        django.setup()


def start(*, verbose: bool = False) -> list[str]:
    """Everything a front end needs before its first query: a usable data directory,
    logging (``verbose``: INFO lines on the console too), Django, a current schema.
    Returns the migrations applied."""
    check_home()
    if verbose and os.environ.get("PODSIGHT_LOG_LEVEL", "").strip().upper() != "DEBUG":
        os.environ["PODSIGHT_LOG_LEVEL"] = "INFO"  # child processes inherit it
    from podsight.logs import console_level

    console_level()  # a bad PODSIGHT_LOG_LEVEL is a clear error, not a dictConfig traceback
    setup_django()
    return ensure_database()


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
    if not plan:
        return []
    # Several commands started at once on a fresh home would each migrate and trip over
    # the others' tables: one migrates while the rest wait, then find nothing to do.
    with _migration_lock(connection):
        executor.loader.build_graph()
        plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
        if plan:
            call_command("migrate", interactive=False, verbosity=1 if verbose else 0)
    return [f"{m.app_label}.{m.name}" for m, _ in plan]


@contextmanager
def _migration_lock(connection) -> Iterator[None]:
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
        yield  # an in-memory database (tests) has one user
        return
    import portalocker

    # A lock file beside the SQLite database: every process using it sees the same one.
    with portalocker.Lock(name + ".migrate.lock", timeout=600):
        yield
