"""The dashboard's statistics over real data: ``GET /api/stats/engagement``,
``/api/stats/completion`` (the lake) and ``/api/stats/overview`` (database, lake, the
YouTube quota ledger), with who may read what."""

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
from podsight.events.stats import SOURCES_TTL
from podsight.recs.models import ModelStatus, ModelVersion
from podsight.sources.models import LinkStatus, SourceChannel, SourceEpisode, SyncState
from podsight.sources.sync import ShowSpec, SourceRun, record_run, sync_shows
from podsight.sources.youtube.quota import QuotaLedger

pytestmark = [pytest.mark.django_db, pytest.mark.clock]

# The API reads the clock; the tests set it, so the days and the last hour are fixed.
NOW = datetime(2025, 6, 10, 12, 0, tzinfo=UTC)
DURATION = 1000.0


def _event(kind: str, user: str, episode: int, at: datetime, position=None) -> dict:
    item = {
        "event_id": str(uuid.uuid4()),
        "user_id": user,
        "episode": episode,
        "type": kind,
        "occurred_at": at.isoformat(),
    }
    if position is not None:
        item.update(position_s=position, duration_s=DURATION)
    return item


def _session(user: str, episode: int, start: datetime, end_kind: str, end: float) -> list:
    """A play from the start, then how it ended (``complete``, ``skip``, ``pause``) at
    ``end`` seconds into the episode, as a player would report it."""
    return [
        _event("play", user, episode, start, 0),
        _event(end_kind, user, episode, start + timedelta(seconds=end), end),
    ]


@pytest.fixture
def listened(catalog):
    a = Episode.objects.filter(channel__episodes__isnull=False).order_by("pk").first()
    b = Episode.objects.exclude(channel=a.channel).order_by("pk").first()
    yesterday = NOW - timedelta(days=1)
    items = [
        *_session("ann", a.pk, yesterday, "complete", DURATION),  # finished
        *_session("bob", a.pk, yesterday, "skip", 120),  # skipped in the second tenth
        _event("like", "ann", a.pk, yesterday + timedelta(hours=1)),
        *_session("cy", b.pk, NOW - timedelta(minutes=30), "pause", 500),  # half, today
        *_session("ann", b.pk, NOW - timedelta(days=10), "pause", 300),  # outside 7 days
    ]
    assert not ingest(items, client="test").errors
    consume(once=True)
    return a, b


