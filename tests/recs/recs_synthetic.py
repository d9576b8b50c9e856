"""A small catalog-backed dataset with a known structure, for the model contract.

Two taste groups: shows 0-5 are about "science" in English, shows 6-11 about "sport" in
German; each show has 10 episodes (newest first by publication). Users 0-29 like
science, 30-59 sport: each played 8 episodes of their group (weights 0.5-1.5), rejected
one episode of the other group, and follows one show of their group. Item vectors point
along their group's axis with noise. Deterministic for a seed.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from podsight.recs.core import Dataset

__all__ = [
    "GROUP_SIZE",
    "N_ITEMS",
    "N_SHOWS",
    "N_USERS",
    "group_of_item",
    "group_of_user",
    "make_dataset",
]

N_SHOWS = 12
PER_SHOW = 10
N_ITEMS = N_SHOWS * PER_SHOW
N_USERS = 60
GROUP_SIZE = N_USERS // 2
NOW = 1_790_000_000.0  # 2026-09-21
DAY = 86_400.0


def group_of_item(item: int) -> int:
    return 0 if item < N_ITEMS // 2 else 1


def group_of_user(user: int) -> int:
    return 0 if user < GROUP_SIZE else 1


def make_dataset(seed: int = 7, *, facts: bool = True, dim: int = 16) -> Dataset:
    rng = np.random.default_rng(seed)
    half = N_ITEMS // 2
    rows, cols, vals, stamps = [], [], [], []
    neg_rows, neg_cols = [], []
    follow_rows, follow_cols = [], []
    for user in range(N_USERS):
        group = group_of_user(user)
        base = 0 if group == 0 else half
        # Popularity within the group: earlier items are played more.
        p = np.linspace(2.0, 1.0, half)
        p /= p.sum()
        played = rng.choice(half, size=8, replace=False, p=p) + base
        for item in played:
            rows.append(user)
            cols.append(int(item))
            vals.append(float(rng.uniform(0.5, 1.5)))
            stamps.append(NOW - float(rng.uniform(0, 30)) * DAY)
        other = (half - base) + int(rng.integers(half))
        neg_rows.append(user)
        neg_cols.append(other)
        follow_rows.append(user)
        follow_cols.append(int(rng.integers(6)) + (0 if group == 0 else 6))
    shape = (N_USERS, N_ITEMS)
    matrix = sp.csr_matrix((vals, (rows, cols)), shape=shape, dtype=np.float32)
    negatives = sp.csr_matrix(
        (np.ones(len(neg_rows), dtype=np.float32), (neg_rows, neg_cols)), shape=shape
    )
    timestamps = sp.csr_matrix((stamps, (rows, cols)), shape=shape, dtype=np.float64)
    data = Dataset(
        users=[f"u{u:03d}" for u in range(N_USERS)],
        items=[str(1000 + i) for i in range(N_ITEMS)],
        matrix=matrix,
        negatives=negatives,
        timestamps=timestamps,
        now=NOW,
        name="synthetic",
    )
    if not facts:
        return data
    item_show = np.repeat(np.arange(N_SHOWS, dtype=np.int32), PER_SHOW)
    # Within a show, episode 0 is the newest: one a day going back.
    published = np.array(
        [NOW - (i % PER_SHOW) * DAY - (i // PER_SHOW) * 3600.0 for i in range(N_ITEMS)]
    )
    axes = np.zeros((2, dim), dtype=np.float32)
    axes[0, 0] = axes[1, 1] = 1.0
    vectors = np.stack(
        [
            axes[group_of_item(i)] + rng.normal(0, 0.25, dim).astype(np.float32)
            for i in range(N_ITEMS)
        ]
    ).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    follows = sp.csr_matrix(
        (np.ones(len(follow_rows), dtype=np.float32), (follow_rows, follow_cols)),
        shape=(N_USERS, N_SHOWS),
    )
    data.item_show = item_show
    data.shows = [str(500 + s) for s in range(N_SHOWS)]
    data.show_titles = [f"{'Science' if s < 6 else 'Sport'} Show {s}" for s in range(N_SHOWS)]
    data.item_titles = [f"Episode {i} of show {i // PER_SHOW}" for i in range(N_ITEMS)]
    data.item_language = ["en" if group_of_item(i) == 0 else "de" for i in range(N_ITEMS)]
    data.item_published = published
    data.item_available = np.ones(N_ITEMS, dtype=bool)
    data.item_vectors = vectors
    data.item_topics = [
        ("Science",) if group_of_item(i) == 0 else ("Sports",) for i in range(N_ITEMS)
    ]
    data.follows = follows
    data.unfollowed = sp.csr_matrix((N_USERS, N_SHOWS), dtype=np.float32)
    data.user_languages = [("en",) if group_of_user(u) == 0 else ("de",) for u in range(N_USERS)]
    return data
