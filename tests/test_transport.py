"""What the server believes about a request's transport, over real HTTP against a live
server: only its own host names (a spoofed Host gets 400, never a link to itself), and
HTTPS only from a trusted proxy (then its cookies are Secure)."""

from __future__ import annotations

import base64
import http.client
from urllib.parse import urlsplit

import orjson
import pytest

from podsight.accounts.services import create_user
from podsight.catalog.models import Channel

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.network]

PASSWORD = "correct horse battery staple"


def _request(
    base: str, method: str, path: str, headers: dict[str, str]
) -> tuple[int, http.client.HTTPMessage, bytes]:
    """One request with exactly these headers (Host included), as a client may send it."""
    parts = urlsplit(base)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        connection.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
        for name, value in headers.items():
            connection.putheader(name, value)
        connection.putheader("Content-Length", "0")
        connection.endheaders()
        response = connection.getresponse()
        return response.status, response.headers, response.read()
    finally:
        connection.close()


def test_a_spoofed_host_gets_400_and_never_a_link_to_itself(live_server):
    Channel.objects.create(title="One")
    Channel.objects.create(title="Two")
    host = urlsplit(live_server.url).netloc
    status, _, body = _request(live_server.url, "GET", "/api/channels?page_size=1", {"Host": host})
    assert status == 200
    assert orjson.loads(body)["next"].startswith(f"http://{host}/api/channels?")

    for spoofed in ("evil.example", f"evil.example:{urlsplit(live_server.url).port}"):
        status, _, body = _request(
            live_server.url, "GET", "/api/channels?page_size=1", {"Host": spoofed}
        )
        assert status == 400
        assert b"evil" not in body
        assert orjson.loads(body)["error"]["code"] == "disallowed_host"


def _login(base: str, extra: dict[str, str]) -> str:
    """The Set-Cookie of a gPodder login."""
    host = urlsplit(base).netloc
    credentials = base64.b64encode(f"alice:{PASSWORD}".encode()).decode()
    status, headers, body = _request(
        base,
        "POST",
        "/api/2/auth/alice/login.json",
        {"Host": host, "Authorization": f"Basic {credentials}", **extra},
    )
    assert status == 200, body
    return headers["Set-Cookie"]


def _flags(set_cookie: str) -> set[str]:
    return {part.strip().split("=")[0].lower() for part in set_cookie.split(";")[1:]}


def test_cookies_are_secure_over_https_from_a_trusted_proxy_only(live_server, settings):
    create_user("alice", PASSWORD)
    https = {"X-Forwarded-Proto": "https"}
    # Plain HTTP on localhost goes on working, with a cookie the browser sends over HTTP.
    assert "secure" not in _flags(_login(live_server.url, {}))
    # Anyone may write X-Forwarded-Proto: without a trusted proxy it means nothing.
    assert "secure" not in _flags(_login(live_server.url, https))

    settings.TRUSTED_PROXIES = ["127.0.0.0/8", "::1/128"]
    cookie = _login(live_server.url, https)
    assert cookie.startswith("sessionid=")
    assert {"secure", "httponly"} <= _flags(cookie)
    assert "secure" not in _flags(_login(live_server.url, {"X-Forwarded-Proto": "http"}))
