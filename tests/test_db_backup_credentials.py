"""``db backup`` / ``db restore`` on PostgreSQL keep the password off pg_dump's and
pg_restore's command lines (any local user reads those through ``ps``): it goes in
``PGPASSWORD``. Fake client tools on PATH record what they were given."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from podsight import backup

URL = "postgres://ann:s3cr%40t@db.example:6543/podsight?sslmode=require"

_FAKE = """#!/usr/bin/env python3
import json, os, sys
with open(os.environ["FAKE_LOG"], "a") as log:
    log.write(json.dumps({"argv": sys.argv, "password": os.environ.get("PGPASSWORD")}) + "\\n")
for arg in sys.argv:
    if arg.startswith("--file=") and arg != "--file=-":
        open(arg[len("--file="):], "wb").write(b"PGDMP fake")
if "--data-only" in sys.argv:  # the backup's migrations: this code's, as COPY text
    print("COPY public.django_migrations (id, app, name, applied) FROM stdin;")
    for n, (app, name) in enumerate(json.loads(os.environ["FAKE_MIGRATIONS"])):
        print(f"{n}\\t{app}\\t{name}\\t2026-01-01 00:00:00+00")
    print("\\\\.")
"""


@pytest.fixture
def tools(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name in ("pg_dump", "pg_restore"):
        tool = bin_dir / name
        tool.write_text(_FAKE)
        tool.chmod(tool.stat().st_mode | stat.S_IEXEC)
    log = tmp_path / "calls.jsonl"
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_LOG", str(log))
    monkeypatch.setattr(backup, "_database", lambda: ("postgresql", URL))
    return log


def _calls(log: Path) -> list[dict]:
    return [json.loads(line) for line in log.read_text().splitlines()]


def test_pg_dump_gets_the_password_from_the_environment_not_argv(tools, tmp_path):
    done = backup.backup_database(tmp_path / "podsight.dump")
    assert done.database == "db.example:6543/podsight"
    (call,) = _calls(tools)
    assert call["password"] == "s3cr@t"
    argv = " ".join(call["argv"])
    assert "s3cr" not in argv
    assert "--dbname=postgres://ann@db.example:6543/podsight?sslmode=require" in call["argv"]


@pytest.mark.django_db
def test_pg_restore_gets_the_password_from_the_environment_not_argv(
    tools, tmp_path, monkeypatch
):
    from django.db.migrations.loader import MigrationLoader

    ours = MigrationLoader(None, ignore_no_migrations=True).disk_migrations
    monkeypatch.setenv("FAKE_MIGRATIONS", json.dumps(sorted(ours)))
    dump = tmp_path / "backups" / "podsight.dump"
    dump.parent.mkdir()
    dump.write_bytes(b"PGDMP fake")
    done = backup.restore_database(dump)
    calls = _calls(tools)
    # The migrations read, the current database saved next to the file, then the restore.
    assert [Path(c["argv"][0]).name for c in calls] == ["pg_restore", "pg_dump", "pg_restore"]
    assert calls[0]["password"] is None  # reading the file connects nowhere
    assert all(c["password"] == "s3cr@t" for c in calls[1:])
    assert not any("s3cr" in " ".join(c["argv"]) for c in calls)
    assert Path(done.safety).parent == dump.parent and Path(done.safety).exists()
