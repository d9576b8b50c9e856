"""The read-only catalog API over real ingested feeds."""

from __future__ import annotations

from pathlib import Path

import pytest
from rest_framework.test import APIClient

from podsight.catalog.models import Channel, Episode
from podsight.sources.rss.ingest import ingest_feeds

pytestmark = pytest.mark.django_db

FEEDS = [
    "podcast-feed-parser/bc-sample.xml",  # en, 4 episodes, nested Business > Business News
    "podcast-feed-parser/podnews.xml",  # 100 episodes, transcripts
    "partytime/themnshow.xml",  # Podcasting 2.0: transcripts, persons, funding
    "podcast-feed-parser/tvillingpodden.xml",  # Swedish
]


@pytest.fixture
def catalog(rss_corpus: Path):
    report = ingest_feeds([str(rss_corpus / f) for f in FEEDS])
    assert not any(o.failed for o in report.outcomes), [o.error for o in report.outcomes]
    return report


@pytest.fixture
def api() -> APIClient:
    return APIClient()


def _all_pages(api: APIClient, url: str) -> list[dict]:
    items: list[dict] = []
    while url:
        response = api.get(url)
        assert response.status_code == 200, response.content
        body = response.json()
        items.extend(body["results"])
        url = body["next"]
    return items


def _error(response, status: int) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"}
    assert body["error"]["status"] == status
    assert body["error"]["code"] and body["error"]["message"]
    return body["error"]


def test_channel_list_and_detail(api, catalog):
    body = api.get("/api/channels").json()
    assert set(body) >= {"results", "next"}
    titles = {c["title"] for c in body["results"]}
    assert "All Things Chemical" in titles
    chem = next(c for c in body["results"] if c["title"] == "All Things Chemical")
    assert chem["episode_count"] == 4
    assert "Business > Business News" in chem["categories"]
    assert chem["sources"][0]["source"] == "rss"
    assert {"source", "external_id", "url", "method", "confidence"} <= set(chem["sources"][0])
    detail = api.get(f"/api/channels/{chem['id']}").json()
    assert detail["episode_count"] == 4
    record = detail["sources"][0]
    assert record["method"] == "key" and record["confidence"] == 1.0
    assert record["data"]["title"] == "All Things Chemical"
    assert detail["field_sources"]["title"].startswith("rss:")


def test_channel_episodes_and_episode_detail(api, catalog):
    chem = Channel.objects.get(title="All Things Chemical")
    episodes = api.get(f"/api/channels/{chem.pk}/episodes").json()["results"]
    assert len(episodes) == 4
    dates = [e["published_at"] for e in episodes]
    assert dates == sorted(dates, reverse=True)  # newest first by default
    one = episodes[0]
    for key in (
        "id",
        "title",
        "channel",
        "published_at",
        "duration_s",
        "enclosure_url",
        "transcripts",
        "sources",
    ):
        assert key in one
    assert one["channel"] == chem.pk and one["duration_s"] > 0
    detail = api.get(f"/api/episodes/{one['id']}").json()
    assert detail["sources"][0]["data"]["enclosure_url"] == detail["enclosure_url"]


def test_filters(api, catalog):
    total = Episode.objects.count()
    with_transcripts = _all_pages(api, "/api/episodes?has_transcript=true&page_size=500")
    assert with_transcripts and all(e["transcripts"] for e in with_transcripts)
    without = _all_pages(api, "/api/episodes?has_transcript=false&page_size=500")
    assert len(with_transcripts) + len(without) == total

    swedish = _all_pages(api, "/api/episodes?language=sv")
    assert swedish and {e["channel_title"] for e in swedish} == {
        Channel.objects.get(language__startswith="sv").title
    }
    business = _all_pages(api, "/api/channels?category=Business%20News")
    assert [c["title"] for c in business] == ["All Things Chemical"]

    long_ones = _all_pages(api, "/api/episodes?duration_min=3600&page_size=500")
    assert all(e["duration_s"] >= 3600 for e in long_ones)
    short = _all_pages(api, "/api/episodes?duration_max=600&page_size=500")
    assert all(e["duration_s"] is not None and e["duration_s"] <= 600 for e in short)

    window = _all_pages(api, "/api/episodes?published_after=2018-01-01&published_before=2019-01-01")
    assert window and all("2018" == e["published_at"][:4] for e in window)

    assert _all_pages(api, "/api/episodes?source=rss&page_size=500").__len__() == total
    assert _all_pages(api, "/api/episodes?source=spotify") == []
    explicit = _all_pages(api, "/api/episodes?explicit=true&page_size=500")
    assert all(e["explicit"] is True for e in explicit)


