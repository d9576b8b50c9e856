"""What the dashboard's channel page reads beyond the list and detail: a show's metrics over
time (``/api/channels/{id}/metrics``) and each episode's transcript status in lists."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from rest_framework.test import APIClient

from podsight.catalog.models import Channel, Episode
from podsight.content.models import EpisodeTranscript, TranscriptStatus
from podsight.lake.metrics import MetricSnapshot, record_metrics
from podsight.sources.models import SourceChannel, SourceEpisode
from podsight.sources.rss.ingest import ingest_feeds

pytestmark = pytest.mark.django_db

FEEDS = [
    "podcast-feed-parser/bc-sample.xml",  # All Things Chemical, 4 episodes
    "podcast-feed-parser/podnews.xml",  # links transcripts
]


@pytest.fixture
def catalog(rss_corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("PODSIGHT_HOME", str(tmp_path))  # a lake of this test's own
    report = ingest_feeds([str(rss_corpus / f) for f in FEEDS])
    assert not any(o.failed for o in report.outcomes), [o.error for o in report.outcomes]
    return Channel.objects.get(title="All Things Chemical")


@pytest.fixture
def api() -> APIClient:
    return APIClient()


def test_a_show_without_snapshots_has_empty_series(api, catalog):
    body = api.get(f"/api/channels/{catalog.pk}/metrics").json()
    assert body == {"channel": catalog.pk, "series": [], "episodes": []}


def test_channel_metrics_sum_the_episodes_per_day_and_keep_the_shows_own(api, catalog):
    own = SourceChannel.objects.get(channel=catalog)
    first, second, *_ = SourceEpisode.objects.filter(episode__channel=catalog).order_by("pk")
    other = SourceEpisode.objects.exclude(episode__channel=catalog).first()
    day = datetime(2026, 11, 20, 6, 0, tzinfo=UTC)

    def snap(record, kind: str, metric: str, value: float, later: timedelta = timedelta(0)):
        return MetricSnapshot(record.source, kind, record.external_id, metric, value, day + later)

    record_metrics(
        [
            snap(first, "episode", "views", 100),
            # Later the same day: the day's last snapshot is the one that counts.
            snap(first, "episode", "views", 120, timedelta(hours=5)),
            snap(first, "episode", "likes", 9),
            # The second episode is first seen a day later; the first is not seen that day.
            snap(second, "episode", "views", 50, timedelta(days=1)),
            snap(first, "episode", "views", 150, timedelta(days=2)),
            # Another show's episode never counts.
            snap(other, "episode", "views", 10**6),
            snap(own, "channel", "subscribers", 900),
            snap(own, "channel", "subscribers", 950, timedelta(days=1)),
        ]
    )

    response = api.get(f"/api/channels/{catalog.pk}/metrics")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["channel"] == catalog.pk
    totals = {(t["source"], t["metric"]): t["points"] for t in body["episodes"]}
    assert set(totals) == {("rss", "views"), ("rss", "likes")}
    assert totals[("rss", "views")] == [
        {"day": "2026-11-20", "value": 120.0, "records": 1},
        {"day": "2026-11-21", "value": 170.0, "records": 2},  # 120 carried forward + 50
        {"day": "2026-11-22", "value": 200.0, "records": 2},
    ]
    assert totals[("rss", "likes")] == [{"day": "2026-11-20", "value": 9.0, "records": 1}]
    [series] = body["series"]
    assert (series["source"], series["external_id"], series["metric"]) == (
        "rss", own.external_id, "subscribers"
    )  # fmt: skip
    assert [p["value"] for p in series["points"]] == [900.0, 950.0]
    assert series["points"][0]["observed_at"].startswith("2026-11-20T06:00:00")

    likes = api.get(f"/api/channels/{catalog.pk}/metrics?metric=likes").json()
    assert [(t["metric"], len(t["points"])) for t in likes["episodes"]] == [("likes", 1)]
    assert likes["series"] == []


def test_channel_metrics_errors(api, catalog):
    missing = api.get("/api/channels/999999/metrics")
    assert missing.status_code == 404
    assert missing.json()["error"]["message"] == "No channel with id 999999."
    empty = api.get(f"/api/channels/{catalog.pk}/metrics?metric=")
    assert empty.status_code == 400 and set(empty.json()) == {"error"}


def test_episode_lists_carry_the_transcript_status(api, catalog):
    linked = Episode.objects.filter(has_transcript=True).order_by("pk")
    assert linked.count() >= 2
    stored, failed = linked[0], linked[1]
    EpisodeTranscript.objects.create(episode=stored, status=TranscriptStatus.OK, version=1)
    EpisodeTranscript.objects.create(episode=failed, status=TranscriptStatus.ERROR, error="404")
    rows = {
        e["id"]: e
        for e in api.get("/api/episodes?page_size=500").json()["results"]
        + api.get(f"/api/channels/{catalog.pk}/episodes").json()["results"]
    }
    assert rows[stored.pk]["transcript_status"] == "ok"
    assert rows[failed.pk]["transcript_status"] == "error"
    pending = linked.exclude(pk__in=[stored.pk, failed.pk]).first()
    assert rows[pending.pk]["transcript_status"] == "pending"  # linked, not fetched yet
    chemical = [e for e in rows.values() if e["channel"] == catalog.pk]
    assert chemical and {e["transcript_status"] for e in chemical} == {"none"}
    # The list and the detail agree.
    assert api.get(f"/api/episodes/{stored.pk}").json()["transcript"]["status"] == "ok"
