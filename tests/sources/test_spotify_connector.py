"""The Spotify connector on real recorded responses, over a real socket on 127.0.0.1.

Recorded Spotify Web API responses (spotify-web-api-java fixtures) and the first seed
project's Huberman Lab export are served by the replay backend through the local API
server; the connector reaches them with its normal HTTP stack (cache, auth, retries).
"""

from __future__ import annotations

import copy
import json
import logging
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from connector_cases import (
    SPOTIFY,
    SPOTIFY_CLIENT_ID,
    SPOTIFY_HUBERMAN,
    SPOTIFY_SECRET,
    load,
)

from httpserver import ReplayApis
from podsight.demo.apiserver import ApiRequest, ApiServer, Fault, Reply
from podsight.demo.spotify_api import SpotifyAccountsBackend, SpotifyBackend, base62_id
from podsight.sources.connector import SeenRecords
from podsight.sources.http import (
    ApiAuthError,
    ApiNotFound,
    ApiQuotaExceeded,
    ApiResponseError,
    ApiUnavailable,
    SourceNotConfigured,
)
from podsight.sources.spotify import SpotifyConnector, normalize
from podsight.sources.spotify.normalize import episode_kind, published_at
from podsight.sources.sync import ShowSpec

pytestmark = [pytest.mark.network, pytest.mark.usefixtures("api_home")]

CLIENT_ID, SECRET, HUBERMAN = SPOTIFY_CLIENT_ID, SPOTIFY_SECRET, SPOTIFY_HUBERMAN

# Every recorded sample, with the endpoint template and parameters it answers.
SAMPLE_ENDPOINTS: dict[str, tuple[str, dict[str, str]]] = {
    "episodes__GetEpisodeRequest.json": ("episodes/{id}", {"id": "4GI3dxEafwap1sFiTGPKd1"}),
    "episodes__GetSeveralEpisodesRequest.json": ("episodes", {}),
    "library__CheckUsersSavedEpisodesRequest.json": ("me/episodes/contains", {}),
    "library__CheckUsersSavedShowsRequest.json": ("me/shows/contains", {}),
    "library__GetUsersSavedEpisodesRequest.json": ("me/episodes", {}),
    "library__GetUsersSavedShowsRequest.json": ("me/shows", {}),
    "player__GetInformationAboutUsersCurrentPlaybackRequest_Episode.json": ("me/player", {}),
    "player__GetUsersCurrentlyPlayingTrackRequest_Episode.json": (
        "me/player/currently-playing",
        {},
    ),
    "playlists__GetPlaylistsItemsRequest_Episode.json": ("playlists/{id}/tracks", {}),
    "search__SearchItemRequest.json": ("search", {}),
    "search__simplified__SearchEpisodesRequest.json": ("search", {}),
    "search__simplified__SearchShowsRequest.json": ("search", {}),
    "shows__GetSeveralShowsRequest.json": ("shows", {}),
    "shows__GetShowRequest.json": ("shows/{id}", {"id": "7iZEp9f2Gg8JvKNqK3t905"}),
    "shows__GetShowsEpisodesRequest.json": (
        "shows/{id}/episodes",
        {"id": "38bS44xjbVVZ3No3ByF1dJ"},
    ),
}
# (shows, episodes) each sample holds, counted by hand from the files.
SAMPLE_COUNTS = {
    "episodes__GetEpisodeRequest.json": (1, 1),
    "episodes__GetSeveralEpisodesRequest.json": (1, 2),
    "library__CheckUsersSavedEpisodesRequest.json": (0, 0),
    "library__CheckUsersSavedShowsRequest.json": (0, 0),
    "library__GetUsersSavedEpisodesRequest.json": (1, 2),
    "library__GetUsersSavedShowsRequest.json": (3, 0),
    "player__GetInformationAboutUsersCurrentPlaybackRequest_Episode.json": (1, 1),
    "player__GetUsersCurrentlyPlayingTrackRequest_Episode.json": (1, 1),
    "playlists__GetPlaylistsItemsRequest_Episode.json": (1, 1),
    "search__SearchItemRequest.json": (0, 0),  # artists and tracks only
    "search__simplified__SearchEpisodesRequest.json": (0, 0),  # episodes without their show
    "search__simplified__SearchShowsRequest.json": (10, 0),
    "shows__GetSeveralShowsRequest.json": (2, 0),
    "shows__GetShowRequest.json": (1, 1),
    "shows__GetShowsEpisodesRequest.json": (0, 2),
}


