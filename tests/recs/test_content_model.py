"""ContentProfile: the contract, and what only content can do (an episode nobody played)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from recs_contract import RecommenderContract
from recs_synthetic import N_ITEMS, group_of_item, make_dataset

from podsight.errors import UsageError
from podsight.recs.algorithms.content import ContentProfile
from podsight.recs.algorithms.shared import ModelFileError
from podsight.recs.core import History


class TestContentContract(RecommenderContract):
    def make_model(self) -> ContentProfile:
        return ContentProfile()


class TestCentroidContract(RecommenderContract):
    def make_model(self) -> ContentProfile:
        return ContentProfile(profile="centroid")


def _fitted(vectors: np.ndarray | None = None) -> tuple[ContentProfile, object]:
    data = make_dataset()
    if vectors is not None:
        data.item_vectors = vectors
    model = ContentProfile()
    model.fit(data)
    return model, data


def test_a_new_episode_close_to_what_they_liked_is_recommended() -> None:
    # Item 59 (science) has no plays at all; its embedding is the mean of what the user
    # liked, so content ranks it first though no listener ever touched it.
    data = make_dataset()
    liked = np.array([3, 14, 27], dtype=np.int32)
    vectors = data.item_vectors.copy()
    target = vectors[liked].mean(axis=0)
    vectors[59] = target / np.linalg.norm(target)
    # Nobody has played it: drop its column from the interactions.
    matrix = data.matrix.tolil()
    matrix[:, 59] = 0
    data = data.with_matrix(matrix.tocsr(), item_vectors=vectors)
    assert data.matrix.getcol(59).nnz == 0
    model = ContentProfile()
    model.fit(data)
    history = History(user="fan", items=liked, weights=np.ones(3, dtype=np.float32), liked=liked)
    scored = model.recommend(history, 5)
    assert scored.items[0] == 59
    assert scored.because[0] in liked.tolist()


def test_because_is_the_most_similar_history_item() -> None:
    model, data = _fitted()
    history = History(
        user="mixed",
        items=np.array([2, N_ITEMS - 3], dtype=np.int32),  # one science, one sport
        weights=np.array([1.0, 1.0], dtype=np.float32),
    )
    scored = model.recommend(history, N_ITEMS)
    for item, because in zip(scored.items.tolist(), scored.because.tolist(), strict=True):
        assert group_of_item(item) == group_of_item(because)


def test_items_without_an_embedding_are_never_recommended() -> None:
    data = make_dataset()
    vectors = data.item_vectors.copy()
    vectors[[4, 5, 6]] = 0.0
    model, _ = _fitted(vectors)
    history = data.history(0)
    scored = model.recommend(history, N_ITEMS)
    assert not {4, 5, 6} & set(scored.items.tolist())
    assert 4 not in model.similar_items(3, N_ITEMS).items.tolist()
    assert len(model.similar_items(4, 10)) == 0
    # A history of only vector-less items has no profile: nothing, not an error.
    empty = History(user="x", items=np.array([4, 5], dtype=np.int32), weights=np.ones(2))
    assert len(model.recommend(empty, 10)) == 0


def test_finished_and_liked_items_pull_harder() -> None:
    data = make_dataset()
    items = np.array([1, N_ITEMS - 1], dtype=np.int32)
    weights = np.array([1.0, 1.2], dtype=np.float32)
    plain = History(user="a", items=items, weights=weights)
    liked = History(user="a", items=items, weights=weights, liked=np.array([1], dtype=np.int32))
    # The mean leans to the liked item; nearest with room for one item keeps the liked one.
    for model in (ContentProfile(profile="centroid"), ContentProfile(max_history=1)):
        model.fit(data)
        top_plain = int(model.recommend(plain, 1).items[0])
        top_liked = int(model.recommend(liked, 1).items[0])
        assert group_of_item(top_plain) == 1  # the heavier sport play wins unvouched
        assert group_of_item(top_liked) == 0  # the liked science episode wins


def test_nearest_keeps_two_tastes_apart() -> None:
    # Half science, half sport: every recommendation is close to one of them, and the
    # list holds both.
    model, _ = _fitted()
    history = History(
        user="two",
        items=np.array([0, 11, 22, N_ITEMS - 1, N_ITEMS - 12, N_ITEMS - 23], dtype=np.int32),
        weights=np.ones(6, dtype=np.float32),
    )
    scored = model.recommend(history, 10)
    groups = [group_of_item(i) for i in scored.items.tolist()]
    assert 0 in groups and 1 in groups
    assert groups == [group_of_item(b) for b in scored.because.tolist()]


@pytest.mark.parametrize("profile", ["nearest", "centroid"])
def test_rejections_push_away(profile: str) -> None:
    data = make_dataset()
    model = ContentProfile(profile=profile, negative_weight=1.0)
    model.fit(data)
    indifferent = ContentProfile(profile=profile, negative_weight=0.0)
    indifferent.fit(data)
    # Mostly science, a little sport; rejected science items steer away from science.
    history = History(
        user="b",
        items=np.array([0, 10, N_ITEMS - 2], dtype=np.int32),
        weights=np.array([0.6, 0.6, 1.0], dtype=np.float32),
        negatives=np.array([20, 30, 40], dtype=np.int32),
    )
    with_away = model.recommend(history, 10).items.tolist()
    without = indifferent.recommend(history, 10).items.tolist()
    sport = lambda items: sum(group_of_item(i) == 1 for i in items)  # noqa: E731
    assert sport(with_away) > sport(without)


def test_in_a_split_by_time_the_future_is_never_proposed(tmp_path: Path) -> None:
    # Item 59 is the nearest to what the listener liked, but published after the data's
    # ``now`` (the future of a split by time): not proposed, by recommend or similar_items.
    # Item 3, played and also dated later (a clock gone wrong), still counts in the history.
    data = make_dataset()
    liked = np.array([3, 14, 27], dtype=np.int32)
    vectors = data.item_vectors.copy()
    target = vectors[liked].mean(axis=0)
    vectors[59] = target / np.linalg.norm(target)
    published = np.full(N_ITEMS, data.now - 10 * 86_400.0)
    published[[3, 59]] = data.now + 3600.0
    data = data.with_matrix(data.matrix, item_vectors=vectors, item_published=published)
    model = ContentProfile()
    model.fit(data)
    history = History(user="fan", items=liked, weights=np.ones(3, dtype=np.float32), liked=liked)
    scored = model.recommend(history, N_ITEMS)
    assert len(scored) and 59 not in scored.items.tolist()
    assert 59 not in model.similar_items(14, N_ITEMS).items.tolist()
    alone = History(user="one", items=np.array([3], dtype=np.int32), weights=np.ones(1))
    assert len(model.recommend(alone, 5))  # an unreleased history item still counts
    model.save(tmp_path)
    again = ContentProfile.load(tmp_path).recommend(history, N_ITEMS)
    assert again.items.tolist() == scored.items.tolist()


def test_bad_parameters_and_files_say_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="negative_weight"):
        ContentProfile(negative_weight=-1)
    with pytest.raises(UsageError, match="nearest, centroid"):
        ContentProfile(profile="mean")
    with pytest.raises(ModelFileError, match="train the model again"):
        ContentProfile.load(tmp_path)
