"""Serving recommendations: precomputed lists per user, read from a cache, logged.

**Which version serves a user.** The version with status ``serving`` serves everyone,
except, during an A/B test, the users whose stable hash of ``user_id`` falls below the
challenger's ``share``: the challenger serves them (:func:`version_for`). The hash is
SHA-256, not Python's salted ``hash``, so a user stays on one side across processes and
restarts. Which versions are active is read from the database at most once a second per
process (:func:`active`); a promotion in another process reaches a server within that.

**The cache.** After a version is trained and promoted (or rolled back to, or starts an
A/B test) every known user's list is computed (:func:`precompute`) and stored: in the
``CachedRecommendations`` table, or in Redis when ``PODSIGHT_CACHE_URL`` is a ``redis://``
URL. Each list is ``CACHED_LENGTH`` episodes long (more than the largest ``n``, 100, so
that a language filter and the per-show aggregation still have enough to choose from)
and carries the version that computed it: a list from another version than the one that
serves the user now is a miss. A miss (a user never seen, or a new version) is computed
on demand, from the user's history in the lake now, and cached. :func:`refresh_users`
(the events consumer calls it after each engagement commit) recomputes given users.

**Impressions.** Every list served is logged (user, version, the episodes in the order
served) as an :class:`~podsight.recs.models.Impression`. Writing a row per request would
cost the request a database write; they are buffered in memory and written in bulk by a
background thread every second (or at 500), and at exit (gunicorn's and waitress's
graceful stops run it), so a stop loses none. :func:`play_through` gives each version its
online metric: the share of the (user, episode) pairs served in the last days, whose
24 hours are over, that the user played within 24 hours (the lake's events, read with
DuckDB; docs/recs.md "Online metric").
"""

from __future__ import annotations

import atexit
import hashlib
import logging
import os
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

import orjson

from podsight import conf
from podsight.errors import InputError, PodsightError, StorageError
from podsight.progress import SILENT, Progress
from podsight.recs.bundle import forget_version

if TYPE_CHECKING:
    from podsight.recs.blend import Hybrid, Recommendation

__all__ = [
    "CACHED_LENGTH",
    "KINDS",
    "MAX_N",
    "Active",
    "NoModel",
    "NotInModel",
    "RecommendationList",
    "active",
    "also_played",
    "bucket",
    "cache",
    "flush_impressions",
    "forget_active",
    "forget_loaded",
    "impressions",
    "play_through",
    "precompute",
    "recommendations_for",
    "refresh_users",
    "try_history",
    "version_for",
    "warm",
]

log = logging.getLogger(__name__)

MAX_N = 100
# The width of the user_id columns (CachedRecommendations, Impression) and of a username.
MAX_USER_ID = 150
CACHED_LENGTH = 200
KINDS = ("episodes", "shows")
ACTIVE_TTL_S = 1.0
PLAY_WINDOW = timedelta(hours=24)


class NoModel(PodsightError):
    """No model version serves yet (the API answers 409 ``no_model``)."""

    http_status = 409
    code = "no_model"

    def __init__(self, message: str | None = None) -> None:
        super().__init__(
            message
            or "No recommendation model is serving yet: run `podsight recs train` (it needs "
            "listening events in the lake: `podsight events consume`)."
        )


class NotInModel(PodsightError):
    """An episode the serving model was not trained with."""

    http_status = 404
    code = "not_in_model"


# --------------------------------------------------------------------------- versions


@dataclass(frozen=True)
class Active:
    """The versions serving now: ``serving`` for everyone, ``challenger`` for the users
    whose :func:`bucket` is below ``share``."""

    serving: str | None
    challenger: str | None = None
    share: float = 0.0
    paths: dict[str, str] = field(default_factory=dict)

    @property
    def versions(self) -> list[str]:
        return [v for v in (self.serving, self.challenger) if v]


_active: tuple[float, Active] | None = None


