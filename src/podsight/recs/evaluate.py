"""Offline evaluation: every model and the hybrid, side by side, on one split of one dataset.

Datasets by name (:data:`DATASETS`):

- ``movielens-100k``: ``u.data`` (943 users, 1,682 films, star ratings); the items'
  content is the title (with its year) and the genres of ``u.item`` (Latin-1): embedded
  with the configured embedder into ``item_vectors``, the genres as ``item_topics``, so
  the content model runs. No language, show or publication facts.
- ``movielens-small``: ml-latest-small's ``ratings.csv`` and ``movies.csv`` (same content).
- ``lastfm``: HetRec 2011 Last.fm ``user_artists.dat``; artists' names as titles.
- ``simulated``: this ``PODSIGHT_HOME``'s lake (:func:`podsight.recs.data.build_dataset`)
  and the listener simulator's true tastes: each list is also scored by how much of it
  falls in the listener's true topics.
- ``lake``: the same lake, without the tastes.

The split (:func:`stratified_split`) on the file datasets is the Microsoft Recommenders
benchmark's ``python_stratified_split(ratio=0.75, seed=42)``, reproduced exactly: a
uniform draw per rating from NumPy's legacy generator seeded 42, in file order; within
each user the ratings sorted by it, the first 75 % (rank / count ≤ 0.75) train. The lake
is split by time (:func:`time_split`): what happened before the instant that leaves 75 %
of the interactions behind it trains, what came after is to be found.

Every test interaction is relevant; what a user had in training is never recommended;
only items seen in training are candidates on the file datasets (a model of that
benchmark only knows those), while the lake keeps its whole catalog (new episodes are
what the content and fresh models are for). The metrics (:func:`precision_at_k` …) are
the Recommenders' definitions, checked against hand-computed values in the tests; see
``docs/recs.md`` ("Offline evaluation") for the few differences.

Hyper-parameters are never chosen on the test part: a model runs with its defaults, or
with ``tune`` the best of a small grid (:data:`GRIDS`) by NDCG on a validation split
carved out of the training part alone. The hybrid fits its own weights the same way
(:meth:`podsight.recs.blend.Hybrid.fit` splits what it is given: the training part).
"""

from __future__ import annotations

import csv
import importlib
import inspect
import json
import logging
import math
import os
import re
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from podsight.errors import ConfigurationError, InputError, UsageError
from podsight.progress import SILENT, Progress
from podsight.recs.core import ALGORITHMS, Dataset, History, Recommender, algorithm

__all__ = [
    "BASELINES",
    "DATASETS",
    "DEFAULT_STRATIFY",
    "STRATIFY",
    "GRIDS",
    "HYBRID",
    "PUBLISHED",
    "DataMissing",
    "EvaluationReport",
    "Interactions",
    "ModelResult",
    "Published",
    "Split",
    "average_precision_at_k",
    "catalog_coverage",
    "data_root",
    "evaluate",
    "evaluate_interactions",
    "load_dataset",
    "load_interactions",
    "ndcg_at_k",
    "novelty",
    "precision_at_k",
    "recall_at_k",
    "split",
    "stratified_split",
    "time_split",
    "true_topics",
]

logger = logging.getLogger(__name__)

DATASETS = ("movielens-100k", "movielens-small", "lastfm", "simulated", "lake")
STRATIFY = ("user", "item")
# The benchmark notebook behind the published MovieLens-100k table stratifies by item
# (python_stratified_split(..., filter_by="item")); the wording says per user.
DEFAULT_STRATIFY = {"movielens-100k": "item"}
# Always in the table, whatever --models says: the floor every model must clear.
BASELINES = ("popular", "random")
HYBRID = "hybrid"
CORPUS_SETTING = "PODSIGHT_TEST_DATA"

# Where each file dataset lives under the corpus's ``interactions/`` folder, and the file
# that must be there.
_FOLDERS = {
    "movielens-100k": ("movielens-100k", "u.data"),
    "movielens-small": ("movielens-latest-small", "ratings.csv"),
    "lastfm": ("lastfm-hetrec2011-2k", "user_artists.dat"),
}
_WHERE_TO_GET = {
    "movielens-100k": "ml-100k.zip from grouplens.org/datasets/movielens/100k",
    "movielens-small": "ml-latest-small.zip from grouplens.org/datasets/movielens/latest",
    "lastfm": "hetrec2011-lastfm-2k.zip from grouplens.org/datasets/hetrec-2011",
}

# What the matrix's values are, per dataset (the models take them as confidence).
_WEIGHTING = {
    "movielens-100k": "the star rating (1-5) as confidence",
    "movielens-small": "the star rating (0.5-5) as confidence",
    "lastfm": "log(1 + play count) as confidence (raw counts reach 350,000)",
    "simulated": "the lake's decayed engagement weights (podsight.recs.data)",
    "lake": "the lake's decayed engagement weights (podsight.recs.data)",
}


class DataMissing(ConfigurationError):
    """A dataset's files (or the demo's lake and tastes) are not where they were looked
    for; the message says where to get them."""


# -- published figures -----------------------------------------------------------------------


@dataclass(frozen=True)
class Published:
    """A published result to print beside ours. ``map`` is the Recommenders benchmark's
    "MAP" column: average precision over the top k divided by *all* of the user's
    relevant items (their ``map`` before 2023; their ``map_at_k`` now divides by
    min(relevant, k), our MAP@k)."""

    name: str
    precision: float
    recall: float
    ndcg: float
    map: float
    source: str


