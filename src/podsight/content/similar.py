"""Similar episodes, earlier and later ones alike, with the reasons they are similar.

An episode's vector is the normalised mean of its passages' vectors, ad reads left out
(an ad read repeated across a show would make its episodes look alike). The analysis step
keeps one vector per analysed episode in ``PODSIGHT_HOME/analysis/episode_vectors.npz``
(ids, embedder, float32 rows): small next to the passages (1,000 episodes: 1.5 MB) and
searched exactly, a matrix product per request.

The file is written under :func:`podsight.content.passages.content_lock` (read, update,
write: two ``content analyze`` runs never lose each other's vectors) through a temporary
file of its own in the same folder, moved into place. A damaged file is a
:class:`~podsight.errors.StorageError` for readers (the API's 503, saying how to rebuild
it); the analysis treats an episode without a vector as not analysed, so its next run
writes the missing vectors again.

Neighbours exclude the episode itself and episodes merged into another (their survivor
stands for them); each comes with its cosine ``score``, the topics and keywords it shares
with the episode, and whether it was published before or after it.
"""

from __future__ import annotations

import os
import tempfile
import threading
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from podsight import conf
from podsight.content.segments import Passage
from podsight.errors import StorageError

__all__ = [
    "DEFAULT_K",
    "EpisodeVectors",
    "SimilarEpisode",
    "episode_vector",
    "load_vectors",
    "save_vectors",
    "similar_episodes",
    "store_vectors",
    "vectors_path",
]

DEFAULT_K = 10
MAX_K = 50


def vectors_path() -> Path:
    return conf.podsight_home() / "analysis" / "episode_vectors.npz"


def episode_vector(passages: Sequence[Passage], *, skip: Iterable[int] = ()) -> np.ndarray | None:
    """The normalised mean of the passages' vectors, leaving out ``skip`` (ad reads);
    all passages when every one is an ad; None without vectors."""
    skipped = set(skip)
    vectors = [p.vector for p in passages if p.vector is not None and p.passage_no not in skipped]
    if not vectors:
        vectors = [p.vector for p in passages if p.vector is not None]
    if not vectors:
        return None
    mean = np.mean(np.stack(vectors).astype(np.float32), axis=0)
    return (mean / max(float(np.linalg.norm(mean)), 1e-12)).astype(np.float32)


@dataclass
class EpisodeVectors:
    """One vector per analysed episode, all from one embedder."""

    embedder: str = ""
    ids: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    matrix: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), dtype=np.float32))

    def update(self, vectors: Mapping[int, np.ndarray], embedder: str) -> None:
        """Set (or replace) the vectors of these episodes; another embedder's vectors are
        dropped, never compared with these."""
        if embedder != self.embedder:
            self.embedder, self.ids = embedder, np.zeros(0, dtype=np.int64)
            self.matrix = np.zeros((0, 0), dtype=np.float32)
        rows = {int(i): self.matrix[n] for n, i in enumerate(self.ids)}
        rows.update({int(i): np.asarray(v, dtype=np.float32) for i, v in vectors.items()})
        self.ids = np.array(sorted(rows), dtype=np.int64)
        self.matrix = (
            np.stack([rows[i] for i in self.ids.tolist()]).astype(np.float32)
            if rows
            else np.zeros((0, 0), dtype=np.float32)
        )

    def remove(self, ids: Iterable[int]) -> None:
        drop = set(ids)
        keep = np.array([i not in drop for i in self.ids.tolist()], dtype=bool)
        self.ids, self.matrix = self.ids[keep], self.matrix[keep] if len(keep) else self.matrix

    def vector(self, episode_id: int) -> np.ndarray | None:
        at = np.searchsorted(self.ids, episode_id)
        if at < len(self.ids) and self.ids[at] == episode_id:
            return self.matrix[at]
        return None


# Keyed by (mtime, inode, size): a replaced file is a new inode even when the clock's
# granularity gives two writes the same mtime.
_cache: dict[Path, tuple[tuple[int, int, int], EpisodeVectors]] = {}
_lock = threading.Lock()


def _damaged(path: Path, why: object) -> StorageError:
    return StorageError(
        f"the similar-episode vectors in {path} cannot be read ({why}); run "
        "`podsight content analyze --force` to rebuild them"
    )


def _read(path: Path) -> EpisodeVectors:
    try:
        with np.load(path, allow_pickle=False) as data:
            loaded = EpisodeVectors(
                str(data["embedder"]),
                data["ids"].astype(np.int64),
                data["matrix"].astype(np.float32),
            )
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as exc:
        raise _damaged(path, exc) from exc
    ids, matrix = loaded.ids, loaded.matrix
    if ids.ndim != 1 or matrix.ndim != 2 or matrix.shape[0] != len(ids):
        raise _damaged(path, f"{len(ids)} ids for a matrix of shape {matrix.shape}")
    if len(ids) and np.any(np.diff(ids) <= 0):
        raise _damaged(path, "ids out of order")
    return loaded


