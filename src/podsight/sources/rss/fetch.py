"""Fetch podcast feeds over HTTP(S): conditional, compressed, size-capped and SSRF-guarded.

:func:`fetch_feed` fetches one feed with a shared :class:`httpx.Client` (build it with
:func:`make_client`); :func:`fetch_feeds` fetches many concurrently, reporting to the
caller's :class:`~podsight.progress.Progress`.
Neither raises for a problem with one feed: the problem is returned as
:attr:`FetchResult.error`. :func:`fetch_to_file` streams a large body (an episode's audio)
to a file through the same redirect handling and guards, and raises the problem instead.
The problems are instances of these exceptions::

    FetchError                  base class; ``str(error)`` says what happened and what to do
    ├── InvalidURLError         not an http(s) URL, or no host name
    ├── BlockedURLError         the host is (or resolves to) a loopback, private, link-local,
    │                           multicast, reserved, unspecified or shared address
    │                           (``PODSIGHT_ALLOW_PRIVATE_URLS=1`` lifts the refusal)
    ├── ConnectionFailedError   name resolution failed, connection refused or reset, TLS failure
    ├── FetchTimeoutError       connecting, a read, or the whole fetch took too long
    ├── TooManyRedirectsError   more than ``MAX_REDIRECTS`` redirects
    ├── HTTPStatusError         the server answered 4xx/5xx (``.status``)
    ├── TooLargeError           the (decoded) body exceeds ``max_bytes``
    └── InvalidResponseError    malformed HTTP, undecodable compressed body, redirect without
                                a Location, or a 304 to an unconditional request

SSRF guard. Every hop of a redirect chain is checked by :func:`check_url` before it is
requested. Clients built by :func:`make_client` also check at connect time: their network
backend resolves the host itself, refuses if *any* address is not public, and connects to
the vetted IP, so a DNS answer that changes between check and connect (DNS rebinding) cannot
steer the connection. The ``Host`` header, TLS SNI and certificate verification still use the
host name from the URL. Proxies from the environment are ignored on purpose: through a proxy
the guard would vet the proxy's address, not the feed's.

Size cap. A ``Content-Length`` above ``max_bytes`` is refused before reading; otherwise the
body is decoded here (gzip, deflate, br) in steps of about ``_PIECE`` bytes and dropped as
soon as it exceeds ``max_bytes``, so a compression bomb costs little memory (httpx's own
decoder inflates each network chunk in one go).

Local files (:func:`read_feed_file`) get the same size cap.

Settings (environment): ``PODSIGHT_FEED_MAX_BYTES`` (default 50 MiB),
``PODSIGHT_AUDIO_MAX_BYTES`` (default 500 MiB, :func:`fetch_to_file`),
``PODSIGHT_FETCH_CONNECT_TIMEOUT`` (10 s), ``PODSIGHT_FETCH_READ_TIMEOUT`` (30 s),
``PODSIGHT_FETCH_TOTAL_TIMEOUT`` (300 s, against servers that drip bytes forever),
``PODSIGHT_AUDIO_TOTAL_TIMEOUT`` (3600 s, the same for :func:`fetch_to_file`: an hour of
audio is 50-100 MB, which 300 s would refuse on an ordinary connection),
``PODSIGHT_ALLOW_PRIVATE_URLS``, ``PODSIGHT_USER_AGENT``.
"""

from __future__ import annotations

import contextlib
import contextvars
import ipaddress
import os
import re
import socket
import stat
import threading
import time
import typing
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpcore
import httpx

from podsight import conf
from podsight.errors import SourceError
from podsight.progress import SILENT, Progress

try:  # brotli >= 1.2 can bound its output per call, which the size cap relies on
    import brotli

    _BROTLI_BOUNDED = hasattr(brotli.Decompressor, "can_accept_more_data")
    _DECODE_ERRORS: tuple[type[Exception], ...] = (zlib.error, brotli.error)
except ImportError:  # pragma: no cover - httpx[brotli] is a dependency
    _BROTLI_BOUNDED = False
    _DECODE_ERRORS = (zlib.error,)

__all__ = [
    "ACCEPT",
    "AUDIO_ACCEPT",
    "Download",
    "audio_max_bytes",
    "audio_total_timeout",
    "fetch_to_file",
    "MAX_REDIRECTS",
    "BlockedURLError",
    "ConnectionFailedError",
    "FetchError",
    "FetchRequest",
    "FetchResult",
    "FetchTimeoutError",
    "HTTPStatusError",
    "InvalidResponseError",
    "InvalidURLError",
    "TooLargeError",
    "TooManyRedirectsError",
    "check_url",
    "feed_max_bytes",
    "fetch_feed",
    "fetch_feeds",
    "make_client",
    "positive_setting",
    "read_feed_file",
    "blocked_reason",
    "trusting",
]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