def test_full_text_search(api, catalog):
    hits = _all_pages(api, "/api/episodes?q=chemical")
    assert hits and all("chemical" in (e["title"] + " " + e["description"]).lower() for e in hits)
    assert _all_pages(api, "/api/channels?q=chemical")[0]["title"] == "All Things Chemical"
    assert _all_pages(api, "/api/episodes?q=zzqxnotaword") == []
    # Punctuation and operators in user text never break the query.
    assert api.get('/api/episodes?q=" OR ( NEAR *').status_code == 200


def test_cursor_pagination_walks_every_row_once(api, catalog):
    for ordering in ("-published_at", "published_at", "title", "-duration_s", "id"):
        rows = _all_pages(api, f"/api/episodes?page_size=7&ordering={ordering}")
        ids = [r["id"] for r in rows]
        assert len(ids) == len(set(ids)) == Episode.objects.count(), ordering
    body = api.get("/api/episodes?page_size=500").json()
    assert body["page_size"] == 500
    assert len(body["results"]) == min(500, Episode.objects.count())
    # Over the maximum is refused like 0, not silently clamped (as the schema says).
    for size in ("501", "100000", "", "-1", "1.5", "²"):
        assert api.get(f"/api/episodes?page_size={size}").status_code == 400, size


def test_bad_values_are_400_and_bad_ids_404(api, catalog):
    for url in (
        "/api/episodes?duration_min=long",
        "/api/episodes?published_after=yesterday",
        "/api/episodes?has_transcript=maybe",
        "/api/episodes?explicit=2",
        "/api/episodes?source=myspace",
        "/api/episodes?ordering=colour",
        "/api/episodes?page_size=0",
        "/api/episodes?cursor=garbage",
        "/api/channels?explicit=perhaps",
    ):
        error = _error(api.get(url), 400)
        assert error["details"], url
    _error(api.get("/api/channels/999999"), 404)
    _error(api.get("/api/episodes/999999"), 404)
    _error(api.get("/api/channels/999999/episodes"), 404)
    _error(api.get("/api/channels/abc"), 404)
    _error(api.get("/api/nothing-here"), 404)


def test_merged_ids_resolve_to_the_survivor(api, catalog):
    a, b = Channel.objects.order_by("id")[:2]
    b.merged_into = a
    b.save()
    body = api.get(f"/api/channels/{b.pk}").json()
    assert body["id"] == a.pk
    assert b.pk not in {c["id"] for c in _all_pages(api, "/api/channels")}


def test_schema_docs_and_health(api, catalog):
    schema = api.get("/api/schema?format=json")
    assert schema.status_code == 200
    doc = schema.json()
    assert doc["openapi"].startswith("3.")
    for path in ("/api/channels", "/api/channels/{id}", "/api/episodes", "/api/episodes/{id}"):
        assert path in doc["paths"], path
    params = {p["name"] for p in doc["paths"]["/api/episodes"]["get"]["parameters"]}
    assert {"q", "channel", "has_transcript", "cursor", "page_size", "ordering"} <= params
    docs = api.get("/api/docs")
    assert docs.status_code == 200 and b"swagger" in docs.content.lower()
    health = api.get("/healthz")
    assert health.status_code == 200 and health.json()["database"] == "ok"
