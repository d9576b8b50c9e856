"""Small, honest stand-ins for the candidate models, named like the real ones so the blend
words their reasons the same: the blend's own rules (normalising, filtering, capping,
diversifying, explaining) are tested against answers whose structure is known.

They are not registered (``Hybrid.load`` resolves the real classes): save/load is tested
with the real models.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar, Self

import numpy as np

from podsight.progress import SILENT, Progress
from podsight.recs.core import Dataset, History, Recommender, Scored

__all__ = ["FakeContent", "FakeFresh", "FakeItemKNN", "FakePopular", "FakeTrending", "Fixed"]


def _top(scores: np.ndarray, n: int, banned: np.ndarray) -> np.ndarray:
    scores = scores.astype(np.float64).copy()
    scores[banned] = -np.inf
    order = np.lexsort((np.arange(len(scores)), -scores))
    order = order[np.isfinite(scores[order]) & (scores[order] > 0)]
    return order[:n]


class _Fake(Recommender):
    def similar_items(self, item: int, n: int) -> Scored:
        return Scored(self.name, np.zeros(0), np.zeros(0))

    def save(self, directory: Path) -> None:  # pragma: no cover - not registered
        raise NotImplementedError

    @classmethod
    def load(cls, directory: Path) -> Self:  # pragma: no cover - not registered
        raise NotImplementedError


class FakeItemKNN(_Fake):
    """Cosine of co-play columns; ``because``: the history item contributing most."""

    name: ClassVar[str] = "itemknn"

    def fit(self, data: Dataset, *, progress: Progress = SILENT) -> None:
        binary = (data.matrix > 0).astype(np.float64).toarray()
        norms = np.linalg.norm(binary, axis=0) + 1e-9
        sims = (binary.T @ binary) / np.outer(norms, norms)
        np.fill_diagonal(sims, 0.0)
        self.sims = sims

    def recommend(self, history: History, n: int, *, exclude: np.ndarray | None = None) -> Scored:
        if not len(history.items):
            return Scored(self.name, np.zeros(0), np.zeros(0))
        parts = self.sims[history.items] * history.weights[:, None]
        scores = parts.sum(axis=0)
        items = _top(scores, n, history.excluded(exclude))
        because = history.items[np.argmax(parts[:, items], axis=0)]
        return Scored(self.name, items, scores[items], because=because)

    def similar_items(self, item: int, n: int) -> Scored:
        items = _top(self.sims[item], n, np.array([item]))
        return Scored(self.name, items, self.sims[item][items])


class FakePopular(_Fake):
    name: ClassVar[str] = "popular"
    personal: ClassVar[bool] = False

    def fit(self, data: Dataset, *, progress: Progress = SILENT) -> None:
        self.counts = np.asarray((data.matrix > 0).sum(axis=0)).ravel().astype(np.float64)

    def recommend(self, history: History, n: int, *, exclude: np.ndarray | None = None) -> Scored:
        items = _top(self.counts, n, history.excluded(exclude))
        return Scored(self.name, items, self.counts[items])


class FakeTrending(FakePopular):
    """Play counts in the listener's languages (all when none known)."""

    name: ClassVar[str] = "trending"
    requires: ClassVar[tuple[str, ...]] = ("item_language",)

    def __init__(self, **params: object) -> None:
        params.setdefault("window", 7 * 86_400.0)
        super().__init__(**params)

    def fit(self, data: Dataset, *, progress: Progress = SILENT) -> None:
        super().fit(data)
        self.language = np.array(data.item_language)

    def recommend(self, history: History, n: int, *, exclude: np.ndarray | None = None) -> Scored:
        counts = self.counts.copy()
        if history.languages:
            counts[~np.isin(self.language, list(history.languages))] = 0.0
        items = _top(counts, n, history.excluded(exclude))
        return Scored(self.name, items, counts[items])


class FakeFresh(_Fake):
    """The newest episodes of followed shows (and of shows played), by publication."""

    name: ClassVar[str] = "fresh"
    requires: ClassVar[tuple[str, ...]] = ("item_show", "item_published")

    def fit(self, data: Dataset, *, progress: Progress = SILENT) -> None:
        self.item_show = data.item_show.astype(np.int64)
        self.published = data.item_published
        self.now = data.now

    def recommend(self, history: History, n: int, *, exclude: np.ndarray | None = None) -> Scored:
        shows = set(history.follows.tolist()) | set(self.item_show[history.items].tolist())
        if not shows:
            return Scored(self.name, np.zeros(0), np.zeros(0))
        age_days = (self.now - self.published) / 86_400.0
        scores = np.where(np.isin(self.item_show, list(shows)), 1.0 / (1.0 + age_days), 0.0)
        items = _top(scores, n, history.excluded(exclude))
        return Scored(self.name, items, scores[items], because_show=self.item_show[items])


class FakeContent(_Fake):
    """Cosine to the mean vector of the history; ``because``: the closest history item."""

    name: ClassVar[str] = "content"
    requires: ClassVar[tuple[str, ...]] = ("item_vectors",)

    def fit(self, data: Dataset, *, progress: Progress = SILENT) -> None:
        self.vectors = data.item_vectors.astype(np.float64)

    def recommend(self, history: History, n: int, *, exclude: np.ndarray | None = None) -> Scored:
        if not len(history.items):
            return Scored(self.name, np.zeros(0), np.zeros(0))
        profile = self.vectors[history.items].mean(axis=0)
        scores = self.vectors @ profile + 1.0  # > 0 for _top
        items = _top(scores, n, history.excluded(exclude))
        closest = np.argmax(self.vectors[history.items] @ self.vectors[items].T, axis=0)
        return Scored(self.name, items, scores[items], because=history.items[closest])

    def similar_items(self, item: int, n: int) -> Scored:
        scores = self.vectors @ self.vectors[item] + 1.0
        items = _top(scores, n, np.array([item]))
        return Scored(self.name, items, scores[items])


class Fixed(_Fake):
    """Always the same list (minus what is excluded): for exact blending tests."""

    name: ClassVar[str] = "fixed"

    def __init__(self, items: list[int], scores: list[float], **params: object) -> None:
        super().__init__(items=list(items), scores=list(scores), **params)
        self.items, self.scores = np.array(items), np.array(scores, dtype=np.float64)

    def fit(self, data: Dataset, *, progress: Progress = SILENT) -> None:
        pass

    def recommend(self, history: History, n: int, *, exclude: np.ndarray | None = None) -> Scored:
        keep = ~np.isin(self.items, history.excluded(exclude))
        return Scored(self.name, self.items[keep][:n], self.scores[keep][:n])