def active() -> Active:
    """The active versions, read at most once per ``ACTIVE_TTL_S`` per process."""
    global _active
    now = time.monotonic()
    if _active is not None and now - _active[0] < ACTIVE_TTL_S:
        return _active[1]
    from podsight.recs.models import ModelStatus, ModelVersion

    rows = ModelVersion.objects.filter(
        status__in=(ModelStatus.SERVING, ModelStatus.CHALLENGER)
    ).values_list("version", "status", "share", "path")
    serving = challenger = None
    share = 0.0
    paths = {}
    for version, status, row_share, path in rows:
        paths[version] = path
        if status == ModelStatus.SERVING:
            serving = version
        else:
            challenger, share = version, row_share
    found = Active(serving, challenger if serving else None, share if serving else 0.0, paths)
    _active = (now, found)
    return found


def forget_active() -> None:
    """Read the active versions afresh next time (after a promotion in this process)."""
    global _active
    _active = None


def bucket(user_id: str) -> float:
    """A number in [0, 1) fixed for a user id (the A/B split)."""
    digest = hashlib.sha256(user_id.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def version_for(user_id: str, current: Active | None = None) -> str | None:
    current = current or active()
    if current.challenger and bucket(user_id) < current.share:
        return current.challenger
    return current.serving


# --------------------------------------------------------------------------- the cache


class Cache(Protocol):
    def get(self, user_id: str) -> dict | None: ...

    def put_many(self, entries: dict[str, dict]) -> None: ...

    def users(self) -> set[str]: ...

    def clear(self) -> None: ...


class DatabaseCache:
    """``CachedRecommendations``: one row per user.

    Read with one prepared SQL statement and orjson rather than the ORM, whose query
    building and ``json`` decoding of a 200-item list were most of a cached request's
    time (docs/recs.md "Measured")."""

    def __init__(self) -> None:
        from podsight.recs.models import CachedRecommendations

        meta = CachedRecommendations._meta
        column = {f.name: f.column for f in meta.concrete_fields}
        self._read = (
            f"SELECT {column['model_version']}, {column['computed_at']}, {column['items']} "
            f"FROM {meta.db_table} WHERE {column['user_id']} = %s"
        )

    def get(self, user_id: str) -> dict | None:
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute(self._read, [user_id])
            row = cursor.fetchone()
        if row is None:
            return None
        version, at, items = row
        if isinstance(items, (str, bytes, bytearray, memoryview)):  # jsonb comes decoded
            items = orjson.loads(bytes(items) if isinstance(items, memoryview) else items)
        return {"v": version, "at": _iso(at), "items": items}

    def put_many(self, entries: dict[str, dict]) -> None:
        from podsight.recs.models import CachedRecommendations

        rows = [
            CachedRecommendations(
                user_id=user,
                model_version=entry["v"],
                computed_at=datetime.fromisoformat(entry["at"]),
                items=entry["items"],
            )
            for user, entry in entries.items()
        ]
        CachedRecommendations.objects.bulk_create(
            rows,
            batch_size=500,
            update_conflicts=True,
            unique_fields=["user_id"],
            update_fields=["model_version", "computed_at", "items"],
        )

    def users(self) -> set[str]:
        from podsight.recs.models import CachedRecommendations

        return set(CachedRecommendations.objects.values_list("user_id", flat=True))

    def clear(self) -> None:
        from podsight.recs.models import CachedRecommendations

        CachedRecommendations.objects.all().delete()


class RedisCache:
    """One key per user (``podsight:recs:<user_id>``), the entry as JSON."""

    PREFIX = "podsight:recs:"

    def __init__(self, url: str) -> None:
        import redis

        self.url = url
        # redis-py's pool notices a fork and reconnects in the child (gunicorn workers).
        self.client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)

    def _call(self, fn, *args):
        import redis

        try:
            return fn(*args)
        except redis.RedisError as exc:
            raise StorageError(
                f"the recommendations cache at {_safe(self.url)} (PODSIGHT_CACHE_URL) cannot "
                f"be used: {exc}; start Redis or unset PODSIGHT_CACHE_URL to cache in the "
                "database"
            ) from exc

    def get(self, user_id: str) -> dict | None:
        raw = self._call(self.client.get, self.PREFIX + user_id)
        return None if raw is None else orjson.loads(raw)

    def put_many(self, entries: dict[str, dict]) -> None:
        def write() -> None:
            with self.client.pipeline(transaction=False) as pipe:
                for n, (user, entry) in enumerate(entries.items(), 1):
                    pipe.set(self.PREFIX + user, orjson.dumps(entry))
                    if n % 1000 == 0:
                        pipe.execute()
                pipe.execute()

        self._call(write)

    def users(self) -> set[str]:
        def scan() -> set[str]:
            cut = len(self.PREFIX)
            return {
                key.decode("utf-8")[cut:]
                for key in self.client.scan_iter(match=self.PREFIX + "*", count=1000)
            }

        return self._call(scan)

    def clear(self) -> None:
        def drop() -> None:
            keys = list(self.client.scan_iter(match=self.PREFIX + "*", count=1000))
            for start in range(0, len(keys), 1000):
                self.client.delete(*keys[start : start + 1000])

        self._call(drop)


