"""A local HTTP server that answers like the source APIs (Spotify, YouTube, Podcast Index, iTunes).

The real APIs are unreachable from here, so the demo and the connector tests talk
to this server over a real socket on 127.0.0.1. Each API is a *backend* mounted
under a path prefix; backends hold data in the API's own response shapes (from
the demo world, from recorded real responses, or from the first seed's export)
and implement its paging and parameters.

The server itself adds what every real API does at the HTTP level:

- caching headers in one of several styles (``cache_mode``) and 304 answers to
  ``If-None-Match`` / ``If-Modified-Since``;
- injected faults for tests: any status with headers (429 + ``Retry-After``, 401,
  quota errors), malformed bodies, connection resets, slow answers;
- a log of every request with its status, so tests can count full responses.

``server.env()`` gives the ``PODSIGHT_*_URL`` settings that point the connectors here.
"""

from __future__ import annotations

import email.utils
import hashlib
import json
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol
from urllib.parse import parse_qs, urlsplit

__all__ = [
    "CACHE_MODES",
    "MOUNTS",
    "ApiRequest",
    "ApiServer",
    "Backend",
    "Fault",
    "RecordedRequest",
    "Reply",
]

# Where each API lives on the server, and the setting that points a connector at it.
MOUNTS = {
    "spotify": ("/spotify/v1", "PODSIGHT_SPOTIFY_API_URL"),
    "spotify-accounts": ("/spotify-accounts", "PODSIGHT_SPOTIFY_ACCOUNTS_URL"),
    "youtube": ("/youtube/v3", "PODSIGHT_YOUTUBE_API_URL"),
    "podcastindex": ("/podcastindex/api/1.0", "PODSIGHT_PODCASTINDEX_API_URL"),
    "itunes": ("/itunes", "PODSIGHT_ITUNES_API_URL"),
    # The demo podcast host's documents (transcripts, chapters): linked from feeds, no setting.
    "hosting": ("/hosting", ""),
}

# How cacheable 200 answers are labelled:
#   etag           ETag + "Cache-Control: private, no-cache" (revalidate every time: 304)
#   max-age        ETag + "Cache-Control: public, max-age=3600" (fresh hits)
#   last-modified  Last-Modified + "Cache-Control: no-cache" (If-Modified-Since: 304)
#   etag-only      ETag and nothing else (stale at once, revalidated)
#   none           no caching headers at all
CACHE_MODES = ("etag", "max-age", "last-modified", "etag-only", "none")
_LAST_MODIFIED = email.utils.format_datetime(datetime(2025, 3, 1, 6, 0, tzinfo=UTC), usegmt=True)


@dataclass
class ApiRequest:
    method: str
    path: str  # below the backend's mount point, starting with "/"
    query: dict[str, str]
    headers: dict[str, str]  # lower-case names
    body: bytes = b""

    def form(self) -> dict[str, str]:
        return {k: v[-1] for k, v in parse_qs(self.body.decode("latin-1")).items()}


@dataclass
class Reply:
    status: int = 200
    body: Any = None  # JSON-able, or bytes sent as they are
    headers: dict[str, str] = field(default_factory=dict)
    cacheable: bool = True  # GET 200 answers get caching headers unless False

    @classmethod
    def error(cls, status: int, message: str, **extra: Any) -> Reply:
        return cls(status, {"error": {"status": status, "message": message, **extra}})

    def encoded(self) -> bytes:
        if isinstance(self.body, bytes):
            return self.body
        if self.body is None:
            return b""
        return json.dumps(self.body, ensure_ascii=False).encode()


class Backend(Protocol):
    def handle(self, request: ApiRequest) -> Reply: ...


@dataclass
class Fault:
    """What to do instead of a normal answer: reply, reset the connection, or stall."""

    reply: Reply | None = None
    reset: bool = False
    delay_s: float = 0.0


@dataclass
class RecordedRequest:
    mount: str
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    status: int


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients that time out or are reset on purpose hang up mid-answer; that is
        # the test working, not a server fault. Anything else is still reported.
        error = sys.exc_info()[1]
        if isinstance(error, (ConnectionError, TimeoutError, OSError)):
            return
        super().handle_error(request, client_address)


