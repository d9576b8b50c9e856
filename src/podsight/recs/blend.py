"""One list a listener is shown, blended from the candidate models, filtered, capped,
diversified and explained.

**Normalising.** Each model scores on its own scale (ALS dot products, co-occurrence sums,
cosines, play counts), so scores are never added raw. A source's list is turned into
ranks (ties share their average rank) and each rank ``r`` (0 = best) into
``RANK_OFFSET / (RANK_OFFSET + r)``: 1 for the top item, ½ at rank 10, ~0.1 at rank 90.
An item a source did not propose gets 0 from it. This is reciprocal-rank fusion with the
offset at the length of a served page, so the top of each list dominates, as in a page.

**Weights fitted on a validation split.** :meth:`Hybrid.fit` holds out a share of each
user's positive interactions (the latest ones where the data has timestamps, else a
seeded random share), fits every model on the rest, and asks each for its candidates for
the users with held-out items. The blend's weights (on the simplex: non-negative, summing
to 1) maximise NDCG@10 of the blended ranking against the held-out items: every single
model and equal weights are tried first, then coordinate ascent (each weight in turn over
a grid of 0, 0.05, …, 1, the others rescaled to keep the sum) until no step improves.
Every single model is a point of the search, so on validation the blend is never below
the best single model. The models are then fitted again on all the data. Models whose
data they do not support (``Recommender.supports``) are left out.

**Cold start.** A history with no plays gets equal weights over the sources that answer
it (the fitted weights were learnt on listeners with a history): trending or popular
items, ranked in the listener's languages (``History.languages``) first, and new
episodes of the shows they follow (``fresh``). A new episode, with no plays yet, reaches
listeners through its show (``fresh``: followed shows and shows they listen to) and its
content (``content``: the nearest episodes to what they finished or liked).

**Never shown.** Whatever the listener played, finished, skipped or rejected
(:meth:`History.excluded`), episodes of shows they unsubscribed from, unavailable
episodes, an episode already on the list (one canonical id), and, when asked, episodes
in other languages. At most ``show_cap`` episodes of one show in any ``cap_window``
consecutive places of the list (``PODSIGHT_RECS_SHOW_CAP``, default 2 in 10).

**Diversity.** Maximal marginal relevance on the items' embeddings: each place goes to
the candidate maximising ``(1 - λ)·relevance - λ·(its highest cosine to an item already
placed)``, relevance being the blended score over the list's best. ``λ`` is
``PODSIGHT_RECS_DIVERSITY`` (default :data:`DEFAULT_DIVERSITY`); 0 or a dataset without
embeddings: relevance order. docs/recs.md reports its effect on NDCG@10 and intra-list
similarity.

**Reasons.** Each recommendation names every source that proposed it, strongest
(largest weighted contribution) first, and a sentence from the strongest source that can
explain it with what it holds (``Scored.because``: a history item; ``because_show``: a
show).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Self

import numpy as np
import scipy.sparse as sp
from scipy.stats import rankdata

from podsight import conf
from podsight.errors import InputError, NotFoundError, StorageError
from podsight.progress import SILENT, Progress
from podsight.recs.core import Dataset, History, Recommender, Scored, algorithm

__all__ = [
    "BASELINES",
    "DEFAULT_DIVERSITY",
    "DEFAULT_SHOW_CAP",
    "RANK_OFFSET",
    "BlendFit",
    "Hybrid",
    "Metrics",
    "ModelFilesMissing",
    "Recommendation",
    "UnknownItem",
    "diversity_setting",
    "fit_weights",
    "intra_list_similarity",
    "language_name",
    "load_facts",
    "normalise",
    "ranking_metrics",
    "save_facts",
    "show_cap_setting",
    "split_validation",
]

RANK_OFFSET = 10.0
DEFAULT_SHOW_CAP = 2
DEFAULT_CAP_WINDOW = 10
DEFAULT_DIVERSITY = 0.1
DEFAULT_CANDIDATES = 100
K = 10  # the cut-off of every validation metric
# Measured beside the sources on the validation split (the evaluation's own, evaluate.py).
BASELINES = ("popular", "random")
# Validation lists are asked for this many users at most (a seeded sample): the weights
# of a handful of sources are well determined by a few thousand listeners.
MAX_VALIDATION_USERS = 3000
# Served lists (a Python loop each) re-check the weights on at most this many of them.
MAX_RECHECK_USERS = 1000
GRID = np.round(np.linspace(0.0, 1.0, 21), 2)
MAX_ROUNDS = 10

# Kinds of source, by the registered model name: they decide the wording of a reason.
_COLLABORATIVE = {"als", "bpr", "ease"}
_ITEM_TO_ITEM = {"itemknn"}
_CONTENT = {"content"}
_FRESH = {"fresh"}
_TRENDING = {"trending"}
_POPULAR = {"popular"}
# The order in which also_played asks models for similar items.
_SIMILAR_ORDER = ("itemknn", "als", "bpr", "ease", "content")

_LANGUAGES = {
    "ar": "Arabic", "bg": "Bulgarian", "ca": "Catalan", "cs": "Czech", "cy": "Welsh",
    "da": "Danish", "de": "German", "el": "Greek", "en": "English", "es": "Spanish",
    "et": "Estonian", "eu": "Basque", "fa": "Persian", "fi": "Finnish", "fr": "French",
    "ga": "Irish", "gl": "Galician", "he": "Hebrew", "hi": "Hindi", "hr": "Croatian",
    "hu": "Hungarian", "id": "Indonesian", "is": "Icelandic", "it": "Italian",
    "ja": "Japanese", "ko": "Korean", "lt": "Lithuanian", "lv": "Latvian", "ms": "Malay",
    "nb": "Norwegian", "nl": "Dutch", "nn": "Norwegian", "no": "Norwegian", "pl": "Polish",
    "pt": "Portuguese", "ro": "Romanian", "ru": "Russian", "sk": "Slovak", "sl": "Slovenian",
    "sr": "Serbian", "sv": "Swedish", "sw": "Swahili", "ta": "Tamil", "th": "Thai",
    "tl": "Tagalog", "tr": "Turkish", "uk": "Ukrainian", "ur": "Urdu", "vi": "Vietnamese",
    "zh": "Chinese",
}  # fmt: skip


class UnknownItem(NotFoundError, LookupError):
    """An item index the fitted data does not hold."""


class ModelFilesMissing(StorageError):
    """A saved blend lacks a file (an interrupted write or a damaged model folder)."""


# --- settings -----------------------------------------------------------------------------


def show_cap_setting() -> int:
    """``PODSIGHT_RECS_SHOW_CAP``: at most this many episodes of one show in any
    ``cap_window`` (10) consecutive places of a list; default 2."""
    raw = conf.env("PODSIGHT_RECS_SHOW_CAP", "")
    if not raw:
        return DEFAULT_SHOW_CAP
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 1:
        raise conf.SettingError(
            f"PODSIGHT_RECS_SHOW_CAP must be a whole number of episodes ≥ 1, not {raw!r}"
        )
    return value


def diversity_setting() -> float:
    """``PODSIGHT_RECS_DIVERSITY``: the MMR trade-off λ in [0, 1] (0: relevance only)."""
    value = conf.env_float("PODSIGHT_RECS_DIVERSITY", DEFAULT_DIVERSITY)
    if not 0.0 <= value <= 1.0:
        raise conf.SettingError(f"PODSIGHT_RECS_DIVERSITY must be between 0 and 1, not {value}")
    return value


# --- the pieces -------------------------------------------------------------------------


@dataclass(frozen=True)
class Recommendation:
    """One item of a served list."""

    item: int  # index into the dataset's items
    episode: str  # data.items[item] (canonical episode id as text)
    score: float  # blended, comparable within one list
    sources: tuple[str, ...]  # the models that proposed it, strongest first
    reason: str  # "because you finished <title>", "new from <show> you follow", ...
    show: str | None  # data.shows[item_show] or None
    language: str | None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self) | {"sources": list(self.sources)}


@dataclass(frozen=True)
class Metrics:
    """Top-``K`` metrics of lists against held-out items, averaged over users."""

    ndcg: float
    precision: float
    recall: float
    coverage: float  # share of the catalog appearing in any list
    users: int
    intra_list_similarity: float | None = None  # mean pairwise cosine within a list

    def as_dict(self) -> dict[str, float | int | None]:
        out: dict[str, float | int | None] = {
            f"ndcg@{K}": round(self.ndcg, 6),
            f"p@{K}": round(self.precision, 6),
            f"r@{K}": round(self.recall, 6),
            "coverage": round(self.coverage, 6),
            "users": self.users,
        }
        if self.intra_list_similarity is not None:
            out["intra_list_similarity"] = round(self.intra_list_similarity, 6)
        return out


@dataclass(frozen=True)
class BlendFit:
    """What :meth:`Hybrid.fit` found on its validation split."""

    weights: dict[str, float]
    models: dict[str, Metrics]  # each model alone
    blend: Metrics | None  # the blended ranking the weights maximise (no filters)
    served: Metrics | None  # the lists as served: filtered, capped, diversified
    diversity: dict[float, Metrics] = field(default_factory=dict)  # served lists per λ
    # Each model alone, its lists served (filtered, capped): the weights' re-check.
    served_models: dict[str, Metrics] = field(default_factory=dict)
    skipped: tuple[str, ...] = ()  # models the data does not support
    # The evaluation's baselines (popular, random) measured on the same split when they
    # are not sources of the blend: what its figures are to be read against.
    baselines: dict[str, Metrics] = field(default_factory=dict)
    split: str = "none"  # "time", "random" or "none" (too little data to hold any out)
    validation_users: int = 0
    held_out: int = 0
    seconds: float = 0.0

    @property
    def metrics(self) -> dict[str, dict[str, float | int | None]]:
        """Validation metrics by name: ``hybrid`` (the lists as served), ``hybrid_ranking``
        (the blended ranking before filters) and each model alone."""
        out: dict[str, dict[str, float | int | None]] = {}
        if self.served is not None:
            out["hybrid"] = self.served.as_dict()
        if self.blend is not None:
            out["hybrid_ranking"] = self.blend.as_dict()
        out.update((name, m.as_dict()) for name, m in self.models.items())
        out.update((name, m.as_dict()) for name, m in self.baselines.items())
        return out

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: the version's offline metrics."""
        return {
            "weights": {k: round(v, 4) for k, v in self.weights.items()},
            "metrics": self.metrics,
            "models": {k: m.as_dict() for k, m in self.models.items()},
            "blend": self.blend.as_dict() if self.blend else None,
            "served": self.served.as_dict() if self.served else None,
            "diversity": {str(lam): m.as_dict() for lam, m in self.diversity.items()},
            "served_models": {k: m.as_dict() for k, m in self.served_models.items()},
            "baselines": {k: m.as_dict() for k, m in self.baselines.items()},
            "skipped": list(self.skipped),
            "split": self.split,
            "validation_users": self.validation_users,
            "held_out": self.held_out,
            "seconds": round(self.seconds, 3),
        }