def _iso(value: datetime | str) -> str:
    """A stored time as ISO 8601 in UTC (SQLite hands back text, PostgreSQL a datetime)."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.isoformat()


def _safe(url: str) -> str:
    """The URL without a password."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if parts.password:
        host = parts.hostname or ""
        if parts.port:
            host = f"{host}:{parts.port}"
        return urlunsplit(parts._replace(netloc=f"{parts.username or ''}:***@{host}"))
    return url


_cache: tuple[str, int, Cache] | None = None


def cache() -> Cache:
    """Redis when ``PODSIGHT_CACHE_URL`` names it, else the database (one per process)."""
    global _cache
    url = conf.env("PODSIGHT_CACHE_URL", "")
    if _cache is not None and _cache[0] == url and _cache[1] == os.getpid():
        return _cache[2]
    backend: Cache
    if url.startswith(("redis://", "rediss://", "unix://")):
        backend = RedisCache(url)
    else:
        backend = DatabaseCache()
    _cache = (url, os.getpid(), backend)
    return backend


# --------------------------------------------------------------------------- computing


class _Loaded:
    """A version's hybrid and the lookups serving needs of its facts."""

    def __init__(self, version: str, hybrid: Hybrid) -> None:
        facts = hybrid.facts
        self.version = version
        self.hybrid = hybrid
        self.titles = list(facts.item_titles) if facts.item_titles is not None else None
        self.show_titles = dict(zip(facts.shows, facts.show_titles, strict=False))
        self.items = {episode: i for i, episode in enumerate(facts.items)}
        self.users = list(facts.users)


_versions: dict[str, _Loaded] = {}
_versions_lock = threading.Lock()


def _load(version: str, current: Active | None = None) -> _Loaded:
    found = _versions.get(version)
    if found is not None:
        return found
    from pathlib import Path

    from podsight.recs.bundle import load_hybrid

    path = current.paths.get(version) if current else None
    hybrid = load_hybrid(version, Path(path) if path else None)
    with _versions_lock:
        found = _versions.setdefault(version, _Loaded(version, hybrid))
        if current is not None:
            # A long-lived process (server, consumer) keeps only the versions serving now.
            keep = {*current.versions, version}
            for stale in [v for v in _versions if v not in keep]:
                del _versions[stale]
                forget_version(stale)
    return found


def warm() -> list[str]:
    """Load the active versions' models now (the consumer before its first events; a
    server could before its first request); the versions loaded."""
    import podsight.recs.data  # noqa: F401  (its imports take seconds too)

    forget_active()
    current = active()
    for version in current.versions:
        _load(version, current)
    return current.versions


