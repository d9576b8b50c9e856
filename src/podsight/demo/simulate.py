"""The listener simulator: a population of listeners with latent tastes plays the
canonical catalog, and what their players would report is sent as listening events,
to ``POST /api/events`` or straight into the event log.

Three layers, each a plain function:

* :func:`load_catalog` reads the alive shows (their categories are the *topics*) and
  episodes once; :func:`build_listeners` draws each listener's true tastes from a seed:
  sparse topic weights, a few favourite shows, an activity level (lognormal: a few
  heavy listeners, many light ones), a playback speed and a device.
* :func:`generate_events` is a discrete-event simulation in simulated time. Tokens
  arrive at ``rate`` per simulated second (Poisson); each token emits the earliest
  event that is due, or else starts a session of an idle listener (chosen by
  activity). A session picks an episode by taste and plays it: ``play``, ``progress``
  every minute of wall time, the odd ``pause``/``play`` or ``seek``, and an end:
  ``complete``, ``pause`` (stopped mid-way) or ``skip`` (abandoned early; likelier the
  lower the listener's :func:`affinity` for the show), then sometimes ``like``,
  ``unlike``, ``rate``, ``subscribe`` or ``unsubscribe``. Deterministic for a seed and
  a start time.
* :func:`run` paces the stream in real time (the simulated clock runs ``speedup``
  times faster; it starts in the past so that no event is ever from the future),
  batches it, sends it with retries (same event ids: retries are idempotent), writes
  the tastes file and returns a :class:`SimulationReport`.

See ``docs/events.md`` ("Listener simulator").
"""

from __future__ import annotations

import bisect
import heapq
import json
import math
import os
import random
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt

from podsight import conf
from podsight.errors import InputError, PodsightError
from podsight.progress import SILENT, Progress

__all__ = [
    "BatchResult",
    "Catalog",
    "DirectSink",
    "EpisodeRef",
    "HttpSink",
    "InvalidSimulation",
    "Listener",
    "SimulationError",
    "SimulationReport",
    "Show",
    "affinity",
    "build_listeners",
    "capacity",
    "default_tastes_path",
    "generate_events",
    "load_catalog",
    "run",
    "write_tastes",
    "DEFAULT_DURATION_S",
]

# What a player assumes when the catalog does not know an episode's length.
DEFAULT_DURATION_S = 45 * 60
# Catalog durations beyond this are taken as wrong (unknown).
MAX_DURATION_S = 24 * 3600
# Only the newest episodes of a show can be picked (older ones are rarely played anyway).
MAX_EPISODES_PER_SHOW = 200
PROGRESS_INTERVAL_S = 60.0
UNCATEGORISED = "Uncategorised"
SPEEDS = (1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.25, 1.5, 1.5, 2.0)
DEVICES = ("ios", "android", "web", "desktop", "car")
DEVICE_WEIGHTS = (4, 4, 1, 1, 1)
TOPIC_COUNTS = (1, 2, 3, 4)
TOPIC_COUNT_WEIGHTS = (0.35, 0.35, 0.2, 0.1)
FAVOURITE_COUNTS = (1, 1, 2, 2, 2, 3, 3, 4, 5)
# Chance that a session plays one of the listener's favourite shows.
FAVOURITE_SHARE = 0.6
# Weight of every show, whatever its topics, when a listener explores (× popularity).
EXPLORE_BASE = 0.03
# An episode of rank r (0 = newest) in its show is picked with weight RECENCY**r + floor.
RECENCY = 0.8
RECENCY_FLOOR = 0.01
# Per minute of playback: chance of a pause (then play again) or a seek.
PAUSE_PER_MIN = 0.025
SEEK_PER_MIN = 0.03
BATCH_MAX = 5_000
TRANSIENT_STATUSES = frozenset((429, 502, 503, 504))


class SimulationError(PodsightError, RuntimeError):
    """The simulation cannot go on (no catalog, a refused token, a server that stays
    down); the message says what to do."""


class InvalidSimulation(InputError, ValueError):
    """A parameter of :func:`run` is out of range (still a ``ValueError``, as it was)."""


# ---------------------------------------------------------------------------------------
# The catalog and the listeners


