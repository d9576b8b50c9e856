"""`podsight discover`: shows found on Podcast Index and Apple become records and
entries of the sources file; RSS-keyed ones link to the feed's channel."""

from __future__ import annotations

import pytest

from podsight.demo import build_world
from podsight.demo.apis import DEMO_CREDENTIALS, DEMO_RATE_LIMITS
from podsight.demo.apple_api import build_apple_backend
from podsight.demo.podcastindex_api import build_podcastindex_backend
from podsight.sources.discover import discover_search, discover_trending
from podsight.sources.models import SourceChannel
from podsight.sources.sync import load_sources_file

pytestmark = pytest.mark.django_db


@pytest.fixture
def world_apis(replay_apis, api_home):
    world = build_world(seed=42, shows=24)
    replay_apis.serve(
        {"podcastindex": build_podcastindex_backend(world), "itunes": build_apple_backend(world)},
        env={**DEMO_CREDENTIALS, **DEMO_RATE_LIMITS},
    )
    return world, api_home / "sources.toml"


def test_trending_adds_shows_once(world_apis):
    world, sources_file = world_apis
    report = discover_trending(sources_file, limit=5)
    assert not report.errors and not report.skipped
    assert 0 < len(report.found) <= 5
    assert {s.source for s in report.found} == {"podcastindex"}
    listed = load_sources_file(sources_file)
    assert len(listed) == len(report.added) == len(report.found)
    assert all(spec.podcastindex_id and spec.rss_url for spec in listed)
    feed_urls = {show.feed_url() for show in world.shows}
    assert {spec.rss_url for spec in listed} <= feed_urls
    assert SourceChannel.objects.filter(source="podcastindex").count() == len(report.found)
    # Discovery lists shows; their episodes come with the next sync.
    assert not SourceChannel.objects.filter(episodes__isnull=False).exists()

    again = discover_trending(sources_file, limit=5)
    assert again.added == [] and len(load_sources_file(sources_file)) == len(listed)


def test_search_uses_apple_and_skips_unconfigured_sources(world_apis, monkeypatch):
    world, sources_file = world_apis
    monkeypatch.delenv("PODCASTINDEX_API_KEY")
    show = world.shows[0]
    term = show.title.split()[-1]
    report = discover_search(term, sources_file, limit=10)
    assert "PODCASTINDEX_API_KEY" in report.skipped["podcastindex"]
    assert report.found and {s.source for s in report.found} == {"apple"}
    assert any(term.lower() in s.data["title"].lower() for s in report.found)
    assert all(spec.itunes_id for spec in load_sources_file(sources_file))