def _item(loaded: _Loaded, rec: Recommendation) -> dict[str, Any]:
    return {
        "episode": rec.episode,
        "title": loaded.titles[rec.item] if loaded.titles is not None else "",
        "show": rec.show,
        "show_title": loaded.show_titles.get(rec.show, "") if rec.show is not None else "",
        "language": rec.language or "",
        "score": round(float(rec.score), 6),
        "sources": list(rec.sources),
        "reason": rec.reason,
    }


def _compute(
    loaded: _Loaded,
    user_ids: Sequence[str],
    *,
    length: int = CACHED_LENGTH,
    language: str | None = None,
    progress: Progress = SILENT,
) -> dict[str, list[dict]]:
    from podsight.recs.core import History
    from podsight.recs.data import user_histories

    if not user_ids:
        return {}
    histories = user_histories(user_ids, loaded.hybrid.facts)
    out: dict[str, list[dict]] = {}
    with progress.task(f"recommending ({loaded.version})", total=len(user_ids)) as task:
        for user in user_ids:
            history = histories.get(user) or History(user=user)
            recs = loaded.hybrid.recommend(history, length, language=language)
            out[user] = [_item(loaded, r) for r in recs]
            task.advance()
    return out


def _entry(version: str, items: list[dict]) -> dict:
    return {"v": version, "at": datetime.now(UTC).isoformat(), "items": items}


def refresh_users(user_ids: Iterable[str]) -> int:
    """Recompute and cache these users' lists with the version that serves each; how many
    (0 when no version serves)."""
    current = active()
    if not current.serving:
        return 0
    by_version: dict[str, list[str]] = {}
    for user in dict.fromkeys(user_ids):
        by_version.setdefault(version_for(user, current), []).append(user)
    written = 0
    for version, users in by_version.items():
        loaded = _load(version, current)
        lists = _compute(loaded, users)
        cache().put_many({u: _entry(version, items) for u, items in lists.items()})
        written += len(lists)
    return written


def precompute(*, progress: Progress = SILENT) -> int:
    """Compute and cache every known user's list (the users the active versions were
    fitted on, and everyone already cached) with the version serving each; how many."""
    forget_active()
    current = active()
    if not current.serving:
        return 0
    known: dict[str, None] = {}
    for version in current.versions:
        known.update(dict.fromkeys(_load(version, current).users))
    known.update(dict.fromkeys(sorted(cache().users())))
    by_version: dict[str, list[str]] = {}
    for user in known:
        by_version.setdefault(version_for(user, current), []).append(user)
    written = 0
    for version, users in by_version.items():
        loaded = _load(version, current)
        for start in range(0, len(users), 2000):
            chunk = users[start : start + 2000]
            lists = _compute(loaded, chunk, progress=progress)
            cache().put_many({u: _entry(version, items) for u, items in lists.items()})
            written += len(lists)
    return written


# --------------------------------------------------------------------------- reading


@dataclass
class RecommendationList:
    """What ``GET /api/users/{id}/recommendations`` answers with."""

    user_id: str
    model_version: str
    kind: str
    language: str | None
    items: list[dict[str, Any]]
    cached: bool  # from the precomputed cache (False: computed for this request)
    computed_at: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "user_id": self.user_id,
            "model_version": self.model_version,
            "kind": self.kind,
            "language": self.language,
            "cached": self.cached,
            "computed_at": self.computed_at,
            "results": self.items,
        }


def _primary(language: str) -> str:
    return language.replace("_", "-").split("-", 1)[0].lower()


def _shows(items: list[dict], n: int) -> list[dict]:
    """Episodes grouped by show, in the order of each show's best episode (its score)."""
    shows: dict[str, dict] = {}
    for item in items:
        show = item["show"]
        if show is None:
            continue
        found = shows.get(show)
        if found is None:
            if len(shows) == n:
                continue
            shows[show] = {
                "show": show,
                "show_title": item["show_title"],
                "language": item["language"],
                "score": item["score"],
                "sources": list(item["sources"]),
                "reason": item["reason"],
                "episodes": [{"episode": item["episode"], "title": item["title"]}],
            }
        else:
            found["episodes"].append({"episode": item["episode"], "title": item["title"]})
            found["sources"] += [s for s in item["sources"] if s not in found["sources"]]
    return list(shows.values())


