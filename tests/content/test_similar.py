"""Episode vectors for similar episodes: the mean of non-ad passages, stored atomically,
one embedder at a time (the end-to-end search both ways in time is in test_analyze)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from podsight.content.segments import Passage
from podsight.content.similar import (
    EpisodeVectors,
    episode_vector,
    load_vectors,
    save_vectors,
    store_vectors,
)
from podsight.errors import StorageError


def _unit(*values: float) -> np.ndarray:
    v = np.array(values + (0.0,) * (384 - len(values)), dtype=np.float32)
    return v / np.linalg.norm(v)


def test_episode_vector_leaves_ad_reads_out():
    passages = [
        Passage(1, 1, 0, None, None, "talk", vector=_unit(1, 0)),
        Passage(1, 1, 1, None, None, "ad", vector=_unit(0, 1)),
        Passage(1, 1, 2, None, None, "talk", vector=_unit(1, 0.2)),
    ]
    vector = episode_vector(passages, skip={1})
    assert abs(float(np.linalg.norm(vector)) - 1) < 1e-6
    assert float(vector @ _unit(0, 1)) < 0.15  # the ad's direction is not in it
    # Every passage an ad: all of them, rather than nothing.
    assert episode_vector(passages, skip={0, 1, 2}) is not None
    assert episode_vector([Passage(1, 1, 0, None, None, "no vector")]) is None


def test_update_replace_and_embedder_change(tmp_path: Path):
    store = EpisodeVectors()
    store.update({3: _unit(1), 1: _unit(0, 1)}, "model/a")
    store.update({3: _unit(0, 0, 1)}, "model/a")
    assert store.ids.tolist() == [1, 3]
    assert float(store.vector(3) @ _unit(0, 0, 1)) > 0.999 and store.vector(2) is None
    path = tmp_path / "analysis" / "episode_vectors.npz"
    save_vectors(store, path)
    loaded = load_vectors(path)
    assert loaded.embedder == "model/a" and loaded.ids.tolist() == [1, 3]
    assert np.allclose(loaded.matrix, store.matrix)
    # Another embedder's vectors are never compared with these: they are dropped.
    loaded.update({7: _unit(1)}, "model/b")
    assert loaded.ids.tolist() == [7] and loaded.embedder == "model/b"
    loaded.remove([7])
    assert loaded.ids.tolist() == []
    assert load_vectors(tmp_path / "none.npz").ids.tolist() == []


def test_concurrent_writers_keep_each_others_vectors(tmp_path: Path, monkeypatch):
    import threading

    monkeypatch.setenv("PODSIGHT_HOME", str(tmp_path / "home"))
    path = tmp_path / "home" / "analysis" / "episode_vectors.npz"
    start = threading.Barrier(8)

    def write(i: int) -> None:
        start.wait()
        for j in range(5):
            store_vectors({i * 10 + j: _unit(1, i, j)}, "model/a", path)

    threads = [threading.Thread(target=write, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert load_vectors(path).ids.tolist() == sorted(i * 10 + j for i in range(8) for j in range(5))
    assert [p.name for p in path.parent.iterdir()] == ["episode_vectors.npz"]  # no scratch left


def test_a_damaged_file_is_a_storage_error_saying_what_to_run(tmp_path: Path):
    path = tmp_path / "episode_vectors.npz"
    store = EpisodeVectors()
    store.update({1: _unit(1)}, "model/a")
    save_vectors(store, path)
    data = path.read_bytes()
    for damaged in (data[: len(data) // 2], b"", b"not numpy at all"):
        path.write_bytes(damaged)
        with pytest.raises(StorageError, match=r"podsight content analyze --force"):
            load_vectors(path)
    # Readable, but not a vectors file of ours.
    np.savez(path, ids=np.array([1, 2]), matrix=np.zeros((1, 384), dtype=np.float32),
             embedder=np.array("model/a"))  # fmt: skip
    with pytest.raises(StorageError, match="rebuild"):
        load_vectors(path)


@pytest.mark.django_db
def test_the_api_answers_503_for_a_damaged_file(tmp_path: Path, monkeypatch, client):
    from passage_helpers import make_episode

    from podsight.content.similar import vectors_path

    monkeypatch.setenv("PODSIGHT_HOME", str(tmp_path / "home"))
    episode = make_episode("One")
    vectors_path().parent.mkdir(parents=True)
    vectors_path().write_bytes(b"PK\x03\x04 half a file")
    response = client.get(f"/api/episodes/{episode.pk}/similar")
    assert response.status_code == 503
    error = response.json()["error"]
    assert error["code"] == "unavailable" and "content analyze --force" in error["message"]
