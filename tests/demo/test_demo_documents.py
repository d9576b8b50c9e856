"""The demo episodes' transcript and chapters documents, and the server hosting them."""

from __future__ import annotations

import json
import re
from collections import Counter
from html import unescape

import httpx
import pytest

from podsight.content.formats import parse_transcript
from podsight.content.passages import MAX_S, chunk_segments
from podsight.content.segments import Segment
from podsight.demo import build_world
from podsight.demo.apis import build_demo_api_server
from podsight.demo.documents import (
    CONTENT_TYPES,
    HostingBackend,
    category_of,
    episode_script,
    host_documents,
    render_chapters,
    render_transcript,
)
from podsight.demo.talk import TALK
from podsight.demo.world import World, language_topics
from podsight.sources.rss.fetch import (
    BlockedURLError,
    FetchRequest,
    fetch_feed,
    make_client,
    trusting,
)

FORMATS = ("vtt", "srt", "json", "html", "txt")


@pytest.fixture(scope="module")
def world() -> World:
    return build_world()


def _with_transcripts(world: World):
    return [(s, e) for s in world.shows for e in s.episodes if e.transcripts]


def _texts(fmt: str, body: str) -> list[str]:
    """The spoken words of a document, sentence by sentence (turn by turn for html/txt)."""
    if fmt == "json":
        return [seg["body"] for seg in json.loads(body)["segments"]]
    if fmt == "vtt":
        cues = body.split("\n\n")[1:]
        return [" ".join(c.strip().split("\n")[1:]).split(">", 1)[1] for c in cues if c.strip()]
    if fmt == "srt":
        return [c.strip().split("\n", 2)[2].replace("\n", " ") for c in body.split("\n\n")
                if c.strip()]  # fmt: skip
    if fmt == "html":
        return [unescape(p) for p in re.findall(r"<p>(.*?)</p>", body, re.S)]
    return [p.split(": ", 1)[1] for p in body.strip().split("\n\n")]


def test_same_seed_same_bytes_other_seed_other_words(world: World) -> None:
    again = build_world()
    other = build_world(7)
    for (show, ep), (show2, ep2) in zip(
        _with_transcripts(world)[:40], _with_transcripts(again)[:40], strict=True
    ):
        for fmt in FORMATS:
            assert render_transcript(episode_script(world, show, ep), fmt) == render_transcript(
                episode_script(again, show2, ep2), fmt
            )
    words = {line.text for s, e in _with_transcripts(world) for line in
             episode_script(world, s, e).lines}  # fmt: skip
    other_words = {line.text for s, e in _with_transcripts(other) for line in
                   episode_script(other, s, e).lines}  # fmt: skip
    assert words != other_words


def test_every_format_carries_the_same_words(world: World) -> None:
    for show, ep in _with_transcripts(world)[::7]:
        script = episode_script(world, show, ep)
        sentences = [line.text for line in script.lines]
        for fmt in ("json", "vtt"):
            assert _texts(fmt, render_transcript(script, fmt).decode()) == sentences, fmt
        # SRT has no speaker field: the name opens the first cue of each turn.
        turns = [None] + [line.turn for line in script.lines]
        named = [
            f"{line.speaker}: {line.text}" if line.turn != turns[i] else line.text
            for i, line in enumerate(script.lines)
        ]
        assert _texts("srt", render_transcript(script, "srt").decode()) == named
        joined = " ".join(sentences)
        for fmt in ("html", "txt"):
            assert " ".join(_texts(fmt, render_transcript(script, fmt).decode())) == joined, fmt


def test_the_transcript_reader_reads_every_format_back(world: World) -> None:
    """What content.transcripts stores: the script's words, speakers and times."""
    for show, ep in _with_transcripts(world)[::5]:
        script = episode_script(world, show, ep)
        words = " ".join(line.text for line in script.lines)
        for fmt in FORMATS:
            document = render_transcript(script, fmt)
            parsed = parse_transcript(document, media_type=CONTENT_TYPES[fmt])
            assert parsed.format == {"txt": "text"}.get(fmt, fmt)
            assert not parsed.warnings, (fmt, parsed.warnings)
            assert " ".join(seg.text for seg in parsed.segments) == words, fmt
            if fmt in ("vtt", "srt", "json"):
                assert [(seg.speaker, seg.start_s, seg.end_s) for seg in parsed.segments] == [
                    (line.speaker, line.start_s, line.end_s) for line in script.lines
                ], fmt
            elif fmt == "html":
                assert {seg.speaker for seg in parsed.segments} == {
                    line.speaker for line in script.lines
                }


