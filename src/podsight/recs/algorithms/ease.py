"""EASE (Steck 2019, "Embarrassingly Shallow Autoencoders for Sparse Data"), closed form.

The item-item weights are ``B = I − P · diag(1 / diag(P))`` with ``P = (XᵀX + λI)⁻¹`` and
a zero diagonal; a history ``x`` scores the items ``x · B``. One dense items × items
float32 matrix is solved and kept (4·m² bytes, twice while solving), so EASE takes at
most ``max_items`` items: the most played ones (by number of users). The others are
neither recommended by EASE nor count in a history; on a catalog larger than that it
covers the head and leaves the tail to the other sources. ``X`` is binary (played or not,
as in the paper); ``because`` is the history item with the largest ``x_h · B[h, i]``.
Rejections are not used (the paper's model has no negative signal).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar, Self

import numpy as np
import scipy.linalg
import scipy.sparse as sp

from podsight.progress import SILENT, Progress
from podsight.recs.algorithms.shared import read_params, top_n, write_params
from podsight.recs.core import Dataset, History, Recommender, Scored

__all__ = ["EASE"]

WEIGHTS_FILE = "ease.npz"


class EASE(Recommender):
    """Parameters: ``regularization`` (λ), ``max_items`` (the most played items kept)."""

    name = "ease"
    # λ = 500: the order of the values in Steck's paper for its datasets; 10 000 items:
    # 400 MB of weights, 800 MB while solving.
    defaults: ClassVar[dict[str, Any]] = {"regularization": 500.0, "max_items": 10_000}

    def __init__(self, **params: Any) -> None:
        unknown = set(params) - set(self.defaults)
        if unknown:
            raise TypeError(f"ease takes no parameter {', '.join(sorted(unknown))}")
        super().__init__(**{**self.defaults, **params})
        self.weights: np.ndarray | None = None  # kept × kept, float32
        self.kept: np.ndarray | None = None  # dataset item index of each kept item
        self.n_items = 0

    def fit(self, data: Dataset, *, progress: Progress = SILENT) -> None:
        binary = sp.csc_matrix(data.matrix > 0, dtype=np.float32)
        plays = np.diff(binary.indptr)
        limit = int(self.params["max_items"])
        kept = np.flatnonzero(plays > 0)
        if len(kept) > limit:
            order = np.lexsort((kept, -plays[kept]))  # most played first, ties by index
            kept = np.sort(kept[order[:limit]])
            progress.note(
                f"EASE keeps the {limit} most played of {int((plays > 0).sum())} items "
                "(max_items): the others come from the other sources"
            )
        with progress.task("EASE", total=1) as task:
            X = binary[:, kept]
            gram = (X.T @ X).toarray().astype(np.float32)
            gram[np.diag_indices_from(gram)] += float(self.params["regularization"])
            # P = G⁻¹ through its Cholesky factor (G is symmetric positive definite).
            P = scipy.linalg.cho_solve(
                scipy.linalg.cho_factor(gram, overwrite_a=True, check_finite=False),
                np.eye(len(kept), dtype=np.float32),
                overwrite_b=True,
                check_finite=False,
            ).astype(np.float32)
            del gram
            B = P / -np.diag(P)[None, :]
            np.fill_diagonal(B, 0.0)
            task.advance()
        self.weights = np.ascontiguousarray(B, dtype=np.float32)
        self.kept = kept.astype(np.int64)
        self.n_items = data.n_items

    def _fitted(self) -> tuple[np.ndarray, np.ndarray]:
        if self.weights is None or self.kept is None:
            raise RuntimeError("ease is not fitted: call fit() or load() first")
        return self.weights, self.kept

    def _position(self) -> np.ndarray:
        """Each dataset item's row in the weights (-1: not kept)."""
        _, kept = self._fitted()
        position = np.full(self.n_items, -1, dtype=np.int64)
        position[kept] = np.arange(len(kept))
        return position

    def recommend(self, history: History, n: int, *, exclude: np.ndarray | None = None) -> Scored:
        return self._recommend([history], n, [exclude])[0]

    def recommend_many(self, histories: Sequence[History], n: int) -> list[Scored]:
        return self._recommend(list(histories), n, [None] * len(histories))

    def _recommend(
        self, histories: list[History], n: int, excludes: list[np.ndarray | None]
    ) -> list[Scored]:
        B, kept = self._fitted()
        position = self._position()
        answers = []
        for history, exclude in zip(histories, excludes, strict=True):
            played = np.unique(np.asarray(history.items, dtype=np.int64)[history.weights > 0])
            played = played[(played < self.n_items)]
            rows = position[played]
            played, rows = played[rows >= 0], rows[rows >= 0]
            if not len(rows):
                answers.append(Scored(self.name, np.zeros(0), np.zeros(0)))
                continue
            scores = np.full(self.n_items, -np.inf, dtype=np.float32)
            scores[kept] = B[rows].sum(axis=0)
            local, values = top_n(scores, n, history.excluded(exclude))
            contributions = B[np.ix_(rows, position[local])]
            because = played[np.argmax(contributions, axis=0)] if len(local) else local
            answers.append(Scored(self.name, local, values, because=because))
        return answers

    def similar_items(self, item: int, n: int) -> Scored:
        B, kept = self._fitted()
        row = self._position()[item] if 0 <= item < self.n_items else -1
        if row < 0:
            return Scored(self.name, np.zeros(0), np.zeros(0))
        # The items whose score a play of ``item`` raises most.
        scores = np.full(self.n_items, -np.inf, dtype=np.float32)
        scores[kept] = B[row]
        items, values = top_n(scores, n, np.append(np.flatnonzero(scores <= 0), item))
        return Scored(self.name, items, values)

    def save(self, directory: Path) -> None:
        B, kept = self._fitted()
        np.savez(directory / WEIGHTS_FILE, weights=B, kept=kept)
        write_params(directory, self.params, model=self.name, n_items=self.n_items)

    @classmethod
    def load(cls, directory: Path) -> Self:
        saved = read_params(directory)
        model = cls(**saved["params"])
        with np.load(directory / WEIGHTS_FILE, allow_pickle=False) as files:
            model.weights, model.kept = files["weights"], files["kept"]
        model.n_items = int(saved["n_items"])
        return model
