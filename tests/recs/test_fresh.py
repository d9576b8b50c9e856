"""Fresh: the contract, and the way in for an episode nobody has played."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from recs_contract import RecommenderContract
from recs_synthetic import N_ITEMS, make_dataset

from podsight.errors import UsageError
from podsight.recs.algorithms.fresh import Fresh
from podsight.recs.core import History

DAY = 86_400.0
NOW = make_dataset().now
PER_SHOW = 10  # the synthetic shows' episodes, newest first


class TestFreshContract(RecommenderContract):
    def make_model(self) -> Fresh:
        return Fresh()


def _episode(show: int, k: int) -> int:
    """Show ``show``'s ``k``-th newest episode."""
    return show * PER_SHOW + k


def _unplayed(data, item: int):
    matrix = data.matrix.tolil()
    matrix[:, item] = 0
    negatives = data.negatives.tolil()
    negatives[:, item] = 0
    return data.with_matrix(matrix.tocsr(), negatives=negatives.tocsr())


def test_a_brand_new_episode_of_a_followed_show_is_recommended() -> None:
    data = make_dataset()
    # Show 4's newest episode, published an hour ago, played by nobody.
    item = _episode(4, 0)
    data = _unplayed(data, item)
    published = data.item_published.copy()
    published[item] = NOW - 3600
    data.item_published = published
    assert data.matrix.getcol(item).nnz == 0
    model = Fresh()
    model.fit(data)
    # A listener who follows show 4 and played episodes of shows 1 and 7.
    history = History(
        user="follower",
        items=np.array([_episode(1, 2), _episode(1, 5), _episode(7, 1)], dtype=np.int32),
        weights=np.ones(3, dtype=np.float32),
        follows=np.array([4], dtype=np.int32),
    )
    scored = model.recommend(history, 3)
    assert scored.items[0] == item
    assert scored.because_show[0] == 4


def test_affinity_without_following_brings_the_show_in() -> None:
    model = Fresh()
    model.fit(make_dataset())
    history = History(
        user="listener",
        items=np.array([_episode(9, 3), _episode(9, 4), _episode(2, 5)], dtype=np.int32),
        weights=np.array([1.0, 1.0, 0.5], dtype=np.float32),
    )
    scored = model.recommend(history, 20)
    shows = {int(s) for s in scored.because_show}
    assert shows == {9, 2}
    # The show played most comes first, episode for episode of the same age.
    assert scored.because_show[0] == 9


def test_unfollowed_shows_never_appear() -> None:
    data = make_dataset()
    unfollowed = sp.lil_matrix(data.unfollowed.shape, dtype=np.float32)
    for user in range(data.n_users):
        unfollowed[user, data.history(user).follows[0]] = 1.0
    data.unfollowed = unfollowed.tocsr()
    model = Fresh()
    model.fit(data)
    for user in range(data.n_users):
        history = data.history(user)
        # Still followed on the other path, and played: unfollowed wins.
        banned = int(history.unfollowed[0])
        history.items = np.concatenate([history.items, [_episode(banned, 7)]]).astype(np.int32)
        history.weights = np.concatenate([history.weights, [5.0]]).astype(np.float32)
        scored = model.recommend(history, N_ITEMS)
        assert banned not in set(model.item_show[scored.items].tolist())


def test_only_new_episodes_ranked_by_recency_within_a_show() -> None:
    data = make_dataset()
    published = data.item_published.copy()
    published[_episode(3, 1)] = NOW - 45 * DAY  # beyond the 30-day window
    data.item_published = published
    model = Fresh()
    model.fit(data)
    history = History(user="f", follows=np.array([3], dtype=np.int32))
    scored = model.recommend(history, PER_SHOW)
    assert _episode(3, 1) not in scored.items.tolist()
    ages = NOW - data.item_published[scored.items]
    assert ages.tolist() == sorted(ages.tolist())
    assert scored.items[0] == _episode(3, 0)


