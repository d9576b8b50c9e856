"""A database too busy to take a write answers 503 + Retry-After, never 500.

SQLite: a live server (the real WSGI stack under waitress, in its own process) on a fresh
home whose busy timeout is 1 s, while this test holds the write lock from another
connection. PostgreSQL (in its pass): a table lock held by another connection and a
``lock_timeout`` on the server's connection. No mocks: the lock is real in both.
"""

from __future__ import annotations

import base64
import json
import os
import sqlite3
import subprocess
import sys
import textwrap
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

PODSIGHT = str(Path(sys.executable).with_name("podsight"))
PASSWORD = "correct horse battery staple"

SERVER = textwrap.dedent(
    """
    from podsight.bootstrap import ensure_database
    ensure_database()
    from waitress import create_server
    from podsight.wsgi import application
    server = create_server(application, host="127.0.0.1", port=0, threads=4)
    print(server.effective_port, flush=True)
    server.run()
    """
)


def _request(method: str, url: str, body: object, headers: dict[str, str]):
    data = json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Content-Type", "application/json")
    for name, value in headers.items():
        request.add_header(name, value)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def _assert_busy(status: int, headers: dict[str, str], body: bytes) -> None:
    assert status == 503, body[:500]
    assert int(headers["Retry-After"]) > 0
    error = json.loads(body)["error"]
    assert (error["status"], error["code"]) == (503, "database_busy")
    assert "Retry" in error["message"]


@pytest.fixture
def sqlite_server(tmp_path: Path, rss_corpus: Path) -> Iterator[dict]:
    home = tmp_path / "home"
    db = home / "podsight.sqlite3"
    env = {
        k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DJANGO_SETTINGS_MODULE")
    }
    # A 1 s busy timeout instead of 30 s, through the documented DATABASE_URL.
    env.update(PODSIGHT_HOME=str(home), DATABASE_URL=f"sqlite:///{db}?timeout=1")
    env["PODSIGHT_USER_PASSWORD"] = PASSWORD

    def cli(*args: str) -> str:
        done = subprocess.run(
            [PODSIGHT, *args], env=env, capture_output=True, text=True, timeout=300
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    feeds = rss_corpus / "podcast-feed-parser"
    cli("ingest", "rss", "--no-progress", str(feeds / "bc-sample.xml"), str(feeds / "enigma.xml"))
    cli("users", "create", "alice")
    key = cli("tokens", "create", "reviewer", "--scope", "links:review").strip()
    server = subprocess.Popen(
        [sys.executable, "-c", SERVER],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        port = int(server.stdout.readline())
        with sqlite3.connect(db) as conn:
            records = [
                r for (r,) in conn.execute("SELECT id FROM sources_sourcechannel ORDER BY id")
            ]
        yield {"url": f"http://127.0.0.1:{port}", "db": db, "key": key, "records": records}
    finally:
        server.terminate()
        server.wait(timeout=30)


def _gpodder_upload(base: str):
    auth = base64.b64encode(f"alice:{PASSWORD}".encode()).decode()
    actions = [
        {
            "podcast": "https://feeds.example.org/a.xml",
            "episode": f"https://media.example.org/a/{time.time_ns()}.mp3",
            "action": "download",
            "timestamp": "2024-05-01T10:00:00",
        }
    ]
    return _request(
        "POST", f"{base}/api/2/episodes/alice.json", actions, {"Authorization": f"Basic {auth}"}
    )


def _force(server: dict):
    first, second = server["records"]
    body = {"entity": "channel", "record": str(first), "other": str(second), "reason": "test"}
    return _request(
        "POST",
        f"{server['url']}/api/links/force",
        body,
        {"Authorization": f"Bearer {server['key']}"},
    )


def test_writes_answer_503_with_retry_after_while_sqlite_is_locked(sqlite_server):
    holder = sqlite3.connect(sqlite_server["db"], isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")  # the write lock, as a long ingest holds it
        started = time.monotonic()
        _assert_busy(*_gpodder_upload(sqlite_server["url"]))  # plain Django view
        _assert_busy(*_force(sqlite_server))  # DRF view
        assert time.monotonic() - started < 20  # waited the 1 s timeout, not 30 s
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    # The lock gone, the same requests succeed: 503 meant "retry", and retrying works.
    status, _, body = _gpodder_upload(sqlite_server["url"])
    assert status == 200, body[:500]
    status, _, body = _force(sqlite_server)
    assert status == 200, body[:500]


@pytest.mark.django_db(transaction=True)
def test_writes_answer_503_when_a_postgresql_lock_times_out(client, django_user_model):
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("runs in the PostgreSQL pass (DATABASE_URL=postgres://…)")
    import psycopg

    from podsight.accounts.services import create_user

    create_user("alice", PASSWORD)
    settings = connection.settings_dict
    holder = psycopg.connect(
        dbname=settings["NAME"],
        user=settings["USER"],
        password=settings["PASSWORD"] or None,
        host=settings["HOST"],
        port=settings["PORT"] or 5432,
    )
    try:
        holder.execute(f"LOCK TABLE {django_user_model._meta.db_table} IN ACCESS EXCLUSIVE MODE")
        with connection.cursor() as cursor:  # the test client's requests use this connection
            cursor.execute("SET lock_timeout = '500ms'")
        auth = base64.b64encode(f"alice:{PASSWORD}".encode()).decode()
        response = client.post(
            "/api/2/episodes/alice.json",
            data=b"[]",
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Basic {auth}",
        )
        _assert_busy(response.status_code, dict(response.headers), response.content)
    finally:
        holder.rollback()
        holder.close()
        with connection.cursor() as cursor:
            cursor.execute("RESET lock_timeout")
