"""The baselines: popularity and a seeded random order."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from recs_contract import RecommenderContract
from recs_synthetic import N_ITEMS, make_dataset

from podsight.recs.algorithms.baselines import Popular, Random
from podsight.recs.core import Dataset, History


class TestPopular(RecommenderContract):
    def make_model(self) -> Popular:
        return Popular()


class TestRandom(RecommenderContract):
    def make_model(self) -> Random:
        return Random(seed=3)


def tiny() -> Dataset:
    # Item 2: three users (little weight); item 0: two users (much weight); item 1: one.
    matrix = np.array([[5.0, 0, 0.1, 0], [5.0, 0, 0.1, 0], [0, 1.0, 0.1, 0]], dtype=np.float32)
    return Dataset(users=["a", "b", "c"], items=["w", "x", "y", "z"], matrix=sp.csr_matrix(matrix))


def test_popular_counts_users_or_sums_weight() -> None:
    by_users, by_weight = Popular(), Popular(weighted=True)
    by_users.fit(tiny())
    by_weight.fit(tiny())
    assert by_users.recommend(History(user="new"), 10).items.tolist() == [2, 0, 1]
    assert by_weight.recommend(History(user="new"), 10).items.tolist() == [0, 1, 2]
    # Nobody played item 3: it is never proposed; what the user saw is left out.
    seen = History(user="c", items=np.array([2], dtype=np.int32), weights=np.ones(1, np.float32))
    assert by_users.recommend(seen, 10).items.tolist() == [0, 1]


def test_random_is_the_same_for_a_seed_and_a_user_and_differs_between_them() -> None:
    data = make_dataset()
    first, again, other_seed = Random(seed=1), Random(seed=1), Random(seed=2)
    for model in (first, again, other_seed):
        model.fit(data)
    alice, bob = History(user="alice"), History(user="bob")
    assert first.recommend(alice, 10).items.tolist() == again.recommend(alice, 10).items.tolist()
    assert first.recommend(alice, 10).items.tolist() != first.recommend(bob, 10).items.tolist()
    assert (
        first.recommend(alice, 10).items.tolist() != other_seed.recommend(alice, 10).items.tolist()
    )
    # Roughly uniform: over many users every item comes up.
    shown = {i for u in range(200) for i in first.recommend(History(user=f"u{u}"), 10).items}
    assert len(shown) > 0.9 * N_ITEMS


def test_random_answers_the_same_in_another_process(tmp_path: Path) -> None:
    # crc32 rather than hash(): str hashes are salted per process.
    model = Random(seed=5)
    model.fit(make_dataset())
    model.save(tmp_path)
    code = (
        "from pathlib import Path; from podsight.recs.algorithms.baselines import Random;"
        "from podsight.recs.core import History;"
        f"print(Random.load(Path({str(tmp_path)!r})).recommend(History(user='alice'), 5)"
        ".items.tolist())"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == str(model.recommend(History(user="alice"), 5).items.tolist())


def test_unfitted_baselines_say_so() -> None:
    with pytest.raises(RuntimeError, match="fit"):
        Popular().recommend(History(user="x"), 3)
