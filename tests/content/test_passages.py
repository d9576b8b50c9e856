"""Cutting transcripts into passages and building them into the lake, incrementally."""

from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from passage_helpers import make_episode, store_segments

from podsight.content.passages import (
    MAX_S,
    MIN_S,
    WORDS_PER_MINUTE,
    build_passages,
    chunk_segments,
    notes_passage,
    read_passages,
    sentences,
)
from podsight.content.segments import Segment
from podsight.lake.tables import EMBEDDING_DIM

WORDS = st.sampled_from("the model learns a graph of podcasts and audio we ship code".split())
SENTENCE = (
    st.lists(WORDS, min_size=1, max_size=14)
    .map(lambda w: " ".join(w))
    .flatmap(lambda s: st.sampled_from([s + ".", s + "?", s + ",", s]))
)


@st.composite
def timed_segments(draw) -> list[Segment]:
    count = draw(st.integers(1, 80))
    clock = draw(st.floats(0, 100))
    speakers = draw(st.sampled_from([[""], ["Ann", "Bob"], ["Ann"]]))
    out = []
    for _ in range(count):
        text = " ".join(draw(st.lists(SENTENCE, min_size=1, max_size=3)))
        length = draw(st.floats(0.5, 20))
        gap = draw(st.floats(0, 3))
        out.append(
            Segment(clock + gap, clock + gap + length, draw(st.sampled_from(speakers)), text)
        )
        clock += gap + length
    return out


def _words(text: str) -> list[str]:
    return text.split()


def _without_overlap(passages) -> list[str]:
    """The passages' words with each passage's repeated lead (the previous passage's
    tail) taken off: the transcript's words once each."""
    out: list[str] = []
    for passage in passages:
        words = _words(passage.text)
        # The longest lead of this passage that is a tail of what came before.
        lead = 0
        for k in range(min(len(words), len(out)), 0, -1):
            if out[-k:] == words[:k]:
                lead = k
                break
        out.extend(words[lead:])
    return out


@settings(max_examples=150, deadline=None)
@given(timed_segments())
def test_timed_passages_are_in_order_cover_every_word_and_keep_their_lengths(segments):
    passages = chunk_segments(segments)
    assert passages
    assert [p.passage_no for p in passages] == list(range(len(passages)))
    for before, after in zip(passages, passages[1:], strict=False):
        assert before.start_s <= after.start_s  # times monotone
        assert before.end_s <= after.end_s
    for p in passages:
        assert p.start_s is not None and p.end_s is not None and p.start_s <= p.end_s
        assert p.end_s - p.start_s <= MAX_S + 1e-6  # never longer than the maximum
    # Every segment's text appears, in order (sentences may be split across passages).
    words = [w for s in segments for w in _words(s.text)]
    joined = " ".join(p.text for p in passages)
    for segment in segments:
        for part in sentences(segment.text):
            assert part in joined
    if len(passages) > 1:
        # Passages are at least MIN_S long except the last and those that hit MAX_S
        # before a clean cut could be made after MIN_S (then the cut is at MAX_S).
        for p in passages[:-1]:
            assert p.end_s - p.start_s >= MIN_S - 1e-6 or p.end_s - p.start_s >= MAX_S - 20.0
    # Every word once, in order, overlaps aside (a repeated lead may also match by chance,
    # which only shortens what is compared).
    rebuilt = _without_overlap(passages)
    assert len(rebuilt) <= len(words)
    assert set(rebuilt) <= set(words)


