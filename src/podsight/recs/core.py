"""The recommenders' shared vocabulary and the one contract every candidate model keeps.

A :class:`Dataset` is what a model is fitted on: a users × items matrix of positive
confidence (ids as strings, rows and columns as indices), what each user must never be
shown, and, when the data comes from the catalog, the items' facts (show, language,
publication time, availability, embedding, topics) and the users' follows. Files such as
MovieLens carry no facts: models that need them say so in :attr:`Recommender.requires`
and are left out (:meth:`Recommender.supports`).

A :class:`History` is one user's side of it at the moment of asking. Every model
recommends *from the history it is given*, never from a row remembered at fit time: a
new user (``index`` None) is served by the same call, and a listener's fresh play changes
the answer at once (ALS recomputes the user's vector against its item factors).

A :class:`Scored` list is a model's answer: item indices best first, the model's own
scores (on its own scale: the blender normalises them), and for each item the history
item (or followed show) that explains it, so that a reason can be written.

The registry maps each model's name to ``"module:Class"`` so that importing it is paid
only by the models used; :func:`algorithm` resolves a name.
"""

from __future__ import annotations

import importlib
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, ClassVar, Self

import numpy as np
import scipy.sparse as sp

from podsight.errors import UsageError
from podsight.progress import SILENT, Progress

__all__ = [
    "ALGORITHMS",
    "FACTS",
    "Dataset",
    "History",
    "Recommender",
    "Scored",
    "algorithm",
    "empty_scored",
]

# The item and user facts a catalog-backed dataset carries; a model lists the ones it
# needs in ``requires``.
FACTS = (
    "item_show",
    "item_titles",
    "item_language",
    "item_published",
    "item_available",
    "item_vectors",
    "item_topics",
    "follows",
    "unfollowed",
    "user_languages",
    "timestamps",
)


