"""Trending: the contract, the window, the languages and the fall-backs."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from recs_contract import RecommenderContract
from recs_synthetic import N_ITEMS, group_of_item, make_dataset

from podsight.conf import SettingError
from podsight.recs.algorithms.trending import Trending, language_code
from podsight.recs.core import Dataset, History

DAY = 86_400.0


class TestTrendingContract(RecommenderContract):
    def make_model(self) -> Trending:
        return Trending()


def _plays(plays: list[tuple[int, int, float, float]], languages: list[str]) -> Dataset:
    """A dataset from (user, item, weight, days ago) plays, items in ``languages``."""
    now = 1_800_000_000.0
    users = 1 + max(p[0] for p in plays)
    shape = (users, len(languages))
    rows, cols, weights, ages = zip(*plays, strict=True)
    matrix = sp.csr_matrix((weights, (rows, cols)), shape=shape, dtype=np.float32)
    stamps = sp.csr_matrix(
        ([now - a * DAY for a in ages], (rows, cols)), shape=shape, dtype=np.float64
    )
    return Dataset(
        users=[f"u{u}" for u in range(users)],
        items=[f"e{i}" for i in range(len(languages))],
        matrix=matrix,
        timestamps=stamps,
        item_language=languages,
        now=now,
    )


# Items 0-2 English, 3-4 German, 5 French. This week: item 2 by three listeners, item 1
# by two; item 0 was the all-time favourite (five listeners, a month ago). German: only
# old plays.
PLAYS = [
    *[(u, 0, 1.0, 30.0) for u in range(5)],
    *[(u, 1, 1.0, 2.0) for u in range(2)],
    *[(u, 2, 1.0, 1.0) for u in range(3)],
    *[(u, 3, 1.0, 40.0) for u in range(2)],
    (0, 4, 1.0, 50.0),
    (3, 5, 1.0, 3.0),
]
LANGUAGES = ["en", "en", "en-GB", "de", "de-AT", "fr"]


@pytest.fixture
def model() -> Trending:
    model = Trending(window=7 * DAY)
    model.fit(_plays(PLAYS, LANGUAGES))
    return model


def test_this_weeks_listeners_come_first_then_all_time(model: Trending) -> None:
    scored = model.recommend(History(user="new", languages=("en",)), 10)
    assert scored.items.tolist() == [2, 1, 0]
    assert model.in_window[[2, 1]].all() and not model.in_window[0]


def test_a_wider_window_counts_the_older_plays() -> None:
    model = Trending(window=60 * DAY)
    model.fit(_plays(PLAYS, LANGUAGES))
    scored = model.recommend(History(user="new", languages=("en",)), 10)
    assert scored.items.tolist() == [0, 2, 1]


def test_an_empty_window_falls_back_to_all_time_in_that_language(model: Trending) -> None:
    scored = model.recommend(History(user="new", languages=("de-DE",)), 10)
    assert scored.items.tolist() == [3, 4]
    assert not model.in_window[scored.items].any()


def test_distinct_listeners_outweigh_one_heavy_listener() -> None:
    plays = [(0, 0, 50.0, 1.0), (1, 1, 1.0, 1.0), (2, 1, 1.0, 1.0)]
    model = Trending(window=7 * DAY)
    model.fit(_plays(plays, ["en", "en"]))
    assert model.recommend(History(user="x"), 2).items.tolist() == [1, 0]


def test_languages_from_the_profile_then_the_history_then_everything(model: Trending) -> None:
    assert model.languages_for(History(user="a", languages=("fr", "en"))) == ("fr", "en")
    played_german = History(
        user="b", items=np.array([3], dtype=np.int32), weights=np.ones(1, dtype=np.float32)
    )
    assert model.languages_for(played_german) == ("de",)
    german = model.recommend(played_german, 10)
    assert german.items.tolist() == [4]  # item 3 is heard already
    assert model.languages_for(History(user="c")) is None
    # A language nobody listens to: the next step decides.
    assert model.languages_for(History(user="d", languages=("ja",))) is None


def test_a_user_whose_languages_are_unknown_gets_every_language(model: Trending) -> None:
    scored = model.recommend(History(user="unknown"), 10)
    assert set(scored.items.tolist()) == set(range(6))
    assert scored.items[0] == 2  # this week's most listened, whatever its language


def test_on_the_synthetic_data_the_language_decides_the_group() -> None:
    data = make_dataset()
    model = Trending()
    model.fit(data)
    english = model.recommend(History(user="n", languages=("en",)), N_ITEMS)
    assert len(english) > 0 and all(group_of_item(i) == 0 for i in english.items.tolist())
    similar = model.similar_items(N_ITEMS - 1, 10)
    assert all(group_of_item(i) == 1 for i in similar.items.tolist())


def test_in_a_split_by_time_the_future_is_never_proposed() -> None:
    # Item 2 is this week's favourite, but dated after the data's ``now`` (the future of
    # a split by time, or a clock gone wrong): it did not exist yet.
    data = _plays(PLAYS, LANGUAGES)
    data.item_published = np.full(len(LANGUAGES), data.now - 100 * DAY)
    data.item_published[2] = data.now + DAY
    data.item_published[1] = np.nan  # unknown: kept
    model = Trending(window=7 * DAY)
    model.fit(data)
    assert model.recommend(History(user="new", languages=("en",)), 10).items.tolist() == [1, 0]
    assert not model.in_window[2]
    assert 2 not in model.similar_items(0, 10).items.tolist()


def test_the_window_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PODSIGHT_RECS_TRENDING_WINDOW", "2d")
    assert Trending().params["window"] == 2 * DAY
    monkeypatch.setenv("PODSIGHT_RECS_TRENDING_WINDOW", "a week")
    with pytest.raises(SettingError, match="PODSIGHT_RECS_TRENDING_WINDOW.*such as"):
        Trending()


def test_language_codes() -> None:
    assert [language_code(t) for t in ("en-US", "DE", "pt_BR", "")] == ["en", "de", "pt", ""]
