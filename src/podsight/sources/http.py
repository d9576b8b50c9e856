"""One HTTP layer for every API connector.

Stack, top to bottom::

    ApiClient.get()         retries (tenacity) honouring Retry-After, error mapping, logging
    hishel CacheTransport   RFC 9111 private cache: fresh hits and conditional revalidation
    _RateLimitedTransport   per-host rate limits (pyrate-limiter), only for real network calls
    httpx.HTTPTransport     timeouts, connection pool

The cache store is SQLite under ``$PODSIGHT_HOME/cache`` unless
``PODSIGHT_CACHE_URL=redis://…`` names a Redis server. Entries are kept long
(``PODSIGHT_CACHE_TTL``, default 30 days) because a stale entry with a validator
still saves a full download: it is revalidated with ``If-None-Match`` /
``If-Modified-Since`` and answered by a 304.

Every call logs one line: source, endpoint (a template, never the URL, so keys
in query strings stay out of logs), status, cache outcome and elapsed time.
Every fresh (non-cached, non-304) JSON response is kept in :attr:`ApiClient.payloads`
so the sync can store it in the lake for replay.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import hishel
import httpx
from hishel.httpx import CacheTransport
from pyrate_limiter import Duration, Limiter, Rate
from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt

from podsight import conf
from podsight.errors import SourceError

__all__ = [
    "ApiAuthError",
    "ApiClient",
    "ApiError",
    "ApiNotFound",
    "ApiQuotaExceeded",
    "ApiRateLimited",
    "ApiResponse",
    "ApiResponseError",
    "ApiUnavailable",
    "Payload",
    "SourceNotConfigured",
    "cache_storage",
    "redact",
    "retry_after_seconds",
    "rate_setting",
    "limits_in_use",
    "reset",
]

log = logging.getLogger("podsight.sources.http")
# httpx logs every request URL at INFO, API keys in query strings included; our own
# line per call replaces it. pyrate-limiter announces every bucket it creates.
for _noisy in ("httpx", "httpcore", "hishel", "pyrate_limiter"):
    logging.getLogger(_noisy).setLevel(logging.WARNING)

# Query parameters and headers whose values are secrets; never logged or stored.
SECRET_PARAMS = frozenset({"key", "api_key", "apikey", "access_token", "client_secret", "token"})
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
DEFAULT_CACHE_TTL_S = 30 * 24 * 3600
UPSTREAM_STATUS = "podsight.upstream_status"


class ApiError(SourceError):
    """A call to a source's API failed; ``str()`` says what happened and what to do."""

    def __init__(
        self, message: str, *, source: str = "", endpoint: str = "", status: int | None = None
    ) -> None:
        super().__init__(message)
        self.source = source
        self.endpoint = endpoint
        self.status = status


class SourceNotConfigured(ApiError):
    """Credentials for a source are not set; the source is skipped, not failed."""


class ApiAuthError(ApiError):
    """The credentials were refused (401/403 after a token refresh)."""


class ApiQuotaExceeded(ApiError):
    """The source's quota is used up; stop calling it until the quota resets."""


class ApiRateLimited(ApiError):
    """Still rate limited after every retry, or asked to wait longer than allowed."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.retry_after = retry_after


class ApiUnavailable(ApiError):
    """Network failure, timeout or server error, after every retry."""


class ApiNotFound(ApiError):
    """The API says the resource does not exist (404)."""


class ApiResponseError(ApiError):
    """The response could not be read: malformed JSON or an unexpected status."""


@dataclass(frozen=True)
class Payload:
    """One fresh API response, as stored in the lake's ``api_payloads`` table."""

    source: str
    endpoint: str
    params: dict[str, Any]
    url: str
    status: int
    fetched_at: datetime
    body: str