_RECOMMENDERS = "Microsoft Recommenders benchmark, MovieLens-100k (README 'Algorithm Comparison')"
PUBLISHED: dict[str, tuple[Published, ...]] = {
    "movielens-100k": (
        Published("BiVAE", 0.411771, 0.219145, 0.475077, 0.146126, _RECOMMENDERS),
        Published("BPR", 0.388229, 0.212522, 0.441997, 0.132478, _RECOMMENDERS),
        Published("LightGCN", 0.379626, 0.144336, 0.419846, 0.088526, _RECOMMENDERS),
        Published("NCF", 0.347296, 0.180775, 0.396118, 0.107720, _RECOMMENDERS),
        Published("SAR", 0.330753, 0.176385, 0.382461, 0.110591, _RECOMMENDERS),
    )
}


# -- metrics -----------------------------------------------------------------------------------


def _top(recommended: Sequence[Any], k: int) -> list[Any]:
    seen: set[Any] = set()
    out = []
    for item in recommended:
        if item not in seen:
            seen.add(item)
            out.append(item)
            if len(out) == k:
                break
    return out


def precision_at_k(recommended: Sequence[Any], relevant: set[Any], k: int) -> float:
    """Hits in the top ``k`` over ``k`` (over k even when fewer were recommended)."""
    return sum(1 for i in _top(recommended, k) if i in relevant) / k


def recall_at_k(recommended: Sequence[Any], relevant: set[Any], k: int) -> float:
    """Hits in the top ``k`` over the number of relevant items."""
    if not relevant:
        return 0.0
    return sum(1 for i in _top(recommended, k) if i in relevant) / len(relevant)


def ndcg_at_k(recommended: Sequence[Any], relevant: set[Any], k: int) -> float:
    """Binary relevance: DCG = Σ over hits at rank r of 1 / log(1 + r), over the DCG of
    the best possible list (min(relevant, k) hits on top)."""
    if not relevant:
        return 0.0
    dcg = sum(
        1.0 / math.log(1 + rank)
        for rank, item in enumerate(_top(recommended, k), start=1)
        if item in relevant
    )
    ideal = sum(1.0 / math.log(1 + rank) for rank in range(1, min(len(relevant), k) + 1))
    return dcg / ideal


def average_precision_at_k(
    recommended: Sequence[Any], relevant: set[Any], k: int, *, over_all_relevant: bool = False
) -> float:
    """Σ over hits in the top ``k`` of the precision at that hit's rank, divided by
    min(relevant, k) (Recommenders' ``map_at_k``) or, with ``over_all_relevant``, by all
    relevant items (the benchmark table's "MAP" column)."""
    if not relevant:
        return 0.0
    hits = 0
    total = 0.0
    for rank, item in enumerate(_top(recommended, k), start=1):
        if item in relevant:
            hits += 1
            total += hits / rank
    return total / (len(relevant) if over_all_relevant else min(len(relevant), k))


def catalog_coverage(lists: Iterable[Sequence[Any]], catalog_size: int) -> float:
    """The share of the catalog that appears in at least one list."""
    shown: set[Any] = set()
    for items in lists:
        shown.update(items)
    return len(shown) / catalog_size if catalog_size else 0.0


def novelty(lists: Iterable[Sequence[int]], popularity: np.ndarray, n_users: int) -> float:
    """Mean self-information of the recommended items, in bits: −log2(the share of
    training users who had the item), an item nobody had counted as had by one; averaged
    per list, then over lists (empty lists left out)."""
    per_list = []
    for items in lists:
        if len(items):
            counts = np.maximum(popularity[np.asarray(items, dtype=np.int64)], 1)
            per_list.append(float(np.mean(-np.log2(counts / max(n_users, 1)))))
    return float(np.mean(per_list)) if per_list else 0.0


# -- where the files are ---------------------------------------------------------------------


def data_root(data_dir: Path | None = None) -> Path:
    """The corpus folder: ``data_dir``, else ``PODSIGHT_TEST_DATA``, else ``../shared/data``
    beside the project (as the tests and benchmarks look for it)."""
    if data_dir is not None:
        return Path(data_dir).expanduser()
    configured = os.environ.get(CORPUS_SETTING, "").strip()
    if configured:
        return Path(configured).expanduser()
    project = Path(__file__).resolve().parents[3]
    return project.parent / "shared" / "data"


def _dataset_folder(name: str, data_dir: Path | None) -> Path:
    """The folder holding ``name``'s files: ``data_dir`` may be that folder itself, the
    ``interactions`` folder above it, or the corpus root."""
    folder, needed = _FOLDERS[name]
    root = data_root(data_dir)
    candidates = [root, root / folder, root / "interactions" / folder]
    for candidate in candidates:
        if (candidate / needed).is_file():
            return candidate
    where = "--data-dir" if data_dir is not None else f"{CORPUS_SETTING} (or its default)"
    raise DataMissing(
        f"{name}: {needed} is not in {root} nor in its {folder}/ or interactions/{folder}/ "
        f"(from {where}). Get {_WHERE_TO_GET[name]}, unpack it and give its folder with "
        f"--data-dir, or set {CORPUS_SETTING} to the shared corpus (shared/data)"
    )


# -- interactions ------------------------------------------------------------------------------