MAX_REDIRECTS = 10
ACCEPT = (
    "application/rss+xml, application/atom+xml, application/xml;q=0.9, text/xml;q=0.9, "
    "application/x-rss+xml;q=0.9, */*;q=0.5"
)
_ACCEPT_ENCODING = "gzip, deflate, br" if _BROTLI_BOUNDED else "gzip, deflate"
_PIECE = 256 * 1024  # decode at most about this much per step, so bombs hit the cap early
_PERMANENT = frozenset({301, 308})
_TEMPORARY = frozenset({302, 303, 307})
_SHARED = ipaddress.ip_network("100.64.0.0/10")  # carrier-grade NAT, not "private" to Python
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_DEFAULT_MAX_BYTES = 50 * 1024 * 1024
_DEFAULT_AUDIO_MAX_BYTES = 500 * 1024 * 1024
_DEFAULT_AUDIO_TOTAL_TIMEOUT = 3600.0
AUDIO_ACCEPT = "audio/*, video/*;q=0.8, application/octet-stream;q=0.5, */*;q=0.1"


# --- errors -------------------------------------------------------------------------------


class FetchError(SourceError):
    """A feed could not be fetched; the message says what happened and what to do."""

    def __init__(self, message: str, *, url: str | None = None) -> None:
        super().__init__(message)
        self.url = url


class InvalidURLError(FetchError):
    """The URL is not an http:// or https:// URL with a host name."""


class BlockedURLError(FetchError):
    """The host is, or resolves to, a non-public address (SSRF guard)."""

    def __init__(self, message: str, *, url: str | None = None, host: str, address: str) -> None:
        super().__init__(message, url=url)
        self.host = host
        self.address = address


class ConnectionFailedError(FetchError):
    """The host name did not resolve, or the connection (or TLS handshake) failed."""


class FetchTimeoutError(FetchError):
    """Connecting, waiting for data, or the whole fetch took longer than allowed."""


class TooManyRedirectsError(FetchError):
    """The redirect chain was longer than :data:`MAX_REDIRECTS`."""


class HTTPStatusError(FetchError):
    """The server answered with a 4xx or 5xx status (``.status``)."""

    def __init__(self, message: str, *, url: str | None = None, status: int) -> None:
        super().__init__(message, url=url)
        self.status = status


class TooLargeError(FetchError):
    """The body is larger than the size cap (``.limit`` bytes)."""

    def __init__(self, message: str, *, url: str | None = None, limit: int) -> None:
        super().__init__(message, url=url)
        self.limit = limit


class InvalidResponseError(FetchError):
    """The server's answer was not usable HTTP (protocol error, bad compression, ...)."""


# --- requests and results -----------------------------------------------------------------


@dataclass
class FetchRequest:
    url: str
    etag: str | None = None
    last_modified: str | None = None


@dataclass
class FetchResult:
    request_url: str
    final_url: str | None = None  # after redirects
    status: int | None = None  # of the final response, if one arrived
    content: bytes | None = None  # decoded body; None when not modified or failed
    etag: str | None = None
    last_modified: str | None = None
    content_type: str | None = None  # media type only, e.g. "application/rss+xml"
    charset: str | None = None  # from the Content-Type header
    not_modified: bool = False
    # Where the feed moved permanently (301/308 hops before any temporary one); None on error.
    permanent_redirect: str | None = None
    error: FetchError | None = None
    elapsed_s: float = 0.0

    @property
    def ok(self) -> bool:
        return self.error is None


# --- settings -----------------------------------------------------------------------------


