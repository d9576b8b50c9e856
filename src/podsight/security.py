"""What the server believes about a request's transport: who sent it and over which scheme.

``PODSIGHT_TRUSTED_PROXIES`` (settings ``TRUSTED_PROXIES``) lists the reverse proxies in
front of the server. From them, and only from them, ``X-Forwarded-For`` gives the client's
address (``REMOTE_ADDR``, which login throttling keys on) and ``X-Forwarded-Proto: https``
makes the request secure. From anyone else those headers are dropped: a client cannot
pick its own address or claim HTTPS. Every cookie of a secure request is ``Secure``;
plain-HTTP use on localhost keeps working because nothing sets the flag globally.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from functools import lru_cache

from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.http import HttpRequest, HttpResponse, JsonResponse

from podsight.api.errors import error_body

__all__ = [
    "ProxyHeadersMiddleware",
    "SecureCookiesMiddleware",
    "client_address",
    "json_bad_request",
]

_Address = ipaddress.IPv4Address | ipaddress.IPv6Address
_FORWARDED_FOR = "HTTP_X_FORWARDED_FOR"
_FORWARDED_PROTO = "HTTP_X_FORWARDED_PROTO"
# RFC 7239's header is not read; dropped too, so that nothing downstream trusts it.
_FORWARDED = "HTTP_FORWARDED"


@lru_cache(maxsize=16)
def _networks(spec: tuple[str, ...]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(n, strict=False) for n in spec)


def _address(text: str) -> _Address | None:
    text = text.strip()
    if text.startswith("["):  # "[v6]" or "[v6]:port"
        text = text[1:].partition("]")[0]
    elif text.count(":") == 1:  # "v4:port"
        text = text.partition(":")[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    mapped = getattr(address, "ipv4_mapped", None)
    return mapped or address


def _trusted(address: _Address | None) -> bool:
    if address is None:
        return False
    return any(address in network for network in _networks(tuple(settings.TRUSTED_PROXIES)))


def _client(forwarded_for: str, peer: _Address) -> _Address:
    """The nearest address in the chain that is not a trusted proxy (RFC 7239's rule):
    entries left of it were written by the client and prove nothing."""
    client = peer
    for entry in reversed(forwarded_for.split(",")):
        address = _address(entry)
        if address is None:
            break
        client = address
        if not _trusted(address):
            break
    return client


class ProxyHeadersMiddleware:
    """Applies the forwarded headers of a trusted proxy; drops them from anyone else."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        meta = request.META
        forwarded_for = meta.pop(_FORWARDED_FOR, "")
        proto = meta.pop(_FORWARDED_PROTO, "")
        meta.pop(_FORWARDED, None)
        peer = _address(meta.get("REMOTE_ADDR", ""))
        if _trusted(peer):
            if forwarded_for:
                meta["REMOTE_ADDR"] = str(_client(forwarded_for, peer))
            # The proxy nearest to us wrote the last value.
            scheme = proto.split(",")[-1].strip().lower()
            if scheme in ("http", "https"):
                meta["wsgi.url_scheme"] = scheme
        return self.get_response(request)


class SecureCookiesMiddleware:
    """Marks every cookie of a request that came over HTTPS ``Secure`` (the gPodder login
    cookie carries a session: it must never travel in clear)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if request.is_secure():
            for morsel in response.cookies.values():
                morsel["secure"] = True
        return response


def client_address(request: HttpRequest) -> str:
    """The client's address as throttling counts it: IPv6 clients by their /64, since one
    subscriber commonly holds a whole /64."""
    address = _address(request.META.get("REMOTE_ADDR", ""))
    if address is None:
        return "unknown"
    if address.version == 6:
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


def json_bad_request(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    """Django's 400 (an unknown Host, a malformed request) in the API's error shape."""
    if isinstance(exception, DisallowedHost):
        body = error_body(
            400,
            "disallowed_host",
            "The Host header names a host this server does not answer to "
            "(the server's PODSIGHT_ALLOWED_HOSTS).",
        )
    else:
        body = error_body(400, "bad_request", "The request is malformed.")
    return JsonResponse(body, status=400)
