"""`podsight sync` end to end: the first seed's real Huberman Lab data served by local
Spotify and YouTube APIs, through the real connectors, into the catalog and the lake."""

from __future__ import annotations

from pathlib import Path

import pytest
from rest_framework.test import APIClient

from httpserver import ReplayApis
from podsight.catalog.models import Channel, Episode
from podsight.demo.apiserver import ApiServer
from podsight.demo.spotify_api import SpotifyBackend
from podsight.demo.youtube_api import YouTubeBackend
from podsight.lake.metrics import metric_history
from podsight.sources.models import SourceChannel, SourceEpisode
from podsight.sources.payloads import payload_count
from podsight.sources.replay import replay_payloads
from podsight.sources.sync import (
    ShowSpec,
    SourcesFileError,
    append_to_sources_file,
    load_sources_file,
    sync_shows,
)

pytestmark = pytest.mark.django_db

SPOTIFY_SHOW = "79CkJF3UJTHFV8Dse3Oy0P"
YOUTUBE_CHANNEL = "UC2D2CMWXMOVWx7giW1n3LIg"
HUBERMAN = ShowSpec(
    name="Huberman Lab", spotify_id=SPOTIFY_SHOW, youtube_channel_id=YOUTUBE_CHANNEL
)
CREDENTIALS = ("SPOTIFY_CLIENT_ID", "SPOTIFY_CLIENT_SECRET", "YOUTUBE_API_KEY")


def serve_huberman(apis: ReplayApis, test_data: Path, cache_mode: str = "etag") -> ApiServer:
    seed = test_data / "seeds" / "youtubeAPI"
    spotify = SpotifyBackend.from_seed(seed)
    return apis.serve(
        {
            "spotify": spotify,
            "spotify-accounts": spotify.accounts,
            "youtube": YouTubeBackend.from_seed(seed),
        },
        cache_mode=cache_mode,
        env={name: "demo" for name in CREDENTIALS},
    )


def sync(**kw):
    return sync_shows([HUBERMAN], **kw)


@pytest.mark.parametrize("cache_mode", ["etag", "max-age", "last-modified", "etag-only"])
def test_huberman_sync_three_times(replay_apis, test_data, cache_mode):
    server = serve_huberman(replay_apis, test_data, cache_mode)
    try:
        first = sync()
        assert first.runs["spotify"].status == "ok" and first.runs["youtube"].status == "ok"
        assert first.runs["rss"].status == "idle"

        spotify = SourceChannel.objects.get(source="spotify")
        youtube = SourceChannel.objects.get(source="youtube")
        assert (spotify.external_id, spotify.data["title"]) == (SPOTIFY_SHOW, "Huberman Lab")
        assert (youtube.external_id, youtube.data["title"]) == (YOUTUBE_CHANNEL, "Andrew Huberman")
        assert spotify.episodes.count() == 20 and youtube.episodes.count() == 20
        # Keyless sources are not merged with each other here (matching does that).
        assert spotify.channel_id != youtube.channel_id
        assert Channel.objects.count() == 2 and Episode.objects.count() == 40
        video = SourceEpisode.objects.get(source="youtube", external_id="qPKd99Pa2iU")
        assert video.data["title"].startswith("Dr. Paul Conti: How to Improve Your Mental Health")
        ((observed_at, views),) = metric_history("youtube", "qPKd99Pa2iU", "views")
        assert views == 80702.0 and observed_at.tzinfo is not None
        assert first.runs["youtube"].quota_units == 3  # channels + playlistItems + videos
        assert first.metrics_written > 0 and payload_count() > 0

        second = sync()
        assert SourceEpisode.objects.count() == 40 and Episode.objects.count() == 40
        assert second.runs["youtube"].store.episodes_new == 0
        assert second.runs["spotify"].store.episodes_new == 0
        for video_id in SourceEpisode.objects.filter(source="youtube").values_list(
            "external_id", flat=True
        ):
            assert len(metric_history("youtube", video_id, "views")) == 2, video_id
        # Revalidations reach YouTube and are charged; fresh cache hits are not.
        assert second.runs["youtube"].quota_units == (0 if cache_mode == "max-age" else 3)

        server.clear_log()
        third = sync()
        assert server.full_responses() == [], [
            (r.mount, r.path, r.status) for r in server.full_responses()
        ]
        assert third.runs["youtube"].store.episodes_new == 0
        assert SourceEpisode.objects.count() == 40
    finally:
        server.stop()


