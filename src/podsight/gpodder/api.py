"""The gPodder.net API v2, so that podcast apps (gPodder, AntennaPod, Kasts…) sync here.

Endpoints, auth and the meaning of ``since`` are described in ``docs/events.md``
("gPodder sync API"). In short:

* Auth is HTTP Basic with a Django user, or the ``sessionid`` cookie that a successful
  Basic request (or ``…/login.json``) sets, as gpodder.net does: clients such as
  mygpoclient answer only a few 401 challenges per run and rely on the cookie after.
  Failed Basic logins are throttled (:mod:`podsight.accounts.throttle`).
* The views here parse and answer; :mod:`podsight.gpodder.services` stores the sync
  state (devices, subscriptions, episode actions: :mod:`podsight.gpodder.models`) and
  sends every change as listening events through :func:`podsight.events.services.ingest`,
  in the same database transaction, so a request whose events the log refused stores
  nothing (503).
* ``since`` is Unix seconds; changes with a time ≥ ``since`` are returned and
  ``timestamp`` is the current second, so a change may come back twice but none is
  missed. Writers and readers of one device (subscriptions) or one user (episode
  actions) take the same row lock, so no change can commit "behind" a reader.
"""

from __future__ import annotations

import base64
import binascii
import functools
import logging
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
from django.contrib.auth import authenticate, get_user, login, logout
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.sessions.middleware import SessionMiddleware
from django.db import transaction
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.utils.decorators import decorator_from_middleware
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from lxml import etree

from podsight.accounts import throttle
from podsight.api.body import BodyTooLarge, read_body
from podsight.api.errors import error_body
from podsight.errors import PodsightError
from podsight.events.log import LogUnavailable
from podsight.events.schema import MAX_TEXT
from podsight.gpodder.models import Device, DeviceType, EpisodeAction, Subscription
from podsight.gpodder.services import (
    CONTROL_CHARS,
    DEVICE_ID,
    Action,
    InvalidDevice,
    change_subscriptions,
    device_of,
    feed_titles,
    lock_user,
    sanitize_url,
    sanitized_urls,
    store_actions,
    unix_seconds,
)
from podsight.security import client_address
from podsight.sources.rss.parser import SAFE_XML

__all__ = ["ACTIONS", "REALM", "Refused", "endpoint"]

log = logging.getLogger(__name__)

REALM = "podsight"
ACTIONS = ("download", "play", "delete", "new", "flattr")
DEVICE_TYPES = frozenset(DeviceType.values)
FORMATS = ("json", "txt", "opml")
# gPodder uploads its whole pending history at once on a first sync; ~50,000 actions.
MAX_BODY_BYTES = 16 * 1024 * 1024
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
INT_LIMIT = 2**31 - 1  # what an IntegerField holds on every database

_with_session = decorator_from_middleware(SessionMiddleware)


