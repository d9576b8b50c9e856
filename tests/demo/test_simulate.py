"""The listener simulator: deterministic, schema-valid, well-formed sessions whose
behaviour follows the tastes it writes down; sent directly and over real HTTP."""

from __future__ import annotations

import json
import random
import re
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from itertools import islice

import orjson
import pytest
from typer.testing import CliRunner

from podsight.conf import parse_timespan
from podsight.demo.simulate import (
    DEFAULT_DURATION_S,
    BatchResult,
    Catalog,
    EpisodeRef,
    HttpSink,
    Show,
    SimulationError,
    affinity,
    build_listeners,
    generate_events,
    load_catalog,
    run,
)
from podsight.events.log import LocalLog
from podsight.events.schema import POSITION_TYPES, check_item

START = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
END_TYPES = {"complete", "skip"}


def synthetic_catalog(shows: int = 40, topics: int = 12, seed: int = 5) -> Catalog:
    """Shows over a dozen topics; durations known, unknown, very short and very long."""
    rng = random.Random(seed)
    names = [f"Topic {i}" for i in range(topics)]
    out, next_id = [], 1
    for show_id in range(1, shows + 1):
        episodes = []
        for _ in range(rng.randint(3, 30)):
            duration = rng.choice((None, 95, rng.randint(900, 4000), rng.randint(900, 4000), 10800))
            episodes.append(EpisodeRef(next_id, show_id, duration))
            next_id += 1
        show_topics = tuple(rng.sample(names, rng.choice((1, 1, 2, 3))))
        out.append(Show(show_id, f"Show {show_id}", show_topics, tuple(episodes)))
    return Catalog(out)


@pytest.fixture(scope="module")
def world():
    catalog = synthetic_catalog()
    listeners = build_listeners(catalog, 1500, seed=11)
    events = list(
        islice(generate_events(listeners, catalog, seed=11, start=START, rate=10), 60_000)
    )
    return catalog, listeners, events


def _sessions(events: list[dict]) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = defaultdict(list)
    for event in events:
        out[event["session_id"]].append(event)
    return out


def _when(event: dict) -> datetime:
    return datetime.fromisoformat(event["occurred_at"])


def test_the_same_seed_gives_the_same_listeners_and_events():
    catalog = synthetic_catalog()
    first = build_listeners(catalog, 200, seed=3)
    assert first == build_listeners(catalog, 200, seed=3)
    assert first != build_listeners(catalog, 200, seed=4)

    def sample(listeners, seed=3, start=START):
        return list(
            islice(generate_events(listeners, catalog, seed=seed, start=start, rate=5), 3000)
        )

    events = sample(first)
    assert events == sample(build_listeners(catalog, 200, seed=3))  # ids included
    assert len({e["event_id"] for e in events}) == len(events)
    assert sample(first, seed=4) != events
    # Another run (another start) draws other behaviour and ids from the same tastes.
    assert {e["event_id"] for e in sample(first, start=START + timedelta(hours=1))}.isdisjoint(
        e["event_id"] for e in events
    )