@dataclass
class Interactions:
    """A dataset as rows in file order (the stratified split depends on that order), with
    what :class:`Dataset` needs besides: ``facts`` per item (``item_titles``,
    ``item_vectors``, ``item_topics``) and, for the lake, the whole ``base`` dataset whose
    other facts carry over to a training split."""

    name: str
    users: list[str]
    items: list[str]
    user: np.ndarray  # int64 per row
    item: np.ndarray  # int64 per row
    weight: np.ndarray  # float32 per row, > 0
    time: np.ndarray  # float64 per row, epoch seconds; NaN unknown
    weighting: str = ""
    facts: dict[str, Any] = field(default_factory=dict)
    base: Dataset | None = None

    def __len__(self) -> int:
        return len(self.user)

    def matrix(self, mask: np.ndarray | None = None, *, values: str = "weight") -> sp.csr_matrix:
        rows = self.user if mask is None else self.user[mask]
        cols = self.item if mask is None else self.item[mask]
        data = getattr(self, values) if mask is None else getattr(self, values)[mask]
        shape = (len(self.users), len(self.items))
        dtype = np.float64 if values == "time" else np.float32
        return sp.csr_matrix((data.astype(dtype), (rows, cols)), shape=shape)

    def dataset(self, mask: np.ndarray | None = None, *, all_items: bool = True) -> Dataset:
        """The rows of ``mask`` (default all) as a :class:`Dataset`. Without ``all_items``
        only the items those rows touch are columns (a model of the file benchmarks only
        knows the items it was trained on)."""
        mask = np.ones(len(self), dtype=bool) if mask is None else mask
        if self.base is not None:
            base = self.base
            known = np.isfinite(self.time).any()
            timestamps = self.matrix(mask, values="time") if known else None
            return base.with_matrix(self.matrix(mask), timestamps=timestamps)
        keep = (
            np.arange(len(self.items)) if all_items else np.unique(self.item[mask]).astype(np.int64)
        )
        remap = np.full(len(self.items), -1, dtype=np.int64)
        remap[keep] = np.arange(len(keep))
        shape = (len(self.users), len(keep))
        rows, cols = self.user[mask], remap[self.item[mask]]
        matrix = sp.csr_matrix((self.weight[mask].astype(np.float32), (rows, cols)), shape=shape)
        stamps = None
        if np.isfinite(self.time[mask]).any():
            stamps = sp.csr_matrix((self.time[mask], (rows, cols)), shape=shape)
        data = Dataset(
            users=list(self.users),
            items=[self.items[i] for i in keep],
            matrix=matrix,
            timestamps=stamps,
            now=float(np.nanmax(self.time[mask])) if stamps is not None else 0.0,
            name=self.name,
        )
        for name, values in self.facts.items():
            if isinstance(values, np.ndarray):
                setattr(data, name, values[keep])
            else:
                setattr(data, name, [values[i] for i in keep.tolist()])
        return data

    def subset(self, mask: np.ndarray) -> Interactions:
        """The rows of ``mask``, in their order, over the same users and items."""
        return Interactions(
            name=self.name,
            users=self.users,
            items=self.items,
            user=self.user[mask],
            item=self.item[mask],
            weight=self.weight[mask],
            time=self.time[mask],
            weighting=self.weighting,
            facts=self.facts,
            base=self.base,
        )

    @classmethod
    def from_dataset(cls, data: Dataset, *, weighting: str = "") -> Interactions:
        """A dataset's positive cells as rows (user by user, oldest first)."""
        coo = data.matrix.tocoo()
        times = np.full(coo.nnz, np.nan)
        if data.timestamps is not None:
            stamps = data.timestamps.tocsr()
            times = np.asarray(stamps[coo.row, coo.col]).ravel().astype(np.float64)
            times[times == 0] = np.nan
        positive = coo.data > 0
        order = np.lexsort((np.nan_to_num(times[positive], nan=-1.0), coo.row[positive]))
        return cls(
            name=data.name,
            users=list(data.users),
            items=list(data.items),
            user=coo.row[positive][order].astype(np.int64),
            item=coo.col[positive][order].astype(np.int64),
            weight=coo.data[positive][order].astype(np.float32),
            time=times[positive][order],
            weighting=weighting,
            base=data,
        )


class _Codes:
    """Ids as strings to dense indices, in order of first appearance."""

    def __init__(self) -> None:
        self.index: dict[str, int] = {}
        self.ids: list[str] = []

    def __call__(self, key: str) -> int:
        code = self.index.get(key)
        if code is None:
            code = self.index[key] = len(self.ids)
            self.ids.append(key)
        return code


