"""``podsight lake history|restore`` and ``podsight db backup|restore`` as a user runs them:
subprocesses on a fresh PODSIGHT_HOME (and, on the PostgreSQL pass, a database of their
own: pg_dump and pg_restore for real)."""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pytest

from podsight import lake
from podsight.lake.tables import SOURCE_METRICS

from .conftest import assert_clean, assert_error_line, run, user_env


def _metrics(n: int, value: float) -> pa.Table:
    return pa.table(
        {
            "source": ["rss"] * n,
            "kind": ["channel"] * n,
            "external_id": [f"show-{i}" for i in range(n)],
            "metric": ["episodes"] * n,
            "value": [value] * n,
            "observed_at": [datetime(2025, 6, 1, tzinfo=UTC)] * n,
        },
        schema=SOURCE_METRICS.schema,
    )


def _rows(home: Path, monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, float]]:
    monkeypatch.setenv("PODSIGHT_HOME", str(home))
    table = lake.query("SELECT external_id, value FROM m ORDER BY ALL", m="source_metrics")
    return [(r["external_id"], r["value"]) for r in table.to_pylist()]


def test_history_lists_versions_and_restore_goes_back_as_a_new_version(home, monkeypatch):
    monkeypatch.setenv("PODSIGHT_HOME", str(home))
    lake.append(SOURCE_METRICS, _metrics(2, 1.0))  # version 0
    lake.append(SOURCE_METRICS, _metrics(3, 2.0))  # 1
    lake.append(SOURCE_METRICS, _metrics(1, -1.0))  # 2: the bad write
    env = user_env(home)

    shown = run(["lake", "history", "source_metrics"], env)
    assert_clean(shown)
    assert shown.code == 0, str(shown)
    assert "current version 2" in shown.out
    versions = [line.split()[1] for line in shown.out.splitlines() if line.startswith("│")]
    assert versions == ["2", "1", "0"], str(shown)

    restored = run(["lake", "restore", "source_metrics", "--version", "1"], env)
    assert restored.code == 0, str(restored)
    assert "version 1's content is now version 3 (was 2" in restored.out
    assert "podsight lake restore source_metrics --version 2" in restored.err  # the undo
    assert _rows(home, monkeypatch) == sorted(
        [(f"show-{i}", 1.0) for i in range(2)] + [(f"show-{i}", 2.0) for i in range(3)]
    )

    latest = run(["lake", "history", "source_metrics", "--limit", "1"], env)
    rows = [line for line in latest.out.splitlines() if line.startswith("│")]
    assert len(rows) == 1 and "RESTORE" in rows[0] and "podsight.restored_from=1" in rows[0]

    # Nothing was lost: the version restored away comes back the same way.
    undone = run(["lake", "restore", "source_metrics", "--version", "2"], env)
    assert undone.code == 0, str(undone)
    assert ("show-0", -1.0) in _rows(home, monkeypatch)
    assert len(_rows(home, monkeypatch)) == 6


def test_unknown_tables_and_versions_are_named_with_what_exists(home, monkeypatch):
    monkeypatch.setenv("PODSIGHT_HOME", str(home))
    lake.append(SOURCE_METRICS, _metrics(1, 1.0))
    lake.append(SOURCE_METRICS, _metrics(1, 2.0))
    env = user_env(home)
    assert_error_line(
        run(["lake", "history", "source_metric"], env), 2,
        "no lake table named 'source_metric'", "source_metrics", "no data yet: ", "events",
    )  # fmt: skip
    assert_error_line(
        run(["lake", "restore", "events", "--version", "0"], env), 2,
        "lake table events holds no data yet", "tables with data: source_metrics",
    )  # fmt: skip
    assert_error_line(
        run(["lake", "restore", "source_metrics", "--version", "7"], env), 2,
        "has versions 0 to 1, not 7", "podsight lake history source_metrics",
    )  # fmt: skip
    assert_error_line(
        run(["lake", "restore", "source_metrics", "--version", "1"], env), 2,
        "at version 1 already",
    )  # fmt: skip


def _token_names(env: dict[str, str]) -> str:
    listed = run(["tokens", "list"], env)
    assert listed.code == 0, str(listed)
    return listed.out


