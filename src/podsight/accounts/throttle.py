"""A brake on password guessing over HTTP Basic (the gPodder sync API).

Checking a password costs ~0.25 s of CPU (Django's PBKDF2), so unchecked guessing is both
a way into accounts and a way to starve the server. Failed logins are counted per account
(the username sent, whether or not it exists) and per client address
(:func:`podsight.security.client_address`). Once a count reaches its limit
(``PODSIGHT_LOGIN_MAX_FAILURES`` per account, ``PODSIGHT_LOGIN_MAX_FAILURES_PER_CLIENT``
per address) within ``PODSIGHT_LOGIN_LOCKOUT``, that account or address is locked for
``PODSIGHT_LOGIN_LOCKOUT`` from the failure that reached it: every attempt on it is
answered 429 with ``Retry-After`` *before* the password is hashed, a right password
included (otherwise guessing would go on, only the answers would be hidden).

Password checks are also capped per server process (``PODSIGHT_LOGIN_CONCURRENCY``,
default 2): a login arriving while that many are being checked gets 429 with
``Retry-After: 1`` at once. Guessing spread over many addresses and accounts, which the
counts cannot catch, then holds at most that many threads and cores; the other threads
go on serving everything else.

A successful login clears its account's count (a user who mistyped a few times is not one
typo from a lockout), not its address's: a guesser with an account of their own could
otherwise clear their address's count between guesses.

Counts live in Django's default cache (``settings.CACHES``: Redis when
``PODSIGHT_CACHE_URL`` names one, else a database table), so every server process shares
them. A count is read, changed and written under a lock of this process: exact within a
process; failures at the same instant in two processes may count once. Attempts already
past the check when a limit is reached still run: a burst gets at most the limit plus the
number of requests served at once (threads × processes) minus one password checks.
"""

from __future__ import annotations

import hashlib
import logging
import math
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache

from podsight.errors import PodsightError

__all__ = ["Attempt", "LoginThrottled", "begin", "password_check", "cache_key"]

log = logging.getLogger(__name__)

_lock = threading.Lock()  # read-modify-write of the counts
_checks_lock = threading.Lock()
_checks = 0  # password checks running in this process


class LoginThrottled(PodsightError):
    """The account (``scope="account"``) or the client address (``"client"``) is locked,
    or this process is checking as many passwords as it may (``"server"``)."""

    http_status = 429
    code = "throttled"

    def __init__(self, scope: str, retry_after: int) -> None:
        if scope == "server":
            message = "Too many logins are being checked at once; retry in a second."
        else:
            what = "this account" if scope == "account" else "this address"
            message = (
                f"Too many failed logins for {what}: every login is refused for "
                f"{retry_after} s more, a correct password included (see Retry-After)."
            )
        super().__init__(message)
        self.scope = scope
        self.retry_after = retry_after


def _limits() -> dict[str, int]:
    return {
        "account": settings.LOGIN_MAX_FAILURES,
        "client": settings.LOGIN_MAX_FAILURES_PER_CLIENT,
    }


@dataclass
class Attempt:
    """One login attempt let through; tell it how the password check went."""

    keys: dict[str, str]  # scope → cache key
    account_failures: int  # counted before this attempt

    def failed(self) -> None:
        window = settings.LOGIN_LOCKOUT_S
        limits = _limits()
        try:
            with _lock:
                now = time.time()
                records = cache.get_many(list(self.keys.values()))
                for scope, key in self.keys.items():
                    count, until = _live(records.get(key), now) or (0, now + window)
                    count += 1
                    if count >= limits[scope]:
                        until = now + window  # locked for a whole window from here
                    cache.set(key, [count, until], timeout=math.ceil(until - now) + 1)
        except Exception:  # noqa: BLE001 - the store's failure must not fail the login path
            log.exception("could not count a failed login; throttling is off meanwhile")

    def succeeded(self) -> None:
        if not self.account_failures:
            return  # nothing to clear: no write on the usual path
        try:
            cache.delete(self.keys["account"])
        except Exception:  # noqa: BLE001 - as above
            log.exception("could not clear an account's failed logins")


def _live(record: object, now: float) -> tuple[int, float] | None:
    """``(count, until)`` of a stored record still in its window, else None."""
    if not isinstance(record, list | tuple) or len(record) != 2:
        return None
    count, until = record
    return (int(count), float(until)) if until > now else None


def cache_key(scope: str, value: str) -> str:
    # Hashed: any username a client sends is safe as a key, at any length.
    digest = hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()[:40]
    return f"login-failures:{scope}:{digest}"


def begin(username: str, client: str) -> Attempt:
    """Let a login attempt go on to its password check, or raise :class:`LoginThrottled`."""
    keys = {"account": cache_key("account", username), "client": cache_key("client", client)}
    limits = _limits()
    now = time.time()
    try:
        records = cache.get_many(list(keys.values()))
    except Exception:  # noqa: BLE001 - a store that is down throttles nothing (logged)
        log.exception("could not read failed-login counts; this login is not throttled")
        return Attempt(keys, 0)
    counts = {}
    for scope, key in keys.items():
        live = _live(records.get(key), now)
        counts[scope] = live[0] if live else 0
        if live and live[0] >= limits[scope]:
            raise LoginThrottled(scope, max(1, math.ceil(live[1] - now)))
    return Attempt(keys, counts["account"])


@contextmanager
def password_check() -> Iterator[None]:
    """Hold one of the process's password-check slots, or raise :class:`LoginThrottled`
    (``"server"``) when none is free. Not a queue: a waiting request would hold a server
    thread just the same."""
    global _checks
    with _checks_lock:
        if _checks >= settings.LOGIN_CONCURRENCY:
            raise LoginThrottled("server", 1)
        _checks += 1
    try:
        yield
    finally:
        with _checks_lock:
            _checks -= 1