# --- fixtures and helpers --------------------------------------------------------------


@pytest.fixture
def samples(test_data: Path) -> Path:
    return test_data / "api_samples" / "spotify" / "spotify-web-api-java"


def spotify_show(show_id: str) -> ShowSpec:
    return ShowSpec(name=show_id, spotify_id=show_id)


def holding(show_id: str, episode_ids: Iterable[str]) -> SeenRecords:
    """The catalog holds these episodes of the show."""
    return SeenRecords(episodes={show_id: episode_ids})


def show_backend(samples: Path) -> tuple[SpotifyBackend, dict[str, Any]]:
    show = load(samples, "shows__GetShowRequest.json")
    backend = SpotifyBackend(
        {show["id"]: show}, {show["id"]: show["episodes"]["items"]}, CLIENT_ID, SECRET
    )
    return backend, show


def long_show(samples: Path, count: int) -> tuple[SpotifyBackend, str, list[dict[str, Any]]]:
    """A real show with ``count`` episodes cloned from the recorded episode page."""
    show = load(samples, "shows__GetShowRequest.json")
    template = load(samples, "shows__GetShowsEpisodesRequest.json")["items"]
    episodes = []
    for i in range(count):
        episode = copy.deepcopy(template[i % len(template)])
        episode["id"] = base62_id(f"long-show-{i}")
        episode["name"] = f"{episode['name']} ({count - i})"
        episode["duration_ms"] += i * 1000
        episodes.append(episode)
    show["total_episodes"] = count
    backend = SpotifyBackend({show["id"]: show}, {show["id"]: episodes}, CLIENT_ID, SECRET)
    return backend, show["id"], episodes


def objects(node: Any, show_id: str | None = None) -> Iterator[tuple[dict[str, Any], str | None]]:
    """Test oracle: show and episode objects in a payload, with the show they belong to."""
    if isinstance(node, list):
        for item in node:
            yield from objects(item, show_id)
    elif isinstance(node, dict):
        if "id" not in node:  # e.g. a player "context" of type show: a link, not a show
            for value in node.values():
                yield from objects(value, show_id)
        elif node.get("type") == "show":
            yield node, node["id"]
            yield from objects(node.get("episodes"), node["id"])
        elif node.get("type") == "episode":
            show = node.get("show")
            yield from objects(show)
            yield node, show["id"] if show else show_id
        else:
            for value in node.values():
                yield from objects(value, show_id)


def largest(images: list[dict[str, Any]]) -> str | None:
    return max(images, key=lambda i: i["width"] * i["height"])["url"] if images else None


def offsets(server: ApiServer, path_suffix: str = "/episodes") -> list[int]:
    return [
        int(r.query.get("offset", 0))
        for r in server.requests
        if r.mount == "spotify" and r.path.endswith(path_suffix) and r.status in (200, 304)
    ]


# --- pure normalisation on real payloads ---------------------------------------------


def test_every_sample_has_an_endpoint(samples: Path) -> None:
    assert sorted(p.name for p in samples.glob("*.json")) == sorted(SAMPLE_ENDPOINTS)


@pytest.mark.parametrize("name", sorted(SAMPLE_ENDPOINTS))
def test_normalize_real_sample(samples: Path, name: str) -> None:
    endpoint, params = SAMPLE_ENDPOINTS[name]
    body = load(samples, name)
    result = normalize(endpoint, params, body)
    assert (len(result.shows), len(result.episodes)) == SAMPLE_COUNTS[name]
    shows = {s.external_id: s for s in result.shows}
    episodes = {e.external_id: e for e in result.episodes}
    context = params.get("id") if endpoint == "shows/{id}/episodes" else None
    for obj, owner in objects(body, context):
        if obj["type"] == "show":
            record = shows[obj["id"]]
            assert record.source == "spotify"
            assert record.data["title"] == obj["name"].strip()
            assert record.data["author"] == obj["publisher"].strip()
            assert record.data["explicit"] is obj["explicit"]
            assert record.data["image_url"] == largest(obj["images"])
            assert record.data["language"] == obj["languages"][0].lower()
            assert record.url == obj["external_urls"]["spotify"]
        elif owner is None:
            assert obj["id"] not in episodes  # no show to attach it to
        else:
            record = episodes[obj["id"]]
            assert record.show_external_id == owner
            assert record.data["title"] == obj["name"]
            assert record.data["duration_s"] == round(obj["duration_ms"] / 1000)
            assert record.data["published_at"] == f"{obj['release_date']}T00:00:00+00:00"
            assert record.data["link"] == obj["external_urls"]["spotify"]
            assert record.data["image_url"] == largest(obj["images"])
            assert record.data["explicit"] is obj["explicit"]
            # text from html_description keeps its line breaks; the words are Spotify's
            assert record.data["description_text"].split() == obj["description"].split()
            assert record.data["kind"] == "episode"


