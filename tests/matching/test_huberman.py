"""The first seed's real Huberman Lab data: Spotify show ↔ YouTube channel, 20 episode pairs.

The records come in through the real connectors from the local API server (as in
``tests/sources/test_sync.py``); nothing tells the matcher they belong together.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.sources.test_sync import HUBERMAN, serve_huberman

from podsight.catalog.models import Channel, Episode
from podsight.catalog.services import resolve_channel
from podsight.matching.run import run_match
from podsight.sources.models import SourceChannel, SourceEpisode

pytestmark = pytest.mark.django_db


def _truth(test_data: Path) -> dict[str, str]:
    """Spotify episode id → YouTube video id, paired by hand from the seed files."""
    seed = test_data / "seeds" / "youtubeAPI"
    spotify = json.loads((seed / "spotify_episode.json").read_text())
    videos = json.loads((seed / "videos.json").read_text())
    # Same release day on both platforms (checked: one episode per day in this sample).
    by_day = {v["published_at"][:10]: v["video_id"] for v in videos}
    assert len(by_day) == 20
    return {e["id"]: by_day[e["release_date"]] for e in spotify}


def test_huberman_channels_and_all_20_episodes_pair_up(replay_apis, test_data):
    from podsight.sources.sync import sync_shows

    server = serve_huberman(replay_apis, test_data)
    try:
        sync_shows([HUBERMAN])
    finally:
        server.stop()
    spotify = SourceChannel.objects.get(source="spotify")
    youtube = SourceChannel.objects.get(source="youtube")
    assert spotify.channel_id != youtube.channel_id  # the sync alone does not pair them
    youtube_channel_before = youtube.channel_id

    report = run_match()

    spotify.refresh_from_db()
    youtube.refresh_from_db()
    assert report.channels_linked == 1 and report.episodes_linked == 20
    assert spotify.channel_id == youtube.channel_id
    assert youtube.link_method == "fuzzy" and youtube.link_confidence > 0.9
    assert "20 of 20 episodes pair up" in youtube.link_explanation
    assert resolve_channel(youtube_channel_before).pk == spotify.channel_id  # old id resolves
    assert Channel.objects.alive().count() == 1

    truth = _truth(test_data)
    pairs = {}
    for record in SourceEpisode.objects.filter(source="spotify"):
        others = SourceEpisode.objects.filter(episode_id=record.episode_id, source="youtube")
        assert others.count() == 1, record.data["title"]
        pairs[record.external_id] = others.get().external_id
    assert pairs == truth  # all 20 found, none wrong
    moved = SourceEpisode.objects.filter(source="youtube")
    assert all(r.link_method == "fuzzy" and r.link_confidence >= 0.95 for r in moved)
    assert Episode.objects.alive().filter(channel_id=spotify.channel_id).count() == 20

    again = run_match()  # nothing new: nothing changes
    assert (again.channels_linked, again.episodes_linked) == (0, 0)
