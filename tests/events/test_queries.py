"""``GET /api/stats/live`` and ``GET /api/users/{id}/history`` over the lake (DuckDB)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from rest_framework.test import APIClient

from podsight.accounts.models import SCOPE_EVENTS_WRITE, SCOPE_STAFF
from podsight.accounts.services import create_token, create_user
from podsight.catalog.models import Episode
from podsight.events.consumer import consume
from podsight.events.services import ingest

pytestmark = [pytest.mark.django_db, pytest.mark.clock]


def _event(episode: int, user: str, at: datetime, kind: str = "play") -> dict:
    item = {
        "event_id": str(uuid.uuid4()),
        "user_id": user,
        "episode": episode,
        "type": kind,
        "occurred_at": at.isoformat(),
    }
    if kind == "play":
        item["position_s"] = 0
    return item


@pytest.fixture
def listened(catalog):
    # The API reads the clock when asked, so the events are placed by the same clock, as
    # the test starts (not at import: a long run would have pushed them out of the window).
    now = datetime.now(UTC).replace(second=0, microsecond=0)

    def ago(minutes: float) -> datetime:
        return now - timedelta(minutes=minutes)

    a, b, c = Episode.objects.order_by("pk")[:3]
    items = [
        _event(a.pk, "ann", ago(1)),
        _event(a.pk, "bob", ago(2)),
        _event(a.pk, "cy", ago(3)),
        _event(b.pk, "ann", ago(4)),
        _event(b.pk, "ann", ago(4.5), "like"),
        _event(c.pk, "bob", ago(40)),  # outside a 15-minute window
        _event(c.pk, "dee", ago(60 * 30)),  # yesterday or so
    ]
    assert not ingest(items, client="test").errors
    consume(once=True)
    return a, b, c


def _client(*scopes: str, user=None) -> APIClient:
    client = APIClient()
    _, key = create_token(f"t-{uuid.uuid4().hex[:6]}", list(scopes), user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def test_live_stats_over_a_window(listened):
    a, b, _ = listened
    body = _client(SCOPE_STAFF).get("/api/stats/live?window=15m").json()
    assert body["events"] == 5 and body["active_users"] == 3
    assert sum(m["events"] for m in body["per_minute"]) == 5
    assert len(body["per_minute"]) == 5  # five distinct minutes
    top = body["top_episodes"]
    assert [(t["episode"], t["plays"], t["listeners"]) for t in top] == [
        (a.pk, 3, 3),
        (b.pk, 1, 1),
    ]
    assert top[0]["title"] == a.title
    wide = _client(SCOPE_STAFF).get("/api/stats/live?window=2h").json()
    assert wide["events"] == 6 and wide["active_users"] == 3


def test_live_stats_refuse_bad_windows_and_non_staff(listened):
    staff = _client(SCOPE_STAFF)
    for bad in ("0m", "15", "3d", "25h", "abc"):
        response = staff.get(f"/api/stats/live?window={bad}")
        assert response.status_code == 400, bad
        assert "window" in response.json()["error"]["details"]
    assert _client(SCOPE_EVENTS_WRITE).get("/api/stats/live").status_code == 403
    assert APIClient().get("/api/stats/live").status_code == 401


def test_a_user_reads_only_their_own_history_and_staff_reads_any(listened):
    a, b, c = listened
    ann = create_user("ann", "pw-ann-123456")
    own = _client(SCOPE_EVENTS_WRITE, user=ann)
    body = own.get("/api/users/ann/history").json()
    assert [(e["type"], e["episode_id"]) for e in body["events"]] == [
        ("play", a.pk),
        ("play", b.pk),
        ("like", b.pk),
    ]
    assert body["events"][0]["episode_title"] == a.title
    assert own.get("/api/users/bob/history").status_code == 403
    staff = _client(SCOPE_STAFF)
    bob = staff.get("/api/users/bob/history").json()["events"]
    assert [e["episode_id"] for e in bob] == [a.pk, c.pk]
    page = staff.get("/api/users/ann/history?limit=2").json()
    assert len(page["events"]) == 2 and page["next_before"]
    rest = staff.get("/api/users/ann/history", {"before": page["next_before"]}).json()
    assert [e["type"] for e in rest["events"]] == ["like"]
    assert staff.get("/api/users/nobody/history").json()["events"] == []
    assert APIClient().get("/api/users/ann/history").status_code == 401


def test_a_window_over_midnight_reads_both_days(catalog):
    # The lake is partitioned by day and the window's files are picked by date: five
    # minutes after midnight, a 15-minute window reaches into yesterday's partition.
    (a,) = Episode.objects.order_by("pk")[:1]
    midnight = datetime(2025, 6, 3, tzinfo=UTC)
    items = [
        _event(a.pk, "ann", midnight - timedelta(minutes=2)),
        _event(a.pk, "bob", midnight + timedelta(minutes=3)),
        _event(a.pk, "cy", midnight - timedelta(minutes=20)),  # before the window
    ]
    assert not ingest(items, client="test").errors
    consume(once=True)
    with time_machine.travel(midnight + timedelta(minutes=5), tick=False):
        body = _client(SCOPE_STAFF).get("/api/stats/live?window=15m").json()
    assert body["window"] == {
        "from": "2025-06-02T23:50:00+00:00",
        "to": "2025-06-03T00:05:00+00:00",
    }
    assert body["events"] == 2 and body["active_users"] == 2
    assert [m["minute"] for m in body["per_minute"]] == [
        "2025-06-02T23:58:00+00:00",
        "2025-06-03T00:03:00+00:00",
    ]