def test_normalize_show_with_embedded_page(samples: Path) -> None:
    body = load(samples, "shows__GetShowRequest.json")
    result = normalize("shows/{id}", {"id": body["id"], "market": "US"}, body)
    (show,) = result.shows
    assert show.external_id == "7iZEp9f2Gg8JvKNqK3t905"
    assert show.data["title"] == "Acht Milliarden – Der Auslands-Podcast"
    assert show.data["author"] == "DER SPIEGEL"
    assert show.data["language"] == "de"
    assert show.data["media_type"] == "audio"
    assert show.data["description_text"].startswith("Wie navigiert die Welt")
    # no total_episodes on this older response: the embedded page's total counts
    assert show.metrics == {"total_episodes": 1.0}
    (episode,) = result.episodes
    assert episode.external_id == "4fCuyVT71S1OIOLVnSQDaq"
    assert episode.show_external_id == show.external_id
    assert episode.data["duration_s"] == 1778  # 1 777 964 ms
    assert episode.data["published_precision"] == "day"
    # one page from offset 0 without a next page is the whole list
    assert result.complete_shows == {show.external_id}


def test_normalize_episode_page_uses_the_path_show_id(samples: Path) -> None:
    body = load(samples, "shows__GetShowsEpisodesRequest.json")
    result = normalize("shows/{id}/episodes", {"id": "38bS44xjbVVZ3No3ByF1dJ"}, body)
    assert [e.external_id for e in result.episodes] == [
        "0Q86acNRm6V9GYx55SXKwf",
        "1spUiev4ggXPq95a7KKHjW",
    ]
    assert {e.show_external_id for e in result.episodes} == {"38bS44xjbVVZ3No3ByF1dJ"}
    # the second item has only the deprecated "language", no "languages"
    assert "languages" not in body["items"][1]
    assert result.episodes[1].data["language"] == "sv"
    assert result.complete_shows == set()  # offset 1 with a next page: a slice


def test_normalize_tolerates_missing_and_null_fields(samples: Path) -> None:
    body = load(samples, "shows__GetShowRequest.json")
    for key in ("description", "images", "languages", "publisher", "explicit", "external_urls"):
        body[key] = None
    del body["media_type"]
    episode = body["episodes"]["items"][0]
    for key in ("description", "images", "release_date", "duration_ms", "external_urls", "name"):
        episode[key] = None
    del episode["language"], episode["languages"], episode["release_date_precision"]
    body["episodes"]["items"].append(None)  # unavailable episodes come back as null
    body["episodes"]["items"].append({"type": "episode"})  # and without an id
    result = normalize("shows/{id}", {"id": body["id"]}, body)
    (show,) = result.shows
    assert show.data == {"title": body["name"], "total_episodes": 1, "externally_hosted": False}
    assert show.url == ""
    (record,) = result.episodes
    assert record.external_id == "4fCuyVT71S1OIOLVnSQDaq"
    assert record.data == {"kind": "episode", "explicit": False, "externally_hosted": False}


def test_normalize_prefers_html_description(seed_dir: Path) -> None:
    row = load(seed_dir, "spotify_episode.json")[0]
    obj = {
        "type": "episode",
        "id": row["id"],
        "name": row["name"],
        "description": row["description"],
        "html_description": row["html_description"] + "<script>alert(1)</script>",
    }
    record = normalize("shows/{id}/episodes", {"id": HUBERMAN}, {"items": [obj]}).episodes[0]
    assert record.data["description_html"].startswith("<p>This is episode 2 of a 4-part")
    assert "<script" not in record.data["description_html"]
    assert record.data["description_text"].startswith("This is episode 2 of a 4-part")


