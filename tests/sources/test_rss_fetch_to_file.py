"""fetch_to_file: a large body (an episode's audio) streamed to disk through the feed
fetcher's redirect handling, SSRF guard, size cap and timeouts (a server on 127.0.0.1)."""

from __future__ import annotations

import time
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

from httpserver import LocalServer, Reply, RouteServer
from podsight.sources.rss.fetch import (
    AUDIO_ACCEPT,
    BlockedURLError,
    FetchTimeoutError,
    HTTPStatusError,
    TooLargeError,
    TooManyRedirectsError,
    audio_max_bytes,
    audio_total_timeout,
    fetch_to_file,
    make_client,
)

pytestmark = pytest.mark.network

BODY = bytes(range(256)) * 4096  # 1 MiB


def _chunked(pieces: int, piece: bytes = b"x" * 65536, pause: float = 0.0):
    """A handler answering with ``pieces`` chunks and no Content-Length."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:  # noqa: N802
            self.send_response(200)
            self.send_header("Content-Type", "audio/mpeg")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for _ in range(pieces):
                self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
                self.wfile.flush()
                time.sleep(pause)
            self.wfile.write(b"0\r\n\r\n")

        def log_message(self, *args: object) -> None:
            pass

    return Handler


def test_streams_the_body_to_the_file_after_redirects(local_server: RouteServer, tmp_path):
    local_server.routes["/a.mp3"] = lambda _r: Reply(200, BODY, {"Content-Type": "audio/mpeg"})
    local_server.routes["/go"] = lambda _r: Reply(301, b"", {"Location": "/a.mp3"})
    dest = tmp_path / "audio"
    with make_client() as client:
        got = fetch_to_file(client, local_server.url("/go"), dest, allow_private=True)
    assert dest.read_bytes() == BODY and got.size == len(BODY) and got.path == dest
    assert got.final_url == local_server.url("/a.mp3") and got.content_type == "audio/mpeg"
    headers = local_server.seen[-1][1]
    assert headers["accept"] == AUDIO_ACCEPT and headers["accept-encoding"] == "identity"


def test_a_declared_length_over_the_cap_is_refused_before_reading(
    local_server: RouteServer, tmp_path: Path
) -> None:
    local_server.routes["/a.mp3"] = lambda _r: Reply(200, BODY)
    dest = tmp_path / "audio"
    with make_client() as client, pytest.raises(TooLargeError) as caught:
        fetch_to_file(client, local_server.url("/a.mp3"), dest, max_bytes=1000,
                      allow_private=True)  # fmt: skip
    assert f"declares {len(BODY):,} bytes" in str(caught.value)
    assert "PODSIGHT_AUDIO_MAX_BYTES" in str(caught.value) and "the audio" in str(caught.value)
    assert not dest.exists()


def test_an_undeclared_body_is_cut_at_the_cap_and_the_partial_file_removed(tmp_path) -> None:
    dest = tmp_path / "audio"
    with LocalServer(_chunked(40)) as server, make_client() as client:  # 2.5 MiB offered
        with pytest.raises(TooLargeError, match="more than 1,048,576 bytes arrived"):
            fetch_to_file(client, server.url("/a.mp3"), dest, max_bytes=1 << 20,
                          allow_private=True)  # fmt: skip
    assert not dest.exists()


def test_the_total_timeout_stops_a_dripping_server(tmp_path: Path) -> None:
    dest = tmp_path / "audio"
    with LocalServer(_chunked(100, b"x" * 10, pause=0.05)) as server, make_client() as client:
        started = time.monotonic()
        with pytest.raises(FetchTimeoutError, match="took too long overall"):
            fetch_to_file(client, server.url("/a.mp3"), dest, total_timeout=0.5,
                          allow_private=True)  # fmt: skip
    assert time.monotonic() - started < 3 and not dest.exists()


def test_audio_has_its_own_total_timeout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A feed's 300 s would cut an ordinary episode on an ordinary connection: audio downloads
    # are timed by PODSIGHT_AUDIO_TOTAL_TIMEOUT (default an hour) instead.
    monkeypatch.delenv("PODSIGHT_AUDIO_TOTAL_TIMEOUT", raising=False)
    assert audio_total_timeout() == 3600.0
    monkeypatch.setenv("PODSIGHT_FETCH_TOTAL_TIMEOUT", "0.3")
    dest = tmp_path / "audio"
    with LocalServer(_chunked(12, b"x" * 10, pause=0.05)) as server, make_client() as client:
        got = fetch_to_file(client, server.url("/a.mp3"), dest, allow_private=True)
        assert got.size == 120  # took ~0.6 s: more than the feeds' total, within the audio's
        monkeypatch.setenv("PODSIGHT_AUDIO_TOTAL_TIMEOUT", "0.3")
        with pytest.raises(FetchTimeoutError, match="PODSIGHT_AUDIO_TOTAL_TIMEOUT"):
            fetch_to_file(client, server.url("/a.mp3"), dest, allow_private=True)
    monkeypatch.setenv("PODSIGHT_AUDIO_TOTAL_TIMEOUT", "soon")
    with pytest.raises(ValueError, match="PODSIGHT_AUDIO_TOTAL_TIMEOUT"):
        audio_total_timeout()


def test_http_errors_and_redirect_loops(local_server: RouteServer, tmp_path: Path) -> None:
    local_server.routes["/loop"] = lambda _r: Reply(302, b"", {"Location": "/loop"})
    dest = tmp_path / "audio"
    with make_client() as client:
        with pytest.raises(HTTPStatusError) as caught:
            fetch_to_file(client, local_server.url("/gone.mp3"), dest, allow_private=True)
        assert caught.value.status == 404 and not dest.exists()
        with pytest.raises(TooManyRedirectsError):
            fetch_to_file(client, local_server.url("/loop"), dest, allow_private=True)


def test_the_ssrf_guard_refuses_private_addresses(
    local_server: RouteServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PODSIGHT_ALLOW_PRIVATE_URLS", raising=False)
    local_server.routes["/a.mp3"] = lambda _r: Reply(200, BODY)
    dest = tmp_path / "audio"
    with make_client() as client:
        for url in (local_server.url("/a.mp3"), "http://169.254.169.254/latest/meta-data",
                    "http://10.1.2.3/a.mp3"):  # fmt: skip
            with pytest.raises(BlockedURLError, match="refused to fetch"):
                fetch_to_file(client, url, dest)
    assert local_server.seen == [] and not dest.exists()


def test_the_audio_cap_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PODSIGHT_AUDIO_MAX_BYTES", raising=False)
    assert audio_max_bytes() == 500 * 1024 * 1024
    monkeypatch.setenv("PODSIGHT_AUDIO_MAX_BYTES", "1234")
    assert audio_max_bytes() == 1234


def test_an_http_error_speaks_of_the_audio(local_server: RouteServer, tmp_path: Path) -> None:
    with make_client() as client, pytest.raises(HTTPStatusError) as caught:
        fetch_to_file(client, local_server.url("/gone.mp3"), tmp_path / "a", allow_private=True)
    assert "check the audio URL; the audio may have moved" in str(caught.value)
