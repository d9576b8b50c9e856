"""The Kafka backend of the event log, against librdkafka's built-in mock cluster (a real
broker cannot run on these machines): the same API and consumer, one setting apart."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import orjson
import pytest
from confluent_kafka import Producer
from rest_framework.test import APIClient

from podsight import lake
from podsight.accounts.models import SCOPE_EVENTS_WRITE
from podsight.accounts.services import create_token
from podsight.catalog.models import Episode
from podsight.events import log as event_log
from podsight.events.consumer import consume

pytestmark = pytest.mark.django_db


@pytest.fixture
def kafka(monkeypatch) -> str:
    """Three mock brokers, alive while the owning client is; returns bootstrap servers."""
    owner = Producer({"test.mock.num.brokers": 3, "log_level": 2})
    brokers = owner.list_topics(timeout=10).brokers.values()
    bootstrap = ",".join(f"{b.host}:{b.port}" for b in brokers)
    monkeypatch.setenv("PODSIGHT_EVENT_LOG", "kafka")
    monkeypatch.setenv("PODSIGHT_KAFKA_BOOTSTRAP_SERVERS", bootstrap)
    monkeypatch.setenv("PODSIGHT_KAFKA_TOPIC", f"events-{uuid.uuid4().hex[:8]}")
    event_log.reset_shared()
    yield bootstrap
    event_log.reset_shared()
    owner.flush(1)
    del owner


@pytest.fixture
def api() -> APIClient:
    client = APIClient()
    _, key = create_token("kafka-app", [SCOPE_EVENTS_WRITE])
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def _batch(episodes: list[Episode], n: int, start: int = 0) -> list[dict]:
    t0 = datetime.now(UTC) - timedelta(hours=3)
    return [
        {
            "event_id": str(uuid.uuid4()),
            "user_id": f"user-{i % 7}",
            "episode": episodes[i % len(episodes)].pk,
            "type": "progress",
            "position_s": float(i % 50),
            "session_id": f"s{i % 7}",
            "occurred_at": (t0 + timedelta(seconds=start + i)).isoformat(),
        }
        for i in range(n)
    ]


def _post(api, items) -> dict:
    response = api.generic(
        "POST", "/api/events", orjson.dumps({"events": items}), content_type="application/json"
    )
    assert response.status_code == 202, response.content
    return response.json()


def test_the_api_and_consumer_run_on_kafka_by_one_setting(kafka, api, catalog):
    assert event_log.open_log().backend == "kafka"
    episodes = list(Episode.objects.filter(duration_s__gt=100)[:5])
    first, second = _batch(episodes, 600), _batch(episodes, 400, start=600)
    assert _post(api, first)["accepted"] == 600
    assert _post(api, second)["accepted"] == 400
    report = consume(once=True, batch_size=300)
    assert report.events_written == 1_000 and report.duplicates_dropped == 0
    rows = lake.query(
        "SELECT event_id, user_id, log_partition, log_offset, occurred_at FROM e", e="events"
    ).to_pylist()
    assert sorted(r["event_id"] for r in rows) == sorted(e["event_id"] for e in first + second)
    # Keyed by user: one user's events sit in one partition, in the order they were sent.
    by_user: dict[str, set[int]] = {}
    for row in rows:
        by_user.setdefault(row["user_id"], set()).add(row["log_partition"])
    assert all(len(partitions) == 1 for partitions in by_user.values())
    for user in by_user:
        mine = sorted((r for r in rows if r["user_id"] == user), key=lambda r: r["log_offset"])
        assert [r["occurred_at"] for r in mine] == sorted(r["occurred_at"] for r in mine)
    assert lake.query("SELECT count(*) AS n FROM g", g="engagement_daily").to_pylist()[0]["n"]


def test_a_retried_batch_is_dropped_by_the_consumer(kafka, api, catalog):
    episodes = list(Episode.objects.all()[:3])
    batch = _batch(episodes, 200)
    _post(api, batch)
    consume(once=True)
    # Kafka cannot tell a retry from a new batch: the API accepts it again...
    assert _post(api, batch + _batch(episodes, 10, start=500))["accepted"] == 210
    report = consume(once=True)
    # ...and the consumer stores only the new events.
    assert report.duplicates_dropped == 200 and report.events_written == 10
    count = lake.query("SELECT count(DISTINCT event_id) AS d, count(*) AS n FROM e", e="events")
    assert count.to_pylist() == [{"d": 210, "n": 210}]


def test_positions_resume_from_the_lake_not_from_kafka(kafka, api, catalog):
    episodes = list(Episode.objects.all()[:3])
    _post(api, _batch(episodes, 100))
    assert consume(once=True).events_written == 100
    event_log.reset_shared()  # a new process: new consumer, no memory of offsets
    _post(api, _batch(episodes, 50, start=100))
    report = consume(once=True)
    assert report.events_written == 50 and report.duplicates_dropped == 0


def test_unreachable_brokers_answer_503_and_store_nothing(monkeypatch, api, catalog):
    monkeypatch.setenv("PODSIGHT_EVENT_LOG", "kafka")
    monkeypatch.setenv("PODSIGHT_KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:1")
    monkeypatch.setenv("PODSIGHT_KAFKA_CONFIG", '{"message.timeout.ms": 1500}')
    event_log.reset_shared()
    response = api.generic(
        "POST",
        "/api/events",
        orjson.dumps(_batch(list(Episode.objects.all()[:1]), 3)),
        content_type="application/json",
    )
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "log_unavailable"
    event_log.reset_shared()