@pytest.mark.parametrize(
    ("endpoint", "body"),
    [
        ("shows/{id}", []),
        ("shows/{id}", "<html>maintenance</html>"),
        ("shows/{id}", {"error": {"status": 500}}),
        ("shows/{id}/episodes", {"items": "none"}),
        ("shows/{id}/episodes", None),
        ("search", {"shows": ["not", "a", "page"]}),
        ("episodes/{id}", [1, 2]),
    ],
)
def test_normalize_rejects_bodies_of_the_wrong_kind(endpoint: str, body: Any) -> None:
    with pytest.raises(ApiResponseError, match=r"spotify .*expected"):
        normalize(endpoint, {"id": HUBERMAN}, body)


@pytest.mark.parametrize(
    ("date", "precision", "expected"),
    [
        ("2023-09-13", "day", "2023-09-13T00:00:00+00:00"),
        ("2019-03", "month", "2019-03-01T00:00:00+00:00"),
        ("2019", "year", "2019-01-01T00:00:00+00:00"),
        ("2019-03", None, "2019-03-01T00:00:00+00:00"),
        ("1970-01-01", "day", "1970-01-01T00:00:00+00:00"),
        ("0000", "year", None),
        ("", "day", None),
        (None, "day", None),
        ("2019-13-40", "day", None),
    ],
)
def test_release_date_precision(date: str | None, precision: str | None, expected: str) -> None:
    assert published_at(date, precision) == expected


@pytest.mark.parametrize(
    ("title", "kind"),
    [
        ("Trailer", "trailer"),
        ("Introducing Huberman Lab (Trailer)", "trailer"),
        ("Season 2 Trailer", "trailer"),
        ("Tráiler", "trailer"),
        ("Bande-annonce", "trailer"),
        ("Why movie trailers work on our brains", "episode"),
        ("Dr. Paul Conti: How to Improve Your Mental Health", "episode"),
        ("", "episode"),
    ],
)
def test_episode_kind(title: str, kind: str) -> None:
    assert episode_kind(title) == kind


# --- through the socket --------------------------------------------------------------


def test_real_show_through_the_connector_replays_the_same(
    replay_apis: ReplayApis, samples: Path
) -> None:
    backend, show = show_backend(samples)
    server = SPOTIFY.serve(replay_apis, backend)
    connector = SpotifyConnector.from_settings(cache=False)
    try:
        result = connector.fetch_show(spotify_show(show["id"]))
    finally:
        connector.close()
    (request,) = [r for r in server.requests if r.mount == "spotify"]
    assert request.query == {"market": "US"}
    assert request.headers["authorization"] == f"Bearer {backend.accounts.issued[0]}"
    assert [s.external_id for s in result.shows] == [show["id"]]
    assert [e.data["title"] for e in result.episodes] == [
        "Coronakrise in China: Wie Peking die USA vorführt"
    ]
    assert result.complete_shows == {show["id"]}
    # replaying the stored payloads gives the same records
    (payload,) = connector.api.payloads
    assert payload.endpoint == "shows/{id}"
    replayed = normalize(payload.endpoint, payload.params, json.loads(payload.body))
    assert replayed == result


def test_huberman_seed_through_the_connector(replay_apis: ReplayApis, seed_dir: Path) -> None:
    exported_show = load(seed_dir, "spotify_show.json")[0]
    exported = {row["id"]: row for row in load(seed_dir, "spotify_episode.json")}
    backend = SpotifyBackend.from_seed(seed_dir, client_id=CLIENT_ID, client_secret=SECRET)
    SPOTIFY.serve(replay_apis, backend)
    with SpotifyConnector.from_settings(cache=False) as connector:
        result = connector.fetch_show(spotify_show(HUBERMAN))
        served = json.loads(connector.api.payloads[0].body)
    (show,) = result.shows
    assert show.external_id == exported_show["id"] == HUBERMAN
    assert show.data["title"] == "Huberman Lab"
    assert show.data["author"] == exported_show["publisher"] == "Scicomm Media"
    assert show.data["description_html"] == exported_show["html_description"]
    assert show.metrics == {"total_episodes": 164.0}  # as exported; 20 episodes were kept
    assert show.url == f"https://open.spotify.com/show/{HUBERMAN}"
    assert len(result.episodes) == 20
    assert result.complete_shows == {HUBERMAN}
    # the show row lists its newest 50 episode ids; the export kept 20 of them
    order = [i for i in exported_show["episode_ids"].split(",") if i in exported]
    assert [e.external_id for e in result.episodes] == order
    for record in result.episodes:
        row = exported[record.external_id]
        assert record.show_external_id == row["show_id"]
        assert record.data["title"] == row["name"]
        assert record.data["duration_s"] == round(row["duration_ms"] / 1000)
        assert record.data["published_at"] == row["release_date"] + "T00:00:00+00:00"
        assert record.data["language"] == row["languages"]
    # the served API objects carry the exported values exactly
    for item in served["episodes"]["items"]:
        row = exported[item["id"]]
        assert item["name"] == row["name"]
        assert item["duration_ms"] == row["duration_ms"]
        assert item["release_date"] == row["release_date"]
        assert item["explicit"] is bool(row["explicit"])
        assert item["languages"] == [row["languages"]]
    first = result.episodes[0]
    assert first.data["title"] == "GUEST SERIES | Dr. Paul Conti: How to Improve Your Mental Health"
    assert first.data["duration_s"] == 11718  # 11 718 060 ms


