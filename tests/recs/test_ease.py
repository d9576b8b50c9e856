"""EASE, closed form."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from recs_contract import RecommenderContract
from recs_holdout import movielens_100k_split, ndcg_at_10
from recs_synthetic import make_dataset

from podsight.progress import SILENT
from podsight.recs.algorithms.baselines import Popular
from podsight.recs.algorithms.ease import EASE
from podsight.recs.core import History


class TestEASE(RecommenderContract):
    def make_model(self) -> EASE:
        return EASE(regularization=10.0)


def test_the_weights_are_the_closed_form_solution() -> None:
    data = make_dataset()
    model = EASE(regularization=10.0)
    model.fit(data)
    # Items nobody played carry no weight: EASE keeps the played ones.
    X = (data.matrix.toarray() > 0).astype(np.float64)[:, model.kept]
    assert X.shape[1] < data.n_items
    assert model.kept.tolist() == np.flatnonzero(data.matrix.getnnz(axis=0)).tolist()
    P = np.linalg.inv(X.T @ X + 10.0 * np.eye(X.shape[1]))
    B = np.eye(X.shape[1]) - P / np.diag(P)
    np.testing.assert_allclose(model.weights, B, atol=1e-4)
    assert np.allclose(np.diag(model.weights), 0)
    history = data.history(3)
    scored = model.recommend(history, 5)
    full = np.zeros((data.n_items, data.n_items))
    full[np.ix_(model.kept, model.kept)] = B
    expected = full[np.unique(history.items)].sum(axis=0)
    np.testing.assert_allclose(scored.scores, expected[scored.items], rtol=1e-3, atol=1e-4)


def test_max_items_keeps_the_most_played(tmp_path: Path) -> None:
    # Item i is played by i users (item 0 by nobody).
    rows, cols = [], []
    for item in range(8):
        rows += list(range(item))
        cols += [item] * item
    matrix = sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(8, 8))
    from podsight.recs.core import Dataset

    data = Dataset(users=[str(u) for u in range(8)], items=list("abcdefgh"), matrix=matrix)
    notes: list[str] = []

    class Notes(type(SILENT)):  # type: ignore[misc]
        def note(self, message: str, **_: object) -> None:
            notes.append(message)

    model = EASE(regularization=1.0, max_items=3)
    model.fit(data, progress=Notes())
    assert model.kept.tolist() == [5, 6, 7]
    assert notes and "3 most played of 7" in notes[0]
    history = History(user="0", items=np.array([7], dtype=np.int32), weights=np.ones(1, np.float32))
    assert set(model.recommend(history, 10).items.tolist()) <= {5, 6}
    # A history of items EASE did not keep gets nothing from it.
    tail = History(user="1", items=np.array([2], dtype=np.int32), weights=np.ones(1, np.float32))
    assert len(model.recommend(tail, 10)) == 0
    assert len(model.similar_items(2, 5)) == 0


def test_beats_popularity_on_movielens_100k(test_data: Path) -> None:
    train, test = movielens_100k_split(test_data)
    popular, model = Popular(), EASE()
    popular.fit(train)
    model.fit(train)
    assert ndcg_at_10(model, train, test) > ndcg_at_10(popular, train, test) + 0.05


def test_unknown_parameters_are_refused() -> None:
    with pytest.raises(TypeError, match="lambda"):
        EASE(**{"lambda": 3})