def test_cuts_fall_on_sentence_ends_or_speaker_turns():
    segments = []
    clock = 0.0
    for i in range(60):
        segments.append(
            Segment(clock, clock + 4, "Ann" if (i // 7) % 2 else "Bob", f"Sentence {i} here.")
        )
        clock += 4
    passages = chunk_segments(segments)
    for p in passages:
        assert re.search(r"[.!?]$", p.text)
        assert 30 <= p.end_s - p.start_s <= 60 or p is passages[-1]
    # A small overlap: each passage after the first repeats the previous one's last sentence.
    for before, after in zip(passages, passages[1:], strict=False):
        assert after.text.startswith(before.text.split(". ")[-1].rstrip("."))


def test_untimed_text_is_cut_by_words_without_times():
    paragraphs = [Segment(None, None, "Ann", " ".join(["Word"] * 30) + ".") for _ in range(20)]
    passages = chunk_segments(paragraphs)
    assert all(p.start_s is None and p.end_s is None for p in passages)
    # 30-60 s at 150 words a minute: 75-150 words (plus the repeated sentence).
    per_second = WORDS_PER_MINUTE / 60
    for p in passages[:-1]:
        assert MIN_S * per_second <= len(p.text.split()) <= MAX_S * per_second + 31


def test_a_run_on_sentence_is_split_at_the_maximum():
    long = Segment(0.0, 300.0, "", " ".join(f"w{i}" for i in range(750)))
    passages = chunk_segments([long])
    assert len(passages) == 5
    assert all(p.end_s - p.start_s <= MAX_S + 1e-6 for p in passages)
    assert " ".join(p.text for p in passages).split() == long.text.split()


def test_start_times_missing_here_and_there_are_filled_from_neighbours():
    segments = [
        Segment(0.0, None, "", "First one."),
        Segment(10.0, None, "", "Second one."),
        Segment(None, None, "", "Third one."),
        Segment(40.0, None, "", "Fourth."),
    ]
    (passage,) = chunk_segments(segments)
    assert passage.start_s == 0.0 and passage.end_s is not None and passage.end_s >= 40.0


def test_notes_passage():
    passage = notes_passage(7, "Episode title", "What it is about.")
    assert passage.kind == "notes" and passage.version == 0
    assert passage.text == "Episode title. What it is about."
    assert notes_passage(7, "", "") is None


@pytest.fixture
def home(monkeypatch, tmp_path):
    monkeypatch.setenv("PODSIGHT_HOME", str(tmp_path))
    return tmp_path


def _segments(topic: str, n: int = 30) -> list[Segment]:
    return [
        Segment(i * 5.0, i * 5.0 + 5, "Ann", f"We talk about {topic} in part {i}. It matters.")
        for i in range(n)
    ]


@pytest.mark.django_db
def test_build_is_incremental_and_keeps_superseded_versions(home):
    with_transcript = make_episode("Gardening")
    store_segments(with_transcript, _segments("tomatoes"))
    notes_only = make_episode("Chess openings", notes="The Sicilian defence explained.")
    make_episode("")  # no title, no notes, no transcript: nothing to embed

    first = build_passages()
    assert (first.built, first.notes, first.empty, first.current) == (2, 1, 1, 0)
    table = read_passages()
    assert table.num_rows == first.passages
    vectors = np.stack(table.column("vector").to_numpy(zero_copy_only=False))
    assert vectors.shape[1] == EMBEDDING_DIM
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    kinds = dict(
        zip(table.column("episode_id").to_pylist(), table.column("kind").to_pylist(), strict=True)
    )
    assert kinds[notes_only.pk] == "notes"

    again = build_passages()
    assert (again.built, again.passages, again.current) == (0, 0, 2)

    # A new transcript version: only that episode is cut again; the old version stays.
    store_segments(with_transcript, _segments("roses", 12))
    third = build_passages()
    assert third.built == 1 and third.built_pairs == [(with_transcript.pk, 2)]
    versions = set(read_passages().column("version").to_pylist())
    assert versions == {0, 1, 2}
    # A transcript without any text: the notes stand in, keyed by that version, once.
    silent = make_episode("Silence", notes="Nothing was said.")
    store_segments(silent, [Segment(0.0, 5.0, "", "   ")])
    assert build_passages().notes == 1
    assert build_passages().built == 0
    only = build_passages(episode_ids=[notes_only.pk])
    assert (only.episodes, only.built) == (1, 0)


def test_the_content_lock_is_reentrant_in_one_thread(home):
    import threading

    from podsight.content.passages import content_lock

    done = threading.Event()

    def nested() -> None:
        with content_lock(), content_lock():  # analyze holds it around build and update
            done.set()

    worker = threading.Thread(target=nested, daemon=True)
    worker.start()
    worker.join(10)
    assert done.is_set(), "a second content_lock() in the same thread blocked"
    with content_lock():  # released again: another holder gets it
        assert (home / "index" / "write.lock").exists()


@pytest.mark.django_db
def test_notes_passages_follow_the_current_title_and_notes(home):
    notes_only = make_episode("Chess", notes="The Sicilian defence.")
    silent = make_episode("Silence", notes="Nothing was said.")
    store_segments(silent, [Segment(0.0, 5.0, "", "   ")])  # notes stand in for v1
    build_passages()
    for episode, notes in ((notes_only, "The French defence."), (silent, "Rain, then wind.")):
        episode.description_text = notes
        episode.save()
    report = build_passages()
    assert sorted(report.built_pairs) == sorted([(notes_only.pk, 0), (silent.pk, 1)])
    table = read_passages()
    texts = dict(
        zip(table.column("episode_id").to_pylist(), table.column("text").to_pylist(), strict=True)
    )
    assert table.num_rows == 2  # replaced, not added beside the old text
    assert texts == {
        notes_only.pk: "Chess. The French defence.",
        silent.pk: "Silence. Rain, then wind.",
    }
    assert build_passages().built == 0