def _rows(
    name: str,
    path: Path,
    parse: Callable[[list[str]], tuple[str, str, float, float]],
    *,
    delimiter: str,
    header: bool,
    encoding: str = "utf-8",
) -> tuple[_Codes, _Codes, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    users, items = _Codes(), _Codes()
    u, i, w, t = [], [], [], []
    with path.open(encoding=encoding, newline="") as handle:
        reader = csv.reader(handle, delimiter=delimiter)
        if header:
            next(reader, None)
        for line, fields in enumerate(reader, start=2 if header else 1):
            if not fields:
                continue
            try:
                user, item, weight, stamp = parse(fields)
            except (ValueError, IndexError):
                raise InputError(
                    f"{path}, line {line}: {delimiter.join(fields)[:80]!r} is not a "
                    f"{name} interaction row; is this the original file?"
                ) from None
            u.append(users(user))
            i.append(items(item))
            w.append(weight)
            t.append(stamp)
    return (
        users,
        items,
        np.asarray(u, dtype=np.int64),
        np.asarray(i, dtype=np.int64),
        np.asarray(w, dtype=np.float32),
        np.asarray(t, dtype=np.float64),
    )


_YEAR = re.compile(r"\((\d{4})\)\s*$")


def _movie_text(title: str, year: str, genres: Sequence[str]) -> str:
    # The title usually carries its year already ("Toy Story (1995)").
    if year and not _YEAR.search(title):
        title = f"{title} ({year})"
    return f"{title}. {', '.join(genres)}" if genres else title


def _embed(texts: list[str], progress: Progress) -> np.ndarray:
    from podsight.content.embed import get_embedder

    embedder = get_embedder()
    out = []
    with progress.task("embedding titles", total=len(texts)) as task:
        for at in range(0, len(texts), 512):
            out.append(embedder.encode(texts[at : at + 512]))
            task.advance(min(512, len(texts) - at))
    return np.concatenate(out).astype(np.float32) if out else np.zeros((0, 0), np.float32)


def _movielens_100k(folder: Path, content: bool, progress: Progress) -> Interactions:
    users, items, u, i, w, t = _rows(
        "MovieLens",
        folder / "u.data",
        lambda f: (f[0], f[1], float(f[2]), float(f[3])),
        delimiter="\t",
        header=False,
    )
    facts: dict[str, Any] = {}
    catalog = folder / "u.item"
    if catalog.is_file():
        genre_names = []
        genre_file = folder / "u.genre"
        if genre_file.is_file():
            for line in genre_file.read_text("latin-1").splitlines():
                if "|" in line:
                    genre_names.append(line.split("|")[0])
        titles, texts, topics = {}, {}, {}
        for line in catalog.read_text("latin-1").splitlines():
            parts = line.split("|")
            if len(parts) < 5:
                continue
            flags = parts[5:]
            genres = tuple(
                genre_names[g] if g < len(genre_names) else f"genre {g}"
                for g, flag in enumerate(flags)
                if flag.strip() == "1"
            )
            year = parts[2][-4:] if parts[2][-4:].isdigit() else ""
            titles[parts[0]] = parts[1]
            texts[parts[0]] = _movie_text(parts[1], year, genres)
            topics[parts[0]] = genres
        facts = _content_facts(items.ids, titles, texts, topics, content, progress)
    return Interactions(
        "movielens-100k", users.ids, items.ids, u, i, w, t, _WEIGHTING["movielens-100k"], facts
    )


def _movielens_small(folder: Path, content: bool, progress: Progress) -> Interactions:
    users, items, u, i, w, t = _rows(
        "MovieLens",
        folder / "ratings.csv",
        lambda f: (f[0], f[1], float(f[2]), float(f[3])),
        delimiter=",",
        header=True,
    )
    facts: dict[str, Any] = {}
    catalog = folder / "movies.csv"
    if catalog.is_file():
        titles, texts, topics = {}, {}, {}
        with catalog.open(encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle):
                genres = tuple(g for g in (row.get("genres") or "").split("|") if g and g[0] != "(")
                movie = row.get("movieId") or ""
                titles[movie] = row.get("title") or ""
                texts[movie] = _movie_text(titles[movie], "", genres)
                topics[movie] = genres
        facts = _content_facts(items.ids, titles, texts, topics, content, progress)
    return Interactions(
        "movielens-small", users.ids, items.ids, u, i, w, t, _WEIGHTING["movielens-small"], facts
    )


def _content_facts(
    ids: list[str],
    titles: Mapping[str, str],
    texts: Mapping[str, str],
    topics: Mapping[str, tuple[str, ...]],
    content: bool,
    progress: Progress,
) -> dict[str, Any]:
    facts: dict[str, Any] = {
        "item_titles": [titles.get(i, i) for i in ids],
        "item_topics": [topics.get(i, ()) for i in ids],
    }
    if content:
        facts["item_vectors"] = _embed([texts.get(i, titles.get(i, i)) for i in ids], progress)
    return facts


def _lastfm(folder: Path, content: bool, progress: Progress) -> Interactions:
    users, items, u, i, w, t = _rows(
        "Last.fm",
        folder / "user_artists.dat",
        lambda f: (f[0], f[1], math.log1p(float(f[2])), math.nan),
        delimiter="\t",
        header=True,
    )
    if (w <= 0).any():
        keep = w > 0
        u, i, w, t = u[keep], i[keep], w[keep], t[keep]
    facts: dict[str, Any] = {}
    artists = folder / "artists.dat"
    if artists.is_file():
        names = {}
        with artists.open(encoding="utf-8", errors="replace", newline="") as handle:
            reader = csv.reader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
            next(reader, None)
            for fields in reader:
                if len(fields) >= 2:
                    names[fields[0]] = fields[1]
        facts["item_titles"] = [names.get(a, a) for a in items.ids]
    return Interactions("lastfm", users.ids, items.ids, u, i, w, t, _WEIGHTING["lastfm"], facts)


_LOADERS = {
    "movielens-100k": _movielens_100k,
    "movielens-small": _movielens_small,
    "lastfm": _lastfm,
}


def _lake(name: str, progress: Progress) -> Interactions:
    try:
        data_module = importlib.import_module("podsight.recs.data")
    except ModuleNotFoundError:  # the data helper's module has not landed in this build
        raise DataMissing(
            f"the {name} dataset needs podsight.recs.data (the lake's training data), "
            "which this build does not have"
        ) from None
    data = data_module.build_dataset(progress=progress)
    if data.matrix.nnz == 0:
        raise DataMissing(
            f"the lake holds no listening to evaluate on: run `podsight demo load` (it "
            "simulates listeners) or `podsight simulate listeners --direct`, then "
            f"`podsight recs evaluate --dataset {name}` again"
        )
    data.name = name
    return Interactions.from_dataset(data, weighting=_WEIGHTING[name])


def load_interactions(
    name: str,
    *,
    data_dir: Path | None = None,
    content: bool = True,
    progress: Progress = SILENT,
) -> Interactions:
    """Dataset ``name``'s interactions in file order (the lake's user by user, oldest
    first). ``content``: embed the items' titles too (MovieLens), which the content model
    needs and the others do not."""
    if name not in DATASETS:
        raise UsageError(f"no dataset named {name!r}; choose from {', '.join(DATASETS)}")
    if name in ("simulated", "lake"):
        return _lake(name, progress)
    return _LOADERS[name](_dataset_folder(name, data_dir), content, progress)


def load_dataset(
    name: str, *, data_dir: Path | None = None, content: bool = True, progress: Progress = SILENT
) -> Dataset:
    """Dataset ``name`` whole, as a :class:`Dataset` (every interaction)."""
    inter = load_interactions(name, data_dir=data_dir, content=content, progress=progress)
    if inter.base is not None:
        return inter.base
    return inter.dataset()


# -- splits -----------------------------------------------------------------------------------


def stratified_split(groups: np.ndarray, *, ratio: float = 0.75, seed: int = 42) -> np.ndarray:
    """Which rows train (True) and which test, as Recommenders'
    ``python_stratified_split(data, ratio, seed=seed, filter_by=…)`` splits rows in this
    order: a uniform draw per row from ``np.random.seed(seed); np.random.rand(n)``; within
    each group (the user's rows, or with ``filter_by="item"`` the item's), rows sorted by
    it; rank / count ≤ ``ratio`` trains."""
    n = len(groups)
    draw = np.random.RandomState(seed).rand(n)
    return _rank_within_users(groups, draw) <= ratio


def _rank_within_users(user: np.ndarray, key: np.ndarray) -> np.ndarray:
    """Each row's rank among its user's rows by ``key`` (1 = smallest), over their count;
    ties keep row order."""
    n = len(user)
    order = np.lexsort((np.arange(n), key, user))
    sorted_users = user[order]
    starts = np.flatnonzero(np.r_[True, sorted_users[1:] != sorted_users[:-1]])
    counts = np.diff(np.r_[starts, n])
    position = np.arange(n) - np.repeat(starts, counts)
    ranks = np.empty(n, dtype=np.float64)
    ranks[order] = (position + 1) / np.repeat(counts, counts)
    return ranks


def time_split(times: np.ndarray, *, ratio: float = 0.75) -> tuple[np.ndarray, float]:
    """Rows before the instant that leaves ``ratio`` of them behind it train; rows at or
    after it test. Rows of unknown time train. Returns the mask and the instant."""
    known = np.isfinite(times)
    if not known.any():
        return np.ones(len(times), dtype=bool), math.nan
    cutoff = float(np.quantile(times[known], ratio))
    train = ~known | (times < cutoff)
    if train.all() or not train.any():  # every interaction at one instant
        return stratified_split(np.zeros(len(times), dtype=np.int64), ratio=ratio), cutoff
    return train, cutoff


@dataclass
class Split:
    """A training :class:`Dataset` and, per test user (row index), the ids of the items
    to find."""

    train: Dataset
    relevant: dict[int, set[str]]
    protocol: str
    train_rows: np.ndarray  # the mask over the interactions

    @property
    def test_interactions(self) -> int:
        return sum(len(v) for v in self.relevant.values())


def split(
    inter: Interactions, *, ratio: float = 0.75, seed: int = 42, stratify: str = "user"
) -> Split:
    """The benchmark's split of ``inter``: stratified per user (or per item, as the
    benchmark notebook does on MovieLens-100k) for the file datasets, by time for the
    lake."""
    if stratify not in STRATIFY:
        raise UsageError(f"stratify by {' or '.join(STRATIFY)}, not {stratify!r}")
    if inter.base is not None and np.isfinite(inter.time).any():
        mask, cutoff = time_split(inter.time, ratio=ratio)
        when = time.strftime("%Y-%m-%d %H:%M", time.gmtime(cutoff)) if cutoff == cutoff else "?"
        protocol = (
            f"by time: interactions before {when} UTC ({ratio:.0%} of them) train, later "
            "ones are to be found; the whole catalog is a candidate"
        )
        train = inter.dataset(mask)
        if cutoff == cutoff:
            train.now = cutoff
    else:
        by_item = stratify == "item"
        mask = stratified_split(inter.item if by_item else inter.user, ratio=ratio, seed=seed)
        protocol = (
            f"stratified per {stratify}, {ratio:.0%} of each {stratify}'s interactions train "
            f"(Recommenders' python_stratified_split, seed {seed}, filter_by={stratify!r}); "
            "every test interaction relevant; items seen in training are the candidates"
        )
        train = inter.dataset(mask, all_items=inter.base is not None)
    relevant: dict[int, set[str]] = {}
    test = ~mask
    for user, item in zip(inter.user[test].tolist(), inter.item[test].tolist(), strict=True):
        relevant.setdefault(user, set()).add(inter.items[item])
    return Split(train, relevant, protocol, mask)


# -- models ------------------------------------------------------------------------------------

# Candidate hyper-parameters per model, tried on a validation split of the training part
# only (``tune``); the first of each list is the model's default. Names a model's
# constructor does not take are dropped (with a note), so a grid never breaks a model.
GRIDS: dict[str, list[dict[str, Any]]] = {
    # Confidence 1 + alpha·rating: strong regularisation keeps the factors from fitting
    # the ratings' scale (validation NDCG on MovieLens-100k's training part: 0.16-0.27).
    "als": [
        {},
        {"factors": 16, "regularization": 5.0, "alpha": 1.0},
        {"factors": 32, "regularization": 20.0, "alpha": 1.0},
        {"factors": 64, "regularization": 50.0, "alpha": 1.0},
        {"factors": 64, "regularization": 10.0, "alpha": 3.0},
        {"factors": 128, "regularization": 100.0, "alpha": 3.0},
    ],
    "bpr": [{}, {"factors": 32}, {"factors": 128, "learning_rate": 0.01}],
    "itemknn": [{}, {"neighbours": 50}, {"neighbours": 200}, {"weighting": "cosine"}],
    # Each point is one items × items inversion: three, not more.
    "ease": [{}, {"regularization": 200.0}, {"regularization": 1000.0}],
}


@dataclass
class ModelResult:
    """One row of the table."""

    name: str
    users: int = 0
    precision: float = 0.0
    recall: float = 0.0
    ndcg: float = 0.0
    map_at_k: float = 0.0  # AP over min(relevant, k): Recommenders' map_at_k
    map: float = 0.0  # AP over all relevant: the benchmark table's "MAP"
    coverage: float = 0.0
    novelty: float = 0.0
    topic_share: float | None = None  # simulated: share of each list in the true topics
    fit_seconds: float = 0.0
    recommend_seconds: float = 0.0
    params: dict[str, Any] = field(default_factory=dict)
    baseline: bool = False
    detail: str = ""  # the hybrid's fitted weights, a tuning choice


@dataclass
class EvaluationReport:
    dataset: str
    k: int
    protocol: str
    weighting: str
    users: int
    items: int
    train_interactions: int
    test_interactions: int
    test_users: int
    results: list[ModelResult] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)  # model -> why
    published: tuple[Published, ...] = ()
    seconds: float = 0.0
    tuned: bool = False

    def best(self, *, personal: bool = True) -> ModelResult | None:
        rows = [r for r in self.results if not (personal and r.baseline)]
        return max(rows, key=lambda r: r.ndcg, default=None)

    def result(self, name: str) -> ModelResult | None:
        return next((r for r in self.results if r.name == name), None)