def test_pagination_follows_next_past_fifty(replay_apis: ReplayApis, samples: Path) -> None:
    backend, show_id, episodes = long_show(samples, 120)
    server = SPOTIFY.serve(replay_apis, backend)
    with SpotifyConnector.from_settings(cache=False) as connector:
        result = connector.fetch_show(spotify_show(show_id))
        pages = [json.loads(p.body) for p in connector.api.payloads[1:]]
    assert [e.external_id for e in result.episodes] == [e["id"] for e in episodes]
    # page 1 is embedded in the show; then offsets 50 and 100 from each page's "next"
    assert offsets(server) == [50, 100]
    assert [r.query["limit"] for r in server.requests if r.path.endswith("/episodes")] == [
        "50",
        "50",
    ]
    assert result.complete_shows == {show_id}
    assert result.shows[0].metrics == {"total_episodes": 120.0}
    # the backend's paging URLs point back at this server
    assert pages[0]["next"] == (
        f"{server.url('spotify')}/shows/{show_id}/episodes?market=US&offset=100&limit=50"
    )
    assert pages[1]["next"] is None
    assert pages[1]["previous"].endswith("offset=50&limit=50")


def test_incremental_fetch_stops_after_a_known_page(replay_apis: ReplayApis, samples: Path) -> None:
    backend, show_id, episodes = long_show(samples, 130)
    known = {e["id"] for e in episodes[3:]}  # three episodes published since the last sync
    server = SPOTIFY.serve(replay_apis, backend)
    with SpotifyConnector.from_settings(cache=False) as connector:
        result = connector.fetch_show(spotify_show(show_id), holding(show_id, known))
        assert offsets(server) == [50]  # page 2 was all known: page 3 is not read
        assert len(result.episodes) == 100
        assert result.complete_shows == set()

        everything = connector.fetch_show(spotify_show(show_id), holding(show_id, known))
        all_known = connector.fetch_show(
            spotify_show(show_id), holding(show_id, {e["id"] for e in episodes})
        )
    assert offsets(server) == [50, 50]  # the embedded first page was enough to stop
    assert len(everything.episodes) == 100
    assert len(all_known.episodes) == 50
    assert all_known.complete_shows == set()


def test_second_run_revalidates_every_request(replay_apis: ReplayApis, samples: Path) -> None:
    backend, show_id, _ = long_show(samples, 75)
    server = SPOTIFY.serve(replay_apis, backend)
    first_run = SpotifyConnector.from_settings()
    second_run = SpotifyConnector.from_settings()
    try:
        first = first_run.fetch_show(spotify_show(show_id))
        assert len(server.full_responses("spotify")) == 2
        second = second_run.fetch_show(spotify_show(show_id))
        stats = second_run.api.stats
    finally:
        # both share the process-wide cache store, which ApiClient.close() closes
        first_run.close()
        second_run.close()
    assert len(server.full_responses("spotify")) == 2  # same URLs: answered by 304s
    assert server.count("spotify", 304) == 2
    assert stats.revalidated == 2
    assert second == first


def test_token_is_fetched_once_and_reused(replay_apis: ReplayApis, samples: Path) -> None:
    backend, show_id, _ = long_show(samples, 60)
    server = SPOTIFY.serve(replay_apis, backend)
    with SpotifyConnector.from_settings(cache=False) as connector:
        connector.fetch_show(spotify_show(show_id))
        connector.fetch_show(spotify_show(show_id))
    token_requests = [r for r in server.requests if r.mount == "spotify-accounts"]
    assert len(token_requests) == 1
    assert token_requests[0].method == "POST"
    assert token_requests[0].headers["authorization"].startswith("Basic ")
    assert backend.accounts.tokens_issued == 1


