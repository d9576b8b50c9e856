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
from datetime import UTC, datetime
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
    # A restore: where the database as it was before is saved (undo: restore that file).
    safety: str = ""


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


def _pg_args(url: str) -> tuple[list[str], dict[str, str]]:
    """``--dbname`` for pg_dump/pg_restore without the password, and the environment with
    it as ``PGPASSWORD``: a command line is readable by every local user (``ps``)."""
    from urllib.parse import unquote, urlsplit, urlunsplit

    parts = urlsplit(url)
    env = dict(os.environ)
    if parts.password is not None:
        env["PGPASSWORD"] = unquote(parts.password)
        user = parts.username or ""
        host = parts.netloc.rsplit("@", 1)[1]
        parts = parts._replace(netloc=f"{user}@{host}" if user else host)
    return [f"--dbname={urlunsplit(parts)}"], env


def _run(args: list[str], env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    done = subprocess.run(args, capture_output=True, text=True, check=False, env=env)
    if done.returncode != 0:
        message = (done.stderr or done.stdout).strip().splitlines()
        raise StorageError(
            f"{Path(args[0]).name} failed (exit {done.returncode}): "
            f"{' '.join(message[-3:]) or 'no message'}"
        )
    return done


def _close_connections() -> None:
    from django.db import connections

    connections.close_all()


def _sqlite_copy(source: sqlite3.Connection, dest: sqlite3.Connection) -> None:
    """Copy one SQLite database into another with the online backup API (a consistent
    copy while others write), closing both."""
    try:
        with dest:
            source.backup(dest)
    finally:
        dest.close()
        source.close()


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
            _sqlite_copy(sqlite3.connect(target), sqlite3.connect(temp))
        else:
            dbname, env = _pg_args(target)
            _run([_tool("pg_dump"), "--format=custom", f"--file={temp}", *dbname], env)
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


def _code_migrations() -> set[tuple[str, str]]:
    """The (app, name) of every migration this code has."""
    from django.db.migrations.loader import MigrationLoader

    return set(MigrationLoader(None, ignore_no_migrations=True).disk_migrations)


def _backup_migrations(engine: str, path: Path) -> set[tuple[str, str]]:
    """The (app, name) of the migrations applied in the backup at ``path``."""
    if engine == "sqlite":
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            return {(a, n) for a, n in con.execute("SELECT app, name FROM django_migrations")}
        finally:
            con.close()
    # The table's rows as pg_restore prints them (COPY text), read from the file alone.
    done = _run([_tool("pg_restore"), "--data-only", "--table=django_migrations", "--file=-",
                 str(path)])  # fmt: skip
    found: set[tuple[str, str]] = set()
    copying = False
    for line in done.stdout.splitlines():
        if line.startswith("COPY ") and "django_migrations" in line:
            copying = True
        elif copying and line == "\\.":
            break
        elif copying:
            fields = line.split("\t")
            if len(fields) >= 3:
                found.add((fields[1], fields[2]))
    if not found:
        raise InputError(f"{path} holds no django_migrations rows: it is not a podsight backup")
    return found


def _check_schema(engine: str, path: Path) -> None:
    """Refuse a backup whose schema is not this code's (its migrations differ)."""
    backup = _backup_migrations(engine, path)
    code = _code_migrations()
    newer = sorted(backup - code)
    older = sorted(code - backup)
    if newer:
        shown = ", ".join(f"{a}.{n}" for a, n in newer[:5])
        raise InputError(
            f"{path} was written by a newer podsight: its database has migrations this code "
            f"does not know ({shown}{', …' if len(newer) > 5 else ''}); restore it with that "
            "version of podsight, or add --force to restore it anyway (this code may then "
            "fail on its tables)"
        )
    if older:
        shown = ", ".join(f"{a}.{n}" for a, n in older[:5])
        raise InputError(
            f"{path} was written by an older podsight: it lacks {len(older)} migration(s) of "
            f"this code ({shown}{', …' if len(older) > 5 else ''}); add --force to restore it "
            "anyway (the next podsight command migrates it forward)"
        )


def _safety_path(path: Path, engine: str) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    suffix = ".sqlite3" if engine == "sqlite" else ".dump"
    return path.parent / f"podsight-before-restore-{stamp}{suffix}"


def restore_database(path: Path, *, force: bool = False) -> DbBackup:
    """Replace the database's content with the backup at ``path``: after checking its
    schema is this code's (``force``: restore another anyway), and after backing up the
    current database next to it (``DbBackup.safety``), so a wrong file can be undone."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path} is not a file; give a backup written by `podsight db backup`")
    engine, target = _database()
    started = time.monotonic()
    if engine == "sqlite":
        _check_sqlite_backup(path)
    if not force:
        _check_schema(engine, path)
    safety: str = ""
    if engine != "sqlite" or Path(target).exists():
        try:
            saved = backup_database(_safety_path(path, engine))
        except (InputError, StorageError) as exc:
            raise StorageError(
                f"not restoring: the current database could not be backed up first next to "
                f"{path} ({exc}); make that folder writable, or back it up yourself"
            ) from exc
        safety = saved.path
    _close_connections()  # this process's own connections must not hold the old pages
    if engine == "sqlite":
        try:
            _sqlite_copy(
                sqlite3.connect(f"file:{path}?mode=ro", uri=True),
                sqlite3.connect(target, timeout=30),
            )
        except sqlite3.Error as exc:
            raise StorageError(
                f"cannot restore {target} from {path}: {exc}; stop the processes writing it "
                "(serve, events consume) and try again"
            ) from exc
    else:
        dbname, env = _pg_args(target)
        _run([_tool("pg_restore"), "--clean", "--if-exists", "--no-owner",
              "--single-transaction", *dbname, str(path)], env)  # fmt: skip
    return DbBackup("restore", engine, _shown(engine, target), str(path), path.stat().st_size,
                    round(time.monotonic() - started, 3), safety)  # fmt: skip
