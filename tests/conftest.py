from __future__ import annotations

import os
import tempfile
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# Runtime users of PODSIGHT_HOME (lake, demo) write into a throw-away folder, not ./var.
# (The test database itself is pytest-django's: in-memory SQLite or test_<name> on PostgreSQL.)
os.environ.setdefault("PODSIGHT_HOME", tempfile.mkdtemp(prefix="podsight-test-home-"))


def _test_data_dir() -> Path:
    return Path(os.environ.get("PODSIGHT_TEST_DATA") or ROOT.parent / "shared" / "data").resolve()


@pytest.fixture(scope="session")
def test_data() -> Path:
    """Root of the real third-party corpus (``PODSIGHT_TEST_DATA``, default ``../shared/data``)."""
    path = _test_data_dir()
    if not path.is_dir():
        if os.environ.get("CI") == "true":
            pytest.fail(f"test data not found at {path}; set PODSIGHT_TEST_DATA")
        pytest.skip(f"test data not found at {path}; set PODSIGHT_TEST_DATA")
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
