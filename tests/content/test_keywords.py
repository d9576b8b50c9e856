"""Keywords: YAKE in the episode's language, on real transcripts, without ad reads."""

from __future__ import annotations

from pathlib import Path

from analysis_corpus import changelog_text, seed_names, seed_text, text_passages, timed_passages

from podsight.content.keywords import DEFAULT_TOP, episode_keywords, extract_keywords, yake_language
from podsight.content.segments import Passage
from podsight.content.sponsors import detect_sponsors, sponsor_passage_nos


def test_language_tags_map_to_yake_lists():
    assert yake_language("en-US") == "en"
    assert yake_language("pt_BR") == "pt"
    assert yake_language("cs") == "cz"  # YAKE names Czech "cz"
    assert yake_language("") == "noLang"


def test_twiml_keywords_name_the_subject(test_data: Path):
    passages = timed_passages(1, test_data / "transcripts/twiml_whisper/twiml_500.vtt")
    words = [k["keyword"] for k in episode_keywords(passages, "en")]
    assert len(words) == DEFAULT_TOP
    assert "sparse expert models" in words and "language models" in words
    # Spoken fillers and near-duplicates of a better phrase are gone.
    assert not {"yeah", "gonna", "people", "models", "model"} & set(words)


def test_changelog_keywords(test_data: Path):
    text = changelog_text(test_data / "transcripts/changelog/ship-it-100.md")
    words = [k["keyword"] for k in extract_keywords(text, "en")]
    assert {"bluesky", "mastodon", "twitter"} <= set(words)


def test_deterministic_and_best_first(test_data: Path):
    text = changelog_text(test_data / "transcripts/changelog/the-changelog-600.md")
    first, second = extract_keywords(text, "en-us"), extract_keywords(text, "en-us")
    assert first == second
    assert [k["score"] for k in first] == sorted(k["score"] for k in first)  # lower is better


def test_ad_reads_are_left_out(test_data: Path):
    (name,) = [n for n in seed_names(test_data) if n.startswith("ANGELS_POSTCAST")]
    passages = text_passages(1, seed_text(test_data, name))
    skip = sponsor_passage_nos(detect_sponsors(passages))
    with_ads = {k["keyword"] for k in episode_keywords(passages, "en", top=30)}
    without = {k["keyword"] for k in episode_keywords(passages, "en", skip=skip, top=30)}
    assert any("monarch" in w or "supply" in w for w in with_ads), with_ads
    assert not any("monarch" in w or "supply" in w for w in without), without


def test_spanish_stop_words(test_data: Path):
    (name,) = [n for n in seed_names(test_data) if n.startswith("A_hombros")]
    passages = text_passages(1, seed_text(test_data, name))
    spanish = [k["keyword"] for k in episode_keywords(passages, "es")]
    assert spanish and not {"los", "las", "de", "con", "para"} & set(spanish)


def test_nothing_to_read():
    assert extract_keywords("   ", "en") == []
    assert episode_keywords([Passage(1, 1, 0, None, None, "ad")], "en", skip=[0]) == []