class ApiServer:
    def __init__(
        self,
        backends: dict[str, Backend],
        *,
        cache_mode: str = "etag",
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        unknown = set(backends) - set(MOUNTS)
        if unknown:
            raise ValueError(f"unknown API mount(s) {sorted(unknown)}; known: {sorted(MOUNTS)}")
        if cache_mode not in CACHE_MODES:
            raise ValueError(f"cache_mode must be one of {CACHE_MODES}, not {cache_mode!r}")
        self.backends = backends
        self.cache_mode = cache_mode
        self.requests: list[RecordedRequest] = []
        self._faults: dict[str, list[Fault]] = {}
        self._lock = threading.Lock()
        self._httpd = _QuietServer((host, port), self._handler_class())
        self._thread: threading.Thread | None = None

    # -- lifecycle --------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def url(self, mount: str) -> str:
        return self.base_url + MOUNTS[mount][0]

    def env(self) -> dict[str, str]:
        """Settings that point every connector at this server."""
        return {setting: self.base_url + prefix for prefix, setting in MOUNTS.values() if setting}

    def start(self) -> ApiServer:
        # A short poll interval makes stop() quick (tests start many servers).
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self._httpd.serve_forever()

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> ApiServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- test controls ----------------------------------------------------------------

    def inject(self, mount: str, path_prefix: str, *faults: Fault) -> None:
        """Answer the next matching requests (``mount`` + path prefix) with ``faults``."""
        with self._lock:
            self._faults.setdefault(f"{mount}:{path_prefix}", []).extend(faults)

    def full_responses(self, mount: str | None = None) -> list[RecordedRequest]:
        """Requests answered with a full 200 body (what a cache should have spared)."""
        return [
            r
            for r in self.requests
            if r.status == 200 and r.method == "GET" and (mount is None or r.mount == mount)
        ]

    def count(self, mount: str | None = None, status: int | None = None) -> int:
        return sum(
            1
            for r in self.requests
            if (mount is None or r.mount == mount) and (status is None or r.status == status)
        )

    def clear_log(self) -> None:
        with self._lock:
            self.requests.clear()

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    # -- internals --------------------------------------------------------------------

    def _take_fault(self, mount: str, path: str) -> Fault | None:
        with self._lock:
            for key, queue in self._faults.items():
                m, prefix = key.split(":", 1)
                if m == mount and path.startswith(prefix) and queue:
                    return queue.pop(0)
        return None

    def _route(self, raw_path: str) -> tuple[str, str] | None:
        for mount, (prefix, _setting) in sorted(MOUNTS.items(), key=lambda item: -len(item[1][0])):
            if mount in self.backends and (raw_path == prefix or raw_path.startswith(prefix + "/")):
                return mount, raw_path[len(prefix) :] or "/"
        return None

    def _decorate(self, request: ApiRequest, reply: Reply, body: bytes) -> tuple[int, bytes]:
        """Add caching headers to a cacheable answer; turn it into a 304 when validated."""
        if not (reply.status == 200 and request.method == "GET" and reply.cacheable):
            return reply.status, body
        mode = self.cache_mode
        etag = '"' + hashlib.sha1(body).hexdigest() + '"'
        if mode in ("etag", "max-age", "etag-only"):
            reply.headers.setdefault("ETag", etag)
        if mode == "etag":
            reply.headers.setdefault("Cache-Control", "private, no-cache")
        elif mode == "max-age":
            reply.headers.setdefault("Cache-Control", "public, max-age=3600")
        elif mode == "last-modified":
            reply.headers.setdefault("Last-Modified", _LAST_MODIFIED)
            reply.headers.setdefault("Cache-Control", "no-cache")
        if mode in ("etag", "max-age", "etag-only"):
            wanted = [t.strip() for t in request.headers.get("if-none-match", "").split(",")]
            if etag in wanted or "*" in wanted:
                return 304, b""
        if mode == "last-modified" and "if-modified-since" in request.headers:
            try:
                since = email.utils.parsedate_to_datetime(request.headers["if-modified-since"])
            except (TypeError, ValueError):
                since = None
            if since is not None and since >= email.utils.parsedate_to_datetime(_LAST_MODIFIED):
                return 304, b""
        return 200, body

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out in separate writes; without this each answer
            # waits ~40 ms for the client's delayed ACK.
            disable_nagle_algorithm = True

            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                self._serve("GET")

            def do_POST(self) -> None:  # noqa: N802
                self._serve("POST")

            def _serve(self, method: str) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                headers = {k.lower(): v for k, v in self.headers.items()}
                query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
                routed = server._route(parts.path)
                if routed is None:
                    self._send(Reply.error(404, f"no API mounted at {parts.path}"), b"", "-", None)
                    return
                mount, path = routed
                request = ApiRequest(method, path, query, headers, body)
                fault = server._take_fault(mount, path)
                if fault is not None:
                    if fault.delay_s:
                        time.sleep(fault.delay_s)
                    if fault.reset:
                        server._record(mount, request, 0)
                        self.close_connection = True
                        self.connection.shutdown(2)
                        return
                    if fault.reply is not None:
                        reply = fault.reply
                        self._send(reply, reply.encoded(), mount, request)
                        return
                try:
                    reply = server.backends[mount].handle(request)
                except Exception as exc:  # a backend bug must show, not hang the client
                    reply = Reply.error(500, f"backend error: {exc!r}")
                encoded = reply.encoded()
                status, encoded = server._decorate(request, reply, encoded)
                reply.status = status
                self._send(reply, encoded, mount, request)

            def _send(
                self, reply: Reply, body: bytes, mount: str, request: ApiRequest | None
            ) -> None:
                if request is not None:
                    server._record(mount, request, reply.status)
                self.send_response(reply.status)
                headers = dict(reply.headers)
                if reply.status != 304 and not isinstance(reply.body, bytes):
                    headers.setdefault("Content-Type", "application/json; charset=utf-8")
                for name, value in headers.items():
                    self.send_header(name, value)
                if reply.status != 304:
                    self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if reply.status != 304 and self.command != "HEAD":
                    self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        return Handler

    def _record(self, mount: str, request: ApiRequest, status: int) -> None:
        with self._lock:
            self.requests.append(
                RecordedRequest(
                    mount, request.method, request.path, request.query, request.headers, status
                )
            )
