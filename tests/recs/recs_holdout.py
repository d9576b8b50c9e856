"""A quick real-data check for the collaborative-filtering models: MovieLens-100k, each
user's ratings split 75/25 at random (seeded), every held-out rating relevant, NDCG@10 over
the users with a held-out item. The evaluation proper (the Microsoft Recommenders protocol,
every metric, every dataset) is ``podsight.recs.evaluate``; this only asks whether a model
learned something a popularity list does not know."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import scipy.sparse as sp

from podsight.recs.core import Dataset, Recommender

__all__ = ["movielens_100k_split", "ndcg_at_10"]


def movielens_100k_split(test_data: Path, seed: int = 42) -> tuple[Dataset, sp.csr_matrix]:
    raw = np.loadtxt(
        test_data / "interactions" / "movielens-100k" / "u.data", dtype=np.int64, usecols=(0, 1, 2)
    )
    users, user_index = np.unique(raw[:, 0], return_inverse=True)
    items, item_index = np.unique(raw[:, 1], return_inverse=True)
    rng = np.random.default_rng(seed)
    test = np.zeros(len(raw), dtype=bool)
    for user in range(len(users)):
        rows = np.flatnonzero(user_index == user)
        rng.shuffle(rows)
        test[rows[: int(round(0.25 * len(rows)))]] = True
    shape = (len(users), len(items))

    def matrix(mask: np.ndarray) -> sp.csr_matrix:
        return sp.csr_matrix(
            (raw[mask, 2].astype(np.float32), (user_index[mask], item_index[mask])), shape=shape
        )

    train = Dataset(
        users=[str(u) for u in users],
        items=[str(i) for i in items],
        matrix=matrix(~test),
        name="movielens-100k",
    )
    return train, matrix(test)


def ndcg_at_10(model: Recommender, train: Dataset, test: sp.csr_matrix) -> float:
    users = [u for u in range(train.n_users) if test.getrow(u).nnz]
    discounts = 1.0 / np.log2(np.arange(2, 12))
    scores = []
    for user, scored in zip(
        users, model.recommend_many([train.history(u) for u in users], 10), strict=True
    ):
        relevant = set(test.getrow(user).indices.tolist())
        gains = np.array([i in relevant for i in scored.items.tolist()], dtype=float)
        ideal = discounts[: min(len(relevant), 10)].sum()
        scores.append(float((gains * discounts[: len(gains)]).sum() / ideal))
    return float(np.mean(scores))
