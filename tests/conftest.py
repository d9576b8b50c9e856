from __future__ import annotations

import os
import tempfile
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import time_machine

from clock_travel import SETTING as CLOCK_SETTING
from clock_travel import start_instant

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


@pytest.hookimpl(trylast=True)  # after -m and -k have deselected
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests that need the corpus (the ``test_data`` fixture, directly or through another
    fixture) skip with one reason when it is missing; under ``CI=true`` the run stops."""
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


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class LocalServer:
    """A real HTTP server on 127.0.0.1; ``routes`` maps a path to a function of the request."""

    base_url: str
    routes: dict[str, Callable[[BaseHTTPRequestHandler], Reply]] = field(default_factory=dict)
    seen: list[tuple[str, dict[str, str]]] = field(default_factory=list)

    def url(self, path: str) -> str:
        return self.base_url + path


@pytest.fixture
def local_server() -> Iterator[LocalServer]:
    server_ref: dict[str, LocalServer] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            state = server_ref["s"]
            path = self.path.split("?", 1)[0]
            state.seen.append((path, {k.lower(): v for k, v in self.headers.items()}))
            route = state.routes.get(path)
            reply = route(self) if route else Reply(404, b"not found")
            self.send_response(reply.status)
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(reply.body)))
            self.end_headers()
            self.wfile.write(reply.body)

        do_POST = do_GET  # noqa: N815 - routes read the body from the handler

        def log_message(self, *args) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server_ref["s"] = LocalServer(base_url=f"http://127.0.0.1:{httpd.server_address[1]}")
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield server_ref["s"]
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)