def _capped(items: list[dict], cap: int, window: int) -> list[dict]:
    """``items`` re-placed so that no show has more than ``cap`` in any ``window``
    consecutive places, as :meth:`Hybrid._select` places them: each place to the first
    remaining item whose show is not blocked. A filtered list needs it again: dropping
    the other languages' items brings one show's episodes next to each other."""
    remaining = list(items)
    out: list[dict] = []
    while remaining:
        recent = [i["show"] for i in out[-(window - 1) :]] if window > 1 else []
        for k, item in enumerate(remaining):
            show = item["show"]
            if show is None or recent.count(show) < cap:
                out.append(remaining.pop(k))
                break
        else:
            break
    return out


def recommendations_for(user_id: str, *, n: int = 20, kind: str = "episodes",
                        language: str | None = None, log_impression: bool = True,
                        ) -> RecommendationList:  # fmt: skip
    """The user's list: from the cache when it holds one of the version serving them,
    else computed now (a user never seen gets the cold-start list) and cached."""
    if not 1 <= n <= MAX_N:
        raise InputError(f"n must be from 1 to {MAX_N}, not {n}")
    if kind not in KINDS:
        raise InputError(f"kind must be one of {', '.join(KINDS)}, not {kind!r}")
    if not user_id or len(user_id) > MAX_USER_ID:
        # Checked before computing or caching: an id this long can be no listener's.
        raise InputError(f"user_id must be 1 to {MAX_USER_ID} characters long, not {len(user_id)}")
    current = active()
    version = version_for(user_id, current)
    if version is None:
        raise NoModel()
    store = cache()
    entry = store.get(user_id)
    cached = entry is not None and entry.get("v") == version
    if not cached:
        loaded = _load(version, current)
        items = _compute(loaded, [user_id])[user_id]
        entry = _entry(version, items)
        store.put_many({user_id: entry})
    items = entry["items"]
    if language:
        wanted = _primary(language)
        items = [i for i in items if _primary(i["language"] or "") == wanted]
        if len(items) < n and len(entry["items"]) >= CACHED_LENGTH:
            # The cached list ran out of this language: ask the model for it directly.
            loaded = _load(version, current)
            items = _compute(loaded, [user_id], length=CACHED_LENGTH, language=wanted)[user_id]
            items = [i for i in items if _primary(i["language"] or "") == wanted]
        hybrid = _load(version, current).hybrid
        items = _capped(items, hybrid.show_cap, hybrid.cap_window)
    if kind == "shows":
        results = _shows(items, n)
        served = [show["episodes"][0]["episode"] for show in results]
    else:
        results = items[:n]
        served = [i["episode"] for i in results]
    if log_impression and served:
        impressions.add(user_id, version, served)
    return RecommendationList(user_id, version, kind, language, results, cached, entry["at"])


def also_played(episode_id: int, n: int = 10) -> tuple[str, list[dict]]:
    """(version, episodes listeners of ``episode_id`` also played) from the serving
    version; :class:`NotInModel` when it was not trained with that episode."""
    current = active()
    if not current.serving:
        raise NoModel()
    loaded = _load(current.serving, current)
    item = loaded.items.get(str(episode_id))
    if item is None:
        raise NotInModel(
            f"Episode {episode_id} is not in model {current.serving}: it had no listening "
            "when the model was trained; the next `podsight recs train` includes it."
        )
    recs = loaded.hybrid.also_played(item, n)
    return current.serving, [_item(loaded, r) for r in recs]


# The most episodes a made-up history for "try it" may hold.
MAX_TRY = 20


