"""Failed HTTP Basic logins on the gPodder API are throttled per account and per client
address, over real HTTP against a live server: 429 with ``Retry-After`` before the
password is hashed, a correct password refused during the lockout, the lockout's end,
and which address counts behind a proxy."""

from __future__ import annotations

import base64
import threading
import time
import types
import urllib.error
import urllib.request

import orjson
import pytest
from django.contrib.auth.hashers import PBKDF2PasswordHasher

from podsight.accounts import throttle
from podsight.accounts.services import create_user

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.network]

PASSWORD = "correct horse battery staple"
ACCOUNT_LIMIT = 3
CLIENT_LIMIT = 5
LOCKOUT_S = 60


def _forget_counts() -> None:
    """Drop the counts these tests make. A database cache loses them with the test's
    database anyway; Redis (``PODSIGHT_CACHE_URL``) keeps them, and is perhaps shared."""
    from django.core.cache import cache

    names = ["alice", "bob", *(f"user{n}" for n in range(CLIENT_LIMIT))]
    clients = ["127.0.0.1", "::/64", "203.0.113.7", "192.0.2.44"]
    cache.delete_many(
        [throttle.cache_key("account", n) for n in names]
        + [throttle.cache_key("client", c) for c in clients]
    )


@pytest.fixture(autouse=True)
def limits(settings, transactional_db):
    settings.LOGIN_MAX_FAILURES = ACCOUNT_LIMIT
    settings.LOGIN_MAX_FAILURES_PER_CLIENT = CLIENT_LIMIT
    settings.LOGIN_LOCKOUT_S = LOCKOUT_S
    _forget_counts()
    yield settings
    _forget_counts()


@pytest.fixture
def clock(monkeypatch) -> types.SimpleNamespace:
    """The throttle's clock, moved forward at will (``clock.offset`` seconds ahead)."""
    state = types.SimpleNamespace(offset=0.0)
    monkeypatch.setattr(
        throttle, "time", types.SimpleNamespace(time=lambda: time.time() + state.offset)
    )
    return state


@pytest.fixture
def alice(db):
    return create_user("alice", PASSWORD)


@pytest.fixture
def hashes(monkeypatch) -> list[str]:
    """Every password hash the server computes (a check, or the dummy one Django runs for an
    unknown username): the CPU that guessing costs."""
    seen: list[str] = []
    encode = PBKDF2PasswordHasher.encode

    def counting(self, password, salt, iterations=None):
        seen.append(password)
        return encode(self, password, salt, iterations)

    monkeypatch.setattr(PBKDF2PasswordHasher, "encode", counting)
    return seen


def _login(
    base: str,
    username: str,
    password: str | None,
    *,
    headers: dict[str, str] | None = None,
    cookie: str | None = None,
) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(
        f"{base}/api/2/auth/{username}/login.json", data=b"", method="POST"
    )
    if password is not None:
        token = base64.b64encode(f"{username}:{password}".encode()).decode()
        request.add_header("Authorization", f"Basic {token}")
    if cookie is not None:
        request.add_header("Cookie", f"sessionid={cookie}")
    for name, value in (headers or {}).items():
        request.add_header(name, value)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def _session(headers: dict[str, str]) -> str:
    cookie = headers["Set-Cookie"]
    assert cookie.startswith("sessionid="), cookie
    return cookie.split(";", 1)[0].removeprefix("sessionid=")


def test_failed_logins_lock_the_account_before_any_password_is_hashed(
    live_server, alice, hashes, clock
):
    base = live_server.url
    for _ in range(ACCOUNT_LIMIT):
        assert _login(base, "alice", "guess")[0] == 401
    assert len(hashes) == ACCOUNT_LIMIT

    status, headers, body = _login(base, "alice", "another guess")
    assert status == 429
    assert 1 <= int(headers["Retry-After"]) <= LOCKOUT_S
    error = orjson.loads(body)["error"]
    assert error["status"] == 429 and error["code"] == "throttled"
    assert "this account" in error["message"]
    # The right password is refused too while the lockout lasts: otherwise guessing would
    # go on, with the answers hidden. Neither refusal spent a hash.
    assert _login(base, "alice", PASSWORD)[0] == 429
    assert len(hashes) == ACCOUNT_LIMIT

    # Still locked shortly before the time Retry-After gives; open after it.
    clock.offset = int(headers["Retry-After"]) - 2
    assert _login(base, "alice", PASSWORD)[0] == 429
    clock.offset = int(headers["Retry-After"]) + 1
    status, headers, _ = _login(base, "alice", PASSWORD)
    assert status == 200
    assert len(hashes) == ACCOUNT_LIMIT + 1