def load_vectors(path: Path | None = None) -> EpisodeVectors:
    """The stored episode vectors (empty when none are stored yet), cached per process
    until the file changes; :class:`StorageError` when the file cannot be read."""
    path = path or vectors_path()
    try:
        stat = path.stat()
    except FileNotFoundError:
        return EpisodeVectors()
    except OSError as exc:
        raise _damaged(path, exc) from exc
    key = (stat.st_mtime_ns, stat.st_ino, stat.st_size)
    with _lock:
        cached = _cache.get(path)
        if cached is None or cached[0] != key:
            _cache[path] = (key, _read(path))
        return _cache[path][1]


def save_vectors(vectors: EpisodeVectors, path: Path | None = None) -> None:
    """Write the vectors atomically (a reader sees the old file or the new one), under the
    content lock, through a temporary file of this writer's own."""
    from podsight.content.passages import content_lock

    path = path or vectors_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    with content_lock():
        handle = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed below, moved or removed
            dir=path.parent, prefix=f".{path.stem}.", suffix=".npz", delete=False
        )
        try:
            with handle:
                np.savez(
                    handle,
                    embedder=np.array(vectors.embedder),
                    ids=vectors.ids,
                    matrix=vectors.matrix,
                )
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(handle.name, path)
        except BaseException:
            Path(handle.name).unlink(missing_ok=True)
            raise


def store_vectors(
    vectors: Mapping[int, np.ndarray], embedder: str, path: Path | None = None
) -> EpisodeVectors:
    """Set these episodes' vectors in the stored file: read, update and write under the
    content lock, so concurrent writers keep each other's vectors. A damaged file is
    started again from these vectors (the analysis re-analyses the episodes whose vectors
    are missing)."""
    from podsight.content.passages import content_lock

    path = path or vectors_path()
    with content_lock():
        try:
            current = load_vectors(path)
        except StorageError:
            current = EpisodeVectors()
        # A copy: the loaded object is the process's cache, which readers share.
        store = EpisodeVectors(current.embedder, current.ids, current.matrix)
        store.update(vectors, embedder)
        save_vectors(store, path)
    return store


@dataclass(frozen=True, slots=True)
class SimilarEpisode:
    episode_id: int
    score: float
    relation: str  # "earlier" | "later" | "" (a publication date is missing)
    shared_topics: tuple[str, ...]
    shared_keywords: tuple[str, ...]


def _words(keywords: Iterable[dict]) -> set[str]:
    return {k["keyword"] for k in keywords if isinstance(k, dict) and "keyword" in k}


def similar_episodes(episode_id: int, *, k: int = DEFAULT_K) -> list[SimilarEpisode] | None:
    """The ``k`` episodes most similar to ``episode_id``, earlier and later, best first;
    None when the episode has not been analysed (no vector)."""
    from podsight.catalog.models import Episode
    from podsight.content.models import EpisodeAnalysis

    k = max(1, min(int(k), MAX_K))
    store = load_vectors()
    target = store.vector(episode_id)
    if target is None:
        return None
    scores = store.matrix @ target
    order = np.argsort(-scores, kind="stable")
    # Ask for a few more than k: merged-away episodes are dropped below.
    wanted = [int(store.ids[i]) for i in order[: 3 * k + 1] if int(store.ids[i]) != episode_id]
    alive = set(Episode.objects.alive().filter(pk__in=wanted).values_list("pk", flat=True))
    chosen = [i for i in wanted if i in alive][:k]
    rows = {
        a.episode_id: a
        for a in EpisodeAnalysis.objects.filter(episode_id__in=[episode_id, *chosen]).only(
            "episode_id", "topics", "keywords"
        )
    }
    dates = dict(
        Episode.objects.filter(pk__in=[episode_id, *chosen]).values_list("pk", "published_at")
    )
    mine = rows.get(episode_id)
    my_topics = [t["topic"] for t in (mine.topics if mine else []) if "topic" in t]
    my_words = _words(mine.keywords) if mine else set()
    score_of = {int(store.ids[i]): float(scores[i]) for i in order[: 3 * k + 1]}
    out = []
    for other in chosen:
        row = rows.get(other)
        topics = {t.get("topic") for t in (row.topics if row else [])}
        words = _words(row.keywords) if row else set()
        mine_at, other_at = dates.get(episode_id), dates.get(other)
        relation = ""
        if mine_at and other_at:
            relation = "earlier" if other_at < mine_at else "later"
        out.append(
            SimilarEpisode(
                episode_id=other,
                score=round(score_of[other], 4),
                relation=relation,
                shared_topics=tuple(t for t in my_topics if t in topics),
                shared_keywords=tuple(sorted(my_words & words)),
            )
        )
    return out
