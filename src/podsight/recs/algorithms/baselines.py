"""The baselines every model is measured against: the most popular items, and a random
order. Neither learns from the history it is asked with (``personal = False``); both
still leave out what the history excludes.
"""

from __future__ import annotations

import zlib
from pathlib import Path
from typing import Any, ClassVar, Self

import numpy as np

from podsight.progress import SILENT, Progress
from podsight.recs.algorithms.shared import read_params, top_n, write_params
from podsight.recs.core import Dataset, History, Recommender, Scored

__all__ = ["Popular", "Random"]

COUNTS_FILE = "popularity.npz"


class _Baseline(Recommender):
    personal = False
    defaults: ClassVar[dict[str, Any]] = {}

    def __init__(self, **params: Any) -> None:
        unknown = set(params) - set(self.defaults)
        if unknown:
            raise TypeError(f"{self.name} takes no parameter {', '.join(sorted(unknown))}")
        super().__init__(**{**self.defaults, **params})


class Popular(_Baseline):
    """Items by how many users played them (``weighted=True``: by their summed weight),
    over the whole matrix. The same list for everyone, less what each has seen; its
    "similar items" are the most popular others."""

    name = "popular"
    defaults: ClassVar[dict[str, Any]] = {"weighted": False}

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        self.popularity: np.ndarray | None = None

    def fit(self, data: Dataset, *, progress: Progress = SILENT) -> None:
        positive = data.matrix.multiply(data.matrix > 0).tocsc()
        if self.params["weighted"]:
            counts = np.asarray(positive.sum(axis=0)).ravel()
        else:
            counts = np.diff(positive.indptr)
        self.popularity = counts.astype(np.float32)

    def _fitted(self) -> np.ndarray:
        if self.popularity is None:
            raise RuntimeError("popular is not fitted: call fit() or load() first")
        return self.popularity

    def recommend(self, history: History, n: int, *, exclude: np.ndarray | None = None) -> Scored:
        popularity = self._fitted()
        # An item nobody played is not popular: never proposed.
        unplayed = np.flatnonzero(popularity <= 0)
        items, scores = top_n(popularity, n, np.concatenate([history.excluded(exclude), unplayed]))
        return Scored(self.name, items, scores)

    def similar_items(self, item: int, n: int) -> Scored:
        popularity = self._fitted()
        excluded = np.append(np.flatnonzero(popularity <= 0), item)
        items, scores = top_n(popularity, n, excluded)
        return Scored(self.name, items, scores)

    def save(self, directory: Path) -> None:
        np.savez(directory / COUNTS_FILE, popularity=self._fitted())
        write_params(directory, self.params, model=self.name)

    @classmethod
    def load(cls, directory: Path) -> Self:
        model = cls(**read_params(directory)["params"])
        with np.load(directory / COUNTS_FILE, allow_pickle=False) as files:
            model.popularity = files["popularity"]
        return model


class Random(_Baseline):
    """A random order of all items, the same for a seed and a user (or an item) every
    time it is asked: the floor of every metric."""

    name = "random"
    defaults: ClassVar[dict[str, Any]] = {"seed": 0}

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        self.n_items: int | None = None

    def fit(self, data: Dataset, *, progress: Progress = SILENT) -> None:
        self.n_items = data.n_items

    def _scores(self, key: str) -> np.ndarray:
        if self.n_items is None:
            raise RuntimeError("random is not fitted: call fit() or load() first")
        # crc32, not hash(): Python salts str hashes per process.
        rng = np.random.default_rng([int(self.params["seed"]), zlib.crc32(key.encode())])
        return rng.random(self.n_items, dtype=np.float32)

    def recommend(self, history: History, n: int, *, exclude: np.ndarray | None = None) -> Scored:
        items, scores = top_n(self._scores(f"user:{history.user}"), n, history.excluded(exclude))
        return Scored(self.name, items, scores)

    def similar_items(self, item: int, n: int) -> Scored:
        items, scores = top_n(self._scores(f"item:{item}"), n, np.array([item]))
        return Scored(self.name, items, scores)

    def save(self, directory: Path) -> None:
        write_params(directory, self.params, model=self.name, n_items=self.n_items)

    @classmethod
    def load(cls, directory: Path) -> Self:
        saved = read_params(directory)
        model = cls(**saved["params"])
        model.n_items = saved["n_items"]
        return model