@dataclass(frozen=True, slots=True)
class EpisodeRef:
    id: int
    show_id: int
    duration_s: int | None  # the catalog's; None when unknown
    published_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Show:
    id: int
    title: str
    topics: tuple[str, ...]
    episodes: tuple[EpisodeRef, ...]  # newest first


@dataclass
class Catalog:
    """What the simulator needs of the canonical catalog: shows that have episodes."""

    shows: list[Show]
    by_id: dict[int, Show] = field(init=False, repr=False)
    episodes: dict[int, EpisodeRef] = field(init=False, repr=False)
    topics: list[str] = field(init=False)

    def __post_init__(self) -> None:
        self.shows = sorted((s for s in self.shows if s.episodes), key=lambda s: s.id)
        self.by_id = {s.id: s for s in self.shows}
        self.episodes = {e.id: e for s in self.shows for e in s.episodes}
        self.topics = sorted({t for s in self.shows for t in s.topics})


def load_catalog(*, max_episodes_per_show: int = MAX_EPISODES_PER_SHOW) -> Catalog:
    """The alive shows and their newest alive, available episodes (Django must be set up)."""
    from django.db.models import F

    from podsight.catalog.models import Channel, ChannelCategory, Episode

    titles = dict(Channel.objects.alive().values_list("id", "title"))
    topics: dict[int, list[str]] = defaultdict(list)
    rows = (
        ChannelCategory.objects.filter(channel__merged_into__isnull=True)
        .order_by("channel_id", "id")
        .values_list("channel_id", "path")
    )
    for channel_id, path in rows:
        topics[channel_id].append(path)
    episodes: dict[int, list[EpisodeRef]] = defaultdict(list)
    rows = (
        Episode.objects.alive()
        .filter(channel__merged_into__isnull=True, available=True)
        .order_by("channel_id", F("published_at").desc(nulls_last=True), "-id")
        .values_list("id", "channel_id", "duration_s", "published_at")
    )
    for episode_id, channel_id, duration, published in rows.iterator(chunk_size=10_000):
        kept = episodes[channel_id]
        if len(kept) >= max_episodes_per_show:
            continue
        if duration is not None and not 0 < duration <= MAX_DURATION_S:
            duration = None
        kept.append(EpisodeRef(episode_id, channel_id, duration, published))
    return Catalog(
        [
            Show(cid, titles[cid], tuple(topics.get(cid) or (UNCATEGORISED,)), tuple(eps))
            for cid, eps in episodes.items()
            if cid in titles
        ]
    )


@dataclass(frozen=True, slots=True)
class Listener:
    """A simulated listener's true tastes (what a recommender should rediscover)."""

    user_id: str
    topics: dict[str, float]  # sparse; the weights sum to 1
    favourite_shows: tuple[int, ...]
    activity: float  # relative: how often the listener starts listening
    speed: float  # playback speed
    device: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "user_id": self.user_id,
            "topics": self.topics,
            "favourite_shows": list(self.favourite_shows),
            "activity": self.activity,
            "speed": self.speed,
            "device": self.device,
        }


def affinity(listener: Listener, show: Show) -> float:
    """How much the listener likes the show, 0…1: half for a favourite, half for the
    topics (the listener's weights of the show's topics, saturating at 2/3)."""
    topic = sum(listener.topics.get(t, 0.0) for t in show.topics)
    favourite = 0.5 if show.id in listener.favourite_shows else 0.0
    return round(favourite + 0.5 * min(1.0, 1.5 * topic), 4)


def _popularity(catalog: Catalog, seed: int) -> list[float]:
    """A show's overall popularity (lognormal: a few hits, a long tail), per seed."""
    return [
        random.Random(f"podsight-popularity:{seed}:{show.id}").lognormvariate(0.0, 1.0)
        for show in catalog.shows
    ]