def _resolve(names: Sequence[str] | None) -> list[str]:
    """The models to run: ``names`` (or every registered model and the hybrid), with the
    baselines first; unknown names are a usage error."""
    wanted = list(names) if names else [*ALGORITHMS, HYBRID]
    unknown = [n for n in wanted if n not in ALGORITHMS and n != HYBRID]
    if unknown:
        raise UsageError(
            f"no model named {', '.join(map(repr, unknown))}; choose from "
            f"{', '.join([*ALGORITHMS, HYBRID])}"
        )
    ordered = [b for b in BASELINES if b in ALGORITHMS]
    ordered += [n for n in wanted if n not in ordered]
    return ordered


def _model_class(name: str) -> tuple[type[Recommender] | None, str]:
    """The class registered as ``name``, or None and why not (its module has not landed)."""
    try:
        return algorithm(name), ""
    except (ModuleNotFoundError, AttributeError) as exc:
        return None, f"not importable ({exc}); {ALGORITHMS[name]}"


def _usable_params(cls: type, params: Mapping[str, Any]) -> dict[str, Any]:
    defaults = getattr(cls, "defaults", None)
    if isinstance(defaults, Mapping):  # the models that declare their parameters
        return {k: v for k, v in params.items() if k in defaults}
    try:
        accepted = inspect.signature(cls.__init__).parameters
    except (TypeError, ValueError):  # pragma: no cover - builtins
        return dict(params)
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in accepted.values()):
        return dict(params)
    return {k: v for k, v in params.items() if k in accepted}