def test_expired_token_is_refreshed_and_the_request_resent(
    replay_apis: ReplayApis, samples: Path
) -> None:
    backend, show = show_backend(samples)
    server = SPOTIFY.serve(replay_apis, backend)
    with SpotifyConnector.from_settings() as connector:
        connector.fetch_show(spotify_show(show["id"]))
        backend.accounts.expire_tokens()
        result = connector.fetch_show(spotify_show(show["id"]))
    assert server.count("spotify", 401) == 1
    assert server.count("spotify-accounts", 200) == 2
    assert backend.accounts.tokens_issued == 2
    assert [s.external_id for s in result.shows] == [show["id"]]


def test_token_refused_again_after_refresh_is_an_auth_error(
    replay_apis: ReplayApis, samples: Path
) -> None:
    backend, show = show_backend(samples)
    refused = Reply.error(401, "Invalid access token")
    server = SPOTIFY.serve(replay_apis, backend)
    server.inject("spotify", "/shows/", Fault(reply=refused), Fault(reply=refused))
    with SpotifyConnector.from_settings(cache=False) as connector:
        with pytest.raises(ApiAuthError, match="SPOTIFY_CLIENT_ID / SPOTIFY_CLIENT_SECRET"):
            connector.fetch_show(spotify_show(show["id"]))
    assert backend.accounts.tokens_issued == 2  # one refresh, not a loop


def test_wrong_client_secret_is_a_clear_auth_error(
    replay_apis: ReplayApis, samples: Path, caplog: pytest.LogCaptureFixture
) -> None:
    wrong = "Wrong-Secret-Do-Not-Log-9"
    backend, show = show_backend(samples)
    caplog.set_level(logging.DEBUG)
    server = SPOTIFY.serve(replay_apis, backend, SPOTIFY_CLIENT_SECRET=wrong)
    with SpotifyConnector.from_settings(cache=False) as connector:
        with pytest.raises(ApiAuthError) as caught:
            connector.fetch_show(spotify_show(show["id"]))
    assert server.count("spotify") == 0  # nothing is sent without a token
    message = str(caught.value)
    assert "check SPOTIFY_CLIENT_ID / SPOTIFY_CLIENT_SECRET" in message
    assert "Invalid client secret" in message
    assert wrong not in message
    assert wrong not in caplog.text
    assert wrong not in repr(connector.auth)
    assert backend.accounts.tokens_issued == 0


def test_token_and_secret_stay_out_of_logs(
    replay_apis: ReplayApis, samples: Path, caplog: pytest.LogCaptureFixture
) -> None:
    backend, show = show_backend(samples)
    caplog.set_level(logging.DEBUG)
    SPOTIFY.serve(replay_apis, backend)
    with SpotifyConnector.from_settings(cache=False) as connector:
        connector.fetch_show(spotify_show(show["id"]))
    (token,) = backend.accounts.issued
    assert "endpoint=api/token status=200" in caplog.text
    assert "endpoint=shows/{id} status=200" in caplog.text
    assert token not in caplog.text
    assert SECRET not in caplog.text


def test_rate_limit_is_retried_after_retry_after(replay_apis: ReplayApis, samples: Path) -> None:
    backend, show = show_backend(samples)
    limited = Reply(429, {"error": {"status": 429, "message": "API rate limit exceeded"}})
    limited.headers["Retry-After"] = "1"
    server = SPOTIFY.serve(replay_apis, backend)
    server.inject("spotify", "/shows/", Fault(reply=limited))
    with SpotifyConnector.from_settings(cache=False) as connector:
        started = time.monotonic()
        result = connector.fetch_show(spotify_show(show["id"]))
        waited = time.monotonic() - started
        assert connector.api.stats.retries == 1
    assert server.count("spotify", 429) == 1
    assert server.count("spotify", 200) == 1
    assert waited >= 1.0
    assert [s.external_id for s in result.shows] == [show["id"]]


