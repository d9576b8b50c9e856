"""The seeded demo world and its RSS rendering: determinism, realism, and deliberate breakage."""

from __future__ import annotations

import dataclasses
import re
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from podsight.demo import (
    BREAKAGES,
    MALFORMED_BREAKAGES,
    Show,
    World,
    build_world,
    render_rss,
    write_rss_feeds,
)
from podsight.demo.world import (
    EPOCH,
    PODCAST_NS,
    PODCAST_NS_LEGACY,
    podcast_guid_for,
)

NS = {
    "itunes": "http://www.itunes.com/dtds/podcast-1.0.dtd",
    "atom": "http://www.w3.org/2005/Atom",
}
STRICT_RFC822 = re.compile(
    r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) "
    r"\d{4} \d{2}:\d{2}:\d{2} ([+-]\d{4}|GMT)$"
)


def _strict(data: bytes) -> etree._Element:
    parser = etree.XMLParser(recover=False, resolve_entities=False, no_network=True)
    return etree.fromstring(data, parser)


def _seconds(text: str) -> int:
    total = 0
    for part in text.split(":"):
        total = total * 60 + int(part)
    return total


def _only(world: World, kind: str) -> Show:
    (show,) = [s for s in world.shows if kind in s.breakage]
    return show


@pytest.fixture(scope="module")
def world() -> World:
    return build_world()


