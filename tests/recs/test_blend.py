"""The blend: normalising, fitting weights on validation, what is never shown, the per-show
cap, diversity, reasons, cold start, also-played, and saving.

The rules are pinned here with small stand-in models (``blend_fakes.py``) whose answers
are known; ``test_blend_real.py`` runs the same blend with the real models.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import scipy.sparse as sp
from blend_fakes import FakeContent, FakeFresh, FakeItemKNN, FakePopular, FakeTrending, Fixed
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from recs_synthetic import DAY, N_ITEMS, N_SHOWS, NOW, PER_SHOW, make_dataset

from podsight.conf import SettingError
from podsight.errors import InputError
from podsight.recs.blend import (
    Hybrid,
    UnknownItem,
    fit_weights,
    intra_list_similarity,
    language_name,
    normalise,
    split_validation,
)
from podsight.recs.core import Dataset, History, Scored


def fakes() -> dict:
    return {
        "itemknn": FakeItemKNN(),
        "content": FakeContent(),
        "fresh": FakeFresh(),
        "trending": FakeTrending(),
        "popular": FakePopular(),
    }


@pytest.fixture(scope="module")
def data() -> Dataset:
    return make_dataset()


@pytest.fixture(scope="module")
def hybrid(data: Dataset) -> Hybrid:
    blend = Hybrid(fakes(), show_cap=2, diversity=0.0)
    blend.fit(data)
    return blend


def fixed_blend(lists: dict[str, tuple[list[int], list[float]]], data: Dataset, **kwargs) -> Hybrid:
    weights = kwargs.pop("weights", {name: 1.0 / len(lists) for name in lists})
    models = {name: Fixed(items, scores) for name, (items, scores) in lists.items()}
    blend = Hybrid(models, weights=weights, **{"diversity": 0.0, "show_cap": 99, **kwargs})
    blend.fit(data, validation_share=0)
    return blend


def warm(user: str = "w", **fields) -> History:
    """A listener with one play (item 119, last of the sport shows) unless told."""
    fields.setdefault("items", np.array([119], dtype=np.int32))
    fields.setdefault("weights", np.ones(len(fields["items"]), dtype=np.float32))
    return History(user=user, **fields)


# --- normalising ----------------------------------------------------------------------------


def test_normalised_scores_depend_on_ranks_only() -> None:
    scores = np.array([9.0, 3.0, 2.5, -7.0])
    expected = 10.0 / (10.0 + np.arange(4))
    np.testing.assert_allclose(normalise(scores), expected)
    # Any increasing transformation of a source's scale gives the same normalised scores.
    np.testing.assert_allclose(normalise(np.exp(scores) * 1000 + 5), expected)
    np.testing.assert_allclose(normalise(scores / 1e6), expected)
    # Ties share their average rank.
    np.testing.assert_allclose(
        normalise(np.array([5.0, 5.0, 1.0])), [10 / 10.5, 10 / 10.5, 10 / 12]
    )
    assert len(normalise(np.zeros(0))) == 0


def test_raw_scales_do_not_decide_the_blend(data: Dataset) -> None:
    # One source scores in the thousands, the other below one: with equal weights an item
    # second in both beats an item first in one and absent from the other.
    blend = fixed_blend(
        {"big": ([1, 2, 3], [5000.0, 4000.0, 10.0]), "small": ([4, 2, 5], [0.9, 0.8, 0.1])}, data
    )
    recs = blend.recommend(warm(), 5)
    assert [r.item for r in recs][:1] == [2]
    assert recs[0].sources == ("big", "small") or recs[0].sources == ("small", "big")
    # Ranks 0 in one list and absent elsewhere tie across the two sources.
    by_item = {r.item: r.score for r in recs}
    assert by_item[1] == pytest.approx(by_item[4])
    assert by_item[2] == pytest.approx(0.5 * 10 / 11 * 2)


def test_weights_scale_each_source(data: Dataset) -> None:
    lists = {"a": ([1, 2, 3], [3.0, 2.0, 1.0]), "b": ([4, 5, 6], [3.0, 2.0, 1.0])}
    recs = fixed_blend(lists, data, weights={"a": 0.2, "b": 0.8}).recommend(warm(), 6)
    assert [r.item for r in recs] == [4, 5, 6, 1, 2, 3]
    assert all(r.sources == (("a",) if r.item < 4 else ("b",)) for r in recs)


# --- the validation split and the weights ------------------------------------------------------


def test_the_split_holds_out_each_users_latest_share(data: Dataset) -> None:
    train, held, how = split_validation(data, 0.25, seed=1)
    assert how == "time"
    assert train.matrix.nnz + held.nnz == data.matrix.nnz
    assert (train.matrix.multiply(held)).nnz == 0
    for user in range(data.n_users):
        row = data.matrix.getrow(user)
        out = set(held.getrow(user).indices.tolist())
        assert len(out) == 2  # 25 % of 8
        stamps = {i: data.timestamps[user, i] for i in row.indices.tolist()}
        latest = sorted(stamps, key=stamps.get)[-2:]
        assert out == set(latest)
    # What the training data calls seen follows the training matrix.
    assert train.seen_matrix().multiply(held).nnz == 0


def test_without_timestamps_the_split_is_random_and_seeded() -> None:
    bare = make_dataset(facts=False)
    bare = replace(bare, timestamps=None)
    _, a, how = split_validation(bare, 0.2, seed=3)
    _, b, _ = split_validation(bare, 0.2, seed=3)
    _, c, _ = split_validation(bare, 0.2, seed=4)
    assert how == "random"
    assert (a != b).nnz == 0 and (a != c).nnz > 0


def test_a_user_with_one_interaction_keeps_it() -> None:
    matrix = sp.csr_matrix(np.array([[1.0, 0, 0], [1.0, 1.0, 0]], dtype=np.float32))
    tiny = Dataset(users=["a", "b"], items=["x", "y", "z"], matrix=matrix)
    train, held, _ = split_validation(tiny, 0.5, seed=0)
    assert train.matrix.getrow(0).nnz == 1 and held.getrow(0).nnz == 0
    assert held.getrow(1).nnz == 1


def test_fitted_weights_are_a_point_of_the_simplex_at_least_as_good_as_each_source() -> None:
    # Each user's two relevant items: one found only by source a, one only by b.
    lists = {"a": [], "b": []}
    relevant = []
    for u in range(20):
        a_items, b_items = [100 + u, 1, 2, 3], [200 + u, 4, 5, 6]
        lists["a"].append(Scored("a", np.array(a_items), -np.arange(4.0)))
        lists["b"].append(Scored("b", np.array(b_items), -np.arange(4.0)))
        relevant.append({100 + u, 200 + u})
    weights, best = fit_weights(lists, relevant)
    assert sum(weights.values()) == pytest.approx(1.0)
    assert all(w > 0 for w in weights.values())
    # Alone, each finds one of two at rank 1: NDCG 1/(1 + 1/log2 3) ≈ 0.613. Blended both
    # reach the top two: 1.
    assert best == pytest.approx(1.0)


def test_the_blend_beats_or_ties_every_single_model_on_validation(hybrid: Hybrid) -> None:
    fit = hybrid.fitted
    assert fit is not None and fit.split == "time"
    assert fit.validation_users == 60 and fit.held_out == 120
    assert set(fit.models) == set(fakes())
    assert sum(fit.weights.values()) == pytest.approx(1.0)
    # The data has shows: the weights were re-checked on the lists as served (capped),
    # where the blend is at least as good as any model alone.
    assert set(fit.served_models) == set(fakes())
    for name, metrics in fit.served_models.items():
        assert fit.served.ndcg >= metrics.ndcg - 1e-9, name
    assert 0 < fit.served.ndcg <= 1 and 0 < fit.served.coverage <= 1
    summary = fit.as_dict()
    assert set(summary["blend"]) >= {"ndcg@10", "p@10", "r@10", "coverage"}
    assert summary["weights"] == pytest.approx(fit.weights, abs=1e-4)


def test_without_shows_the_blended_ranking_is_at_least_each_model() -> None:
    # No shows, no cap: the ranking's search alone decides, over every single model.
    bare = make_dataset(facts=False)
    fit = Hybrid({"itemknn": FakeItemKNN(), "popular": FakePopular()}, diversity=0.0).fit(bare)
    assert not fit.served_models
    for name, metrics in fit.models.items():
        assert fit.blend.ndcg >= metrics.ndcg - 1e-9, name
    assert fit.served.ndcg == pytest.approx(fit.blend.ndcg)


def test_models_without_the_facts_they_need_are_left_out() -> None:
    bare = make_dataset(facts=False)
    blend = Hybrid(fakes(), diversity=0.0)
    fit = blend.fit(bare)
    assert set(fit.skipped) == {"content", "fresh", "trending"}
    assert set(blend.models) == {"itemknn", "popular"} == set(fit.weights)
    assert blend.recommend(bare.history(0), 10)
    with pytest.raises(InputError, match="none of the models"):
        Hybrid({"content": FakeContent()}).fit(bare)


# --- never shown ----------------------------------------------------------------------------


def test_seen_rejected_and_excluded_items_are_never_shown(hybrid: Hybrid, data: Dataset) -> None:
    for user in range(0, data.n_users, 3):
        history = data.history(user)
        extra = np.array([0, 60])
        recs = hybrid.recommend(history, 40, exclude=extra)
        assert recs
        assert not {r.item for r in recs} & set(history.excluded(extra).tolist())


def test_shows_unfollowed_are_never_shown(hybrid: Hybrid, data: Dataset) -> None:
    history = data.history(2)
    shown = {int(data.item_show[r.item]) for r in hybrid.recommend(history, 30)}
    dropped = sorted(shown)[:2]
    history.unfollowed = np.array(dropped, dtype=np.int32)
    again = hybrid.recommend(history, 30)
    assert again and not {int(data.item_show[r.item]) for r in again} & set(dropped)


def test_unavailable_episodes_are_never_shown(data: Dataset) -> None:
    gone = replace(data, item_available=data.item_available.copy())
    gone.item_available[: N_ITEMS // 2 : 2] = False  # every other science episode
    blend = Hybrid(fakes(), diversity=0.0)
    blend.fit(gone)
    for user in (0, 5, 11):
        recs = blend.recommend(gone.history(user), 30)
        assert recs and all(gone.item_available[r.item] for r in recs)
    assert all(gone.item_available[r.item] for r in blend.also_played(1, 20))


def test_one_episode_under_two_indices_is_shown_once(data: Dataset) -> None:
    # Items 20 and 21 are the same canonical episode (two platforms' entries mapped to it).
    twice = replace(data, items=list(data.items))
    twice.items[21] = twice.items[20]
    blend = fixed_blend({"a": ([20, 21, 22, 23], [4.0, 3.0, 2.0, 1.0])}, twice)
    assert [r.item for r in blend.recommend(warm(), 4)] == [20, 22, 23]
    # Having played one of the two, the listener sees neither.
    assert [r.item for r in blend.recommend(warm(items=np.array([21])), 4)] == [22, 23]


def test_the_language_filter(hybrid: Hybrid, data: Dataset) -> None:
    recs = hybrid.recommend(data.history(1), 20, language="de-DE")
    assert recs and all(r.language == "de" for r in recs)
    assert all(data.item_language[r.item] == "en" for r in hybrid.recommend(data.history(1), 10))
    assert hybrid.recommend(data.history(1), 10, language="sv") == []


# --- the per-show cap -------------------------------------------------------------------


def _max_per_show(recs, data: Dataset, window: int) -> int:
    shows = [int(data.item_show[r.item]) for r in recs]
    return max(
        max(shows[i : i + window].count(s) for s in set(shows[i : i + window]))
        for i in range(max(len(shows) - window + 1, 1))
    )


def test_at_most_two_episodes_of_a_show_in_any_ten(hybrid: Hybrid, data: Dataset) -> None:
    # One source proposing six whole shows in a row: the cap interleaves them.
    blend = fixed_blend({"a": (list(range(60)), list(range(60, 0, -1)))}, data, show_cap=2)
    recs = blend.recommend(warm(), 20)
    assert len(recs) == 20
    assert _max_per_show(recs, data, 10) == 2
    assert [r.item for r in recs[:3]] == [0, 1, 10]
    for user in range(0, data.n_users, 7):
        assert _max_per_show(hybrid.recommend(data.history(user), 20), data, 10) <= 2


def test_the_cap_is_configurable(data: Dataset, monkeypatch: pytest.MonkeyPatch) -> None:
    lists = {"a": (list(range(40)), list(range(40, 0, -1)))}
    assert _max_per_show(fixed_blend(lists, data, show_cap=1).recommend(warm(), 10), data, 10) == 1
    three = fixed_blend(lists, data, show_cap=3, cap_window=5).recommend(warm(), 20)
    assert _max_per_show(three, data, 5) == 3
    assert [r.item for r in three[:4]] == [0, 1, 2, 10]
    monkeypatch.setenv("PODSIGHT_RECS_SHOW_CAP", "4")
    blend = Hybrid({"a": Fixed(*lists["a"])}, weights={"a": 1.0}, diversity=0.0)
    blend.fit(data, validation_share=0)
    assert blend.show_cap == 4
    assert _max_per_show(blend.recommend(warm(), 10), data, 10) == 4
    monkeypatch.setenv("PODSIGHT_RECS_SHOW_CAP", "none")
    with pytest.raises(SettingError, match="PODSIGHT_RECS_SHOW_CAP"):
        Hybrid({"a": Fixed(*lists["a"])})


def test_a_list_runs_short_rather_than_break_the_cap(data: Dataset) -> None:
    blend = fixed_blend({"a": (list(range(10)), list(range(10, 0, -1)))}, data, show_cap=2)
    assert [r.item for r in blend.recommend(warm(), 10)] == [0, 1]


# --- diversity ------------------------------------------------------------------------


def test_mmr_lowers_intra_list_similarity(data: Dataset) -> None:
    # A list that mixes the two topics lower down: MMR brings the other topic up.
    values = []
    for lam in (0.0, 0.3, 0.7):
        blend = Hybrid({"content": FakeContent(), "popular": FakePopular()}, diversity=lam)
        blend.fit(data, validation_share=0)
        sims = [
            intra_list_similarity(
                [r.item for r in blend.recommend(data.history(u), 10)], data.item_vectors
            )
            for u in range(0, data.n_users, 4)
        ]
        values.append(float(np.mean(sims)))
    assert values[0] > values[1] > values[2]


def test_the_fit_measures_diversity_against_relevance_only(data: Dataset) -> None:
    blend = Hybrid(fakes(), diversity=0.5)
    fit = blend.fit(data)
    assert set(fit.diversity) == {0.0, 0.5}
    assert fit.served is fit.diversity[0.5]
    assert fit.diversity[0.5].intra_list_similarity < fit.diversity[0.0].intra_list_similarity


def test_diversity_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PODSIGHT_RECS_DIVERSITY", "0.4")
    assert Hybrid({"a": Fixed([1], [1.0])}).diversity == 0.4
    monkeypatch.setenv("PODSIGHT_RECS_DIVERSITY", "1.5")
    with pytest.raises(SettingError, match="between 0 and 1"):
        Hybrid({"a": Fixed([1], [1.0])})


# --- reasons ----------------------------------------------------------------------------


def test_every_recommendation_has_sources_and_a_reason(hybrid: Hybrid, data: Dataset) -> None:
    for user in range(data.n_users):
        for rec in hybrid.recommend(data.history(user), 10):
            assert rec.sources and rec.reason
            assert set(rec.sources) <= set(hybrid.models)
            assert rec.episode == data.items[rec.item]
            assert rec.show == data.shows[data.item_show[rec.item]]


class _Because(Fixed):
    """A fixed list explained by fixed history items or shows."""

    def __init__(self, items, because=None, because_show=None, **params):
        super().__init__(items, list(range(len(items), 0, -1)), **params)
        self.because, self.because_show = because, because_show

    def recommend(self, history, n, *, exclude=None):
        return Scored(
            self.name, self.items, self.scores, because=self.because, because_show=self.because_show
        )


def _source(name: str, items, **kwargs) -> _Because:
    """A fixed source of the kind ``name`` (the kind decides a reason's wording)."""
    return type(f"Fixed_{name}", (_Because,), {"name": name})(items, **kwargs)


def test_each_kind_of_reason(data: Dataset) -> None:
    history = warm(
        items=np.array([3, 4], dtype=np.int32),
        finished=np.array([3], dtype=np.int32),
        liked=np.array([4], dtype=np.int32),
        follows=np.array([1], dtype=np.int32),
        languages=("en",),
    )
    title3, title4 = data.item_titles[3], data.item_titles[4]

    def reason(name, item, because=-1, show=-1, history=history, **params):
        model = _source(name, [item], because=[because], because_show=[show], **params)
        blend = Hybrid({name: model}, weights={name: 1.0}, diversity=0.0)
        blend.fit(data, validation_share=0)
        return blend.recommend(history, 1)[0].reason

    assert reason("als", 30, because=3) == f"because you finished {title3}"
    assert reason("als", 30, because=4) == f"because you liked {title4}"
    played = warm(items=np.array([3], dtype=np.int32))
    assert reason("bpr", 30, because=3, history=played) == f"because you played {title3}"
    assert reason("ease", 30) == "listeners with tastes like yours played this"
    assert reason("itemknn", 30, because=3) == f"listeners who played {title3} also played this"
    assert reason("fresh", 12, show=1) == "new from Science Show 1 you follow"
    assert reason("fresh", 22, show=2) == "new from Science Show 2, which you listen to"
    week = 7 * DAY
    assert reason("trending", 30, window=week) == "popular in English this week"
    assert reason("trending", 90, window=week) == "popular in German this week"
    assert reason("trending", 90, window=DAY) == "popular in German today"
    assert reason("trending", 90, window=3 * DAY) == "popular in German in the last 3 days"
    assert reason("popular", 30) == "popular with listeners"
    assert reason("content", 30, because=4) == f"about Science, like {title4} you liked"
    assert reason("content", 30, because=3) == f"about Science, like {title3} you finished"


def test_the_reason_comes_from_the_strongest_source_that_can_explain(data: Dataset) -> None:
    history = warm(items=np.array([3], dtype=np.int32), finished=np.array([3], dtype=np.int32))

    # itemknn is stronger but cannot name a history item: popular explains.
    models = {
        "itemknn": _source("itemknn", [50], because=[-1]),
        "popular": _source("popular", [50]),
    }
    blend = Hybrid(models, weights={"itemknn": 0.7, "popular": 0.3}, diversity=0.0)
    blend.fit(data, validation_share=0)
    [rec] = blend.recommend(history, 1)
    assert rec.sources == ("itemknn", "popular")
    assert rec.reason == "popular with listeners"
    models["itemknn"].because = np.array([3])
    [rec] = blend.recommend(history, 1)
    assert rec.reason == f"listeners who played {data.item_titles[3]} also played this"


def test_language_names() -> None:
    assert language_name("en") == "English"
    assert language_name("pt-BR") == "Portuguese"
    assert language_name("xx") == "XX"


# --- cold start ---------------------------------------------------------------------------


def test_a_listener_with_no_history_gets_popular_in_their_language_and_their_follows(
    hybrid: Hybrid, data: Dataset
) -> None:
    # German speaker following science show 2 (English): trending German episodes, and
    # the new episodes of the followed show.
    history = History(user="new", languages=("de",), follows=np.array([2], dtype=np.int32))
    recs = hybrid.recommend(history, 10)
    assert len(recs) == 10
    from_follow = [r for r in recs if data.item_show[r.item] == 2]
    assert from_follow and all(
        "new from Science Show 2 you follow" == r.reason for r in from_follow
    )
    others = [r for r in recs if data.item_show[r.item] != 2]
    assert others and all(r.language == "de" for r in others)
    assert any(r.reason == "popular in German this week" for r in others)
    # The collaborative and content sources have nothing to go on and stay out.
    assert all(set(r.sources) <= {"trending", "popular", "fresh"} for r in recs)
    # Nobody at all: still a list, from what is popular.
    anonymous = hybrid.recommend(History(user="anon"), 10)
    assert len(anonymous) == 10 and all("popular" in r.reason for r in anonymous)


def _with_new_episode(data: Dataset) -> tuple[Dataset, int]:
    """The data plus one episode of science show 1, never played,
    published ten minutes ago (the newest), its vector on the science axis."""
    n = data.n_items
    vector = np.zeros((1, data.item_vectors.shape[1]), dtype=np.float32)
    vector[0, 0] = 1.0
    grown = replace(
        data,
        items=[*data.items, "9999"],
        matrix=sp.hstack([data.matrix, sp.csr_matrix((data.n_users, 1))]).tocsr(),
        negatives=sp.hstack([data.negatives, sp.csr_matrix((data.n_users, 1))]).tocsr(),
        timestamps=sp.hstack([data.timestamps, sp.csr_matrix((data.n_users, 1))]).tocsr(),
        item_show=np.append(data.item_show, 1).astype(np.int32),
        item_titles=[*data.item_titles, "Brand new"],
        item_language=[*data.item_language, "en"],
        item_published=np.append(data.item_published, NOW - 600.0),
        item_available=np.append(data.item_available, True),
        item_vectors=np.vstack([data.item_vectors, vector]),
        item_topics=[*data.item_topics, ("Science",)],
    )
    return grown, n


def test_a_new_episode_reaches_listeners_through_its_show_and_its_content(data: Dataset) -> None:
    grown, new = _with_new_episode(data)
    # Through fresh: someone following its show, and someone who listens to the show.
    blend = Hybrid(
        {"fresh": FakeFresh(), "itemknn": FakeItemKNN()},
        weights={"fresh": 0.6, "itemknn": 0.4},
        diversity=0.0,
    )
    blend.fit(grown, validation_share=0)
    follower = History(
        user="f",
        items=np.array([70], dtype=np.int32),
        weights=np.ones(1, dtype=np.float32),
        follows=np.array([1], dtype=np.int32),
    )
    recs = blend.recommend(follower, 5)
    rec = next(r for r in recs if r.item == new)
    assert rec.sources == ("fresh",) and rec.reason == "new from Science Show 1 you follow"
    # A listener of the show who follows nothing: its new episode is fresh's first pick,
    # still within the show's two places in the first ten.
    listener = warm(items=np.array([PER_SHOW + 4], dtype=np.int32))
    recs = blend.recommend(listener, 10)
    assert new in [r.item for r in recs]
    assert (
        next(r for r in recs if r.item == new).reason
        == "new from Science Show 1, which you listen to"
    )
    # Through content: no show link at all, only what the listener liked.
    blend = Hybrid(
        {"content": FakeContent(), "itemknn": FakeItemKNN()},
        weights={"content": 0.5, "itemknn": 0.5},
        diversity=0.0,
    )
    blend.fit(grown, validation_share=0)
    fan = warm(items=np.array([0, 21, 33], dtype=np.int32), liked=np.array([0], dtype=np.int32))
    recs = blend.recommend(fan, 10)
    assert new in [r.item for r in recs]
    rec = next(r for r in recs if r.item == new)
    assert rec.sources == ("content",) and rec.reason.startswith("about Science, like ")


# --- also played ----------------------------------------------------------------------------


def test_also_played(hybrid: Hybrid, data: Dataset) -> None:
    recs = hybrid.also_played(5, 10)
    assert len(recs) == 10 and 5 not in [r.item for r in recs]
    assert all(r.sources == ("itemknn",) for r in recs)
    assert all(
        r.reason == f"listeners who played {data.item_titles[5]} also played this" for r in recs
    )
    scores = [r.score for r in recs]
    assert scores == sorted(scores, reverse=True)
    with pytest.raises(UnknownItem):
        hybrid.also_played(N_ITEMS + 5, 3)


def test_also_played_falls_back_to_content_for_an_unplayed_episode(data: Dataset) -> None:
    grown, new = _with_new_episode(data)
    blend = Hybrid({"itemknn": FakeItemKNN(), "content": FakeContent()}, diversity=0.0)
    blend.fit(grown, validation_share=0)
    recs = blend.also_played(new, 5)
    assert len(recs) == 5 and all(r.sources == ("content",) for r in recs)
    assert all(r.reason == "about Science, like Brand new" for r in recs)


# --- properties ---------------------------------------------------------------------------


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    played=st.lists(st.integers(0, N_ITEMS - 1), max_size=12, unique=True),
    rejected=st.lists(st.integers(0, N_ITEMS - 1), max_size=5),
    follows=st.lists(st.integers(0, N_SHOWS - 1), max_size=3, unique=True),
    unfollowed=st.lists(st.integers(0, N_SHOWS - 1), max_size=3, unique=True),
    gone=st.lists(st.integers(0, N_ITEMS - 1), max_size=30),
    cap=st.integers(1, 3),
    lam=st.sampled_from([0.0, 0.3]),
    n=st.integers(1, 30),
    language=st.sampled_from([None, "en", "de"]),
)
def test_no_list_holds_a_banned_item_or_breaks_the_cap(
    played, rejected, follows, unfollowed, gone, cap, lam, n, language, property_blends
) -> None:
    blend = property_blends[(cap, lam)]
    data = blend.facts
    history = History(
        user="p",
        items=np.array(played, dtype=np.int32),
        weights=np.ones(len(played), dtype=np.float32),
        negatives=np.array(rejected, dtype=np.int32),
        follows=np.array(follows, dtype=np.int32),
        unfollowed=np.array(unfollowed, dtype=np.int32),
        languages=("de",),
    )
    exclude = np.array(gone, dtype=np.int64)
    recs = blend.recommend(history, n, language=language, exclude=exclude)
    items = [r.item for r in recs]
    assert len(items) <= n and len(set(items)) == len(items)
    banned = set(played) | set(rejected) | set(gone)
    assert not banned & set(items)
    assert all(data.item_available[i] for i in items)
    assert not {int(data.item_show[i]) for i in items} & set(unfollowed)
    if language:
        assert all(data.item_language[i] == language for i in items)
    if recs:
        assert _max_per_show(recs, data, 10) <= cap
    assert all(r.reason and r.sources for r in recs)


@pytest.fixture(scope="module")
def property_blends(data: Dataset) -> dict:
    gone = replace(data, item_available=data.item_available.copy())
    gone.item_available[::7] = False
    blends = {}
    for cap in (1, 2, 3):
        for lam in (0.0, 0.3):
            blend = Hybrid(fakes(), show_cap=cap, diversity=lam)
            blend.fit(gone, validation_share=0)
            blends[(cap, lam)] = blend
    return blends


def test_recommend_before_fit_says_what_to_do() -> None:
    with pytest.raises(InputError, match="not fitted"):
        Hybrid({"a": Fixed([1], [1.0])}).recommend(History(user="x"), 3)
