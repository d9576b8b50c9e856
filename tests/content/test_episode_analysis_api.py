"""GET /api/episodes/{id}/analysis: an episode's content facts at once (the dashboard's
episode page), the same as the detail's, in one query and without reading the lake."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from podsight.catalog.models import Channel, Episode
from podsight.content.models import EpisodeAnalysis
from podsight.content.segments import Segment, Transcript
from podsight.content.transcripts import store_transcript

pytestmark = pytest.mark.django_db

FIELDS = {
    "id", "title", "channel", "channel_title", "published_at", "duration_s", "enclosure_url",
    "enclosure_type", "transcript", "keywords", "topics", "chapters", "chapters_source",
    "sponsors", "analysis",
}  # fmt: skip


@pytest.fixture
def api(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> APIClient:
    monkeypatch.setenv("PODSIGHT_HOME", str(tmp_path))
    return APIClient(raise_request_exception=False)


@pytest.fixture
def analysed() -> Episode:
    channel = Channel.objects.create(title="Garden Hours", language="en")
    episode = Episode.objects.create(
        channel=channel,
        title="Soil in winter",
        published_at=datetime(2025, 1, 1, tzinfo=UTC),
        duration_s=1800,
        enclosure_url="https://cdn.test/soil.mp3",
        enclosure_type="audio/mpeg",
        transcripts=[{"url": "https://x.test/t.vtt", "type": "text/vtt"}],
    )
    transcript = Transcript(
        [Segment(0.0, 4.0, "Ann", "Welcome."), Segment(4.0, 9.0, "Bo", "Soil in winter.")], "vtt"
    )
    store_transcript(episode.pk, transcript, source="rss", url="https://x.test/t.vtt", sha256="a")
    EpisodeAnalysis.objects.create(
        episode=episode,
        transcript_version=1,
        passages=1,
        embedder="all-MiniLM-L6-v2/int8",
        keywords=[{"keyword": "soil", "score": 0.05}],
        topics=[{"topic": "Garden", "id": 49, "parent": "Leisure", "score": 0.4}],
        chapters=[{"start_s": 0.0, "end_s": 9.0, "title": "Soil", "keywords": ["soil"],
                   "passages": [0, 0]}],
        chapters_source="auto",
        sponsors=[{"name": "Acme", "start_s": 0.0, "end_s": 4.0, "passages": [0],
                   "cues": ["brought to you by"], "url": "acme.example", "code": "SOIL",
                   "repeated": False, "text": "Welcome."}],
        analyzed_at=datetime(2026, 12, 6, 12, 0, tzinfo=UTC),
    )  # fmt: skip
    return episode


def test_the_facts_are_the_details(api: APIClient, analysed: Episode) -> None:
    content = api.get(f"/api/episodes/{analysed.pk}/analysis").json()
    assert set(content) == FIELDS
    detail = api.get(f"/api/episodes/{analysed.pk}").json()
    assert content == {k: detail[k] for k in FIELDS}
    assert content["transcript"]["status"] == "ok" and content["transcript"]["segments"] == 2
    assert content["chapters"][0]["title"] == "Soil" and content["sponsors"][0]["code"] == "SOIL"
    assert content["analysis"]["embedder"] == "all-MiniLM-L6-v2/int8"
    assert content["channel_title"] == "Garden Hours"


def test_before_any_transcript_or_analysis(api: APIClient) -> None:
    channel = Channel.objects.create(title="Show")
    bare = Episode.objects.create(channel=channel, title="Bare")
    content = api.get(f"/api/episodes/{bare.pk}/analysis").json()
    assert content["analysis"] is None and content["chapters_source"] == ""
    assert content["keywords"] == content["topics"] == content["chapters"] == []
    assert content["sponsors"] == []
    assert content["transcript"]["status"] == "none" and content["transcript"]["version"] == 0
    assert content["enclosure_url"] == "" and content["published_at"] is None


def test_one_query_and_no_lake_read(
    api: APIClient, analysed: Episode, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_lake(*args, **kwargs):
        raise AssertionError("the content view read the metrics lake")

    monkeypatch.setattr("podsight.lake.metrics.latest_metrics", no_lake)
    monkeypatch.setattr("podsight.catalog.api.latest_metrics", no_lake, raising=False)
    with CaptureQueriesContext(connection) as queries:
        response = api.get(f"/api/episodes/{analysed.pk}/analysis")
    assert response.status_code == 200
    # Resolving the id (merges), then the episode with channel, transcript and analysis.
    assert len(queries) <= 2, [q["sql"] for q in queries]


def test_a_merged_episode_answers_with_its_survivor(api: APIClient, analysed: Episode) -> None:
    merged = Episode.objects.create(channel=analysed.channel, title="Dup", merged_into=analysed)
    assert api.get(f"/api/episodes/{merged.pk}/analysis").json()["id"] == analysed.pk


def test_no_such_episode_is_404(api: APIClient) -> None:
    response = api.get("/api/episodes/999999/analysis")
    assert response.status_code == 404
    assert response.json()["error"]["message"] == "No episode with id 999999."
    assert api.get(f"/api/episodes/{2**63}/analysis").status_code == 404


def test_the_document_describes_it(api: APIClient) -> None:
    document = api.get("/api/schema?format=json").json()
    operation = document["paths"]["/api/episodes/{id}/analysis"]["get"]
    ref = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    properties = document["components"]["schemas"][ref.rsplit("/", 1)[1]]["properties"]
    assert set(properties) == FIELDS
    assert "404" in operation["responses"]
