"""The Podcast Index connector over a real socket on 127.0.0.1, on the official spec's examples.

The replay backend holds the OpenAPI spec's example feed and episode and checks every
request's signature the way the API does; the connector reaches it through its normal
HTTP stack (signing, cache, retries, error mapping).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from connector_cases import (
    PODCASTINDEX,
    PODCASTINDEX_FEED,
    PODCASTINDEX_KEY,
    PODCASTINDEX_SECRET,
    podcastindex_openapi,
)

from httpserver import ReplayApis
from podsight.demo.apiserver import ApiServer, Fault, Reply
from podsight.demo.podcastindex_api import (
    PI_CATEGORY_IDS,
    PodcastIndexBackend,
    build_podcastindex_backend,
    podcastindex_demo_ids,
    spec_examples,
)
from podsight.demo.world import build_world
from podsight.sources.http import (
    ApiAuthError,
    ApiClient,
    ApiError,
    ApiResponseError,
    SourceNotConfigured,
)
from podsight.sources.podcastindex import PodcastIndexConnector, normalize
from podsight.sources.podcastindex.client import PodcastIndexAuth, podcastindex_error_hook
from podsight.sources.podcastindex.normalize import epoch_iso

pytestmark = pytest.mark.network

KEY, SECRET, FEED_ID = PODCASTINDEX_KEY, PODCASTINDEX_SECRET, PODCASTINDEX_FEED
ITUNES_ID = 1441923632
GUID = "9b024349-ccf0-5f69-a609-6b82873eab3c"
FEED_URL = "https://feeds.theincomparable.com/batmanuniversity"


@pytest.fixture(scope="module")
def openapi(test_data: Path) -> Path:
    return podcastindex_openapi(test_data)


@pytest.fixture(scope="module")
def examples(openapi: Path) -> dict[str, Any]:
    return spec_examples(openapi)


@pytest.fixture
def backend(test_data: Path) -> PodcastIndexBackend:
    return PODCASTINDEX.backend(test_data)


@pytest.fixture
def server(backend: PodcastIndexBackend, replay_apis: ReplayApis) -> ApiServer:
    return PODCASTINDEX.serve(replay_apis, backend)


@pytest.fixture
def connector(server: ApiServer) -> Iterator[PodcastIndexConnector]:
    client = PodcastIndexConnector.from_settings(cache=False)
    yield client
    client.close()


def _pi_requests(server: ApiServer, path: str) -> list[Any]:
    return [r for r in server.requests if r.mount == "podcastindex" and r.path == path]


# --- signing ---------------------------------------------------------------------------


@pytest.mark.clock
def test_every_request_is_signed_as_the_api_requires(
    server: ApiServer, backend: PodcastIndexBackend, connector: PodcastIndexConnector
) -> None:
    before = int(time.time())
    result = connector.show(feed_id=FEED_ID)
    after = int(time.time())

    assert [s.external_id for s in result.shows] == [str(FEED_ID)]
    (request,) = _pi_requests(server, "/podcasts/byfeedid")
    assert request.status == 200
    headers = request.headers
    assert headers["x-auth-key"] == KEY
    assert before <= int(headers["x-auth-date"]) <= after
    expected = hashlib.sha1(f"{KEY}{SECRET}{headers['x-auth-date']}".encode()).hexdigest()
    assert headers["authorization"] == expected
    assert headers["user-agent"].startswith("podsight/")
    assert backend.accepted == 1 and backend.rejected == []


def test_wrong_secret_is_an_auth_error_without_secrets(
    server: ApiServer, monkeypatch: pytest.MonkeyPatch, backend: PodcastIndexBackend
) -> None:
    wrong = "not-the-secret-" + SECRET[::-1]
    monkeypatch.setenv("PODCASTINDEX_API_SECRET", wrong)
    with PodcastIndexConnector.from_settings(cache=False) as client:
        with pytest.raises(ApiAuthError) as caught:
            client.trending()
    message = str(caught.value)
    sent_hash = _pi_requests(server, "/podcasts/trending")[0].headers["authorization"]
    assert "PODCASTINDEX_API_KEY" in message and "PODCASTINDEX_API_SECRET" in message
    assert "doesn't match" in message  # the API's own reason is kept
    for secret in (wrong, SECRET, KEY, sent_hash):
        assert secret not in message
    assert caught.value.status == 401
    assert backend.rejected == ["Authorization header value doesn't match"]
    assert server.count("podcastindex", 401) == 1  # an auth error is not retried


@pytest.mark.clock
def test_stale_auth_date_is_refused(server: ApiServer, backend: PodcastIndexBackend) -> None:
    api = ApiClient(
        "podcastindex",
        server.url("podcastindex"),
        auth=PodcastIndexAuth(KEY, SECRET, clock=lambda: time.time() - 200),
        cache=False,
        error_hook=podcastindex_error_hook(KEY, SECRET),
    )
    with PodcastIndexConnector(api) as client, pytest.raises(ApiAuthError) as caught:
        client.trending()
    assert "within 3 minutes" in str(caught.value)
    assert backend.accepted == 0


def test_missing_credentials_name_the_missing_variables(
    server: ApiServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PODCASTINDEX_API_SECRET")
    with pytest.raises(SourceNotConfigured) as caught:
        PodcastIndexConnector.from_settings(cache=False)
    assert "PODCASTINDEX_API_SECRET" in str(caught.value)
    assert "PODCASTINDEX_API_KEY" not in str(caught.value)
    monkeypatch.delenv("PODCASTINDEX_API_KEY")
    with pytest.raises(SourceNotConfigured) as caught:
        PodcastIndexConnector.from_settings(cache=False)
    assert "PODCASTINDEX_API_KEY and PODCASTINDEX_API_SECRET" in str(caught.value)
    assert server.requests == []


# --- normalising the spec's examples ---------------------------------------------------


def test_feed_examples_normalise(examples: dict[str, Any]) -> None:
    for endpoint in (
        "podcasts/byfeedid",
        "podcasts/byfeedurl",
        "podcasts/byitunesid",
        "podcasts/byguid",
    ):
        (show,) = normalize(endpoint, {}, examples[endpoint]).shows
        assert show.source == "podcastindex" and show.external_id == str(FEED_ID), endpoint
        data = show.data
        assert data["title"] == "Batman University"
        assert data["feed_url"] == FEED_URL
        assert data["podcast_guid"] == GUID
        assert data["itunes_id"] == ITUNES_ID and data["podcastindex_id"] == FEED_ID
        assert data["owner_name"] == "The Incomparable" and data["author"] == "Tony Sindelar"
        assert data["categories"] == [["Tv"], ["Film"], ["Reviews"]]
        assert data["language"] == "en-us" and data["episode_count"] == 19
        assert data["dead"] is False and data["last_http_status"] == 200
        assert data["image_url"].startswith("https://www.theincomparable.com/imgs/logos/")
        assert data["description_text"].startswith("Batman University is a seasonal podcast")
        assert data["funding"] == [
            {"url": "https://patreon.com/johnchidgey", "text": "Pragmatic on Patreon"}
        ]
        assert show.url == "https://www.theincomparable.com/batmanuniversity/"
        assert show.metrics["episode_count"] == 19.0
    full = normalize("podcasts/byfeedid", {}, examples["podcasts/byfeedid"]).shows[0].data
    assert full["itunes_type"] == "episodic" and full["explicit"] is False


def test_list_examples_normalise(examples: dict[str, Any]) -> None:
    (trending,) = normalize("podcasts/trending", {"max": 10}, examples["podcasts/trending"]).shows
    assert trending.metrics == {"trend_score": 1.0}
    assert trending.data["newest_item_published_at"] == "2019-01-02T03:30:13+00:00"
    assert trending.data["itunes_id"] == ITUNES_ID
    (found,) = normalize("search/byterm", {"q": "batman"}, examples["search/byterm"]).shows
    assert found.data["newest_item_published_at"] == "2019-01-02T03:30:13+00:00"
    assert found.data["podcast_guid"] == GUID


def test_episode_examples_normalise(examples: dict[str, Any]) -> None:
    result = normalize(
        "episodes/byfeedid", {"id": "75075", "max": 1000}, examples["episodes/byfeedid"]
    )
    (episode,) = result.episodes
    assert result.complete_shows == {"75075"}  # fewer than max and no since: the whole list
    assert episode.external_id == "16795088" and episode.show_external_id == "75075"
    data = episode.data
    assert data["guid"] == "incomparable/batman/19"
    assert data["published_at"] == "2019-01-02T03:30:13+00:00"
    assert data["duration_s"] == 54
    assert (
        data["enclosure_url"] == "https://www.theincomparable.com/podcast/batmanuniversity302.mp3"
    )
    assert data["enclosure_type"] == "audio/mp3" and data["enclosure_length"] == 26385472
    assert (data["episode_number"], data["season_number"]) == (19, 3)
    assert data["episode_type"] == "full" and data["kind"] == "episode"
    assert data["explicit"] is False
    assert [t["url"] for t in data["transcripts"]] == [
        "https://mp3s.nashownotes.com/NA-1385-Captions.srt",
        "https://mp3s.nashownotes.com/NA-1322-Captions.srt",
    ]
    assert {t["type"] for t in data["transcripts"]} == {"application/srt"}
    assert data["chapters"]["url"].startswith("https://studio.hypercatcher.com/chapters/")
    assert data["persons"][0]["name"] == "Dave Jones" and data["persons"][0]["role"] == "host"
    assert episode.url == "https://www.theincomparable.com/batmanuniversity/"

    limited = normalize(
        "episodes/byfeedid", {"id": "75075", "max": 1}, examples["episodes/byfeedid"]
    )
    assert limited.complete_shows == set()  # max reached: there may be more
    since = normalize(
        "episodes/byfeedid",
        {"id": "75075", "max": 10, "since": 1},
        examples["episodes/byfeedid"],
    )
    assert since.complete_shows == set()

    (recent,) = normalize("recent/episodes", {"max": 7}, examples["recent/episodes"]).episodes
    assert recent.show_external_id == "75075" and "duration_s" not in recent.data


def test_normaliser_tolerates_nulls_and_rejects_wrong_shapes(examples: dict[str, Any]) -> None:
    feed = {key: None for key in examples["podcasts/byfeedid"]["feed"]}
    feed.update(id=5, itunesId="", season=0, categories=None, explicit=None)
    (show,) = normalize("podcasts/byfeedid", {}, {"status": "true", "feed": feed}).shows
    assert show.data == {"podcastindex_id": 5}
    item = {"id": 9, "feedId": 5, "season": 0, "duration": None, "episodeType": None}
    (episode,) = normalize("recent/episodes", {}, {"status": "true", "items": [item]}).episodes
    assert episode.data == {"podcastindex_id": 9, "kind": "episode"}
    assert normalize("podcasts/byguid", {}, {"status": "true", "feed": []}).shows == []
    trailer = {"id": 1, "feedId": 5, "episodeType": "trailer"}
    assert normalize("recent/episodes", {}, {"items": [trailer]}).episodes[0].data["kind"] == (
        "trailer"
    )

    with pytest.raises(ApiResponseError):
        normalize("podcasts/trending", {}, {"status": "true", "feeds": {"not": "a list"}})
    with pytest.raises(ApiResponseError):
        normalize("episodes/byfeedid", {}, ["not", "an", "object"])
    with pytest.raises(ApiResponseError):
        normalize("podcasts/byfeedid", {}, {"status": "true", "feed": "text"})
    with pytest.raises(ApiError) as caught:
        normalize("search/byterm", {}, {"status": "false", "description": "Invalid parameters"})
    assert "Invalid parameters" in str(caught.value)
    with pytest.raises(ValueError):
        normalize("podcasts/unknown", {}, {})


def test_epoch_iso() -> None:
    assert epoch_iso(1546399813) == "2019-01-02T03:30:13+00:00"
    assert epoch_iso("1546399813") == "2019-01-02T03:30:13+00:00"
    assert epoch_iso(0) is None and epoch_iso(None) is None and epoch_iso("x") is None


# --- every endpoint over HTTP -----------------------------------------------------------


def test_every_endpoint_over_http(server: ApiServer, connector: PodcastIndexConnector) -> None:
    assert [s.external_id for s in connector.trending(max=5).shows] == [str(FEED_ID)]
    assert connector.trending(lang="de").shows == []
    assert [s.external_id for s in connector.trending(cat="Film").shows] == [str(FEED_ID)]
    assert [s.external_id for s in connector.search("batman university").shows] == [str(FEED_ID)]
    assert connector.search("no such show anywhere").shows == []
    lookups = [
        connector.show(feed_id=FEED_ID),
        connector.show(feed_url=FEED_URL),
        connector.show(itunes_id=ITUNES_ID),
        connector.show(guid=GUID),
    ]
    for result in lookups:
        assert [s.data["title"] for s in result.shows] == ["Batman University"]
    assert connector.show(feed_id=1).shows == []  # "feed": [] is no match, not an error
    with pytest.raises(ValueError):
        connector.show(feed_id=FEED_ID, guid=GUID)

    episodes = connector.episodes([FEED_ID])
    assert [e.external_id for e in episodes.episodes] == ["16795088"]
    assert episodes.episodes[0].data["description_html"].startswith("Batman University is back")
    assert episodes.complete_shows == {str(FEED_ID)}
    assert [e.external_id for e in connector.recent_episodes(max=3).episodes] == ["16795088"]

    (request,) = _pi_requests(server, "/episodes/byfeedid")
    assert request.query == {"id": "75075", "max": "1000", "fulltext": ""}
    assert server.count("podcastindex", 200) == len(server.requests)


def test_episodes_are_batched_by_200_sorted_ids(server: ApiServer, tmp_path: Path) -> None:
    ids = [FEED_ID, *range(450_000, 450_449), 12, FEED_ID, 450_003]  # 451 distinct, unsorted
    since = datetime(2019, 1, 1, tzinfo=UTC)
    with PodcastIndexConnector.from_settings(cache=True) as client:
        result = client.episodes(list(reversed(ids)), since=since)
        requests = _pi_requests(server, "/episodes/byfeedid")
        sent = [[int(i) for i in r.query["id"].split(",")] for r in requests]
        assert [len(chunk) for chunk in sent] == [200, 200, 51]
        assert [i for chunk in sent for i in chunk] == sorted(set(ids))
        assert {r.query["since"] for r in requests} == {str(int(since.timestamp()))}
        assert [e.external_id for e in result.episodes] == ["16795088"]
        assert result.complete_shows == set()  # a since query never holds the whole list

        # Same feeds, same newest time: the same URLs, so the cache only revalidates.
        server.clear_log()
        again = client.episodes(ids, since=since)
    assert [e.external_id for e in again.episodes] == ["16795088"]
    assert server.count("podcastindex", 304) == 3 and server.count("podcastindex", 200) == 0


def test_backend_refuses_more_than_200_ids(server: ApiServer) -> None:
    import httpx

    from podsight.sources.podcastindex.client import auth_headers

    headers = auth_headers(KEY, SECRET, time.time(), "test/1.0")
    ids = ",".join(str(i) for i in range(1, 202))
    response = httpx.get(
        server.url("podcastindex") + "/episodes/byfeedid", params={"id": ids}, headers=headers
    )
    assert response.status_code == 400
    assert response.json()["status"] == "false"


def test_429_with_retry_after_is_retried(
    server: ApiServer, connector: PodcastIndexConnector
) -> None:
    server.inject(
        "podcastindex",
        "/podcasts/trending",
        Fault(Reply(429, {"status": "false", "description": "slow down"}, {"Retry-After": "1"})),
    )
    started = time.monotonic()
    result = connector.trending()
    assert time.monotonic() - started >= 0.9  # waited as asked
    assert [s.external_id for s in result.shows] == [str(FEED_ID)]
    assert [r.status for r in _pi_requests(server, "/podcasts/trending")] == [429, 200]
    assert connector.api.stats.retries == 1


def test_malformed_json_is_a_response_error(
    server: ApiServer, connector: PodcastIndexConnector
) -> None:
    server.inject(
        "podcastindex",
        "/podcasts/byfeedid",
        Fault(Reply(200, b'{"status": "true", "feed": {', cacheable=False)),
    )
    with pytest.raises(ApiResponseError) as caught:
        connector.show(feed_id=FEED_ID)
    assert "not valid JSON" in str(caught.value)


def test_status_false_in_a_200_body_raises(
    server: ApiServer, connector: PodcastIndexConnector
) -> None:
    body = {"status": "false", "description": "Feed id not found in the index"}
    server.inject("podcastindex", "/podcasts/byfeedid", Fault(Reply(200, body, cacheable=False)))
    with pytest.raises(ApiError) as caught:
        connector.show(feed_id=FEED_ID)
    assert "Feed id not found in the index" in str(caught.value)


# --- the demo world --------------------------------------------------------------------


def test_demo_world_as_podcast_index(replay_apis: ReplayApis) -> None:
    from podsight.demo.apple_api import apple_demo_ids

    world = build_world(7, shows=10)
    backend = build_podcastindex_backend(world)
    again = build_podcastindex_backend(build_world(7, shows=10))
    assert json.dumps(list(backend.feeds.values())) == json.dumps(list(again.feeds.values()))
    assert backend.episodes == again.episodes
    ids = podcastindex_demo_ids(world)
    assert set(ids) == {show.slug for show in world.shows}
    assert {int(v) for v in ids.values()} == set(backend.feeds)

    apple = apple_demo_ids(world)
    total_missing = 0
    for show in world.shows:
        feed = backend.feeds[int(ids[show.slug])]
        assert feed["url"] == show.feed_url() and feed["podcastGuid"] == show.podcast_guid
        if feed["itunesId"] is not None:
            assert str(feed["itunesId"]) == apple[show.slug]
        items = [e for e in backend.episodes if e["feedId"] == feed["id"]]
        assert feed["episodeCount"] == len(items) <= len(show.episodes)
        total_missing += len(show.episodes) - len(items)
        by_enclosure = {e.enclosure_url: e for e in show.episodes}
        for item in items:
            episode = by_enclosure[item["enclosureUrl"]]
            assert item["guid"] == (episode.guid or episode.enclosure_url)
            assert item["datePublished"] == int(episode.published.timestamp())
    assert total_missing > 0  # the crawler has not caught up with everything
    with_itunes = sum(1 for f in backend.feeds.values() if f["itunesId"])
    assert 0 < with_itunes <= len(apple)

    PODCASTINDEX.serve(
        replay_apis, backend, PODCASTINDEX_API_KEY="demo", PODCASTINDEX_API_SECRET="demo"
    )
    with PodcastIndexConnector.from_settings(cache=False) as client:
        trending = client.trending(max=3)
        scores = [s.metrics["trend_score"] for s in trending.shows]
        assert scores == sorted(scores, reverse=True) and len(scores) <= 3
        show = world.shows[0]
        (record,) = client.show(feed_id=int(ids[show.slug])).shows
        assert record.data["title"] == show.title
        everything = client.episodes([int(ids[show.slug])])
        newest = max(e.data["published_at"] for e in everything.episodes)
        since = datetime.fromisoformat(newest)
        recent = client.episodes([int(ids[show.slug])], since=since)
        assert [e.data["published_at"] for e in recent.episodes] == [newest]
        assert len(client.episodes([int(ids[show.slug])], max=2).episodes) == 2


def test_demo_category_ids_are_the_index_s(test_data: Path) -> None:
    reference = json.loads(
        (test_data / "reference" / "podcastindex_categories.json").read_text(encoding="utf-8")
    )
    names = {c["name"]: c["id"] for c in reference["Categories"]}
    assert {name: names[name] for name in PI_CATEGORY_IDS} == PI_CATEGORY_IDS
