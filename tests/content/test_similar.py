"""Episode vectors for similar episodes: the mean of non-ad passages, stored atomically,
one embedder at a time (the end-to-end search both ways in time is in test_analyze)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from podsight.content.segments import Passage
from podsight.content.similar import EpisodeVectors, episode_vector, load_vectors, save_vectors


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