class Refused(PodsightError):
    """Ends a request with an error response in the API's error shape (:func:`endpoint`
    turns it into one); under podsight's error root like every error raised on purpose."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        details: Any = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details
        self.headers = headers or {}


def _error(status: int, code: str, message: str, details: Any = None) -> JsonResponse:
    return JsonResponse(error_body(status, code, message, details), status=status)


def _unauthorized(message: str) -> JsonResponse:
    response = _error(401, "not_authenticated", message)
    response["WWW-Authenticate"] = f'Basic realm="{REALM}"'
    return response


# --------------------------------------------------------------------------- auth


@dataclass(frozen=True)
class Caller:
    user: AbstractBaseUser
    by_session: bool  # False: HTTP Basic in this request


def _basic(request: HttpRequest) -> tuple[str, str] | None:
    """(username, password) of a Basic header; None without one; Refused when malformed."""
    scheme, _, value = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        raw = base64.b64decode(value.strip(), validate=True)
    except binascii.Error:
        raise Refused(401, "invalid_credentials", "Malformed HTTP Basic credentials.") from None
    try:
        decoded = raw.decode("utf-8")
    except UnicodeDecodeError:  # older clients send Latin-1 (RFC 7617's legacy default)
        decoded = raw.decode("latin-1")
    username, sep, password = decoded.partition(":")
    if not sep:
        raise Refused(401, "invalid_credentials", "Malformed HTTP Basic credentials.")
    return username, password


def _caller(request: HttpRequest) -> Caller | None:
    """Who sends the request: Basic credentials win over the session cookie. A valid Basic
    request also logs in, so that the client may go on with the cookie alone."""
    credentials = _basic(request)
    if credentials is not None:
        try:  # before the password check, whose CPU is what guessing spends
            attempt = throttle.begin(credentials[0], client_address(request))
            with throttle.password_check():
                user = authenticate(request, username=credentials[0], password=credentials[1])
        except throttle.LoginThrottled as exc:
            raise Refused(
                429, "throttled", str(exc), headers={"Retry-After": str(exc.retry_after)}
            ) from None
        if user is None:
            attempt.failed()
            return None
        attempt.succeeded()
        if get_user(request).pk != user.pk:
            login(request, user)
        return Caller(user, by_session=False)
    user = get_user(request)
    if not user.is_authenticated or not user.is_active:
        return None
    return Caller(user, by_session=True)


View = Callable[..., HttpResponse]


def endpoint(*methods: str, other_user_status: int = 403) -> Callable[[View], View]:
    """A gPodder view: allowed methods, authentication, the username of the path checked,
    :class:`Refused` turned into a response. The view gets ``(request, user, **kwargs)``."""

    def decorate(view: View) -> View:
        @functools.wraps(view)
        def wrapper(request: HttpRequest, username: str, **kwargs: Any) -> HttpResponse:
            if request.method not in methods:
                response = _error(
                    405, "method_not_allowed", f"{request.method} is not allowed here."
                )
                response["Allow"] = ", ".join(methods)
                return response
            try:
                caller = _caller(request)
                if caller is None:
                    return _unauthorized(
                        "This endpoint needs HTTP Basic credentials of a podsight user "
                        "(or the session cookie of a login)."
                    )
                if caller.user.get_username() != username:
                    status = other_user_status if caller.by_session else 403
                    raise Refused(
                        status,
                        "other_user",
                        f"Signed in as {caller.user.get_username()!r}: the path names "
                        f"{username!r}. A user reads and writes only their own data.",
                    )
                return view(request, caller.user, **kwargs)
            except InvalidDevice as exc:
                return _error(400, "invalid_device", str(exc))
            except Refused as refused:
                if refused.status == 401:
                    return _unauthorized(refused.message)
                response = _error(refused.status, refused.code, refused.message, refused.details)
                for name, value in refused.headers.items():
                    response[name] = value
                return response

        return csrf_exempt(_with_session(never_cache(wrapper)))

    return decorate


# --------------------------------------------------------------------------- input


def _body(request: HttpRequest) -> bytes:
    try:
        return read_body(request, MAX_BODY_BYTES)
    except BodyTooLarge as exc:
        raise Refused(413, "too_large", str(exc)) from None


def _json(body: bytes, empty: Any = None) -> Any:
    if not body.strip():
        if empty is None:
            raise Refused(400, "invalid", "The body is empty; JSON was expected.")
        return empty
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise Refused(400, "malformed_json", f"The body is not valid JSON: {exc}") from None


# Unix seconds as the document states them: ASCII digits, a fraction allowed, spaces
# around; ten digits reach 2286 (float() would also take "1e5", "1_000" or "inf").
SINCE = re.compile(r"\s*([0-9]{1,10}(?:\.[0-9]*)?)?\s*")


def _since(request: HttpRequest) -> datetime:
    """``since`` as a UTC time, floored to its second; 0 when absent or empty."""
    raw = request.GET.get("since", "")
    match = SINCE.fullmatch(raw)
    if match is None:
        raise Refused(
            400, "invalid", f"since must be a Unix timestamp in seconds, not {raw[:40]!r}."
        )
    if not match.group(1):
        return EPOCH
    return datetime.fromtimestamp(math.floor(float(match.group(1))), UTC)


def _flag(request: HttpRequest, name: str) -> bool:
    return request.GET.get(name, "").strip().lower() in ("1", "true", "yes", "on")


def _url_list(value: Any, name: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(u, str) for u in value):
        raise Refused(400, "invalid", f"{name} must be a list of URL strings.")
    return value


# --------------------------------------------------------------------------- devices


# --------------------------------------------------------------------------- events


def _log_down(exc: LogUnavailable) -> JsonResponse:
    log.error("gPodder sync: event log unavailable: %s", exc)
    return _error(
        503,
        "log_unavailable",
        "The event log could not store this request's events; nothing of the request was "
        "stored. Retry later.",
    )


# --------------------------------------------------------------------------- subscriptions


@endpoint("GET", "POST")
def subscription_changes(request: HttpRequest, user: AbstractBaseUser, deviceid: str):
    """``/api/2/subscriptions/{username}/{deviceid}.json``: upload or fetch changes."""
    if request.method == "GET":
        since = _since(request)
        with transaction.atomic():
            device = device_of(user, deviceid, create=True, lock=True)
            now = timezone.now()
            rows = device.subscriptions.filter(changed_at__gte=since).order_by("changed_at", "id")
            changes = list(rows.values_list("url", "subscribed"))
        return JsonResponse(
            {
                "add": [url for url, subscribed in changes if subscribed],
                "remove": [url for url, subscribed in changes if not subscribed],
                "timestamp": unix_seconds(now),
            }
        )
    data = _json(_body(request))
    if not isinstance(data, dict):
        raise Refused(400, "invalid", 'The body must be {"add": [...], "remove": [...]}.')
    add, remove = _url_list(data.get("add"), "add"), _url_list(data.get("remove"), "remove")
    both = sorted(set(add) & set(remove))
    if both:
        raise Refused(
            400,
            "add_and_remove",
            "The same URL is both added and removed; nothing was stored.",
            {"urls": both},
        )
    update_urls: dict[str, str] = {}
    add = sanitized_urls(add, update_urls)
    # Two spellings of one feed, one added and one removed: the addition wins.
    added = set(add)
    remove = [url for url in sanitized_urls(remove, update_urls) if url not in added]
    try:
        now = change_subscriptions(user, deviceid, add=add, remove=remove)
    except LogUnavailable as exc:
        return _log_down(exc)
    return JsonResponse({"timestamp": unix_seconds(now), "update_urls": list(update_urls.items())})


def _render(urls: list[str], fmt: str, title: str) -> HttpResponse:
    if fmt == "json":
        return JsonResponse(urls, safe=False)
    if fmt == "txt":
        body = "".join(f"{url}\n" for url in urls)
        return HttpResponse(body, content_type="text/plain; charset=utf-8")
    opml = etree.Element("opml", version="2.0")
    head = etree.SubElement(opml, "head")
    etree.SubElement(head, "title").text = title
    body = etree.SubElement(opml, "body")
    titles = feed_titles(urls)
    for url in urls:
        name = CONTROL_CHARS.sub("", titles.get(url, url))  # XML cannot hold control characters
        etree.SubElement(body, "outline", text=name, title=name, type="rss", xmlUrl=url)
    document = etree.tostring(opml, xml_declaration=True, encoding="utf-8", pretty_print=True)
    return HttpResponse(document, content_type="text/x-opml; charset=utf-8")


def _parse_list(body: bytes, fmt: str) -> list[str]:
    """The URLs of an uploaded subscription list, in the format of the path."""
    if fmt == "json":
        data = _json(body, empty=[])
        if not isinstance(data, list):
            raise Refused(400, "invalid", "A JSON subscription list is an array of URLs.")
        urls = [item.get("url") if isinstance(item, dict) else item for item in data]
        return _url_list(urls, "The list")
    if fmt == "txt":
        text = body.decode("utf-8", errors="replace")
        lines = (line.strip() for line in text.splitlines())
        return [line for line in lines if line and not line.startswith("#")]
    if not body.strip():
        return []
    parser = etree.XMLParser(**SAFE_XML)
    try:
        root = etree.fromstring(body, parser)
    except etree.XMLSyntaxError as exc:
        raise Refused(400, "invalid_opml", f"The body is not readable OPML: {exc}") from None
    outlines = root.iter("outline")
    return [u for o in outlines if (u := o.get("xmlUrl") or o.get("xmlurl") or o.get("url"))]


def _check_format(fmt: str) -> None:
    if fmt not in FORMATS:
        raise Refused(
            400, "invalid_format", f"Format {fmt!r} is not served; use one of {', '.join(FORMATS)}."
        )


@endpoint("GET", "PUT")
def device_subscriptions(request: HttpRequest, user: AbstractBaseUser, deviceid: str, fmt: str):
    """Simple API ``/subscriptions/{username}/{deviceid}.{format}``: the list, or a new
    one that replaces it (applied as changes, so it makes events too)."""
    _check_format(fmt)
    if request.method == "GET":
        device = device_of(user, deviceid, create=False, lock=False)
        if device is None:
            raise Refused(404, "not_found", f"No device {deviceid!r}: it uploads first.")
        rows = device.subscriptions.filter(subscribed=True).order_by("id")
        urls = list(rows.values_list("url", flat=True))
        return _render(urls, fmt, f"{user.get_username()} on {deviceid}")
    urls = sanitized_urls(_parse_list(_body(request), fmt), {})
    try:
        change_subscriptions(user, deviceid, replace=urls)
    except LogUnavailable as exc:
        return _log_down(exc)
    return HttpResponse(b"", content_type="text/plain")  # the reference's empty 200


@endpoint("GET")
def user_subscriptions(request: HttpRequest, user: AbstractBaseUser, fmt: str):
    """Simple API ``/subscriptions/{username}.{format}``: subscriptions of all devices."""
    _check_format(fmt)
    rows = Subscription.objects.filter(device__user=user, subscribed=True).order_by("id")
    urls = list(dict.fromkeys(rows.values_list("url", flat=True)))
    return _render(urls, fmt, f"{user.get_username()}'s subscriptions")


# --------------------------------------------------------------------------- devices


@endpoint("GET")
def device_list(request: HttpRequest, user: AbstractBaseUser):
    """``GET /api/2/devices/{username}.json``."""
    devices = Device.objects.filter(user=user).annotate(
        subscribed=Count("subscriptions", filter=Q(subscriptions__subscribed=True))
    )
    return JsonResponse(
        [
            {"id": d.uid, "caption": d.caption, "type": d.type, "subscriptions": d.subscribed}
            for d in devices.order_by("id")
        ],
        safe=False,
    )


@endpoint("POST", "PUT")  # mygpoclient 1.0 sent PUT
def device_update(request: HttpRequest, user: AbstractBaseUser, deviceid: str):
    """``POST /api/2/devices/{username}/{deviceid}.json`` with ``{caption?, type?}``."""
    data = _json(_body(request), empty={})
    if not isinstance(data, dict):
        raise Refused(400, "invalid", 'The body must be {"caption": ..., "type": ...}.')
    errors: dict[str, list[str]] = {}
    caption, kind = data.get("caption"), data.get("type")
    if caption is not None and (not isinstance(caption, str) or len(caption) > MAX_TEXT):
        errors["caption"] = [f"must be a string of at most {MAX_TEXT} characters"]
    if kind is not None and (not isinstance(kind, str) or kind not in DEVICE_TYPES):
        errors["type"] = [f"must be one of: {', '.join(sorted(DEVICE_TYPES))}"]
    if errors:
        raise Refused(400, "invalid", "The device settings are invalid.", errors)
    with transaction.atomic():
        device = device_of(user, deviceid, create=True, lock=True)
        if caption is not None:
            device.caption = caption
        if kind is not None:
            device.type = kind
        device.save()
    return HttpResponse(b"", content_type="text/plain")


# --------------------------------------------------------------------------- episode actions


def _int_field(value: Any, name: str, errors: dict[str, list[str]]) -> int | None:
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = int(value.strip())
        except ValueError:
            pass
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        errors[name] = [f"must be a whole number of seconds, not {value!r:.40}"]
        return None
    value = math.floor(value)
    if abs(value) > INT_LIMIT:
        errors[name] = [f"must be between -{INT_LIMIT} and {INT_LIMIT}"]
        return None
    return value


def _timestamp(value: Any, errors: dict[str, list[str]]) -> datetime | None:
    if value is None or value == "":
        return None
    try:
        if isinstance(value, str):
            when = datetime.fromisoformat(value.strip())
            # gPodder timestamps are UTC without a zone ("2009-12-12T09:00:00").
            return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
        if isinstance(value, int | float) and not isinstance(value, bool):
            return datetime.fromtimestamp(value, UTC)
    except (ValueError, OverflowError, OSError):
        pass
    errors["timestamp"] = [
        f"must be an ISO 8601 UTC time like 2009-12-12T09:00:00, not {value!r:.40}"
    ]
    return None


def _action(raw: Any, update_urls: dict[str, str]) -> tuple[Action | None, dict[str, list[str]]]:
    """One uploaded action checked; ``(None, {})`` for one the reference says to ignore
    (a URL that is not http(s))."""
    if not isinstance(raw, dict):
        return None, {"non_field_errors": [f"an action is an object, not {type(raw).__name__}"]}
    errors: dict[str, list[str]] = {}
    urls = {}
    for name in ("podcast", "episode"):
        value = raw.get(name)
        if not isinstance(value, str) or not value.strip():
            errors[name] = ["required: a URL"]
        else:
            urls[name] = sanitized_urls([value], update_urls)
    kind = raw.get("action")
    kind = kind.strip().lower() if isinstance(kind, str) else kind
    if kind not in ACTIONS:
        errors["action"] = [f"must be one of: {', '.join(ACTIONS)}; not {kind!r:.40}"]
    device = raw.get("device")
    if device is not None and (not isinstance(device, str) or not DEVICE_ID.fullmatch(device)):
        errors["device"] = ["a device id is 1-100 letters, digits, '.', '-' or '_'"]
    guid = raw.get("guid")
    if guid is not None and not isinstance(guid, str):
        errors["guid"] = ["must be a string"]
    timestamp = _timestamp(raw.get("timestamp"), errors)
    # started/position/total belong to play actions; elsewhere they are dropped.
    numbers = {
        name: _int_field(raw.get(name), name, errors) if kind == "play" else None
        for name in ("started", "position", "total")
    }
    if errors:
        return None, errors
    if not urls["podcast"] or not urls["episode"]:
        return None, {}
    return (
        Action(
            podcast=urls["podcast"][0],
            episode=urls["episode"][0],
            action=kind,
            device=device or None,
            timestamp=timestamp,
            guid=guid or "",
            **numbers,
        ),
        {},
    )


def _parse_actions(data: Any, update_urls: dict[str, str]) -> list[Action]:
    if isinstance(data, dict) and isinstance(data.get("actions"), list):
        data = data["actions"]
    if not isinstance(data, list):
        raise Refused(400, "invalid", "The body must be a JSON array of episode actions.")
    actions, problems = [], []
    for index, raw in enumerate(data):
        action, errors = _action(raw, update_urls)
        if errors:
            problems.append({"index": index, "errors": errors})
        elif action is not None:
            actions.append(action)
    if problems:
        raise Refused(
            400,
            "invalid_actions",
            f"{len(problems)} of the {len(data)} episode actions are invalid (see details); "
            "nothing was stored.",
            {"actions": problems},
        )
    return actions


def _action_dict(row: EpisodeAction) -> dict[str, Any]:
    out: dict[str, Any] = {
        "podcast": row.podcast,
        "episode": row.episode,
        "action": row.action,
        "timestamp": row.timestamp.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S"),
    }
    if row.device is not None:
        out["device"] = row.device.uid
    if row.guid:
        out["guid"] = row.guid
    if row.action == "play":
        # Clients (mygpoclient) refuse started/total without a position.
        out["position"] = row.position or 0
        for name in ("started", "total"):
            value = getattr(row, name)
            if value is not None:
                out[name] = value
    return out


@endpoint("GET", "POST")
def episode_actions(request: HttpRequest, user: AbstractBaseUser):
    """``/api/2/episodes/{username}.json``: upload actions, or fetch those uploaded since."""
    if request.method == "POST":
        update_urls: dict[str, str] = {}
        actions = _parse_actions(_json(_body(request)), update_urls)
        try:
            now = store_actions(user, actions)
        except LogUnavailable as exc:
            return _log_down(exc)
        return JsonResponse(
            {"timestamp": unix_seconds(now), "update_urls": list(update_urls.items())}
        )
    since = _since(request)
    podcast = request.GET.get("podcast", "").strip()
    device = request.GET.get("device", "").strip()
    with transaction.atomic():
        lock_user(user)
        now = timezone.now()
        rows = EpisodeAction.objects.filter(user=user, uploaded_at__gte=since)
        if podcast:
            rows = rows.filter(podcast__in={podcast, sanitize_url(podcast)} - {""})
        if device:
            rows = rows.filter(device__uid=device)
        found = list(rows.select_related("device").order_by("timestamp", "id"))
    if _flag(request, "aggregated"):
        latest = {(row.podcast, row.episode): row for row in found}
        found = sorted(latest.values(), key=lambda row: (row.timestamp, row.id))
    return JsonResponse(
        {"actions": [_action_dict(row) for row in found], "timestamp": unix_seconds(now)}
    )


# --------------------------------------------------------------------------- login


@endpoint("POST", other_user_status=400)
def auth_login(request: HttpRequest, user: AbstractBaseUser):
    """``POST /api/2/auth/{username}/login.json``: the ``sessionid`` cookie is set by the
    authentication itself; with a cookie alone this checks that it is still valid."""
    return HttpResponse(b"", content_type="text/plain")


@csrf_exempt
@_with_session
@never_cache
def auth_logout(request: HttpRequest, username: str) -> HttpResponse:
    """``POST /api/2/auth/{username}/logout.json``: 200 without a session too; 400 for the
    session of another user (both as the reference says)."""
    if request.method != "POST":
        response = _error(405, "method_not_allowed", f"{request.method} is not allowed here.")
        response["Allow"] = "POST"
        return response
    user = get_user(request)
    if user.is_authenticated and user.get_username() != username:
        return _error(
            400,
            "other_user",
            f"The session is {user.get_username()!r}'s, not {username!r}'s; still signed in.",
        )
    logout(request)
    return HttpResponse(b"", content_type="text/plain")
