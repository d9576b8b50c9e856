"""The feed fetcher against a real HTTP server on 127.0.0.1 (no other network traffic).

Private-range addresses other than loopback only ever appear in tests where the refusal
happens before any connection is attempted.
"""

from __future__ import annotations

import gzip
import io
import socket
import threading
import time
import tracemalloc
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlsplit

import brotli
import httpx
import pytest
from rich.console import Console

from httpserver import LocalServer
from podsight import conf
from podsight.progress import RichProgress
from podsight.sources.rss import fetch
from podsight.sources.rss.fetch import (
    BlockedURLError,
    FetchRequest,
    FetchTimeoutError,
    HTTPStatusError,
    InvalidURLError,
    TooLargeError,
    TooManyRedirectsError,
    check_url,
    fetch_feed,
    fetch_feeds,
    make_client,
)

pytestmark = pytest.mark.network

RSS = (
    b'<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel>'
    b"<title>Test cast</title><item><title>Episode 1</title></item></channel></rss>\n"
)
ETAG = '"v1"'
LAST_MODIFIED = "Wed, 01 Jan 2025 00:00:00 GMT"


@dataclass
class Seen:
    path: str
    headers: dict[str, str]


class FeedServer:
    """A threaded HTTP/1.1 server with a few feed-ish routes; records every request."""

    def __init__(self) -> None:
        self.seen: list[Seen] = []
        self.canned: dict[str, tuple[bytes, dict[str, str]]] = {}  # path -> body, headers
        self.stop = threading.Event()  # wakes "slow" handlers at teardown
        self.together = threading.Barrier(8)  # /slow?sync=1 waits until 8 requests are in
        self.http = LocalServer(self._handler())
        self.http.httpd.handle_error = lambda request, client_address: None  # aborted clients
        self.port = self.http.port
        self.url = self.http.url

    def close(self) -> None:
        self.stop.set()
        self.together.abort()
        self.http.stop()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            timeout = 5  # never let a forgotten keep-alive connection hang teardown

            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                server.seen.append(Seen(self.path, {k.lower(): v for k, v in self.headers.items()}))
                try:
                    self.route()
                except OSError:  # the client gave up (size cap, timeout)
                    self.close_connection = True

            def send(self, status: int, body: bytes = b"", **headers: str) -> None:
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name.replace("_", "-"), value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def send_feed(self) -> None:
                self.send(
                    200,
                    RSS,
                    Content_Type="application/rss+xml; charset=utf-8",
                    ETag=ETAG,
                    Last_Modified=LAST_MODIFIED,
                )

            def route(self) -> None:
                parts = urlsplit(self.path)
                path, query = parts.path, {k: v[0] for k, v in parse_qs(parts.query).items()}
                if path in server.canned:
                    body, headers = server.canned[path]
                    self.send(200, body, **headers)
                elif path == "/feed":
                    self.send_feed()
                elif path == "/cond":
                    if (
                        self.headers.get("If-None-Match") == ETAG
                        or self.headers.get("If-Modified-Since") == LAST_MODIFIED
                    ):
                        self.send(304, ETag=ETAG)
                    else:
                        self.send_feed()
                elif path == "/gzip":
                    body = gzip.compress(RSS * int(query.get("times", "1")))
                    self.send(
                        200, body, Content_Type="application/rss+xml", Content_Encoding="gzip"
                    )
                elif path == "/br":
                    self.send(
                        200,
                        brotli.compress(RSS),
                        Content_Type="application/rss+xml",
                        Content_Encoding="br",
                    )
                elif path.startswith("/chain/"):  # /chain/301-302 redirects 301 to /chain/302 ...
                    codes = [c for c in path.removeprefix("/chain/").split("-") if c]
                    if not codes:
                        self.send_feed()
                    else:
                        self.send(int(codes[0]), Location="/chain/" + "-".join(codes[1:]))
                elif path == "/to":
                    self.send(int(query.get("code", "302")), Location=query["url"])
                elif path == "/loop":
                    self.send(301, Location="/loop")
                elif path == "/big":
                    self.send_big(int(query["n"]), chunked=query.get("chunked") == "1")
                elif path == "/slow":
                    if query.get("sync") == "1":
                        try:
                            server.together.wait(timeout=5)
                        except threading.BrokenBarrierError:
                            self.send(500, b"requests did not arrive concurrently")
                            return
                    server.stop.wait(float(query["d"]))
                    self.send_feed()
                elif path.startswith("/status/"):
                    self.send(int(path.removeprefix("/status/")), b"nope")
                else:
                    self.send(404, b"no such route")

            def send_big(self, size: int, *, chunked: bool) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "application/rss+xml")
                if chunked:
                    self.send_header("Transfer-Encoding", "chunked")
                else:
                    self.send_header("Content-Length", str(size))
                self.end_headers()
                block = b"x" * 16384
                sent = 0
                while sent < size:
                    piece = block[: size - sent]
                    if chunked:
                        self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
                    else:
                        self.wfile.write(piece)
                    sent += len(piece)
                if chunked:
                    self.wfile.write(b"0\r\n\r\n")

        return Handler