def test_quota_exceeded_stops_at_once(replay_apis: ReplayApis, samples: Path) -> None:
    backend, show = show_backend(samples)
    quota = Reply(429, {"error": {"status": 429, "message": "QUOTA_EXCEEDED"}})
    quota.headers["Retry-After"] = "1"
    server = SPOTIFY.serve(replay_apis, backend)
    server.inject("spotify", "/shows/", Fault(reply=quota))
    with SpotifyConnector.from_settings(cache=False) as connector:
        with pytest.raises(ApiQuotaExceeded) as caught:
            connector.fetch_show(spotify_show(show["id"]))
    assert server.count("spotify", 429) == 1  # not retried
    assert "quota" in str(caught.value)
    assert "stop syncing Spotify" in str(caught.value)
    assert caught.value.status == 429
    assert caught.value.endpoint == "shows/{id}"


def test_malformed_json_is_a_response_error(replay_apis: ReplayApis, samples: Path) -> None:
    backend, show = show_backend(samples)
    truncated = Reply(200, b'{"id": "7iZEp9f2Gg8JvKNqK3t905", "name": "Acht Mil')
    server = SPOTIFY.serve(replay_apis, backend)
    server.inject("spotify", "/shows/", Fault(reply=truncated))
    with SpotifyConnector.from_settings(cache=False) as connector:
        with pytest.raises(ApiResponseError, match="not valid JSON"):
            connector.fetch_show(spotify_show(show["id"]))


def test_connection_reset_is_retried(replay_apis: ReplayApis, samples: Path) -> None:
    backend, show = show_backend(samples)
    server = SPOTIFY.serve(replay_apis, backend)
    server.inject("spotify", "/shows/", Fault(reset=True))
    with SpotifyConnector.from_settings(cache=False) as connector:
        result = connector.fetch_show(spotify_show(show["id"]))
        assert connector.api.stats.retries == 1
    assert [r.status for r in server.requests if r.mount == "spotify"] == [0, 200]
    assert [s.external_id for s in result.shows] == [show["id"]]


def test_timeout_is_unavailable_after_retries(
    replay_apis: ReplayApis, monkeypatch: pytest.MonkeyPatch, samples: Path
) -> None:
    backend, show = show_backend(samples)
    monkeypatch.setenv("PODSIGHT_API_MAX_ATTEMPTS", "2")
    monkeypatch.setenv("PODSIGHT_API_READ_TIMEOUT", "0.3")
    server = SPOTIFY.serve(replay_apis, backend)
    server.inject("spotify", "/shows/", Fault(delay_s=1.0), Fault(delay_s=1.0))
    with SpotifyConnector.from_settings(cache=False) as connector:
        started = time.monotonic()
        with pytest.raises(ApiUnavailable, match="timed out"):
            connector.fetch_show(spotify_show(show["id"]))
        elapsed = time.monotonic() - started
        assert connector.api.stats.calls == 2
    assert elapsed < 3.0


def test_unknown_show_is_not_found(replay_apis: ReplayApis, samples: Path) -> None:
    backend, _ = show_backend(samples)
    server = SPOTIFY.serve(replay_apis, backend)
    with SpotifyConnector.from_settings(cache=False) as connector:
        with pytest.raises(ApiNotFound, match="Resource not found"):
            connector.fetch_show(spotify_show("0000000000000000000000"))
    assert server.count("spotify", 404) == 1


@pytest.mark.parametrize(
    ("variables", "missing"),
    [
        ({}, "SPOTIFY_CLIENT_ID and SPOTIFY_CLIENT_SECRET"),
        ({"SPOTIFY_CLIENT_ID": CLIENT_ID}, "set SPOTIFY_CLIENT_SECRET "),
        ({"SPOTIFY_CLIENT_SECRET": SECRET}, "set SPOTIFY_CLIENT_ID "),
        ({"SPOTIFY_CLIENT_ID": " ", "SPOTIFY_CLIENT_SECRET": SECRET}, "set SPOTIFY_CLIENT_ID "),
    ],
)
def test_missing_credentials_mean_not_configured(
    monkeypatch: pytest.MonkeyPatch, variables: dict[str, str], missing: str
) -> None:
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(SourceNotConfigured) as caught:
        SpotifyConnector.from_settings()
    assert missing in str(caught.value)
    assert SECRET not in str(caught.value)
    assert caught.value.source == "spotify"