def test_documents_have_the_formats_marks(world: World) -> None:
    show, ep = next((s, e) for s, e in _with_transcripts(world) if len(s.hosts) > 1)
    script = episode_script(world, show, ep)
    vtt = render_transcript(script, "vtt").decode()
    assert vtt.startswith("WEBVTT\n\n")
    assert {m for m in re.findall(r"<v ([^>]+)>", vtt)} >= {h.name for h in show.hosts[:2]}
    assert re.search(r"^\d\d:\d\d:\d\d\.\d{3} --> \d\d:\d\d:\d\d\.\d{3}$", vtt, re.M)
    srt = render_transcript(script, "srt").decode()
    assert srt.startswith("1\n00:00:") and re.search(r"\d\d:\d\d:\d\d,\d{3} --> ", srt)
    segments = json.loads(render_transcript(script, "json"))["segments"]
    assert all(set(s) == {"speaker", "startTime", "endTime", "body"} for s in segments)
    html = render_transcript(script, "html").decode()
    assert re.search(r"<cite>[^<]+:</cite>\n<time>\d+:\d\d</time>\n<p>", html)
    txt = render_transcript(script, "txt").decode()
    assert txt.startswith(f"{script.lines[0].speaker}: ")


def test_times_spread_over_the_episode(world: World) -> None:
    for show, ep in _with_transcripts(world):
        lines = episode_script(world, show, ep).lines
        assert 10 <= len(lines) <= 40
        assert lines[0].start_s < 20
        assert all(a.end_s <= b.start_s for a, b in zip(lines, lines[1:], strict=False))
        assert all(line.start_s < line.end_s for line in lines)
        assert 0.8 * ep.duration_s <= lines[-1].end_s <= ep.duration_s


def test_words_fit_the_show_language_topic_guest_and_sponsors(world: World) -> None:
    english = {line for t in ("welcome", "outro") for line in [getattr(TALK["en"], t)]}
    assert english
    for show, ep in _with_transcripts(world):
        script = episode_script(world, show, ep)
        text = " ".join(line.text for line in script.lines)
        talk = TALK[show.language]
        assert script.topic in show.topics and script.topic in text
        assert show.title in text and show.hosts[0].name in text
        guest = next((p.name for p in ep.persons if p.role == "guest"), None)
        if guest:
            assert guest in {line.speaker for line in script.lines} and guest in text
        block_titles = {b.title for b in talk.blocks[category_of(show)]}
        assert {fact.title for fact in script.facts} <= block_titles
        for fact in script.facts:
            assert fact.values["place"] in fact.second and fact.second in text
        if show.language != "en":
            assert "Welcome to" not in text and "brought to you by" not in text
        for sponsor in show.sponsors:
            assert f"{sponsor.domain}/podcast" in text and sponsor.code in text


def test_ad_reads_repeat_word_for_word_across_a_shows_episodes(world: World) -> None:
    sponsored = [s for s in world.shows if s.sponsors and any(e.transcripts for e in s.episodes)]
    assert sponsored and not all(s.sponsors for s in world.shows)
    assert {s.language for s in sponsored} > {"en"}
    for show in sponsored:
        reads = Counter(
            line.text
            for ep in show.episodes
            if ep.transcripts
            for line in episode_script(world, show, ep).lines
            if line.kind == "ad"
        )
        episodes = sum(1 for e in show.episodes if e.transcripts)
        assert len(reads) == len(show.sponsors)
        assert all(count >= episodes for count in reads.values())
    english = next(s for s in sponsored if s.language == "en")
    read = next(iter(Counter(
        line.text for ep in english.episodes if ep.transcripts
        for line in episode_script(world, english, ep).lines if line.kind == "ad"
    )))  # fmt: skip
    assert read.startswith("This episode is brought to you by ") and "use code" in read