def _histories(data: Dataset, users: Sequence[int]) -> list[History]:
    if data.seen is None:
        data.seen = data.seen_matrix()  # once, not once per user
    return [data.history(u) for u in users]


def _recommend_all(
    label: str,
    recommend: Callable[[Sequence[History]], list[list[int]]],
    histories: Sequence[History],
    progress: Progress,
    *,
    batch: int = 128,
) -> list[list[int]]:
    lists: list[list[int]] = []
    with progress.task(label, total=len(histories)) as task:
        for at in range(0, len(histories), batch):
            chunk = histories[at : at + batch]
            lists.extend(recommend(chunk))
            task.advance(len(chunk))
    return lists


def _score(
    result: ModelResult,
    lists: Sequence[Sequence[int]],
    users: Sequence[int],
    split_: Split,
    k: int,
    *,
    topics: Callable[[int, Sequence[int]], float | None] | None = None,
) -> ModelResult:
    items = split_.train.items
    p, r, n, m, mall, shares = [], [], [], [], [], []
    for user, rec in zip(users, lists, strict=True):
        ids = [items[i] for i in rec[:k]]
        relevant = split_.relevant[user]
        p.append(precision_at_k(ids, relevant, k))
        r.append(recall_at_k(ids, relevant, k))
        n.append(ndcg_at_k(ids, relevant, k))
        m.append(average_precision_at_k(ids, relevant, k))
        mall.append(average_precision_at_k(ids, relevant, k, over_all_relevant=True))
        if topics is not None:
            share = topics(user, rec[:k])
            if share is not None:
                shares.append(share)
    popularity = np.asarray((split_.train.matrix != 0).sum(axis=0)).ravel()
    catalog = split_.train.n_items
    if split_.train.item_available is not None:
        catalog = int(np.count_nonzero(split_.train.item_available)) or catalog
    result.users = len(users)
    result.precision = float(np.mean(p)) if p else 0.0
    result.recall = float(np.mean(r)) if r else 0.0
    result.ndcg = float(np.mean(n)) if n else 0.0
    result.map_at_k = float(np.mean(m)) if m else 0.0
    result.map = float(np.mean(mall)) if mall else 0.0
    result.coverage = catalog_coverage((rec[:k] for rec in lists), catalog)
    result.novelty = novelty((rec[:k] for rec in lists), popularity, split_.train.n_users)
    result.topic_share = float(np.mean(shares)) if shares else None
    return result