@pytest.fixture(autouse=True)
def _no_env_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "PODSIGHT_ALLOW_PRIVATE_URLS",
        "PODSIGHT_FEED_MAX_BYTES",
        "PODSIGHT_FETCH_CONNECT_TIMEOUT",
        "PODSIGHT_FETCH_READ_TIMEOUT",
        "PODSIGHT_FETCH_TOTAL_TIMEOUT",
    ):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(autouse=True)
def _loopback_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Safety net: even if the SSRF guard regresses, no test may connect beyond loopback."""
    real_connect = socket.socket.connect

    def connect(sock: socket.socket, address: object) -> None:
        host = address[0] if isinstance(address, tuple) else address
        if host not in ("127.0.0.1", "::1"):
            raise AssertionError(f"test tried to connect to {address!r}")
        real_connect(sock, address)  # type: ignore[arg-type]

    monkeypatch.setattr(socket.socket, "connect", connect)


@pytest.fixture
def server() -> Iterator[FeedServer]:
    srv = FeedServer()
    yield srv
    srv.close()


@pytest.fixture
def client(server: FeedServer) -> Iterator[httpx.Client]:
    # Depends on `server` so it is closed first and keep-alive connections end.
    with make_client() as c:
        yield c


@pytest.fixture
def loopback_is_public(monkeypatch: pytest.MonkeyPatch) -> None:
    """Treat 127.0.0.1 as public so the guard can be exercised against the local server."""
    real = fetch.blocked_reason
    monkeypatch.setattr(
        fetch,
        "blocked_reason",
        lambda address: None if str(address) == "127.0.0.1" else real(address),
    )


@pytest.fixture
def fake_dns(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[str]]:
    """Host name -> successive answers (the last one repeats); other names resolve normally."""
    answers: dict[str, list[str]] = {}
    real = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):  # type: ignore[no-untyped-def]
        if host in answers:
            queue = answers[host]
            address = queue.pop(0) if len(queue) > 1 else queue[0]
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return answers


def get(client: httpx.Client, url: str, **kwargs: object) -> fetch.FetchResult:
    kwargs.setdefault("allow_private", True)
    return fetch_feed(client, FetchRequest(url), **kwargs)  # type: ignore[arg-type]


# --- plain fetching -----------------------------------------------------------------------


def test_plain_200(server: FeedServer, client: httpx.Client) -> None:
    result = get(client, server.url("/feed"))
    assert result.ok, result.error
    assert result.status == 200
    assert result.content == RSS
    assert result.final_url == server.url("/feed")
    assert result.etag == ETAG and result.last_modified == LAST_MODIFIED
    assert result.content_type == "application/rss+xml" and result.charset == "utf-8"
    assert not result.not_modified and result.permanent_redirect is None
    assert result.elapsed_s > 0


def test_sends_user_agent_and_accept_headers(server: FeedServer, client: httpx.Client) -> None:
    get(client, server.url("/feed"))
    headers = server.seen[0].headers
    assert headers["user-agent"] == conf.user_agent()
    assert "application/rss+xml" in headers["accept"]
    assert "application/atom+xml" in headers["accept"]
    assert headers["accept-encoding"] == "gzip, deflate, br"
    assert "if-none-match" not in headers and "if-modified-since" not in headers


@pytest.mark.parametrize(
    "etag, last_modified", [(ETAG, None), (None, LAST_MODIFIED), (ETAG, LAST_MODIFIED)]
)
def test_conditional_get_not_modified(
    server: FeedServer, client: httpx.Client, etag: str | None, last_modified: str | None
) -> None:
    request = FetchRequest(server.url("/cond"), etag=etag, last_modified=last_modified)
    result = fetch_feed(client, request, allow_private=True)
    assert result.ok, result.error
    assert result.status == 304 and result.not_modified
    assert result.content is None
    assert result.etag == ETAG
    assert result.last_modified == last_modified
    headers = server.seen[0].headers
    assert headers.get("if-none-match") == etag
    assert headers.get("if-modified-since") == last_modified


def test_conditional_get_changed(server: FeedServer, client: httpx.Client) -> None:
    result = fetch_feed(client, FetchRequest(server.url("/cond"), etag='"old"'), allow_private=True)
    assert result.status == 200 and not result.not_modified
    assert result.content == RSS and result.etag == ETAG
    assert server.seen[0].headers["if-none-match"] == '"old"'


def test_unconditional_304_is_an_error(server: FeedServer, client: httpx.Client) -> None:
    result = get(client, server.url("/to?code=304&url=/feed"))
    assert isinstance(result.error, fetch.InvalidResponseError)


@pytest.mark.parametrize("path", ["/gzip", "/br"])
def test_compressed_response_is_decoded(
    server: FeedServer, client: httpx.Client, path: str
) -> None:
    result = get(client, server.url(path))
    assert result.ok, result.error
    assert result.content == RSS


# --- redirects ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "chain, permanent",
    [
        ("301", "/chain/"),
        ("301-308-301", "/chain/"),
        ("302", None),
        ("307-301", None),  # a temporary hop first: the feed itself has not moved
        ("301-302-301", "/chain/302-301"),  # moved, then temporarily elsewhere
    ],
)
def test_redirects(
    server: FeedServer, client: httpx.Client, chain: str, permanent: str | None
) -> None:
    result = get(client, server.url(f"/chain/{chain}"))
    assert result.ok, result.error
    assert result.content == RSS
    assert result.final_url == server.url("/chain/")
    assert result.permanent_redirect == (permanent and server.url(permanent))
    assert len(server.seen) == chain.count("-") + 2


def test_redirect_loop(server: FeedServer, client: httpx.Client) -> None:
    result = get(client, server.url("/loop"))
    assert isinstance(result.error, TooManyRedirectsError)
    assert result.permanent_redirect is None
    assert len(server.seen) == fetch.MAX_REDIRECTS + 1


def test_conditional_headers_kept_across_redirects(
    server: FeedServer, client: httpx.Client
) -> None:
    request = FetchRequest(server.url("/to?code=301&url=/cond"), etag=ETAG)
    result = fetch_feed(client, request, allow_private=True)
    assert result.not_modified
    assert result.permanent_redirect == server.url("/cond")


# --- SSRF guard ---------------------------------------------------------------------------


def test_loopback_server_refused_without_any_request(
    server: FeedServer, client: httpx.Client
) -> None:
    result = fetch_feed(client, FetchRequest(server.url("/feed")), allow_private=False)
    assert isinstance(result.error, BlockedURLError)
    assert result.error.address == "127.0.0.1"
    assert "PODSIGHT_ALLOW_PRIVATE_URLS=1" in str(result.error)
    assert result.status is None and result.content is None
    assert server.seen == []


def test_default_reads_environment(
    server: FeedServer, client: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    request = FetchRequest(server.url("/feed"))
    assert isinstance(fetch_feed(client, request).error, BlockedURLError)
    monkeypatch.setenv("PODSIGHT_ALLOW_PRIVATE_URLS", "1")
    assert fetch_feed(client, request).content == RSS


@pytest.mark.usefixtures("loopback_is_public")
@pytest.mark.parametrize(
    "target", ["http://169.254.169.254/latest/meta-data/", "http://10.0.0.1/feed", "http://[::1]/"]
)
def test_redirect_to_blocked_address_refused(
    server: FeedServer, client: httpx.Client, target: str
) -> None:
    result = get(client, server.url(f"/to?code=301&url={target}"), allow_private=False)
    assert isinstance(result.error, BlockedURLError), result.error
    assert result.permanent_redirect is None
    assert [s.path for s in server.seen] == [f"/to?code=301&url={target}"]


@pytest.mark.usefixtures("loopback_is_public")
def test_connects_to_vetted_address_keeping_host_header(
    server: FeedServer, client: httpx.Client, fake_dns: dict[str, list[str]]
) -> None:
    fake_dns["feed.invalid"] = ["127.0.0.1"]  # a name no real resolver answers
    result = get(client, server.url("/feed", host="feed.invalid"), allow_private=False)
    assert result.ok, result.error
    assert server.seen[0].headers["host"] == f"feed.invalid:{server.port}"


@pytest.mark.usefixtures("loopback_is_public")
def test_dns_rebinding_refused_at_connect_time(
    server: FeedServer, client: httpx.Client, fake_dns: dict[str, list[str]]
) -> None:
    # The pre-flight check sees a "public" address, the connection-time lookup a private one;
    # the transport refuses before connecting, so nothing is sent to 10.0.0.1.
    fake_dns["rebind.invalid"] = ["127.0.0.1", "10.0.0.1"]
    result = get(client, server.url("/feed", host="rebind.invalid"), allow_private=False)
    assert isinstance(result.error, BlockedURLError), result.error
    assert result.error.address == "10.0.0.1"
    assert result.error.url == server.url("/feed", host="rebind.invalid")
    assert server.seen == []


def test_host_with_any_private_address_is_refused(fake_dns: dict[str, list[str]]) -> None:
    fake_dns["mixed.invalid"] = ["93.184.216.34"]
    check_url("http://mixed.invalid/", allow_private=False)
    fake_dns["mixed.invalid"] = ["192.168.1.1"]
    with pytest.raises(BlockedURLError, match="resolves to 192.168.1.1"):
        check_url("http://mixed.invalid/", allow_private=False)


LITERAL_BLOCKED = [
    "http://127.1/",
    "http://[::1]/",
    "http://2130706433/",
    "http://0x7f.0.0.1/",
    "http://0x7f000001/",
    "http://169.254.169.254/latest/meta-data/",
    "http://10.0.0.1/",
    "http://172.16.0.1/",
    "http://192.168.0.1/",
    "http://100.64.0.1/",
    "http://0.0.0.0/",
    "http://224.0.0.1/",
    "http://240.0.0.1/",
    "http://[::ffff:127.0.0.1]/",
    "http://[::ffff:a9fe:a9fe]/",
    "http://[::]/",
    "http://[fe80::1]/",
    "http://[fc00::1]/",
    "http://[ff02::1]/",
    "http://[64:ff9b::a00:1]/",  # NAT64 of 10.0.0.1
    "http://[2002:7f00:1::]/",  # 6to4 of 127.0.0.1
    "https://127.0.0.1:8443/feed",
]


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> httpx.Client:
    """A client that fails the test if it sends anything; DNS lookups fail the test too."""

    def refuse(*args: object, **kwargs: object) -> object:
        raise AssertionError("network access attempted")

    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    return httpx.Client(transport=httpx.MockTransport(refuse))


@pytest.mark.parametrize("url", LITERAL_BLOCKED)
def test_literal_private_addresses_refused_without_traffic(
    no_network: httpx.Client, url: str
) -> None:
    result = fetch_feed(no_network, FetchRequest(url), allow_private=False)
    assert isinstance(result.error, BlockedURLError), result.error


@pytest.mark.parametrize("url", ["http://93.184.216.34/", "http://[2606:4700:4700::1111]/"])
def test_public_literal_addresses_pass_the_check(no_network: httpx.Client, url: str) -> None:
    check_url(url, allow_private=False)


@pytest.mark.parametrize(
    "url", ["ftp://example.com/feed.xml", "file:///etc/passwd", "gopher://x/", "http:///feed"]
)
def test_non_http_urls_are_invalid(no_network: httpx.Client, url: str) -> None:
    result = fetch_feed(no_network, FetchRequest(url), allow_private=True)
    assert isinstance(result.error, InvalidURLError), result.error


# --- limits and failures ------------------------------------------------------------------


def test_size_cap_with_content_length(server: FeedServer, client: httpx.Client) -> None:
    result = get(client, server.url("/big?n=500000"), max_bytes=100_000)
    assert isinstance(result.error, TooLargeError)
    assert result.error.limit == 100_000 and "declares 500,000" in str(result.error)
    assert result.content is None


def test_size_cap_while_streaming_chunked(server: FeedServer, client: httpx.Client) -> None:
    result = get(client, server.url("/big?n=2000000&chunked=1"), max_bytes=100_000)
    assert isinstance(result.error, TooLargeError)
    assert "PODSIGHT_FEED_MAX_BYTES" in str(result.error)


def test_size_cap_applies_to_decoded_body(server: FeedServer, client: httpx.Client) -> None:
    times = 100_000 // len(RSS) + 50  # compresses to far below the cap, decodes above it
    result = get(client, server.url(f"/gzip?times={times}"), max_bytes=100_000)
    assert isinstance(result.error, TooLargeError)


def _compressed_zeros(encoding: str, megabytes: int) -> bytes:
    block = b"\0" * (1 << 20)
    if encoding == "br":
        compressor = brotli.Compressor(quality=5)
        return b"".join(compressor.process(block) for _ in range(megabytes)) + compressor.finish()
    deflater = zlib.compressobj(9, zlib.DEFLATED, 31)  # gzip framing
    return b"".join(deflater.compress(block) for _ in range(megabytes)) + deflater.flush()


@pytest.mark.parametrize("encoding", ["gzip", "br"])
def test_compression_bomb_stopped_in_bounded_memory(
    server: FeedServer, client: httpx.Client, encoding: str
) -> None:
    body = _compressed_zeros(encoding, 64)  # 64 MiB decoded from a few KiB (br) / 64 KiB (gzip)
    server.canned["/bomb"] = (body, {"Content_Encoding": encoding})
    tracemalloc.start()
    try:
        result = get(client, server.url("/bomb"), max_bytes=1 << 20)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert isinstance(result.error, TooLargeError), result.error
    assert peak < 8 << 20, f"peak {peak:,} bytes: decoding was not bounded"


def test_deflate_with_and_without_zlib_wrapper(server: FeedServer, client: httpx.Client) -> None:
    raw = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
    server.canned["/zlib"] = (zlib.compress(RSS), {"Content_Encoding": "deflate"})
    server.canned["/raw"] = (raw.compress(RSS) + raw.flush(), {"Content_Encoding": "deflate"})
    assert get(client, server.url("/zlib")).content == RSS
    assert get(client, server.url("/raw")).content == RSS


def test_corrupt_compressed_body(server: FeedServer, client: httpx.Client) -> None:
    server.canned["/bad"] = (b"definitely not gzip", {"Content_Encoding": "gzip"})
    result = get(client, server.url("/bad"))
    assert isinstance(result.error, fetch.InvalidResponseError), result.error
    assert "could not be decoded" in str(result.error)


def test_size_cap_allows_exact_size(server: FeedServer, client: httpx.Client) -> None:
    assert get(client, server.url("/big?n=50000&chunked=1"), max_bytes=50_000).ok


def test_read_timeout(server: FeedServer) -> None:
    with make_client(read_timeout=0.2) as quick:
        started = time.monotonic()
        result = get(quick, server.url("/slow?d=5"))
    assert isinstance(result.error, FetchTimeoutError), result.error
    assert time.monotonic() - started < 2


@pytest.mark.parametrize("status", [404, 410, 500, 503])
def test_error_statuses(server: FeedServer, client: httpx.Client, status: int) -> None:
    result = get(client, server.url(f"/status/{status}"))
    assert isinstance(result.error, HTTPStatusError)
    assert result.error.status == status == result.status
    assert str(status) in str(result.error)
    assert result.content is None


def test_connection_refused(client: httpx.Client) -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = get(client, f"http://127.0.0.1:{port}/feed")
    assert isinstance(result.error, fetch.ConnectionFailedError), result.error


# --- many feeds ---------------------------------------------------------------------------


def test_fetch_feeds_in_order_and_concurrently(server: FeedServer) -> None:
    # The server holds each request until all 8 are in flight, then answers the later ones
    # first: success proves concurrency, and the order check is meaningful.
    delays = [0.4 - 0.04 * i for i in range(8)]
    requests = [FetchRequest(server.url(f"/slow?sync=1&d={d:.2f}")) for d in delays]
    requests.append(FetchRequest(server.url("/status/404")))
    started = time.monotonic()
    results = fetch_feeds(requests, concurrency=8, allow_private=True)
    elapsed = time.monotonic() - started
    assert [r.request_url for r in results] == [r.url for r in requests]
    assert all(r.content == RSS for r in results[:8])
    assert isinstance(results[8].error, HTTPStatusError)
    assert elapsed < sum(delays)  # loose: a loaded CI machine must not make this flaky


def test_fetch_feeds_progress_bar(server: FeedServer) -> None:
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=120)
    requests = [FetchRequest(server.url(f"/feed?i={i}")) for i in range(3)]
    requests.append(FetchRequest("http://[::1]/x"))  # "[" in a URL must not break the bar
    results = fetch_feeds(
        requests, concurrency=2, progress=RichProgress(console), allow_private=False
    )
    assert all(isinstance(r.error, BlockedURLError) for r in results)
    assert fetch_feeds([]) == []
