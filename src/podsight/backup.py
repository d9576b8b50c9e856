"""Backing up and restoring the database (``podsight db backup`` / ``db restore``).

SQLite: the online backup API (``sqlite3.Connection.backup``) copies a consistent
snapshot page by page while the API and the consumer keep writing; a restore copies a
backup file back the same way. PostgreSQL: ``pg_dump -Fc`` (the custom format, which
``pg_restore`` reads selectively) and ``pg_restore --clean --if-exists``, run with the
``DATABASE_URL`` podsight uses. docs/operations.md says when to run which, and how the
lake is backed up beside the database.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from podsight import conf
from podsight.errors import ConfigurationError, InputError, StorageError

__all__ = ["DbBackup", "backup_database", "restore_database"]


@dataclass(frozen=True)
class DbBackup:
    """A backup written (``action`` backup) or restored from (``restore``)."""

    action: str
    engine: str  # sqlite | postgresql
    database: str
    path: str
    bytes: int
    seconds: float


def _database() -> tuple[str, str]:
    """(engine, the SQLite file or the PostgreSQL URL)."""
    from django.conf import settings

    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("sqlite3"):
        return "sqlite", str(db["NAME"])
    if "postgresql" in db["ENGINE"]:
        return "postgresql", conf.database_url() or ""
    raise ConfigurationError(f"backups cover SQLite and PostgreSQL, not {db['ENGINE']}")


def _shown(engine: str, target: str) -> str:
    if engine == "sqlite":
        return target
    from urllib.parse import urlsplit

    url = urlsplit(target)
    return f"{url.hostname}:{url.port or 5432}{url.path}"  # no password in reports


def _tool(name: str) -> str:
    found = shutil.which(name)
    if not found:
        raise ConfigurationError(
            f"{name} is not on PATH: install the PostgreSQL client tools (the same major "
            "version as the server, or newer)"
        )
    return found


def _run(args: list[str]) -> None:
    done = subprocess.run(args, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        message = (done.stderr or done.stdout).strip().splitlines()
        raise StorageError(
            f"{Path(args[0]).name} failed (exit {done.returncode}): "
            f"{' '.join(message[-3:]) or 'no message'}"
        )


def _close_connections() -> None:
    from django.db import connections

    connections.close_all()


def backup_database(path: Path) -> DbBackup:
    """Write a consistent copy of the database to ``path`` (a new file)."""
    path = Path(path)
    if path.exists():
        raise InputError(f"{path} exists already; give a new file (backups never overwrite)")
    if not path.parent.is_dir():
        raise InputError(f"{path.parent} is not a folder; create it first")
    engine, target = _database()
    started = time.monotonic()
    temp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        if engine == "sqlite":
            source = sqlite3.connect(target)
            dest = sqlite3.connect(temp)
            try:
                with dest:
                    source.backup(dest)
            finally:
                dest.close()
                source.close()
        else:
            _run([_tool("pg_dump"), "--format=custom", f"--file={temp}", f"--dbname={target}"])
        os.replace(temp, path)
    except sqlite3.Error as exc:
        raise StorageError(f"cannot back up {target} to {path}: {exc}") from exc
    finally:
        temp.unlink(missing_ok=True)
    return DbBackup("backup", engine, _shown(engine, target), str(path), path.stat().st_size,
                    round(time.monotonic() - started, 3))  # fmt: skip


def _check_sqlite_backup(path: Path) -> None:
    try:
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            ok = con.execute("PRAGMA quick_check").fetchone()[0]
            tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master")}
        finally:
            con.close()
    except sqlite3.DatabaseError as exc:
        raise InputError(f"{path} is not a SQLite database ({exc})") from exc
    if ok != "ok":
        raise InputError(f"{path} is damaged (quick_check: {ok}); use another backup")
    if "django_migrations" not in tables:
        raise InputError(f"{path} is not a podsight database (it has no django_migrations)")


def restore_database(path: Path) -> DbBackup:
    """Replace the database's content with the backup at ``path``."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path} is not a file; give a backup written by `podsight db backup`")
    engine, target = _database()
    started = time.monotonic()
    _close_connections()  # this process's own connections must not hold the old pages
    if engine == "sqlite":
        _check_sqlite_backup(path)
        try:
            source = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
            dest = sqlite3.connect(target, timeout=30)
            try:
                with dest:
                    source.backup(dest)
            finally:
                dest.close()
                source.close()
        except sqlite3.Error as exc:
            raise StorageError(
                f"cannot restore {target} from {path}: {exc}; stop the processes writing it "
                "(serve, events consume) and try again"
            ) from exc
    else:
        _run([_tool("pg_restore"), "--clean", "--if-exists", "--no-owner",
              "--single-transaction", f"--dbname={target}", str(path)])  # fmt: skip
    return DbBackup("restore", engine, _shown(engine, target), str(path), path.stat().st_size,
                    round(time.monotonic() - started, 3))  # fmt: skip
