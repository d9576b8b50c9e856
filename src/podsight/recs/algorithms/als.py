"""Matrix factorisation with ``implicit`` (CPU): ALS (Hu, Koren & Volinsky 2008) and BPR
(Rendle et al. 2009).

Both learn item factors at fit time and compute a user's vector *from the history they
are asked with*, never from a row remembered at fit time: the same call serves a new
listener and reflects a known listener's play of a minute ago (the real-time path of
issue 18: the user's vector recomputed against the current item factors).

ALS
    Confidence is the paper's ``c = 1 + alpha · weight`` for what a user played (``p = 1``).
    implicit reads a *negative* value in its matrix as ``p = 0`` with confidence ``|c|``
    (``cpu/als.py``: ``user_linear_equation``, ``least_squares_cg``), so a rejected item
    (``Dataset.negatives``: skipped, unliked, rated low) enters as ``-(1 + alpha ·
    negative_weight)``: the model is told, with more confidence than for an unplayed
    item, that the user does not want it. A rejection overrides a play of the same item.
    Rejections are binary (a history carries their indices, not a strength). Off by
    default (``negative_weight=0``): on MovieLens-100k with ratings ≤ 2 as rejections
    they lowered NDCG@10 on the held-out ratings ≥ 4 from 0.315 to 0.310 (weight 1) and
    0.301 (weight 5) (docs/recs.md); rejected items are never recommended either way.
    The user vector is implicit's ``recalculate_user`` (an exact least-squares solve on
    the item factors) for a history row; ``because`` is implicit's ``explain``
    decomposition of the score into the contributions of the history's items, computed
    for all recommended items at once.

BPR
    implicit's BPR cannot recalculate a user. We fold a history in as the mean of its
    items' factors less the mean of all items' factors: the gradient of BPR's objective
    at a user vector of zero (every pair equally uncertain), i.e. one step of BPR's own
    training for that user. Measured on MovieLens-100k (docs/recs.md) it ranks better
    than the vectors implicit fitted itself (NDCG@10 0.44 against 0.31) and than solving
    BPR's objective for the user exactly by L-BFGS (which overfits a short history and
    took 40 ms a user), and costs one mean. BPR ignores weights and rejections (implicit
    treats the matrix as binary). ``because`` is the history item whose factors are most
    like the recommended item's (cosine).

BLAS runs on one thread while fitting and recommending (``shared.one_blas_thread``);
implicit's own threads (``num_threads``, 0 = every core) do the parallel work.

``engine="spark"`` (ALS only) fits the factors with the Spark job ``recs.train_als``
(``pyspark.ml.recommendation.ALS``, implicit preferences) on this model's own matrix,
given as ratings whose Spark confidence ``1 + alpha·|r|`` is the one above (a play's
weight, a rejection's ``-negative_weight``); everything after the fit (user vectors,
scoring, ``because``) is implicit's, on those factors. Spark scales the regularisation by
each row's count of ratings (ALS-WR), implicit does not: the same ``regularization`` is a
stronger one there (docs/pipeline.md "Engines" gives the measured difference).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar, Self

import numpy as np
import scipy.sparse as sp

from podsight.progress import SILENT, Progress
from podsight.recs.algorithms.shared import one_blas_thread, read_params, top_n, write_params
from podsight.recs.core import Dataset, History, Recommender, Scored, empty_scored

__all__ = ["ALS", "BPR"]

FACTORS_FILE = "factors.npz"


class _Factorised(Recommender):
    """What ALS and BPR share: item factors, scoring, ranking, similar items, files."""

    defaults: ClassVar[dict[str, Any]]

    def __init__(self, **params: Any) -> None:
        unknown = set(params) - set(self.defaults)
        if unknown:
            raise TypeError(f"{self.name} takes no parameter {', '.join(sorted(unknown))}")
        super().__init__(**{**self.defaults, **params})
        self.item_factors: np.ndarray | None = None
        # The users' vectors from the last fit (in memory only: recommend never uses them).
        self.user_factors: np.ndarray | None = None
        self._model: Any = None

    # -- what each model defines ------------------------------------------------------------

    def _new_model(self) -> Any:
        raise NotImplementedError

    def _user_vectors(self, histories: Sequence[History]) -> np.ndarray:
        """One vector per history (a zero row: nothing to go on)."""
        raise NotImplementedError

    def _because(self, history: History, vector: np.ndarray, items: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    # -- the contract -------------------------------------------------------------------------

    @property
    def n_items(self) -> int:
        return 0 if self.item_factors is None else len(self.item_factors)

    def _fitted(self) -> np.ndarray:
        if self.item_factors is None:
            raise RuntimeError(f"{self.name} is not fitted: call fit() or load() first")
        return self.item_factors

    def _model_with(self, item_factors: np.ndarray) -> Any:
        with one_blas_thread():
            model = self._new_model()
        model.item_factors = item_factors
        return model

    def recommend(self, history: History, n: int, *, exclude: np.ndarray | None = None) -> Scored:
        with one_blas_thread():
            return self._recommend([history], n, [exclude])[0]

    def recommend_many(self, histories: Sequence[History], n: int) -> list[Scored]:
        with one_blas_thread():
            return self._recommend(list(histories), n, [None] * len(histories))

    def _recommend(
        self, histories: list[History], n: int, excludes: list[np.ndarray | None]
    ) -> list[Scored]:
        factors = self._fitted()
        vectors = self._user_vectors(histories) if histories else np.zeros((0, 1))
        answers = []
        for history, exclude, vector in zip(histories, excludes, vectors, strict=True):
            if not vector.any():
                answers.append(empty_scored(self.name))
                continue
            items, scores = top_n(factors @ vector, n, history.excluded(exclude))
            answers.append(
                Scored(self.name, items, scores, because=self._because(history, vector, items))
            )
        return answers

    def similar_items(self, item: int, n: int) -> Scored:
        self._fitted()
        ids, scores = self._model.similar_items(item, N=n + 1)
        keep = (ids != item) & (scores > -np.finfo(np.float32).max) & np.isfinite(scores)
        return Scored(self.name, ids[keep][:n], scores[keep][:n])

    def save(self, directory: Path) -> None:
        np.savez(directory / FACTORS_FILE, item_factors=self._fitted())
        write_params(directory, self.params, model=self.name)

    @classmethod
    def load(cls, directory: Path) -> Self:
        model = cls(**read_params(directory)["params"])
        with np.load(directory / FACTORS_FILE, allow_pickle=False) as files:
            model.item_factors = files["item_factors"]
        model._model = model._model_with(model.item_factors)
        return model


class ALS(_Factorised):
    """Implicit-feedback ALS; parameters: ``factors``, ``regularization``, ``alpha``
    (confidence ``1 + alpha · weight``; 1.0 as implicit's default), ``negative_weight``
    (rejections' confidence ``1 + alpha · negative_weight``; 0: unused), ``iterations``,
    ``random_state``, ``num_threads`` (0: every core), ``engine`` (``local``: implicit;
    ``spark``: the factors fitted by the Spark job, see the module doc)."""

    name = "als"
    defaults: ClassVar[dict[str, Any]] = {
        "factors": 64,
        "regularization": 0.05,
        "alpha": 1.0,
        "negative_weight": 0.0,
        "iterations": 15,
        "random_state": 0,
        "num_threads": 0,
        "engine": "local",
    }

    def _new_model(self) -> Any:
        from implicit.cpu.als import AlternatingLeastSquares

        p = self.params
        # alpha=1: confidences are computed here (1 + alpha·w), not implicit's alpha·w.
        return AlternatingLeastSquares(
            factors=p["factors"],
            regularization=p["regularization"],
            alpha=1.0,
            iterations=p["iterations"],
            random_state=p["random_state"],
            num_threads=p["num_threads"],
        )

    def confidence(
        self, positives: sp.csr_matrix, negatives: sp.csr_matrix | None
    ) -> sp.csr_matrix:
        """What implicit is given: ``1 + alpha·w`` where played, ``-(1 + alpha·negative_weight)``
        where rejected (overriding a play)."""
        alpha = float(self.params["alpha"])
        c = sp.csr_matrix(positives, dtype=np.float32, copy=True)
        # Only positive weights are plays (a zero or negative one is not a preference).
        c.data = np.where(c.data > 0, 1.0 + alpha * c.data, 0.0).astype(np.float32)
        c.eliminate_zeros()
        weight = float(self.params["negative_weight"])
        if negatives is None or weight <= 0 or not negatives.nnz:
            return c
        rejected = sp.csr_matrix(negatives != 0, dtype=np.float32)
        c = c - c.multiply(rejected)  # a rejection overrides a play
        c = c - rejected * (1.0 + alpha * weight)
        c = sp.csr_matrix(c)
        c.eliminate_zeros()
        c.sort_indices()
        return c

    def spark_ratings(
        self, positives: sp.csr_matrix, negatives: sp.csr_matrix | None
    ) -> sp.coo_matrix:
        """What Spark's ALS is given for :meth:`confidence`'s matrix: a play's weight,
        ``-negative_weight`` where rejected (Spark's confidence is ``1 + alpha·|r|``)."""
        r = sp.csr_matrix(positives, dtype=np.float64, copy=True)
        r.data = np.where(r.data > 0, r.data, 0.0)
        r.eliminate_zeros()
        weight = float(self.params["negative_weight"])
        if negatives is not None and weight > 0 and negatives.nnz:
            rejected = sp.csr_matrix(negatives != 0, dtype=np.float64)
            r = sp.csr_matrix(r - r.multiply(rejected) - rejected * weight)
            r.eliminate_zeros()
        return r.tocoo()

    def _fit_on_spark(self, data: Dataset, progress: Progress) -> None:
        import tempfile

        import pyarrow as pa
        import pyarrow.parquet as pq

        from podsight import conf, engines

        p = self.params
        ratings = self.spark_ratings(data.matrix, data.negatives)
        scratch = conf.podsight_home() / "tmp"
        scratch.mkdir(parents=True, exist_ok=True)
        with (
            tempfile.TemporaryDirectory(dir=scratch, prefix="als-") as folder,
            progress.task("ALS on Spark", total=None),
        ):
            source = f"{folder}/ratings.parquet"
            pq.write_table(
                pa.table(
                    {
                        "user": pa.array(ratings.row, pa.int32()),
                        "item": pa.array(ratings.col, pa.int32()),
                        "rating": pa.array(ratings.data, pa.float32()),
                    }
                ),
                source,
            )
            engines.run_spark_job(
                "recs.train_als", ratings=source, n_users=int(data.n_users),
                n_items=int(data.n_items), output=f"{folder}/factors",
                factors=int(p["factors"]), regularization=float(p["regularization"]),
                alpha=float(p["alpha"]), negative_weight=float(p["negative_weight"]),
                iterations=int(p["iterations"]), seed=int(p["random_state"] or 0),
            )  # fmt: skip
            items = np.load(f"{folder}/factors/item_factors.npy", allow_pickle=False)
            users = np.load(f"{folder}/factors/user_factors.npy", allow_pickle=False)
        if items.shape != (data.n_items, int(p["factors"])):
            raise engines.SparkJobError(
                f"the Spark job recs.train_als returned item factors of shape {items.shape}, "
                f"not ({data.n_items}, {p['factors']})"
            )
        self.item_factors = np.ascontiguousarray(items, dtype=np.float32)
        self.user_factors = np.asarray(users, dtype=np.float32)
        self._model = self._model_with(self.item_factors)

    def fit(self, data: Dataset, *, progress: Progress = SILENT) -> None:
        from podsight import engines

        if engines.current(self.params["engine"]) == "spark":
            self._fit_on_spark(data, progress)
            return
        iterations = int(self.params["iterations"])
        with one_blas_thread():
            model = self._new_model()
            with progress.task("ALS", total=iterations) as task:
                model.fit(
                    self.confidence(data.matrix, data.negatives),
                    show_progress=False,
                    callback=lambda *_: task.advance(),
                )
        self._model = model
        self.item_factors = np.ascontiguousarray(model.item_factors, dtype=np.float32)
        self.user_factors = np.asarray(model.user_factors, dtype=np.float32)

    def history_rows(self, histories: Sequence[History]) -> sp.csr_matrix:
        """The histories as implicit's confidence rows (rejections included)."""
        n_items = self.n_items
        rows = sp.vstack([h.row(n_items) for h in histories], format="csr")
        neg_rows = np.repeat(np.arange(len(histories)), [len(h.negatives) for h in histories])
        neg_cols = np.concatenate([np.asarray(h.negatives, dtype=np.int64) for h in histories])
        negatives = sp.csr_matrix(
            (np.ones(len(neg_cols), dtype=np.float32), (neg_rows, neg_cols)),
            shape=(len(histories), n_items),
        )
        return self.confidence(rows, negatives)

    def _user_vectors(self, histories: Sequence[History]) -> np.ndarray:
        rows = self.history_rows(histories)
        vectors = np.zeros((len(histories), self.params["factors"]), dtype=np.float32)
        # Without a play the solution is zero anyway; skip the solve.
        has = np.flatnonzero(np.diff(rows.indptr) > 0)
        has = has[[bool((rows.getrow(r).data > 0).any()) for r in has]]
        if len(has):
            vectors[has] = self._model.recalculate_user(has, rows[has])
        return vectors

    def _because(self, history: History, vector: np.ndarray, items: np.ndarray) -> np.ndarray:
        # implicit's explain(): score(u, r) = Σ_h c_h · y_h · A_u⁻¹ y_r with
        # A_u = YᵀY + λI + Σ_h (|c_h| − 1) y_h y_hᵀ; the reason is the largest term.
        if not len(items):
            return np.zeros(0, dtype=np.int64)
        row = self.history_rows([history])
        Y = self._fitted()
        cols, conf = row.indices, row.data
        yh = Y[cols].astype(np.float64)
        A = self._model.YtY.astype(np.float64) + self.params["regularization"] * np.eye(Y.shape[1])
        A += (yh * (np.abs(conf) - 1.0)[:, None]).T @ yh
        weighted = np.linalg.solve(A, Y[items].astype(np.float64).T)  # f × len(items)
        contributions = (yh @ weighted) * conf[:, None]
        contributions[conf <= 0] = -np.inf  # a rejection is no reason
        return cols[np.argmax(contributions, axis=0)].astype(np.int64)


class BPR(_Factorised):
    """Bayesian Personalised Ranking; parameters: ``factors``, ``learning_rate``,
    ``regularization``, ``iterations``, ``random_state``, ``num_threads`` (0: every core)."""

    name = "bpr"
    defaults: ClassVar[dict[str, Any]] = {
        "factors": 64,
        "learning_rate": 0.01,
        "regularization": 0.01,
        "iterations": 100,
        "random_state": 0,
        "num_threads": 0,
    }

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        self._mean: np.ndarray | None = None

    def _new_model(self) -> Any:
        from implicit.cpu.bpr import BayesianPersonalizedRanking

        p = self.params
        return BayesianPersonalizedRanking(
            factors=p["factors"],
            learning_rate=p["learning_rate"],
            regularization=p["regularization"],
            iterations=p["iterations"],
            random_state=p["random_state"],
            num_threads=p["num_threads"],
        )

    def fit(self, data: Dataset, *, progress: Progress = SILENT) -> None:
        iterations = int(self.params["iterations"])
        binary = sp.csr_matrix(data.matrix > 0, dtype=np.float32)
        with one_blas_thread():
            model = self._new_model()
            with progress.task("BPR", total=iterations) as task:
                model.fit(binary, show_progress=False, callback=lambda *_: task.advance())
        self._model = model
        # implicit's BPR keeps the item bias as the last factor (the user's last is 1).
        self.item_factors = np.ascontiguousarray(model.item_factors, dtype=np.float32)
        self.user_factors = np.asarray(model.user_factors, dtype=np.float32)
        self._mean = None

    def _user_vectors(self, histories: Sequence[History]) -> np.ndarray:
        Y = self._fitted()
        vectors = np.zeros((len(histories), Y.shape[1]), dtype=np.float32)
        for row, history in enumerate(histories):
            played = np.unique(np.asarray(history.items, dtype=np.int64)[history.weights > 0])
            if len(played):
                vectors[row] = self.fold_in(played)
        return vectors

    def fold_in(self, played: np.ndarray) -> np.ndarray:
        """The user vector for these played items: the mean of their factors less the
        mean of all items' (the direction in which BPR's objective rises fastest from a
        user who knows nothing, every pair σ = ½), the last coordinate 1 for the item
        bias."""
        Y = self._fitted()
        f = Y.shape[1] - 1
        x = Y[played, :f].mean(axis=0) - self._mean_item[:f]
        return np.append(x, 1.0).astype(np.float32)

    @property
    def _mean_item(self) -> np.ndarray:
        if self._mean is None:
            self._mean = self._fitted().mean(axis=0)
        return self._mean

    def _because(self, history: History, vector: np.ndarray, items: np.ndarray) -> np.ndarray:
        played = np.asarray(history.items, dtype=np.int64)[history.weights > 0]
        if not len(items) or not len(played):
            return np.full(len(items), -1, dtype=np.int64)
        Y = self._fitted()[:, :-1]
        a = Y[played] / np.maximum(np.linalg.norm(Y[played], axis=1, keepdims=True), 1e-12)
        b = Y[items] / np.maximum(np.linalg.norm(Y[items], axis=1, keepdims=True), 1e-12)
        return played[np.argmax(a @ b.T, axis=0)]
