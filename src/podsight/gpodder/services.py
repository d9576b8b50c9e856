"""gPodder sync state and what it means as listening: devices, subscription changes and
episode actions stored (:mod:`podsight.gpodder.models`), each change also turned into
listening events and sent through :func:`podsight.events.services.ingest` in the same
transaction (a change whose events the log refused is not stored either).

Writers and readers of one device (subscriptions) or one user (episode actions) take the
same row lock (:func:`device_of` with ``lock``, :func:`lock_user`), so no change can
commit "behind" a reader's ``since``. The HTTP side is :mod:`podsight.gpodder.api`.
"""

from __future__ import annotations

import logging
import math
import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import orjson
from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.utils import timezone

from podsight.catalog.models import Channel
from podsight.errors import PodsightError
from podsight.events.schema import EARLIEST, MAX_SECONDS
from podsight.events.services import ingest, resolver
from podsight.gpodder.models import Device, EpisodeAction, Subscription

__all__ = [
    "CONTROL_CHARS",
    "DEVICE_ID",
    "Action",
    "InvalidDevice",
    "action_events",
    "action_key",
    "change_subscriptions",
    "device_of",
    "feed_titles",
    "lock_user",
    "sanitize_url",
    "sanitized_urls",
    "store_actions",
    "unix_seconds",
]

log = logging.getLogger(__name__)

CLIENT = "gpodder"
# A device id as the reference defines it; the model holds 100 characters.
DEVICE_ID = re.compile(r"[\w.-]{1,100}")
# Fixed: event ids and action keys derive from it, and must stay stable across releases.
NAMESPACE = uuid.UUID("6f1d3c52-8a4e-5b7e-9c0d-2b6a1f4e8d17")
# Subscription schemes some apps store; they mean plain HTTP.
FEED_SCHEMES = ("feed", "itpc", "pcast")
CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f]")


class InvalidDevice(PodsightError):
    """A device id the reference does not allow (the API answers 400 ``invalid_device``)."""


def sanitize_url(url: str) -> str:
    """The URL as stored: trimmed, ``feed://``-like schemes as ``http://``; ``""`` when it
    is no http(s) URL (the reference's way of saying "ignored")."""
    cleaned = url.strip()
    if CONTROL_CHARS.search(cleaned):
        return ""
    cleaned = cleaned.replace(" ", "%20")
    scheme, sep, rest = cleaned.partition("://")
    if sep and scheme.lower() in FEED_SCHEMES:
        cleaned = "http://" + rest
    try:
        parts = urlsplit(cleaned)
    except ValueError:
        return ""
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return ""
    return cleaned


def sanitized_urls(urls: Iterable[str], update_urls: dict[str, str]) -> list[str]:
    """Sanitised URLs in order, without repeats and rejected ones; rewrites are noted in
    ``update_urls`` (sent → stored)."""
    out: dict[str, None] = {}
    for url in urls:
        clean = sanitize_url(url)
        if clean != url:
            update_urls[url] = clean
        if clean:
            out[clean] = None
    return list(out)


def device_of(user: AbstractBaseUser, uid: str, *, create: bool, lock: bool) -> Device | None:
    """The user's device ``uid`` (made when ``create``; row-locked when ``lock``)."""
    if not DEVICE_ID.fullmatch(uid):
        raise InvalidDevice(
            f"A device id is 1-100 letters, digits, '.', '-' or '_'; not {uid[:120]!r}."
        )
    rows = Device.objects.filter(user=user, uid=uid)
    if lock:
        rows = rows.select_for_update()
    device = rows.first()
    if device is None and create:
        try:
            with transaction.atomic():
                device = Device.objects.create(user=user, uid=uid)
        except IntegrityError:  # created meanwhile by a concurrent request
            device = rows.get()
    return device


def lock_user(user: AbstractBaseUser) -> None:
    """Serialises the writers and readers of one user's episode actions (see the module
    doc): a reader's ``timestamp`` is then later than every change it did not see."""
    get_user_model().objects.select_for_update().filter(pk=user.pk).first()


def _uuid(*parts: Any) -> str:
    return str(uuid.uuid5(NAMESPACE, orjson.dumps(parts).decode()))


def _iso(when: datetime) -> str:
    return when.astimezone(UTC).isoformat()


def _subscription_event(
    username: str, device: str, url: str, subscribed: bool, when: datetime
) -> dict[str, Any]:
    kind = "subscribe" if subscribed else "unsubscribe"
    return {
        "event_id": _uuid(username, device, url, kind, _iso(when)),
        "user_id": username,
        "type": kind,
        "feed_url": url,
        "occurred_at": _iso(when),
        "device": device,
    }


@dataclass(frozen=True)
class Action:
    """One episode action as the app sent it, URLs sanitised."""

    podcast: str
    episode: str
    action: str
    device: str | None
    timestamp: datetime | None
    started: int | None
    position: int | None
    total: int | None
    guid: str


def action_key(username: str, action: Action, when: datetime) -> str:
    """Identity of an action: the same action uploaded again has the same key."""
    return _uuid(
        username,
        action.device,
        action.podcast,
        action.episode,
        action.action,
        _iso(when),
        action.started,
        action.position,
        action.total,
        action.guid,
    )


