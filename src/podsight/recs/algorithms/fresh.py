"""Fresh: new episodes of the shows a listener follows or keeps listening to.

A show's affinity for one history is the share of the history's (already decayed)
engagement weight that went to its episodes, less ``negative_weight`` for each episode of
it they rejected, plus ``follow_weight`` when they follow it; a show they unsubscribed
from has none, whatever they played. An episode is "new" when it was published within
``window`` before the reference time, and scores its show's affinity × 2^(−age /
``half_life``).

The reference time is the newest publication in the fitted facts (not after the data's
``now``), also at serve time: a fitted model can only name the episodes its facts hold, so
the newest of them is as new as it gets. An episode published after it (in a split by
time, the future; in a catalog, one scheduled or dated ahead by its feed) did not exist as
of the data and is never proposed. The wall clock would only scale every score alike
(the decay is exponential) or, once the model or the catalog's last sync is older than the
window, silently empty the list. On a live catalog some show always just published, so
this is the present; on a stale one (the demo's feeds end in 2025) it is the catalog's.

This is the way in for an episode nobody has played yet: it needs only its show and its
publication time. ``because_show`` names the show ("new from <show> you follow").
"""

from __future__ import annotations

from pathlib import Path
from typing import Self

import numpy as np

from podsight.errors import UsageError
from podsight.progress import SILENT, Progress
from podsight.recs.algorithms.shared import read_model, top_n, write_model
from podsight.recs.core import Dataset, History, Recommender, Scored, empty_scored

__all__ = ["Fresh"]

DAY = 86_400.0


class Fresh(Recommender):
    """New episodes of shows with affinity, ranked by affinity × recency.

    ``window``: how old (seconds) an episode may be and still be new (default 30 days).
    ``half_life``: the age (seconds) at which an episode's recency halves (default 7 days).
    ``follow_weight``: the affinity following a show adds (1.0: as much as the whole
    history's plays). ``negative_weight``: the affinity one rejected episode takes away, as
    a share of one average play.
    """

    name = "fresh"
    requires = ("item_show", "item_published")

    def __init__(
        self,
        *,
        window: float = 30 * DAY,
        half_life: float = 7 * DAY,
        follow_weight: float = 1.0,
        negative_weight: float = 1.0,
    ) -> None:
        for label, value in (("window", window), ("half_life", half_life)):
            if not value > 0:
                raise UsageError(f"fresh: {label} must be > 0 seconds, not {value}")
        weights = (("follow_weight", follow_weight), ("negative_weight", negative_weight))
        for label, value in weights:
            if value < 0:
                raise UsageError(f"fresh: {label} must be ≥ 0, not {value}")
        super().__init__(
            window=float(window),
            half_life=float(half_life),
            follow_weight=float(follow_weight),
            negative_weight=float(negative_weight),
        )
        self.item_show = np.zeros(0, dtype=np.int32)
        self.n_shows = 0
        self.now = 0.0
        # The episodes new at ``now`` (available, with a known show), newest first, and
        # their recency factor.
        self.recent = np.zeros(0, dtype=np.int64)
        self.recency = np.zeros(0, dtype=np.float64)

    def fit(self, data: Dataset, *, progress: Progress = SILENT) -> None:
        if data.item_show is None or data.item_published is None:
            raise UsageError("fresh needs the items' shows and publication times")
        published = np.asarray(data.item_published, dtype=np.float64)
        self.item_show = np.asarray(data.item_show, dtype=np.int32)
        self.n_shows = max(len(data.shows), int(self.item_show.max(initial=-1)) + 1)
        known = np.isfinite(published)
        # The newest publication the facts hold (none after the data's ``now``): the
        # catalog's present, which a catalog not synced lately (or the demo's frozen world)
        # has left behind the clock.
        dated = published[known]
        if data.now:
            dated = dated[dated <= data.now]
        self.now = float(dated.max(initial=0.0)) or float(data.now)
        # Published after ``now`` (in a split by time, the future; in a catalog, scheduled or
        # dated ahead by its feed): it did not exist as of the data, so it is never new (and
        # no publication in the facts falls between ``now`` and the data's ``now``).
        known &= published <= self.now
        age = self.now - np.where(known, published, -np.inf)
        new = known & (self.item_show >= 0) & (age <= self.params["window"])
        if data.item_available is not None:
            new &= np.asarray(data.item_available, dtype=bool)
        recent = np.flatnonzero(new)
        recent = recent[np.lexsort((recent, age[recent]))]
        self.recent = recent.astype(np.int64)
        self.recency = np.exp2(-age[recent] / self.params["half_life"])

    def affinity(self, history: History) -> np.ndarray:
        """Per show, this history's affinity (0 for shows it has none for)."""
        shows = np.zeros(self.n_shows, dtype=np.float64)
        n_items = len(self.item_show)
        items = np.asarray(history.items, dtype=np.int64)
        weights = np.asarray(history.weights, dtype=np.float64)
        keep = (items >= 0) & (items < n_items) & (weights > 0)
        items, weights = items[keep], weights[keep]
        total = weights.sum()
        if total > 0:
            show = self.item_show[items]
            mine = show >= 0
            np.add.at(shows, show[mine], weights[mine] / total)
            rejected = np.asarray(history.negatives, dtype=np.int64)
            rejected = rejected[(rejected >= 0) & (rejected < n_items)]
            show = self.item_show[rejected]
            # One rejection takes back one average play's share.
            np.add.at(shows, show[show >= 0], -self.params["negative_weight"] / max(len(items), 1))
        follows = _shows(history.follows, self.n_shows)
        shows[follows] = np.maximum(shows[follows], 0.0) + self.params["follow_weight"]
        shows[_shows(history.unfollowed, self.n_shows)] = 0.0
        return np.clip(shows, 0.0, None)

    def recommend(self, history: History, n: int, *, exclude: np.ndarray | None = None) -> Scored:
        if n <= 0 or not len(self.recent):
            return empty_scored(self.name)
        affinity = self.affinity(history)
        scores = affinity[self.item_show[self.recent]] * self.recency
        scores[np.isin(self.recent, history.excluded(exclude))] = 0.0
        scores[scores <= 0] = -np.inf
        best, values = top_n(scores, n)
        items = self.recent[best]
        return Scored(self.name, items, values, because_show=self.item_show[items].astype(np.int64))

    def similar_items(self, item: int, n: int) -> Scored:
        """The other new episodes of the item's show, newest first; none when it has none."""
        if not 0 <= item < len(self.item_show) or self.item_show[item] < 0 or n <= 0:
            return empty_scored(self.name)
        same = (self.item_show[self.recent] == self.item_show[item]) & (self.recent != item)
        items, scores = self.recent[same][:n], self.recency[same][:n]
        return Scored(self.name, items, scores)

    def save(self, directory: Path) -> None:
        write_model(
            directory,
            self.name,
            self.params,
            item_show=self.item_show,
            recent=self.recent,
            recency=self.recency,
            state=np.array([self.now, float(self.n_shows)]),
        )

    @classmethod
    def load(cls, directory: Path) -> Self:
        params, arrays = read_model(directory, cls.name)
        model = cls(**params)
        model.item_show = arrays["item_show"]
        model.recent = arrays["recent"]
        model.recency = arrays["recency"]
        model.now, n_shows = arrays["state"].tolist()
        model.n_shows = int(n_shows)
        return model


def _shows(indices: np.ndarray, n_shows: int) -> np.ndarray:
    shows = np.asarray(indices, dtype=np.int64)
    return shows[(shows >= 0) & (shows < n_shows)]