def try_history(episode_ids: Sequence[int], n: int = 10) -> dict[str, Any]:
    """What a new listener who has finished ``episode_ids`` would be recommended now, by
    the serving version's own path (:meth:`Hybrid.recommend` on a :class:`History` made of
    them, as :func:`recommendations_for` computes a listener unknown to the model): the
    blend, its filters and each item's sources and reason. Nothing is cached or logged as
    an impression: no listener saw it.

    Ids merged into another episode count as their survivor; ids of no episode are
    :class:`~podsight.errors.NotFoundError`; episodes the serving model was not trained
    with (published since) are left out and named in ``not_in_model``."""
    import numpy as np

    from podsight.catalog.models import Episode
    from podsight.catalog.services import surviving_ids
    from podsight.recs.core import History

    if not 1 <= n <= MAX_N:
        raise InputError(f"n must be from 1 to {MAX_N}, not {n}")
    if len(episode_ids) > MAX_TRY:
        raise InputError(f"at most {MAX_TRY} episodes, not {len(episode_ids)}")
    current = active()
    if not current.serving:
        raise NoModel()
    wanted = list(dict.fromkeys(int(e) for e in episode_ids))
    survivors = surviving_ids(Episode, wanted)
    missing = [e for e in wanted if e not in survivors]
    if missing:
        from podsight.errors import NotFoundError

        raise NotFoundError(f"no episode with id {', '.join(map(str, missing))}")
    loaded = _load(current.serving, current)
    facts = loaded.hybrid.facts
    items: list[int] = []
    not_in_model: list[int] = []
    for episode in wanted:
        index = loaded.items.get(str(survivors[episode]))
        if index is None:
            not_in_model.append(episode)
        elif index not in items:
            items.append(index)
    played = np.array(sorted(items), dtype=np.int32)
    languages: dict[str, int] = {}
    if facts.item_language is not None:
        for index in items:
            language = facts.item_language[index]
            if language:
                languages[language] = languages.get(language, 0) + 1
    # A finished play of each (weight 1: a whole episode's completion), as the lake would
    # hold it for a listener who just played them through.
    history = History(
        user="",
        items=played,
        weights=np.ones(len(played), dtype=np.float32),
        seen=played,
        finished=played,
        languages=tuple(sorted(languages, key=lambda lang: (-languages[lang], lang))),
    )
    recs = loaded.hybrid.recommend(history, n)

    def described(index: int) -> dict[str, Any]:
        show = None
        if facts.item_show is not None and facts.item_show[index] >= 0:
            show = facts.shows[int(facts.item_show[index])]
        return {
            "episode": facts.items[index],
            "title": loaded.titles[index] if loaded.titles is not None else "",
            "show": show,
            "show_title": loaded.show_titles.get(show, "") if show is not None else "",
            "language": (facts.item_language[index] if facts.item_language is not None else "")
            or "",
        }

    return {
        "model_version": current.serving,
        "history": [described(i) for i in items],
        "not_in_model": not_in_model,
        "results": [_item(loaded, r) for r in recs],
    }


def forget_loaded() -> None:
    """Drop the loaded versions, the active state, the cache client and unwritten
    impressions, as a new process starts (tests)."""
    global _cache, _online
    from podsight.recs.bundle import clear_loaded

    with _versions_lock:
        _versions.clear()
    clear_loaded()
    forget_active()
    _cache = None
    _online = None
    impressions.drop()


# --------------------------------------------------------------------------- impressions


