"""Which canonical episode (and show) an event's reference names.

References come as a canonical id, a feed URL plus an enclosure URL (what podcast apps
know), or a source and its external id. Answers are cached for a minute per process:
a batch of 5,000 events names a few hundred episodes, and the same ones again in the
next batch. A merge moves an id to its survivor; the cache follows within that minute.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from podsight.catalog.models import Channel, Episode
from podsight.catalog.services import surviving_ids
from podsight.sources.keys import normalise_feed_url
from podsight.sources.models import KeyKind, SourceEpisode, SourceKey

__all__ = ["Target", "Resolver", "without_query"]

TTL_S = 60.0


@dataclass(frozen=True, slots=True)
class Target:
    episode_id: int | None
    channel_id: int | None
    duration_s: int | None


def without_query(url: str) -> str:
    """An enclosure URL without query and fragment: apps often strip or add tracking
    parameters."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), parts.path, "", ""))


class Resolver:
    def __init__(self, ttl_s: float = TTL_S) -> None:
        self.ttl_s = ttl_s
        self._cache: dict[tuple, tuple[float, Target | None]] = {}
        self._lock = threading.Lock()

    def clear(self) -> None:
        with self._lock:
            self._cache.clear()

    def _get(self, key: tuple, now: float) -> tuple[bool, Target | None]:
        hit = self._cache.get(key)
        if hit is None or hit[0] < now:
            return False, None
        return True, hit[1]

    def resolve(self, keys: list[tuple]) -> dict[tuple, Target | None]:
        """Keys are ``("episode", id)``, ``("channel", id)``, ``("feed", url)``,
        ``("enclosure", feed_url, url)`` or ``("external", source, id)``; the answer is
        None for what the catalog does not hold."""
        now = time.monotonic()
        out: dict[tuple, Target | None] = {}
        missing: dict[str, set[tuple]] = {}
        with self._lock:
            for key in set(keys):
                found, target = self._get(key, now)
                if found:
                    out[key] = target
                else:
                    missing.setdefault(key[0], set()).add(key)
        fresh: dict[tuple, Target | None] = {}
        if "episode" in missing:
            fresh.update(self._episodes({k: k[1] for k in missing["episode"]}))
        if "external" in missing:
            fresh.update(self._external(missing["external"]))
        feeds = {k[1] for k in missing.get("feed", ())} | {
            k[1] for k in missing.get("enclosure", ())
        }
        channels = self._feeds(feeds) if feeds else {}
        for key in missing.get("feed", ()):
            channel = channels.get(key[1])
            fresh[key] = Target(None, channel, None) if channel else None
        if "enclosure" in missing:
            fresh.update(self._enclosures(missing["enclosure"], channels))
        if "channel" in missing:
            alive = surviving_ids(Channel, (k[1] for k in missing["channel"]))
            for key in missing["channel"]:
                channel = alive.get(key[1])
                fresh[key] = Target(None, channel, None) if channel else None
        expires = now + self.ttl_s
        with self._lock:
            for key, target in fresh.items():
                self._cache[key] = (expires, target)
        out.update(fresh)
        return out

    def _episodes(self, ids: dict[tuple, int]) -> dict[tuple, Target | None]:
        alive = surviving_ids(Episode, ids.values())
        rows = {
            pk: (channel, duration)
            for pk, channel, duration in Episode.objects.filter(
                pk__in=set(alive.values())
            ).values_list("id", "channel_id", "duration_s")
        }
        out: dict[tuple, Target | None] = {}
        for key, pk in ids.items():
            survivor = alive.get(pk)
            row = rows.get(survivor) if survivor else None
            out[key] = Target(survivor, row[0], row[1]) if row else None
        return out

    def _external(self, keys: set[tuple]) -> dict[tuple, Target | None]:
        by_source: dict[str, set[str]] = {}
        for _, source, external_id in keys:
            by_source.setdefault(source, set()).add(external_id)
        found: dict[tuple, int] = {}
        for source, external_ids in by_source.items():
            for external_id, episode in SourceEpisode.objects.filter(
                source=source, external_id__in=external_ids, episode__isnull=False
            ).values_list("external_id", "episode_id"):
                found[("external", source, external_id)] = episode
        targets = self._episodes({k: v for k, v in found.items()})
        return {key: targets.get(key) for key in keys}

    def _feeds(self, urls: set[str]) -> dict[str, int]:
        """feed URL as given → alive canonical channel."""
        normalised = {url: normalise_feed_url(url) for url in urls}
        records = dict(
            SourceKey.objects.filter(
                kind=KeyKind.FEED_URL, value__in=set(normalised.values())
            ).values_list("value", "record__channel_id")
        )
        alive = surviving_ids(Channel, (c for c in records.values() if c))
        out = {}
        for url, key in normalised.items():
            channel = alive.get(records.get(key))
            if channel:
                out[url] = channel
        return out

    def _enclosures(self, keys: set[tuple], channels: dict[str, int]) -> dict[tuple, Target | None]:
        # A known show with an unknown episode still names its show.
        out: dict[tuple, Target | None] = {}
        by_channel: dict[int, list[tuple]] = {}
        for key in keys:
            channel = channels.get(key[1])
            out[key] = Target(None, channel, None) if channel else None
            if channel:
                by_channel.setdefault(channel, []).append(key)
        for channel, wanted in by_channel.items():
            exact: dict[str, tuple[int, int | None]] = {}
            loose: dict[str, tuple[int, int | None]] = {}
            for pk, url, duration in Episode.objects.filter(
                channel_id=channel, merged_into__isnull=True
            ).values_list("id", "enclosure_url", "duration_s"):
                if url:
                    exact.setdefault(url, (pk, duration))
                    loose.setdefault(without_query(url), (pk, duration))
            for key in wanted:
                hit = exact.get(key[2]) or loose.get(without_query(key[2]))
                if hit:
                    out[key] = Target(hit[0], channel, hit[1])
        return out
