"""The demo world as Spotify and Apple Podcasts present it: determinism and realistic drift."""

from __future__ import annotations

import json
import re
from datetime import date, timedelta

import pytest

from httpserver import ReplayApis
from podsight.demo import build_world, render_rss
from podsight.demo.apple_api import apple_demo_ids, build_apple_backend
from podsight.demo.spotify_api import base62_id, build_spotify_backends, spotify_demo_ids
from podsight.demo.world import Episode, World
from podsight.sources.apple import normalize as apple_normalize
from podsight.sources.keys import normalise_feed_url
from podsight.sources.rss.parser import parse_feed
from podsight.sources.spotify import SpotifyConnector
from podsight.sources.spotify.normalize import episode_kind
from podsight.sources.sync import ShowSpec

BASE62 = re.compile(r"^[0-9A-Za-z]{22}$")


@pytest.fixture(scope="module")
def world() -> World:
    return build_world()


def spotify_dump(world: World) -> str:
    backend, _ = build_spotify_backends(world)
    return json.dumps([backend.shows, backend.episodes], sort_keys=True)


def apple_dump(world: World) -> str:
    backend = build_apple_backend(world)
    return json.dumps([sorted(backend.collections.items()), sorted(backend.episodes.items())])


def test_renderings_are_deterministic(world: World) -> None:
    again = build_world()
    assert spotify_demo_ids(again) == spotify_demo_ids(world)
    assert apple_demo_ids(again) == apple_demo_ids(world)
    assert spotify_dump(again) == spotify_dump(world)
    assert apple_dump(again) == apple_dump(world)
    other = build_world(seed=43)
    assert spotify_dump(other) != spotify_dump(world)
    assert apple_dump(other) != apple_dump(world)


def test_spotify_has_most_but_not_all_shows(world: World) -> None:
    ids = spotify_demo_ids(world)
    assert len(world.shows) * 0.7 <= len(ids) < len(world.shows)
    assert all(BASE62.match(i) for i in ids.values())
    assert len(set(ids.values())) == len(ids)
    backend, accounts = build_spotify_backends(world)
    assert set(backend.shows) == set(ids.values())
    assert backend.accounts is accounts
    for slug, show_id in ids.items():
        show = backend.shows[show_id]
        assert show["publisher"] == world.show(slug).author
        assert show["name"].startswith(world.show(slug).title)
        assert show["total_episodes"] == len(backend.episodes[show_id])


def _pairs(world: World) -> list[tuple[Episode, dict]]:
    """(world episode, its Spotify episode) for every episode Spotify has."""
    backend, _ = build_spotify_backends(world)
    out = []
    for slug, show_id in spotify_demo_ids(world).items():
        served = {e["id"]: e for e in backend.episodes[show_id]}
        for ep in world.show(slug).episodes:
            key = base62_id(f"{world.seed}-spotify-episode-{slug}-{ep.index}")
            if key in served:
                out.append((ep, served[key]))
    return out


def test_spotify_differs_from_the_feeds_like_the_real_thing(world: World) -> None:
    backend, _ = build_spotify_backends(world)
    pairs = _pairs(world)
    total_rss = sum(len(world.show(s).episodes) for s in spotify_demo_ids(world))
    total_spotify = sum(len(eps) for eps in backend.episodes.values())
    missing = total_rss - len(pairs)
    extras = total_spotify - len(pairs)
    assert 0 < missing < total_rss * 0.1
    assert extras > 0
    retitled = [(ep.title, sp["name"]) for ep, sp in pairs if sp["name"] != ep.title]
    assert len(pairs) * 0.05 < len(retitled) < len(pairs) * 0.8
    assert any(" | " in new and " | " not in old for old, new in retitled)  # affixes
    assert any(len(new) < len(old) for old, new in retitled)  # numbering dropped
    deltas = [sp["duration_ms"] / 1000 - ep.duration_s for ep, sp in pairs]
    assert all(-45 <= d <= 181 for d in deltas)
    assert sum(30 <= d <= 181 for d in deltas) > len(pairs) * 0.1  # dynamic ads
    assert any(d < 0 for d in deltas)  # trimmed
    assert sum(d < 1 for d in deltas) > len(pairs) * 0.4  # most keep the file's length
    for ep, sp in pairs:
        assert sp["release_date_precision"] == "day"
        day = date.fromisoformat(sp["release_date"])
        assert abs(day - ep.published.date()) <= timedelta(days=2)
    shifted = sum(date.fromisoformat(sp["release_date"]) != ep.published.date() for ep, sp in pairs)
    assert 0 < shifted < len(pairs) * 0.5  # the publisher's local day, or a late ingest