class _ImpressionLog:
    """Impressions buffered in memory, written in bulk by a thread and at exit.

    A batch the database refuses is kept for the next round; after ``RETRIES`` refusals
    in a row its rows are written one by one and those still refused are logged and
    dropped, so one bad row never holds back every later impression (nor grows the
    buffer without end)."""

    FLUSH_EVERY_S = 1.0
    FLUSH_AT = 500
    RETRIES = 3
    # Tests inside a database transaction write them with flush_impressions() instead.
    background = True

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rows: list[tuple[str, str, datetime, list[str]]] = []
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._pid = 0
        self._failures = 0
        self._thread: threading.Thread | None = None

    def add(self, user_id: str, version: str, episodes: list[str]) -> None:
        with self._lock:
            if self._pid != os.getpid():  # a forked worker: its own buffer and thread
                self._rows, self._pid, self._thread = [], os.getpid(), None
                self._stop = threading.Event()
            self._rows.append((user_id, version, datetime.now(UTC), episodes))
            if self._thread is None and self.background and not self._stop.is_set():
                self._thread = threading.Thread(
                    target=self._run, name="podsight-impressions", daemon=True
                )
                self._thread.start()
            full = len(self._rows) >= self.FLUSH_AT
        if full:
            self._wake.set()

    def drop(self) -> None:
        with self._lock:
            self._rows = []

    def close(self, timeout: float = 10.0) -> int:
        """Stop the writer thread (it finishes the batch it is writing), then write what
        is left; how many (at exit: the thread is a daemon, killed mid-write otherwise)."""
        self._stop.set()
        self._wake.set()
        thread = self._thread
        if thread is not None and thread.is_alive() and thread is not threading.current_thread():
            thread.join(timeout)
        return self.flush()

    def _run(self) -> None:
        from django.db import connection

        while not self._stop.is_set():
            self._wake.wait(self.FLUSH_EVERY_S)
            self._wake.clear()
            if self._stop.is_set():
                break  # close() writes the rest
            try:
                self.flush()
            except Exception:  # a busy database: keep them for the next round
                log.warning("could not write impressions; retrying", exc_info=True)
            finally:
                connection.close()

    def flush(self) -> int:
        from django.db import transaction

        from podsight.recs.models import Impression

        with self._lock:
            if self._pid != os.getpid():
                return 0
            rows, self._rows = self._rows, []
        if not rows:
            return 0
        made = [Impression(user_id=u, model_version=v, served_at=t, episodes=e)
                for u, v, t, e in rows]  # fmt: skip
        try:
            with (
                transaction.atomic()
            ):  # a savepoint: a refusal leaves a caller's transaction usable
                Impression.objects.bulk_create(made, batch_size=500)
        except Exception:
            self._failures += 1
            if self._failures < self.RETRIES:
                with self._lock:
                    self._rows[:0] = rows
                raise
        else:
            self._failures = 0
            return len(rows)
        self._failures = 0
        written = 0
        for row in made:
            try:
                with transaction.atomic():
                    row.save()
                written += 1
            except Exception:
                log.warning("impression of %r (%s) dropped: the database refuses it",
                            row.user_id[:40], row.model_version, exc_info=True)  # fmt: skip
        return written


impressions = _ImpressionLog()


def flush_impressions() -> int:
    """Write the buffered impressions now; how many."""
    return impressions.flush()


@atexit.register
def _flush_at_exit() -> None:
    try:
        impressions.close()
    except Exception:
        log.warning("impressions not written at exit", exc_info=True)


# --------------------------------------------------------------------------- online metric


# The online metric reads the impressions of this many days back, and a process answers
# from its last computation for ONLINE_TTL_S (GET /api/recs/models is open to anyone).
ONLINE_DAYS = 7
ONLINE_TTL_S = 60.0
_online: tuple[float, dict[str, dict[str, Any]]] | None = None


def _survivors() -> dict[int, int]:
    """Merged-away episode ids -> the surviving id (chains followed): events keep the id
    a listener's app knew; the model serves survivors."""
    from podsight.catalog.models import Episode

    moved = dict(Episode.objects.filter(merged_into__isnull=False)
                 .values_list("pk", "merged_into_id"))  # fmt: skip
    out = {}
    for old in moved:
        new, seen = moved[old], {old}
        while new in moved and new not in seen:
            seen.add(new)
            new = moved[new]
        out[old] = new
    return out