def test_db_backup_and_restore_as_documented(home, tmp_path, database):
    """docs/operations.md's commands: back up, change, restore; the change is gone. On
    the PostgreSQL pass (``database`` set) they run pg_dump and pg_restore."""
    env = user_env(home)
    made = run(["tokens", "create", "kept-token"], env)
    assert made.code == 0, str(made)
    path = tmp_path / "backups" / "podsight.backup"
    path.parent.mkdir()

    done = run(["db", "backup", str(path)], env)
    assert_clean(done)
    assert done.code == 0, str(done)
    engine = "postgresql" if database else "sqlite"
    assert f"backed up {engine} database" in done.out and path.stat().st_size > 0
    if database:
        assert "@" not in done.out and "postgres://" not in done.out  # no credentials shown

    again = run(["db", "backup", str(path)], env)
    assert_error_line(again, 2, "exists already")

    assert run(["tokens", "create", "later-token"], env).code == 0
    assert "later-token" in _token_names(env)
    back = run(["db", "restore", str(path)], env)
    assert back.code == 0, str(back)
    assert f"restored {engine} database" in back.out
    names = _token_names(env)
    assert "kept-token" in names and "later-token" not in names
    # The database as it was is saved next to the backup first, and restoring it undoes.
    (safety,) = [p for p in path.parent.iterdir() if p.name.startswith("podsight-before-restore-")]
    assert f"the database as it was is in {safety}" in " ".join(back.err.split())
    undo = run(["db", "restore", str(safety)], env)
    assert undo.code == 0, str(undo)
    assert "later-token" in _token_names(env)
    assert run(["db", "restore", str(path)], env).code == 0

    junk = tmp_path / "junk.backup"
    junk.write_bytes(b"not a backup at all" * 100)
    assert_error_line(run(["db", "restore", str(junk)], env), 2 if not database else 1)
    assert "kept-token" in _token_names(env)  # a refused restore changed nothing


@pytest.mark.skipif(
    not (os.environ.get("DATABASE_URL") or "").startswith("postgres"),
    reason="the PostgreSQL pass (DATABASE_URL=postgres://…) runs it",
)
def test_pg_dump_restores_into_a_scratch_database(home, tmp_path, database):
    """A backup restored into another, empty database (a new server, a scratch copy)."""
    from urllib.parse import urlsplit, urlunsplit

    import psycopg

    env = user_env(home)
    assert run(["tokens", "create", "moved-token"], env).code == 0
    path = tmp_path / "podsight.dump"
    assert run(["db", "backup", str(path)], env).code == 0
    scratch = f"podsight_scratch_{uuid.uuid4().hex[:10]}"
    server = urlsplit(database)
    admin = urlunsplit(server._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as db:
        db.execute(f'CREATE DATABASE "{scratch}"')
    try:
        other = {**env, "DATABASE_URL": urlunsplit(server._replace(path=f"/{scratch}"))}
        restored = run(["db", "restore", str(path)], other)
        assert restored.code == 0, str(restored)
        assert "moved-token" in _token_names(other)
        # pg_restore's own listing agrees it is a custom-format dump.
        listing = subprocess.run(
            [shutil.which("pg_restore") or "pg_restore", "--list", str(path)],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        assert "TABLE DATA" in listing.stdout
    finally:
        with psycopg.connect(admin, autocommit=True) as db:
            db.execute(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)')


def test_db_restore_refuses_a_backup_of_another_schema_unless_forced(home, tmp_path):
    """A backup whose migrations are not this code's (older or newer) is refused with
    what to do; --force restores it. (SQLite: the backup file is edited to be one.)"""
    import sqlite3

    if (os.environ.get("DATABASE_URL") or "").startswith("postgres"):
        pytest.skip("the SQLite pass edits a backup's migrations; PostgreSQL reads them the "
                    "same way in test_db_backup_and_restore_as_documented")  # fmt: skip
    env = user_env(home)
    assert run(["tokens", "create", "kept-token"], env).code == 0
    path = tmp_path / "podsight.sqlite3"
    assert run(["db", "backup", str(path)], env).code == 0
    older, newer = tmp_path / "older.sqlite3", tmp_path / "newer.sqlite3"
    for copy, sql in (
        (older, "DELETE FROM django_migrations WHERE id = (SELECT max(id) FROM django_migrations)"),
        (newer, "INSERT INTO django_migrations (app, name, applied) "
                "VALUES ('catalog', '9999_from_the_future', '2030-01-01')"),
    ):  # fmt: skip
        copy.write_bytes(path.read_bytes())
        with sqlite3.connect(copy) as con:
            con.execute(sql)
        con.close()
    assert run(["tokens", "create", "later-token"], env).code == 0

    refused = run(["db", "restore", str(older)], env)
    assert_error_line(refused, 2, "written by an older podsight")
    assert "--force" in refused.err
    refused = run(["db", "restore", str(newer)], env)
    assert_error_line(refused, 2, "catalog.9999_from_the_future")
    assert "later-token" in _token_names(env)  # nothing was restored
    assert not list(tmp_path.glob("podsight-before-restore-*"))  # nor saved

    forced = run(["db", "restore", "--force", str(older)], env)
    assert forced.code == 0, str(forced)

    def migrations(db: Path) -> int:
        with sqlite3.connect(db) as con:
            found = con.execute("SELECT count(*) FROM django_migrations").fetchone()[0]
        con.close()
        return found

    assert migrations(home / "podsight.sqlite3") == migrations(older) == migrations(path) - 1