def normalise(scores: np.ndarray, offset: float = RANK_OFFSET) -> np.ndarray:
    """A source's list (scores best first, any scale) as rank scores in (0, 1]:
    ``offset / (offset + rank)``, ties sharing their average rank."""
    scores = np.asarray(scores, dtype=np.float64)
    if not len(scores):
        return np.zeros(0, dtype=np.float64)
    if bool(np.all(scores[1:] < scores[:-1])):  # the usual case: no ties, best first
        ranks = np.arange(len(scores), dtype=np.float64)
    else:
        ranks = rankdata(-scores, method="average") - 1.0
    return offset / (offset + ranks)


def intra_list_similarity(items: Sequence[int] | np.ndarray, vectors: np.ndarray) -> float:
    """Mean cosine between every two items of a list (vectors L2-normalised)."""
    idx = np.asarray(items, dtype=np.int64)
    if len(idx) < 2:
        return 0.0
    v = vectors[idx].astype(np.float64)
    sims = v @ v.T
    n = len(idx)
    return float((sims.sum() - np.trace(sims)) / (n * (n - 1)))


def language_name(code: str) -> str:
    """ "en" → "English"; an unknown code as it is, upper case."""
    code = (code or "").strip().lower().replace("_", "-").split("-", 1)[0]
    return _LANGUAGES.get(code, code.upper())


def _window_phrase(seconds: float | None) -> str:
    if not seconds or seconds <= 0:
        return "lately"
    days = seconds / 86_400.0
    if days <= 1.0:
        return "today"
    if 6.0 <= days <= 7.5:
        return "this week"
    if 28.0 <= days <= 31.5:
        return "this month"
    return f"in the last {round(days):d} days"


# --- validation ---------------------------------------------------------------------------