def test_search_asks_for_ten_at_most(replay_apis: ReplayApis, samples: Path) -> None:
    found = load(samples, "search__simplified__SearchShowsRequest.json")["shows"]["items"]
    more = [{**s, "id": base62_id(s["id"]), "name": s["name"] + " II"} for s in found]
    backend = SpotifyBackend({s["id"]: s for s in found + more}, {}, CLIENT_ID, SECRET)
    server = SPOTIFY.serve(replay_apis, backend)
    with SpotifyConnector.from_settings(cache=False) as connector:
        result = connector.search("Mus", limit=50)
        narrow = connector.search("museum confidential")
    first, second = [r.query for r in server.requests if r.mount == "spotify"]
    assert first == {"q": "Mus", "type": "show", "market": "US", "limit": "10"}
    assert second["limit"] == "10"
    # all 20 shows match "Mus": the first ten come back
    assert [s.data["title"] for s in result.shows] == [s["name"].strip() for s in found]
    assert [s.data["title"] for s in narrow.shows] == [
        "Museum Confidential",
        "Museum Confidential II",
    ]
    assert narrow.shows[0].data["author"] == "Philbrook Museum of Art"
    assert narrow.shows[0].external_id == "2LPg85v8YI3fGnbM1AMznj"


# --- the replay backend itself --------------------------------------------------------


def request(path: str, query: dict[str, str] | None = None, token: str = "") -> ApiRequest:
    headers = {"host": "127.0.0.1:9"}
    if token:
        headers["authorization"] = f"Bearer {token}"
    return ApiRequest("GET", path, query or {}, headers)


def issue(accounts: SpotifyAccountsBackend) -> str:
    basic = httpx.BasicAuth(accounts.client_id, accounts.client_secret)
    flow = basic.auth_flow(httpx.Request("POST", "http://x/"))
    header = next(flow).headers["authorization"]
    reply = accounts.handle(
        ApiRequest(
            "POST", "/api/token", {}, {"authorization": header}, b"grant_type=client_credentials"
        )
    )
    assert reply.status == 200
    assert reply.body["token_type"] == "Bearer"
    return reply.body["access_token"]


def test_backend_refuses_tokens_it_did_not_issue(samples: Path) -> None:
    backend, show = show_backend(samples)
    assert backend.handle(request(f"/shows/{show['id']}")).status == 401
    reply = backend.handle(request(f"/shows/{show['id']}", token="forged"))
    assert (reply.status, reply.body["error"]["message"]) == (401, "Invalid access token")
    token = issue(backend.accounts)
    assert backend.handle(request(f"/shows/{show['id']}", token=token)).status == 200
    backend.accounts.expire_tokens()
    reply = backend.handle(request(f"/shows/{show['id']}", token=token))
    assert (reply.status, reply.body["error"]["message"]) == (401, "The access token expired")


def test_backend_rejects_bad_parameters_like_spotify(samples: Path) -> None:
    backend, show = show_backend(samples)
    token = issue(backend.accounts)
    assert (
        backend.handle(request("/search", {"q": "x", "type": "show", "limit": "50"}, token)).status
        == 200
    )
    too_many = backend.handle(request("/search", {"q": "x", "type": "show", "limit": "51"}, token))
    assert too_many.status == 400
    assert too_many.body == {"error": {"status": 400, "message": "Invalid limit"}}
    assert backend.handle(request("/search", {"type": "show"}, token)).status == 400
    unknown = backend.handle(request("/shows/0000000000000000000000", {}, token))
    assert unknown.body == {"error": {"status": 404, "message": "Resource not found"}}
    assert backend.handle(request("/shows/not-an-id", {}, token)).status == 400
    assert backend.handle(request(f"/shows/{show['id']}", {"market": "usa"}, token)).status == 400
    page = backend.handle(request(f"/shows/{show['id']}/episodes", {"limit": "51"}, token))
    assert page.status == 400


def test_accounts_backend_checks_the_client(samples: Path) -> None:
    accounts = SpotifyAccountsBackend(CLIENT_ID, SECRET)
    for header in ("", "Basic !!!", "Basic " + "d3Jvbmc6d3Jvbmc="):  # wrong:wrong
        reply = accounts.handle(
            ApiRequest(
                "POST",
                "/api/token",
                {},
                {"authorization": header} if header else {},
                b"grant_type=client_credentials",
            )
        )
        assert reply.status == 400
        assert reply.body["error"] == "invalid_client"
    assert accounts.tokens_issued == 0
    issue(accounts)
    assert accounts.tokens_issued == 1