def action_events(
    username: str, action: Action, when: datetime, now: datetime
) -> list[dict[str, Any]]:
    """The listening events an action stands for (see docs/events.md); values the event
    schema would refuse are left out, the sync state keeps them."""
    if action.action not in ("play", "download"):
        return []
    at = min(when, now)  # a phone's clock ahead of ours
    if at < EARLIEST:
        return []
    key = action_key(username, action, when)
    base = {
        "user_id": username,
        "feed_url": action.podcast,
        "enclosure_url": action.episode,
        "device": action.device,
    }

    def event(kind: str, occurred: datetime, **fields: Any) -> dict[str, Any]:
        # One action may make two events: the part named makes their ids differ.
        own = {"event_id": _uuid(key, kind), "type": kind, "occurred_at": _iso(occurred)}
        return {**base, **own, **fields}

    if action.action == "download":
        return [event("download", at)]
    position = action.position
    if position is None or not 0 <= position <= MAX_SECONDS:
        return []
    started = action.started
    if started is not None and not 0 <= started <= MAX_SECONDS:
        started = None
    reached = max(position, started or 0)
    if action.total and reached <= action.total <= MAX_SECONDS:
        base["duration_s"] = action.total
    if started is None:
        return [event("progress", at, position_s=position)]
    began = at - timedelta(seconds=max(position - started, 0))
    if began < EARLIEST:
        return []
    session = f"gpodder:{action.device or ''}:{unix_seconds(when)}"
    return [
        event("play", began, position_s=started, session_id=session),
        event("pause", at, position_s=position, session_id=session),
    ]


def _send_events(events: list[dict[str, Any]], now: datetime) -> None:
    """Store the events in the log; LogUnavailable propagates (the caller rolls back)."""
    if not events:
        return
    result = ingest(events, client=CLIENT, keep_unknown=CLIENT, now=now)
    if result.errors:
        # An event the schema refused does not fail the sync: the app's state is kept.
        log.warning(
            "gPodder sync: %d of %d events not stored, e.g. %s",
            len(result.errors),
            len(events),
            result.errors[0]["errors"],
        )


def change_subscriptions(
    user: AbstractBaseUser,
    uid: str,
    add: list[str] | None = None,
    remove: list[str] | None = None,
    replace: list[str] | None = None,
) -> datetime:
    """Apply changes (or a whole new list) to a device; returns the time they carry."""
    with transaction.atomic():
        device = device_of(user, uid, create=True, lock=True)
        now = timezone.now()  # after the lock: later than what any reader already saw
        current = {s.url: s for s in device.subscriptions.all()}
        if replace is not None:
            wanted = set(replace)
            add = replace
            remove = [url for url, s in current.items() if s.subscribed and url not in wanted]
        changes = [(url, True) for url in add or []] + [(url, False) for url in remove or []]
        created, updated, events = [], [], []
        for url, subscribed in changes:
            row = current.get(url)
            if row is not None and row.subscribed == subscribed:
                continue  # a repeat: nothing changes, no event
            if row is None:
                row = Subscription(device=device, url=url, subscribed=subscribed, changed_at=now)
                current[url] = row
                created.append(row)
            else:
                row.subscribed, row.changed_at = subscribed, now
                updated.append(row)
            events.append(
                _subscription_event(user.get_username(), device.uid, url, subscribed, now)
            )
        Subscription.objects.bulk_create(created, batch_size=500)
        Subscription.objects.bulk_update(updated, ["subscribed", "changed_at"], batch_size=500)
        _send_events(events, now)
    return now


def feed_titles(urls: list[str]) -> dict[str, str]:
    """Titles of the feeds the catalog holds, for the OPML export."""
    targets = resolver.resolve([("feed", url) for url in urls])
    channels = {url: t.channel_id for (_, url), t in targets.items() if t and t.channel_id}
    titles = dict(Channel.objects.filter(pk__in=set(channels.values())).values_list("id", "title"))
    return {url: titles[c] for url, c in channels.items() if titles.get(c)}


def _stored_keys(user: AbstractBaseUser, keys: list[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(keys), 500):
        chunk = keys[start : start + 500]
        rows = EpisodeAction.objects.filter(user=user, key__in=chunk).values_list("key", flat=True)
        found.update(str(key) for key in rows)
    return found


def store_actions(user: AbstractBaseUser, actions: list[Action]) -> datetime:
    with transaction.atomic():
        lock_user(user)
        now = timezone.now()
        username = user.get_username()
        devices = {
            uid: device_of(user, uid, create=True, lock=False)
            for uid in {a.device for a in actions if a.device}
        }
        keyed: dict[str, tuple[Action, datetime]] = {}
        for action in actions:
            when = action.timestamp or now
            keyed.setdefault(action_key(username, action, when), (action, when))
        # Under the user's lock this is exact: an action uploaded again is stored once
        # and makes no events (nor candidate mentions) again.
        stored = _stored_keys(user, list(keyed))
        rows, events = [], []
        for key, (action, when) in keyed.items():
            if key in stored:
                continue
            rows.append(
                EpisodeAction(
                    user=user,
                    device=devices.get(action.device),
                    podcast=action.podcast,
                    episode=action.episode,
                    guid=action.guid,
                    action=action.action,
                    timestamp=when,
                    started=action.started,
                    position=action.position,
                    total=action.total,
                    uploaded_at=now,
                    key=key,
                )
            )
            events.extend(action_events(username, action, when, now))
        EpisodeAction.objects.bulk_create(rows, batch_size=500)
        _send_events(events, now)
    return now


def unix_seconds(when: datetime) -> int:
    return math.floor(when.timestamp())
