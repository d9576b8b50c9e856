"""``POST /api/events``: per-item checks, idempotency, durability before 202, auth."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import orjson
import pytest
from rest_framework.test import APIClient

from podsight.accounts.models import SCOPE_EVENTS_WRITE, SCOPE_LINKS_REVIEW
from podsight.accounts.services import create_token, create_user
from podsight.catalog.models import Episode
from podsight.events.log import LocalLog
from podsight.sources.models import SourceEpisode

pytestmark = pytest.mark.django_db


@pytest.fixture
def api() -> APIClient:
    client = APIClient()
    _, key = create_token("test-app", [SCOPE_EVENTS_WRITE])
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def _post(api: APIClient, body) -> tuple[int, dict]:
    raw = body if isinstance(body, bytes) else orjson.dumps(body)
    response = api.generic("POST", "/api/events", raw, content_type="application/json")
    return response.status_code, response.json()


def _when(**delta) -> str:
    return (datetime.now(UTC) - timedelta(**delta)).isoformat()


def _event(episode: Episode, **fields) -> dict:
    return {
        "event_id": str(uuid.uuid4()),
        "user_id": "listener-1",
        "episode": episode.pk,
        "type": "play",
        "occurred_at": _when(minutes=5),
        "position_s": 0,
        **fields,
    }


def _logged() -> list[dict]:
    entries, _ = LocalLog().read({}, 100_000)
    return [orjson.loads(e.payload) for e in entries]


@pytest.mark.clock
def test_a_valid_batch_is_stored_then_answered_202(api, catalog):
    episodes = list(Episode.objects.filter(duration_s__gt=600)[:3])
    batch = [
        _event(episodes[0]),
        _event(episodes[0], type="progress", position_s=300),
        _event(episodes[1], type="like", position_s=None),
        _event(episodes[2], type="rate", rating=4, position_s=None),
    ]
    for item in batch:
        if item.get("position_s") is None:
            item.pop("position_s")
    status, body = _post(api, {"events": batch})
    assert status == 202, body
    assert body == {"accepted": 4, "duplicates": [], "rejected": 0, "errors": [], "warnings": []}
    logged = _logged()
    assert [e["event_id"] for e in logged] == [e["event_id"] for e in batch]
    assert logged[0]["episode_id"] == episodes[0].pk
    assert logged[0]["channel_id"] == episodes[0].channel_id
    assert logged[0]["duration_s"] == episodes[0].duration_s  # the catalog's, none was sent
    assert logged[0]["client"] == "test-app"
    assert logged[3]["rating"] == 4


def test_every_reference_form_resolves_to_the_canonical_episode(api, catalog):
    record = SourceEpisode.objects.filter(source="rss").exclude(data__enclosure_url=None).first()
    episode = record.episode
    feed_url = record.source_channel.url
    forms = [
        {"episode": episode.pk},
        {"feed_url": feed_url, "enclosure_url": episode.enclosure_url},
        {"source": "rss", "external_id": record.external_id},
    ]
    batch = []
    for form in forms:
        item = _event(episode)
        item.pop("episode")
        batch.append({**item, **form})
    channel_event = {
        "event_id": str(uuid.uuid4()),
        "user_id": "listener-1",
        "type": "subscribe",
        "feed_url": feed_url,
        "occurred_at": _when(minutes=1),
    }
    status, body = _post(api, batch + [channel_event])
    assert status == 202 and body["accepted"] == 4, body
    logged = _logged()
    assert {e["episode_id"] for e in logged[:3]} == {episode.pk}
    assert logged[3]["episode_id"] is None and logged[3]["channel_id"] == episode.channel_id


@pytest.mark.clock
def test_bad_items_are_listed_and_their_valid_neighbours_kept(api, catalog):
    episode = Episode.objects.filter(duration_s__gt=600).first()
    good = [_event(episode), _event(episode, type="pause", position_s=60)]
    bad = [
        "not an object",
        {**_event(episode), "event_id": "nope"},
        {**_event(episode), "type": "listen"},
        {**_event(episode), "position_s": "12"},
        {**_event(episode), "position_s": -1},
        {**_event(episode), "position_s": 120, "duration_s": 100},
        {**_event(episode), "position_s": episode.duration_s * 2 + 600},
        {**_event(episode), "occurred_at": (datetime.now(UTC) + timedelta(days=2)).isoformat()},
        {**_event(episode), "occurred_at": "2026-11-21 09:00"},  # no time zone
        {**_event(episode), "episode": 10**9},
        {**_event(episode), "type": "rate"},
        {**_event(episode), "positon_s": 3},
        {k: v for k, v in _event(episode).items() if k != "user_id"},
    ]
    batch = [good[0], *bad, good[1]]
    status, body = _post(api, batch)
    assert status == 202, body
    assert body["accepted"] == 2 and body["rejected"] == len(bad)
    by_index = {e["index"]: e["errors"] for e in body["errors"]}
    assert sorted(by_index) == list(range(1, len(bad) + 1))
    assert "non_field_errors" in by_index[1]
    assert "event_id" in by_index[2]
    assert "type" in by_index[3]
    assert "position_s" in by_index[4] and "position_s" in by_index[5]
    assert "beyond the duration" in by_index[6]["position_s"][0]
    assert "catalog" in by_index[7]["position_s"][0]
    assert "future" in by_index[8]["occurred_at"][0]
    assert "time zone" in by_index[9]["occurred_at"][0]
    assert "no episode" in by_index[10]["episode"][0]
    assert "rating" in by_index[11]
    assert "positon_s" in by_index[12]["non_field_errors"][0]
    assert "user_id" in by_index[13]
    assert [e["event_id"] for e in _logged()] == [good[0]["event_id"], good[1]["event_id"]]


def test_duplicate_event_ids_within_and_across_batches_are_stored_once(api, catalog):
    episode = Episode.objects.first()
    first = _event(episode)
    status, body = _post(api, [first, dict(first), _event(episode)])
    assert status == 202
    assert body["accepted"] == 2
    assert (
        body["errors"][0]["index"] == 1
        and "repeats item 0" in body["errors"][0]["errors"]["event_id"][0]
    )
    again = _event(episode)
    status, body = _post(api, [first, again])  # a client's retry plus one new event
    assert status == 202
    assert body["accepted"] == 1 and body["duplicates"] == [first["event_id"]]
    status, body = _post(api, [first])  # a pure retry is still a success
    assert status == 202 and body["accepted"] == 0 and body["duplicates"] == [first["event_id"]]
    assert len(_logged()) == 3


def test_malformed_oversize_empty_and_all_invalid_batches(api, catalog):
    episode = Episode.objects.first()
    status, body = _post(api, b'{"events": [')
    assert status == 400 and body["error"]["code"] == "malformed_json"
    status, body = _post(api, {"events": "x"})
    assert status == 400 and body["error"]["code"] == "invalid"
    # An empty batch is valid (the OpenAPI document allows it): nothing to store.
    for empty in ([], {"events": []}):
        status, body = _post(api, empty)
        assert status == 202 and body == {
            "accepted": 0,
            "duplicates": [],
            "rejected": 0,
            "errors": [],
            "warnings": [],
        }, body
    status, body = _post(api, [_event(episode) for _ in range(5_001)])
    assert status == 413 and body["error"]["code"] == "batch_too_large"
    status, body = _post(api, [{"event_id": "x"}])
    assert status == 400 and body["rejected"] == 1 and body["accepted"] == 0
    assert _logged() == []


def test_a_full_batch_of_5000_is_accepted(api, catalog):
    episodes = list(Episode.objects.all()[:50])
    batch = [_event(episodes[i % 50], user_id=f"u{i % 300}") for i in range(5_000)]
    status, body = _post(api, batch)
    assert status == 202 and body["accepted"] == 5_000, body["errors"][:3]
    assert len(_logged()) == 5_000


def test_tokens_missing_or_without_the_scope_are_refused(catalog):
    episode = Episode.objects.first()
    anonymous = APIClient()
    response = anonymous.post("/api/events", [_event(episode)], format="json")
    assert response.status_code == 401
    _, key = create_token("reviewer", [SCOPE_LINKS_REVIEW])
    other = APIClient()
    other.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    response = other.post("/api/events", [_event(episode)], format="json")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "missing_scope"
    assert _logged() == []


def test_a_log_that_cannot_store_answers_503_and_claims_nothing(api, catalog, home, monkeypatch):
    from podsight.events import log as event_log

    def broken(self, records):
        raise event_log.LogUnavailable("disk full")

    monkeypatch.setattr(event_log.LocalLog, "append", broken)
    status, body = _post(api, [_event(Episode.objects.first())])
    assert status == 503 and body["error"]["code"] == "log_unavailable"


@pytest.mark.clock
def test_a_field_that_does_not_apply_to_the_type_is_ignored_with_a_warning(api, catalog):
    """A like carrying the player's position used to be refused, and the like lost."""
    episode = Episode.objects.filter(duration_s__gt=600).first()
    like = _event(episode, type="like", position_s=754.2)
    rated = _event(episode, type="rate", rating=5, position_s=12)
    download = _event(episode, type="download", position_s="n/a", rating=3)
    subscribe = {**_event(episode, type="subscribe", duration_s=1800), "position_s": None}
    play = _event(episode, position_s=30, duration_s=1800)
    status, body = _post(api, [like, rated, download, subscribe, play])
    assert status == 202, body
    assert body["accepted"] == 5 and body["errors"] == []
    warned = {w["index"]: w for w in body["warnings"]}
    assert sorted(warned) == [0, 1, 2, 3]
    assert warned[0]["event_id"] == like["event_id"]
    assert set(warned[0]["warnings"]) == {"position_s"}
    assert warned[0]["warnings"]["position_s"][0].startswith("ignored:")
    assert set(warned[2]["warnings"]) == {"position_s", "rating"}
    assert set(warned[3]["warnings"]) == {"duration_s"}
    logged = {e["event_id"]: e for e in _logged()}
    assert logged[like["event_id"]]["type"] == "like"
    assert logged[like["event_id"]]["position_s"] is None  # ignored, not stored
    assert logged[rated["event_id"]]["rating"] == 5
    assert logged[download["event_id"]]["rating"] is None
    assert logged[play["event_id"]]["position_s"] == 30  # where it applies, it is kept


