"""Zero-shot topics: the taxonomy is Podcast Index's, and real episodes get sensible labels
(the int8 embedder, as the analysis uses it by default)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from analysis_corpus import changelog_text, seed_names, seed_text, text_passages, timed_passages

from podsight.content.embed import get_embedder
from podsight.content.sponsors import detect_sponsors, sponsor_passage_nos
from podsight.content.topics import CATEGORIES, MAX_TOPICS, episode_topics


def test_categories_are_podcast_index_taxonomy(test_data: Path):
    reference = json.loads(
        (test_data / "reference/podcastindex_categories.json").read_text(encoding="utf-8")
    )
    assert [(c["id"], c["name"]) for c in reference["Categories"]] == [
        (c.id, c.name) for c in CATEGORIES
    ]
    parents = {c.name for c in CATEGORIES}
    assert all(not c.parent or c.parent in parents or c.parent == "Religion" for c in CATEGORIES)
    assert all(c.facets for c in CATEGORIES)


def _topics(passages) -> list[str]:
    embedder = get_embedder()
    for p, v in zip(passages, embedder.encode([p.text for p in passages]), strict=True):
        p.vector = v
    skip = sponsor_passage_nos(detect_sponsors(passages))
    found = episode_topics(passages, skip=skip, embedder=embedder)
    assert len(found) <= MAX_TOPICS
    assert [t["score"] for t in found] == sorted((t["score"] for t in found), reverse=True)
    return [t["topic"] for t in found]


def _seed(test_data: Path, prefix: str):
    (name,) = [n for n in seed_names(test_data) if n.startswith(prefix)]
    return text_passages(1, seed_text(test_data, name))


@pytest.mark.parametrize(
    ("prefix", "first", "among"),
    [
        ("076_The_Mushroom_Murders", "True Crime", set()),
        ("The_Mystery_of_the_$8_Billion", "Cryptocurrency", {"Investing"}),
        ("Sharing_the_lessons_learned", "Garden", set()),
        ("Alphabet", "Investing", set()),
        ("ANGELS_POSTCAST", None, {"Baseball"}),
    ],
)
def test_seed_episodes_get_their_topic(test_data: Path, prefix, first, among):
    topics = _topics(_seed(test_data, prefix))
    if first:
        assert topics[0] == first, topics
    assert among <= set(topics), topics


def test_twiml_episodes(test_data: Path):
    folder = test_data / "transcripts/twiml_whisper"
    # #500 is about sparse expert language models; #100 about separating vocals from
    # recorded music with deep networks at Spotify (music first is right there).
    assert _topics(timed_passages(1, folder / "twiml_500.vtt"))[0] == "Technology"
    assert _topics(timed_passages(1, folder / "twiml_100.vtt"))[0] == "Music"


def test_changelog_episode_is_technology(test_data: Path):
    passages = text_passages(1, changelog_text(test_data / "transcripts/changelog/ship-it-100.md"))
    assert _topics(passages)[0] == "Technology"
