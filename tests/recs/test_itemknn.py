"""Item-to-item neighbours ("listeners also played")."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from recs_contract import RecommenderContract
from recs_holdout import movielens_100k_split, ndcg_at_10
from recs_synthetic import make_dataset

from podsight.recs.algorithms.baselines import Popular
from podsight.recs.algorithms.itemknn import ItemKNN
from podsight.recs.core import Dataset, History


class TestItemKNN(RecommenderContract):
    def make_model(self) -> ItemKNN:
        return ItemKNN(neighbours=20, num_threads=1)


class TestItemKNNCosine(RecommenderContract):
    def make_model(self) -> ItemKNN:
        return ItemKNN(neighbours=20, weighting="cosine", num_threads=1)


def co_played() -> Dataset:
    # Items 0 and 1 are always played together; 2 with 3; 4 alone.
    m = np.array(
        [[1, 1, 0, 0, 0], [1, 1, 0, 0, 0], [0, 0, 1, 1, 0], [0, 0, 1, 1, 1], [1, 0, 0, 0, 0]],
        dtype=np.float32,
    )
    return Dataset(users=list("abcde"), items=list("vwxyz"), matrix=sp.csr_matrix(m))


def test_listeners_also_played_what_was_played_with_it() -> None:
    model = ItemKNN(weighting="cosine", num_threads=1)
    model.fit(co_played())
    assert model.similar_items(0, 1).items.tolist() == [1]
    assert model.similar_items(2, 1).items.tolist() == [3]
    # Cosine: 0 and 1 share 2 listeners of 3 and 2 → 2/√6.
    assert model.similar_items(0, 1).scores[0] == pytest.approx(2 / np.sqrt(6), rel=1e-5)


def test_the_score_is_the_weighted_sum_of_similarities_and_because_the_largest_term() -> None:
    model = ItemKNN(weighting="cosine", num_threads=1)
    model.fit(co_played())
    history = History(
        user="n", items=np.array([1, 3], dtype=np.int32), weights=np.array([1.0, 3.0], np.float32)
    )
    scored = model.recommend(history, 5)
    S = model.similarity.toarray()
    expected = 1.0 * S[1] + 3.0 * S[3]
    for item, score in zip(scored.items.tolist(), scored.scores.tolist(), strict=True):
        assert score == pytest.approx(expected[item], rel=1e-5)
    because = dict(zip(scored.items.tolist(), scored.because.tolist(), strict=True))
    assert because[0] == 1 and because[2] == 3
    # Item 4 is a neighbour of 3 only, through user d.
    assert because.get(4, 3) == 3
    # Nothing is proposed that no history item has as a neighbour.
    assert History(user="x").is_empty and len(model.recommend(History(user="x"), 5)) == 0


def test_beats_popularity_on_movielens_100k(test_data: Path) -> None:
    train, test = movielens_100k_split(test_data)
    popular, model = Popular(), ItemKNN(num_threads=1)
    popular.fit(train)
    model.fit(train)
    assert ndcg_at_10(model, train, test) > ndcg_at_10(popular, train, test) + 0.05


def test_unknown_weighting_is_refused() -> None:
    with pytest.raises(ValueError, match="cosine"):
        ItemKNN(weighting="jaccard")
    assert make_dataset().n_items
