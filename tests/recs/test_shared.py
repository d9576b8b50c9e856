"""The models' shared helpers: one ranking, one way to keep a model on disk."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from podsight.recs.algorithms import shared
from podsight.recs.algorithms.shared import (
    ModelFileError,
    read_model,
    read_params,
    top_n,
    write_model,
    write_params,
)


def test_top_n_ranks_best_first_with_ties_to_the_lower_index() -> None:
    scores = np.array([0.5, 2.0, np.nan, 2.0, -np.inf, 1.0, 0.5])
    items, values = top_n(scores, 4)
    assert items.tolist() == [1, 3, 5, 0]
    assert values.tolist() == [2.0, 2.0, 1.0, 0.5]
    assert top_n(scores, 0)[0].tolist() == []
    assert top_n(np.full(3, -np.inf), 2)[0].tolist() == []


def test_top_n_leaves_out_the_excluded_and_keeps_the_precision() -> None:
    # Two scores a float32 could not tell apart keep their order.
    scores = np.array([1.0, 1.0 + 1e-12, 0.25], dtype=np.float64)
    items, values = top_n(scores, 3, excluded=np.array([2, 99, -1]))
    assert items.tolist() == [1, 0]
    assert values.dtype == np.float64 and values[0] > values[1]
    # float32 scores stay float32 (what the collaborative models hand in).
    assert top_n(scores.astype(np.float32), 1)[1].dtype == np.float32


def test_one_module_holds_the_helpers() -> None:
    assert not hasattr(shared, "_shared")
    with pytest.raises(ModuleNotFoundError):
        __import__("podsight.recs.algorithms._shared")


def test_a_model_round_trips_and_a_wrong_one_is_refused(tmp_path: Path) -> None:
    write_model(tmp_path, "fresh", {"window": 3.0}, recent=np.arange(3))
    params, arrays = read_model(tmp_path, "fresh")
    assert params == {"window": 3.0}
    assert arrays["recent"].tolist() == [0, 1, 2]
    assert read_params(tmp_path)["model"] == "fresh"
    with pytest.raises(ModelFileError, match="train the model again"):
        read_model(tmp_path, "trending")
    write_params(tmp_path, {"factors": 8}, model="als", n_items=5)
    assert read_params(tmp_path) == {"params": {"factors": 8}, "model": "als", "n_items": 5}
    with pytest.raises(ModelFileError, match="train the model again"):
        read_model(tmp_path / "missing", "als")