class _ShowSampler:
    """Draws a show with weight ``popularity × (base + Σ listener's weights of its topics)``
    as a mixture: one cumulative table overall and one per topic, so a draw costs a few
    bisections whatever the catalog's size."""

    def __init__(self, catalog: Catalog, popularity: list[float]) -> None:
        self.overall = list(_cumulative(popularity))
        members: dict[str, list[int]] = defaultdict(list)
        for index, show in enumerate(catalog.shows):
            for topic in show.topics:
                members[topic].append(index)
        self.members = dict(members)
        self.per_topic = {
            topic: list(_cumulative(popularity[i] for i in indexes))
            for topic, indexes in members.items()
        }

    def sample(self, rng: random.Random, topics: dict[str, float], base: float) -> int:
        parts = [(base * self.overall[-1], None)]
        parts += [(w * self.per_topic[t][-1], t) for t, w in topics.items() if t in self.per_topic]
        pick = rng.random() * sum(mass for mass, _ in parts)
        topic = parts[-1][1]  # when rounding carries the pick past the end
        for mass, name in parts:
            if pick < mass:
                topic = name
                break
            pick -= mass
        if topic is None:
            return _draw(rng, self.overall)
        return self.members[topic][_draw(rng, self.per_topic[topic])]


def _cumulative(weights: Iterable[float]) -> Iterator[float]:
    total = 0.0
    for w in weights:
        total += w
        yield total


def _draw(rng: random.Random, cumulative: Sequence[float]) -> int:
    return min(bisect.bisect_right(cumulative, rng.random() * cumulative[-1]), len(cumulative) - 1)


def build_listeners(catalog: Catalog, n: int, seed: int) -> list[Listener]:
    """``n`` listeners with tastes drawn from ``seed`` (the same seed and catalog give the
    same listeners). User ids are ``sim<seed>-00001``…: another seed is other people."""
    if not catalog.shows:
        raise SimulationError(
            "the catalog holds no episodes to listen to: load some first "
            "(`podsight demo load`, `podsight ingest rss …`)"
        )
    rng = random.Random(f"podsight-listeners:{seed}")
    popularity = _popularity(catalog, seed)
    sampler = _ShowSampler(catalog, popularity)
    topic_sizes = defaultdict(int)
    for show in catalog.shows:
        for topic in show.topics:
            topic_sizes[topic] += 1
    topic_names = catalog.topics
    topic_weights = [math.sqrt(topic_sizes[t]) for t in topic_names]
    listeners = []
    for i in range(n):
        k = min(rng.choices(TOPIC_COUNTS, TOPIC_COUNT_WEIGHTS)[0], len(topic_names))
        chosen: list[str] = []
        weights = list(topic_weights)
        for _ in range(k):
            index = rng.choices(range(len(topic_names)), weights)[0]
            chosen.append(topic_names[index])
            weights[index] = 0.0
        raw = [rng.gammavariate(1.0, 1.0) + 1e-9 for _ in chosen]
        total = sum(raw)
        rounded = {t: round(w / total, 4) for t, w in zip(chosen, raw, strict=True)}
        tastes = dict(sorted(((t, w) for t, w in rounded.items() if w > 0), key=lambda kv: -kv[1]))
        m = min(rng.choice(FAVOURITE_COUNTS), len(catalog.shows))
        favourites: list[int] = []
        for _ in range(m * 20):
            show_id = catalog.shows[sampler.sample(rng, tastes, 0.02)].id
            if show_id not in favourites:
                favourites.append(show_id)
                if len(favourites) == m:
                    break
        listeners.append(
            Listener(
                user_id=f"sim{seed}-{i + 1:05d}",
                topics=tastes,
                favourite_shows=tuple(favourites),
                activity=round(rng.lognormvariate(0.0, 1.0), 4),
                speed=rng.choice(SPEEDS),
                device=rng.choices(DEVICES, DEVICE_WEIGHTS)[0],
            )
        )
    return listeners


def default_tastes_path() -> Path:
    return conf.podsight_home() / "simulated" / "tastes.json"


