"""Small stand-ins for the blender and the lake reader, so that the life cycle and the
serving code can be tested on their own logic (which version serves whom, the gate, the
cache, the impressions). ``tests/recs/test_serving_real.py`` runs the same paths on the
real modules and real lake data.

:class:`FakeHybrid` keeps the :class:`podsight.recs.blend.Hybrid` interface
(COORDINATION.md): ``fit`` returns validation metrics set by the test (``FakeHybrid.ndcg``),
``recommend`` ranks by popularity (``variant`` 0) or by reversed item order (1), so two
versions give visibly different lists; ``save``/``load`` round-trip through files.
"""

from __future__ import annotations

import json
import pickle
import sys
import types
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from podsight.progress import SILENT
from podsight.recs.core import Dataset, History, Recommender, Scored

__all__ = ["BlendFit", "FakeHybrid", "FakeModel", "Recommendation", "install"]


@dataclass(frozen=True)
class Recommendation:
    item: int
    episode: str
    score: float
    sources: tuple[str, ...]
    reason: str
    show: str | None
    language: str | None


@dataclass
class BlendFit:
    weights: dict[str, float]
    metrics: dict[str, dict[str, float]]


class FakeModel(Recommender):
    name = "fake"

    def fit(self, data, *, progress=SILENT):
        pass

    def recommend(self, history, n, *, exclude=None):
        return Scored("fake", np.zeros(0), np.zeros(0))

    def similar_items(self, item, n):
        return Scored("fake", np.zeros(0), np.zeros(0))

    def save(self, directory):
        pass

    @classmethod
    def load(cls, directory):
        return cls()


class FakeHybrid:
    ndcg = 0.30  # what the next fit reports
    variant = 0  # how the next fit ranks
    recommend_calls = 0
    show_cap, cap_window = 2, 10  # Hybrid's defaults: serving re-applies them after a filter

    def __init__(self, models, *, weights=None, **options) -> None:
        self.models = dict(models)
        self.weights = dict(weights or {})
        self.facts: Dataset | None = None

    def fit(self, data: Dataset, *, validation_share=0.2, seed=0, progress=SILENT) -> BlendFit:
        self.facts = data
        self.popularity = np.asarray(data.matrix.sum(axis=0)).ravel()
        self.chosen_variant = FakeHybrid.variant
        self.weights = {name: 1.0 / len(self.models) for name in self.models}
        metrics = {"hybrid": {"ndcg@10": FakeHybrid.ndcg, "precision@10": 0.1}}
        for name in self.models:
            metrics[name] = {"ndcg@10": FakeHybrid.ndcg / 2}
        return BlendFit(dict(self.weights), metrics)

    def _order(self) -> np.ndarray:
        if self.chosen_variant == 0:
            return np.argsort(-self.popularity, kind="stable")
        return np.arange(len(self.popularity))[::-1]

    def _rec(self, item: int, score: float, reason: str) -> Recommendation:
        facts = self.facts
        show = int(facts.item_show[item]) if facts.item_show is not None else -1
        return Recommendation(
            item=int(item),
            episode=facts.items[item],
            score=score,
            sources=("popular",),
            reason=reason,
            show=facts.shows[show] if show >= 0 else None,
            language=facts.item_language[item] if facts.item_language else None,
        )

    def recommend(self, history: History, n: int, *, language=None, exclude=None):
        FakeHybrid.recommend_calls += 1
        banned = set(history.excluded(exclude).tolist())
        out = []
        for rank, item in enumerate(self._order()):
            if item in banned:
                continue
            if language and self.facts.item_language[item] != language:
                continue
            out.append(self._rec(item, 1.0 / (rank + 1), "popular this week"))
            if len(out) == n:
                break
        return out

    def also_played(self, item: int, n: int):
        column = self.facts.matrix.getcol(item)
        users = column.indices
        together = np.asarray(self.facts.matrix[users].sum(axis=0)).ravel()
        together[item] = 0
        order = [i for i in np.argsort(-together, kind="stable") if together[i] > 0][:n]
        return [self._rec(i, float(together[i]), "listeners also played") for i in order]

    def save(self, directory: Path) -> None:
        (directory / "blend.json").write_text(
            json.dumps({"weights": self.weights, "variant": self.chosen_variant,
                        "models": list(self.models)})
        )  # fmt: skip
        (directory / "facts.pickle").write_bytes(pickle.dumps(self.facts))

    @classmethod
    def load(cls, directory: Path) -> FakeHybrid:
        meta = json.loads((directory / "blend.json").read_text())
        hybrid = cls({m: FakeModel() for m in meta["models"]}, weights=meta["weights"])
        hybrid.facts = pickle.loads((directory / "facts.pickle").read_bytes())
        hybrid.popularity = np.asarray(hybrid.facts.matrix.sum(axis=0)).ravel()
        hybrid.chosen_variant = meta["variant"]
        return hybrid


class LakeState:
    """What the fake lake holds: the dataset, and plays added since (user -> items)."""

    def __init__(self, dataset: Dataset) -> None:
        self.dataset = dataset
        self.extra: dict[str, list[int]] = {}


def install(monkeypatch, dataset: Dataset) -> LakeState:
    """Put the fakes where ``podsight.recs.blend`` and ``podsight.recs.data`` are
    imported from, and register ``fake`` as a model; the lake state to change."""
    from podsight.recs import core

    state = LakeState(dataset)

    def build_dataset(*, now=None, half_life=None, progress=SILENT) -> Dataset:
        return state.dataset

    def user_histories(user_ids, data: Dataset) -> dict[str, History]:
        index = {u: i for i, u in enumerate(data.users)}
        out = {}
        for user in user_ids:
            if user in index:
                history = data.history(index[user])
            else:
                history = History(user=user, languages=("en",))
            extra = state.extra.get(user)
            if extra:
                history.items = np.concatenate([history.items, np.array(extra, np.int32)])
                history.weights = np.concatenate([history.weights, np.ones(len(extra), np.float32)])
            out[user] = history
        return out

    blend = types.ModuleType("podsight.recs.blend")
    blend.Hybrid = FakeHybrid
    blend.BlendFit = BlendFit
    blend.Recommendation = Recommendation
    data = types.ModuleType("podsight.recs.data")
    data.build_dataset = build_dataset
    data.user_histories = user_histories
    monkeypatch.setitem(sys.modules, "podsight.recs.blend", blend)
    monkeypatch.setitem(sys.modules, "podsight.recs.data", data)
    monkeypatch.setitem(core.ALGORITHMS, "fake", f"{__name__}:FakeModel")
    FakeHybrid.ndcg, FakeHybrid.variant, FakeHybrid.recommend_calls = 0.30, 0, 0
    return state