def test_every_language_has_blocks_for_each_of_its_categories() -> None:
    for code in ("en", "es", "de", "fr", "pt", "sv"):
        assert set(TALK[code].blocks) == set(language_topics(code)), code
        assert all(len(blocks) >= 3 for blocks in TALK[code].blocks.values())


def test_chapters_open_where_the_talk_turns(world: World) -> None:
    shows = [(s, e) for s in world.shows for e in s.episodes if e.chapters_url]
    assert shows
    for show, ep in shows[::5]:
        script = episode_script(world, show, ep)
        doc = json.loads(render_chapters(script, show=show, episode=ep))
        assert doc["version"] == "1.2.0" and doc["title"] == ep.title
        starts = [c["startTime"] for c in doc["chapters"]]
        assert starts[0] == 0 and starts == sorted(starts) and len(starts) >= 3
        line_starts = {round(line.start_s, 1) for line in script.lines}
        assert set(starts[1:]) <= line_starts
        assert doc["chapters"][0]["title"] == TALK[show.language].intro_chapter
        assert [c["title"] for c in doc["chapters"][1:]] == [f.title for f in script.facts]


def test_the_demo_server_hosts_exactly_the_linked_documents(world: World) -> None:
    local = build_world()
    server = build_demo_api_server(local)
    host_documents(local, server.base_url)
    with server, httpx.Client() as client:
        links = [
            (t.url, t.url.rsplit(".", 1)[1]) for e in local.episodes for t in e.transcripts
        ] + [(e.chapters_url, "chapters") for e in local.episodes if e.chapters_url]
        assert all(url.startswith(server.base_url + "/hosting/") for url, _ in links)
        for url, fmt in links[::23]:
            answer = client.get(url)
            assert answer.status_code == 200, url
            assert answer.headers["content-type"] == CONTENT_TYPES[fmt]
            etag, modified = answer.headers["etag"], answer.headers["last-modified"]
            assert client.get(url, headers={"If-None-Match": etag}).status_code == 304
            assert client.get(url, headers={"If-Modified-Since": modified}).status_code == 304
            changed = client.get(url, headers={"If-None-Match": '"other"'})
            assert changed.status_code == 200 and changed.content == answer.content
        url, fmt = next((u, f) for u, f in links if f == "vtt")
        assert client.get(url[:-3] + "xyz").status_code == 404
        assert client.get(server.base_url + "/hosting/transcripts/nope/1.vtt").status_code == 404
    assert HostingBackend(world).paths() == HostingBackend(local).paths()


def test_the_fetcher_trusts_only_the_origin_it_is_told() -> None:
    local = build_world(shows=4)
    server = build_demo_api_server(local)
    host_documents(local, server.base_url)
    url = next(t.url for e in local.episodes for t in e.transcripts)
    with server, make_client() as client:
        refused = fetch_feed(client, FetchRequest(url), allow_private=False)
        assert isinstance(refused.error, BlockedURLError)
        with trusting(server.base_url):
            fetched = fetch_feed(client, FetchRequest(url), allow_private=False)
            assert fetched.error is None and fetched.content
            other_port = re.sub(r":\d+/", ":9/", url)
            elsewhere = fetch_feed(client, FetchRequest(other_port), allow_private=False)
            assert isinstance(elsewhere.error, BlockedURLError)
        again = fetch_feed(client, FetchRequest(url), allow_private=False)
        assert isinstance(again.error, BlockedURLError)


def test_passages_cut_from_a_demo_transcript_keep_to_its_parts(world: World) -> None:
    """The script leaves stretches out between its parts; a passage never spans one (an
    overlap carried across it would: a passage "at 0:24" holding words said at 19:03)."""
    for show, ep in _with_transcripts(world)[::4]:
        script = episode_script(world, show, ep)
        segments = [Segment(x.start_s, x.end_s, x.speaker, x.text) for x in script.lines]
        passages = chunk_segments(segments)
        assert 4 <= len(passages) <= 8
        for passage in passages:
            assert passage.end_s - passage.start_s <= MAX_S
        firsts = {fact.first for fact in script.facts}
        opening = [p for p in passages if any(first in p.text for first in firsts)]
        assert len(opening) == len(firsts)  # each block's statement in one passage, once
