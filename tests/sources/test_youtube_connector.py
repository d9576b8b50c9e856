"""YouTube Data API v3 connector: normaliser on real responses, sync over a real socket, quota.

Network tests talk to :class:`ApiServer` on 127.0.0.1 serving the first seed's real
Huberman Lab export (or channels built from real recorded responses); nothing else
is reached. Each test has its own ``PODSIGHT_HOME`` (HTTP cache and quota file).
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import logging
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import time_machine
from connector_cases import YOUTUBE, YOUTUBE_HUBERMAN, YOUTUBE_KEY, load

from httpserver import ReplayApis
from podsight.demo.apiserver import ApiServer, Fault, Reply
from podsight.demo.youtube_api import YouTubeBackend, google_error, page_token
from podsight.sources import http
from podsight.sources.http import (
    ApiAuthError,
    ApiNotFound,
    ApiQuotaExceeded,
    ApiRateLimited,
    ApiResponseError,
    ApiUnavailable,
    SourceNotConfigured,
)
from podsight.sources.youtube.client import (
    YouTubeConnector,
    balanced_batches,
    youtube_error_hook,
)
from podsight.sources.youtube.normalize import normalize, playlist_video_ids
from podsight.sources.youtube.quota import QuotaLedger, cost_of

KEY, HUBERMAN = YOUTUBE_KEY, YOUTUBE_HUBERMAN
SYNTHETIC = "UCsynthetic000000000000w"
LIST_ENDPOINTS = {
    "youtube#channelListResponse": "channels",
    "youtube#videoListResponse": "videos",
    "youtube#searchListResponse": "search",
    "youtube#playlistItemListResponse": "playlistItems",
}
KINDS = {"episode", "trailer", "clip", "short", "live"}


# -- fixtures --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def samples(test_data: Path) -> Path:
    return test_data / "api_samples" / "youtube" / "python-youtube"


@pytest.fixture(scope="module")
def export(seed_dir: Path) -> list[dict[str, Any]]:
    return json.loads((seed_dir / "videos.json").read_text(encoding="utf-8"))


# Noon in Pacific time: the quota ledger counts per Pacific day, so tests that add up a
# day's units run far from its ends. Crossing a midnight has tests of its own.
MIDDAY = datetime(2025, 3, 1, 20, 0, tzinfo=UTC)


@pytest.fixture
def serve(replay_apis: ReplayApis) -> Iterator[Callable[..., ApiServer]]:
    """Start a replay server for a backend, the connector pointed at it with the test key;
    the clock runs from MIDDAY."""

    def start(backend: YouTubeBackend, cache_mode: str = "etag") -> ApiServer:
        return YOUTUBE.serve(replay_apis, backend, cache_mode=cache_mode)

    with time_machine.travel(MIDDAY, tick=True):
        yield start


def connect() -> YouTubeConnector:
    """A connector as a new ``podsight sync`` process makes it.

    ``ApiClient.close()`` closes the process-wide cache store it shares with every
    other client, so each run here starts from a fresh store handle (same SQLite file).
    """
    http.reset()
    return YouTubeConnector.from_settings(sleep=lambda _s: None)


def requests_of(server: ApiServer) -> list[tuple[str, int]]:
    return [(r.path, r.status) for r in server.requests]


def _video_id(n: int) -> str:
    return base64.urlsafe_b64encode(hashlib.sha1(str(n).encode()).digest()[:8]).decode()[:11]


def synthetic_backend(samples: Path, count: int) -> YouTubeBackend:
    """A channel with ``count`` uploads, shaped after real recorded channel/video resources."""
    channel = copy.deepcopy(load(samples, "channels__info_multiple.json")["items"][1])
    channel["id"] = SYNTHETIC
    channel["snippet"]["customUrl"] = "@syntheticpod"
    channel["contentDetails"]["relatedPlaylists"]["uploads"] = "UU" + SYNTHETIC[2:]
    template = load(samples, "videos__videos_info_single.json")["items"][0]
    start = datetime(2024, 1, 1, 12, tzinfo=UTC)
    videos = []
    for n in range(count):
        video = copy.deepcopy(template)
        video["id"] = _video_id(n)
        video["snippet"]["channelId"] = SYNTHETIC
        video["snippet"]["title"] = f"Episode {n}: {template['snippet']['title']}"
        video["snippet"]["publishedAt"] = (start + timedelta(days=n)).strftime("%Y-%m-%dT%H:%M:%SZ")
        video["contentDetails"] = {"duration": f"PT{40 + n % 30}M{n % 60}S"}
        video["statistics"] = {
            "viewCount": str(1000 + n),
            "likeCount": str(n),
            "favoriteCount": "0",
        }
        videos.append(video)
    return YouTubeBackend([channel], videos, api_key=KEY)


# -- normaliser on every real recorded list response --------------------------------------


def test_every_real_list_response_normalises(samples: Path) -> None:
    seen: dict[str, int] = {}
    for path in sorted(samples.glob("*.json")):
        body = json.loads(path.read_text(encoding="utf-8"))
        endpoint = LIST_ENDPOINTS.get(body.get("kind", "")) if isinstance(body, dict) else None
        if endpoint is None:
            continue
        seen[endpoint] = seen.get(endpoint, 0) + 1
        items = body.get("items") or []
        result = normalize(endpoint, {}, body)
        if endpoint == "channels":
            assert [s.external_id for s in result.shows] == [i["id"] for i in items], path.name
            for show, item in zip(result.shows, items, strict=True):
                assert show.url == f"https://www.youtube.com/channel/{item['id']}"
                assert show.data["title"] == item["snippet"]["title"]
                stats = item.get("statistics") or {}
                expected = {"views": stats.get("viewCount"), "videos": stats.get("videoCount")}
                if not stats.get("hiddenSubscriberCount"):
                    expected["subscribers"] = stats.get("subscriberCount")
                assert show.metrics == {k: int(v) for k, v in expected.items() if v is not None}
                assert all(type(v) is int for v in show.metrics.values())
        elif endpoint == "videos":
            assert [e.external_id for e in result.episodes] == [i["id"] for i in items]
            for episode, item in zip(result.episodes, items, strict=True):
                published = datetime.fromisoformat(episode.data["published_at"])
                raw = datetime.fromisoformat(item["snippet"]["publishedAt"].replace("Z", "+00:00"))
                assert published.tzinfo is not None and published == raw
                assert episode.show_external_id == item["snippet"]["channelId"]
                assert episode.data["link"] == f"https://www.youtube.com/watch?v={item['id']}"
                assert episode.data["kind"] in KINDS
                # These recordings have no contentDetails/statistics: nothing is invented.
                assert "duration_s" not in episode.data and episode.metrics == {}
        elif endpoint == "search":
            kinds = [i["id"]["kind"] for i in items]
            assert len(result.shows) == kinds.count("youtube#channel")
            assert len(result.episodes) == kinds.count("youtube#video")
            for record in [*result.shows, *result.episodes]:
                assert "&amp;" not in record.data["title"] and "&#39;" not in record.data["title"]
        else:
            assert result.shows == [] and result.episodes == []
            assert playlist_video_ids(body) == [
                i["snippet"]["resourceId"]["videoId"] for i in items
            ]
    assert seen == {"channels": 4, "videos": 6, "search": 9, "playlistItems": 5}


def test_real_channel_fields(samples: Path) -> None:
    show = normalize("channels", {}, load(samples, "channel_info_single.json")).shows[0]
    assert show.external_id == "UC_x5XG1OV2P6uZZ5FSM9Ttw"
    assert show.metrics == {"subscribers": 1927873, "views": 160361638, "videos": 5026}
    assert show.data["handle"] == "@googledevelopers"
    assert show.data["country"] == "US"
    assert show.data["image_url"].endswith("=s800-c-k-c0xffffffff-no-rj-mo")  # best thumbnail
    assert show.data["description_text"].startswith("The Google Developers channel")
    multiple = normalize("channels", {}, load(samples, "channels__info_multiple.json")).shows
    assert [s.data["uploads_playlist_id"] for s in multiple] == [
        "UUK8sQmJBp8GCxrOtXWBpyEA",
        "UU_x5XG1OV2P6uZZ5FSM9Ttw",
    ]
    body = load(samples, "channel_info_single.json")
    body["items"][0]["statistics"]["hiddenSubscriberCount"] = True
    assert "subscribers" not in normalize("channels", {}, body).shows[0].metrics


def test_real_video_fields_and_kinds(samples: Path) -> None:
    single = normalize("videos", {}, load(samples, "videos__videos_info_single.json")).episodes[0]
    assert single.data["title"] == "What are Actions on Google (Assistant on Air)"
    assert single.data["published_at"] == "2019-03-21T20:37:49+00:00"
    assert single.data["language"] == "en"
    assert single.data["category_id"] == "28"
    assert "Actions on Google" in single.data["tags"]
    assert single.data["image_url"] == "https://i.ytimg.com/vi/D-lhorsDlUQ/maxresdefault.jpg"
    assert "<p>" in single.data["description_html"] and "→" in single.data["description_text"]
    chart = normalize("videos", {}, load(samples, "videos__videos_chart_paged_1.json")).episodes
    kinds = {e.data["title"]: e.data["kind"] for e in chart}
    assert kinds["TRAPPED WITH THE PRINCE FAMILY REALITY SHOW TRAILER"] == "trailer"
    assert kinds["$50,000 Game Of Extreme Hide And Seek - Challenge"] == "episode"
    prince = next(e for e in chart if e.external_id == "Ukd8dJNBvOA")
    assert prince.data["language"] == "en-us"  # defaultAudioLanguage "en-US"
    live = normalize("search", {}, load(samples, "search__search_by_event.json")).episodes
    assert live and {e.data["kind"] for e in live} == {"live"}
    keywords = normalize("search", {}, load(samples, "search__search_by_keywords_p1.json"))
    assert "World's best surfing 2017" in {e.data["title"] for e in keywords.episodes}


@pytest.mark.parametrize(
    ("duration", "seconds", "kind"),
    [
        ("PT1H2M3S", 3723, "episode"),
        ("PT15M33S", 933, "episode"),
        ("P1DT2H", 93600, "episode"),
        ("PT1M", 60, "short"),
        ("PT59S", 59, "short"),
        ("P0D", None, "episode"),
        ("PT", None, "episode"),
        ("1:02:03", None, "episode"),
        (None, None, "episode"),
    ],
)
def test_iso_durations_on_a_real_video(
    samples: Path, duration: str | None, seconds: int | None, kind: str
) -> None:
    body = load(samples, "videos__videos_info_single.json")
    body["items"][0]["contentDetails"] = {"duration": duration}
    episode = normalize("videos", {}, body).episodes[0]
    assert episode.data.get("duration_s") == seconds
    assert episode.data["kind"] == kind


def test_counts_are_numbers_and_hidden_counts_are_left_out(samples: Path) -> None:
    body = load(samples, "videos__videos_info_single.json")
    body["items"][0]["statistics"] = {"viewCount": "1234", "likeCount": "56", "favoriteCount": "0"}
    assert normalize("videos", {}, body).episodes[0].metrics == {"views": 1234, "likes": 56}
    body["items"][0]["statistics"] = {"viewCount": "n/a", "likeCount": None, "commentCount": "7"}
    assert normalize("videos", {}, body).episodes[0].metrics == {"comments": 7}


def test_live_and_upcoming_streams(samples: Path) -> None:
    body = load(samples, "videos__videos_info_single.json")
    item = body["items"][0]
    item["contentDetails"] = {"duration": "P0D"}
    item["snippet"]["liveBroadcastContent"] = "upcoming"
    assert normalize("videos", {}, body).episodes[0].data["kind"] == "live"
    item["snippet"]["liveBroadcastContent"] = "none"
    item["liveStreamingDetails"] = {"actualStartTime": "2019-03-21T20:00:00Z"}
    assert normalize("videos", {}, body).episodes[0].data["kind"] == "live"
    item["liveStreamingDetails"]["actualEndTime"] = "2019-03-21T21:00:00Z"
    item["contentDetails"] = {"duration": "PT1H"}
    record = normalize("videos", {}, body).episodes[0]
    assert record.data["kind"] == "episode" and record.data["duration_s"] == 3600


def test_clip_short_and_trailer_rules(samples: Path) -> None:
    template = load(samples, "videos__videos_info_single.json")["items"][0]

    def video(vid: str, title: str, duration: str, channel: str = "UCx") -> dict[str, Any]:
        item = copy.deepcopy(template)
        item["id"], item["snippet"]["title"] = vid, title
        item["snippet"]["channelId"] = channel
        item["snippet"]["description"] = "A conversation."
        item["snippet"]["tags"] = []
        item["contentDetails"] = {"duration": duration}
        return item

    long_form = [video(f"long{i}", f"Episode {i}", f"PT{45 + i * 5}M") for i in range(4)]
    body = {
        "items": [
            *long_form,
            video("cut", "What most people miss", "PT6M"),
            video("hl", "Sleep science | Highlights", "PT40M"),
            video("tz", "Season 2 Teaser", "PT2M"),
            video("talk", "Why every movie trailer looks the same", "PT50M"),
            video("sh", "Wait for it #shorts", "PT2M"),
            video("longsh", "Best of #shorts compilation", "PT20M"),
            # Same 6 minutes on a channel of short episodes: an episode, not a clip.
            *[video(f"news{i}", f"News {i}", "PT12M", channel="UCy") for i in range(4)],
            video("brief", "Morning brief", "PT6M", channel="UCy"),
        ]
    }
    kinds = {e.external_id: e.data["kind"] for e in normalize("videos", {}, body).episodes}
    assert kinds["cut"] == "clip"
    assert kinds["hl"] == "clip"
    assert kinds["tz"] == "trailer"
    assert kinds["talk"] == "episode"
    assert kinds["sh"] == "short"
    assert kinds["longsh"] == "episode"
    assert kinds["brief"] == "episode"
    assert {kinds[f"long{i}"] for i in range(4)} == {"episode"}


def test_missing_and_null_fields_are_tolerated(samples: Path) -> None:
    real = load(samples, "channels__info_multiple.json")["items"][0]
    video = load(samples, "videos__videos_info_single.json")["items"][0]
    broken_channel = {**copy.deepcopy(real), "snippet": None, "statistics": None}
    broken_video = {
        **copy.deepcopy(video),
        "snippet": {"title": None, "thumbnails": None, "tags": None, "publishedAt": "yesterday"},
        "statistics": {"viewCount": None},
        "contentDetails": None,
    }
    for body in (None, {}, [], "x", {"items": None}, {"items": [None, 1, "x", {}]}):
        for endpoint in ("channels", "videos", "search", "playlistItems"):
            result = normalize(endpoint, {}, body)
            assert result.shows == [] and result.episodes == []
    channel = normalize("channels", {}, {"items": [broken_channel]}).shows[0]
    assert channel.external_id == real["id"] and channel.metrics == {}
    assert channel.data == {"uploads_playlist_id": "UUK8sQmJBp8GCxrOtXWBpyEA"}
    episode = normalize("videos", {}, {"items": [broken_video]}).episodes[0]
    assert episode.external_id == video["id"] and episode.show_external_id == ""
    assert episode.data == {
        "link": f"https://www.youtube.com/watch?v={video['id']}",
        "kind": "episode",
    }
    search = {"items": [{"id": None, "snippet": None}, {"id": {"kind": "youtube#channel"}}]}
    assert normalize("search", {}, search).shows == []
    with pytest.raises(ValueError, match="no YouTube normaliser"):
        normalize("captions", {}, {})


# -- quota ledger ----------------------------------------------------------------------


def clock_at(text: str) -> Callable[[], datetime]:
    return lambda: datetime.fromisoformat(text)


@pytest.mark.clock
def test_quota_day_turns_at_pacific_midnight(tmp_path: Path) -> None:
    path = tmp_path / "quota.json"
    before = QuotaLedger(100, path, clock=clock_at("2025-03-01T07:59:00+00:00"))
    after = QuotaLedger(100, path, clock=clock_at("2025-03-01T08:00:00+00:00"))
    before.reserve(7)
    assert before.used_today == 7 and after.used_today == 0
    after.reserve(3)
    assert before.used_today == 7 and after.used_today == 3
    assert before.resets_at == datetime(2025, 3, 1, 8, tzinfo=UTC)
    summer = QuotaLedger(100, path, clock=clock_at("2025-07-01T06:59:00+00:00"))
    assert summer.resets_at == datetime(2025, 7, 1, 7, tzinfo=UTC)  # PDT: UTC-7
    stored = json.loads(path.read_text())["days"]
    assert stored["2025-02-28"]["used"] == 7 and stored["2025-03-01"]["used"] == 3


@pytest.mark.clock
def test_quota_ledger_persists_settles_and_refuses_before_the_call(tmp_path: Path) -> None:
    path = tmp_path / "state" / "youtube_quota.json"
    now = clock_at("2025-03-01T20:00:00+00:00")
    one, other = QuotaLedger(150, path, clock=now), QuotaLedger(150, path, clock=now)
    held = one.reserve(100, endpoint="search")
    assert other.used_today == 100
    one.settle(held, 0)  # served from the local cache: refunded
    assert other.used_today == 0 and one.spent_this_run == 0
    one.settle(one.reserve(1), 2)  # retried once: two attempts charged
    assert other.used_today == 2 and one.spent_this_run == 2
    other.reserve(100)
    with pytest.raises(ApiQuotaExceeded) as err:
        one.reserve(100, endpoint="search")
    message = str(err.value)
    assert "daily YouTube quota budget of 150 units would be exceeded: used 102" in message
    assert "resets at 2025-03-02 00:00 PST (2025-03-02 08:00 UTC)" in message
    assert one.used_today == 102 and one.remaining == 48


def test_quota_budget_from_env_and_costs(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PODSIGHT_HOME", str(tmp_path))
    monkeypatch.setenv("PODSIGHT_YOUTUBE_QUOTA_BUDGET", "250")
    ledger = QuotaLedger.from_env()
    assert ledger.budget == 250 and ledger.path == tmp_path / "state" / "youtube_quota.json"
    monkeypatch.delenv("PODSIGHT_YOUTUBE_QUOTA_BUDGET")
    assert QuotaLedger.from_env().budget == 10000
    for bad in ("-1", "12.5", "lots"):
        monkeypatch.setenv("PODSIGHT_YOUTUBE_QUOTA_BUDGET", bad)
        with pytest.raises(ValueError, match="PODSIGHT_YOUTUBE_QUOTA_BUDGET"):
            QuotaLedger.from_env()
    assert [cost_of(e) for e in ("channels", "playlistItems", "videos", "search")] == [1, 1, 1, 100]
    with pytest.raises(ValueError, match="no known YouTube quota cost"):
        cost_of("liveChat/messages")


def test_batches_are_sorted_and_balanced() -> None:
    ids = [_video_id(n) for n in range(120)]
    batches = balanced_batches(ids)
    assert [len(b) for b in batches] == [40, 40, 40]
    assert [i for b in batches for i in b] == sorted(ids)
    assert [len(b) for b in balanced_batches(ids[:51])] == [26, 25]
    assert balanced_batches([]) == []


# -- error mapping ---------------------------------------------------------------------


def google_response(status: int, reason: str, message: str = "no", **kw: Any) -> httpx.Response:
    body = google_error(status, reason, message, **kw).body
    request = httpx.Request("GET", f"https://www.googleapis.com/youtube/v3/videos?key={KEY}")
    return httpx.Response(status, json=body, request=request)


@pytest.mark.clock
def test_error_hook_maps_youtube_reasons() -> None:
    for reason in ("quotaExceeded", "dailyLimitExceeded"):
        error = youtube_error_hook(google_response(403, reason, domain="youtube.quota"))
        assert isinstance(error, ApiQuotaExceeded) and reason in str(error)
        assert "resets at" in str(error)
    assert isinstance(youtube_error_hook(google_response(403, "rateLimitExceeded")), ApiRateLimited)
    invalid = youtube_error_hook(google_response(400, "keyInvalid", "API key not valid."))
    assert isinstance(invalid, ApiAuthError) and "check YOUTUBE_API_KEY" in str(invalid)
    modern = youtube_error_hook(
        google_response(
            400,
            "badRequest",
            "API key not valid. Please pass a valid API key.",
            details=[{"reason": "API_KEY_INVALID", "domain": "googleapis.com"}],
        )
    )
    assert isinstance(modern, ApiAuthError) and "API_KEY_INVALID" in str(modern)
    assert isinstance(youtube_error_hook(google_response(404, "channelNotFound")), ApiNotFound)
    assert isinstance(youtube_error_hook(google_response(403, "forbidden")), ApiAuthError)
    disabled = youtube_error_hook(google_response(403, "accessNotConfigured"))
    assert isinstance(disabled, ApiAuthError) and "not enabled" in str(disabled)
    assert isinstance(
        youtube_error_hook(google_response(400, "invalidPageToken")), ApiResponseError
    )
    assert youtube_error_hook(google_response(500, "backendError")) is None
    for reason in ("quotaExceeded", "keyInvalid", "forbidden"):
        assert KEY not in str(youtube_error_hook(google_response(403, reason, f"key={KEY}")))


# -- sync over a real socket: the first seed's Huberman Lab export ------------------------


@pytest.mark.clock
@pytest.mark.network
def test_huberman_first_run_costs_three_units(
    serve: Callable[..., ApiServer], seed_dir: Path, export: list[dict[str, Any]]
) -> None:
    backend = YouTubeBackend.from_seed(seed_dir, api_key=KEY)
    server = serve(backend)
    with connect() as yt:
        result = yt.fetch_channel(channel_id=HUBERMAN)
        payloads = yt.api.take_payloads()
        assert yt.spent_this_run == 3 and yt.quota.used_today == 3
    assert backend.units_used == 3
    assert requests_of(server) == [("/channels", 200), ("/playlistItems", 200), ("/videos", 200)]
    channels, playlist, videos = server.requests
    assert channels.query == {
        "part": "snippet,contentDetails,statistics",
        "id": HUBERMAN,
        "key": KEY,
    }
    assert playlist.query["playlistId"] == "UU2D2CMWXMOVWx7giW1n3LIg"
    assert playlist.query["maxResults"] == "50"
    asked = videos.query["id"].split(",")
    assert asked == sorted(row["video_id"] for row in export)
    assert videos.query["part"] == "snippet,contentDetails,statistics"

    [show] = result.shows
    assert show.external_id == HUBERMAN and show.data["title"] == "Andrew Huberman"
    assert show.url == f"https://www.youtube.com/channel/{HUBERMAN}"
    assert result.complete_shows == {HUBERMAN}
    by_id = {e.external_id: e for e in result.episodes}
    assert len(result.episodes) == 20 and set(by_id) == {row["video_id"] for row in export}
    for row in export:
        episode = by_id[row["video_id"]]
        assert episode.show_external_id == HUBERMAN
        assert episode.data["title"] == row["video_title"]
        assert episode.data["published_at"] == row["published_at"].replace("Z", "+00:00")
        assert episode.metrics == {
            "views": row["view_count"],
            "likes": row["like_count"],
            "comments": row["comment_count"],
        }
        assert "duration_s" not in episode.data  # the export has no durations
        assert episode.data["kind"] == "episode"
    assert len(payloads) == 3
    assert all("key=REDACTED" in p.url and KEY not in p.url for p in payloads)
    assert all(p.params.get("key") == "REDACTED" for p in payloads)


@pytest.mark.clock
@pytest.mark.network
def test_second_identical_run_revalidates_and_is_still_charged(
    serve: Callable[..., ApiServer], seed_dir: Path
) -> None:
    backend = YouTubeBackend.from_seed(seed_dir, api_key=KEY)
    server = serve(backend)
    with connect() as yt:
        first = yt.fetch_channel(channel_id=HUBERMAN)
    known = {e.external_id for e in first.episodes}
    server.clear_log()
    with connect() as yt:
        second = yt.fetch_channel(channel_id=HUBERMAN, known_video_ids=known)
        assert yt.api.stats.revalidated == 3 and yt.api.stats.cache_hits == 0
        assert yt.spent_this_run == 3 and yt.quota.used_today == 6
    assert requests_of(server) == [("/channels", 304), ("/playlistItems", 304), ("/videos", 304)]
    assert backend.units_used == 6
    assert {e.external_id: e.metrics for e in second.episodes} == {
        e.external_id: e.metrics for e in first.episodes
    }
    assert second.complete_shows == {HUBERMAN}


@pytest.mark.clock
@pytest.mark.network
def test_fresh_cache_hits_cost_nothing(serve: Callable[..., ApiServer], seed_dir: Path) -> None:
    backend = YouTubeBackend.from_seed(seed_dir, api_key=KEY)
    server = serve(backend, cache_mode="max-age")
    with connect() as yt:
        first = yt.fetch_channel(channel_id=HUBERMAN)
    known = {e.external_id for e in first.episodes}
    with connect() as yt:
        again = yt.fetch_channel(channel_id=HUBERMAN, known_video_ids=known)
        assert yt.api.stats.cache_hits == 3
        assert yt.spent_this_run == 0 and yt.quota.used_today == 3
    assert len(server.requests) == 3 and backend.units_used == 3
    assert len(again.episodes) == 20


@pytest.mark.network
def test_counts_refresh_after_time_passes(serve: Callable[..., ApiServer], seed_dir: Path) -> None:
    backend = YouTubeBackend.from_seed(seed_dir, api_key=KEY)
    serve(backend)
    with connect() as yt:
        first = yt.fetch_channel(channel_id=HUBERMAN)
    backend.advance(2)
    with connect() as yt:
        later = yt.fetch_channel(
            channel_id=HUBERMAN, known_video_ids={e.external_id for e in first.episodes}
        )
    before = {e.external_id: e.metrics["views"] for e in first.episodes}
    assert all(e.metrics["views"] > before[e.external_id] for e in later.episodes)


# -- paging, batching, incremental --------------------------------------------------------


@pytest.mark.network
def test_paging_and_batching_120_uploads(serve: Callable[..., ApiServer], samples: Path) -> None:
    backend = synthetic_backend(samples, 120)
    server = serve(backend)
    with connect() as yt:
        result = yt.fetch_channel(channel_id=SYNTHETIC)
        assert yt.spent_this_run == 7 and yt.quota.used_today == 7
    assert backend.units_used == 7
    pages = [r.query for r in server.requests if r.path == "/playlistItems"]
    assert [q.get("pageToken") for q in pages] == [None, page_token(50), page_token(100)]
    assert page_token(50) == "CDIQAA"  # YouTube's own token for offset 50
    batches = [r.query["id"].split(",") for r in server.requests if r.path == "/videos"]
    assert len(batches) == 3 and all(len(b) <= 50 and b == sorted(b) for b in batches)
    everything = sorted(_video_id(n) for n in range(120))
    assert [i for b in batches for i in b] == everything
    assert sorted(e.external_id for e in result.episodes) == everything
    assert result.complete_shows == {SYNTHETIC}
    assert {e.data["duration_s"] for e in result.episodes} >= {40 * 60, 69 * 60 + 59}


@pytest.mark.network
def test_incremental_sync_stops_after_a_page_of_known_videos(
    serve: Callable[..., ApiServer], samples: Path
) -> None:
    backend = synthetic_backend(samples, 120)
    server = serve(backend)
    newest = {_video_id(n) for n in range(115, 120)}
    known = {_video_id(n) for n in range(115)}
    with connect() as yt:
        result = yt.fetch_channel(channel_id=SYNTHETIC, known_video_ids=known)
        assert yt.spent_this_run == 1 + 2 + 3
    pages = [r.query.get("pageToken") for r in server.requests if r.path == "/playlistItems"]
    assert pages == [None, page_token(50)]  # page 2 held only known videos
    assert result.complete_shows == set()  # the rest of the playlist was not read
    returned = {e.external_id for e in result.episodes}
    assert newest <= returned and returned == newest | known  # known ones refreshed too
    server.clear_log()
    with connect() as yt:
        yt.fetch_channel(channel_id=SYNTHETIC, known_video_ids=known | newest)
    pages = [r.query.get("pageToken") for r in server.requests if r.path == "/playlistItems"]
    assert pages == [None]


@pytest.mark.network
def test_handle_lookup_never_searches(serve: Callable[..., ApiServer], samples: Path) -> None:
    backend = synthetic_backend(samples, 3)
    server = serve(backend)
    with connect() as yt:
        result = yt.fetch_channel(handle="SyntheticPod")
        with pytest.raises(ApiNotFound, match="no channel with handle @nobody"):
            yt.fetch_channel(handle="nobody")
    assert result.shows[0].external_id == SYNTHETIC and len(result.episodes) == 3
    assert server.requests[0].query["forHandle"] == "@SyntheticPod"
    assert not any(r.path == "/search" for r in server.requests)
    assert backend.calls["search"] == 0


@pytest.mark.network
def test_search_costs_100_units(serve: Callable[..., ApiServer], seed_dir: Path) -> None:
    backend = YouTubeBackend.from_seed(seed_dir, api_key=KEY)
    server = serve(backend)
    with connect() as yt:
        found = yt.search("Huberman Lab", limit=3)
        assert yt.spent_this_run == 100
    assert [s.external_id for s in found.shows] == [HUBERMAN] and found.episodes == []
    query = server.requests[0].query
    assert query["type"] == "channel" and query["maxResults"] == "3"
    assert backend.units_used == 100


# -- quota and failures ----------------------------------------------------------------


@pytest.mark.clock
@pytest.mark.network
def test_budget_stops_before_the_call(
    serve: Callable[..., ApiServer], seed_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    backend = YouTubeBackend.from_seed(seed_dir, api_key=KEY)
    server = serve(backend)
    monkeypatch.setenv("PODSIGHT_YOUTUBE_QUOTA_BUDGET", "2")
    with connect() as yt:
        with pytest.raises(ApiQuotaExceeded) as err:
            yt.fetch_channel(channel_id=HUBERMAN)
        assert yt.quota.used_today == 2 and yt.spent_this_run == 2
    message = str(err.value)
    assert "budget of 2 units would be exceeded: used 2" in message and "resets at" in message
    assert requests_of(server) == [("/channels", 200), ("/playlistItems", 200)]
    monkeypatch.setenv("PODSIGHT_YOUTUBE_QUOTA_BUDGET", "101")
    with connect() as yt, pytest.raises(ApiQuotaExceeded, match="used 2, the next call"):
        yt.search("huberman")
    assert len(server.requests) == 2 and backend.units_used == 2


@pytest.mark.clock
@pytest.mark.network
def test_youtube_quota_exceeded_stops_until_reset(
    serve: Callable[..., ApiServer], seed_dir: Path
) -> None:
    backend = YouTubeBackend.from_seed(seed_dir, api_key=KEY)
    backend.quota_exhausted = True
    server = serve(backend)
    with connect() as yt, pytest.raises(ApiQuotaExceeded, match="quotaExceeded"):
        yt.fetch_channel(channel_id=HUBERMAN)
    assert requests_of(server) == [("/channels", 403)]
    backend.quota_exhausted = False
    with connect() as yt, pytest.raises(ApiQuotaExceeded, match="earlier in this quota day"):
        yt.fetch_channel(channel_id=HUBERMAN)
    assert len(server.requests) == 1  # the ledger remembered: no call made


@pytest.mark.clock
@pytest.mark.network
def test_a_refusal_answered_after_the_pacific_midnight_closes_only_the_day_that_ended(
    serve: Callable[..., ApiServer], seed_dir: Path
) -> None:
    backend = YouTubeBackend.from_seed(seed_dir, api_key=KEY)
    backend.quota_exhausted = True
    serve(backend)
    before = datetime(2025, 3, 1, 7, 59, 59, 900_000, tzinfo=UTC)  # 23:59:59.9 PST
    after = datetime(2025, 3, 1, 8, 0, 0, 200_000, tzinfo=UTC)  # the answer, 00:00:00.2
    readings = iter([before])  # the call is reserved before midnight, all else after
    with connect() as yt:
        yt.quota = QuotaLedger(10_000, yt.quota.path, clock=lambda: next(readings, after))
        with pytest.raises(ApiQuotaExceeded, match="quotaExceeded"):
            yt.fetch_channel(channel_id=HUBERMAN)
    days = json.loads(yt.quota.path.read_text())["days"]
    assert days["2025-02-28"] == {"used": 1, "exhausted": True}  # charged to its own day
    assert "2025-03-01" not in days
    fresh = QuotaLedger(10_000, yt.quota.path, clock=lambda: after)
    assert not fresh.exhausted_today and fresh.used_today == 0
    backend.quota_exhausted = False
    with connect() as yt:
        yt.quota = fresh
        assert len(yt.fetch_channel(channel_id=HUBERMAN).episodes) == 20
    assert fresh.used_today == 3


@pytest.mark.network
def test_wrong_key_is_an_auth_error_without_the_key(
    serve: Callable[..., ApiServer],
    seed_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    server = serve(YouTubeBackend.from_seed(seed_dir, api_key=KEY))
    wrong = "AIzaWRONG-0123456789-secret"
    monkeypatch.setenv("YOUTUBE_API_KEY", wrong)
    caplog.set_level(logging.DEBUG)
    with connect() as yt:
        with pytest.raises(ApiAuthError) as err:
            yt.fetch_channel(channel_id=HUBERMAN)
        assert yt.api.payloads == [] and yt.spent_this_run == 1
    assert "YOUTUBE_API_KEY" in str(err.value) and "keyInvalid" in str(err.value)
    assert wrong not in str(err.value) and wrong not in caplog.text
    assert requests_of(server) == [("/channels", 400)]
    assert server.requests[0].query["key"] == wrong  # sent as the `key` parameter


@pytest.mark.network
def test_real_permission_error_is_an_auth_error(
    serve: Callable[..., ApiServer], seed_dir: Path, samples: Path
) -> None:
    server = serve(YouTubeBackend.from_seed(seed_dir, api_key=KEY))
    body = (samples / "error_permission_resp.json").read_bytes()
    server.inject("youtube", "/channels", Fault(Reply(403, body, cacheable=False)))
    with connect() as yt, pytest.raises(ApiAuthError, match="The caller does not have permission"):
        yt.fetch_channel(channel_id=HUBERMAN)


@pytest.mark.network
def test_malformed_json_is_a_response_error(
    serve: Callable[..., ApiServer], seed_dir: Path
) -> None:
    server = serve(YouTubeBackend.from_seed(seed_dir, api_key=KEY))
    broken = b'{"kind": "youtube#channelListResponse", "items": [{"id": '
    server.inject("youtube", "/channels", Fault(Reply(200, broken, cacheable=False)))
    with connect() as yt:
        with pytest.raises(ApiResponseError, match="not valid JSON"):
            yt.fetch_channel(channel_id=HUBERMAN)
        assert yt.spent_this_run == 1  # the answer came from YouTube: charged


@pytest.mark.network
def test_connection_reset_is_retried(serve: Callable[..., ApiServer], seed_dir: Path) -> None:
    backend = YouTubeBackend.from_seed(seed_dir, api_key=KEY)
    server = serve(backend)
    server.inject("youtube", "/playlistItems", Fault(reset=True))
    with connect() as yt:
        result = yt.fetch_channel(channel_id=HUBERMAN)
        assert yt.api.stats.retries == 1
        # The reset attempt is charged too: YouTube may have counted it.
        assert yt.spent_this_run == 4
    assert len(result.episodes) == 20
    assert [r.path for r in server.requests].count("/playlistItems") == 2
    assert backend.units_used == 3


@pytest.mark.network
def test_rate_limit_reason_is_retried(serve: Callable[..., ApiServer], seed_dir: Path) -> None:
    server = serve(YouTubeBackend.from_seed(seed_dir, api_key=KEY))
    server.inject("youtube", "/videos", Fault(google_error(403, "rateLimitExceeded", "Slow down")))
    with connect() as yt:
        result = yt.fetch_channel(channel_id=HUBERMAN)
        assert yt.api.stats.retries == 1 and yt.spent_this_run == 4
    assert len(result.episodes) == 20
    assert [s for p, s in requests_of(server) if p == "/videos"] == [403, 200]


@pytest.mark.network
def test_timeout_is_unavailable(
    serve: Callable[..., ApiServer], seed_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = serve(YouTubeBackend.from_seed(seed_dir, api_key=KEY))
    monkeypatch.setenv("PODSIGHT_API_READ_TIMEOUT", "0.2")
    monkeypatch.setenv("PODSIGHT_API_MAX_ATTEMPTS", "2")
    server.inject("youtube", "/channels", Fault(delay_s=0.8), Fault(delay_s=0.8))
    with connect() as yt:
        with pytest.raises(ApiUnavailable, match="timed out"):
            yt.fetch_channel(channel_id=HUBERMAN)
        assert yt.api.stats.retries == 1 and yt.spent_this_run == 2


def test_missing_key_is_not_configured(monkeypatch: pytest.MonkeyPatch, api_home: Path) -> None:
    with pytest.raises(SourceNotConfigured, match="YOUTUBE_API_KEY is not set"):
        YouTubeConnector.from_settings()
    monkeypatch.setenv("YOUTUBE_API_KEY", "   ")
    with pytest.raises(SourceNotConfigured, match="YOUTUBE_API_KEY"):
        YouTubeConnector.from_settings()
    assert not (api_home / "state" / "youtube_quota.json").exists()


def test_fetch_channel_needs_one_identifier(
    monkeypatch: pytest.MonkeyPatch, api_home: Path
) -> None:
    monkeypatch.setenv("YOUTUBE_API_KEY", KEY)
    with YouTubeConnector.from_settings(cache=False) as yt:
        for kwargs in ({}, {"channel_id": HUBERMAN, "handle": "@x"}):
            with pytest.raises(ValueError, match="exactly one"):
                yt.fetch_channel(**kwargs)
        assert yt.quota.used_today == 0
