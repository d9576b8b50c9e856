"""Chapters: the Podcasting 2.0 chapters documents of the corpus, inline Podlove chapters,
fetching through the safe fetcher, and automatic chapters at a real change of subject."""

from __future__ import annotations

from pathlib import Path

import pytest
from analysis_corpus import seed_names, seed_text, text_passages

from httpserver import Reply, RouteServer
from podsight.content.chapters import (
    MIN_CHAPTER_S,
    auto_chapters,
    feed_chapters,
    parse_chapters_json,
)
from podsight.content.embed import get_embedder
from podsight.content.segments import Passage
from podsight.errors import InputError
from podsight.sources.rss.fetch import BlockedURLError, HTTPStatusError


@pytest.fixture
def documents(test_data: Path) -> Path:
    return test_data / "chapters/podcast-namespace"


def test_the_namespace_example(documents: Path):
    chapters = parse_chapters_json((documents / "example.json").read_bytes())
    assert [(c["start_s"], c["title"]) for c in chapters] == [
        (0.0, "Intro"), (168.0, "Hearing Aids"), (260.0, "Progress Report"),
        (410.0, "Namespace"), (3990.0, "Just Break Up"), (4600.0, "Donations"),
        (5510.0, "The Big Players"), (5854.0, "Spread the Word"), (6089.0, "Outro"),
    ]  # fmt: skip
    assert chapters[3]["url"] == "https://github.com/Podcastindex-org/podcast-namespace"
    assert chapters[1]["img"] == "https://example.com/images/hearing_aids.jpg"


def test_the_complex_example_leaves_out_what_is_not_in_the_table_of_contents(documents: Path):
    chapters = parse_chapters_json((documents / "exampleComplex.json").read_bytes())
    starts = [c["start_s"] for c in chapters]
    assert 4826.0 not in starts  # "toc": false (a location marker, no title)
    assert 4200.0 in starts  # a song with a value block stays
    assert starts == sorted(starts) and len(chapters) == 10


@pytest.mark.parametrize(
    "body", [b"{", b"[]", b'{"version": "1.2.0"}', b'{"chapters": "no"}', b"\xff\xfe"]
)
def test_not_a_chapters_document(body: bytes):
    with pytest.raises(InputError):
        parse_chapters_json(body)


def test_bad_chapters_are_skipped():
    body = b'{"chapters": [{"startTime": "x"}, {"title": "no start"}, {"startTime": 5}, 3]}'
    assert parse_chapters_json(body) == [
        {"start_s": 5.0, "end_s": None, "title": "", "url": "", "img": ""}
    ]


def test_inline_podlove_chapters_need_no_fetch():
    reference = {"url": None, "type": None, "inline": [[90.5, "Second", None], [0, "First", "h"]]}
    assert [(c["start_s"], c["title"], c["url"]) for c in feed_chapters(reference)] == [
        (0.0, "First", "h"), (90.5, "Second", ""),
    ]  # fmt: skip
    assert feed_chapters(None) is None
    assert feed_chapters({"url": None, "type": None, "inline": []}) is None


@pytest.mark.network
def test_fetched_through_the_safe_fetcher(
    documents: Path, local_server: RouteServer, monkeypatch: pytest.MonkeyPatch
):
    body = (documents / "example.json").read_bytes()
    local_server.routes["/ch.json"] = lambda request: Reply(
        200, body, {"Content-Type": "application/json+chapters"}
    )
    local_server.routes["/gone.json"] = lambda request: Reply(404, b"", {})
    url = local_server.url("/ch.json")
    # The SSRF guard: a loopback address is refused unless private addresses are allowed.
    monkeypatch.delenv("PODSIGHT_ALLOW_PRIVATE_URLS", raising=False)
    with pytest.raises(BlockedURLError):
        feed_chapters({"url": url, "type": "application/json+chapters", "inline": []})
    monkeypatch.setenv("PODSIGHT_ALLOW_PRIVATE_URLS", "1")
    chapters = feed_chapters({"url": url, "type": "application/json+chapters", "inline": []})
    assert len(chapters) == 9 and chapters[-1]["title"] == "Outro"
    with pytest.raises(HTTPStatusError):
        feed_chapters({"url": local_server.url("/gone.json"), "inline": []})


def _timed(passages: list[Passage], offset: int) -> list[Passage]:
    return [
        Passage(1, 1, offset + i, (offset + i) * 45.0, (offset + i + 1) * 45.0, p.text)
        for i, p in enumerate(passages)
    ]


def test_automatic_chapters_at_a_change_of_subject(test_data: Path):
    """Eight passages of a market-gardening interview, then eight of a baseball recap (two
    real transcripts back to back): a boundary where the subject changes."""
    names = seed_names(test_data)
    (garden,) = [n for n in names if n.startswith("Sharing_the_lessons")]
    (baseball,) = [n for n in names if n.startswith("ANGELS_POSTCAST")]
    first = _timed(text_passages(1, seed_text(test_data, garden))[6:14], 0)
    second = _timed(text_passages(1, seed_text(test_data, baseball))[2:10], 8)
    passages = first + second
    for p, v in zip(passages, get_embedder().encode([p.text for p in passages]), strict=True):
        p.vector = v
    chapters = auto_chapters(passages, "en")
    starts = [c["passages"][0] for c in chapters]
    # The change of show is a boundary; each part may have one more shift of its own.
    assert starts[0] == 0 and 8 in starts and len(chapters) <= 4, chapters
    assert chapters[starts.index(8)]["start_s"] == 8 * 45.0
    assert all(c["end_s"] - c["start_s"] >= MIN_CHAPTER_S for c in chapters)
    assert all(c["title"] and c["title"] == ", ".join(c["keywords"]) for c in chapters)
    # Untimed passages: the minimum is counted in passages.
    untimed = [Passage(1, 1, p.passage_no, None, None, p.text, vector=p.vector) for p in passages]
    assert 8 in [c["passages"][0] for c in auto_chapters(untimed, "en")]


def test_no_vectors_no_chapters():
    assert auto_chapters([Passage(1, 1, 0, 0.0, 30.0, "text")], "en") == []
