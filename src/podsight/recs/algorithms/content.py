"""Content: the listener's profile in the episodes' embedding space, to the nearest episodes.

The profile is the weighted mean of the embeddings of what the history holds (its
decayed engagement weights; what the listener finished or liked counts ``boost`` times
more), minus ``negative_weight`` times the mean of what they rejected. Items are ranked
by cosine to it, exactly (numpy over the dataset's ``item_vectors``; a catalog's episode
embeddings fit in memory). An episode without an embedding (a zero row) is never
recommended.

This is the way in for an episode nobody has played yet: its embedding is all it needs.
``because`` names, for each recommended item, the history item most like it ("about
<topic>, like <episode> you liked").
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Self

import numpy as np

from podsight.errors import UsageError
from podsight.progress import SILENT, Progress
from podsight.recs.algorithms.shared import read_model, top_n, write_model
from podsight.recs.core import Dataset, History, Recommender, Scored, empty_scored

__all__ = ["ContentProfile"]

# Profiles scored at once by recommend_many: users × items float32 per chunk.
_CHUNK = 256


class ContentProfile(Recommender):
    """Nearest episodes to the profile of the history's embeddings.

    ``boost``: how many times a finished or liked item counts beside its weight.
    ``negative_weight``: how far the mean of the rejected items pushes the profile away
    (0: rejections only filter). Measured in docs/recs.md ("Candidate models").
    """

    name = "content"
    requires = ("item_vectors",)

    def __init__(self, *, boost: float = 2.0, negative_weight: float = 0.25) -> None:
        if boost < 1.0:
            raise UsageError(f"content: boost must be ≥ 1, not {boost}")
        if negative_weight < 0.0:
            raise UsageError(f"content: negative_weight must be ≥ 0, not {negative_weight}")
        super().__init__(boost=float(boost), negative_weight=float(negative_weight))
        self.vectors = np.zeros((0, 0), dtype=np.float32)
        self.usable = np.zeros(0, dtype=bool)

    # -- fitting ---------------------------------------------------------------------------

    def fit(self, data: Dataset, *, progress: Progress = SILENT) -> None:
        if data.item_vectors is None:
            raise UsageError("content needs the items' embeddings (item_vectors)")
        self._set_vectors(np.asarray(data.item_vectors, dtype=np.float32))

    def _set_vectors(self, vectors: np.ndarray) -> None:
        norms = np.linalg.norm(vectors, axis=1)
        self.usable = norms > 1e-6
        # Normalised again: cosine must not depend on how the vectors were stored.
        safe = np.where(self.usable, norms, 1.0).astype(np.float32)
        self.vectors = np.ascontiguousarray(vectors / safe[:, None], dtype=np.float32)

    # -- the profile -----------------------------------------------------------------------

    def _profile(self, history: History) -> np.ndarray | None:
        n_items = len(self.usable)
        items = np.asarray(history.items, dtype=np.int64)
        weights = np.asarray(history.weights, dtype=np.float64)
        keep = (items >= 0) & (items < n_items) & (weights > 0)
        items, weights = items[keep], weights[keep]
        keep = self.usable[items]
        items, weights = items[keep], weights[keep]
        if not len(items):
            return None
        vouched = np.isin(items, np.concatenate([history.finished, history.liked]))
        weights = np.where(vouched, weights * self.params["boost"], weights)
        positive = weights @ self.vectors[items].astype(np.float64)
        norm = np.linalg.norm(positive)
        if norm < 1e-9:  # opposite tastes cancelling out: nothing to aim at
            return None
        profile = positive / norm
        rejected = np.asarray(history.negatives, dtype=np.int64)
        rejected = rejected[(rejected >= 0) & (rejected < n_items)]
        rejected = rejected[self.usable[rejected]]
        if len(rejected) and self.params["negative_weight"] > 0:
            away = self.vectors[rejected].astype(np.float64).sum(axis=0)
            away_norm = np.linalg.norm(away)
            if away_norm > 1e-9:
                profile = profile - self.params["negative_weight"] * away / away_norm
        return profile.astype(np.float32)

    # -- recommending ------------------------------------------------------------------------

    def recommend(self, history: History, n: int, *, exclude: np.ndarray | None = None) -> Scored:
        return self._recommend_batch([history], n, [exclude])[0]

    def recommend_many(self, histories: Sequence[History], n: int) -> list[Scored]:
        out: list[Scored] = []
        for start in range(0, len(histories), _CHUNK):
            chunk = histories[start : start + _CHUNK]
            out.extend(self._recommend_batch(chunk, n, [None] * len(chunk)))
        return out

    def _recommend_batch(
        self, histories: Sequence[History], n: int, excludes: Sequence[np.ndarray | None]
    ) -> list[Scored]:
        profiles = [self._profile(h) for h in histories]
        rows = [i for i, p in enumerate(profiles) if p is not None]
        out = [empty_scored(self.name) for _ in histories]
        if not rows or n <= 0:
            return out
        # Each profile scored on its own row: the same floats whether asked alone or in a
        # batch (recommend_many must match recommend).
        stacked = np.stack([profiles[i] for i in rows])
        scores = np.stack([self.vectors @ p for p in stacked])
        norms = np.linalg.norm(stacked, axis=1)
        scores /= np.where(norms > 0, norms, 1.0)[:, None]
        for row, i in enumerate(rows):
            out[i] = self._top(histories[i], scores[row], n, excludes[i])
        return out

    def _top(
        self, history: History, scores: np.ndarray, n: int, exclude: np.ndarray | None
    ) -> Scored:
        scores = np.where(self.usable, scores, -np.inf)
        banned = history.excluded(exclude)
        banned = banned[(banned >= 0) & (banned < len(scores))]
        scores[banned] = -np.inf
        top = top_n(scores, n)
        if not len(top):
            return empty_scored(self.name)
        return Scored(self.name, top, scores[top], because=self._because(history, top))

    def _because(self, history: History, top: np.ndarray) -> np.ndarray:
        """Per recommended item, the positive history item with the closest embedding."""
        items = np.asarray(history.items, dtype=np.int64)
        weights = np.asarray(history.weights)
        items = items[(weights > 0) & (items >= 0) & (items < len(self.usable))]
        items = items[self.usable[items]]
        if not len(items):
            return np.full(len(top), -1, dtype=np.int64)
        similarity = self.vectors[top] @ self.vectors[items].T
        return items[np.argmax(similarity, axis=1)]

    def similar_items(self, item: int, n: int) -> Scored:
        if not 0 <= item < len(self.usable) or not self.usable[item] or n <= 0:
            return empty_scored(self.name)
        scores = self.vectors @ self.vectors[item]
        scores = np.where(self.usable, scores, -np.inf)
        scores[item] = -np.inf
        top = top_n(scores, n)
        return Scored(self.name, top, scores[top])

    # -- storage -----------------------------------------------------------------------------

    def save(self, directory: Path) -> None:
        write_model(directory, self.name, self.params, vectors=self.vectors, usable=self.usable)

    @classmethod
    def load(cls, directory: Path) -> Self:
        params, arrays = read_model(directory, cls.name)
        model = cls(**params)
        model.vectors = arrays["vectors"]
        model.usable = arrays["usable"]
        return model