def write_tastes(path: Path, listeners: list[Listener], catalog: Catalog, *, seed: int) -> Path:
    """The listeners' true tastes as JSON (replacing the file atomically)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    document = {
        "seed": seed,
        "written_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "affinity": (
            "0.5 if the show is a favourite, plus 0.5 × min(1, 1.5 × the sum of the "
            "listener's weights of the show's topics); skips are likelier the lower it is"
        ),
        "topics": catalog.topics,
        "shows": {
            str(s.id): {"title": s.title, "topics": list(s.topics), "episodes": len(s.episodes)}
            for s in catalog.shows
        },
        "users": [listener.as_dict() for listener in listeners],
    }
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(document, ensure_ascii=False, indent=1), "utf-8")
    os.replace(tmp, path)
    return path


def capacity(users: int) -> float:
    """Roughly the most events per simulated second ``users`` listeners make when every
    one of them is listening (a progress event a minute, plus the rest; measured ~1/57)."""
    return users / 60.0


# ---------------------------------------------------------------------------------------
# The simulation


def _iso(ts: float) -> str:
    # Truncated to the millisecond: never later than the simulated instant.
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass
class _UserState:
    positions: dict[int, float] = field(default_factory=dict)  # stopped mid-way: episode → s
    completed: set[int] = field(default_factory=set)
    liked: set[int] = field(default_factory=set)
    subscribed: set[int] = field(default_factory=set)


class _Simulation:
    """Iterates ``(release, event)``: ``release`` is the simulated instant the event is
    sent at (its token), never earlier than its ``occurred_at``."""

    def __init__(
        self,
        listeners: list[Listener],
        catalog: Catalog,
        *,
        seed: int,
        start: float,
        rate: float,
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be > 0 events per second")
        if not listeners:
            raise ValueError("no listeners")
        self.listeners = listeners
        self.catalog = catalog
        self.rate = rate
        self.rng = random.Random(f"podsight-events:{seed}:{start!r}")
        self.sampler = _ShowSampler(catalog, _popularity(catalog, seed))
        self.states = [_UserState() for _ in listeners]
        self.activity = list(_cumulative(max(1e-6, x.activity) for x in listeners))
        self.idle = set(range(len(listeners)))
        self.recency = {
            s.id: list(_cumulative(RECENCY**r + RECENCY_FLOOR for r in range(len(s.episodes))))
            for s in catalog.shows
        }
        self.heap: list[tuple[float, int, int, Iterator | None, dict | None]] = []
        self.seq = 0
        self.clock = start
        self.sessions = 0
        self.saturated = 0  # tokens no listener was free for

    def _uuid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def _push(self, t: float, user: int, session: Iterator | None, event: dict | None) -> None:
        self.seq += 1
        heapq.heappush(self.heap, (t, self.seq, user, session, event))

    def __iter__(self) -> Iterator[tuple[float, dict]]:
        rng = self.rng
        while True:
            self.clock += rng.expovariate(self.rate)
            if self.heap and self.heap[0][0] <= self.clock:
                t, _, user, session, event = heapq.heappop(self.heap)
                if session is None:  # the listener goes on with another episode
                    session = self._session(user, t)
                    t, event = next(session)
            else:
                user = self._pick_idle()
                if user is None:
                    self.saturated += 1
                    continue
                self.idle.discard(user)
                session = self._session(user, self.clock)
                t, event = next(session)
            following = next(session, None)
            if following is None:
                self._ended(user, t)
            else:
                self._push(following[0], user, session, following[1])
            yield self.clock, event

    def _pick_idle(self) -> int | None:
        if not self.idle:
            return None
        for _ in range(32):
            user = _draw(self.rng, self.activity)
            if user in self.idle:
                return user
        idle = sorted(self.idle)
        return self.rng.choices(idle, [self.listeners[u].activity for u in idle])[0]

    def _ended(self, user: int, t: float) -> None:
        # Heavy listeners go on to another episode more often.
        go_on = min(0.6, 0.15 + 0.1 * self.listeners[user].activity)
        if self.rng.random() < go_on:
            self._push(t + self.rng.uniform(5.0, 180.0), user, None, None)
        else:
            self.idle.add(user)

    def _pick_episode(self, user: int) -> tuple[Show, EpisodeRef]:
        rng = self.rng
        listener, state = self.listeners[user], self.states[user]
        if state.positions and rng.random() < 0.4:
            episode = self.catalog.episodes[next(reversed(state.positions))]
            return self.catalog.by_id[episode.show_id], episode
        if listener.favourite_shows and rng.random() < FAVOURITE_SHARE:
            show = self.catalog.by_id[rng.choice(listener.favourite_shows)]
        else:
            show = self.catalog.shows[self.sampler.sample(rng, listener.topics, EXPLORE_BASE)]
        cumulative = self.recency[show.id]
        for _ in range(8):
            episode = show.episodes[_draw(rng, cumulative)]
            if episode.id not in state.completed or rng.random() < 0.05:
                break
        return show, episode

    def _session(self, user: int, t: float) -> Iterator[tuple[float, dict]]:
        """One listening session, lazily: ``(occurred, event)`` in time order."""
        rng = self.rng
        self.sessions += 1
        listener, state = self.listeners[user], self.states[user]
        show, episode = self._pick_episode(user)
        taste = affinity(listener, show)
        duration = episode.duration_s or DEFAULT_DURATION_S
        speed = listener.speed
        session_id = self._uuid()
        base = {"user_id": listener.user_id, "session_id": session_id, "device": listener.device}

        def event(kind: str, at: float, **fields: Any) -> tuple[float, dict]:
            return at, {
                "event_id": self._uuid(),
                **base,
                "type": kind,
                "occurred_at": _iso(at),
                **fields,
            }

        def playback(kind: str, at: float, position: float) -> tuple[float, dict]:
            position = min(float(duration), round(position, 1))
            return event(kind, at, episode=episode.id, position_s=position, duration_s=duration)

        position = state.positions.pop(episode.id, 0.0)
        if position >= duration - 1:
            position = 0.0
        left = duration - position
        skip_chance = 0.04 + 0.6 * (1.0 - taste) ** 2
        if position > 0:
            skip_chance *= 0.3  # the listener chose this episode before
        if rng.random() < skip_chance:
            end_kind = "skip"
            end = position + min(rng.uniform(5.0, 240.0), 0.5 * left)
        elif rng.random() < 0.3 + 0.6 * taste:
            end_kind, end = "complete", float(duration)
        else:
            end_kind = "pause"
            end = position + rng.uniform(0.1, 0.9) * left

        yield playback("play", t, position)
        if rng.random() < 0.08:  # kept for offline listening (before any pause or seek)
            yield event("download", t + rng.uniform(0.05, 0.45), episode=episode.id)
        tick = t + PROGRESS_INTERVAL_S
        while True:
            finish = t + (end - position) / speed
            horizon = min(tick, finish)
            minutes = (horizon - t) / 60.0
            roll = rng.random()
            if horizon - t > 2.0 and roll < (PAUSE_PER_MIN + SEEK_PER_MIN) * minutes:
                at = rng.uniform(t + 0.5, horizon - 0.5)
                here = position + (at - t) * speed
                if roll < PAUSE_PER_MIN * minutes:
                    yield playback("pause", at, here)
                    t = at + min(3600.0, rng.lognormvariate(math.log(90.0), 1.0))
                    position = here
                    yield playback("play", t, position)
                    tick = t + PROGRESS_INTERVAL_S
                    continue
                if rng.random() < 0.6:  # past an ad or an intro
                    target = here + rng.choice((15.0, 30.0, 30.0, 60.0, 90.0))
                else:  # to hear something again
                    target = max(0.0, here - rng.choice((10.0, 15.0, 30.0)))
                if target < end - 1.0:
                    yield playback("seek", at, target)
                    t, position = at, target
                    continue
            if finish <= tick:
                t, position = finish, end
                yield playback(end_kind, t, end)
                break
            position += (tick - t) * speed
            t = tick
            yield playback("progress", t, position)
            tick = t + PROGRESS_INTERVAL_S + rng.uniform(0.0, 1.5)

        if end_kind == "pause":
            state.positions[episode.id] = end
        elif end_kind == "complete":
            state.completed.add(episode.id)

        def later() -> float:
            nonlocal t
            t += rng.uniform(1.0, 30.0)
            return t

        if episode.id in state.liked:
            if end_kind == "skip" and rng.random() < 0.2:
                state.liked.discard(episode.id)
                yield event("unlike", later(), episode=episode.id)
        elif end_kind != "skip":
            chance = 0.02 + 0.35 * taste if end_kind == "complete" else 0.01 + 0.1 * taste
            if rng.random() < chance:
                state.liked.add(episode.id)
                yield event("like", later(), episode=episode.id)
        if rng.random() < {"complete": 0.12, "pause": 0.05, "skip": 0.03}[end_kind]:
            rating = max(1, min(5, round(1 + 4 * taste + rng.gauss(0.0, 0.8))))
            yield event("rate", later(), episode=episode.id, rating=rating)
        if show.id in state.subscribed:
            if end_kind == "skip" and rng.random() < 0.15:
                state.subscribed.discard(show.id)
                yield event("unsubscribe", later(), channel=show.id)
        elif end_kind == "complete" and (taste >= 0.5 or episode.id in state.liked):
            if rng.random() < 0.25:
                state.subscribed.add(show.id)
                yield event("subscribe", later(), channel=show.id)


def generate_events(
    listeners: list[Listener],
    catalog: Catalog,
    *,
    seed: int,
    start: datetime,
    rate: float,
    until: datetime | None = None,
) -> Iterator[dict]:
    """The events of ``listeners`` from ``start`` on, about ``rate`` per simulated second,
    in the order they are sent (``occurred_at`` may lag a little behind: a player reports
    a minute's progress when its timer fires). Endless unless ``until``; the same
    arguments give the same events, ids included."""
    sim = _Simulation(listeners, catalog, seed=seed, start=start.timestamp(), rate=rate)
    stop = until.timestamp() if until is not None else math.inf
    for release, item in sim:
        if release > stop:
            return
        yield item


# ---------------------------------------------------------------------------------------
# Sending


@dataclass
class BatchResult:
    accepted: int = 0
    duplicates: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)


class _Transient(Exception):
    """A failure worth retrying with the same events; ``wait_s`` from Retry-After."""

    def __init__(self, reason: str, wait_s: float | None = None) -> None:
        super().__init__(reason)
        self.wait_s = wait_s


def _retrying(
    max_attempts: int,
    sleep: Callable[[float], None],
    on_retry: Callable[[], None],
    deadline: float | None = None,
):
    """Retries of one batch: at most ``max_attempts``, and none whose wait would end past
    ``deadline`` (``time.monotonic()``), so a run with a set duration ends on time even
    when the server is down."""

    def past_deadline(state: RetryCallState) -> bool:
        # tenacity computes the wait before asking to stop: the upcoming sleep is known.
        return deadline is not None and time.monotonic() + state.upcoming_sleep > deadline

    def wait(state: RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        if isinstance(error, _Transient) and error.wait_s is not None:
            return min(60.0, error.wait_s)
        return min(30.0, 0.5 * 2 ** (state.attempt_number - 1))

    return Retrying(
        stop=stop_after_attempt(max_attempts) | past_deadline,
        wait=wait,
        retry=retry_if_exception_type(_Transient),
        sleep=sleep,
        before_sleep=lambda state: on_retry(),
        reraise=True,
    )


class HttpSink:
    """``POST {base}/api/events`` with ``Authorization: Token KEY``; transient failures
    (connection errors, timeouts, 429/502/503/504) are retried with backoff (tenacity,
    honouring Retry-After), sending the same events again (their ids make that safe)."""

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        max_attempts: int = 10,
        timeout_s: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        import httpx

        self.url = base_url.rstrip("/") + "/api/events"
        self.max_attempts = max_attempts
        self.sleep = sleep
        self.retries = 0
        self.deadline: float | None = None  # set by run(): retries end with the run
        self.timeout_s = timeout_s
        self.client = httpx.Client(
            headers={"Authorization": f"Token {token}", "Content-Type": "application/json"},
            timeout=timeout_s,
        )

    def _counted(self) -> None:
        self.retries += 1

    def send(self, batch: list[dict]) -> BatchResult:
        import orjson

        body = orjson.dumps({"events": batch})
        tries = 0
        try:
            for attempt in _retrying(self.max_attempts, self.sleep, self._counted, self.deadline):
                with attempt:
                    tries += 1
                    result = self._post(body)
        except _Transient as exc:
            raise SimulationError(
                f"POST {self.url} failed {tries} time(s), the last with {exc}; is the podsight "
                "server at that address running?"
            ) from exc
        return result

    def _post(self, body: bytes) -> BatchResult:
        import httpx

        from podsight.sources.http import retry_after_seconds

        timeout = self.timeout_s
        if self.deadline is not None:  # a request never outlives the run
            timeout = max(1.0, min(timeout, self.deadline - time.monotonic()))
        try:
            response = self.client.post(self.url, content=body, timeout=timeout)
        except httpx.TransportError as exc:
            raise _Transient(f"{type(exc).__name__}: {exc}") from exc
        status = response.status_code
        try:
            data = response.json()
        except ValueError:
            data = None
        if status in (202, 400) and isinstance(data, dict) and "accepted" in data:
            return BatchResult(
                accepted=data["accepted"],
                duplicates=len(data.get("duplicates") or ()),
                errors=list(data.get("errors") or ()),
            )
        message = (
            (data.get("error") or {}).get("message") if isinstance(data, dict) else None
        ) or response.text[:200]
        if status in TRANSIENT_STATUSES:
            wait_s = retry_after_seconds(response.headers.get("Retry-After"))
            raise _Transient(f"{status}: {message}", wait_s)
        hint = " (it needs a token with the events:write scope)" if status in (401, 403) else ""
        raise SimulationError(f"POST {self.url} answered {status}: {message}{hint}")

    def close(self) -> None:
        self.client.close()


class DirectSink:
    """Straight into the event log through :func:`podsight.events.services.ingest`
    (client ``simulator``); a log that is down is retried like a 503."""

    def __init__(
        self, *, max_attempts: int = 10, sleep: Callable[[float], None] = time.sleep
    ) -> None:
        self.max_attempts = max_attempts
        self.sleep = sleep
        self.retries = 0
        self.deadline: float | None = None

    def _counted(self) -> None:
        self.retries += 1

    def send(self, batch: list[dict]) -> BatchResult:
        from podsight.events.log import LogUnavailable
        from podsight.events.services import ingest

        try:
            for attempt in _retrying(self.max_attempts, self.sleep, self._counted, self.deadline):
                with attempt:
                    try:
                        result = ingest(batch, client="simulator")
                    except LogUnavailable as exc:
                        raise _Transient(str(exc)) from exc
        except _Transient as exc:
            raise SimulationError(f"the event log stayed unavailable: {exc}") from exc
        return BatchResult(result.accepted, len(result.duplicates), result.errors)

    def close(self) -> None:
        pass


# ---------------------------------------------------------------------------------------
# Running


@dataclass
class SimulationReport:
    target: str
    seed: int
    users: int
    rate: float
    speedup: float
    tastes_path: Path | None = None
    generated: int = 0  # events drawn from the simulation
    sent: int = 0  # of them, in batches the server (or the log) answered
    accepted: int = 0
    duplicates: int = 0
    errors: int = 0
    error_samples: list[dict[str, Any]] = field(default_factory=list)
    batches: int = 0
    retries: int = 0
    sessions: int = 0
    saturated_tokens: int = 0
    simulated_s: float = 0.0
    elapsed_s: float = 0.0
    interrupted: bool = False
    aborted: str | None = None

    @property
    def events_per_s(self) -> float:
        return self.sent / self.elapsed_s if self.elapsed_s > 0 else 0.0

    @property
    def saturated(self) -> bool:
        """More than a tenth of the rate found no free listener: raise ``users``."""
        return self.saturated_tokens > 0.1 * (self.generated + self.saturated_tokens)

    def __str__(self) -> str:
        return (
            f"{self.sent:,} events sent to {self.target}: {self.accepted:,} accepted, "
            f"{self.duplicates:,} duplicates, {self.errors:,} errors; {self.users:,} users, "
            f"{self.sessions:,} sessions; {self.events_per_s:,.1f} events/s over "
            f"{self.elapsed_s:,.1f} s ({self.simulated_s:,.0f} s simulated)"
        )


def run(
    *,
    users: int = 5_000,
    rate: float = 20.0,
    duration_s: float | None = None,
    events: int | None = None,
    seed: int = 42,
    speedup: float = 1.0,
    url: str | None = None,
    token: str | None = None,
    direct: bool = False,
    tastes_path: Path | None = None,
    batch_size: int = 1_000,
    flush_interval_s: float = 1.0,
    progress: Progress = SILENT,
    catalog: Catalog | None = None,
    sink: Any = None,
    max_attempts: int = 10,
) -> SimulationReport:
    """Simulate ``users`` listeners at ``rate`` events per simulated second for
    ``duration_s`` simulated seconds and/or ``events`` events (whichever ends first;
    with neither, until interrupted), sending to ``url`` with ``token`` or, ``direct``,
    into the log. The simulated clock runs ``speedup`` times as fast as the real one
    (0: no pacing at all). Ctrl-C ends the run after sending what was generated."""
    if rate <= 0:
        raise InvalidSimulation("rate must be > 0 events per second")
    if speedup != 0 and speedup < 1:
        raise InvalidSimulation("speedup must be ≥ 1 (or 0: as fast as possible)")
    if not 1 <= batch_size <= BATCH_MAX:
        raise InvalidSimulation(f"batch_size must be 1…{BATCH_MAX}")
    if sink is None:
        if direct == (url is not None):
            raise InvalidSimulation("give either a URL (with a token) or direct")
        if url is not None and not token:
            raise InvalidSimulation("sending to a URL needs a token (events:write scope)")
        sink = (
            DirectSink(max_attempts=max_attempts)
            if direct
            else HttpSink(url, token, max_attempts=max_attempts)
        )
    target = "the event log" if direct or url is None else url

    catalog = catalog or load_catalog()
    listeners = build_listeners(catalog, users, seed)
    report = SimulationReport(target=target, seed=seed, users=users, rate=rate, speedup=speedup)
    report.tastes_path = write_tastes(
        tastes_path or default_tastes_path(), listeners, catalog, seed=seed
    )

    # The simulated span, as far as known: its clock starts that far back (less what the
    # run takes in real time) so that it reaches the present as the run ends.
    # (An estimate for a number of events: a margin keeps its end from outrunning the present.)
    spans = [duration_s] if duration_s else []
    if events:
        spans.append(1.15 * events / min(rate, capacity(users)) + 10.0)
    span = min(spans) if spans else 0.0
    wall0, mono0 = time.time(), time.monotonic()
    sim_start = wall0 - (span if speedup == 0 else span * (1 - 1 / speedup))
    until = sim_start + duration_s if duration_s else None
    if duration_s and speedup and hasattr(sink, "deadline"):
        # The run ends duration/speedup from now; sending what was generated last may take
        # a moment more, retrying no longer than that.
        sink.deadline = mono0 + duration_s / speedup + min(10.0, 0.1 * duration_s / speedup)
    sim = _Simulation(listeners, catalog, seed=seed, start=sim_start, rate=rate)

    planned = events or (int(rate * duration_s) if duration_s else None)
    if events and duration_s:
        planned = min(events, int(rate * duration_s))
    buffer: list[dict] = []
    last_flush = time.monotonic()

    def flush() -> None:
        nonlocal last_flush
        last_flush = time.monotonic()
        if not buffer:
            return
        result = sink.send(buffer)
        report.batches += 1
        report.sent += len(buffer)
        report.accepted += result.accepted
        report.duplicates += result.duplicates
        report.errors += len(result.errors)
        room = 20 - len(report.error_samples)
        if room > 0:
            report.error_samples.extend(result.errors[:room])
        buffer.clear()

    with progress.task("listeners", total=planned) as bar:

        def show() -> None:
            bar.update(
                completed=report.generated,
                item=(
                    f"{report.accepted:,} accepted · {sim.sessions:,} sessions · "
                    f"{report.errors:,} errors"
                ),
            )

        try:
            for release, item in sim:
                if until is not None and release > until:
                    break
                # Wait for the event's turn: its simulated instant at the real pace, and
                # never before the wall clock reaches it (no event from the future).
                while True:
                    due = mono0 + (release - sim_start) / speedup if speedup else 0.0
                    wait = max(due - time.monotonic(), release - time.time())
                    if wait <= 0:
                        break
                    if buffer and time.monotonic() - last_flush >= flush_interval_s:
                        flush()
                        show()
                        continue
                    time.sleep(min(wait, flush_interval_s, 0.25))
                buffer.append(item)
                report.generated += 1
                report.simulated_s = release - sim_start
                if len(buffer) >= batch_size or time.monotonic() - last_flush >= flush_interval_s:
                    flush()
                    show()
                elif report.generated % 200 == 0:
                    show()
                if events and report.generated >= events:
                    break
            flush()
        except KeyboardInterrupt:
            report.interrupted = True
            if hasattr(sink, "max_attempts"):  # one more try, not minutes of them
                sink.max_attempts = min(sink.max_attempts, 2)
            try:
                flush()
            except (SimulationError, KeyboardInterrupt) as exc:
                report.aborted = str(exc) or "interrupted while sending"
        except SimulationError as exc:
            report.aborted = str(exc)
        finally:
            report.elapsed_s = time.monotonic() - mono0
            report.sessions = sim.sessions
            report.saturated_tokens = sim.saturated
            report.retries = getattr(sink, "retries", 0)
            sink.close()
    return report