def split_validation(
    data: Dataset, share: float = 0.2, seed: int = 0
) -> tuple[Dataset, sp.csr_matrix, str]:
    """Hold out ``share`` of each user's positive interactions (at least one, and only
    from users with two or more): the latest where every one of the user's interactions
    has a timestamp, else a seeded random share. Returns the training dataset (same
    users, items and facts), the held-out cells as a users × items 0/1 matrix, and
    ``"time"``, ``"random"`` or ``"mixed"`` saying how."""
    matrix = data.matrix.tocoo()
    rows, cols = matrix.row.astype(np.int64), matrix.col.astype(np.int64)
    rng = np.random.default_rng(seed)
    noise = rng.random(len(rows))
    key = noise.copy()
    timed = np.zeros(len(rows), dtype=bool)
    if data.timestamps is not None and len(rows):
        stamps = np.asarray(data.timestamps.tocsr()[rows, cols]).ravel().astype(np.float64)
        known = np.isfinite(stamps) & (stamps > 0)
        unknown_rows = np.bincount(rows[~known], minlength=data.n_users) > 0
        timed = ~unknown_rows[rows]
        # Latest last; ties (same instant) in random order.
        key = np.where(timed, stamps, noise)
    order = np.lexsort((noise, key, rows))
    counts = np.bincount(rows, minlength=data.n_users)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    sorted_rows = rows[order]
    position = np.arange(len(order)) - starts[sorted_rows]
    holdout = np.where(counts >= 2, np.clip(np.round(share * counts), 1, counts - 1), 0)
    held = np.zeros(len(rows), dtype=bool)
    held[order] = position >= counts[sorted_rows] - holdout[sorted_rows]
    shape = data.matrix.shape
    train = sp.csr_matrix(
        (matrix.data[~held], (rows[~held], cols[~held])), shape=shape, dtype=np.float32
    )
    heldout = sp.csr_matrix(
        (np.ones(held.sum(), dtype=np.float32), (rows[held], cols[held])), shape=shape
    )
    changes: dict[str, Any] = {}
    if data.timestamps is not None:
        stamps_csr = data.timestamps.tocsr()
        changes["timestamps"] = sp.csr_matrix(stamps_csr - stamps_csr.multiply(heldout))
    if data.seen is not None:
        seen = (data.seen != 0).astype(np.float32)
        changes["seen"] = sp.csr_matrix(seen - seen.multiply(heldout))
    train_data = data.with_matrix(train, **changes)
    how = "random"
    if held.any():
        share_timed = timed[held].mean()
        how = "time" if share_timed == 1.0 else "random" if share_timed == 0.0 else "mixed"
    return train_data, heldout, how


def ranking_metrics(
    lists: Sequence[Sequence[int] | np.ndarray],
    relevant: Sequence[set[int]],
    n_items: int,
    vectors: np.ndarray | None = None,
    k: int = K,
) -> Metrics:
    """NDCG@k (binary gains), P@k, R@k and catalog coverage of ``lists`` (best first)
    against each user's ``relevant`` items; intra-list similarity when ``vectors``."""
    ndcg = precision = recall = ils = 0.0
    shown: set[int] = set()
    users = 0
    discounts = 1.0 / np.log2(np.arange(2, k + 2))
    for items, rel in zip(lists, relevant, strict=True):
        if not rel:
            continue
        users += 1
        top = [int(i) for i in list(items)[:k]]
        shown.update(top)
        gains = np.array([1.0 if i in rel else 0.0 for i in top])
        hits = gains.sum()
        dcg = float((gains * discounts[: len(top)]).sum())
        ideal = float(discounts[: min(len(rel), k)].sum())
        ndcg += dcg / ideal
        precision += hits / k
        recall += hits / len(rel)
        if vectors is not None:
            ils += intra_list_similarity(top, vectors)
    if not users:
        return Metrics(0.0, 0.0, 0.0, 0.0, 0, None)
    return Metrics(
        ndcg=ndcg / users,
        precision=precision / users,
        recall=recall / users,
        coverage=len(shown) / max(n_items, 1),
        users=users,
        intra_list_similarity=ils / users if vectors is not None else None,
    )


def _candidate_tensor(
    lists: Mapping[str, Sequence[Scored]], relevant: Sequence[set[int]]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[np.ndarray]]:
    """Per user the union of the sources' candidates: a users × C × sources array of
    normalised rank scores (0 where a source did not propose it), users × C relevance,
    users × C validity (padding False) and the candidate items per user."""
    names = list(lists)
    users = len(relevant)
    per_user: list[np.ndarray] = []
    columns: list[dict[int, int]] = []
    for u in range(users):
        seen: dict[int, int] = {}
        for name in names:
            for item in lists[name][u].items.tolist():
                seen.setdefault(item, len(seen))
        columns.append(seen)
        per_user.append(np.fromiter(seen, dtype=np.int64, count=len(seen)))
    width = max((len(c) for c in columns), default=0)
    tensor = np.zeros((users, max(width, 1), len(names)), dtype=np.float32)
    rel = np.zeros((users, max(width, 1)), dtype=bool)
    valid = np.zeros((users, max(width, 1)), dtype=bool)
    for u in range(users):
        col = columns[u]
        valid[u, : len(col)] = True
        for m, name in enumerate(names):
            scored = lists[name][u]
            if len(scored):
                idx = [col[i] for i in scored.items.tolist()]
                tensor[u, idx, m] = normalise(scored.scores)
        for item in relevant[u]:
            c = col.get(item)
            if c is not None:
                rel[u, c] = True
    return tensor, rel, valid, per_user


def _ndcg_of(
    weights: np.ndarray,
    tensor: np.ndarray,
    rel: np.ndarray,
    valid: np.ndarray,
    ideal: np.ndarray,
    k: int = K,
) -> float:
    scores = tensor @ weights.astype(np.float32)
    scores[~valid] = -np.inf
    width = scores.shape[1]
    kk = min(k, width)
    # The k best per user, in order; ties to the earlier candidate (stable).
    top = np.argsort(-scores, axis=1, kind="stable")[:, :kk]
    gains = np.take_along_axis(rel & valid, top, axis=1).astype(np.float64)
    discounts = 1.0 / np.log2(np.arange(2, kk + 2))
    dcg = (gains * discounts).sum(axis=1)
    return float((dcg / ideal).mean())