@pytest.fixture(scope="module")
def feeds(world: World, tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    paths = write_rss_feeds(world, tmp_path_factory.mktemp("feeds"))
    return {p.stem: p.read_bytes() for p in paths}


def test_same_seed_is_byte_identical_and_other_seed_differs(
    feeds: dict[str, bytes], tmp_path: Path
) -> None:
    again = {p.stem: p.read_bytes() for p in write_rss_feeds(build_world(42), tmp_path / "a")}
    assert again == feeds
    other = {p.stem: p.read_bytes() for p in write_rss_feeds(build_world(7), tmp_path / "b")}
    assert other != feeds


def test_counts_in_range(world: World, feeds: dict[str, bytes]) -> None:
    assert len(world.shows) == len(feeds) == 24
    assert len({s.slug for s in world.shows}) == 24
    for show in world.shows:
        assert 8 <= len(show.episodes) <= 120, show.slug
        assert [e.published for e in show.episodes] == sorted(e.published for e in show.episodes)
        assert all(e.published <= show.last_build <= EPOCH for e in show.episodes)
        assert all(e.published.microsecond == 0 for e in show.episodes)
        for ep in show.episodes:
            if ep.episode_type == "trailer":
                assert 60 <= ep.duration_s <= 300
            else:
                assert 300 <= ep.duration_s <= 3 * 3600
            # bytes ≈ duration × bitrate (plus ID3 overhead)
            expected = ep.duration_s * show.bitrate_kbps * 125
            assert expected < ep.enclosure_length < expected + 500_000
        assert len({e.enclosure_url for e in show.episodes}) == len(show.episodes)
        guids = [e.guid for e in show.episodes if e.guid is not None]
        assert len(set(guids)) == len(guids)


def test_every_breakage_occurs_exactly_once(world: World) -> None:
    kinds = Counter(k for s in world.shows for k in s.breakage)
    assert kinds == Counter(BREAKAGES)
    assert all(len(s.breakage) <= 1 for s in world.shows)


def test_well_formed_feeds_parse_strictly_and_match_the_world(
    world: World, feeds: dict[str, bytes]
) -> None:
    for show in world.shows:
        if MALFORMED_BREAKAGES & set(show.breakage):
            continue
        root = _strict(feeds[show.slug])
        channel = root.find("channel")
        assert root.tag == "rss" and channel is not None
        self_link = channel.find("atom:link[@rel='self']", NS)
        assert self_link is not None
        assert self_link.get("href") == f"https://demo.podsight.invalid/feeds/{show.slug}.xml"
        assert channel.findtext("title") == show.title
        items = channel.findall("item")
        assert len(items) == len(show.episodes)
        by_url = {e.enclosure_url: e for e in show.episodes}
        for item in items:
            enclosure = item.find("enclosure")
            assert enclosure is not None
            ep = by_url[enclosure.get("url")]
            assert int(enclosure.get("length")) == ep.enclosure_length
            assert enclosure.get("type") in ("audio/mpeg", "audio/x-m4a")
            assert _seconds(item.findtext("itunes:duration", namespaces=NS)) == ep.duration_s
            assert item.findtext("guid") == ep.guid
            assert item.findtext("itunes:episodeType", namespaces=NS) == ep.episode_type
            ns = show.style.podcast_ns
            if ns:
                transcripts = item.findall(f"{{{ns}}}transcript")
                assert [t.get("type") for t in transcripts] == [t.mime_type for t in ep.transcripts]
                assert all(t.get("language") for t in transcripts)


def test_malformed_feeds_fail_strict_parsing(world: World, feeds: dict[str, bytes]) -> None:
    for show in world.shows:
        if MALFORMED_BREAKAGES & set(show.breakage):
            with pytest.raises(etree.XMLSyntaxError):
                _strict(feeds[show.slug])


def test_breakages_look_like_the_real_thing(world: World, feeds: dict[str, bytes]) -> None:
    data = feeds[_only(world, "preamble").slug]
    assert data.startswith(b"<br />\n<b>Warning</b>:") and b"\n<?xml version=" in data

    data = feeds[_only(world, "undefined_entity").slug]
    assert b"&hellip;" in data and b"&nbsp;" in data and b"<!DOCTYPE" not in data

    data = feeds[_only(world, "unbound_prefix").slug]
    assert b"<podcast:" in data and b"xmlns:podcast" not in data

    show = _only(world, "truncated")
    data = feeds[show.slug]
    whole = render_rss(dataclasses.replace(show, breakage=[]))
    assert whole.startswith(data) and len(data) < len(whole) and b"</rss>" not in data

    data = feeds[_only(world, "not_a_feed").slug]
    assert data.startswith(b"<!DOCTYPE html>") and b"<rss" not in data

    show = _only(world, "latin1")
    data = feeds[show.slug]
    assert data.startswith(b'<?xml version="1.0" encoding="ISO-8859-1"?>')
    assert any(b > 0x7F for b in data)
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    assert _strict(data).findtext("channel/title") == show.title

    bad = _only(world, "bad_date")
    for show in world.shows:
        if show.breakage and show.breakage[0] in ("not_a_feed", "truncated", "bad_date"):
            continue
        dates = re.findall(rb"<pubDate>([^<]*)</pubDate>", feeds[show.slug])
        assert dates and all(STRICT_RFC822.match(d.decode()) for d in dates), show.slug
    dates = re.findall(rb"<pubDate>([^<]*)</pubDate>", feeds[bad.slug])
    assert dates and not any(STRICT_RFC822.match(d.decode()) for d in dates)


def test_variety(world: World, feeds: dict[str, bytes]) -> None:
    shows = world.shows
    assert {s.language for s in shows} == {"en", "es", "de", "fr", "pt", "sv"}
    assert Counter(s.language for s in shows)["en"] >= len(shows) // 2
    assert len({c for s in shows for c in s.categories}) >= 8
    assert any(len(c) == 2 for s in shows for c in s.categories)
    assert {s.style.podcast_ns for s in shows} >= {PODCAST_NS, PODCAST_NS_LEGACY, None}
    assert any(s.declares_podcast_guid for s in shows)
    assert any(s.style.podcast_ns and not s.declares_podcast_guid for s in shows)
    assert any(s.funding for s in shows) and not all(s.funding for s in shows)
    assert {s.show_type for s in shows} == {"episodic", "serial"}
    assert len({s.style.duration_format for s in shows}) >= 3
    episodes = world.episodes
    assert {e.episode_type for e in episodes} == {"full", "trailer", "bonus"}
    assert {e.enclosure_type for e in episodes} == {"audio/mpeg", "audio/x-m4a"}
    assert any(e.explicit for e in episodes) and not all(e.explicit for e in episodes)
    assert any(p.role == "guest" for e in episodes for p in e.persons)
    assert any(e.chapters_url for e in episodes)
    assert all("<p>" in e.description_html and "<a href=" in e.description_html for e in episodes)
    durations = [e.duration_s for e in episodes if e.episode_type == "full"]
    assert min(durations) < 15 * 60 and max(durations) > 90 * 60


def test_guids_transcripts_and_podcast_guid(world: World) -> None:
    episodes = world.episodes
    assert any(s.episodes and all(e.guid is None for e in s.episodes) for s in world.shows)
    assert 0 < sum(e.guid is None for e in episodes) < len(episodes) // 4
    share = sum(bool(e.transcripts) for e in episodes) / len(episodes)
    assert 0.15 < share < 0.85
    types = {t.mime_type for e in episodes for t in e.transcripts}
    timed = {"text/vtt", "application/x-subrip", "application/json", "text/html"}
    assert types == timed | {"text/plain"}
    # A plain-text copy is only ever listed after a timed format, never alone.
    assert all(e.transcripts[0].mime_type in timed for e in episodes if e.transcripts)
    # Example from the Podcasting 2.0 spec for podcast:guid.
    assert podcast_guid_for("https://mp3s.nashownotes.com/pc20rss.xml/") == (
        "917393e3-1b1e-5cef-ace4-edaa54e1f810"
    )


@settings(max_examples=8, deadline=None)
@given(seed=st.integers(0, 2**32), shows=st.integers(1, 16))
def test_invariants_hold_for_any_seed(seed: int, shows: int) -> None:
    world = build_world(seed, shows)
    assert len(world.shows) == shows
    kinds = [k for s in world.shows for k in s.breakage]
    assert len(kinds) == len(set(kinds)) <= shows // 2
    if shows >= 4:
        assert {"not_a_feed", "truncated"} <= set(kinds)
    for show in world.shows:
        assert len(show.episodes) >= 8
        if not MALFORMED_BREAKAGES & set(show.breakage):
            _strict(render_rss(show, base_url="http://localhost:8000/"))