def test_unavailable_episodes_are_left_out() -> None:
    data = make_dataset()
    available = data.item_available.copy()
    available[_episode(3, 0)] = False
    data.item_available = available
    model = Fresh()
    model.fit(data)
    scored = model.recommend(History(user="f", follows=np.array([3], dtype=np.int32)), 5)
    assert _episode(3, 0) not in scored.items.tolist()


def test_rejected_episodes_lower_a_shows_affinity() -> None:
    model = Fresh()
    model.fit(make_dataset())
    played = np.array([_episode(1, 5), _episode(2, 5)], dtype=np.int32)
    history = History(user="r", items=played, weights=np.ones(2, dtype=np.float32))
    assert model.affinity(history)[1] == pytest.approx(model.affinity(history)[2])
    history.negatives = np.array([_episode(1, 6)], dtype=np.int32)
    affinity = model.affinity(history)
    assert affinity[1] < affinity[2]


def test_similar_items_are_the_shows_other_new_episodes() -> None:
    model = Fresh()
    model.fit(make_dataset())
    scored = model.similar_items(_episode(5, 3), 20)
    assert set(scored.items.tolist()) == {_episode(5, k) for k in range(PER_SHOW)} - {
        _episode(5, 3)
    }
    assert scored.items[0] == _episode(5, 0)


def test_a_quiet_show_has_no_similar_items() -> None:
    data = make_dataset()
    published = data.item_published.copy()
    published[:PER_SHOW] = NOW - 90 * DAY  # show 0 published nothing for three months
    data.item_published = published
    model = Fresh()
    model.fit(data)
    assert len(model.similar_items(_episode(0, 2), 5)) == 0
    assert len(model.recommend(History(user="q", follows=np.array([0])), 5)) == 0


def test_bad_parameters_say_what_is_wrong() -> None:
    with pytest.raises(UsageError, match="half_life must be > 0"):
        Fresh(half_life=0)


def test_new_is_relative_to_the_newest_publication_of_the_catalog() -> None:
    # A catalog last synced 600 days ago (the demo's frozen feeds): its newest episodes
    # are still the new ones; an episode dated in the future does not move "now".
    data = make_dataset()
    data.item_published = data.item_published - 600 * DAY
    published = data.item_published.copy()
    published[_episode(2, 9)] = NOW + 30 * DAY
    data.item_published = published
    model = Fresh()
    model.fit(data)
    assert model.now == NOW - 600 * DAY
    scored = model.recommend(History(user="f", follows=np.array([3], dtype=np.int32)), 3)
    assert scored.items.tolist() == [_episode(3, 0), _episode(3, 1), _episode(3, 2)]
    # The future-dated one did not exist as of the data: never proposed.
    future = model.recommend(History(user="g", follows=np.array([2], dtype=np.int32)), 20)
    assert len(future) and _episode(2, 9) not in future.items.tolist()


def test_in_a_split_by_time_the_future_is_never_new(tmp_path) -> None:
    # The training part of a split by time: ``now`` is the cut, and the catalog's facts
    # still hold the episodes published after it (each show's three newest). They did not
    # exist yet: not scored as brand new, not proposed at all.
    data = make_dataset()
    cut = NOW - 3 * DAY
    data.now = cut
    later = np.flatnonzero(data.item_published > cut)
    assert _episode(5, 0) in later and _episode(5, 3) not in later
    model = Fresh()
    model.fit(data)
    assert model.now == data.item_published[data.item_published <= cut].max()
    assert not np.isin(later, model.recent).any()
    follower = History(user="f", follows=np.array([5], dtype=np.int32))
    scored = model.recommend(follower, 20)
    assert len(scored) and not np.isin(later, scored.items).any()
    assert scored.items[0] == _episode(5, 3)  # the newest that existed
    assert not np.isin(later, model.similar_items(_episode(5, 4), 20).items).any()
    model.save(tmp_path)
    again = Fresh.load(tmp_path).recommend(follower, 20)
    assert again.items.tolist() == scored.items.tolist()