def test_tastes_are_sparse_and_activity_heavy_tailed(world):
    catalog, listeners, _ = world
    assert all(1 <= len(x.topics) <= 4 for x in listeners)
    assert all(abs(sum(x.topics.values()) - 1) < 0.01 for x in listeners)
    assert all(1 <= len(x.favourite_shows) <= 5 for x in listeners)
    assert all(s in catalog.by_id for x in listeners for s in x.favourite_shows)
    activity = sorted(x.activity for x in listeners)
    top_decile = sum(activity[-len(activity) // 10 :])
    assert top_decile > 0.3 * sum(activity)  # a few heavy listeners, most light ones
    assert len({x.user_id for x in listeners}) == len(listeners)


def test_every_event_passes_the_schema_and_positions_fit_durations(world):
    catalog, _, events = world
    # The server's clock as the last event is sent (the events start at a fixed START):
    # none may be from its future.
    now = max(_when(e) for e in events)
    for event in events:
        checked, errors = check_item(event, now)
        assert checked is not None, (event, errors)
        if event["type"] in POSITION_TYPES:
            episode = catalog.episodes[event["episode"]]
            assert event["duration_s"] == (episode.duration_s or DEFAULT_DURATION_S)
            assert 0 <= event["position_s"] <= event["duration_s"]
        if event["type"] == "complete":
            assert event["position_s"] == event["duration_s"]
    kinds = {e["type"] for e in events}
    assert kinds >= {"play", "progress", "pause", "seek", "complete", "skip", "like", "rate"}
    assert kinds >= {"download", "subscribe"}


def test_sessions_are_well_formed(world):
    _, _, events = world
    sessions = _sessions(events)
    assert len(sessions) > 1000
    for session_id, items in sessions.items():
        assert items[0]["type"] == "play", items[:2]
        assert len({e["user_id"] for e in items}) == 1
        times = [_when(e) for e in items]
        assert times == sorted(times) and len(set(times)) == len(times), session_id
        playback = [e for e in items if e["type"] in POSITION_TYPES]
        assert len({e["episode"] for e in playback}) == 1
        ended = False
        for before, event in zip(playback, playback[1:], strict=False):
            assert not ended, f"playback after the end in {session_id}"
            if event["type"] != "seek":
                assert event["position_s"] >= before["position_s"], (before, event)
            if before["type"] == "pause":  # paused, then played on from the same point
                assert event["type"] == "play" and event["position_s"] == before["position_s"]
            ended = event["type"] in END_TYPES
        # Progress comes about every minute of listening.
        for before, event in zip(playback, playback[1:], strict=False):
            if event["type"] == "progress" and before["type"] in ("play", "progress"):
                gap = (_when(event) - _when(before)).total_seconds()
                assert gap <= 62.5


def test_skips_concentrate_on_episodes_outside_the_tastes(world):
    catalog, listeners, events = world
    by_user = {x.user_id: x for x in listeners}
    outcomes: dict[str, list[tuple[float, str]]] = {"low": [], "high": []}
    ratings = {"low": [], "high": []}
    for items in _sessions(events).values():
        play = items[0]
        taste = affinity(
            by_user[play["user_id"]], catalog.by_id[catalog.episodes[play["episode"]].show_id]
        )
        ends = [e["type"] for e in items if e["type"] in END_TYPES]
        band = "low" if taste < 0.25 else "high" if taste >= 0.5 else None
        if band is None:
            continue
        if ends:
            outcomes[band].append(ends[0])
        ratings[band] += [e["rating"] for e in items if e["type"] == "rate"]
    low = outcomes["low"].count("skip") / len(outcomes["low"])
    high = outcomes["high"].count("skip") / len(outcomes["high"])
    assert len(outcomes["low"]) > 100 and len(outcomes["high"]) > 300
    assert low > 0.35 and high < 0.2 and low > 3 * high, (low, high)
    # Ratings follow taste too.
    assert (
        sum(ratings["high"]) / len(ratings["high"]) > sum(ratings["low"]) / len(ratings["low"]) + 1
    )


class Recorder:
    def __init__(self) -> None:
        self.batches: list[list[dict]] = []
        self.retries = 0

    def send(self, batch: list[dict]) -> BatchResult:
        self.batches.append(list(batch))
        return BatchResult(accepted=len(batch))

    def close(self) -> None:
        pass


@pytest.mark.clock
def test_run_writes_the_tastes_that_the_plays_follow(home):
    catalog = synthetic_catalog()
    sink = Recorder()
    report = run(
        users=800, rate=10, events=12_000, seed=9, speedup=0, catalog=catalog, sink=sink,
        batch_size=1000,
    )  # fmt: skip
    sent = [e for batch in sink.batches for e in batch]
    assert report.generated == report.sent == report.accepted == len(sent) == 12_000
    assert all(len(b) <= 1000 for b in sink.batches)
    assert report.errors == report.duplicates == 0
    assert report.sessions == len(_sessions(sent))
    now = datetime.now(UTC) + timedelta(seconds=1)
    assert all(_when(e) <= now for e in sent)  # the simulated clock ended near the present

    path = home / "simulated" / "tastes.json"
    assert report.tastes_path == path
    tastes = json.loads(path.read_text("utf-8"))
    assert tastes["seed"] == 9 and len(tastes["users"]) == 800
    users = {u["user_id"]: u for u in tastes["users"]}
    assert {e["user_id"] for e in sent} <= users.keys()
    shows = {int(k): v for k, v in tastes["shows"].items()}
    assert shows.keys() == catalog.by_id.keys()

    # Plays follow the written tastes: favourites take most of them, far above chance.
    starts = [s[0] for s in _sessions(sent).values()]
    on_favourites = [
        catalog.episodes[p["episode"]].show_id in users[p["user_id"]]["favourite_shows"]
        for p in starts
    ]
    chance = sum(len(users[p["user_id"]]["favourite_shows"]) for p in starts) / len(starts)
    chance /= len(shows)
    share = sum(on_favourites) / len(starts)
    assert share > 0.5 and share > 4 * chance, (share, chance)
    # And other plays lean to the listener's topics.
    in_topics = [
        bool(
            set(shows[catalog.episodes[p["episode"]].show_id]["topics"])
            & users[p["user_id"]]["topics"].keys()
        )
        for p, fav in zip(starts, on_favourites, strict=True)
        if not fav
    ]
    assert sum(in_topics) / len(in_topics) > 0.6
    # Heavy listeners start more sessions than light ones. The run's clock (and so its
    # draws) starts from the wall clock, and over this 20-minute span heavy listeners are
    # mostly still inside their first episode: 40 starts gave ratios of 2.0 to 2.7, and
    # ignoring activity would give about 1.
    per_user = defaultdict(int)
    for p in starts:
        per_user[p["user_id"]] += 1
    ranked = sorted(users.values(), key=lambda u: u["activity"])
    light = sum(per_user[u["user_id"]] for u in ranked[:200])
    heavy = sum(per_user[u["user_id"]] for u in ranked[-200:])
    assert heavy > 1.5 * light, (heavy, light)


@pytest.mark.django_db
def test_load_catalog_reads_alive_rows_with_categories_as_topics(catalog):
    from podsight.catalog.models import ChannelCategory, Episode

    loaded = load_catalog()
    alive = Episode.objects.alive().filter(available=True).count()
    assert len(loaded.shows) == 2 and len(loaded.episodes) == alive
    paths = set(ChannelCategory.objects.values_list("path", flat=True))
    assert set(loaded.topics) <= paths | {"Uncategorised"}
    newest = loaded.shows[0].episodes
    dates = [e.published_at for e in newest if e.published_at]
    assert dates == sorted(dates, reverse=True)

    gone, survivor = Episode.objects.order_by("id")[:2]
    gone.merged_into = survivor
    gone.save()
    assert gone.pk not in load_catalog().episodes


def test_parse_timespan():
    assert parse_timespan("60s") == 60
    assert parse_timespan("5m") == 300
    assert parse_timespan("1h") == 3600
    assert parse_timespan("1h30m") == 5400
    assert parse_timespan("90") == 90
    for bad in ("", "soon", "5x", "-1m", "0s"):
        with pytest.raises(ValueError):
            parse_timespan(bad)


def test_transient_failures_are_retried_with_the_same_events(local_server):
    from httpserver import Reply

    bodies: list[bytes] = []
    answers = iter(["503", "429", "202"])

    def events(handler) -> Reply:
        body = handler.rfile.read(int(handler.headers["Content-Length"]))
        bodies.append(body)
        assert handler.headers["Authorization"] == "Token k3y"
        answer = next(answers)
        if answer == "503":
            return Reply(503, orjson.dumps({"error": {"message": "log down"}}))
        if answer == "429":
            return Reply(429, b"{}", {"Retry-After": "7"})
        n = len(orjson.loads(body)["events"])
        return Reply(202, orjson.dumps({"accepted": n, "duplicates": [], "errors": []}))

    local_server.routes["/api/events"] = events
    waits: list[float] = []
    sink = HttpSink(local_server.base_url + "/", "k3y", sleep=waits.append)
    result = sink.send([{"event_id": "a"}, {"event_id": "b"}])
    assert result.accepted == 2 and sink.retries == 2
    assert len(bodies) == 3 and len(set(bodies)) == 1  # the same batch, the same ids
    assert waits == [0.5, 7.0]  # backoff, then the server's Retry-After

    local_server.routes["/api/events"] = lambda h: Reply(401, b'{"error": {"message": "no"}}')
    refused = HttpSink(local_server.base_url, "bad", sleep=waits.append)
    with pytest.raises(SimulationError, match="401"):
        refused.send([{"event_id": "a"}])

    # Nothing listening: connection errors are retried, then the run stops with the reason.
    unreachable = HttpSink("http://127.0.0.1:1", "k3y", max_attempts=3, sleep=waits.append)
    with pytest.raises(SimulationError, match=r"failed 3 time\(s\), the last with ConnectError"):
        unreachable.send([{"event_id": "a"}])
    assert unreachable.retries == 2


@pytest.mark.clock
@pytest.mark.django_db
def test_a_direct_run_through_the_cli_logs_exactly_what_it_reports(catalog, home):
    from podsight.cli.main import app

    args = "simulate listeners --direct --users 300 --rate 5 --events 1500 --speedup 10000"
    result = CliRunner().invoke(app, [*args.split(), "--seed", "3", "--no-progress"])
    assert result.exit_code == 0, result.output
    said = " ".join(result.output.split())
    match = re.search(
        r"([\d,]+) events sent to the event log: ([\d,]+) accepted, 0 duplicates, 0 errors", said
    )
    assert match, said
    accepted = int(match.group(2).replace(",", ""))
    assert accepted == int(match.group(1).replace(",", "")) == 1500
    entries, _ = LocalLog().read({}, 10**6)
    assert len(entries) == accepted
    logged = [orjson.loads(e.payload) for e in entries]
    assert {e["client"] for e in logged} == {"simulator"}
    assert all(e["episode_id"] or e["channel_id"] for e in logged)
    assert (home / "simulated" / "tastes.json").is_file()


@pytest.mark.clock
@pytest.mark.django_db(transaction=True)
def test_an_http_run_against_a_live_server_gets_every_event_accepted(catalog, live_server, home):
    from podsight.accounts.services import create_token

    _, key = create_token("sim", ["events:write"])
    report = run(
        users=300, rate=5, events=2500, seed=4, speedup=0, url=live_server.url, token=key,
        tastes_path=home / "tastes.json",
    )  # fmt: skip
    assert report.aborted is None
    assert report.sent == report.accepted == 2500, report
    assert report.errors == report.duplicates == 0
    assert report.batches >= 3
    entries, _ = LocalLog().read({}, 10**6)
    assert len(entries) == 2500
    assert {orjson.loads(e.payload)["client"] for e in entries} == {"sim"}
