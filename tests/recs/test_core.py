"""The shared vocabulary: datasets, histories, scored lists and the registry."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from recs_synthetic import GROUP_SIZE, N_ITEMS, N_USERS, make_dataset

from podsight.errors import UsageError
from podsight.recs.core import Dataset, History, Scored, algorithm


def test_a_history_holds_the_users_row_rejections_and_follows() -> None:
    data = make_dataset()
    history = data.history(GROUP_SIZE + 2)
    row = data.matrix.getrow(GROUP_SIZE + 2)
    assert history.items.tolist() == row.indices.tolist()
    assert history.weights.tolist() == pytest.approx(row.data.tolist())
    assert len(history.negatives) == 1 and len(history.follows) == 1
    assert history.languages == ("de",)
    assert history.times is not None and np.isfinite(history.times).all()
    banned = set(history.excluded(np.array([5])).tolist())
    assert banned == set(history.items.tolist()) | set(history.negatives.tolist()) | {5}
    one = history.row(N_ITEMS)
    assert one.shape == (1, N_ITEMS) and one.nnz == len(history.items)


def test_seen_defaults_to_everything_touched() -> None:
    data = make_dataset()
    seen = data.seen_matrix()
    assert seen.nnz == data.matrix.nnz + data.negatives.nnz


def test_shapes_are_checked() -> None:
    with pytest.raises(ValueError, match="users × items"):
        Dataset(users=["a"], items=["x", "y"], matrix=sp.csr_matrix((2, 2)))
    data = make_dataset(facts=False)
    assert not data.has("item_vectors") and data.n_users == N_USERS
    with pytest.raises(ValueError, match="differ in length"):
        Scored("x", np.arange(3), np.zeros(2))


def test_an_empty_history_is_empty() -> None:
    assert History(user="new").is_empty
    assert not History(user="f", follows=np.array([1], dtype=np.int32)).is_empty


def test_an_unknown_model_name_lists_the_known_ones() -> None:
    with pytest.raises(UsageError, match="choose from .*als"):
        algorithm("nope")


def test_finished_and_liked_reach_the_history_and_follow_a_split() -> None:
    data = make_dataset()
    row = data.matrix.getrow(4)
    done = row.indices[:2]
    cells = np.zeros(data.matrix.shape, dtype=np.float32)
    cells[4, done] = 1.0
    data.finished = sp.csr_matrix(cells)
    data.liked = sp.csr_matrix(cells)
    data.__post_init__()
    assert data.history(4).finished.tolist() == sorted(done.tolist())
    assert data.history(4).liked.tolist() == sorted(done.tolist())
    # A training split without the first finished cell keeps only the other.
    train = data.matrix.tolil()
    train[4, done[0]] = 0
    split = data.with_matrix(sp.csr_matrix(train))
    split.matrix.eliminate_zeros()
    assert split.history(4).finished.tolist() == [int(done[1])]


def test_the_derived_seen_matrix_is_computed_once_per_matrix() -> None:
    data = make_dataset()
    assert data.seen_matrix() is data.seen_matrix()
    other = data.with_matrix(data.matrix[:, :])
    assert other.seen_matrix() is not data.seen_matrix()