@dataclass
class ApiResponse:
    source: str
    endpoint: str
    params: dict[str, Any]
    status: int
    data: Any
    from_cache: bool
    revalidated: bool
    elapsed_s: float
    fetched_at: datetime
    headers: httpx.Headers = field(default_factory=httpx.Headers)

    @property
    def cache_outcome(self) -> str:
        if self.revalidated:
            return "revalidated"
        return "hit" if self.from_cache else "miss"


@dataclass
class CallStats:
    calls: int = 0
    network: int = 0
    cache_hits: int = 0
    revalidated: int = 0
    retries: int = 0
    errors: int = 0


def redact(url: str | httpx.URL) -> str:
    """The URL with secret query values replaced, safe to log and store."""
    parsed = httpx.URL(str(url))
    if not parsed.query:
        return str(parsed)
    pairs = [
        (k, "REDACTED" if k.lower() in SECRET_PARAMS else v) for k, v in parsed.params.multi_items()
    ]
    return str(parsed.copy_with(params=pairs))


def _redacted_params(params: Mapping[str, Any]) -> dict[str, Any]:
    return {k: ("REDACTED" if k.lower() in SECRET_PARAMS else v) for k, v in params.items()}


# --- cache storage -------------------------------------------------------------------

_storage_lock = threading.Lock()
_storages: dict[str, hishel.BaseStorage] = {}


def cache_ttl() -> float:
    return conf.env_float("PODSIGHT_CACHE_TTL", DEFAULT_CACHE_TTL_S)


def cache_storage(cache_url: str | None = None) -> hishel.BaseStorage:
    """The shared response store: SQLite under ``$PODSIGHT_HOME/cache`` or Redis."""
    url = cache_url if cache_url is not None else conf.env("PODSIGHT_CACHE_URL", "")
    if not url:
        url = "sqlite:///" + str(conf.podsight_home() / "cache" / "http.sqlite")
    with _storage_lock:
        storage = _storages.get(url)
        if storage is None:
            storage = _make_storage(url)
            _storages[url] = storage
        return storage


def _make_storage(url: str) -> hishel.BaseStorage:
    scheme = urlsplit(url).scheme
    if scheme in ("redis", "rediss", "unix"):
        import redis

        client = redis.Redis.from_url(url)
        try:
            client.ping()
        except redis.RedisError as exc:
            raise ApiError(
                f"the response cache at {_safe_cache_url(url)} does not answer ({exc}); "
                "start Redis or unset PODSIGHT_CACHE_URL to use the SQLite cache"
            ) from exc
        return hishel.RedisStorage(client, default_ttl=cache_ttl(), key_prefix="podsight-http")
    if scheme == "sqlite":
        path = Path(url.removeprefix("sqlite:///").removeprefix("sqlite://"))
        path.parent.mkdir(parents=True, exist_ok=True)
        return hishel.SqliteStorage(database_path=path, default_ttl=cache_ttl())
    raise conf.SettingError(
        f"PODSIGHT_CACHE_URL must be redis://… or sqlite:///path, not {_safe_cache_url(url)}"
    )


def _safe_cache_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.password:
        return url.replace(f":{parts.password}@", ":***@")
    return url


# --- rate limits ---------------------------------------------------------------------

_limit_lock = threading.Lock()
_limiters: dict[tuple[str, int, int], Limiter] = {}


def host_limiter(host: str, calls: int, per_seconds: float) -> Limiter:
    """One limiter per (host, rate), shared by every client in the process."""
    key = (host, calls, int(per_seconds * 1000))
    with _limit_lock:
        limiter = _limiters.get(key)
        if limiter is None:
            limiter = Limiter(Rate(calls, Duration.SECOND * per_seconds))
            _limiters[key] = limiter
        return limiter


def limits_in_use() -> list[tuple[str, int, float]]:
    """``(host, calls, per_seconds)`` of every rate limiter this process has made."""
    with _limit_lock:
        return [(host, calls, ms / 1000) for host, calls, ms in _limiters]


