"""Trending: what is popular in the listener's languages now.

An episode's trend is the number of distinct listeners who played it within ``window``
before the data's ``now`` (ties broken by their summed weight); episodes not played in the
window follow, ranked by all-time listeners, so that a language whose window is empty
falls back to its all-time favourites (:attr:`Trending.in_window` tells which is which:
"popular in English this week" or "popular in English"). Episodes nobody ever played are
not proposed, nor are those published after the data's ``now`` (in a split by time, the
future; their plays, if a clock put any before it, count for nothing).

The languages are the history's (the listener's profile), else those of the episodes the
history holds (most weight first), else every language; a step that finds no episode
played in its languages gives way to the next (:meth:`Trending.languages_for`).

This is the cold-start path for a listener with no history. It is not personal: it learns
nothing from a history but its languages (the contract's learning tests skip it).
"""

from __future__ import annotations

from pathlib import Path
from typing import Self

import numpy as np
import scipy.sparse as sp

from podsight import conf
from podsight.conf import SettingError
from podsight.errors import UsageError
from podsight.progress import SILENT, Progress
from podsight.recs.algorithms.shared import read_model, top_n, unreleased, write_model
from podsight.recs.core import Dataset, History, Recommender, Scored, empty_scored

__all__ = ["DEFAULT_WINDOW", "Trending", "language_code", "trending_window"]

DEFAULT_WINDOW = "7d"


def trending_window() -> float:
    """Seconds of the trending window: ``PODSIGHT_RECS_TRENDING_WINDOW`` (default 7 days)."""
    raw = conf.env("PODSIGHT_RECS_TRENDING_WINDOW", DEFAULT_WINDOW)
    try:
        return conf.parse_timespan(raw)
    except ValueError as exc:
        raise SettingError(f"PODSIGHT_RECS_TRENDING_WINDOW: {exc}") from None


def language_code(tag: str) -> str:
    """The primary subtag, lower case: "en-US" → "en"; "" unknown."""
    return tag.strip().split("-")[0].split("_")[0].lower()


class Trending(Recommender):
    """Popular in the listener's languages over a recent window.

    ``window``: seconds before the data's ``now`` that count as recent (default:
    ``PODSIGHT_RECS_TRENDING_WINDOW``, 7 days).
    """

    name = "trending"
    requires = ("item_language", "timestamps")
    personal = False

    def __init__(self, *, window: float | None = None) -> None:
        window = trending_window() if window is None else float(window)
        if not window > 0:
            raise UsageError(f"trending: window must be > 0 seconds, not {window}")
        super().__init__(window=window)
        self.scores = np.zeros(0, dtype=np.float64)  # per item; 0: never played
        self.in_window = np.zeros(0, dtype=bool)
        self.language = np.zeros(0, dtype=str)
        self.now = 0.0

    def fit(self, data: Dataset, *, progress: Progress = SILENT) -> None:
        if data.item_language is None or data.timestamps is None:
            raise UsageError("trending needs the items' languages and the plays' times")
        played = sp.csr_matrix((data.matrix > 0).astype(np.float32))
        stamps = sp.csr_matrix(data.timestamps.multiply(played), dtype=np.float64)
        self.now = float(data.now) if data.now else float(stamps.data.max(initial=0.0))
        recent = sp.csr_matrix(stamps >= self.now - self.params["window"], dtype=np.float32)
        recent_users = np.asarray(recent.sum(axis=0)).ravel()
        recent_weight = np.asarray(data.matrix.multiply(recent).sum(axis=0)).ravel()
        users = np.asarray(played.sum(axis=0)).ravel()
        weight = np.asarray(data.matrix.multiply(played).sum(axis=0)).ravel()
        self.in_window = recent_users > 0
        # Distinct listeners, then weight (< 1 listener's worth) to break ties; all-time
        # scores below 1 so that they rank after every episode played in the window.
        window_score = recent_users + 0.5 * recent_weight / max(recent_weight.max(initial=0), 1e-9)
        all_time = (users + 0.5 * weight / max(weight.max(initial=0), 1e-9)) / (
            users.max(initial=0) + 1.0
        )
        self.scores = np.where(self.in_window, window_score, all_time)
        future = unreleased(data)
        self.scores[future] = 0.0
        self.in_window &= ~future
        self.language = np.array([language_code(tag) for tag in data.item_language], dtype=str)

    def languages_for(self, history: History) -> tuple[str, ...] | None:
        """The languages this history is served in, most relevant first; None: every
        language (nothing known, or nothing played in the languages known)."""
        candidates = [tuple(dict.fromkeys(language_code(t) for t in history.languages))]
        items = np.asarray(history.items, dtype=np.int64)
        weights = np.asarray(history.weights, dtype=np.float64)
        keep = (items >= 0) & (items < len(self.language))
        items, weights = items[keep], weights[keep]
        by_weight: dict[str, float] = {}
        for item, weight in zip(items.tolist(), weights.tolist(), strict=True):
            code = str(self.language[item])
            by_weight[code] = by_weight.get(code, 0.0) + weight
        candidates.append(tuple(sorted(by_weight, key=lambda c: -by_weight[c])))
        for languages in candidates:
            languages = tuple(code for code in languages if code)
            if languages and (self.scores[np.isin(self.language, languages)] > 0).any():
                return languages
        return None

    def recommend(self, history: History, n: int, *, exclude: np.ndarray | None = None) -> Scored:
        if n <= 0 or not len(self.scores):
            return empty_scored(self.name)
        languages = self.languages_for(history)
        scores = self.scores.copy()
        if languages is not None:
            scores[~np.isin(self.language, languages)] = 0.0
        banned = history.excluded(exclude)
        scores[banned[(banned >= 0) & (banned < len(scores))]] = 0.0
        scores[scores <= 0] = -np.inf
        best, values = top_n(scores, n)
        return Scored(self.name, best, values)

    def similar_items(self, item: int, n: int) -> Scored:
        """Also popular in the item's language (every language when it is unknown)."""
        if not 0 <= item < len(self.scores) or n <= 0:
            return empty_scored(self.name)
        scores = self.scores.copy()
        if self.language[item]:
            scores[self.language != self.language[item]] = 0.0
        scores[item] = 0.0
        scores[scores <= 0] = -np.inf
        best, values = top_n(scores, n)
        return Scored(self.name, best, values)

    def save(self, directory: Path) -> None:
        write_model(
            directory,
            self.name,
            self.params,
            scores=self.scores,
            in_window=self.in_window,
            language=self.language,
            now=np.array([self.now]),
        )

    @classmethod
    def load(cls, directory: Path) -> Self:
        params, arrays = read_model(directory, cls.name)
        model = cls(**params)
        model.scores = arrays["scores"]
        model.in_window = arrays["in_window"]
        model.language = arrays["language"]
        model.now = float(arrays["now"][0])
        return model