@pytest.mark.clock
def test_a_token_tied_to_a_user_writes_only_that_users_events(catalog):
    episode = Episode.objects.first()
    _, key = create_token("alice-phone", [SCOPE_EVENTS_WRITE], user=create_user("alice", "pw"))
    alice = APIClient()
    alice.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    own = _event(episode, user_id="alice")
    unnamed = {k: v for k, v in _event(episode).items() if k != "user_id"}
    forged = _event(episode, user_id="bob")
    status, body = _post(alice, [own, unnamed, forged])
    assert status == 202, body
    assert body["accepted"] == 2 and body["rejected"] == 1
    [error] = body["errors"]
    assert error["index"] == 2 and error["event_id"] == forged["event_id"]
    assert "acts for 'alice'" in error["errors"]["user_id"][0]
    assert {e["user_id"] for e in _logged()} == {"alice"}
    # A batch of nothing but another user's events stores nothing.
    status, body = _post(alice, [_event(episode, user_id="bob")])
    assert status == 400 and body["rejected"] == 1
    assert {e["user_id"] for e in _logged()} == {"alice"}


@pytest.mark.clock
def test_an_application_token_writes_any_users_events(api, catalog):
    episode = Episode.objects.first()
    status, body = _post(api, [_event(episode, user_id="bob"), _event(episode, user_id="eve")])
    assert status == 202 and body["accepted"] == 2
    status, body = _post(api, [{k: v for k, v in _event(episode).items() if k != "user_id"}])
    assert status == 400 and "user_id" in body["errors"][0]["errors"]
    assert {e["user_id"] for e in _logged()} == {"bob", "eve"}


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", None],
)
def test_a_body_that_is_not_declared_json_is_refused_with_415(api, catalog, content_type):
    episode = Episode.objects.first()
    raw = orjson.dumps([_event(episode)])
    # None: no Content-Type at all (the test client would otherwise send its default).
    sent = {"CONTENT_TYPE": ""} if content_type is None else {"content_type": content_type}
    response = api.generic("POST", "/api/events", raw, **sent)
    assert response.status_code == 415, response.content
    error = response.json()["error"]
    assert error["code"] == "unsupported_media_type"
    assert "application/json" in error["message"]
    assert _logged() == []
    # JSON with parameters, or a +json type, is JSON.
    for accepted in ("application/json; charset=utf-8", "application/vnd.podsight+json"):
        ok = api.generic("POST", "/api/events", orjson.dumps([_event(episode)]), accepted)
        assert ok.status_code == 202, ok.content
