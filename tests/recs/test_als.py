"""ALS and BPR on implicit: the contract, the real-time user vector, rejections, reasons."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from recs_contract import RecommenderContract
from recs_holdout import movielens_100k_split, ndcg_at_10
from recs_synthetic import GROUP_SIZE, N_ITEMS, make_dataset

from podsight.recs.algorithms.als import ALS, BPR
from podsight.recs.algorithms.baselines import Popular
from podsight.recs.core import History


class TestALS(RecommenderContract):
    def make_model(self) -> ALS:
        return ALS(factors=16, iterations=15, random_state=0, num_threads=1)


class TestBPR(RecommenderContract):
    def make_model(self) -> BPR:
        return BPR(factors=16, iterations=60, learning_rate=0.05, random_state=0, num_threads=1)


@pytest.fixture(scope="module")
def als() -> ALS:
    model = ALS(factors=16, iterations=15, random_state=0, num_threads=1)
    model.fit(make_dataset())
    return model


def test_the_user_vector_is_the_least_squares_solution_on_the_item_factors(als: ALS) -> None:
    # What recommend computes from a history is the exact ALS user step:
    # x = (YᵀCY + λI)⁻¹ YᵀCp, solved here independently with numpy.
    data = make_dataset()
    history = data.history(4)
    x = als._user_vectors([history])[0]
    Y = als.item_factors.astype(np.float64)
    row = als.history_rows([history])
    c, cols = row.data.astype(np.float64), row.indices
    A = Y.T @ Y + 0.05 * np.eye(Y.shape[1]) + (Y[cols] * (np.abs(c) - 1)[:, None]).T @ Y[cols]
    b = (Y[cols] * np.where(c > 0, c, 0.0)[:, None]).sum(axis=0)
    np.testing.assert_allclose(x, np.linalg.solve(A, b), rtol=1e-3, atol=1e-4)
    # ... and close to the vector the fit itself ended with for that user (the fit's last
    # user step ran against the item factors of the step before, by conjugate gradient).
    fitted = als.user_factors[4]
    cosine = x @ fitted / (np.linalg.norm(x) * np.linalg.norm(fitted))
    assert cosine > 0.95


def test_a_fresh_play_changes_the_answer_at_once(als: ALS) -> None:
    data = make_dataset()
    before = data.history(2)  # a science listener
    half = N_ITEMS // 2
    sport = np.array([half + 2, half + 3, half + 4, half + 5, half + 6, half + 7])
    after = History(
        user=before.user,
        index=2,
        items=np.concatenate([before.items, sport]).astype(np.int32),
        weights=np.concatenate([before.weights, np.full(len(sport), 5.0)]).astype(np.float32),
    )
    a, b = als.recommend(before, 10), als.recommend(after, 10)
    assert a.items.tolist() != b.items.tolist()
    assert sum(i >= half for i in b.items.tolist()) > sum(i >= half for i in a.items.tolist())


def test_rejections_enter_as_negative_confidence() -> None:
    als = ALS(alpha=2.0, negative_weight=3.0)
    positives = sp.csr_matrix(np.array([[1.0, 0.5, 0.0, 0.0]], dtype=np.float32))
    negatives = sp.csr_matrix(np.array([[0.0, 1.0, 1.0, 0.0]], dtype=np.float32))
    c = als.confidence(positives, negatives).toarray()[0]
    # played: 1 + 2·1; played then rejected, and rejected: -(1 + 2·3); untouched: 0.
    assert c.tolist() == [3.0, -7.0, -7.0, 0.0]
    off = ALS(alpha=2.0, negative_weight=0.0).confidence(positives, negatives).toarray()[0]
    assert off.tolist() == [3.0, 2.0, 0.0, 0.0]


def test_a_rejection_lowers_what_is_like_it() -> None:
    data = make_dataset()
    model = ALS(factors=16, iterations=15, random_state=0, num_threads=1, negative_weight=5.0)
    model.fit(data)
    history = data.history(1)
    plain = History(user="x", items=history.items, weights=history.weights)
    scored = model.recommend(plain, N_ITEMS)
    top = int(scored.items[0])
    # Rejecting the top item's nearest neighbour pushes the top item down.
    neighbour = int(model.similar_items(top, 1).items[0])
    rejecting = History(
        user="x",
        items=history.items,
        weights=history.weights,
        negatives=np.array([neighbour], dtype=np.int32),
    )
    again = model.recommend(rejecting, N_ITEMS)
    before = float(scored.scores[scored.items.tolist().index(top)])
    after = float(again.scores[again.items.tolist().index(top)])
    assert after < before


def test_because_is_the_history_item_contributing_most(als: ALS) -> None:
    data = make_dataset()
    history = data.history(GROUP_SIZE + 4)
    scored = als.recommend(history, 5)
    assert scored.because is not None
    # implicit's own explain() names the same item first for each recommendation.
    row = als.history_rows([history])
    for item, because in zip(scored.items.tolist(), scored.because.tolist(), strict=True):
        _, top, _ = als._model.explain(0, row, item, N=1)
        assert top[0][0] == because


def test_bpr_folds_a_history_in_as_the_mean_of_its_items_less_the_average_item() -> None:
    data = make_dataset()
    model = BPR(factors=16, iterations=60, random_state=0, num_threads=1)
    model.fit(data)
    history = data.history(5)
    vector = model._user_vectors([history])[0]
    Y = model.item_factors
    expected = Y[np.unique(history.items), :-1].mean(axis=0) - Y[:, :-1].mean(axis=0)
    np.testing.assert_allclose(vector[:-1], expected, rtol=1e-5, atol=1e-6)
    assert vector[-1] == 1.0  # the item bias counts in full


@pytest.mark.parametrize("model", [ALS(num_threads=1), BPR(num_threads=1)], ids=["als", "bpr"])
def test_beats_popularity_on_movielens_100k(test_data: Path, model) -> None:
    train, test = movielens_100k_split(test_data)
    popular = Popular()
    popular.fit(train)
    model.fit(train)
    assert ndcg_at_10(model, train, test) > ndcg_at_10(popular, train, test) + 0.05


def test_unknown_parameters_are_refused() -> None:
    with pytest.raises(TypeError, match="factor"):
        ALS(factor=3)


def test_the_training_benchmark_runs_as_documented() -> None:
    # bench/recs_train.py at a toy size: both trainers in their own processes, the figures
    # and the 50M estimate printed beside implicit's published ones.
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run(
        [
            sys.executable,
            str(root / "bench" / "recs_train.py"),
            *("--users", "2000", "--items", "500", "--interactions", "20000"),
            *("--small", "5000", "--iterations", "2", "--threads", "1"),
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    ).stdout
    assert "generated 20,000 interactions" in out
    for trainer in ("implicit", "podsight ALS"):
        assert len(re.findall(rf"{trainer} +fit +[0-9.]+ s = 2 ×", out)) == 2, out
    assert "MovieLens-20M" in out and "estimate for 50M" in out
