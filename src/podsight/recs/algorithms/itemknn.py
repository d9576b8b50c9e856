"""Item-to-item neighbours: "listeners also played".

Each item keeps its ``neighbours`` most similar items, the similarity of two items'
columns of the users × items matrix (implicit's ``all_pairs_knn``, multi-threaded, after
its cosine or BM25 weighting: ``weighting``). A history scores an item by the sum of
``weight × similarity`` over the history's items whose neighbour it is (what implicit's
``ItemItemRecommender.recommend`` computes; done here with one sparse product so that the
contribution of each history item is at hand for ``because``: the history item that
contributes most). An item no history item has as a neighbour is not proposed.
Rejections are not used: a similarity says who played both, not who disliked one.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar, Self

import numpy as np
import scipy.sparse as sp

from podsight.progress import SILENT, Progress
from podsight.recs.algorithms.shared import (
    history_matrix,
    one_blas_thread,
    read_params,
    top_n,
    write_params,
)
from podsight.recs.core import Dataset, History, Recommender, Scored

__all__ = ["ItemKNN"]

SIMILARITY_FILE = "similarity.npz"
WEIGHTINGS = ("cosine", "bm25")


class ItemKNN(Recommender):
    """Parameters: ``neighbours`` (kept per item), ``weighting`` ("cosine" or "bm25"),
    ``num_threads`` (0: every core)."""

    name = "itemknn"
    defaults: ClassVar[dict[str, Any]] = {"neighbours": 100, "weighting": "bm25", "num_threads": 0}

    def __init__(self, **params: Any) -> None:
        unknown = set(params) - set(self.defaults)
        if unknown:
            raise TypeError(f"itemknn takes no parameter {', '.join(sorted(unknown))}")
        super().__init__(**{**self.defaults, **params})
        if self.params["weighting"] not in WEIGHTINGS:
            raise ValueError(f"weighting must be one of {', '.join(WEIGHTINGS)}")
        self.similarity: sp.csr_matrix | None = None

    def fit(self, data: Dataset, *, progress: Progress = SILENT) -> None:
        from implicit.nearest_neighbours import ItemItemRecommender, bm25_weight, normalize

        p = self.params
        positives = data.matrix.multiply(data.matrix > 0).tocsr().astype(np.float32)
        # What implicit's CosineRecommender / BM25Recommender (its K1, B defaults) fit on,
        # handed over as CSR (their own fit passes COO on, and implicit warns).
        if p["weighting"] == "bm25":
            weighted = bm25_weight(positives.T, K1=1.2, B=0.75).T
        else:
            weighted = normalize(positives.T).T
        knn = ItemItemRecommender(K=p["neighbours"], num_threads=p["num_threads"])
        with progress.task("item neighbours", total=1) as task, one_blas_thread():
            knn.fit(sp.csr_matrix(weighted, dtype=np.float64), show_progress=False)
            task.advance()
        similarity = sp.csr_matrix(knn.similarity, dtype=np.float32)
        similarity.setdiag(0)  # an item is not its own neighbour
        similarity.eliminate_zeros()
        similarity.sort_indices()
        self.similarity = similarity

    def _fitted(self) -> sp.csr_matrix:
        if self.similarity is None:
            raise RuntimeError("itemknn is not fitted: call fit() or load() first")
        return self.similarity

    def recommend(self, history: History, n: int, *, exclude: np.ndarray | None = None) -> Scored:
        return self._recommend([history], n, [exclude])[0]

    def recommend_many(self, histories: Sequence[History], n: int) -> list[Scored]:
        return self._recommend(list(histories), n, [None] * len(histories))

    def _recommend(
        self, histories: list[History], n: int, excludes: list[np.ndarray | None]
    ) -> list[Scored]:
        similarity = self._fitted()
        rows = history_matrix(histories, similarity.shape[0])
        rows.data = np.maximum(rows.data, 0)
        scores = (rows @ similarity).toarray()
        answers = []
        for r, (history, exclude) in enumerate(zip(histories, excludes, strict=True)):
            unreached = np.flatnonzero(scores[r] <= 0)
            banned = np.concatenate([history.excluded(exclude), unreached])
            items, values = top_n(scores[r], n, banned)
            answers.append(Scored(self.name, items, values, because=self._because(rows[r], items)))
        return answers

    def _because(self, row: sp.csr_matrix, items: np.ndarray) -> np.ndarray:
        if not len(items):
            return np.zeros(0, dtype=np.int64)
        contributions = self._fitted()[row.indices][:, items].toarray() * row.data[:, None]
        return row.indices[np.argmax(contributions, axis=0)].astype(np.int64)

    def similar_items(self, item: int, n: int) -> Scored:
        row = self._fitted().getrow(item)
        items, scores = top_n(_dense(row), n, np.flatnonzero(_dense(row) <= 0))
        return Scored(self.name, items, scores)

    def save(self, directory: Path) -> None:
        sp.save_npz(directory / SIMILARITY_FILE, self._fitted())
        write_params(directory, self.params, model=self.name)

    @classmethod
    def load(cls, directory: Path) -> Self:
        model = cls(**read_params(directory)["params"])
        model.similarity = sp.load_npz(directory / SIMILARITY_FILE).tocsr()
        return model


def _dense(row: sp.csr_matrix) -> np.ndarray:
    return row.toarray().ravel()