def true_topics(train: Dataset, tastes_path: Path) -> Callable[[int, Sequence[int]], float | None]:
    """For the simulated listeners: the share of a list whose show has one of the
    listener's true topics (users the simulator did not make are left out)."""
    try:
        document = json.loads(tastes_path.read_text("utf-8"))
    except FileNotFoundError:
        raise DataMissing(
            f"no simulated listeners' tastes at {tastes_path}: run `podsight demo load` "
            "(or `podsight simulate listeners`) on this PODSIGHT_HOME first, or evaluate "
            "with --dataset lake"
        ) from None
    except (OSError, ValueError) as exc:
        raise InputError(f"{tastes_path} is not a readable tastes file ({exc})") from None
    show_topics = {sid: set(s.get("topics") or ()) for sid, s in document.get("shows", {}).items()}
    user_topics = {u["user_id"]: set(u.get("topics") or ()) for u in document.get("users", [])}
    item_topics: list[set[str]] = []
    for item in range(train.n_items):
        show = -1 if train.item_show is None else int(train.item_show[item])
        sid = train.shows[show] if 0 <= show < len(train.shows) else None
        item_topics.append(show_topics.get(sid, set()) if sid is not None else set())

    def share(user: int, items: Sequence[int]) -> float | None:
        wanted = user_topics.get(train.users[user])
        if wanted is None or not len(items):
            return None
        return sum(1 for i in items if item_topics[i] & wanted) / len(items)

    return share


def _lists(
    model: Recommender, histories: Sequence[History], k: int, unavailable: np.ndarray
) -> list[list[int]]:
    if len(unavailable):
        return [model.recommend(h, k, exclude=unavailable).items.tolist() for h in histories]
    return [s.items.tolist() for s in model.recommend_many(histories, k)]


def _fit(model: Recommender, data: Dataset, progress: Progress) -> float:
    started = time.perf_counter()
    model.fit(data, progress=progress)
    return time.perf_counter() - started


def _tune(
    name: str,
    cls: type[Recommender],
    inter: Interactions,
    split_: Split,
    k: int,
    seed: int,
    progress: Progress,
    stratify: str = "user",
) -> tuple[dict[str, Any], str]:
    """The grid point with the best NDCG@k on a validation split of the training rows
    (the same protocol inside them); its parameters and a line saying so."""
    grid = [_usable_params(cls, g) for g in GRIDS.get(name, [])]
    grid = [g for i, g in enumerate(grid) if g not in grid[:i]]
    if len(grid) < 2:
        return (grid[0] if grid else {}), ""
    inner = inter.subset(split_.train_rows)
    validation = split(inner, seed=seed + 1, stratify=stratify)
    users = sorted(validation.relevant)
    histories = _histories(validation.train, users)
    scores = []
    with progress.task(f"tuning {name}", total=len(grid)) as task:
        for params in grid:
            model = cls(**params)
            model.fit(validation.train)
            lists = [s.items.tolist() for s in model.recommend_many(histories, k)]
            row = _score(ModelResult(name), lists, users, validation, k)
            scores.append(row.ndcg)
            task.advance()
    best = int(np.argmax(scores))
    shown = ", ".join(f"{s:.3f}" for s in scores)
    return grid[best], f"chosen on validation NDCG@{k} ({shown})"


def evaluate(
    dataset: str,
    *,
    models: Sequence[str] | None = None,
    k: int = 10,
    data_dir: Path | None = None,
    seed: int = 42,
    tune: bool = False,
    tastes: Path | None = None,
    stratify: str | None = None,
    progress: Progress = SILENT,
) -> EvaluationReport:
    """Split ``dataset``, fit each model (and the hybrid) on the training part, and
    measure its top ``k`` for every test user. Models whose module has not landed or that
    need facts the dataset lacks are listed in ``skipped`` with the reason. ``stratify``:
    per ``user`` or per ``item`` (default: :data:`DEFAULT_STRATIFY`, else per user)."""
    if k < 1:
        raise UsageError(f"k must be at least 1, not {k}")
    started = time.perf_counter()
    names = _resolve(models)
    classes: dict[str, type[Recommender]] = {}
    skipped: dict[str, str] = {}
    for name in names:
        if name == HYBRID:
            continue
        cls, why = _model_class(name)
        if cls is None:
            skipped[name] = why
            logger.info("%s skipped: %s", name, why)
        else:
            classes[name] = cls
    content = any("item_vectors" in c.requires or "item_topics" in c.requires
                  for c in classes.values()) or HYBRID in names  # fmt: skip
    inter = load_interactions(dataset, data_dir=data_dir, content=content, progress=progress)
    if dataset == "simulated" and tastes is None:
        from podsight.demo.simulate import default_tastes_path

        tastes = default_tastes_path()
    report = evaluate_interactions(
        inter,
        names,
        classes,
        k=k,
        seed=seed,
        tune=tune,
        tastes=tastes,
        stratify=stratify or DEFAULT_STRATIFY.get(dataset, "user"),
        progress=progress,
    )
    report.skipped = {**skipped, **report.skipped}
    report.seconds = time.perf_counter() - started
    return report


