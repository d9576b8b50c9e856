"""The demo world and the first seed's export as the YouTube Data API v3.

Checks that the demo channels differ from the RSS feeds the way real channels do,
that the backend answers like the API (shapes, paging, errors), and that a full
connector sync over a real socket classifies every video as what it really is.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from httpserver import ReplayApis
from podsight.demo.apiserver import ApiRequest, ApiServer
from podsight.demo.world import World, build_world
from podsight.demo.youtube_api import (
    YouTubeBackend,
    build_youtube_backend,
    iso_duration,
    page_token,
    parse_page_token,
    youtube_demo_ids,
)
from podsight.sources.youtube.client import YouTubeConnector

HUBERMAN = "UC2D2CMWXMOVWx7giW1n3LIg"
MARKED_CLIP = re.compile(r"(?:\b|#)(?:clips?|highlights?)\b", re.IGNORECASE)


@pytest.fixture(scope="module")
def world() -> World:
    return build_world(42)


@pytest.fixture(scope="module")
def backend(world: World) -> YouTubeBackend:
    """Read-only use; tests that change a backend build their own."""
    return build_youtube_backend(world)


def call(backend: YouTubeBackend, path: str, **query: str) -> tuple[int, Any]:
    query.setdefault("key", "demo")
    reply = backend.handle(ApiRequest("GET", path, query, {}))
    return reply.status, json.loads(reply.encoded())


def published(item: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(item["snippet"]["publishedAt"].replace("Z", "+00:00"))


# -- ids and determinism ---------------------------------------------------------------


def test_channel_ids_are_deterministic_and_look_real(world: World, backend: YouTubeBackend) -> None:
    ids = youtube_demo_ids(world)
    assert ids == youtube_demo_ids(build_world(42))
    assert all(re.fullmatch(r"UC[A-Za-z0-9_-]{21}[AQgw]", i) for i in ids.values())
    assert len(set(ids.values())) == len(ids)
    assert 0 < len(ids) < len(world.shows)  # not every show has a channel
    assert set(ids) <= {s.slug for s in world.shows}
    assert set(backend.channels) == set(ids.values())
    assert set(youtube_demo_ids(build_world(7)).values()).isdisjoint(ids.values())


def test_rendering_is_deterministic(world: World, backend: YouTubeBackend) -> None:
    again = build_youtube_backend(build_world(42))
    assert again.channels == backend.channels
    assert again.videos == backend.videos
    assert again.truth == backend.truth
    assert again.playlist_items == backend.playlist_items


# -- realistic differences from the feeds -------------------------------------------------


def test_channels_differ_from_the_feeds_like_real_ones(
    world: World, backend: YouTubeBackend
) -> None:
    ids = youtube_demo_ids(world)
    titles = {slug: backend.channels[cid]["snippet"]["title"] for slug, cid in ids.items()}
    host_named = [s for s, t in titles.items() if t in {h.name for h in world.show(s).hosts}]
    named_as_show = [s for s, t in titles.items() if t == world.show(s).title]
    assert host_named and named_as_show
    for slug in host_named:  # the show's name is still findable in the description
        channel = backend.channels[ids[slug]]
        assert world.show(slug).title in channel["snippet"]["description"]

    kinds = Counter(t["kind"] for t in backend.truth.values())
    assert {"episode", "clip", "short", "trailer", "live"} <= set(kinds)
    assert kinds["episode"] > sum(n for kind, n in kinds.items() if kind != "episode")

    gaps, length_changes, video_titles = [], [], []
    uploaded: Counter[str] = Counter()
    for video_id, truth in backend.truth.items():
        if truth["kind"] != "episode":
            continue
        video = backend.videos[video_id]
        episode = world.show(truth["show"]).episodes[truth["episode"]]
        uploaded[truth["show"]] += 1
        gaps.append((published(video) - episode.published).total_seconds() / 3600)
        seconds = video["contentDetails"]["duration"]
        length_changes.append(_seconds(seconds) - episode.duration_s)
        video_titles.append((video["snippet"]["title"], episode.title, world.show(truth["show"])))
    assert any(abs(g) >= 1 for g in gaps) and all(abs(g) <= 14 for g in gaps)
    assert sum(1 for c in length_changes if c != 0) > len(length_changes) / 2
    assert all(abs(c) <= 300 for c in length_changes)
    assert any(t.endswith(f" | {show.title}") for t, _, show in video_titles)
    assert any(t.startswith("GUEST SERIES | ") for t, _, _ in video_titles)
    assert any(re.search(r"#\d+", t) and not re.search(r"#\d+", rss) for t, rss, _ in video_titles)
    # Missing episodes: some channels lack part of the back catalogue.
    regular = {
        slug: sum(1 for e in world.show(slug).episodes if e.episode_type != "trailer")
        for slug in ids
    }
    assert any(uploaded[slug] < regular[slug] for slug in ids)


def _seconds(iso: str) -> int:
    match = re.fullmatch(r"P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?", iso)
    assert match, iso
    d, h, m, s = (int(g or 0) for g in match.groups())
    return ((d * 24 + h) * 60 + m) * 60 + s


def test_iso_duration_format() -> None:
    assert [iso_duration(s) for s in (0, 45, 60, 3723, 3600, 93784)] == [
        "P0D",
        "PT45S",
        "PT1M",
        "PT1H2M3S",
        "PT1H",
        "P1DT2H3M4S",
    ]


def test_counts_are_stable_until_time_advances(world: World) -> None:
    backend = build_youtube_backend(world)
    channel_id = next(iter(backend.channels))
    ids = ",".join(
        i["contentDetails"]["videoId"] for i in backend.playlist_items["UU" + channel_id[2:]][:50]
    )
    first = call(backend, "/videos", part="statistics,snippet", id=ids)
    assert call(backend, "/videos", part="statistics,snippet", id=ids) == first
    _, channel_before = call(backend, "/channels", part="statistics", id=channel_id)
    backend.advance(3)
    _, later = call(backend, "/videos", part="statistics,snippet", id=ids)
    before = {v["id"]: v for v in first[1]["items"]}
    for video in later["items"]:
        old = int(before[video["id"]]["statistics"]["viewCount"])
        new = int(video["statistics"]["viewCount"])
        if video["snippet"]["liveBroadcastContent"] == "upcoming":
            assert new == old == 0
        else:
            assert new > old
    _, channel_after = call(backend, "/channels", part="statistics", id=channel_id)
    views = [int(c["items"][0]["statistics"]["viewCount"]) for c in (channel_before, channel_after)]
    assert views[1] > views[0]


# -- the backend speaks the API ----------------------------------------------------------


def test_backend_errors_have_googles_shape(backend: YouTubeBackend) -> None:
    status, body = call(backend, "/channels", part="snippet", id=HUBERMAN, key="wrong")
    assert status == 400
    error = body["error"]
    assert error["code"] == 400 and error["errors"][0]["reason"] == "keyInvalid"
    assert set(error["errors"][0]) >= {"reason", "domain", "message"}
    assert error["details"][0]["reason"] == "API_KEY_INVALID"
    assert call(backend, "/channels", part="snippet", id=HUBERMAN, key="")[0] == 403
    status, body = call(backend, "/videos", part="id", id=",".join(f"v{n:010d}" for n in range(51)))
    assert status == 400 and body["error"]["errors"][0]["location"] == "id"
    status, body = call(backend, "/channels", id=HUBERMAN)
    assert status == 400 and body["error"]["errors"][0]["reason"] == "required"
    status, body = call(backend, "/channels", part="snippet,nonsense", id=HUBERMAN)
    assert status == 400 and body["error"]["errors"][0]["reason"] == "unknownPart"
    status, body = call(backend, "/playlistItems", part="id", playlistId="UUnothere")
    assert status == 404 and body["error"]["errors"][0]["reason"] == "playlistNotFound"
    playlist = next(iter(backend.playlist_items))
    status, body = call(backend, "/playlistItems", part="id", playlistId=playlist, maxResults="51")
    assert status == 400 and body["error"]["errors"][0]["reason"] == "invalidParameter"
    status, body = call(backend, "/playlistItems", part="id", playlistId=playlist, pageToken="zz")
    assert status == 400 and body["error"]["errors"][0]["reason"] == "invalidPageToken"


def test_unknown_channels_are_an_empty_answer(backend: YouTubeBackend) -> None:
    status, body = call(backend, "/channels", part="snippet", id="UCnobody00000000000000Aw")
    assert status == 200 and "items" not in body  # as the real API answers
    assert body["pageInfo"]["totalResults"] == 0
    status, body = call(backend, "/channels", part="snippet", forHandle="@nobody")
    assert status == 200 and "items" not in body


def test_parts_are_filtered(backend: YouTubeBackend) -> None:
    video_id = next(iter(backend.videos))
    _, body = call(backend, "/videos", part="snippet", id=video_id)
    assert set(body["items"][0]) == {"kind", "etag", "id", "snippet"}
    _, body = call(backend, "/videos", part="contentDetails,statistics", id=video_id)
    assert set(body["items"][0]) == {"kind", "etag", "id", "contentDetails", "statistics"}


def test_playlist_pages_use_youtubes_tokens(backend: YouTubeBackend, test_data: Path) -> None:
    recorded = json.loads(
        (
            test_data
            / "api_samples/youtube/python-youtube/playlist_items__playlist_items_paged_1.json"
        ).read_text()
    )
    assert page_token(10) == recorded["nextPageToken"] == "CAoQAA"
    assert parse_page_token("CAoQAQ") == 10  # the recorded prevPageToken of page 2
    playlist, items = max(backend.playlist_items.items(), key=lambda kv: len(kv[1]))
    seen, token, pages = [], None, 0
    while True:
        query = {"part": "contentDetails", "playlistId": playlist, "maxResults": "7"}
        if token:
            query["pageToken"] = token
        status, body = call(backend, "/playlistItems", **query)
        assert status == 200 and body["pageInfo"]["totalResults"] == len(items)
        assert ("prevPageToken" in body) == (pages > 0)
        seen += [i["contentDetails"]["videoId"] for i in body["items"]]
        pages += 1
        token = body.get("nextPageToken")
        if not token:
            break
    assert pages == math.ceil(len(items) / 7)
    assert seen == [i["contentDetails"]["videoId"] for i in items]
    dates = [backend.videos[v]["snippet"]["publishedAt"] for v in seen]
    assert dates == sorted(dates, reverse=True)  # newest first


def test_search_finds_channels_and_escapes_titles(world: World, backend: YouTubeBackend) -> None:
    ids = youtube_demo_ids(world)
    slug, channel_id = next(
        (s, c) for s, c in ids.items() if "'" in backend.channels[c]["snippet"]["title"]
    )
    title = backend.channels[channel_id]["snippet"]["title"]
    status, body = call(backend, "/search", part="snippet", type="channel", q=title, maxResults="5")
    assert status == 200
    found = [i for i in body["items"] if i["id"]["channelId"] == channel_id]
    assert found and found[0]["id"]["kind"] == "youtube#channel"
    assert found[0]["snippet"]["title"] == title.replace("&", "&amp;").replace("'", "&#39;")
    assert all(i["id"]["kind"] == "youtube#channel" for i in body["items"])
    status, body = call(
        backend, "/search", part="snippet", type="video", channelId=channel_id, maxResults="50"
    )
    assert body["items"] and all(i["snippet"]["channelId"] == channel_id for i in body["items"])
    assert world.show(slug)  # the slug is a real demo show


def test_quota_limit_mode(world: World) -> None:
    backend = build_youtube_backend(world, api_key="k")
    backend.quota_limit = 2
    channel_id = next(iter(backend.channels))
    for _ in range(2):
        assert call(backend, "/channels", part="id", id=channel_id, key="k")[0] == 200
    status, body = call(backend, "/channels", part="id", id=channel_id, key="k")
    assert status == 403 and body["error"]["errors"][0]["reason"] == "quotaExceeded"
    assert body["error"]["errors"][0]["domain"] == "youtube.quota"
    assert backend.units_used == 2 and backend.calls["channels"] == 2


# -- the first seed's export -------------------------------------------------------------


def test_seed_export_becomes_real_api_shapes(test_data: Path) -> None:
    folder = test_data / "seeds" / "youtubeAPI"
    rows = json.loads((folder / "videos.json").read_text(encoding="utf-8"))
    backend = YouTubeBackend.from_seed(folder)
    assert list(backend.channels) == [HUBERMAN]
    channel = backend.channels[HUBERMAN]
    assert channel["snippet"]["title"] == "Andrew Huberman"
    assert channel["contentDetails"]["relatedPlaylists"]["uploads"] == "UU2D2CMWXMOVWx7giW1n3LIg"
    assert "statistics" not in channel  # not in the export: not invented
    assert len(backend.videos) == 20
    for row in rows:
        video = backend.videos[row["video_id"]]
        assert video["snippet"]["title"] == row["video_title"]
        assert video["snippet"]["publishedAt"] == row["published_at"]
        assert video["snippet"]["description"] == row["description"]
        assert video["statistics"] == {
            "viewCount": str(row["view_count"]),
            "likeCount": str(row["like_count"]),
            "favoriteCount": str(row["favorite_count"]),
            "commentCount": str(row["comment_count"]),
        }
        assert "contentDetails" not in video  # no durations in the export
    playlist = backend.playlist_items["UU2D2CMWXMOVWx7giW1n3LIg"]
    newest_first = [r["video_id"] for r in sorted(rows, key=lambda r: r["published_at"])][::-1]
    assert [i["contentDetails"]["videoId"] for i in playlist] == newest_first
    assert [i["snippet"]["position"] for i in playlist] == list(range(20))


# -- a full sync of the demo channels over a real socket -----------------------------------


@pytest.fixture
def demo_server(world: World, replay_apis: ReplayApis) -> tuple[ApiServer, YouTubeBackend]:
    backend = build_youtube_backend(world)
    server = replay_apis.serve({"youtube": backend}, env={"YOUTUBE_API_KEY": "demo"})
    return server, backend


@pytest.mark.network
def test_demo_sync_classifies_every_video(
    world: World, demo_server: tuple[ApiServer, YouTubeBackend]
) -> None:
    server, backend = demo_server
    ids = youtube_demo_ids(world)
    kinds: dict[str, str] = {}
    durations: dict[str, int | None] = {}
    complete: set[str] = set()
    expected_units = 0
    with YouTubeConnector.from_settings() as yt:
        for channel_id in ids.values():
            result = yt.fetch_channel(channel_id=channel_id)
            complete |= result.complete_shows
            assert [s.external_id for s in result.shows] == [channel_id]
            for episode in result.episodes:
                assert episode.show_external_id == channel_id
                kinds[episode.external_id] = episode.data["kind"]
                durations[episode.external_id] = episode.data.get("duration_s")
            uploads = len(backend.playlist_items["UU" + channel_id[2:]])
            expected_units += 1 + 2 * max(1, math.ceil(uploads / 50))
        spent = yt.spent_this_run
    assert set(kinds) == set(backend.videos)
    wrong = {
        v: (k, backend.truth[v]["kind"]) for v, k in kinds.items() if k != backend.truth[v]["kind"]
    }
    assert wrong == {}
    assert set(kinds.values()) == {"episode", "clip", "short", "trailer", "live"}
    # Some clips say nothing in their title: found by length on a long-form channel.
    unmarked = [
        v
        for v, t in backend.truth.items()
        if t["kind"] == "clip" and not MARKED_CLIP.search(backend.videos[v]["snippet"]["title"])
    ]
    assert unmarked and all(kinds[v] == "clip" for v in unmarked)
    # Some shorts say nothing either: found by length.
    assert any(
        "#short" not in backend.videos[v]["snippet"]["title"]
        for v, k in kinds.items()
        if k == "short"
    )
    assert all(durations[v] is None for v, k in kinds.items() if k == "live")
    assert complete == set(ids.values())
    assert spent == expected_units == backend.units_used
    assert all(r.status == 200 for r in server.requests)
