"""The Apple Podcasts (iTunes Search API) connector on real responses and the demo world.

Recorded iTunes Search API responses (podsearch_bot fixtures) and the demo world are
served by the replay backend through the local API server on 127.0.0.1 (each test its
own, so Apple's limit of about 20 calls a minute per address, which the connector keeps
to, never makes a test wait). The contract every connector keeps is checked in
``test_connector_contract.py``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from connector_cases import APPLE, APPLE_EPISODE, NERDCAST, apple_backend, load

from httpserver import ReplayApis
from podsight.demo import build_world, render_rss
from podsight.demo.apiserver import ApiRequest, Fault, Reply
from podsight.demo.apple_api import apple_demo_ids, build_apple_backend
from podsight.sources import http
from podsight.sources.apple import AppleConnector, normalize
from podsight.sources.apple.client import APPLE_RATE
from podsight.sources.connector import SeenRecords
from podsight.sources.http import ApiNotFound, ApiRateLimited, ApiResponseError
from podsight.sources.keys import normalise_feed_url
from podsight.sources.rss.parser import parse_feed
from podsight.sources.sync import ShowSpec

pytestmark = [pytest.mark.network, pytest.mark.usefixtures("api_home")]

SAMPLES = (
    "podsearch_bot__en-us__searchCommand.json",
    "podsearch_bot__en-us__searchInline.json",
    "podsearch_bot__pt-br__searchCommand.json",
    "podsearch_bot__pt-br__searchInline.json",
    "podsearch_bot__unsupported__searchCommand.1.json",
)


@pytest.fixture
def samples(test_data: Path) -> Path:
    return test_data / "api_samples" / "itunes"


def apple_show(collection_id: int | str) -> ShowSpec:
    return ShowSpec(name=str(collection_id), itunes_id=str(collection_id))


# --- pure normalisation on real payloads ---------------------------------------------


@pytest.mark.parametrize("name", SAMPLES)
def test_normalize_real_sample(samples: Path, name: str) -> None:
    body = load(samples, name)
    result = normalize("search", {"term": "nerdcast", "media": "podcast"}, body)
    assert len(result.shows) == body["resultCount"] == len(body["results"])
    assert result.episodes == []
    for record, raw in zip(result.shows, body["results"], strict=True):
        assert record.source == "apple"
        assert record.external_id == str(raw["collectionId"])
        assert record.data["itunes_id"] == raw["collectionId"]
        assert record.data["title"] == raw["collectionName"]
        assert record.data["author"] == raw["artistName"]
        assert record.data.get("feed_url") == raw["feedUrl"]
        assert record.data["image_url"] == raw["artworkUrl600"]
        assert record.data["categories"] == [[g] for g in raw["genres"] if g != "Podcasts"]
        assert record.data["explicit"] is (raw["collectionExplicitness"] == "explicit")
        assert record.data["latest_published_at"] == raw["releaseDate"].replace("Z", "+00:00")
        assert record.metrics == {"track_count": float(raw["trackCount"])}
        assert record.url == raw["collectionViewUrl"]


def test_normalize_show_without_feed_url(samples: Path) -> None:
    body = load(samples, "podsearch_bot__unsupported__searchCommand.1.json")
    assert body["results"][0]["feedUrl"] is None
    (show,) = normalize("search", {}, body).shows
    assert "feed_url" not in show.data
    assert show.data["title"] == "Nerdcast"
    assert show.data["categories"] == [["Comedy"]]
    assert show.data["explicit"] is False  # "cleaned"


def test_normalize_episode_in_the_real_shape() -> None:
    result = normalize(
        "lookup",
        {"id": str(NERDCAST), "entity": "podcastEpisode", "limit": 200},
        {"resultCount": 1, "results": [APPLE_EPISODE]},
    )
    (episode,) = result.episodes
    assert episode.external_id == "1000522907460"
    assert episode.show_external_id == str(NERDCAST)
    assert episode.url == APPLE_EPISODE["trackViewUrl"]
    assert episode.data == {
        "title": "NerdCast 800 - Ten years of questions",
        "guid": "229d4b05-66de-4e3d-8682-ad2900086fbd",
        "enclosure_url": "https://media.example.invalid/nerdcast/800.mp3?utm_source=Podcast",
        "enclosure_type": "audio/mpeg",
        "published_at": "2021-05-24T12:00:00+00:00",
        "duration_s": 2800,
        "description_html": "<p>We answer ten years of questions.</p>"
        "<p>Thanks to our listeners.<br>See you!</p>",
        "description_text": APPLE_EPISODE["description"],
        "explicit": True,
        "image_url": APPLE_EPISODE["artworkUrl600"],
        "link": APPLE_EPISODE["trackViewUrl"],
        "kind": "episode",
    }
    assert result.shows == [] and result.complete_shows == set()


def test_normalize_tolerates_missing_and_null_fields() -> None:
    bare_show = {"wrapperType": "track", "kind": "podcast", "collectionId": 42, "feedUrl": None}
    bare_episode = {
        "wrapperType": "podcastEpisode",
        "trackId": 7,
        "collectionId": 42,
        "trackName": None,
        "trackTimeMillis": None,
        "releaseDate": "garbage",
        "description": None,
        "shortDescription": "Short one.",
        "genres": None,
    }
    body = {
        "results": [
            bare_show,
            bare_episode,
            None,
            "x",
            {"wrapperType": "artist", "artistId": 1},
            {"wrapperType": "podcastEpisode", "trackId": 8},
        ]
    }  # no collection
    result = normalize("lookup", {"id": "42", "entity": "podcastEpisode", "limit": "200"}, body)
    (show,) = result.shows
    assert (show.external_id, show.data, show.metrics, show.url) == (
        "42",
        {"itunes_id": 42},
        {},
        "",
    )
    (episode,) = result.episodes
    assert episode.data == {
        "description_html": "<p>Short one.</p>",
        "description_text": "Short one.",
        "kind": "episode",
    }
    assert result.complete_shows == {"42"}  # 1 of at most 200 came back: all there is


@pytest.mark.parametrize(
    "body", [None, [], "<html>", {"resultCount": 0}, {"results": {"0": {}}}, {"errorMessage": "x"}]
)
def test_normalize_rejects_bodies_of_the_wrong_kind(body: Any) -> None:
    with pytest.raises(ApiResponseError, match="apple lookup: expected"):
        normalize("lookup", {}, body)


def test_enclosure_types() -> None:
    kinds = {
        ("mp3", "audio"): "audio/mpeg",
        ("m4a", "audio"): "audio/x-m4a",
        ("mp4", "video"): "video/mp4",
        ("xyz", "audio"): "audio/xyz",
        (None, "audio"): None,
        (None, None): None,
    }
    for (ext, content), mime in kinds.items():
        result = normalize(
            "lookup",
            {},
            {
                "results": [
                    {**APPLE_EPISODE, "episodeFileExtension": ext, "episodeContentType": content}
                ]
            },
        )
        assert result.episodes[0].data.get("enclosure_type") == mime


# --- through the socket (fewer than 20 calls in the whole module) ---------------------


def test_search_real_results(replay_apis: ReplayApis, samples: Path) -> None:
    backend, collections = apple_backend(samples)
    server = APPLE.serve(replay_apis, backend)
    with AppleConnector.from_settings(cache=False) as connector:
        result = connector.search("nerdcast", limit=500)
        jovem = connector.search("jovem nerd")
        replayed = [
            normalize(p.endpoint, p.params, json.loads(p.body)) for p in connector.api.payloads
        ]
    first, second = [r.query for r in server.requests]
    assert first == {
        "term": "nerdcast",
        "media": "podcast",
        "entity": "podcast",
        "country": "US",
        "limit": "200",
    }
    # every recorded show has "nerdcast" in its name or artist
    assert [s.external_id for s in result.shows] == [str(c) for c in collections]
    assert [s.external_id for s in jovem.shows] == [str(NERDCAST)]
    assert jovem.shows[0].data["feed_url"] == "https://jovemnerd.com.br/feed-nerdcast/"
    assert replayed == [result, jovem]


def test_responses_served_as_javascript_decode(replay_apis: ReplayApis, samples: Path) -> None:
    backend, _ = apple_backend(samples)
    APPLE.serve(replay_apis, backend)
    with AppleConnector.from_settings(cache=False) as connector:
        response = connector.api.get("search", {"term": "sega", "media": "podcast"})
    assert response.headers["content-type"].startswith("text/javascript")
    assert response.data["resultCount"] == 1
    assert response.data["results"][0]["collectionName"] == "SEGA Nerdcast"


def test_lookup_returns_show_then_newest_episodes(replay_apis: ReplayApis, samples: Path) -> None:
    backend, collections = apple_backend(samples, episodes=230)
    server = APPLE.serve(replay_apis, backend)
    with AppleConnector.from_settings(cache=False) as connector:
        result = connector.fetch_show(
            apple_show(NERDCAST), SeenRecords(episodes={str(NERDCAST): {"x"}})
        )
        body = json.loads(connector.api.payloads[0].body)
    (request,) = server.requests
    assert request.path == "/lookup"
    assert request.query == {
        "id": str(NERDCAST),
        "entity": "podcastEpisode",
        "limit": "200",
        "country": "US",
    }
    assert body["resultCount"] == 201
    assert body["results"][0]["wrapperType"] == "track"
    (show,) = result.shows
    assert show.data["title"] == collections[NERDCAST]["collectionName"] == "NerdCast"
    assert show.data["feed_url"] == "https://jovemnerd.com.br/feed-nerdcast/"
    assert show.metrics == {"track_count": 300.0}
    assert len(result.episodes) == 200
    assert [e.data["title"] for e in result.episodes[:2]] == ["Episode 230", "Episode 229"]
    assert result.episodes[0].data["guid"] == f"guid-{NERDCAST}-230"
    assert result.episodes[0].data["duration_s"] == 2800
    assert result.complete_shows == set()  # 200 of 300: only the newest


def test_unknown_collection_is_not_found(replay_apis: ReplayApis, samples: Path) -> None:
    backend, _ = apple_backend(samples)
    server = APPLE.serve(replay_apis, backend)
    with AppleConnector.from_settings(cache=False) as connector:
        with pytest.raises(ApiNotFound, match="no podcast with id 999"):
            connector.fetch_show(apple_show(999))
    assert server.count("itunes", 200) == 1  # iTunes answers an empty list, not a 404


def test_forbidden_means_rate_limited(
    replay_apis: ReplayApis, samples: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PODSIGHT_API_MAX_RETRY_WAIT", "5")
    backend, _ = apple_backend(samples)
    forbidden = Reply(403, b"<html><body>Forbidden</body></html>")
    server = APPLE.serve(replay_apis, backend)
    server.inject("itunes", "/lookup", Fault(reply=forbidden))
    with AppleConnector.from_settings(cache=False) as connector:
        with pytest.raises(ApiRateLimited, match="asks to wait 60 s"):
            connector.fetch_show(apple_show(NERDCAST))
    assert server.count("itunes", 403) == 1


def test_bad_parameters_are_reported(
    replay_apis: ReplayApis, samples: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PODSIGHT_ITUNES_COUNTRY", "USA")
    backend, _ = apple_backend(samples)
    APPLE.serve(replay_apis, backend)
    with AppleConnector.from_settings(cache=False) as connector:
        with pytest.raises(ApiResponseError, match=r"Invalid value\(s\) for key\(s\): \[country\]"):
            connector.search("nerdcast")


def test_rate_limit_is_twenty_a_minute(replay_apis: ReplayApis, samples: Path) -> None:
    backend, _ = apple_backend(samples)
    server = APPLE.serve(replay_apis, backend)
    with AppleConnector.from_settings(cache=False):
        host = urlsplit(server.url("itunes")).netloc
        assert APPLE_RATE == (20, 60.0)
        assert (host, 20, 60.0) in http.limits_in_use()


def test_demo_world_shows_point_at_their_rss_feeds(replay_apis: ReplayApis) -> None:
    world = build_world(seed=7, shows=10)
    ids = apple_demo_ids(world)
    backend = build_apple_backend(world)
    assert 0 < len(ids) < len(world.shows)
    picked = [s for s in world.shows if s.slug in ids][:4]
    server = APPLE.serve(replay_apis, backend)
    with AppleConnector.from_settings(cache=False) as connector:
        results = {s.slug: connector.fetch_show(apple_show(ids[s.slug])) for s in picked}
    assert server.count("itunes", 200) == len(picked)
    for show in picked:
        result = results[show.slug]
        (record,) = result.shows
        assert record.external_id == ids[show.slug]
        assert record.data["title"] == show.title
        assert normalise_feed_url(record.data["feed_url"]) == normalise_feed_url(show.feed_url())
        newest = sorted(show.episodes, key=lambda e: e.published, reverse=True)[:200]
        assert [e.data.get("guid") for e in result.episodes] == [e.guid for e in newest]
        assert [e.data["enclosure_url"] for e in result.episodes] == [
            e.enclosure_url for e in newest
        ]
        assert [e.data["duration_s"] for e in result.episodes] == [e.duration_s for e in newest]
        assert result.complete_shows == {record.external_id}
        # the guids are the ones a feed fetch of the show's RSS gives
        if not set(show.breakage) & {"not_a_feed", "truncated"}:
            feed = parse_feed(render_rss(show), url=show.feed_url())
            assert {e.guid for e in feed.episodes} == {e.data.get("guid") for e in result.episodes}


def test_backend_answers_like_itunes(samples: Path) -> None:
    backend, _ = apple_backend(samples, episodes=3)

    def get(path: str, **query: str) -> Reply:
        return backend.handle(ApiRequest("GET", path, query, {}))

    lookup = get("/lookup", id=f"{NERDCAST},1,1103141552", entity="podcastEpisode", limit="2")
    assert lookup.headers["Content-Type"].startswith("text/javascript")
    assert [r["wrapperType"] for r in lookup.body["results"]] == [
        "track",
        "podcastEpisode",
        "podcastEpisode",
        "track",
    ]
    assert lookup.body["resultCount"] == 4
    assert get("/lookup", id="1").body == {"resultCount": 0, "results": []}
    assert get("/lookup", id="abc").status == 400
    assert get("/search").body["errorMessage"] == "Invalid value(s) for key(s): [term]"
    assert get("/search", term="nerdcast", limit="3").body["resultCount"] == 3
    assert get("/search", term="episode 2", entity="podcastEpisode").body["resultCount"] == 1
    assert get("/nothing").status == 404
