from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import time_machine

from clock_travel import SETTING as CLOCK_SETTING
from clock_travel import start_instant
from httpserver import ReplayApis, RouteServer

ROOT = Path(__file__).resolve().parent.parent

# Runtime users of PODSIGHT_HOME (lake, demo) write into a throw-away folder, not ./var.
# (The test database itself is pytest-django's: in-memory SQLite or test_<name> on PostgreSQL.)
os.environ.setdefault("PODSIGHT_HOME", tempfile.mkdtemp(prefix="podsight-test-home-"))


# -- the clock: PODSIGHT_TEST_CLOCK (see clock_travel.py) ---------------------------------

CLOCK_START = pytest.StashKey[datetime | None]()


def pytest_configure(config: pytest.Config) -> None:
    raw = os.environ.get(CLOCK_SETTING, "").strip()
    try:
        start = start_instant(raw, datetime.now(UTC)) if raw else None
    except ValueError as exc:
        raise pytest.UsageError(str(exc)) from None
    config.stash[CLOCK_START] = start
    if start is not None:
        # From here on, not only in tests: what a module computes on import (a NOW
        # constant) and module- or session-wide fixtures see the set clock too. So one
        # instant per run: modules are imported once.
        traveller = time_machine.travel(start, tick=True)
        traveller.start()
        config.add_cleanup(traveller.stop)


def pytest_terminal_summary(terminalreporter, config: pytest.Config) -> None:
    # Said at the end, where -q still shows it.
    missing = config.stash.get(CORPUS_MISSING, None)
    if missing is not None:
        path, count = missing
        terminalreporter.write_line(f"{count} tests skipped: {_corpus_missing(path)}")
    start = config.stash.get(CLOCK_START, None)
    if start is not None:
        terminalreporter.write_line(
            f"clock: each test started at {start.isoformat()} "
            f"({CLOCK_SETTING}={os.environ[CLOCK_SETTING].strip()!r}), then ran on"
        )


@pytest.fixture(autouse=True)
def set_clock(request: pytest.FixtureRequest) -> Iterator[datetime | None]:
    """Each test starts at the set instant (the value; None: the real clock). Per test, not
    once per run, so that every test begins just before the boundary it was chosen for."""
    start = request.config.stash.get(CLOCK_START, None)
    if start is None:
        yield None
        return
    with time_machine.travel(start, tick=True):
        yield start


# Django hashes a password with 1,000,000 PBKDF2 iterations, 0.23 s of CPU: most of what a
# test that makes a user or signs in costs (the API contract tests spent 85% of their CPU
# so, and the suite makes hundreds). Tests in this process use the same hasher and code
# paths with fewer iterations; what they check about passwords holds at any count. The
# commands and servers they start as subprocesses keep Django's count.
TEST_PBKDF2_ITERATIONS = 1_000


@pytest.fixture(scope="session", autouse=True)
def cheap_password_hashes() -> Iterator[None]:
    from django.contrib.auth.hashers import PBKDF2PasswordHasher

    real = PBKDF2PasswordHasher.iterations
    PBKDF2PasswordHasher.iterations = TEST_PBKDF2_ITERATIONS
    yield
    PBKDF2PasswordHasher.iterations = real


@pytest.fixture
def fresh_caches() -> Iterator[None]:
    """Every process-wide cache empty before and after the test, as in a new process
    (one place, so a new cache gets reset by adding it to ``podsight.caches``)."""
    from podsight.caches import reset_all

    reset_all()
    yield
    reset_all()


# -- the shared corpus -----------------------------------------------------------------------

CORPUS_SETTING = "PODSIGHT_TEST_DATA"
CORPUS_MISSING = pytest.StashKey[tuple[Path, int] | None]()


def _test_data_dir() -> Path:
    return Path(os.environ.get(CORPUS_SETTING) or ROOT.parent / "shared" / "data").resolve()


def _corpus_missing(path: Path) -> str:
    return (
        f"the shared test corpus is not at {path}: set {CORPUS_SETTING} to its folder "
        "(shared/data, described by its MANIFEST.md)"
    )


# `make test-clock` collects only the files that contain this text (collecting the whole
# suite to select the few `clock` tests cost more than running them, at each instant).
CLOCK_MARK_TEXT = "mark.clock"