def play_through(*, max_age_s: float = ONLINE_TTL_S) -> dict[str, dict[str, Any]]:
    """Per version, over the impressions of the last ``ONLINE_DAYS`` days whose 24 h
    window has closed (served at least 24 h before the newest event in the lake):
    ``shown``, the distinct (user, episode) pairs served (a page reloaded counts once,
    from its first serving), ``played``, those the user played within 24 h of it (event
    episode ids mapped to surviving ids), their ``rate`` (None when none shown) and
    ``impressions``, the lists served in the window. Computed at most once per
    ``max_age_s`` per process."""
    global _online
    now = time.monotonic()
    if _online is not None and now - _online[0] < max_age_s:
        return _online[1]
    result = _play_through()
    _online = (time.monotonic(), result)
    return result


def _play_through() -> dict[str, dict[str, Any]]:
    import pyarrow as pa
    from deltalake import DeltaTable
    from django.db.models import Count

    from podsight import lake
    from podsight.lake.tables import EVENTS
    from podsight.recs.models import Impression

    flush_impressions()
    since = datetime.now(UTC) - timedelta(days=ONLINE_DAYS)
    recent = Impression.objects.filter(served_at__gte=since)
    result: dict[str, dict[str, Any]] = {
        version: {"impressions": count, "shown": 0, "played": 0, "rate": None}
        for version, count in recent.values_list("model_version").annotate(n=Count("id"))
    }
    if not result or not lake.exists(EVENTS):
        return result
    events = DeltaTable(str(lake.table_path(EVENTS))).to_pyarrow_dataset(
        file_pruning_predicate=[("date", ">=", since.date().isoformat())]
    )
    con = lake.connect()
    try:
        con.register("events", events)
        # As microseconds: a timestamp with time zone into Python would need pytz.
        newest = con.sql("SELECT epoch_us(max(occurred_at)) FROM events").fetchall()[0][0]
        if newest is None:
            return result
        closed = datetime.fromtimestamp(newest / 1e6, UTC) - PLAY_WINDOW
        users, versions, served, episodes = [], [], [], []
        rows = recent.filter(served_at__lte=closed).values_list(
            "user_id", "model_version", "served_at", "episodes"
        )
        for user, version, at, listed in rows.iterator(chunk_size=5000):
            for episode in listed:
                try:
                    episode_id = int(episode)
                except (TypeError, ValueError):
                    continue
                users.append(user)
                versions.append(version)
                served.append(at)
                episodes.append(episode_id)
        moves = _survivors()
        con.register("shown", pa.table({
            "user_id": pa.array(users, pa.string()),
            "model_version": pa.array(versions, pa.string()),
            "served_at": pa.array(served, pa.timestamp("us", tz="UTC")),
            "episode_id": pa.array(episodes, pa.int64()),
        }))  # fmt: skip
        con.register("moves", pa.table({
            "old": pa.array(list(moves), pa.int64()),
            "new": pa.array(list(moves.values()), pa.int64()),
        }))  # fmt: skip
        counts = con.sql(
            "WITH first AS (SELECT model_version, user_id, episode_id, min(served_at) AS at "
            "  FROM shown GROUP BY ALL), "
            "plays AS (SELECT e.user_id, coalesce(m.new, e.episode_id) AS episode_id, "
            "  e.occurred_at FROM events e LEFT JOIN moves m ON m.old = e.episode_id "
            "  WHERE e.type = 'play') "
            "SELECT f.model_version, count(*), count(*) FILTER (WHERE EXISTS ("
            "  SELECT 1 FROM plays p WHERE p.user_id = f.user_id "
            "  AND p.episode_id = f.episode_id AND p.occurred_at >= f.at "
            "  AND p.occurred_at < f.at + INTERVAL 24 HOUR)) "
            "FROM first f GROUP BY 1"
        ).fetchall()
    finally:
        con.close()
    for version, shown, played in counts:
        entry = result[version]
        entry["shown"], entry["played"] = int(shown), int(played)
        if shown:
            entry["rate"] = round(played / shown, 4)
    return result