def test_spotify_lists_newest_first(world: World) -> None:
    backend, _ = build_spotify_backends(world)
    for episodes in backend.episodes.values():
        dates = [e["release_date"] for e in episodes]
        assert dates == sorted(dates, reverse=True)


def test_demo_world_through_the_spotify_connector(world: World, replay_apis: ReplayApis) -> None:
    backend, accounts = build_spotify_backends(world)
    show_id = max(backend.episodes, key=lambda sid: len(backend.episodes[sid]))
    assert len(backend.episodes[show_id]) > 50
    replay_apis.serve(
        {"spotify": backend, "spotify-accounts": accounts},
        env={"SPOTIFY_CLIENT_ID": "demo", "SPOTIFY_CLIENT_SECRET": "demo"},
    )
    with SpotifyConnector.from_settings(cache=False) as connector:
        result = connector.fetch_show(ShowSpec(name="demo", spotify_id=show_id))
    assert [e.external_id for e in result.episodes] == [e["id"] for e in backend.episodes[show_id]]
    assert result.complete_shows == {show_id}
    for record, served in zip(result.episodes, backend.episodes[show_id], strict=True):
        assert record.data["title"] == served["name"]
        assert record.data["published_at"] == served["release_date"] + "T00:00:00+00:00"
        assert record.data["duration_s"] == round(served["duration_ms"] / 1000)


def test_trailers_are_told_by_their_spotify_titles(world: World) -> None:
    kinds = [(ep.episode_type, episode_kind(sp["name"])) for ep, sp in _pairs(world)]
    assert ("trailer", "trailer") in kinds
    assert all(kind == "episode" for world_type, kind in kinds if world_type != "trailer")


def test_apple_has_most_shows_with_their_feed_urls(world: World) -> None:
    ids = apple_demo_ids(world)
    assert len(world.shows) * 0.8 <= len(ids) < len(world.shows)
    backend = build_apple_backend(world)
    exact = 0
    for slug, cid in ids.items():
        show = world.show(slug)
        collection = backend.collections[int(cid)]
        assert collection["collectionName"] == show.title
        assert normalise_feed_url(collection["feedUrl"]) == normalise_feed_url(show.feed_url())
        exact += collection["feedUrl"] == show.feed_url()
        episodes = backend.episodes[int(cid)]
        newest = sorted(show.episodes, key=lambda e: e.published, reverse=True)[:200]
        assert [e.get("episodeGuid") for e in episodes] == [e.guid for e in newest]
        assert [e["episodeUrl"] for e in episodes] == [e.enclosure_url for e in newest]
        assert collection["trackCount"] == len(episodes)
    assert exact >= len(ids) * 0.75


def test_apple_feed_urls_follow_the_served_base_url(world: World) -> None:
    base = "http://127.0.0.1:8765/demo"
    backend = build_apple_backend(world, base_url=base)
    slug, cid = next(iter(apple_demo_ids(world).items()))
    show = world.show(slug)
    collection = backend.collections[int(cid)]
    assert normalise_feed_url(collection["feedUrl"]) == normalise_feed_url(show.feed_url(base))
    lookup = {"resultCount": 1, "results": [collection, *backend.episodes[int(cid)]]}
    result = apple_normalize(
        "lookup", {"id": cid, "entity": "podcastEpisode", "limit": 200}, lookup
    )
    assert result.shows[0].data["feed_url"] == collection["feedUrl"]
    # the RSS document served at that URL names the same feed
    clean = next(s for s in world.shows if s.slug in apple_demo_ids(world) and not s.breakage)
    feed = parse_feed(render_rss(clean, base_url=base), url=clean.feed_url(base))
    clean_collection = backend.collections[int(apple_demo_ids(world)[clean.slug])]
    assert normalise_feed_url(feed.channel.self_url) == normalise_feed_url(
        clean_collection["feedUrl"]
    )