def fit_weights(
    lists: Mapping[str, Sequence[Scored]],
    relevant: Sequence[set[int]],
    *,
    k: int = K,
) -> tuple[dict[str, float], float]:
    """The simplex weights maximising NDCG@k of the blended ranking: each source alone
    and equal weights first, then coordinate ascent over :data:`GRID` until no step
    improves (at most :data:`MAX_ROUNDS` rounds). Returns the weights and their NDCG@k."""
    names = list(lists)
    if not names:
        return {}, 0.0
    if len(names) == 1:
        return {names[0]: 1.0}, 0.0
    keep = [u for u, r in enumerate(relevant) if r]
    relevant = [relevant[u] for u in keep]
    lists = {name: [lists[name][u] for u in keep] for name in names}
    if not relevant:
        return {name: 1.0 / len(names) for name in names}, 0.0
    tensor, rel, valid, _ = _candidate_tensor(lists, relevant)
    discounts = 1.0 / np.log2(np.arange(2, k + 2))
    ideal = np.array([discounts[: min(len(r), k)].sum() for r in relevant])
    m = len(names)
    starts = [np.eye(m)[i] for i in range(m)] + [np.full(m, 1.0 / m)]
    scored_starts = [(_ndcg_of(w, tensor, rel, valid, ideal, k), -i) for i, w in enumerate(starts)]
    best_value, neg_i = max(scored_starts)
    best = starts[-neg_i]
    for _ in range(MAX_ROUNDS):
        improved = False
        for i in range(m):
            for value in GRID:
                candidate = _move(best, i, float(value))
                score = _ndcg_of(candidate, tensor, rel, valid, ideal, k)
                if score > best_value + 1e-9:
                    best_value, best, improved = score, candidate, True
        if not improved:
            break
    return {name: float(w) for name, w in zip(names, best, strict=True)}, best_value


def _move(weights: np.ndarray, i: int, value: float) -> np.ndarray:
    """``weights`` with weight ``i`` set to ``value`` and the others rescaled to keep the
    sum at 1 (spread evenly when they were all 0)."""
    out = weights.astype(np.float64).copy()
    rest = out.sum() - out[i]
    others = np.arange(len(out)) != i
    if rest > 0:
        out[others] *= (1.0 - value) / rest
    elif others.any():
        out[others] = (1.0 - value) / others.sum()
    out[i] = value
    return out


# --- facts saved beside the models ------------------------------------------------------

_FACT_ARRAYS = ("item_show", "item_published", "item_available", "item_vectors")
_FACT_MATRICES = ("matrix", "negatives", "seen", "follows", "unfollowed")


def save_facts(data: Dataset, directory: Path) -> None:
    """What serving needs of the dataset, without pickles: ids, titles, languages and
    topics as JSON; the per-item arrays in ``facts.npz``; the interactions and follows as
    scipy sparse ``.npz`` files."""
    directory.mkdir(parents=True, exist_ok=True)
    meta = {
        "users": data.users,
        "items": data.items,
        "shows": data.shows,
        "show_titles": data.show_titles,
        "item_titles": data.item_titles,
        "item_language": data.item_language,
        "item_topics": [list(t) for t in data.item_topics] if data.item_topics else None,
        "user_languages": (
            [list(t) for t in data.user_languages] if data.user_languages is not None else None
        ),
        "now": data.now,
        "data_version": data.data_version,
        "name": data.name,
    }
    (directory / "facts.json").write_text(json.dumps(meta, ensure_ascii=False))
    arrays = {name: getattr(data, name) for name in _FACT_ARRAYS if getattr(data, name) is not None}
    np.savez(directory / "facts.npz", **arrays)
    for name in _FACT_MATRICES:
        value = getattr(data, name)
        if value is not None:
            sp.save_npz(directory / f"{name}.npz", sp.csr_matrix(value), compressed=False)


def load_facts(directory: Path) -> Dataset:
    """The dataset :func:`save_facts` wrote (timestamps are not kept)."""
    try:
        meta = json.loads((directory / "facts.json").read_text("utf-8"))
        with np.load(directory / "facts.npz", allow_pickle=False) as npz:
            arrays = {name: npz[name] for name in npz.files}
        matrices = {
            name: sp.load_npz(directory / f"{name}.npz")
            for name in _FACT_MATRICES
            if (directory / f"{name}.npz").exists()
        }
    except (OSError, ValueError, KeyError) as exc:
        raise ModelFilesMissing(
            f"the recommendation facts in {directory} cannot be read ({exc}); "
            "train again with podsight recs train"
        ) from exc
    n_users, n_items = len(meta["users"]), len(meta["items"])
    return Dataset(
        users=meta["users"],
        items=meta["items"],
        matrix=matrices.pop("matrix", sp.csr_matrix((n_users, n_items), dtype=np.float32)),
        **matrices,
        shows=meta["shows"],
        show_titles=meta["show_titles"],
        item_titles=meta["item_titles"],
        item_language=meta["item_language"],
        item_topics=(
            [tuple(t) for t in meta["item_topics"]] if meta["item_topics"] is not None else None
        ),
        user_languages=(
            [tuple(t) for t in meta["user_languages"]]
            if meta["user_languages"] is not None
            else None
        ),
        now=meta["now"],
        data_version=meta["data_version"],
        name=meta["name"],
        **arrays,
    )


# --- the hybrid -----------------------------------------------------------------------------


class _Proposals:
    """What each source proposed for one list: its items, weighted contributions and
    explanations, looked up only for the items placed (a few of some hundreds)."""

    def __init__(self) -> None:
        self.names: list[str] = []
        self.items: list[np.ndarray] = []
        self.contributions: list[np.ndarray] = []
        self._because: list[np.ndarray | None] = []
        self._shows: list[np.ndarray | None] = []
        self._sorted: list[np.ndarray] = []

    def add(self, name: str, scored: Scored, contributions: np.ndarray) -> None:
        self.names.append(name)
        self.items.append(scored.items)
        self.contributions.append(contributions)
        self._because.append(scored.because)
        self._shows.append(scored.because_show)
        self._sorted.append(np.argsort(scored.items, kind="stable"))

    def of(self, item: int) -> list[tuple[tuple[float, int, int], str]]:
        """Per source that proposed ``item``: ((contribution, because, because_show),
        source), the largest contribution first."""
        found = []
        for k, name in enumerate(self.names):
            items, order = self.items[k], self._sorted[k]
            at = int(np.searchsorted(items, item, sorter=order))
            if at < len(items) and items[order[at]] == item:
                j = int(order[at])
                because = self._because[k]
                shows = self._shows[k]
                found.append(
                    (
                        (
                            float(self.contributions[k][j]),
                            int(because[j]) if because is not None else -1,
                            int(shows[j]) if shows is not None else -1,
                        ),
                        name,
                    )
                )
        found.sort(key=lambda pair: -pair[0][0])
        return found


