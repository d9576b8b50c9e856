"""The one contract every candidate model keeps (see ``podsight.recs.core.Recommender``).

A model's test module subclasses :class:`RecommenderContract` and defines
``make_model()`` (a fresh, unfitted model with small, fast parameters). Every test here
then runs against it on the synthetic two-group dataset (``tests/recs/recs_synthetic.py``).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import ClassVar

import numpy as np
import pytest
from recs_synthetic import GROUP_SIZE, N_ITEMS, group_of_item, make_dataset

from podsight.recs.core import ALGORITHMS, Dataset, History, Recommender, Scored, algorithm

__all__ = ["RecommenderContract"]


@cache
def _dataset() -> Dataset:
    return make_dataset()


class RecommenderContract:
    """Subclass with ``make_model(self) -> Recommender``."""

    def make_model(self) -> Recommender:  # pragma: no cover - overridden
        raise NotImplementedError

    # -- fixtures ------------------------------------------------------------------------

    # Fitted once per model class (pytest 9 deprecates class-scoped fixtures defined as
    # methods), on the one synthetic dataset.
    _fitted: ClassVar[dict[type, Recommender]] = {}

    @pytest.fixture
    def data(self) -> Dataset:
        return _dataset()

    @pytest.fixture
    def model(self, data: Dataset) -> Recommender:
        key = type(self)
        if key not in RecommenderContract._fitted:
            model = self.make_model()
            model.fit(data)
            RecommenderContract._fitted[key] = model
        return RecommenderContract._fitted[key]

    # -- helpers ---------------------------------------------------------------------------

    @staticmethod
    def check_list(scored: Scored, n: int, n_items: int = N_ITEMS) -> None:
        assert isinstance(scored, Scored)
        assert len(scored) <= n
        items = scored.items.tolist()
        assert len(set(items)) == len(items), "an item twice"
        assert all(0 <= i < n_items for i in items)
        scores = scored.scores.tolist()
        assert scores == sorted(scores, reverse=True), "not best first"
        assert np.isfinite(scored.scores).all()

    # -- the contract ----------------------------------------------------------------------

    def test_registered_under_its_name(self) -> None:
        cls = type(self.make_model())
        assert ALGORITHMS.get(cls.name), f"{cls.name} is not in core.ALGORITHMS"
        assert algorithm(cls.name) is cls

    def test_supports_the_synthetic_data(self, data: Dataset) -> None:
        assert type(self.make_model()).supports(data)

    def test_recommends_n_distinct_items_best_first(
        self, model: Recommender, data: Dataset
    ) -> None:
        for user in (0, 7, GROUP_SIZE + 3):
            scored = model.recommend(data.history(user), 10)
            self.check_list(scored, 10)
            assert len(scored) > 0
            assert scored.source == model.name

    def test_never_recommends_seen_rejected_or_excluded(
        self, model: Recommender, data: Dataset
    ) -> None:
        for user in range(0, data.n_users, 5):
            history = data.history(user)
            extra = np.array([0, 1, 2, N_ITEMS - 1])
            scored = model.recommend(history, N_ITEMS, exclude=extra)
            self.check_list(scored, N_ITEMS)
            banned = set(history.excluded(extra).tolist())
            assert not banned & set(scored.items.tolist())

    def test_because_points_into_the_history_or_the_follows(
        self, model: Recommender, data: Dataset
    ) -> None:
        history = data.history(3)
        scored = model.recommend(history, 10)
        if scored.because is not None:
            allowed = set(history.items.tolist()) | {-1}
            assert set(scored.because.tolist()) <= allowed
        if scored.because_show is not None:
            allowed_shows = set(range(len(data.shows))) | {-1}
            assert set(scored.because_show.tolist()) <= allowed_shows

    def test_a_new_user_with_a_history_is_served(self, model: Recommender, data: Dataset) -> None:
        # Never seen at fit time: plays three science episodes, follows a science show.
        history = History(
            user="newcomer",
            items=np.array([1, 12, 25], dtype=np.int32),
            weights=np.ones(3, dtype=np.float32),
            follows=np.array([2], dtype=np.int32),
            languages=("en",),
        )
        scored = model.recommend(history, 10)
        self.check_list(scored, 10)
        assert not {1, 12, 25} & set(scored.items.tolist())
        if model.personal:
            assert len(scored) > 0
            science = sum(group_of_item(i) == 0 for i in scored.items.tolist())
            assert science >= 0.7 * len(scored), scored.items

    def test_an_empty_history_does_not_fail(self, model: Recommender) -> None:
        scored = model.recommend(History(user="nobody"), 10)
        self.check_list(scored, 10)

    def test_follows_the_history_given_not_the_fitted_one(
        self, model: Recommender, data: Dataset
    ) -> None:
        if not model.personal:
            pytest.skip(f"{model.name} does not learn from histories")
        # User 0 likes science; asked with a history of sport only, the answer is sport.
        fitted = data.history(0)
        half = N_ITEMS // 2
        changed = History(
            user=fitted.user,
            index=0,
            items=np.array([half + 1, half + 11, half + 21, half + 31], dtype=np.int32),
            weights=np.ones(4, dtype=np.float32),
            follows=np.array([7], dtype=np.int32),
            languages=("de",),
        )
        scored = model.recommend(changed, 10)
        assert len(scored) > 0
        sport = sum(group_of_item(i) == 1 for i in scored.items.tolist())
        assert sport >= 0.7 * len(scored), scored.items

    def test_learns_the_groups(self, model: Recommender, data: Dataset) -> None:
        if not model.personal:
            pytest.skip(f"{model.name} does not learn from histories")
        hits = total = 0
        for user in range(data.n_users):
            scored = model.recommend(data.history(user), 10)
            group = 0 if user < GROUP_SIZE else 1
            hits += sum(group_of_item(i) == group for i in scored.items.tolist())
            total += len(scored)
        assert total > 0
        assert hits / total >= 0.8

    def test_similar_items(self, model: Recommender) -> None:
        for item in (3, N_ITEMS - 5):
            scored = model.similar_items(item, 10)
            self.check_list(scored, 10)
            assert item not in scored.items.tolist()

    def test_save_then_load_answers_the_same(
        self, model: Recommender, data: Dataset, tmp_path: Path
    ) -> None:
        model.save(tmp_path)
        loaded = type(model).load(tmp_path)
        assert loaded.params == model.params
        for user in (0, GROUP_SIZE + 1):
            a = model.recommend(data.history(user), 10)
            b = loaded.recommend(data.history(user), 10)
            assert a.items.tolist() == b.items.tolist()
            np.testing.assert_allclose(a.scores, b.scores, rtol=1e-5, atol=1e-6)
        a, b = model.similar_items(4, 5), loaded.similar_items(4, 5)
        assert a.items.tolist() == b.items.tolist()

    def test_fitting_twice_gives_the_same_answers(self, data: Dataset) -> None:
        first, second = self.make_model(), self.make_model()
        first.fit(data)
        second.fit(data)
        a = first.recommend(data.history(5), 10)
        b = second.recommend(data.history(5), 10)
        assert a.items.tolist() == b.items.tolist()

    def test_recommend_many_matches_recommend(self, model: Recommender, data: Dataset) -> None:
        histories = [data.history(u) for u in (0, 1, GROUP_SIZE)]
        many = model.recommend_many(histories, 10)
        assert [s.items.tolist() for s in many] == [
            model.recommend(h, 10).items.tolist() for h in histories
        ]

    def test_data_without_facts(self) -> None:
        bare = make_dataset(facts=False)
        cls = type(self.make_model())
        if cls.requires:
            assert not cls.supports(bare)
        else:
            model = self.make_model()
            model.fit(bare)
            self.check_list(model.recommend(bare.history(0), 10), 10)
