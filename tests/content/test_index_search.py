"""The passage index (exact and usearch, kept in step incrementally) and hybrid search."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import numpy as np
import pytest
from passage_helpers import make_episode, store_segments

from podsight.content import index as search_index
from podsight.content.index import load_snapshot, read_manifest, update_index
from podsight.content.passages import build_passages
from podsight.content.search import InvalidSearch, deep_link, search
from podsight.content.segments import Segment

pytestmark = pytest.mark.django_db

TOPICS = {
    "bees": "Honey bees dance to tell the hive where the flowers are. The waggle dance "
    "encodes distance and direction.",
    "rust": "The borrow checker in Rust stops two parts of a program from changing the same "
    "memory at once.",
    "bread": "Sourdough needs a starter of wild yeast, fed with flour and water every day "
    "before you bake.",
    "volcano": "Magma rises through the crust and erupts as lava; the ash cloud grounds "
    "aeroplanes for days.",
}


def _transcript(topic: str, filler: int = 20) -> list[Segment]:
    """A timed transcript talking of small things, with ``topic`` said at 120 s."""
    out = [
        Segment(i * 6.0, i * 6.0 + 6, "Host", f"Thanks for listening, part {i}.")
        for i in range(filler)
    ]
    out[20] = Segment(120.0, 126.0, "Guest", TOPICS[topic])
    return out


@pytest.fixture
def catalog(monkeypatch, tmp_path):
    monkeypatch.setenv("PODSIGHT_HOME", str(tmp_path))
    search_index.reset_snapshots()
    episodes = {}
    for i, topic in enumerate(TOPICS):
        language = "de" if topic == "bread" else "en"
        episode = make_episode(
            f"Episode on {topic}",
            channel_title=f"Show {i}",
            language=language,
            published_at=datetime(2024, 1 + i, 1, tzinfo=UTC),
        )
        store_segments(episode, _transcript(topic, 30))
        episodes[topic] = episode
    build_passages()
    update_index()
    return episodes


def _top(report) -> int:
    return report.results[0].episode_id


def test_each_method_finds_the_passage_with_its_time_and_deep_link(catalog):
    for method in ("hybrid", "vector", "keyword"):
        report = search("how do bees tell each other where flowers are", method=method)
        best = report.results[0]
        assert best.episode_id == catalog["bees"].pk, method
        passage = best.passages[0]
        assert passage.start_s <= 120.0 <= passage.end_s
        assert "waggle dance" in passage.text
        assert best.link == f"{catalog['bees'].enclosure_url}#t={int(passage.start_s)}"
    assert report.index_kind == "exact"


def test_filters_restrict_what_is_searched(catalog):
    query = "baking bread with yeast"
    assert _top(search(query)) == catalog["bread"].pk
    report = search(query, language="en")
    assert catalog["bread"].pk not in [r.episode_id for r in report.results]
    assert {r.language for r in report.results} == {"en"}
    report = search(query, channel=catalog["rust"].channel_id)
    assert [r.episode_id for r in report.results] == [catalog["rust"].pk]
    report = search(query, published_after="2024-03-01")
    assert {r.episode_id for r in report.results} == {catalog["bread"].pk, catalog["volcano"].pk}
    assert search(query, published_after="2030-01-01").results == []


def test_bad_parameters_are_input_errors(catalog):
    for kwargs, field in [
        ({"query": "  "}, "q"),
        ({"query": "x" * 501}, "q"),
        ({"query": "bees", "limit": 0}, "limit"),
        ({"query": "bees", "language": "english!"}, "language"),
        ({"query": "bees", "published_after": "last week"}, "published_after"),
    ]:
        with pytest.raises(InvalidSearch) as caught:
            search(**kwargs)
        assert caught.value.field == field


def test_a_new_version_replaces_the_old_in_the_index_incrementally(catalog):
    bees = catalog["bees"]
    before = read_manifest()
    store_segments(bees, _transcript("volcano", 25))  # the bees episode now talks of lava
    build_passages()
    report = update_index()
    assert report.action == "updated" and report.added > 0 and report.removed > 0
    after = read_manifest()
    assert after["episodes"][str(bees.pk)] == 2
    assert after["generation"] != before["generation"]
    hits = search("waggle dance of honey bees", method="keyword").results
    assert bees.pk not in [r.episode_id for r in hits]
    assert update_index().action == "current"


def test_the_index_persists_and_a_damaged_one_is_rebuilt_without_a_traceback(catalog, tmp_path):
    first = search("memory safety and the borrow checker")
    search_index.reset_snapshots()  # as a new process
    assert _top(search("memory safety and the borrow checker")) == _top(first)
    manifest = read_manifest()
    (tmp_path / "index" / manifest["generation"] / "vectors.npy").write_bytes(b"garbage")
    search_index.reset_snapshots()
    assert _top(search("memory safety and the borrow checker")) == catalog["rust"].pk
    (tmp_path / "index" / "manifest.json").unlink()
    search_index.reset_snapshots()
    assert _top(search("volcanic ash and aeroplanes")) == catalog["volcano"].pk


def test_ann_and_exact_agree(catalog, monkeypatch):
    exact = load_snapshot()
    rng = np.random.default_rng(3)
    # Queries near passages (as real ones are): random directions tie at cosine ~0 and
    # any rounding reorders them.
    base = np.asarray(exact.vectors)
    queries = base + 0.015 * rng.standard_normal(base.shape).astype(np.float32)  # norm ~0.3
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    expected = [exact.vector_search(q, 5) for q in queries]
    monkeypatch.setenv("PODSIGHT_ANN_MIN", "1")
    assert update_index(rebuild=True).kind == "ann"
    ann = load_snapshot()
    assert ann.kind == "ann" and ann.vectors is None
    got = [ann.vector_search(q, 5) for q in queries]
    # The passages found are as near as the exact ones, rank by rank (these transcripts
    # repeat lines word for word, so equal passages tie and may come in any order).
    for q, a, b in zip(queries, expected, got, strict=True):
        assert len(b) == 5
        truly = np.sort(base[[row for row, _ in b]] @ q)[::-1]
        np.testing.assert_allclose(truly, [s for _, s in a], atol=1e-3)
        np.testing.assert_allclose([s for _, s in b], [s for _, s in a], atol=0.01)  # bf16
    # Incremental on the ANN kind: a new episode is added to the graph.
    extra = make_episode("Episode on bees again")
    store_segments(extra, _transcript("bees", 22))
    build_passages()
    assert update_index().kind == "ann"
    hits = search("bees waggle dance", method="vector").results
    assert {catalog["bees"].pk, extra.pk} <= {r.episode_id for r in hits[:2]}


def test_deep_link():
    assert deep_link("https://x.org/a.mp3", 61.9) == "https://x.org/a.mp3#t=61"
    assert deep_link("https://x.org/a.mp3#t=5", None) == "https://x.org/a.mp3"
    assert deep_link("", 3.0) is None


def test_nothing_indexed_is_an_empty_answer(monkeypatch, tmp_path):
    monkeypatch.setenv("PODSIGHT_HOME", str(tmp_path))
    search_index.reset_snapshots()
    report = search("anything")
    assert report.results == [] and "content analyze" in report.note
    assert json.dumps(report.as_dict())


def test_a_search_never_waits_on_a_writer_to_build_a_missing_index(catalog, tmp_path):
    import threading

    from podsight.content.passages import ContentBusy, content_lock

    (tmp_path / "index" / "manifest.json").unlink()
    search_index.reset_snapshots()
    held, release = threading.Event(), threading.Event()

    def writer() -> None:  # another process's analyze, as far as the lock file goes
        with content_lock():
            held.set()
            release.wait(30)

    thread = threading.Thread(target=writer, daemon=True)
    thread.start()
    try:
        assert held.wait(10)
        with pytest.raises(ContentBusy, match="content analyze"):
            search("volcanic ash")
    finally:
        release.set()
        thread.join(10)
    assert _top(search("volcanic ash and aeroplanes")) == catalog["volcano"].pk


def test_a_words_index_removed_under_a_reader_is_no_error(catalog, tmp_path):
    import shutil

    assert _top(search("honey bees dance", method="keyword")) == catalog["bees"].pk
    shutil.rmtree(tmp_path / "index" / "text")  # as a rebuild replacing it would
    report = search("honey bees waggle dance")  # no traceback: rebuilt, vectors meanwhile
    assert _top(report) == catalog["bees"].pk
    assert (tmp_path / "index" / "text" / "meta.json").is_file()
    assert _top(search("honey bees dance", method="keyword")) == catalog["bees"].pk


def test_changed_show_notes_replace_the_notes_passage_in_lake_and_index(catalog):
    from podsight.content.passages import read_passages

    notes = make_episode("Knitting", notes="Circular needles make a seamless scarf.")
    build_passages()
    update_index()
    assert _top(search("circular needles scarf", method="keyword")) == notes.pk
    notes.title, notes.description_text = "Pottery", "Throwing a clay bowl on the wheel."
    notes.save()
    report = build_passages()
    assert report.built_pairs == [(notes.pk, 0)] and report.notes == 1
    rows = read_passages([(notes.pk, 0)])
    assert rows.column("text").to_pylist() == ["Pottery. Throwing a clay bowl on the wheel."]
    assert update_index().action == "updated"
    hits = search("throwing a clay bowl on the wheel", method="keyword").results
    assert hits[0].episode_id == notes.pk and hits[0].passages[0].text.startswith("Pottery")
    old = search("circular needles scarf", method="keyword").results
    assert notes.pk not in [r.episode_id for r in old]
    assert build_passages().built == 0 and update_index().action == "current"


def test_an_unreadable_index_is_read_again_before_anything_is_rebuilt(catalog, monkeypatch):
    real, calls = search_index.load_snapshot, []

    def flaky(path=None):  # a reader that caught the manifest mid-replace once
        calls.append(path)
        if len(calls) == 1:
            raise ValueError("rows.parquet is being replaced")
        return real(path)

    def no_rebuild(**kwargs):
        raise AssertionError("a second read would have done")

    search_index.reset_snapshots()
    monkeypatch.setattr(search_index, "load_snapshot", flaky)
    monkeypatch.setattr(search_index, "update_index", no_rebuild)
    assert _top(search("volcanic ash and aeroplanes")) == catalog["volcano"].pk
    assert len(calls) == 2


def test_a_large_catalog_is_never_indexed_inside_a_search(catalog, tmp_path, monkeypatch):
    from podsight.content.passages import ContentBusy

    monkeypatch.setenv("PODSIGHT_ANN_MIN", "5")  # the catalog's passages are more than this
    (tmp_path / "index" / "manifest.json").unlink()
    search_index.reset_snapshots()
    with pytest.raises(ContentBusy, match="run `podsight content analyze`"):
        search("volcanic ash")
    assert not (tmp_path / "index" / "manifest.json").exists()
    update_index()
    manifest = read_manifest()
    (tmp_path / "index" / manifest["generation"] / "vectors.usearch").write_bytes(b"junk")
    search_index.reset_snapshots()
    with pytest.raises(ContentBusy, match="unreadable"):
        search("volcanic ash")
    assert read_manifest()["generation"] == manifest["generation"]