def reset() -> None:
    """Forget the process's response stores and rate limiters, as a new process starts
    (tests; a process whose ``PODSIGHT_HOME`` or cache setting changed)."""
    with _storage_lock:
        _storages.clear()
    with _limit_lock:
        _limiters.clear()


def rate_setting(source: str, default: tuple[int, float] | None) -> tuple[int, float] | None:
    """``PODSIGHT_<SOURCE>_RATE_LIMIT`` ("20/60": 20 calls per 60 s, or "off") overrides
    a connector's built-in rate, e.g. for a local replay server or a raised quota."""
    name = f"PODSIGHT_{source.upper()}_RATE_LIMIT"
    raw = conf.env(name, "")
    if not raw:
        return default
    if raw.lower() in ("off", "none", "0"):
        return None
    try:
        calls, _, seconds = raw.partition("/")
        parsed = (int(calls), float(seconds or 1))
    except ValueError:
        parsed = (0, 0.0)
    if parsed[0] <= 0 or parsed[1] <= 0:
        raise conf.SettingError(
            f'{name} must look like "20/60" (calls/seconds) or "off", not {raw!r}'
        )
    return parsed


class _RateLimitedTransport(httpx.BaseTransport):
    def __init__(self, inner: httpx.BaseTransport, limiter: Limiter | None, name: str) -> None:
        self._inner = inner
        self._limiter = limiter
        self._name = name

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if self._limiter is not None:
            self._limiter.try_acquire(self._name, blocking=True)
        response = self._inner.handle_request(request)
        # What the origin really answered (the cache above may turn a 304 into a 200).
        request.extensions[UPSTREAM_STATUS] = response.status_code
        return response

    def close(self) -> None:
        self._inner.close()


# --- client --------------------------------------------------------------------------


class _SharedStoreCacheTransport(CacheTransport):
    """hishel's transport closes its storage on close; ours is shared by every client."""

    def close(self) -> None:
        self.next_transport.close()


class _Retry(Exception):
    def __init__(self, error: ApiError, wait_s: float | None) -> None:
        super().__init__(str(error))
        self.error = error
        self.wait_s = wait_s


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP-date)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


ErrorHook = Callable[[httpx.Response], "ApiError | None"]