def test_a_success_clears_the_account_count_and_a_signed_in_app_keeps_working(live_server, alice):
    base = live_server.url
    for _ in range(ACCOUNT_LIMIT - 1):
        assert _login(base, "alice", "typo")[0] == 401
    status, headers, _ = _login(base, "alice", PASSWORD)
    assert status == 200
    cookie = _session(headers)
    # The typos before the success no longer count.
    for _ in range(ACCOUNT_LIMIT):
        assert _login(base, "alice", "typo")[0] == 401
    assert _login(base, "alice", PASSWORD)[0] == 429
    # An app signed in before the lockout goes on with its cookie (no password is guessed).
    assert _login(base, "alice", None, cookie=cookie)[0] == 200


def test_one_client_guessing_across_accounts_is_locked_out_and_cannot_pick_its_address(
    live_server, alice, hashes
):
    base = live_server.url
    for n in range(CLIENT_LIMIT):
        # A made-up X-Forwarded-For from a peer that is no trusted proxy changes nothing.
        spoofed = {"X-Forwarded-For": f"198.51.100.{n}"}
        assert _login(base, f"user{n}", "guess", headers=spoofed)[0] == 401
    status, headers, body = _login(
        base, "alice", PASSWORD, headers={"X-Forwarded-For": "198.51.100.99"}
    )
    assert status == 429 and "this address" in orjson.loads(body)["error"]["message"]
    assert int(headers["Retry-After"]) >= 1
    assert len(hashes) == CLIENT_LIMIT  # unknown usernames cost a hash too: counted


def test_behind_a_trusted_proxy_each_forwarded_client_counts_apart(live_server, alice, limits):
    limits.TRUSTED_PROXIES = ["127.0.0.1/32", "::1/128"]
    base = live_server.url
    guesser = {"X-Forwarded-For": "203.0.113.7"}
    for n in range(CLIENT_LIMIT):
        assert _login(base, f"user{n}", "guess", headers=guesser)[0] == 401
    assert _login(base, "alice", PASSWORD, headers=guesser)[0] == 429
    # Another client behind the same proxy is not locked out by the guesser; an entry the
    # client wrote itself (left of the proxy's) is not believed either.
    neighbour = {"X-Forwarded-For": "203.0.113.7, 192.0.2.44"}
    assert _login(base, "alice", PASSWORD, headers=neighbour)[0] == 200


def test_logins_beyond_the_concurrent_password_checks_get_429_at_once(
    live_server, alice, limits, monkeypatch
):
    """Guessing spread over many addresses and accounts escapes the counts; the cap on
    password checks at once keeps it from taking every server thread and core."""
    limits.LOGIN_CONCURRENCY = 1
    entered, release = threading.Event(), threading.Event()
    encode = PBKDF2PasswordHasher.encode

    def held(self, password, salt, iterations=None):
        if password == PASSWORD:  # alice's login is held mid-check
            entered.set()
            assert release.wait(30)
        return encode(self, password, salt, iterations)

    monkeypatch.setattr(PBKDF2PasswordHasher, "encode", held)
    base = live_server.url
    first: list[int] = []
    holder = threading.Thread(target=lambda: first.append(_login(base, "alice", PASSWORD)[0]))
    holder.start()
    try:
        assert entered.wait(30)
        started = time.monotonic()
        status, headers, body = _login(base, "bob", "guess")
        assert status == 429 and headers["Retry-After"] == "1"
        assert "at once" in orjson.loads(body)["error"]["message"]
        assert time.monotonic() - started < 5  # answered without waiting for the slot
    finally:
        release.set()
        holder.join(30)
    assert first == [200]
    assert _login(base, "bob", "guess")[0] == 401  # the slot is free again