def _client(*scopes: str, user=None) -> APIClient:
    client = APIClient()
    _, key = create_token(f"t-{uuid.uuid4().hex[:6]}", list(scopes), user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def _get(client: APIClient, url: str, status: int = 200) -> dict:
    with time_machine.travel(NOW, tick=False):
        response = client.get(url)
    assert response.status_code == status, response.content[:400]
    return response.json()


def test_engagement_per_day_with_quiet_days_as_zeros(listened):
    body = _get(_client(SCOPE_STAFF), "/api/stats/engagement?days=7")
    assert (body["from"], body["to"], body["user"]) == ("2025-06-04", "2025-06-10", None)
    days = {d["day"]: d for d in body["days"]}
    assert list(days) == [f"2025-06-{d:02d}" for d in range(4, 11)]
    assert days["2025-06-09"] == {
        "day": "2025-06-09",
        "listeners": 2,
        "plays": 2,
        "hours": round((DURATION + 120) / 3600, 2),
        "finished": 1,
        "likes": 1,
        "skips": 1,
    }
    assert days["2025-06-10"]["listeners"] == 1 and days["2025-06-10"]["finished"] == 0
    assert days["2025-06-05"]["plays"] == 0  # quiet
    month = _get(_client(SCOPE_STAFF), "/api/stats/engagement")
    assert len(month["days"]) == 30
    assert sum(d["plays"] for d in month["days"]) == 4  # ann's play 10 days ago counts


def test_completion_and_skips_per_show(listened):
    a, b = listened
    body = _get(_client(SCOPE_STAFF), "/api/stats/completion?days=7")
    assert body["bins"][0] == "0–10%" and len(body["bins"]) == 10
    shows = body["shows"]
    assert [s["show"] for s in shows] == [a.channel_id, b.channel_id]  # by listeners
    first = shows[0]
    assert first["title"] == a.channel.title
    assert (first["listeners"], first["pairs"]) == (2, 2)
    assert first["completion"] == [0, 1, 0, 0, 0, 0, 0, 0, 0, 1]  # 12 % and 100 %
    assert first["skip_positions"] == [0, 1, 0, 0, 0, 0, 0, 0, 0, 0]
    assert (first["finished_share"], first["skipped_share"]) == (0.5, 0.5)
    assert shows[1]["completion"][5] == 1 and shows[1]["listeners"] == 1
    top = _get(_client(SCOPE_STAFF), "/api/stats/completion?days=7&shows=1")["shows"]
    assert [s["show"] for s in top] == [a.channel_id]


def test_a_download_like_or_rating_alone_is_no_listening(listened):
    # engagement_daily has a row for any event; one without a play, a listened second or
    # a position is not a listener, nor a (listener, episode) pair stopped in the first tenth.
    a, _ = listened
    yesterday = NOW - timedelta(days=1)
    items = [
        _event("download", "dee", a.pk, yesterday),
        _event("like", "eve", a.pk, yesterday),
        {**_event("rate", "fay", a.pk, yesterday), "rating": 5},
    ]
    assert not ingest(items, client="test").errors
    consume(once=True)
    staff = _client(SCOPE_STAFF)
    day = {d["day"]: d for d in _get(staff, "/api/stats/engagement?days=7")["days"]}
    assert (day["2025-06-09"]["listeners"], day["2025-06-09"]["likes"]) == (2, 2)
    first = _get(staff, "/api/stats/completion?days=7")["shows"][0]
    assert first["show"] == a.channel_id
    assert (first["listeners"], first["pairs"]) == (2, 2)
    assert first["completion"] == [0, 1, 0, 0, 0, 0, 0, 0, 0, 1]


def test_days_are_utc_days(catalog):
    # Just before and just at a UTC midnight: two days, whatever the server's time zone.
    episode = Episode.objects.order_by("pk").first()
    items = [
        _event("play", "ann", episode.pk, datetime(2025, 6, 8, 23, 59, 59, tzinfo=UTC), 0),
        _event("play", "bob", episode.pk, datetime(2025, 6, 9, 0, 0, 0, tzinfo=UTC), 0),
    ]
    assert not ingest(items, client="test").errors
    consume(once=True)
    days = _get(_client(SCOPE_STAFF), "/api/stats/engagement?days=7")["days"]
    plays = {d["day"]: (d["listeners"], d["plays"]) for d in days if d["plays"]}
    assert plays == {"2025-06-08": (1, 1), "2025-06-09": (1, 1)}
    assert _get(_client(SCOPE_STAFF), "/api/stats/engagement?days=2")["days"][0] == {
        "day": "2025-06-09", "listeners": 1, "plays": 1, "hours": 0.0, "finished": 0,
        "likes": 0, "skips": 0,
    }  # fmt: skip


def test_listeners_see_their_own_statistics_and_staff_anyones(listened):
    a, b = listened
    ann = _client(SCOPE_EVENTS_WRITE, user=create_user("ann", "pw-ann-123456"))
    own = _get(ann, "/api/stats/completion?days=30")
    assert own["user"] == "ann"
    assert {s["show"]: s["completion"] for s in own["shows"]} == {
        a.channel_id: [0] * 9 + [1],
        b.channel_id: [0, 0, 0, 1, 0, 0, 0, 0, 0, 0],
    }
    assert _get(ann, "/api/stats/engagement?days=30&user=ann")["user"] == "ann"
    assert sum(d["plays"] for d in _get(ann, "/api/stats/engagement")["days"]) == 2
    refused = _get(ann, "/api/stats/engagement?user=bob", 403)
    assert "staff" in refused["error"]["message"]
    _get(ann, "/api/stats/completion?user=bob", 403)
    bob = _get(_client(SCOPE_STAFF), "/api/stats/completion?user=bob")["shows"]
    assert [(s["show"], s["skipped_share"]) for s in bob] == [(a.channel_id, 1.0)]
    _get(_client(SCOPE_EVENTS_WRITE), "/api/stats/engagement", 403)  # acts for no user
    _get(APIClient(), "/api/stats/completion", 401)
    for bad in ("days=0", "days=366", "days=x", "days=", "shows=0", "user="):
        _get(_client(SCOPE_STAFF), f"/api/stats/completion?{bad}", 400)


def test_an_empty_lake_answers_zeros(db):
    body = _get(_client(SCOPE_STAFF), "/api/stats/engagement?days=3")
    assert [d["plays"] for d in body["days"]] == [0, 0, 0]
    assert _get(_client(SCOPE_STAFF), "/api/stats/completion")["shows"] == []


def _platform_records(channel, episodes, source: str, external: str, linked: bool):
    record = SourceChannel.objects.create(
        source=source, external_id=external, content_hash="x", fetched_at=NOW,
        channel=channel if linked else None,
    )  # fmt: skip
    for i, episode in enumerate(episodes):
        SourceEpisode.objects.create(
            source_channel=record, source=source, external_id=f"{external}-{i}",
            content_hash="x", fetched_at=NOW, episode=episode if linked and i == 0 else None,
            link_status=LinkStatus.NEEDS_REVIEW if linked and i == 0 else "",
        )  # fmt: skip
    return record


def test_overview_for_staff(listened, home, monkeypatch):
    monkeypatch.delenv("YOUTUBE_API_KEY", raising=False)
    a, _ = listened
    episodes = list(a.channel.episodes.order_by("pk")[:2])
    _platform_records(a.channel, episodes, "spotify", "sp1", linked=True)
    _platform_records(a.channel, episodes, "youtube", "yt1", linked=False)
    # A sync run of a source without credentials: recorded as skipped, with no error.
    sync_shows([ShowSpec(name="X", youtube_channel_id="UCx")], sources=["youtube"])
    SyncState.objects.create(
        source="spotify", last_run_at=NOW - timedelta(hours=2), status="stopped",
        message="HTTP 401: check the spotify credentials", last_error="X: HTTP 401",
        last_error_at=NOW - timedelta(hours=2),
    )  # fmt: skip
    ledger = QuotaLedger(10_000, home / "state" / "youtube_quota.json", clock=lambda: NOW)
    ledger.reserve(101, endpoint="search")
    ModelVersion.objects.create(
        version="v1", created_at=NOW, status=ModelStatus.SERVING, path="/x",
        metrics={"hybrid": {"ndcg@10": 0.4321}},
    )  # fmt: skip
    body = _get(_client(SCOPE_STAFF), "/api/stats/overview")
    by = {s["source"]: s for s in body["sources"]}
    assert list(by) == ["rss", "podcastindex", "apple", "spotify", "youtube"]
    assert by["rss"]["channels"] == 2 and by["rss"]["episodes"] == Episode.objects.count()
    assert by["rss"]["channels_linked"] == 1 and by["rss"]["episodes_linked"] == 1
    assert (by["spotify"]["channels"], by["spotify"]["channels_linked"]) == (1, 1)
    assert (by["spotify"]["episodes"], by["spotify"]["episodes_linked"]) == (2, 1)
    assert (by["youtube"]["channels_linked"], by["youtube"]["episodes_linked"]) == (0, 0)
    assert body["catalog"] == {"channels": 2, "episodes": Episode.objects.count()}
    assert body["review"] == {"channels": 0, "episodes": 1}
    sync = {s["source"]: s for s in body["sync"]}
    assert sync["rss"]["status"] == "ok" and sync["rss"]["last_sync_at"]
    assert sync["spotify"]["status"] == "stopped"
    assert sync["spotify"]["last_error"] == "X: HTTP 401"
    assert sync["youtube"]["status"] == "skipped" and sync["youtube"]["last_error"] == ""
    assert "YOUTUBE_API_KEY" in sync["youtube"]["message"]
    assert sync["apple"]["status"] is None and sync["apple"]["last_sync_at"] is None
    quota = body["youtube_quota"]
    assert (quota["used"], quota["budget"], quota["day"]) == (101, 10_000, "2025-06-10")
    assert body["model"]["version"] == "v1" and body["model"]["ndcg_at_10"] == 0.4321
    live = body["listening"]
    assert (live["events"], live["active_users"]) == (2, 1)  # cy's play and pause
    assert live["window"] == {"from": "2025-06-10T11:00:00+00:00", "to": NOW.isoformat()}
    assert sum(m["events"] for m in live["per_minute"]) == 2


def test_overview_for_others_leaves_operations_out(listened):
    ann = _client(user=create_user("ann", "pw-ann-123456"))
    body = _get(ann, "/api/stats/overview")
    assert body["catalog"]["channels"] == 2 and body["model"] is None
    assert {s["source"] for s in body["sources"]} >= {"rss", "spotify", "youtube"}
    for operator_only in ("review", "sync", "youtube_quota", "listening"):
        assert body[operator_only] is None
    _get(APIClient(), "/api/stats/overview", 401)


def test_overview_keeps_the_records_per_source_a_minute(db):
    staff = _client(SCOPE_STAFF)
    spotify = lambda body: next(s for s in body["sources"] if s["source"] == "spotify")  # noqa: E731
    assert spotify(_get(staff, "/api/stats/overview"))["channels"] == 0
    SourceChannel.objects.create(
        source="spotify", external_id="sp9", content_hash="x", fetched_at=NOW
    )
    assert spotify(_get(staff, "/api/stats/overview"))["channels"] == 0  # cached
    with time_machine.travel(NOW + timedelta(seconds=SOURCES_TTL + 1), tick=False):
        later = staff.get("/api/stats/overview").json()
    assert spotify(later)["channels"] == 1


def test_a_failed_sync_error_stays_after_a_good_run(db):
    record_run(SourceRun("spotify", status="stopped", message="quota", errors=["Show: quota"]))
    record_run(SourceRun("spotify", status="ok", shows_ok=3))
    state = SyncState.objects.get(source="spotify")
    assert (state.status, state.shows_ok, state.last_error) == ("ok", 3, "Show: quota")


def test_new_listening_shows_at_once(listened):
    # The Arrow datasets of the lake are reused between requests: a new commit of the
    # consumer must be seen by the next one.
    a, _ = listened
    staff = _client(SCOPE_STAFF)
    before = _get(staff, "/api/stats/engagement?days=1")["days"][0]
    live = _get(staff, "/api/stats/live?window=1h")["events"]
    items = _session("dee", a.pk, NOW - timedelta(minutes=30), "complete", DURATION)
    assert not ingest(items, client="test").errors
    consume(once=True)
    after = _get(staff, "/api/stats/engagement?days=1")["days"][0]
    assert (after["listeners"], after["finished"]) == (before["listeners"] + 1, 1)
    assert _get(staff, "/api/stats/live?window=1h")["events"] == live + 2
    shows = _get(staff, "/api/stats/completion?days=1")["shows"]
    assert a.channel_id in [s["show"] for s in shows]


def test_one_listeners_statistics_over_several_consumer_batches(listened):
    """A filter on the listener over lake files written by several batches (a download
    in the second one): once a 500 ("no kernel matching … string, string_view")."""
    a, _ = listened
    yesterday = NOW - timedelta(days=1)
    assert not ingest([_event("download", "dee", a.pk, yesterday)], client="test").errors
    consume(once=True)
    assert not ingest([_event("like", "ann", a.pk, yesterday)], client="test").errors
    consume(once=True)
    staff = _client(SCOPE_STAFF)
    for who in ("ann", "dee"):
        days = _get(staff, f"/api/stats/engagement?days=7&user={who}")["days"]
        assert sum(d["likes"] for d in days) == (2 if who == "ann" else 0)
        _get(staff, f"/api/stats/completion?days=7&user={who}")
        assert _get(staff, f"/api/users/{who}/history")["events"]