def test_metrics_and_sources_in_the_api(replay_apis, test_data):
    server = serve_huberman(replay_apis, test_data)
    try:
        sync()
        sync()
    finally:
        server.stop()
    youtube = SourceChannel.objects.get(source="youtube")
    client = APIClient()
    channel = client.get(f"/api/channels/{youtube.channel_id}").json()
    (record,) = channel["sources"]
    assert (record["source"], record["external_id"]) == ("youtube", YOUTUBE_CHANNEL)
    assert record["method"] == "key" and record["confidence"] == 1.0
    assert record["latest_metrics"] == {}  # the seed's channel export has no statistics
    spotify = SourceChannel.objects.get(source="spotify")
    (record,) = client.get(f"/api/channels/{spotify.channel_id}").json()["sources"]
    assert record["latest_metrics"]["total_episodes"]["value"] == 164.0

    video = SourceEpisode.objects.get(source="youtube", external_id="qPKd99Pa2iU")
    detail = client.get(f"/api/episodes/{video.episode_id}").json()
    assert detail["sources"][0]["latest_metrics"]["views"]["value"] == 80702.0
    series = client.get(f"/api/episodes/{video.episode_id}/metrics").json()
    views = next(s for s in series["series"] if s["metric"] == "views")
    assert views["source"] == "youtube" and len(views["points"]) == 2
    likes = client.get(f"/api/episodes/{video.episode_id}/metrics?metric=likes").json()
    assert {s["metric"] for s in likes["series"]} == {"likes"}
    assert client.get("/api/episodes/999999/metrics").status_code == 404


def test_sources_without_credentials_are_skipped(replay_apis, test_data, monkeypatch):
    server = serve_huberman(replay_apis, test_data)
    monkeypatch.delenv("YOUTUBE_API_KEY")
    try:
        report = sync()
    finally:
        server.stop()
    assert report.runs["youtube"].status == "skipped"
    assert "YOUTUBE_API_KEY" in report.runs["youtube"].message
    assert report.runs["spotify"].status == "ok"
    assert not SourceChannel.objects.filter(source="youtube").exists()


def test_wrong_credentials_fail_clearly_and_write_nothing(replay_apis, test_data, monkeypatch):
    server = serve_huberman(replay_apis, test_data)
    monkeypatch.setenv("SPOTIFY_CLIENT_SECRET", "wrong-secret-value")
    monkeypatch.setenv("YOUTUBE_API_KEY", "wrong-key-value")
    try:
        report = sync()
    finally:
        server.stop()
    for source in ("spotify", "youtube"):
        run = report.runs[source]
        assert run.status == "stopped" and run.shows_ok == 0
        assert "wrong-" not in run.message
    assert "SPOTIFY_CLIENT_ID" in report.runs["spotify"].message
    assert "YOUTUBE_API_KEY" in report.runs["youtube"].message
    assert report.all_failed
    assert not SourceChannel.objects.exists() and not Episode.objects.exists()


def test_replay_rebuilds_records_without_calling_apis(replay_apis, test_data):
    server = serve_huberman(replay_apis, test_data)
    try:
        sync()
    finally:
        server.stop()
    before = sorted(SourceEpisode.objects.values_list("source", "external_id", "content_hash"))
    SourceEpisode.objects.all().delete()
    SourceChannel.objects.all().delete()
    Episode.objects.all().delete()
    Channel.objects.all().delete()

    report = replay_payloads()  # the server is gone: no API can answer
    assert not report.errors
    after = sorted(SourceEpisode.objects.values_list("source", "external_id", "content_hash"))
    assert after == before
    assert Channel.objects.count() == 2


def test_sources_file(tmp_path):
    path = tmp_path / "sources.toml"
    path.write_text(
        '[[shows]]\nname = "Huberman Lab"\nspotify_id = "79CkJF3UJTHFV8Dse3Oy0P"\n'
        "itunes_id = 1545953110\n"
    )
    (spec,) = load_sources_file(path)
    assert spec.itunes_id == "1545953110" and spec.wants("apple") and not spec.wants("rss")

    added = append_to_sources_file(
        path,
        [
            ShowSpec(name="Other", itunes_id="1545953110"),  # same id: already listed
            ShowSpec(name="New show", podcastindex_id="920666"),
        ],
    )
    assert [s.name for s in added] == ["New show"]
    assert [s.name for s in load_sources_file(path)] == ["Huberman Lab", "New show"]

    for text, message in [
        ("[[shows]]\nspotify_id = 'x'\n", "needs a `name`"),
        ("[[shows]]\nname = 'x'\nspotfy_id = 'y'\n", "unknown keys"),
        ("[[shows]]\nname = 'x'\n", "names no id"),
        ("shows = [", "not valid TOML"),
    ]:
        path.write_text(text)
        with pytest.raises(SourcesFileError, match=message):
            load_sources_file(path)
    with pytest.raises(SourcesFileError, match="does not exist"):
        load_sources_file(tmp_path / "missing.toml")
