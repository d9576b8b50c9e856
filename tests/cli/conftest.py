"""Running the real ``podsight`` binary the way a user does: a subprocess, on a fresh
``PODSIGHT_HOME``, with nothing of the test process's Django set-up in its environment."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from support import wait_until_serving

BIN = Path(sys.executable).parent
PODSIGHT = str(BIN / "podsight")

# Settings a user's shell would not have: the test process's own, and the credentials or
# API addresses of other tests. PODSIGHT_TEST_DATA and PATH etc. are kept.
_DROP_PREFIXES = ("PODSIGHT_", "SPOTIFY_", "YOUTUBE_", "PODCASTINDEX_", "DJANGO_")
_KEEP = {"PODSIGHT_TEST_DATA"}


# The PostgreSQL pass of `make test` runs these tests with DATABASE_URL set: each test then
# gets a database of its own on that server (see the `database` fixture), as a user
# pointing podsight at an empty PostgreSQL database would; else the home's SQLite file.
_SERVER_URL = os.environ.get("DATABASE_URL") or ""
_database_url: str | None = None


def user_env(home: Path, **extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k in _KEEP or not (k.startswith(_DROP_PREFIXES) or k == "DATABASE_URL")
    }
    if _database_url:
        env["DATABASE_URL"] = _database_url
    env["PODSIGHT_HOME"] = str(home)
    env["COLUMNS"] = "200"  # tables unfolded, so assertions can read a row
    env.update(extra)
    return env


@dataclass
class Ran:
    args: list[str]
    code: int
    out: str
    err: str
    seconds: float

    @property
    def text(self) -> str:
        return self.out + self.err

    def __str__(self) -> str:
        return f"$ podsight {' '.join(self.args)}  → exit {self.code}\n{self.out}\n{self.err}"


def run(args: list[str], env: dict[str, str], *, cwd: Path | None = None, timeout: float = 180,
        stdin: str | None = None) -> Ran:  # fmt: skip
    started = time.monotonic()
    done = subprocess.run(
        [PODSIGHT, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout,
        input=stdin,
    )  # fmt: skip
    return Ran(args, done.returncode, done.stdout, done.stderr, time.monotonic() - started)


def assert_clean(ran: Ran) -> None:
    """What a user must never see: a traceback, or the entry's report of a bug."""
    assert "Traceback" not in ran.text, str(ran)
    assert "failed unexpectedly" not in ran.text, str(ran)
    assert "ImproperlyConfigured" not in ran.text, str(ran)


def assert_error_line(ran: Ran, code: int, *fragments: str) -> None:
    """An expected failure: exit ``code`` and exactly one ``error: …`` line on stderr."""
    assert_clean(ran)
    assert ran.code == code, str(ran)
    lines = [line for line in ran.err.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, str(ran)
    for fragment in fragments:
        assert fragment in lines[0], str(ran)


@dataclass
class Service:
    process: subprocess.Popen
    base_url: str
    args: list[str]

    def stop(self) -> Ran:
        """Ctrl-C as a terminal sends it (to the whole process group: a server's workers
        too); what it printed. Whatever still runs after 30 s is killed, and the test
        fails on its exit code rather than hanging."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGINT)
        try:
            out, err = self.process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            out, err = self.process.communicate(timeout=30)
        else:
            try:  # a worker left behind would hold the port (and our pipes)
                os.killpg(self.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            else:
                err += "\n[a process of the group outlived its leader and was killed]"
        return Ran(self.args, self.process.returncode, out, err, 0.0)


def start(args: list[str], env: dict[str, str], *, ready: str, timeout: float = 60,
          cwd: Path | None = None, ok: range = range(200, 300)) -> Service:  # fmt: skip
    """Start a long-running command; ``ready`` is a URL that answers with a status in
    ``ok`` once it serves."""
    process = subprocess.Popen(
        [PODSIGHT, *args], env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, start_new_session=True,
    )  # fmt: skip
    service = Service(process, ready.rsplit("/", 1)[0], args)
    try:
        wait_until_serving(ready, process, timeout=timeout, ok=ok)
    except AssertionError as exc:
        raise AssertionError(f"{' '.join(args)}: {exc}\n{service.stop()}") from None
    return service


def _pg(sql: str) -> None:
    import psycopg

    # CREATE/DROP DATABASE from the server's maintenance database, which always exists.
    with psycopg.connect(_pg_url("postgres"), autocommit=True) as db:
        db.execute(sql)


def _pg_database(template: str | None = None) -> str:
    import uuid

    name = f"podsight_cli_{uuid.uuid4().hex[:12]}"
    _pg(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
    return name


def _pg_url(name: str) -> str:
    from urllib.parse import urlsplit, urlunsplit

    return urlunsplit(urlsplit(_SERVER_URL)._replace(path=f"/{name}"))


def _drop(name: str) -> None:
    _pg(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(autouse=True)
def database() -> Iterator[str | None]:
    """On the PostgreSQL pass, a new empty database for this test's commands."""
    global _database_url
    if not _SERVER_URL.startswith("postgres"):
        yield None
        return
    name = _pg_database()
    _database_url = _pg_url(name)
    try:
        yield _database_url
    finally:
        _database_url = None
        _drop(name)


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


@pytest.fixture(scope="session")
def demo_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str | None]]:
    """A home with a small demo world loaded (feeds, the four APIs, matching), made once
    through the real command; tests copy it rather than change it. On PostgreSQL, also
    the database it was loaded into (copied as a template). Without the episodes' content
    (``--no-content``): no test of a seeded home reads transcripts or passages, and their
    analysis was most of the load's time (the `demo load` case runs it in full)."""
    global _database_url
    home = tmp_path_factory.mktemp("demo") / "home"
    name = _pg_database() if _SERVER_URL.startswith("postgres") else None
    saved, _database_url = _database_url, _pg_url(name) if name else None
    try:
        ran = run(["demo", "load", "--shows", "3", "--listeners", "0", "--no-content",
                   "--no-progress"], user_env(home), timeout=300)  # fmt: skip
    finally:
        _database_url = saved
    assert ran.code == 0, str(ran)
    yield home, name
    if name:
        _drop(name)


@pytest.fixture
def seeded_home(demo_home: tuple[Path, str | None], tmp_path: Path,
                database: str | None) -> Iterator[Path]:  # fmt: skip
    """A copy of the demo home (and of its PostgreSQL database) for one test to change."""
    global _database_url
    import shutil

    source, template = demo_home
    target = tmp_path / "seeded"
    shutil.copytree(source, target)
    if template is None:
        yield target
        return
    copy = _pg_database(template=template)
    saved, _database_url = _database_url, _pg_url(copy)
    try:
        yield target
    finally:
        _database_url = saved
        _drop(copy)