def _clock_marks_outside_marked_files(items: list[pytest.Item]) -> list[str]:
    """Clock-marked tests whose file does not say ``mark.clock`` (marked by a hook or an
    alias): `make test-clock` would never run them."""
    texts: dict[Path, bool] = {}
    missed = []
    for item in items:
        if item.get_closest_marker("clock") is None:
            continue
        path = Path(item.path)
        if path not in texts:
            texts[path] = CLOCK_MARK_TEXT in path.read_text(encoding="utf-8")
        if not texts[path]:
            missed.append(item.nodeid)
    return missed


@pytest.hookimpl(trylast=True)  # after -m and -k have deselected
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests that need the corpus (the ``test_data`` fixture, directly or through another
    fixture) skip with one reason when it is missing; under ``CI=true`` the run stops.
    A ``clock`` test that `make test-clock` would not find stops the run."""
    missed = _clock_marks_outside_marked_files(items)
    if missed:
        raise pytest.UsageError(
            f"{len(missed)} tests are marked clock in a file without the text "
            f"{CLOCK_MARK_TEXT!r}, so make test-clock (which collects only files that "
            f"contain it) would skip them: mark them with @pytest.mark.clock or pytestmark "
            f"in their file. First: {missed[0]}"
        )
    config.stash[CORPUS_MISSING] = None
    path = _test_data_dir()
    needing = [i for i in items if "test_data" in getattr(i, "fixturenames", ())]
    if not needing or path.is_dir():
        return
    if os.environ.get("CI") == "true":
        pytest.exit(
            f"CI=true and {len(needing)} selected tests need the corpus: {_corpus_missing(path)}", 1
        )
    skip = pytest.mark.skip(reason=_corpus_missing(path))
    for item in needing:
        item.add_marker(skip)
    config.stash[CORPUS_MISSING] = (path, len(needing))


@pytest.fixture(scope="session")
def test_data() -> Path:
    """Root of the real third-party corpus (``PODSIGHT_TEST_DATA``, default ``../shared/data``)."""
    path = _test_data_dir()
    if not path.is_dir():  # only if asked for outside collection (getfixturevalue)
        if os.environ.get("CI") == "true":
            pytest.fail(_corpus_missing(path))
        pytest.skip(_corpus_missing(path))
    return path


@pytest.fixture(scope="session")
def rss_corpus(test_data: Path) -> Path:
    return test_data / "rss_feeds"


# -- local HTTP servers (tests/httpserver.py) ------------------------------------------------


@pytest.fixture
def local_server() -> Iterator[RouteServer]:
    """A :class:`RouteServer`: set ``routes[path]`` to answer, read ``seen`` afterwards."""
    with RouteServer() as server:
        yield server


# Settings that change how connectors call their APIs: a test sets what it needs.
API_SETTINGS = (
    "PODSIGHT_CACHE_URL",
    "PODSIGHT_CACHE_TTL",
    "PODSIGHT_API_MAX_ATTEMPTS",
    "PODSIGHT_API_CONNECT_TIMEOUT",
    "PODSIGHT_API_READ_TIMEOUT",
    "PODSIGHT_API_MAX_RETRY_WAIT",
    "PODSIGHT_SPOTIFY_MARKET",
    "PODSIGHT_ITUNES_COUNTRY",
    "PODSIGHT_YOUTUBE_QUOTA_BUDGET",
    "SPOTIFY_CLIENT_ID",
    "SPOTIFY_CLIENT_SECRET",
    "YOUTUBE_API_KEY",
    "PODCASTINDEX_API_KEY",
    "PODCASTINDEX_API_SECRET",
    *(f"PODSIGHT_{s}_RATE_LIMIT" for s in ("APPLE", "SPOTIFY", "YOUTUBE", "PODCASTINDEX")),
)


@pytest.fixture
def api_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, fresh_caches: None) -> Path:
    """A connector test's own ``PODSIGHT_HOME`` (HTTP cache, quota ledger, lake), fresh
    process-wide caches, and no API settings or credentials from outside."""
    monkeypatch.setenv("PODSIGHT_HOME", str(tmp_path))
    for name in API_SETTINGS:
        monkeypatch.delenv(name, raising=False)
    return tmp_path


@pytest.fixture
def replay_apis(api_home: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ReplayApis]:
    """Start API replay servers with ``replay_apis.serve({mount: backend}, env=...)``; the
    connector settings point at the newest; all stop after the test."""
    apis = ReplayApis(monkeypatch)
    try:
        yield apis
    finally:
        apis.close()