def positive_setting(name: str, default: float) -> float:
    """A positive number from the environment (``default`` when unset); a
    :class:`~podsight.conf.SettingError` naming the setting otherwise."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise conf.SettingError(f"{name}={raw!r} is not a number") from None
    if value <= 0:
        raise conf.SettingError(f"{name}={raw!r} must be positive")
    return value


def audio_max_bytes() -> int:
    """The size cap for one downloaded enclosure (``PODSIGHT_AUDIO_MAX_BYTES``, default
    500 MiB: about 8 hours of 128 kbit/s MP3)."""
    return int(positive_setting("PODSIGHT_AUDIO_MAX_BYTES", _DEFAULT_AUDIO_MAX_BYTES))


def audio_total_timeout() -> float:
    """Seconds one enclosure download may take in all (``PODSIGHT_AUDIO_TOTAL_TIMEOUT``,
    default 3600)."""
    return positive_setting("PODSIGHT_AUDIO_TOTAL_TIMEOUT", _DEFAULT_AUDIO_TOTAL_TIMEOUT)


def feed_max_bytes() -> int:
    """The size cap for one feed body (``PODSIGHT_FEED_MAX_BYTES``, default 50 MiB)."""
    return int(positive_setting("PODSIGHT_FEED_MAX_BYTES", _DEFAULT_MAX_BYTES))


# --- SSRF guard ---------------------------------------------------------------------------

# Legacy numeric IPv4 spellings that inet_aton (and getaddrinfo) accept: 127.1, 2130706433,
# 0x7f.0.0.1, 0177.0.0.1. Decoding them ourselves keeps them off the resolver entirely.
_NUMERIC_HOST = re.compile(r"^(0x[0-9a-f]+|[0-9]+)(\.(0x[0-9a-f]+|[0-9]+)){0,3}\.?$", re.I)


def _literal_address(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        pass
    if _NUMERIC_HOST.match(host):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(host.rstrip(".")))
        except OSError:
            return None
    return None


def _resolve(host: str, port: int, *, url: str | None) -> list[IPAddress]:
    """All addresses of ``host`` (IPv4 and IPv6), literal spellings decoded without DNS."""
    literal = _literal_address(host)
    if literal is not None:
        return [literal]
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except UnicodeError:
        raise InvalidURLError(
            f"{url or host}: {host!r} is not a valid host name", url=url
        ) from None
    except OSError as exc:
        raise ConnectionFailedError(
            f"{url or host}: cannot resolve host {host!r} ({exc.strerror or exc}); "
            "check the URL for typos, or try again later if DNS is failing",
            url=url,
        ) from None
    addresses: list[IPAddress] = []
    for _family, _type, _proto, _name, sockaddr in infos:
        address = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise ConnectionFailedError(f"{url or host}: host {host!r} has no addresses", url=url)
    return addresses


def blocked_reason(address: IPAddress) -> str | None:
    """Why ``address`` must not be fetched from, or None if it is a public address."""
    if isinstance(address, ipaddress.IPv6Address):
        # Addresses that embed an IPv4 address reach that address: judge the embedded one.
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is None and address.teredo is not None:
            embedded = address.teredo[1]
        if embedded is None and address in _NAT64:
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is not None:
            return blocked_reason(embedded)
    if address.is_unspecified:
        return "unspecified"
    if address.is_loopback:
        return "loopback"
    if address.is_link_local:
        return "link-local (cloud metadata services live here)"
    if address.is_multicast:
        return "multicast"
    if isinstance(address, ipaddress.IPv4Address) and address in _SHARED:
        return "shared (carrier-grade NAT)"
    if address.is_private:
        return "private"
    if address.is_reserved:
        return "reserved"
    if not address.is_global:
        return "non-public"
    return None


# Origins (host, port) the guard lets through while a `trusting` block runs, counted so
# nested or concurrent blocks for one origin do not end each other's trust. Process-wide,
# not a context variable: fetches run in worker threads that do not inherit contexts.
_trusted: dict[tuple[str, int], int] = {}
_trusted_lock = threading.Lock()


@contextlib.contextmanager
def trusting(origin: str) -> Iterator[None]:
    """Let the SSRF guard pass exactly one origin (``http://host:port``) while inside,
    whatever its address: the demo fetches the documents its own server hosts on
    loopback, and every other private address stays refused."""
    parsed = _parse(origin)
    key = (parsed.host.lower(), parsed.port or (443 if parsed.scheme == "https" else 80))
    with _trusted_lock:
        _trusted[key] = _trusted.get(key, 0) + 1
    try:
        yield
    finally:
        with _trusted_lock:
            _trusted[key] -= 1
            if not _trusted[key]:
                del _trusted[key]


def _vet(host: str, port: int, *, url: str | None) -> list[IPAddress]:
    """Resolve ``host`` and refuse if any of its addresses is not public (unless the
    origin is trusted: :func:`trusting`)."""
    addresses = _resolve(host, port, url=url)
    with _trusted_lock:
        if (host.lower(), port) in _trusted:
            return addresses
    for address in addresses:
        reason = blocked_reason(address)
        if reason is not None:
            where = "is" if _literal_address(host) is not None else f"resolves to {address},"
            article = "an" if reason[0] in "aeiou" else "a"
            raise BlockedURLError(
                f"refused to fetch {url or host}: host {host} {where} {article} {reason} "
                "address, which could expose internal services; set "
                "PODSIGHT_ALLOW_PRIVATE_URLS=1 to allow fetching from private networks",
                url=url,
                host=host,
                address=str(address),
            )
    return addresses


def _parse(url: str) -> httpx.URL:
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError, ValueError) as exc:
        raise InvalidURLError(
            f"{url!r} is not a valid URL ({exc}); fix the feed URL", url=url
        ) from None
    if parsed.scheme not in ("http", "https"):
        raise InvalidURLError(
            f"cannot fetch {url!r}: only http:// and https:// feed URLs are supported", url=url
        )
    if not parsed.host:
        raise InvalidURLError(f"cannot fetch {url!r}: the URL has no host name", url=url)
    return parsed


def check_url(url: str, *, allow_private: bool | None = None) -> None:
    """Refuse ``url`` unless it is http(s) with a host whose addresses are all public.

    Raises :class:`InvalidURLError`, :class:`BlockedURLError`, or :class:`ConnectionFailedError`
    (the host does not resolve). ``allow_private=None`` reads ``PODSIGHT_ALLOW_PRIVATE_URLS``.
    """
    parsed = _parse(url)
    if allow_private is None:
        allow_private = conf.allow_private_urls()
    if not allow_private:
        port = parsed.port or (443 if parsed.scheme == "https" else 80)
        _vet(parsed.host, port, url=url)


# fetch_feed() tells the network backend, which only sees host and port, whether private
# addresses are allowed for the request being sent from this thread/context.
_allow_private: contextvars.ContextVar[bool | None] = contextvars.ContextVar(
    "podsight_fetch_allow_private", default=None
)


class _GuardedBackend(httpcore.NetworkBackend):
    """The default sync backend, but connecting only to vetted addresses (anti DNS rebinding)."""

    def __init__(self) -> None:
        self._inner = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        allow = _allow_private.get()
        if allow is None:
            allow = conf.allow_private_urls()
        if allow:
            return self._inner.connect_tcp(host, port, timeout, local_address, socket_options)
        last_error: Exception | None = None
        # The stream is opened to the IP; httpcore still uses `host` for SNI and certificates.
        for address in _vet(host, port, url=None):
            try:
                return self._inner.connect_tcp(
                    str(address), port, timeout, local_address, socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last_error = exc
        assert last_error is not None  # _vet() returns at least one address
        raise last_error

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        raise httpcore.ConnectError("podsight fetches feeds over TCP only")

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


def _guarded_transport(limits: httpx.Limits) -> httpx.HTTPTransport:
    transport = httpx.HTTPTransport(limits=limits)
    # httpx 0.28 has no public way to pass an httpcore network backend (encode/httpx#3749), so
    # swap in an equivalent pool that uses ours; checked so an httpx upgrade fails loudly.
    if not isinstance(getattr(transport, "_pool", None), httpcore.ConnectionPool):
        raise RuntimeError("httpx.HTTPTransport internals changed; update _guarded_transport()")
    transport._pool = httpcore.ConnectionPool(
        ssl_context=httpx.create_ssl_context(),
        max_connections=limits.max_connections,
        max_keepalive_connections=limits.max_keepalive_connections,
        keepalive_expiry=limits.keepalive_expiry,
        network_backend=_GuardedBackend(),
    )
    return transport


# --- fetching -----------------------------------------------------------------------------


def make_client(
    *,
    connect_timeout: float | None = None,
    read_timeout: float | None = None,
    max_connections: int = 32,
) -> httpx.Client:
    """The shared, thread-safe client for feed fetching; close it (or use ``with``) when done."""
    connect = connect_timeout or positive_setting("PODSIGHT_FETCH_CONNECT_TIMEOUT", 10.0)
    read = read_timeout or positive_setting("PODSIGHT_FETCH_READ_TIMEOUT", 30.0)
    limits = httpx.Limits(
        max_connections=max_connections, max_keepalive_connections=max_connections
    )
    return httpx.Client(
        transport=_guarded_transport(limits),
        timeout=httpx.Timeout(connect=connect, read=read, write=read, pool=read),
        headers=_base_headers(),
        follow_redirects=False,  # fetch_feed() follows them itself, vetting every hop
        trust_env=False,  # no environment proxies: see the module docstring
    )


def _base_headers() -> dict[str, str]:
    return {"User-Agent": conf.user_agent(), "Accept": ACCEPT, "Accept-Encoding": _ACCEPT_ENCODING}


def _headers_for(request: FetchRequest) -> dict[str, str]:
    headers = _base_headers()
    if request.etag:
        headers["If-None-Match"] = request.etag
    if request.last_modified:
        headers["If-Modified-Since"] = request.last_modified
    return headers


def fetch_feed(
    client: httpx.Client,
    request: FetchRequest,
    *,
    max_bytes: int | None = None,
    allow_private: bool | None = None,
    total_timeout: float | None = None,
    what: str = "feed",
    size_setting: str = "PODSIGHT_FEED_MAX_BYTES",
) -> FetchResult:
    """Fetch one feed, following up to :data:`MAX_REDIRECTS` redirects; never raises a
    :class:`FetchError`, which goes into :attr:`FetchResult.error` instead.

    ``max_bytes`` defaults to ``PODSIGHT_FEED_MAX_BYTES``, ``allow_private`` to
    ``PODSIGHT_ALLOW_PRIVATE_URLS`` and ``total_timeout`` to ``PODSIGHT_FETCH_TOTAL_TIMEOUT``.
    Other documents fetched this way name themselves in the error messages: ``what`` (the
    thing: "transcript", "chapters") and ``size_setting`` (the setting whose value was
    passed as ``max_bytes``, named when the document is too large).
    Use a client from :func:`make_client`: other clients get the per-hop check only, without
    the connect-time DNS-rebinding protection.
    """
    if max_bytes is None:
        max_bytes = feed_max_bytes()
    if allow_private is None:
        allow_private = conf.allow_private_urls()
    if total_timeout is None:
        total_timeout = positive_setting("PODSIGHT_FETCH_TOTAL_TIMEOUT", 300.0)
    started = time.monotonic()
    result = FetchResult(request_url=request.url)
    token = _allow_private.set(allow_private)
    try:
        cap = _Cap(f"the {what}", size_setting, noun=what)
        _fetch_into(result, client, request, max_bytes, allow_private, started + total_timeout, cap)
    except FetchError as exc:
        result.error = exc
        result.content = None
        result.permanent_redirect = None
    finally:
        _allow_private.reset(token)
        result.elapsed_s = time.monotonic() - started
    return result


@dataclass
class Download:
    """A body streamed to a file by :func:`fetch_to_file`."""

    url: str
    final_url: str  # after redirects
    path: Path
    size: int  # bytes written (decoded)
    content_type: str | None  # media type only, e.g. "audio/mpeg"
    elapsed_s: float


def fetch_to_file(
    client: httpx.Client,
    url: str,
    dest: Path,
    *,
    max_bytes: int | None = None,
    allow_private: bool | None = None,
    total_timeout: float | None = None,
    accept: str = AUDIO_ACCEPT,
) -> Download:
    """Stream ``url``'s body into ``dest`` (created or truncated), piece by piece: the body
    is never held in memory. The same guards as :func:`fetch_feed`: every redirect hop
    vetted by the SSRF guard (and the connect-time check of :func:`make_client` clients),
    the size cap (a ``Content-Length`` above it is refused before reading), the read and
    total timeouts.

    ``max_bytes`` defaults to ``PODSIGHT_AUDIO_MAX_BYTES`` and ``total_timeout`` to
    ``PODSIGHT_AUDIO_TOTAL_TIMEOUT`` (this is how enclosures are downloaded), the rest as in
    :func:`fetch_feed`. Raises a :class:`FetchError`; then ``dest`` is removed, so no
    partial download is left behind."""
    if max_bytes is None:
        max_bytes = audio_max_bytes()
    if allow_private is None:
        allow_private = conf.allow_private_urls()
    if total_timeout is None:
        total_timeout = audio_total_timeout()
    started = time.monotonic()
    deadline = started + total_timeout
    # Compression buys nothing on audio; a server that compresses anyway is still decoded.
    headers = {**_base_headers(), "Accept": accept, "Accept-Encoding": "identity"}
    token = _allow_private.set(allow_private)
    try:
        with _final_response(
            client, url, headers, allow_private, deadline, timeout_setting=_AUDIO_CAP.timeout
        ) as (
            response,
            final_url,
            _permanent,
        ):
            status = response.status_code
            if status >= 300 or status < 200:
                if 300 <= status < 400:
                    raise InvalidResponseError(
                        f"{url}: the server answered HTTP {status}, a redirect podsight "
                        "cannot follow; open the URL in a browser to check",
                        url=url,
                    )
                raise HTTPStatusError(
                    _status_message(url, response, _AUDIO_CAP.noun), url=url, status=status
                )
            size = 0
            with open(dest, "wb") as out:
                for piece in _body_pieces(response, url, _AUDIO_CAP, max_bytes, deadline):
                    out.write(piece)
                    size += len(piece)
            content_type = response.headers.get("Content-Type", "")
    except BaseException:
        dest.unlink(missing_ok=True)
        raise
    finally:
        _allow_private.reset(token)
    return Download(
        url=url,
        final_url=final_url,
        path=dest,
        size=size,
        content_type=content_type.split(";", 1)[0].strip().lower() or None,
        elapsed_s=time.monotonic() - started,
    )


def _fetch_into(
    result: FetchResult,
    client: httpx.Client,
    request: FetchRequest,
    max_bytes: int,
    allow_private: bool,
    deadline: float,
    cap: _Cap,
) -> None:
    def hop(url: str, status: int | None) -> None:
        # Kept per hop: a failure mid-chain still tells where and with which answer.
        result.final_url = url
        if status is not None:
            result.status = status

    with _final_response(
        client, request.url, _headers_for(request), allow_private, deadline, on_hop=hop
    ) as (response, _final_url, permanent):
        _read_final(result, response, request, max_bytes, deadline, cap)
    if permanent is not None and permanent != request.url:
        result.permanent_redirect = permanent


@contextmanager
def _final_response(
    client: httpx.Client,
    url: str,
    headers: dict[str, str],
    allow_private: bool,
    deadline: float,
    *,
    on_hop: Callable[[str, int | None], None] | None = None,
    timeout_setting: str = "PODSIGHT_FETCH_TOTAL_TIMEOUT",
) -> Iterator[tuple[httpx.Response, str, str | None]]:
    """The open (streamed) response at the end of ``url``'s redirect chain, its URL, and
    where the chain moved permanently (301/308 hops before any temporary one). Every hop is
    vetted by :func:`check_url` and the deadline; the response is closed on exit. Shared by
    feeds and audio downloads, so both follow redirects and guard in exactly one way."""
    request_url = url
    permanent: str | None = None
    temporary_seen = False
    for _hop in range(MAX_REDIRECTS + 1):
        check_url(url, allow_private=allow_private)
        _check_deadline(request_url, deadline, timeout_setting)
        if on_hop is not None:
            on_hop(url, None)
        with _mapped_errors(request_url):
            response = client.send(
                client.build_request("GET", url, headers=headers),
                stream=True,
                follow_redirects=False,
            )
        try:
            if on_hop is not None:
                on_hop(url, response.status_code)
            is_redirect = response.status_code in _PERMANENT | _TEMPORARY
            if is_redirect and "Location" in response.headers:
                target = _redirect_target(request_url, response)
                if response.status_code in _PERMANENT and not temporary_seen:
                    permanent = target
                elif response.status_code in _TEMPORARY:
                    temporary_seen = True
                url = target
                continue
            yield response, url, permanent
        finally:
            response.close()
        return
    raise TooManyRedirectsError(
        f"{request_url}: more than {MAX_REDIRECTS} redirects (last to {url}); the URL is "
        "probably redirecting in a loop, open it in a browser to check",
        url=request_url,
    )


def _read_final(
    result: FetchResult,
    response: httpx.Response,
    request: FetchRequest,
    max_bytes: int,
    deadline: float,
    cap: _Cap,
) -> None:
    url, status = request.url, response.status_code
    result.etag = response.headers.get("ETag")
    result.last_modified = response.headers.get("Last-Modified")
    if status == 304:
        if not (request.etag or request.last_modified):
            raise InvalidResponseError(
                f"{url}: the server answered 304 Not Modified to an unconditional request; "
                f"this is a server bug, report it to the {cap.noun}'s publisher",
                url=url,
            )
        result.not_modified = True
        result.etag = result.etag or request.etag
        result.last_modified = result.last_modified or request.last_modified
        return
    if 300 <= status < 400:
        raise InvalidResponseError(
            f"{url}: the server answered HTTP {status}, a redirect podsight cannot follow; "
            f"open the URL in a browser to find the {cap.noun}'s current address",
            url=url,
        )
    if status >= 400 or status < 200:
        raise HTTPStatusError(_status_message(url, response, cap.noun), url=url, status=status)
    content_type = response.headers.get("Content-Type")
    if content_type:
        result.content_type = content_type.split(";", 1)[0].strip().lower() or None
        result.charset = response.charset_encoding
    result.content = b"".join(_body_pieces(response, url, cap, max_bytes, deadline))


@dataclass(frozen=True)
class _Cap:
    """What a size cap limits, for its error message: the thing and the setting raising it."""

    what: str
    setting: str
    timeout: str = "PODSIGHT_FETCH_TOTAL_TIMEOUT"  # the setting of the whole fetch's time
    noun: str = "feed"  # in HTTP status hints: "check the feed URL"


_FEED_CAP = _Cap("the feed", "PODSIGHT_FEED_MAX_BYTES")
_AUDIO_CAP = _Cap(
    "the audio", "PODSIGHT_AUDIO_MAX_BYTES", "PODSIGHT_AUDIO_TOTAL_TIMEOUT", noun="audio"
)


def _body_pieces(
    response: httpx.Response, url: str, cap: _Cap, max_bytes: int, deadline: float
) -> Iterator[bytes]:
    """The decoded body in pieces of about ``_PIECE`` bytes, stopped by :class:`TooLargeError`
    once more than ``max_bytes`` arrived (or were declared) and by the deadline."""
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise _too_large(url, max_bytes, f"it declares {int(declared):,} bytes", cap)
    size = 0
    # Decode ourselves: httpx inflates each network chunk in one go, and 300 bytes of brotli
    # can expand to gigabytes before any size check would run.
    encoding = response.headers.get("Content-Encoding", "")
    with _mapped_errors(url):
        try:
            for piece in _decoded(response.iter_raw(), encoding, url):
                size += len(piece)
                if size > max_bytes:
                    raise _too_large(url, max_bytes, f"more than {max_bytes:,} bytes arrived", cap)
                yield piece
                _check_deadline(url, deadline, cap.timeout)
        except _DECODE_ERRORS as exc:
            raise InvalidResponseError(
                f"{url}: the {encoding} compressed response could not be decoded ({exc}); "
                "a server problem, try again later",
                url=url,
            ) from None


def _decoded(raw: Iterable[bytes], content_encoding: str, url: str) -> Iterator[bytes]:
    """Undo ``Content-Encoding`` (possibly stacked) in bounded steps."""
    stream = iter(raw)
    for coding in reversed([c.strip().lower() for c in content_encoding.split(",")]):
        if coding in ("gzip", "x-gzip"):
            stream = _inflate(stream, zlib.MAX_WBITS | 16)
        elif coding == "deflate":
            stream = _inflate(stream, zlib.MAX_WBITS)
        elif coding == "br":
            if not _BROTLI_BOUNDED:
                raise InvalidResponseError(
                    f"{url}: the server sent brotli although it was not requested; "
                    "install brotli>=1.2 to accept it",
                    url=url,
                )
            stream = _unbrotli(stream)
        # Anything else ("identity", or a misconfigured "utf-8") passes through, as in httpx.
    return stream


def _inflate(chunks: Iterator[bytes], wbits: int) -> Iterator[bytes]:
    decompressor = None
    head = b""  # the first two bytes tell zlib-wrapped from raw deflate
    for chunk in chunks:
        if decompressor is None:
            head += chunk
            if len(head) < 2:
                continue
            if wbits == zlib.MAX_WBITS and not _has_zlib_header(head):
                wbits = -zlib.MAX_WBITS  # "deflate" sent without the zlib wrapper, as IIS does
            decompressor = zlib.decompressobj(wbits)
            chunk, head = head, b""
        yield from _drain(decompressor, chunk)
    if head:  # a one-byte body: let zlib judge it
        yield from _drain(zlib.decompressobj(wbits), head)


def _drain(decompressor: typing.Any, data: bytes) -> Iterator[bytes]:
    while True:  # zlib stops short of _PIECE only when it needs more input
        out = decompressor.decompress(data, _PIECE)
        data = decompressor.unconsumed_tail
        if out:
            yield out
        if not data and len(out) < _PIECE:
            return


def _has_zlib_header(data: bytes) -> bool:
    return data[0] & 0x0F == 8 and ((data[0] << 8) | data[1]) % 31 == 0


def _unbrotli(chunks: Iterator[bytes]) -> Iterator[bytes]:
    decompressor = brotli.Decompressor()
    for chunk in chunks:
        out = decompressor.process(chunk, output_buffer_limit=_PIECE)
        while out:  # the limit is soft and output may stay buffered: drain until empty
            yield out
            out = decompressor.process(b"", output_buffer_limit=_PIECE)


def _redirect_target(url: str, response: httpx.Response) -> str:
    location = response.headers["Location"]
    try:
        return str(response.url.join(location))
    except httpx.InvalidURL:
        raise InvalidResponseError(
            f"{url}: the server redirected to an invalid URL {location!r}; report it to the "
            "feed's publisher",
            url=url,
        ) from None


def _too_large(url: str, limit: int, detail: str, cap: _Cap = _FEED_CAP) -> TooLargeError:
    return TooLargeError(
        f"{url}: {cap.what} is larger than the {limit:,}-byte limit ({detail}); raise "
        f"{cap.setting} if it is legitimately that large",
        url=url,
        limit=limit,
    )


def _check_deadline(
    url: str, deadline: float, setting: str = "PODSIGHT_FETCH_TOTAL_TIMEOUT"
) -> None:
    if time.monotonic() > deadline:
        raise FetchTimeoutError(
            f"{url}: the fetch took too long overall ({setting}); the server is sending very "
            f"slowly, try again later (or raise {setting})",
            url=url,
        )


_STATUS_HINTS = {
    401: "the {0} needs a login, which podsight does not support",
    403: "the server refuses access; the {0} may be private or block crawlers",
    404: "check the {0} URL; the {0} may have moved or been removed",
    410: "the {0} was removed for good; consider deleting it",
    429: "the server is rate limiting us; try again later",
}


def _status_message(url: str, response: httpx.Response, what: str = "feed") -> str:
    status = response.status_code
    hint = _STATUS_HINTS.get(status)
    if hint is None:
        hint = "a server-side problem, try again later" if status >= 500 else "check the {0} URL"
    return f"{url}: the server answered HTTP {status} {response.reason_phrase}; {hint.format(what)}"


class _mapped_errors:
    """Translate httpx exceptions raised inside the block into :class:`FetchError` subclasses."""

    def __init__(self, url: str) -> None:
        self.url = url

    def __enter__(self) -> None:
        return None

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: object
    ) -> bool:
        if exc is None or isinstance(exc, FetchError):
            if isinstance(exc, FetchError) and exc.url is None:
                exc.url = self.url  # raised by the network backend, which doesn't know the URL
                exc.args = (f"{exc} (fetching {self.url})",)
            return False
        mapped = _map_exception(self.url, exc)
        if mapped is None:
            return False
        raise mapped from exc


def _map_exception(url: str, exc: BaseException) -> FetchError | None:
    detail = str(exc) or type(exc).__name__
    if isinstance(exc, httpx.ConnectTimeout):
        return FetchTimeoutError(
            f"{url}: could not connect in time; the server may be down, try again later", url=url
        )
    if isinstance(exc, httpx.TimeoutException):
        return FetchTimeoutError(
            f"{url}: the server stopped sending data (read timeout, PODSIGHT_FETCH_READ_TIMEOUT); "
            "try again later",
            url=url,
        )
    if isinstance(exc, httpx.DecodingError):
        return InvalidResponseError(
            f"{url}: the compressed response could not be decoded ({detail}); "
            "a server problem, try again later",
            url=url,
        )
    if isinstance(exc, (httpx.RemoteProtocolError, httpx.LocalProtocolError)):
        return InvalidResponseError(
            f"{url}: the server broke the HTTP protocol ({detail}); try again later", url=url
        )
    if isinstance(exc, httpx.UnsupportedProtocol):
        return InvalidURLError(f"{url}: {detail}", url=url)
    if isinstance(exc, httpx.TransportError):  # ConnectError, ReadError, WriteError, ...
        return ConnectionFailedError(
            f"{url}: the connection failed ({detail}); check the URL and your network, "
            "or try again later",
            url=url,
        )
    return None


def read_feed_file(path: Path, *, max_bytes: int | None = None) -> bytes:
    """A local feed's bytes, under the same size cap as a fetched one.

    Reads at most ``max_bytes + 1`` bytes, so a special file (``/dev/zero``) or a file
    that grows while read cannot exhaust memory; a FIFO is refused rather than waited on.
    Raises :class:`TooLargeError`, or :class:`FetchError` when the file cannot be read."""
    if max_bytes is None:
        max_bytes = feed_max_bytes()
    where = str(path)
    try:
        # Non-blocking open: opening a FIFO would otherwise wait for a writer forever.
        with open(os.open(path, os.O_RDONLY | os.O_NONBLOCK), "rb") as handle:
            info = os.fstat(handle.fileno())
            if stat.S_ISFIFO(info.st_mode) or stat.S_ISSOCK(info.st_mode):
                raise FetchError(f"{where} is a pipe, not a feed file", url=where)
            os.set_blocking(handle.fileno(), True)
            if stat.S_ISREG(info.st_mode) and info.st_size > max_bytes:
                # Refused before reading: no need to read 2 GB to say no.
                raise _too_large(where, max_bytes, f"the file has {info.st_size:,} bytes")
            data = handle.read(max_bytes + 1)
    except OSError as exc:
        raise FetchError(f"cannot read {where}: {exc.strerror or exc}", url=where) from None
    if len(data) > max_bytes:
        raise _too_large(where, max_bytes, f"more than {max_bytes:,} bytes were read")
    return data


def fetch_feeds(
    requests: Sequence[FetchRequest],
    *,
    concurrency: int = 8,
    progress: Progress = SILENT,
    client: httpx.Client | None = None,
    max_bytes: int | None = None,
    allow_private: bool | None = None,
) -> list[FetchResult]:
    """Fetch ``requests`` concurrently (threads sharing one client); results in input order."""
    if not requests:
        return []
    own_client = client is None
    client = client or make_client(max_connections=max(concurrency, 1))
    results: list[FetchResult | None] = [None] * len(requests)
    pool = ThreadPoolExecutor(max_workers=max(concurrency, 1), thread_name_prefix="fetch")
    try:
        with progress.task("fetch", total=len(requests)) as task:

            def work(request: FetchRequest) -> FetchResult:
                task.update(item=request.url)  # from the worker threads: tasks allow it
                return fetch_feed(client, request, max_bytes=max_bytes, allow_private=allow_private)

            futures = {pool.submit(work, request): i for i, request in enumerate(requests)}
            for future in as_completed(futures):
                results[futures[future]] = future.result()
                task.advance()
    finally:
        # On Ctrl-C or a bug, don't start the remaining fetches.
        pool.shutdown(wait=True, cancel_futures=True)
        if own_client:
            client.close()
    return typing.cast(list[FetchResult], results)
