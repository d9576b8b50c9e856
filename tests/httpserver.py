"""The one local HTTP server tests use: a real socket on 127.0.0.1, served from a thread.

- :class:`LocalServer` runs any ``BaseHTTPRequestHandler`` class (the feed fetcher's
  tests write raw chunked or compressed answers this way);
- :class:`RouteServer` answers per path with functions returning a :class:`Reply`, and
  records what it saw (the ``local_server`` fixture);
- :func:`static_server` serves a folder's files;
- :class:`ReplayApis` runs the demo's API replay server
  (:class:`podsight.demo.apiserver.ApiServer`, product code with its own socket
  handling) for connector tests and points the connector settings at it.

(Imported as ``httpserver``: pytest puts this folder on the path.)
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from http.server import BaseHTTPRequestHandler, SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

__all__ = ["LocalServer", "ReplayApis", "Reply", "RouteServer", "static_server"]


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients that give up on purpose (timeouts, size caps) hang up mid-answer: that
        # is the test working. Anything else is still reported.
        if isinstance(sys.exc_info()[1], OSError):
            return
        super().handle_error(request, client_address)


class LocalServer:
    """``handler`` served on 127.0.0.1 (a free port) until :meth:`stop` or the ``with`` ends."""

    def __init__(self, handler: Callable[..., BaseHTTPRequestHandler], *, host: str = "127.0.0.1"):
        self.httpd = _QuietServer((host, 0), handler)
        self.port: int = self.httpd.server_address[1]
        self.base_url = f"http://{host}:{self.port}"
        # A short poll keeps stop() quick: tests start many servers.
        self._thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> LocalServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


Route = Callable[[BaseHTTPRequestHandler], Reply]


class RouteServer(LocalServer):
    """``routes`` maps a path (query left off) to a function of the request; other paths
    answer 404. ``seen`` holds (path, lower-cased headers) of every request."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.seen: list[tuple[str, dict[str, str]]] = []
        super().__init__(self._handler())

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                path = self.path.split("?", 1)[0]
                server.seen.append((path, {k.lower(): v for k, v in self.headers.items()}))
                route = server.routes.get(path)
                reply = route(self) if route else Reply(404, b"not found")
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                self.wfile.write(reply.body)

            do_POST = do_GET  # noqa: N815 - routes read the body from the handler

            def log_message(self, *args: object) -> None:
                pass

        return Handler


class _QuietFiles(SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


def static_server(directory: Path) -> LocalServer:
    """The files under ``directory``, as a plain web server would serve them."""
    return LocalServer(partial(_QuietFiles, directory=str(directory)))


class ReplayApis:
    """Starts API replay servers and points podsight's API settings (``PODSIGHT_*_API_URL``)
    and the given credentials at the newest one; :meth:`close` stops them all (the
    ``replay_apis`` fixture does at teardown)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self._monkeypatch = monkeypatch
        self._servers: list[Any] = []

    def serve(
        self,
        backends: Mapping[str, Any],
        *,
        cache_mode: str = "etag",
        env: Mapping[str, str] | None = None,
    ) -> Any:
        """A started ``ApiServer`` with ``backends`` (mount → backend); ``env`` is set too."""
        from podsight.demo.apiserver import ApiServer

        server = ApiServer(dict(backends), cache_mode=cache_mode).start()
        self._servers.append(server)
        for name, value in {**server.env(), **(env or {})}.items():
            self._monkeypatch.setenv(name, value)
        return server

    def close(self) -> None:
        while self._servers:
            self._servers.pop().stop()