@dataclass
class Dataset:
    """Interactions and, when known, the catalog's facts about the items.

    ``matrix`` holds positive confidence only (decayed engagement weights > 0, ratings,
    play counts). ``negatives`` marks what a user rejected (skipped, unliked, rated low):
    a signal for models that use one, and never recommended. ``seen`` marks every item a
    user engaged with at all; it is never recommended either (``None``: the non-zeros of
    ``matrix`` and ``negatives``). ``timestamps`` (same shape) holds each cell's last
    interaction time in epoch seconds where known.
    """

    users: list[str]
    items: list[str]
    matrix: sp.csr_matrix
    negatives: sp.csr_matrix | None = None
    seen: sp.csr_matrix | None = None
    timestamps: sp.csr_matrix | None = None
    # Subsets of the interactions, for reasons and for models that weigh them more: the
    # cells a user finished, and the ones they liked (1.0 where true).
    finished: sp.csr_matrix | None = None
    liked: sp.csr_matrix | None = None
    # Items' facts, one entry per item (None: the data has no catalog).
    item_show: np.ndarray | None = None  # int32 index into ``shows``; -1 unknown
    shows: list[str] = field(default_factory=list)  # show ids (catalog channel ids as text)
    show_titles: list[str] = field(default_factory=list)
    item_titles: list[str] | None = None
    item_language: list[str] | None = None  # primary subtag, lower case ("en"); "" unknown
    item_published: np.ndarray | None = None  # float64 epoch seconds; NaN unknown
    item_available: np.ndarray | None = None  # bool: can be played now
    item_vectors: np.ndarray | None = None  # float32 items × d, L2-normalised; zero row: none
    item_topics: list[tuple[str, ...]] | None = None
    # Users' facts (users × shows, 1.0 where true).
    follows: sp.csr_matrix | None = None  # subscribed now
    unfollowed: sp.csr_matrix | None = None  # unsubscribed and not subscribed again since
    user_languages: list[tuple[str, ...]] | None = None  # most listened first
    now: float = 0.0  # epoch seconds the data is as of: the end of "recent" windows
    data_version: int | None = None  # the engagement table's Delta version, when from the lake
    name: str = ""  # where it came from: "lake", "movielens-100k", a file name

    def __post_init__(self) -> None:
        n_users, n_items = len(self.users), len(self.items)
        self.matrix = sp.csr_matrix(self.matrix, dtype=np.float32)
        if self.matrix.shape != (n_users, n_items):
            raise ValueError(
                f"matrix is {self.matrix.shape}, expected {(n_users, n_items)} (users × items)"
            )
        for name in ("negatives", "seen", "timestamps", "finished", "liked"):
            value = getattr(self, name)
            if value is not None:
                value = sp.csr_matrix(value)
                if value.shape != (n_users, n_items):
                    raise ValueError(f"{name} is {value.shape}, expected {(n_users, n_items)}")
                setattr(self, name, value)

    @property
    def n_users(self) -> int:
        return len(self.users)

    @property
    def n_items(self) -> int:
        return len(self.items)

    def has(self, *facts: str) -> bool:
        """Whether every named fact is present."""
        return all(getattr(self, name) is not None for name in facts)

    def seen_matrix(self) -> sp.csr_matrix:
        """Everything never to recommend again, per user."""
        if self.seen is not None:
            return self.seen
        # Derived once: history() asks for it per user.
        cached = self.__dict__.get("_seen_derived")
        if cached is not None and cached[0] is self.matrix and cached[1] is self.negatives:
            return cached[2]
        seen = (self.matrix != 0).astype(np.float32)
        if self.negatives is not None:
            seen = seen.maximum((self.negatives != 0).astype(np.float32))
        seen = sp.csr_matrix(seen)
        self.__dict__["_seen_derived"] = (self.matrix, self.negatives, seen)
        return seen

    def with_matrix(self, matrix: sp.csr_matrix, **changes: Any) -> Dataset:
        """The same users, items and facts with other interactions (a training split).
        ``seen``, ``finished`` and ``liked`` are dropped unless given: they follow the
        interactions the new matrix keeps."""
        changes.setdefault("seen", None)
        for name in ("finished", "liked"):
            if name not in changes and getattr(self, name) is not None:
                kept = (sp.csr_matrix(matrix) != 0).astype(np.float32)
                changes[name] = sp.csr_matrix(getattr(self, name).multiply(kept))
        return replace(self, matrix=matrix, **changes)

    def history(self, user: int) -> History:
        """User ``user``'s history as the dataset holds it."""
        row = self.matrix.getrow(user)
        negatives = (
            self.negatives.getrow(user).indices.astype(np.int32)
            if self.negatives is not None
            else np.zeros(0, dtype=np.int32)
        )
        seen = self.seen_matrix().getrow(user).indices.astype(np.int32)
        stamps = None
        if self.timestamps is not None:
            t = self.timestamps.getrow(user)
            lookup = dict(zip(t.indices.tolist(), t.data.tolist(), strict=True))
            stamps = np.array([lookup.get(i, np.nan) for i in row.indices.tolist()])
        return History(
            user=self.users[user],
            index=user,
            items=row.indices.astype(np.int32),
            weights=row.data.astype(np.float32),
            negatives=negatives,
            seen=seen,
            follows=_row_indices(self.follows, user),
            unfollowed=_row_indices(self.unfollowed, user),
            languages=self.user_languages[user] if self.user_languages is not None else (),
            finished=_row_indices(self.finished, user),
            liked=_row_indices(self.liked, user),
            times=stamps,
        )


def _row_indices(matrix: sp.csr_matrix | None, row: int) -> np.ndarray:
    if matrix is None:
        return np.zeros(0, dtype=np.int32)
    return matrix.getrow(row).indices.astype(np.int32)


@dataclass
class History:
    """One user's interactions at the moment of asking, as indices into a dataset's items
    (and shows). ``index`` is the user's row in the dataset the model was fitted on, None
    for a user it has never seen (cold start)."""

    user: str
    index: int | None = None
    items: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int32))
    weights: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.float32))
    negatives: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int32))
    seen: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int32))
    follows: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int32))
    unfollowed: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int32))
    languages: tuple[str, ...] = ()
    times: np.ndarray | None = None  # epoch seconds per entry of ``items``; NaN unknown
    # Subsets of ``items`` for reasons ("because you finished …", "… like … you liked").
    finished: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int32))
    liked: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int32))

    def row(self, n_items: int) -> sp.csr_matrix:
        """The positive interactions as a 1 × n_items matrix (what implicit takes)."""
        indptr = np.array([0, len(self.items)])
        return sp.csr_matrix(
            (self.weights.astype(np.float32), self.items.astype(np.int32), indptr),
            shape=(1, n_items),
        )

    def excluded(self, extra: np.ndarray | None = None) -> np.ndarray:
        """Every item index this user must not be recommended: seen, rejected, and
        ``extra``."""
        parts = [self.items, self.seen, self.negatives]
        if extra is not None:
            parts.append(np.asarray(extra))
        return np.unique(np.concatenate([np.asarray(p, dtype=np.int64) for p in parts]))

    @property
    def is_empty(self) -> bool:
        return not (len(self.items) or len(self.follows) or len(self.negatives))