def evaluate_interactions(
    inter: Interactions,
    names: Sequence[str],
    classes: Mapping[str, type[Recommender]] | None = None,
    *,
    k: int = 10,
    seed: int = 42,
    tune: bool = False,
    tastes: Path | None = None,
    stratify: str = "user",
    progress: Progress = SILENT,
) -> EvaluationReport:
    """:func:`evaluate` on interactions already loaded: ``names`` as resolved, their
    ``classes`` (default: resolved here); ``tastes``, the simulator's file, adds the
    true-topic share."""
    started = time.perf_counter()
    dataset = inter.name
    skipped: dict[str, str] = {}
    if classes is None:
        classes = {}
        for name in names:
            if name != HYBRID:
                cls, why = _model_class(name)
                if cls is None:
                    skipped[name] = why
                else:
                    classes[name] = cls
    split_ = split(inter, seed=seed, stratify=stratify)
    train = split_.train
    topics = true_topics(train, tastes) if tastes is not None else None
    users = sorted(split_.relevant)
    histories = _histories(train, users)
    # What cannot be played now is never served (the hybrid filters it; alone, a model
    # is told to leave it out).
    banned = np.zeros(train.n_items, dtype=bool)
    if train.item_available is not None:
        banned |= ~np.asarray(train.item_available, dtype=bool)
    if inter.base is not None and train.item_published is not None:
        # Split by time: what was published after the cut did not exist yet.
        banned |= np.nan_to_num(train.item_published, nan=-np.inf) > train.now
    unavailable = np.flatnonzero(banned)
    report = EvaluationReport(
        dataset=dataset,
        k=k,
        protocol=split_.protocol,
        weighting=inter.weighting,
        users=train.n_users,
        items=train.n_items,
        train_interactions=int(train.matrix.nnz),
        test_interactions=split_.test_interactions,
        test_users=len(users),
        published=PUBLISHED.get(dataset, ()),
        tuned=tune,
        skipped=skipped,
    )
    for name in names:
        if name == HYBRID or name not in classes:
            continue
        cls = classes[name]
        if not cls.supports(train):
            missing = [f for f in cls.requires if getattr(train, f, None) is None]
            skipped[name] = f"needs {', '.join(missing)}, which {dataset} does not have"
            continue
        params, detail = ({}, "")
        if tune:
            params, detail = _tune(name, cls, inter, split_, k, seed, progress, stratify)
        model = cls(**params)
        result = ModelResult(name, baseline=name in BASELINES, detail=detail)
        result.fit_seconds = _fit(model, train, progress)
        result.params = dict(model.params)
        t0 = time.perf_counter()
        lists = _recommend_all(
            name, lambda chunk, m=model: _lists(m, chunk, k, unavailable), histories, progress
        )
        result.recommend_seconds = time.perf_counter() - t0
        report.results.append(_score(result, lists, users, split_, k, topics=topics))
    if HYBRID in names:
        report.results += _evaluate_hybrid(classes, report, train, histories, users, split_, k,
                                           topics, progress, unavailable)  # fmt: skip
    report.seconds = time.perf_counter() - started
    return report


def _evaluate_hybrid(
    classes: Mapping[str, type[Recommender]],
    report: EvaluationReport,
    train: Dataset,
    histories: Sequence[History],
    users: Sequence[int],
    split_: Split,
    k: int,
    topics: Callable[[int, Sequence[int]], float | None] | None,
    progress: Progress,
    unavailable: np.ndarray | None = None,
) -> list[ModelResult]:
    banned = unavailable if unavailable is not None and len(unavailable) else None
    try:
        blend = importlib.import_module("podsight.recs.blend")
    except ModuleNotFoundError as exc:
        report.skipped[HYBRID] = f"not importable ({exc}); podsight.recs.blend:Hybrid"
        return []
    # Every supported model but random (noise in a blend); each with the parameters it
    # ran with above, so the hybrid blends the models of the table.
    ran = {r.name: r.params for r in report.results}
    members = {
        name: cls(**ran.get(name, {}))
        for name, cls in classes.items()
        if name != "random" and cls.supports(train)
    }
    if not members:
        report.skipped[HYBRID] = "no model to blend"
        return []
    hybrid = blend.Hybrid(members)
    result = ModelResult(HYBRID)
    started = time.perf_counter()
    fitted = hybrid.fit(train, progress=progress)
    result.fit_seconds = time.perf_counter() - started
    weights = getattr(fitted, "weights", None) or getattr(hybrid, "weights", {})
    result.params = {"weights": {m: round(float(w), 4) for m, w in dict(weights).items()}}
    held_out = getattr(fitted, "split", "")
    how = {"time": "each user's latest", "random": "a random share of each user's"}.get(
        held_out, held_out
    )
    result.detail = f"weights fitted on {how} training interactions held out: " + ", ".join(
        f"{m} {w:.2f}" for m, w in result.params["weights"].items()
    )
    t0 = time.perf_counter()
    lists = _recommend_all(
        HYBRID,
        lambda chunk: [[r.item for r in hybrid.recommend(h, k, exclude=banned)] for h in chunk],
        histories,
        progress,
    )
    result.recommend_seconds = time.perf_counter() - t0
    rows = [_score(result, lists, users, split_, k, topics=topics)]
    diversity = float(getattr(hybrid, "diversity", 0.0) or 0.0)
    if diversity > 0 and train.item_vectors is not None:
        # The same blend without the MMR re-rank: what diversity costs (or gains) in accuracy.
        plain = ModelResult(f"{HYBRID} (no MMR)", params=dict(result.params))
        plain.fit_seconds = result.fit_seconds
        plain.detail = f"the hybrid's lists without the diversity re-rank (λ {diversity:g} → 0)"
        hybrid.diversity = 0.0
        t0 = time.perf_counter()
        try:
            lists = _recommend_all(
                f"{HYBRID} (no MMR)",
                lambda chunk: [
                    [r.item for r in hybrid.recommend(h, k, exclude=banned)] for h in chunk
                ],
                histories,
                progress,
            )
        finally:
            hybrid.diversity = diversity
        plain.recommend_seconds = time.perf_counter() - t0
        rows.append(_score(plain, lists, users, split_, k, topics=topics))
        rows[0].detail += f"; MMR λ {diversity:g}"
    return rows