class ApiClient:
    """A JSON API at ``base_url``, called as one source, cached, rate limited and retried.

    ``auth`` is any :class:`httpx.Auth` (bearer token with refresh, signed headers…).
    ``error_hook`` lets a connector turn a platform's own error bodies (Spotify's
    ``QUOTA_EXCEEDED``, YouTube's ``quotaExceeded``) into precise errors before the
    generic status handling and retries apply.
    """

    def __init__(
        self,
        source: str,
        base_url: str,
        *,
        auth: httpx.Auth | None = None,
        headers: Mapping[str, str] | None = None,
        rate: tuple[int, float] | None = None,
        cache: hishel.BaseStorage | None | bool = True,
        timeout: httpx.Timeout | float | None = None,
        max_attempts: int | None = None,
        max_retry_wait_s: float | None = None,
        error_hook: ErrorHook | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.source = source
        self.base_url = base_url.rstrip("/") + "/"
        self.error_hook = error_hook
        self.max_attempts = max_attempts or int(conf.env_float("PODSIGHT_API_MAX_ATTEMPTS", 4))
        self.max_retry_wait_s = (
            max_retry_wait_s
            if max_retry_wait_s is not None
            else conf.env_float("PODSIGHT_API_MAX_RETRY_WAIT", 120)
        )
        self.sleep = sleep
        self.payloads: list[Payload] = []
        self.stats = CallStats()
        host = urlsplit(self.base_url).netloc
        rate = rate_setting(source, rate)
        limiter = host_limiter(host, *rate) if rate else None
        network: httpx.BaseTransport = _RateLimitedTransport(httpx.HTTPTransport(), limiter, host)
        if cache is True:
            cache = cache_storage()
        if cache:
            network = _SharedStoreCacheTransport(
                next_transport=network,
                storage=cache,
                rfc=hishel.CacheOptions(shared=False),
            )
        if timeout is None:
            timeout = httpx.Timeout(
                conf.env_float("PODSIGHT_API_READ_TIMEOUT", 30),
                connect=conf.env_float("PODSIGHT_API_CONNECT_TIMEOUT", 10),
            )
        self._http = httpx.Client(
            base_url=self.base_url,
            auth=auth,
            headers={
                "User-Agent": conf.user_agent(),
                "Accept": "application/json",
                **(headers or {}),
            },
            transport=network,
            timeout=timeout,
            follow_redirects=True,
            trust_env=False,
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> ApiClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def take_payloads(self) -> list[Payload]:
        out, self.payloads = self.payloads, []
        return out

    def get(
        self, endpoint: str, params: Mapping[str, Any] | None = None, **path: str
    ) -> ApiResponse:
        """GET ``endpoint`` (a template like ``"shows/{id}/episodes"``) and decode JSON."""
        query = {k: v for k, v in (params or {}).items() if v is not None}
        url = endpoint.format(**{k: httpx.URL("/" + str(v)).path[1:] for k, v in path.items()})
        template_params = {**path, **_redacted_params(query)}

        def wait(state: RetryCallState) -> float:
            exc = state.outcome.exception() if state.outcome else None
            explicit = exc.wait_s if isinstance(exc, _Retry) else None
            if explicit is not None:
                return explicit
            return min(30.0, 0.5 * 2 ** (state.attempt_number - 1))

        retrying = Retrying(
            retry=retry_if_exception(lambda e: isinstance(e, _Retry)),
            stop=stop_after_attempt(self.max_attempts),
            wait=wait,
            sleep=self.sleep,
            reraise=True,
            before_sleep=lambda s: self._note_retry(endpoint, s),
        )
        try:
            return retrying(self._attempt, endpoint, url, query, template_params)
        except _Retry as final:
            self.stats.errors += 1
            raise final.error from None
        except ApiError:
            self.stats.errors += 1
            raise

    def _note_retry(self, endpoint: str, state: RetryCallState) -> None:
        self.stats.retries += 1
        exc = state.outcome.exception() if state.outcome else None
        log.info(
            "source=%s endpoint=%s retry=%d reason=%s wait=%.1fs",
            self.source,
            endpoint,
            state.attempt_number,
            exc,
            state.upcoming_sleep,
        )

    def _attempt(
        self, endpoint: str, url: str, query: dict[str, Any], template_params: dict[str, Any]
    ) -> ApiResponse:
        started = time.perf_counter()
        fetched_at = datetime.now(UTC)
        self.stats.calls += 1
        try:
            response = self._http.get(url, params=query)
            content = response.read()
        except httpx.TimeoutException as exc:
            self._log(endpoint, "timeout", "miss", started)
            raise _Retry(
                self._error(ApiUnavailable, endpoint, None, f"timed out ({exc})"), None
            ) from None
        except httpx.TransportError as exc:
            self._log(endpoint, "network-error", "miss", started)
            raise _Retry(
                self._error(ApiUnavailable, endpoint, None, f"network error: {exc}"), None
            ) from None
        upstream = response.request.extensions.get(UPSTREAM_STATUS)
        from_cache = upstream is None or (upstream == 304 and response.status_code != 304)
        revalidated = upstream == 304 and from_cache
        outcome = "revalidated" if revalidated else ("hit" if from_cache else "miss")
        if not from_cache or revalidated:
            self.stats.network += 1
        if from_cache and not revalidated:
            self.stats.cache_hits += 1
        if revalidated:
            self.stats.revalidated += 1
        self._log(endpoint, str(response.status_code), outcome, started)

        status = response.status_code
        if status >= 400:
            self._raise_for(response, endpoint)
        try:
            data = json.loads(content) if content else None
        except (ValueError, UnicodeDecodeError) as exc:
            raise self._error(
                ApiResponseError,
                endpoint,
                status,
                f"response is not valid JSON ({exc}); the API may be down or behind a proxy",
            ) from None
        if not from_cache:
            self.payloads.append(
                Payload(
                    source=self.source,
                    endpoint=endpoint,
                    params=template_params,
                    url=redact(response.request.url),
                    status=status,
                    fetched_at=fetched_at,
                    body=content.decode("utf-8", "replace"),
                )
            )
        return ApiResponse(
            source=self.source,
            endpoint=endpoint,
            params=template_params,
            status=status,
            data=data,
            from_cache=from_cache,
            revalidated=revalidated,
            elapsed_s=time.perf_counter() - started,
            fetched_at=fetched_at,
            headers=response.headers,
        )

    def _raise_for(self, response: httpx.Response, endpoint: str) -> None:
        status = response.status_code
        if self.error_hook is not None:
            specific = self.error_hook(response)
            if specific is not None:
                specific.source = specific.source or self.source
                specific.endpoint = specific.endpoint or endpoint
                specific.status = specific.status or status
                if isinstance(specific, ApiRateLimited):
                    raise _Retry(specific, self._wait_for(specific.retry_after, endpoint, specific))
                raise specific
        detail = _error_detail(response)
        if status in (429, 503):
            retry_after = retry_after_seconds(response.headers.get("retry-after"))
            cls = ApiRateLimited if status == 429 else ApiUnavailable
            error = self._error(cls, endpoint, status, f"HTTP {status}{detail}")
            if isinstance(error, ApiRateLimited):
                error.retry_after = retry_after
            raise _Retry(error, self._wait_for(retry_after, endpoint, error))
        if status in RETRY_STATUSES:
            raise _Retry(
                self._error(ApiUnavailable, endpoint, status, f"HTTP {status}{detail}"), None
            )
        if status in (401, 403):
            raise self._error(
                ApiAuthError,
                endpoint,
                status,
                f"HTTP {status}{detail}: check the {self.source} credentials",
            )
        if status == 404:
            raise self._error(ApiNotFound, endpoint, status, f"not found{detail}")
        raise self._error(ApiResponseError, endpoint, status, f"HTTP {status}{detail}")

    def _wait_for(self, retry_after: float | None, endpoint: str, error: ApiError) -> float | None:
        if retry_after is not None and retry_after > self.max_retry_wait_s:
            # Waiting that long inside one sync helps nobody: stop and say when to retry.
            message = (
                f"{self.source} asks to wait {retry_after:.0f} s before calling {endpoint} again "
                f"(more than PODSIGHT_API_MAX_RETRY_WAIT={self.max_retry_wait_s:.0f} s); "
                "run the sync again later"
            )
            raise self._error(ApiRateLimited, endpoint, error.status, message)
        return retry_after

    def _error(
        self, cls: type[ApiError], endpoint: str, status: int | None, message: str
    ) -> ApiError:
        return cls(
            f"{self.source} {endpoint}: {message}",
            source=self.source,
            endpoint=endpoint,
            status=status,
        )

    def _log(self, endpoint: str, status: str, cache: str, started: float) -> None:
        log.info(
            "source=%s endpoint=%s status=%s cache=%s elapsed=%.3fs",
            self.source,
            endpoint,
            status,
            cache,
            time.perf_counter() - started,
        )


def _error_detail(response: httpx.Response) -> str:
    """A short reason from an error body (JSON ``error.message`` or text), if any."""
    try:
        body = response.json()
    except ValueError:
        text = response.text.strip()[:200]
        return f": {text}" if text and "<html" not in text.lower() else ""
    message: Any = None
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict):
            message = error.get("message")
        elif isinstance(error, str):
            message = body.get("error_description") or error
        message = message or body.get("description") or body.get("message")
    return f": {message}" if message else ""