@dataclass
class Scored:
    """A model's answer: item indices best first with its scores (its own scale), and
    per item what explains it: ``because`` holds an index into ``items`` of the dataset
    (a history item: "because you finished …"), ``because_show`` an index into its shows
    (a followed show: "new from …"), -1 where nothing does."""

    source: str
    items: np.ndarray
    scores: np.ndarray
    because: np.ndarray | None = None
    because_show: np.ndarray | None = None

    def __post_init__(self) -> None:
        self.items = np.asarray(self.items, dtype=np.int64)
        self.scores = np.asarray(self.scores, dtype=np.float32)
        if self.items.shape != self.scores.shape:
            raise ValueError("items and scores differ in length")
        for name in ("because", "because_show"):
            value = getattr(self, name)
            if value is not None:
                value = np.asarray(value, dtype=np.int64)
                if value.shape != self.items.shape:
                    raise ValueError(f"{name} and items differ in length")
                setattr(self, name, value)

    def __len__(self) -> int:
        return len(self.items)


def empty_scored(source: str) -> Scored:
    return Scored(source, np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32))


class Recommender(ABC):
    """One candidate model. Subclasses set :attr:`name` and :attr:`requires`, take their
    parameters as keyword arguments (kept in :attr:`params`, saved with the model), and
    implement the five methods. ``tests/recs/recs_contract.py`` holds every implementation to
    this contract.

    - :meth:`recommend` never returns an item of ``history.excluded(exclude)``, returns at
      most ``n`` distinct items, best first, and fewer (possibly none) when it has fewer;
    - it works for a history the model was not fitted on (``index`` None, or a changed
      history of a known user) and follows that history, not the fitted one;
    - :meth:`similar_items` never returns the item itself;
    - :meth:`save` then :meth:`load` gives a model that answers the same.
    """

    name: ClassVar[str]
    # Dataset facts the model cannot work without (see FACTS).
    requires: ClassVar[tuple[str, ...]] = ()
    # Whether it learns from the history (False for popularity and random baselines).
    personal: ClassVar[bool] = True

    def __init__(self, **params: Any) -> None:
        self.params: dict[str, Any] = params

    @classmethod
    def supports(cls, data: Dataset) -> bool:
        return data.has(*cls.requires)

    @abstractmethod
    def fit(self, data: Dataset, *, progress: Progress = SILENT) -> None:
        """Learn from ``data`` (keeping what :meth:`recommend` needs of its facts)."""

    @abstractmethod
    def recommend(self, history: History, n: int, *, exclude: np.ndarray | None = None) -> Scored:
        """The ``n`` best items for this history."""

    @abstractmethod
    def similar_items(self, item: int, n: int) -> Scored:
        """The ``n`` items most like ``item`` ("listeners also played", "more like this")."""

    @abstractmethod
    def save(self, directory: Path) -> None:
        """Write everything :meth:`load` needs under ``directory`` (it exists, is empty)."""

    @classmethod
    @abstractmethod
    def load(cls, directory: Path) -> Self:
        """The model :meth:`save` wrote."""

    def recommend_many(self, histories: Sequence[History], n: int) -> list[Scored]:
        """:meth:`recommend` for many users (evaluation); a model may batch it."""
        return [self.recommend(h, n) for h in histories]


# name -> "module:Class" (modules under podsight.recs.algorithms).
ALGORITHMS: dict[str, str] = {
    "als": "podsight.recs.algorithms.als:ALS",
    "bpr": "podsight.recs.algorithms.als:BPR",
    "itemknn": "podsight.recs.algorithms.itemknn:ItemKNN",
    "ease": "podsight.recs.algorithms.ease:EASE",
    "popular": "podsight.recs.algorithms.baselines:Popular",
    "random": "podsight.recs.algorithms.baselines:Random",
    "content": "podsight.recs.algorithms.content:ContentProfile",
    "fresh": "podsight.recs.algorithms.fresh:Fresh",
    "trending": "podsight.recs.algorithms.trending:Trending",
}


def algorithm(name: str) -> type[Recommender]:
    """The model class registered as ``name``."""
    try:
        target = ALGORITHMS[name]
    except KeyError:
        raise UsageError(
            f"no recommender named {name!r}; choose from {', '.join(sorted(ALGORITHMS))}"
        ) from None
    module, _, cls = target.partition(":")
    return getattr(importlib.import_module(module), cls)