class Hybrid:
    """The candidate models blended into served lists (see the module's docstring).

    ``models`` maps a source name (shown in ``Recommendation.sources``) to a model;
    ``weights`` fixes the blend instead of fitting it. ``show_cap`` and ``diversity``
    default to their settings (``PODSIGHT_RECS_SHOW_CAP``, ``PODSIGHT_RECS_DIVERSITY``);
    ``candidates`` is how many items each source proposes per list.
    """

    def __init__(
        self,
        models: Mapping[str, Recommender],
        *,
        weights: Mapping[str, float] | None = None,
        show_cap: int | None = None,
        cap_window: int = DEFAULT_CAP_WINDOW,
        diversity: float | None = None,
        candidates: int = DEFAULT_CANDIDATES,
    ) -> None:
        if not models:
            raise InputError("a blend needs at least one model")
        if show_cap is not None and show_cap < 1:
            raise InputError(f"show_cap must be ≥ 1, not {show_cap}")
        if cap_window < 1:
            raise InputError(f"cap_window must be ≥ 1, not {cap_window}")
        if diversity is not None and not 0.0 <= diversity <= 1.0:
            raise InputError(f"diversity must be between 0 and 1, not {diversity}")
        self.models: dict[str, Recommender] = dict(models)
        self._given = {"show_cap": show_cap, "diversity": diversity}
        self.show_cap = show_cap if show_cap is not None else show_cap_setting()
        self.diversity = diversity if diversity is not None else diversity_setting()
        self.cap_window = cap_window
        self.candidates = candidates
        self.weights: dict[str, float] = dict(weights) if weights else {}
        self._fixed_weights = weights is not None
        self.fitted: BlendFit | None = None
        # What the fit found, as saved (a loaded blend has this, not ``fitted``).
        self.fit_summary: dict[str, Any] | None = None
        self.facts: Dataset | None = None

    @classmethod
    def named(
        cls,
        names: Iterable[str],
        *,
        model_params: Mapping[str, Mapping[str, Any]] | None = None,
        **kwargs: Any,
    ) -> Self:
        """A blend of the registered models ``names`` (``core.ALGORITHMS``)."""
        model_params = model_params or {}
        return cls({n: algorithm(n)(**dict(model_params.get(n, {}))) for n in names}, **kwargs)

    @property
    def params(self) -> dict[str, Any]:
        return {
            "show_cap": self._given["show_cap"],
            "cap_window": self.cap_window,
            "diversity": self._given["diversity"],
            "candidates": self.candidates,
        }

    # -- fitting -----------------------------------------------------------------------

    def fit(
        self,
        data: Dataset,
        *,
        validation_share: float = 0.2,
        seed: int = 0,
        diversities: Iterable[float] = (),
        progress: Progress = SILENT,
    ) -> BlendFit:
        """Fit the weights on a validation split, then every model on all of ``data``
        (``validation_share`` 0: no split; given or equal weights, no metrics). The served
        lists are measured at λ = 0, at the blend's λ and at each of ``diversities``."""
        started = time.perf_counter()
        skipped = tuple(n for n, m in self.models.items() if not type(m).supports(data))
        for name in skipped:
            progress.note(
                f"recs: {name} left out: the data has no {_missing(self.models[name], data)}"
            )
        self.models = {n: m for n, m in self.models.items() if n not in skipped}
        if not self.models:
            raise InputError(
                f"none of the models ({', '.join(skipped)}) can use the data {data.name!r}: "
                "it lacks the catalog facts they need; choose collaborative models (als, itemknn)"
            )
        fit = BlendFit(weights={}, models={}, blend=None, served=None, skipped=skipped)
        if validation_share > 0:
            fit = self._validate(
                data, validation_share, seed, skipped, tuple(diversities), progress
            )
        elif not self._fixed_weights:
            self.weights = {n: 1.0 / len(self.models) for n in self.models}
        with progress.task("recs: fit the models on all the data", total=len(self.models)) as bar:
            for name, model in self.models.items():
                bar.update(item=name)
                model.fit(data, progress=progress)
                bar.advance()
        self._attach(data)
        self.fitted = replace(
            fit, weights=dict(self.weights), seconds=time.perf_counter() - started
        )
        self.fit_summary = self.fitted.as_dict()
        return self.fitted

    def _validate(
        self,
        data: Dataset,
        share: float,
        seed: int,
        skipped: tuple[str, ...],
        diversities: tuple[float, ...],
        progress: Progress,
    ) -> BlendFit:
        train, heldout, how = split_validation(data, share, seed)
        users = np.flatnonzero(np.diff(heldout.indptr) > 0)
        if len(users) > MAX_VALIDATION_USERS:
            rng = np.random.default_rng(seed)
            users = np.sort(rng.choice(users, MAX_VALIDATION_USERS, replace=False))
        if not len(users):
            if not self._fixed_weights:
                self.weights = {n: 1.0 / len(self.models) for n in self.models}
            return BlendFit({}, {}, None, None, skipped=skipped, split="none")
        relevant = [
            set(heldout.indices[heldout.indptr[u] : heldout.indptr[u + 1]].tolist()) for u in users
        ]
        histories = [train.history(int(u)) for u in users]
        lists: dict[str, list[Scored]] = {}
        trained: dict[str, Recommender] = {}
        with progress.task("recs: fit on the training split", total=len(self.models)) as bar:
            for name, model in self.models.items():
                bar.update(item=name)
                copy = type(model)(**model.params)
                copy.fit(train, progress=progress)
                trained[name] = copy
                lists[name] = copy.recommend_many(histories, self.candidates)
                bar.advance()
        vectors = train.item_vectors
        per_model = {
            name: ranking_metrics([s.items for s in lists[name]], relevant, data.n_items, vectors)
            for name in lists
        }
        baselines = self._baselines(train, histories, relevant, data.n_items, vectors)
        # The lists as a listener sees them: the validation models, these weights.
        self.models, originals = trained, self.models
        self._attach(train)

        def served(weights: Mapping[str, float], lam: float, sample: Sequence[int]) -> Metrics:
            self.weights = dict(weights)
            out = [
                [
                    r.item
                    for r in self._serve(
                        histories[u], K, {n: lists[n][u] for n in lists}, diversity=lam
                    )
                ]
                for u in sample
            ]
            return ranking_metrics(out, [relevant[u] for u in sample], data.n_items, vectors)

        served_models: dict[str, Metrics] = {}
        weights = {n: float(self.weights.get(n, 0.0)) for n in self.models}
        try:
            with progress.task("recs: fit the blend's weights", total=None):
                if not self._fixed_weights:
                    weights, _ = fit_weights(lists, relevant)
                    if data.item_show is not None and len(lists) > 1:
                        # The per-show cap reorders what the ranking's search saw: the
                        # weights that serve best among these, on the lists as served.
                        weights, served_models = self._recheck(weights, lists, users, seed, served)
            self.weights = weights
            blended = [
                self._fuse({n: lists[n][u] for n in lists}, weights)[0] for u in range(len(users))
            ]
            blend_metrics = ranking_metrics(blended, relevant, data.n_items, vectors)
            lambdas = (
                sorted({0.0, self.diversity, *map(float, diversities)})
                if vectors is not None
                else [self.diversity]
            )
            everyone = range(len(users))
            diversity = {lam: served(weights, lam, everyone) for lam in lambdas}
        finally:
            self.models = originals
            self.weights = weights
        return BlendFit(
            weights=weights,
            models=per_model,
            blend=blend_metrics,
            served=diversity[self.diversity],
            diversity=diversity,
            served_models=served_models,
            skipped=skipped,
            baselines=baselines,
            split=how,
            validation_users=len(users),
            held_out=int(sum(len(r) for r in relevant)),
        )

    def _baselines(self, train: Dataset, histories: Sequence[History],
                   relevant: Sequence[set[int]], n_items: int,
                   vectors: np.ndarray | None) -> dict[str, Metrics]:  # fmt: skip
        """The evaluation's baselines that are not sources here, alone on the same split
        (cheap: a count and a shuffle), so a version's figures can be read against them."""
        out: dict[str, Metrics] = {}
        for name in BASELINES:
            if name in self.models:
                continue
            model = algorithm(name)()
            model.fit(train)
            scored = model.recommend_many(list(histories), K)
            out[name] = ranking_metrics([s.items for s in scored], relevant, n_items, vectors)
        return out

    def _recheck(
        self,
        fitted: dict[str, float],
        lists: Mapping[str, Sequence[Scored]],
        users: np.ndarray,
        seed: int,
        served: Any,
    ) -> tuple[dict[str, float], dict[str, Metrics]]:
        """Of the ranking's best weights, each source alone and equal weights, the one
        whose served lists (filtered, capped, diversified) have the best NDCG@10 on (up
        to :data:`MAX_RECHECK_USERS` of) the validation users, the fitted ones on ties;
        then one pass of steps of 0.2 towards each source, kept where they serve better.
        Also returns each source's served metrics alone."""
        names = list(lists)
        sample: Sequence[int] = range(len(users))
        if len(users) > MAX_RECHECK_USERS:
            rng = np.random.default_rng(seed + 1)
            sample = np.sort(rng.choice(len(users), MAX_RECHECK_USERS, replace=False)).tolist()
        best, best_value = fitted, served(fitted, self.diversity, sample).ndcg
        alone: dict[str, Metrics] = {}
        options = [({m: float(m == name) for m in names}, name) for name in names]
        options.append(({m: 1.0 / len(names) for m in names}, ""))
        for weights, name in options:
            metrics = served(weights, self.diversity, sample)
            if name:
                alone[name] = metrics
            if metrics.ndcg > best_value + 1e-9:
                best, best_value = weights, metrics.ndcg
        # One pass of small steps from there towards each source.
        for name in names:
            step = {m: 0.8 * best.get(m, 0.0) + 0.2 * float(m == name) for m in names}
            value = served(step, self.diversity, sample).ndcg
            if value > best_value + 1e-9:
                best, best_value = step, value
        return best, alone

    def _attach(self, data: Dataset) -> None:
        """Keep the facts serving needs, with lookups precomputed."""
        self.facts = data
        n = data.n_items
        self._available = (
            np.asarray(data.item_available, dtype=bool)
            if data.item_available is not None
            else np.ones(n, dtype=bool)
        )
        self._unavailable = np.flatnonzero(~self._available)
        self._item_show = (
            np.asarray(data.item_show, dtype=np.int64)
            if data.item_show is not None
            else np.full(n, -1, dtype=np.int64)
        )
        # Items of each show, for "never from a show they unsubscribed from".
        valid = self._item_show >= 0
        n_shows = max(len(data.shows), int(self._item_show.max(initial=-1)) + 1)
        self._show_items = sp.csr_matrix(
            (np.ones(valid.sum(), dtype=np.int8), (self._item_show[valid], np.flatnonzero(valid))),
            shape=(n_shows, n),
        )
        # One canonical episode id → its first index: the same episode never twice.
        first: dict[str, int] = {}
        self._canon = np.array(
            [first.setdefault(e, i) for i, e in enumerate(data.items)], dtype=np.int64
        )
        self._has_duplicates = len(first) < n
        self._languages = (
            np.array([(x or "").lower() for x in data.item_language], dtype=object)
            if data.item_language is not None
            else None
        )
        self._not_in_language: dict[str, np.ndarray] = {}
        vectors = data.item_vectors
        self._vectors = np.asarray(vectors, dtype=np.float32) if vectors is not None else None

    # -- serving -----------------------------------------------------------------------

    def _require_fitted(self) -> Dataset:
        if self.facts is None:
            raise InputError("the blend is not fitted: call fit() or load() first")
        return self.facts

    def recommend(
        self,
        history: History,
        n: int,
        *,
        language: str | None = None,
        exclude: np.ndarray | None = None,
    ) -> list[Recommendation]:
        """The ``n`` best items for ``history``: blended, filtered, capped per show,
        diversified, each with its sources and a reason."""
        self._require_fitted()
        if n <= 0:
            return []
        banned = self._banned(history, exclude, language)
        cold = len(history.items) == 0
        depth = max(self.candidates, 5 * n)
        lists: dict[str, Scored] = {}
        for name, model in self.models.items():
            if cold and not self._answers_cold(name):
                continue
            if not cold and self.weights.get(name, 0.0) <= 0.0:
                continue
            lists[name] = model.recommend(history, depth, exclude=banned)
        return self._serve(history, n, lists, language=language, banned=banned)

    def _not_in(self, language: str) -> np.ndarray:
        code = language.strip().lower().replace("_", "-").split("-", 1)[0]
        if code not in self._not_in_language:
            if self._languages is None:
                raise InputError(
                    "these recommendations have no episode languages to filter on; "
                    "ask without a language"
                )
            self._not_in_language[code] = np.flatnonzero(self._languages != code)
        return self._not_in_language[code]

    def _banned(
        self, history: History, exclude: np.ndarray | None, language: str | None
    ) -> np.ndarray:
        parts = [history.excluded(exclude), self._unavailable]
        unfollowed = np.asarray(history.unfollowed, dtype=np.int64)
        unfollowed = unfollowed[(unfollowed >= 0) & (unfollowed < self._show_items.shape[0])]
        if len(unfollowed):
            parts.append(self._show_items[unfollowed].indices)
        if language:
            parts.append(self._not_in(language))
        banned = np.unique(np.concatenate([np.asarray(p, dtype=np.int64) for p in parts]))
        banned = banned[(banned >= 0) & (banned < len(self._canon))]
        # Another index of a banned episode is banned too.
        if self._has_duplicates:
            banned = np.flatnonzero(np.isin(self._canon, self._canon[banned]))
        return banned

    def _fuse(
        self, lists: Mapping[str, Scored], weights: Mapping[str, float]
    ) -> tuple[np.ndarray, np.ndarray, _Proposals]:
        """Items by blended score (best first), their scores, and what each source said
        of them (:class:`_Proposals`)."""
        proposals = _Proposals()
        for name, scored in lists.items():
            w = float(weights.get(name, 0.0))
            if len(scored) and w > 0.0:
                proposals.add(name, scored, w * normalise(scored.scores))
        if not proposals.names:
            return np.zeros(0, dtype=np.int64), np.zeros(0), proposals
        items = np.concatenate(proposals.items)
        scores = np.concatenate(proposals.contributions)
        unique, inverse = np.unique(items, return_inverse=True)
        total = np.zeros(len(unique))
        np.add.at(total, inverse, scores)
        # First proposal order breaks ties: stable over the sources' own order.
        first = np.full(len(unique), len(items))
        np.minimum.at(first, inverse, np.arange(len(items)))
        order = np.lexsort((first, -total))
        return unique[order], total[order], proposals

    def _serve(
        self,
        history: History,
        n: int,
        lists: Mapping[str, Scored],
        *,
        language: str | None = None,
        banned: np.ndarray | None = None,
        diversity: float | None = None,
    ) -> list[Recommendation]:
        data = self._require_fitted()
        if banned is None:
            banned = self._banned(history, None, language)
        cold = len(history.items) == 0
        if cold:
            answering = [name for name, s in lists.items() if len(s) and self._answers_cold(name)]
            weights = {name: 1.0 / len(answering) for name in answering} if answering else {}
        else:
            weights = self.weights
        items, scores, proposals = self._fuse(lists, weights)
        keep = ~np.isin(items, banned) & (scores > 0)
        items, scores = items[keep], scores[keep]
        if not len(items):
            return []
        # Cold start: the listener's languages first (and the shows they chose to follow,
        # whatever their language).
        tier = np.zeros(len(items))
        if cold and history.languages and self._languages is not None:
            wanted = {code.lower() for code in history.languages}
            followed = np.isin(self._item_show[items], np.asarray(history.follows))
            spoken = np.array([self._languages[i] in wanted for i in items], dtype=bool)
            tier = np.where(spoken | followed, 0.0, -1.0)
        chosen = self._select(
            items, scores, tier, n, self.diversity if diversity is None else diversity
        )
        out = []
        for j in chosen:
            item = int(items[j])
            contributions = proposals.of(item)
            sources = tuple(name for _, name in contributions)
            show = int(self._item_show[item])
            out.append(
                Recommendation(
                    item=item,
                    episode=data.items[item],
                    score=float(scores[j]),
                    sources=sources,
                    reason=self._reason(history, item, contributions),
                    show=data.shows[show] if 0 <= show < len(data.shows) else None,
                    language=(data.item_language[item] or None) if data.item_language else None,
                )
            )
        return out

    def _select(
        self, items: np.ndarray, scores: np.ndarray, tier: np.ndarray, n: int, diversity: float
    ) -> list[int]:
        """Greedy placement: each place to the best candidate (MMR objective when
        ``diversity`` > 0 and there are vectors) whose show has fewer than ``show_cap``
        items among the previous ``cap_window - 1`` places, and whose canonical episode
        is not placed yet."""
        # Shows as local codes: a show is blocked by a flag, not a set lookup per item.
        shows, show_code = np.unique(self._item_show[items], return_inverse=True)
        blocked = np.zeros(len(shows), dtype=bool)
        canon = self._canon[items] if self._has_duplicates else None
        relevance = scores / scores.max()
        use_mmr = diversity > 0 and self._vectors is not None
        if use_mmr:
            vectors = self._vectors[items]
            closest = np.zeros(len(items))
        open_ = np.ones(len(items), dtype=bool)
        chosen: list[int] = []
        window = self.cap_window - 1  # the places before this one that share its window
        for _ in range(min(n, len(items))):
            if window > 0:
                last = np.asarray(chosen[-window:], dtype=np.int64)
                recent = np.bincount(show_code[last], minlength=len(shows))
                blocked = (recent >= self.show_cap) & (shows >= 0)
            allowed = open_ & ~blocked[show_code]
            if not allowed.any():
                break
            objective = relevance.copy()
            if use_mmr and chosen:
                objective = (1.0 - diversity) * relevance - diversity * closest
            objective = objective + 10.0 * tier
            objective[~allowed] = -np.inf
            j = int(np.argmax(objective))
            chosen.append(j)
            open_[j] = False
            if canon is not None:
                open_ &= canon != canon[j]
            if use_mmr:
                closest = np.maximum(closest, vectors @ vectors[j])
        return chosen

    # -- reasons -------------------------------------------------------------------------

    def _title(self, item: int) -> str:
        data = self._require_fitted()
        if data.item_titles is not None and 0 <= item < len(data.item_titles):
            title = (data.item_titles[item] or "").strip()
            if title:
                return title
        return f"episode {data.items[item]}"

    def _show_title(self, show: int) -> str:
        data = self._require_fitted()
        if 0 <= show < len(data.show_titles) and data.show_titles[show].strip():
            return data.show_titles[show].strip()
        return f"show {data.shows[show]}" if 0 <= show < len(data.shows) else "a show"

    def _topic(self, item: int, like: int | None) -> str | None:
        topics = self.facts.item_topics if self.facts is not None else None
        if not topics:
            return None
        own = topics[item] if 0 <= item < len(topics) else ()
        if like is not None and 0 <= like < len(topics):
            shared = [t for t in own if t in set(topics[like])]
            if shared:
                return shared[0]
        return own[0] if own else None

    def _answers_cold(self, source: str) -> bool:
        """Whether a source has anything to say to a listener without plays: what is
        popular or trending, and new episodes of the shows they follow (collaborative
        and content models have no taste to go on and would answer at random)."""
        kind = self._kind(source)
        return kind in _TRENDING or kind in _POPULAR or kind in _FRESH

    def _kind(self, source: str) -> str:
        model = self.models.get(source)
        return getattr(type(model), "name", source) if model is not None else source

    def _reason(
        self, history: History, item: int, contributions: list[tuple[tuple[float, int, int], str]]
    ) -> str:
        for (_, because, because_show), source in contributions:
            text = self._explain(history, item, source, because, because_show)
            if text:
                return text
        if contributions:
            return self._fallback(self._kind(contributions[0][1]))
        return "recommended for you"

    def _explain(
        self, history: History, item: int, source: str, because: int, because_show: int
    ) -> str | None:
        """The reason one source gives, or None when it holds nothing specific."""
        kind = self._kind(source)
        finished = set(np.asarray(history.finished).tolist())
        liked = set(np.asarray(history.liked).tolist())
        if kind in _FRESH:
            show = because_show if because_show >= 0 else int(self._item_show[item])
            if show < 0:
                return None
            name = self._show_title(show)
            if show in set(np.asarray(history.follows).tolist()):
                return f"new from {name} you follow"
            return f"new from {name}, which you listen to"
        if kind in _TRENDING:
            model = self.models.get(source)
            # Trending ranks the window's episodes first, then all-time favourites.
            in_window = getattr(model, "in_window", None)
            recent = in_window is None or not 0 <= item < len(in_window) or bool(in_window[item])
            window = _window_phrase(_window_seconds(model)) if recent else ""
            code = self.facts.item_language[item] if self.facts and self.facts.item_language else ""
            text = f"popular in {language_name(code)}" if code else "popular"
            return f"{text} {window}" if window else text
        if kind in _POPULAR:
            return "popular with listeners"
        if because < 0:
            return None
        title = self._title(because)
        if kind in _ITEM_TO_ITEM:
            return f"listeners who played {title} also played this"
        if kind in _CONTENT:
            verb = "liked" if because in liked else "finished" if because in finished else "played"
            topic = self._topic(item, because)
            return (
                f"about {topic}, like {title} you {verb}" if topic else f"like {title} you {verb}"
            )
        verb = "finished" if because in finished else "liked" if because in liked else "played"
        return f"because you {verb} {title}"

    @staticmethod
    def _fallback(kind: str) -> str:
        if kind in _COLLABORATIVE or kind in _ITEM_TO_ITEM:
            return "listeners with tastes like yours played this"
        if kind in _CONTENT:
            return "like what you listen to"
        if kind == "random":
            return "something different to try"
        return "recommended for you"

    # -- item to item ----------------------------------------------------------------------

    def also_played(self, item: int, n: int) -> list[Recommendation]:
        """Items like ``item``: listeners' co-plays (itemknn), else collaborative factors,
        else content; available ones only, never the item itself, each with a reason."""
        data = self._require_fitted()
        if not 0 <= item < data.n_items:
            raise UnknownItem(f"no item {item} in the recommendations' data")
        if n <= 0:
            return []
        order = sorted(
            self.models,
            key=lambda name: (
                _SIMILAR_ORDER.index(self._kind(name))
                if self._kind(name) in _SIMILAR_ORDER
                else len(_SIMILAR_ORDER)
            ),
        )
        order = [name for name in order if self._kind(name) in _SIMILAR_ORDER]
        picked: list[tuple[int, str]] = []
        taken = {int(self._canon[item])}
        title = self._title(item)
        for name in order:
            if len(picked) >= n:
                break
            scored = self.models[name].similar_items(item, n + len(self._unavailable) + 10)
            for other in scored.items.tolist():
                canon = int(self._canon[other])
                if canon in taken or not self._available[other]:
                    continue
                taken.add(canon)
                picked.append((other, name))
                if len(picked) >= n:
                    break
        scores = normalise(-np.arange(len(picked), dtype=np.float64))
        out = []
        for (other, name), score in zip(picked, scores, strict=True):
            if self._kind(name) in _CONTENT:
                topic = self._topic(other, item)
                reason = f"about {topic}, like {title}" if topic else f"like {title}"
            else:
                reason = f"listeners who played {title} also played this"
            show = int(self._item_show[other])
            out.append(
                Recommendation(
                    item=other,
                    episode=data.items[other],
                    score=float(score),
                    sources=(name,),
                    reason=reason,
                    show=data.shows[show] if 0 <= show < len(data.shows) else None,
                    language=(data.item_language[other] or None) if data.item_language else None,
                )
            )
        return out

    # -- saving --------------------------------------------------------------------------

    def save(self, directory: Path) -> None:
        """Each model in ``models/<source>/`` (its own save), ``blend.json`` (weights,
        parameters, model names, the fit's metrics) and the facts (:func:`save_facts`)."""
        data = self._require_fitted()
        directory.mkdir(parents=True, exist_ok=True)
        for name, model in self.models.items():
            target = directory / "models" / name
            target.mkdir(parents=True, exist_ok=True)
            model.save(target)
        save_facts(data, directory / "facts")
        meta = {
            "format": 1,
            "weights": self.weights,
            "params": self.params,
            "models": {name: type(model).name for name, model in self.models.items()},
            "fit": self.fit_summary,
        }
        # In the blend's order: ties between sources keep it after loading.
        (directory / "blend.json").write_text(json.dumps(meta, indent=2))

    @classmethod
    def load(cls, directory: Path) -> Self:
        """The blend :meth:`save` wrote; its parameters left unset there follow the
        settings now."""
        try:
            meta = json.loads((directory / "blend.json").read_text("utf-8"))
        except (OSError, ValueError) as exc:
            raise ModelFilesMissing(
                f"no readable blend.json in {directory} ({exc}); "
                "train again with podsight recs train"
            ) from exc
        models = {}
        for name, registered in meta["models"].items():
            target = directory / "models" / name
            if not target.is_dir():
                raise ModelFilesMissing(
                    f"the model {name} is missing from {directory}; "
                    "train again with podsight recs train"
                )
            models[name] = algorithm(registered).load(target)
        params = meta.get("params", {})
        hybrid = cls(
            models,
            weights=meta["weights"],
            show_cap=params.get("show_cap"),
            cap_window=params.get("cap_window", DEFAULT_CAP_WINDOW),
            diversity=params.get("diversity"),
            candidates=params.get("candidates", DEFAULT_CANDIDATES),
        )
        hybrid._attach(load_facts(directory / "facts"))
        hybrid.fit_summary = meta.get("fit")
        return hybrid


def _missing(model: Recommender, data: Dataset) -> str:
    lacking = [f for f in type(model).requires if getattr(data, f, None) is None]
    return ", ".join(lacking) or "facts it needs"


def _window_seconds(model: Recommender | None) -> float | None:
    """The trending model's window in seconds, from its parameters (``window`` in
    seconds, or ``days``/``window_days``)."""
    if model is None:
        return None
    params = getattr(model, "params", {}) or {}
    for key in ("window_days", "days"):
        if params.get(key):
            return float(params[key]) * 86_400.0
    value = params.get("window")
    if isinstance(value, str):
        try:
            return conf.parse_timespan(value)
        except ValueError:
            return None
    if isinstance(value, int | float) and value > 0:
        return float(value)
    return None
