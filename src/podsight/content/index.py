"""The search index of the current passages: vectors (exact or usearch) and words (tantivy).

Layout under ``$PODSIGHT_HOME/index/``:

``manifest.json``   what the index holds: its format, embedder, generation, passage count,
                    ``kind`` (``exact`` or ``ann``) and the (episode → version) pairs in it.
``gNNNNNN/``        one generation: ``rows.parquet`` (each passage's key, episode,
                    version, number, kind, times and text) and its vectors, as
                    ``vectors.npy`` (float32; searched exactly with numpy) below
                    :data:`ANN_MIN` passages, else ``vectors.usearch`` (an HNSW graph).
``text/``           tantivy's BM25 index of the passage texts (keyword search); documents
                    name their (episode, version, passage), so one that is no longer in
                    the current generation is ignored by search.
``write.lock``      one writer at a time (:func:`~podsight.content.passages.content_lock`).

Updating (:func:`update_index`, called by ``content.analyze`` after ``build_passages``):
the index follows each canonical episode's current transcript version (or its notes):
passages of a superseded version are removed, those of new versions added; a new
generation is written beside the old one and becomes current when ``manifest.json`` is
replaced (atomically), so readers (the API server, the CLI) never see half an update.
The previous generation is kept for readers still on it; older ones are deleted. A
change of embedder, of format, or an unreadable generation rebuilds from the lake.

Why usearch: the issue rules out DuckDB's vss (not installable offline), sqlite-vec
(this Python cannot load extensions) and pgvector (not packaged here); usearch is a
wheel. Its parameters come from ``bench/ann.py`` (docs/content.md "Search").
Exact search below :data:`ANN_MIN`: a numpy product over 20,000 × 384 floats takes a few
milliseconds and is never wrong; an HNSW graph only pays off beyond that.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from podsight import conf
from podsight.content.passages import content_lock, read_passages
from podsight.errors import StorageError
from podsight.lake.tables import EMBEDDING_DIM
from podsight.progress import SILENT, Progress

__all__ = [
    "ANN_MIN",
    "ANN_PARAMS",
    "ann_min",
    "FORMAT",
    "IndexReport",
    "IndexSnapshot",
    "current_versions",
    "index_path",
    "load_snapshot",
    "read_manifest",
    "reset_snapshots",
    "text_terms",
    "update_index",
]

log = logging.getLogger(__name__)

FORMAT = 1
MANIFEST = "manifest.json"
# Below this many passages the vectors are searched exactly (numpy); from it on, usearch.
ANN_MIN = 20_000


def ann_min() -> int:
    """``PODSIGHT_ANN_MIN`` (default :data:`ANN_MIN`): from how many passages on the index
    is a usearch graph."""
    raw = conf.env("PODSIGHT_ANN_MIN", "")
    if not raw:
        return ANN_MIN
    if not raw.isdigit() or int(raw) < 1:
        raise conf.SettingError(f"PODSIGHT_ANN_MIN must be a whole number of passages, not {raw!r}")
    return int(raw)


# bench/ann.py on 1,000,000 clustered vectors (docs/content.md "Search"): bf16 halves f32's
# memory; connectivity 16 with expansion_search 128 gave recall@10 0.978 and p95 12.8 ms on
# the loaded 2-core machine (64: recall 0.941, under the 0.95 target).
ANN_PARAMS: dict[str, Any] = {
    "dtype": "bf16",
    "connectivity": 16,
    "expansion_add": 128,
    "expansion_search": 128,
}
_GENERATION = re.compile(r"g(\d{6})")


def index_path() -> Path:
    return conf.podsight_home() / "index"


def read_manifest(path: Path | None = None) -> dict[str, Any] | None:
    """The manifest of the index at ``path`` (default :func:`index_path`), ``None`` when
    there is none or it cannot be read."""
    try:
        manifest = json.loads(((path or index_path()) / MANIFEST).read_text("utf-8"))
    except (OSError, ValueError):
        return None
    return manifest if isinstance(manifest, dict) else None


def _write_manifest(path: Path, manifest: dict[str, Any]) -> None:
    scratch = path / (MANIFEST + ".tmp")
    scratch.write_text(json.dumps(manifest, indent=1, sort_keys=True), "utf-8")
    os.replace(scratch, path / MANIFEST)


def current_versions(episode_ids: Iterable[int] | None = None) -> dict[int, int]:
    """episode → the version search should use: the current transcript's, or 0 (notes)."""
    from podsight.catalog.models import Episode
    from podsight.content.models import EpisodeTranscript

    episodes = Episode.objects.alive()
    states = EpisodeTranscript.objects.filter(version__gt=0)
    if episode_ids is not None:
        ids = list(episode_ids)
        episodes = episodes.filter(pk__in=ids)
        states = states.filter(episode_id__in=ids)
    versions = dict(states.values_list("episode_id", "version"))
    return {pk: versions.get(pk, 0) for pk in episodes.values_list("pk", flat=True)}


# --- the rows and vectors of one generation -------------------------------------------------

_ROW_COLUMNS = ("episode_id", "version", "passage_no", "kind", "start_s", "end_s", "text")


def _vectors(table: pa.Table) -> np.ndarray:
    if not table.num_rows:
        return np.zeros((0, EMBEDDING_DIM), dtype=np.float32)
    column = table.column("vector").combine_chunks()
    return (
        column.values.to_numpy(zero_copy_only=False)
        .reshape(-1, EMBEDDING_DIM)
        .astype(np.float32, copy=False)
    )


def _new_ann() -> Any:
    from usearch.index import Index

    return Index(
        ndim=EMBEDDING_DIM,
        metric="ip",  # unit vectors: inner product is the cosine
        dtype=ANN_PARAMS["dtype"],
        connectivity=ANN_PARAMS["connectivity"],
        expansion_add=ANN_PARAMS["expansion_add"],
        expansion_search=ANN_PARAMS["expansion_search"],
    )


# --- text ------------------------------------------------------------------------------------

_TEXT_ANALYZER = "podsight_passage"


def _text_analyzer() -> Any:
    import tantivy

    # English stemming and stop words: the model is English too; other languages' words
    # still match themselves (the stemmer leaves most of them alone), folded of accents.
    return (
        tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
        .filter(tantivy.Filter.remove_long(40))
        .filter(tantivy.Filter.lowercase())
        .filter(tantivy.Filter.ascii_fold())
        .filter(tantivy.Filter.stopword("english"))
        .filter(tantivy.Filter.stemmer("english"))
        .build()
    )


def _text_schema() -> Any:
    import tantivy

    builder = tantivy.SchemaBuilder()
    builder.add_integer_field("episode_id", stored=True, indexed=True, fast=True)
    builder.add_integer_field("version", stored=True, fast=True)
    builder.add_integer_field("passage_no", stored=True, fast=True)
    builder.add_text_field("text", tokenizer_name=_TEXT_ANALYZER, index_option="freq")
    return builder.build()


def _open_text(path: Path, *, create: bool = False) -> Any:
    import tantivy

    if create:
        shutil.rmtree(path, ignore_errors=True)
        path.mkdir(parents=True, exist_ok=True)
        index = tantivy.Index(_text_schema(), str(path), reuse=False)
    else:
        index = tantivy.Index.open(str(path))
    index.register_tokenizer(_TEXT_ANALYZER, _text_analyzer())
    return index


_QUERY_ANALYZER: Any = None


def text_terms(text: str) -> list[str]:
    """The keyword index's terms of ``text`` (as a query is analysed)."""
    global _QUERY_ANALYZER
    if _QUERY_ANALYZER is None:
        _QUERY_ANALYZER = _text_analyzer()
    return _QUERY_ANALYZER.analyze(text)


# --- updating ------------------------------------------------------------------------------


@dataclass
class IndexReport:
    """What :func:`update_index` did: ``current``, ``updated`` or ``rebuilt``."""

    action: str = "current"
    kind: str = "exact"
    passages: int = 0  # in the index now
    episodes: int = 0
    added: int = 0  # passages
    removed: int = 0
    elapsed_s: float = 0.0
    reason: str = ""

    def __str__(self) -> str:
        if self.action == "current":
            return f"search index: current ({self.passages:,} passages of {self.episodes} episodes)"
        why = f" ({self.reason})" if self.reason else ""
        return (
            f"search index: {self.action}{why}, {self.kind}: {self.passages:,} passages of "
            f"{self.episodes} episodes (+{self.added:,} −{self.removed:,}) in "
            f"{self.elapsed_s:.1f} s"
        )


def _generations(path: Path) -> list[Path]:
    return sorted(p for p in path.glob("g*") if p.is_dir() and _GENERATION.fullmatch(p.name))


def _next_generation(path: Path, manifest: dict[str, Any] | None) -> str:
    numbers = [int(p.name[1:]) for p in _generations(path)]
    if manifest and _GENERATION.fullmatch(str(manifest.get("generation", ""))):
        numbers.append(int(manifest["generation"][1:]))
    return f"g{max(numbers, default=0) + 1:06d}"


def _usable(manifest: dict[str, Any] | None, embedder: str, path: Path) -> str:
    """Why the index at ``path`` cannot be updated in place ("" when it can)."""
    if manifest is None:
        return "no index yet"
    if manifest.get("format") != FORMAT:
        return "older index format"
    if manifest.get("embedder") != embedder:
        return f"embedder changed from {manifest.get('embedder')}"
    generation = path / str(manifest.get("generation"))
    if not (generation / "rows.parquet").is_file():
        return "generation missing"
    if not (path / "text" / "meta.json").is_file():
        return "keyword index missing"
    return ""


def update_index(
    *,
    rebuild: bool = False,
    embedder: str | None = None,
    wait: bool = True,
    progress: Progress = SILENT,
) -> IndexReport:
    """Bring the index in step with the current passages of the lake (see the module
    docstring): incremental unless ``rebuild`` or the index cannot be updated in place.
    ``wait=False``: raise :class:`~podsight.content.passages.ContentBusy` rather than wait
    for another writer (a search request must not hang on one)."""
    from podsight.content.embed import get_embedder

    started = time.perf_counter()
    name = embedder or get_embedder().name
    path = index_path()
    with content_lock(wait=wait):
        manifest = read_manifest(path)
        reason = "asked to" if rebuild else _usable(manifest, name, path)
        versions = current_versions()
        wanted = {(e, v) for e, v in versions.items()}
        try:
            if reason:
                report = _rebuild(path, manifest, name, wanted, progress)
                report.reason = reason
            else:
                assert manifest is not None
                report = _update(path, manifest, name, wanted, progress)
        except (OSError, RuntimeError, ValueError, pa.ArrowException) as exc:
            if reason:
                raise StorageError(
                    f"the search index under {path} could not be written ({exc}); check the "
                    "disk, then run `podsight content analyze` again"
                ) from exc
            log.warning("search index: update failed (%s); rebuilding", exc)
            report = _rebuild(path, manifest, name, wanted, progress)
            report.reason = f"update failed: {exc}"
    report.elapsed_s = time.perf_counter() - started
    log.info("%s", report)
    return report


def _in_lake(wanted: set[tuple[int, int]], embedder: str) -> pa.Table:
    return read_passages(wanted, embedder=embedder)


def _notes_stamps(table: pa.Table) -> dict[str, int]:
    """episode → its notes passage's ``created_at`` (µs) in ``table``: the manifest keeps
    them, since a changed notes passage keeps its (episode, version)."""
    notes = table.filter(pc.equal(table.column("kind"), "notes"))
    stamps = notes.column("created_at").cast(pa.int64()).to_pylist()
    return {
        str(e): int(t) for e, t in zip(notes.column("episode_id").to_pylist(), stamps, strict=True)
    }


def _lake_notes_stamps(wanted: set[tuple[int, int]], embedder: str) -> dict[tuple[int, int], int]:
    """(episode, version) → ``created_at`` (µs) of the wanted notes passages in the lake."""
    from podsight import lake
    from podsight.lake.tables import PASSAGES

    if not lake.exists(PASSAGES):
        return {}
    rows = lake.query(
        "SELECT episode_id, version, epoch_us(max(created_at)) FROM p "
        "WHERE kind = 'notes' AND embedder = ? GROUP BY episode_id, version",
        [embedder],
        p=PASSAGES,
    )
    return {
        (e, v): int(t)
        for e, v, t in zip(*(rows.column(i).to_pylist() for i in range(3)), strict=True)
        if (e, v) in wanted
    }


def _rebuild(
    path: Path,
    manifest: dict[str, Any] | None,
    embedder: str,
    wanted: set[tuple[int, int]],
    progress: Progress,
) -> IndexReport:
    with progress.task("search index: reading passages", total=None):
        table = _in_lake(wanted, embedder)
    keys = np.arange(table.num_rows, dtype=np.uint64)
    rows = _rows_table(table, keys)
    text = _open_text(path / "text.building", create=True)
    _add_text(text, table, progress, set())
    shutil.rmtree(path / "text", ignore_errors=True)
    os.replace(path / "text.building", path / "text")
    generation = _next_generation(path, manifest)
    kind = _write_generation(path / generation, rows, _vectors(table), None, progress)
    _commit(path, generation, embedder, rows, kind, table.num_rows, _notes_stamps(table))
    episodes = len(set(rows.column("episode_id").to_pylist()))
    return IndexReport("rebuilt", kind, rows.num_rows, episodes, rows.num_rows, 0)


def _rows_table(table: pa.Table, keys: np.ndarray) -> pa.Table:
    return pa.table(
        {"key": pa.array(keys, pa.uint64()), **{c: table.column(c) for c in _ROW_COLUMNS}}
    )


def _add_text(index: Any, table: pa.Table, progress: Progress, drop: set[int]) -> None:
    import tantivy

    writer = index.writer(heap_size=64_000_000, num_threads=1)
    try:
        for episode in sorted(drop):
            writer.delete_documents_by_term("episode_id", episode)
        columns = [
            table.column(c).to_pylist() for c in ("episode_id", "version", "passage_no", "text")
        ]
        with progress.task("search index: words", total=table.num_rows) as task:
            for n, (episode, version, number, text) in enumerate(zip(*columns, strict=True), 1):
                doc = tantivy.Document()
                doc.add_integer("episode_id", episode)
                doc.add_integer("version", version)
                doc.add_integer("passage_no", number)
                doc.add_text("text", text or "")
                writer.add_document(doc)
                if n % 5000 == 0:
                    task.update(completed=n)
            task.update(completed=table.num_rows)
        writer.commit()
    finally:
        writer.wait_merging_threads()


def _write_generation(
    folder: Path,
    rows: pa.Table,
    vectors: np.ndarray | None,
    previous: Path | None,
    progress: Progress,
    *,
    removed_keys: np.ndarray | None = None,
    added: tuple[np.ndarray, np.ndarray] | None = None,
) -> str:
    """Write one generation into ``folder`` (built in a side folder, then renamed):
    ``vectors`` are all the vectors in row order; or, from the ``previous`` ANN
    generation, ``removed_keys`` taken out and ``added`` (keys, vectors) put in."""
    building = folder.with_name(folder.name + ".building")
    shutil.rmtree(building, ignore_errors=True)
    building.mkdir(parents=True)
    pq.write_table(rows, building / "rows.parquet")
    count = rows.num_rows
    if count < ann_min():
        if vectors is None:
            vectors = _vectors_of(previous, rows, added)
        np.save(building / "vectors.npy", vectors.astype(np.float32, copy=False))
        kind = "exact"
    else:
        from usearch.index import Index

        if previous is not None and (previous / "vectors.usearch").is_file() and vectors is None:
            ann = Index.restore(str(previous / "vectors.usearch"))
            if ann is None:
                raise ValueError(f"{previous / 'vectors.usearch'} is not a usearch index")
            ann.expansion_search = ANN_PARAMS["expansion_search"]
            if removed_keys is not None and len(removed_keys):
                ann.remove(removed_keys)
        else:
            ann = _new_ann()
            if vectors is None:
                vectors = _vectors_of(previous, rows, added)
            keys = rows.column("key").to_numpy()
            added = (keys, vectors)
        if added is not None and len(added[0]):
            with progress.task("search index: graph", total=len(added[0])) as task:
                step = 50_000
                for at in range(0, len(added[0]), step):
                    ann.add(added[0][at : at + step], added[1][at : at + step], threads=2)
                    task.advance(min(step, len(added[0]) - at))
        ann.save(str(building / "vectors.usearch"))
        kind = "ann"
    shutil.rmtree(folder, ignore_errors=True)
    os.replace(building, folder)
    return kind


def _vectors_of(
    previous: Path | None, rows: pa.Table, added: tuple[np.ndarray, np.ndarray] | None
) -> np.ndarray:
    """Every vector of ``rows``, in order, from the previous generation and ``added``."""
    keys = rows.column("key").to_numpy()
    out = np.zeros((len(keys), EMBEDDING_DIM), dtype=np.float32)
    found = np.zeros(len(keys), dtype=bool)
    position = {int(k): i for i, k in enumerate(keys)}
    if added is not None:
        for key, vector in zip(added[0], added[1], strict=True):
            i = position.get(int(key))
            if i is not None:
                out[i], found[i] = vector, True
    if previous is not None:
        old_rows = pq.read_table(previous / "rows.parquet", columns=["key"])
        old_keys = old_rows.column("key").to_numpy()
        if (previous / "vectors.npy").is_file():
            old = np.load(previous / "vectors.npy", mmap_mode="r")
            for j, key in enumerate(old_keys):
                i = position.get(int(key))
                if i is not None and not found[i]:
                    out[i], found[i] = old[j], True
        elif (previous / "vectors.usearch").is_file():
            from usearch.index import Index

            ann = Index.restore(str(previous / "vectors.usearch"), view=True)
            missing = keys[~found]
            if len(missing):
                got = ann.get(missing, dtype=np.float32)
                out[~found] = np.asarray(got, dtype=np.float32)
                found[~found] = True
    if not found.all():
        raise ValueError(f"{int((~found).sum())} vectors of the index were not found")
    return out


def _commit(
    path: Path,
    generation: str,
    embedder: str,
    rows: pa.Table,
    kind: str,
    next_key: int,
    notes: dict[str, int],
) -> None:
    episodes: dict[str, int] = {}
    for episode, version in zip(
        rows.column("episode_id").to_pylist(), rows.column("version").to_pylist(), strict=True
    ):
        episodes[str(episode)] = version
    _write_manifest(
        path,
        {
            "format": FORMAT,
            "embedder": embedder,
            "generation": generation,
            "kind": kind,
            "count": rows.num_rows,
            "next_key": int(next_key),
            "episodes": episodes,
            "notes": {e: t for e, t in notes.items() if e in episodes},
            "ann": ANN_PARAMS if kind == "ann" else None,
            "updated_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        },
    )
    # Keep the generation just replaced for readers still on it; older ones go.
    keep = {generation}
    gens = [g for g in _generations(path) if g.name != generation]
    if gens:
        keep.add(gens[-1].name)
    for folder in _generations(path):
        if folder.name not in keep:
            shutil.rmtree(folder, ignore_errors=True)


def _update(
    path: Path,
    manifest: dict[str, Any],
    embedder: str,
    wanted: set[tuple[int, int]],
    progress: Progress,
) -> IndexReport:
    have = {(int(e), int(v)) for e, v in manifest.get("episodes", {}).items()}
    # Episodes never built have no passages: "wanted" only counts once in the lake.
    missing = wanted - have
    drop_pairs = have - wanted
    # A notes passage rewritten since (new title or notes) keeps its pair: its stamp tells.
    indexed_notes = manifest.get("notes") or {}
    stamps = _lake_notes_stamps(wanted & have, embedder)
    missing |= {(e, v) for (e, v), t in stamps.items() if indexed_notes.get(str(e)) != t}
    table = _in_lake(missing, embedder) if missing else None
    adding = table if table is not None and table.num_rows else None
    if adding is None and not drop_pairs:
        return IndexReport(
            "current", manifest.get("kind", "exact"), manifest.get("count", 0), len(have)
        )
    previous = path / manifest["generation"]
    old = pq.read_table(previous / "rows.parquet")
    drop_episodes = {e for e, _ in drop_pairs}
    if adding is not None:
        drop_episodes |= set(adding.column("episode_id").to_pylist())
    old_episodes = old.column("episode_id").to_numpy()
    keep_mask = ~np.isin(
        old_episodes, np.fromiter(drop_episodes, dtype=np.int64, count=len(drop_episodes))
    )
    kept = old.filter(pa.array(keep_mask))
    removed_keys = old.column("key").to_numpy()[~keep_mask]
    next_key = int(manifest.get("next_key", old.num_rows))
    parts = [kept]
    added = None
    if adding is not None:
        new_keys = np.arange(next_key, next_key + adding.num_rows, dtype=np.uint64)
        next_key += adding.num_rows
        parts.append(_rows_table(adding, new_keys))
        added = (new_keys, _vectors(adding))
    rows = pa.concat_tables(parts)
    text = _open_text(path / "text")
    _add_text(text, adding if adding is not None else old.slice(0, 0), progress, drop_episodes)
    generation = _next_generation(path, manifest)
    was_ann = (previous / "vectors.usearch").is_file()
    kind = _write_generation(
        path / generation,
        rows,
        None,
        previous,
        progress,
        removed_keys=removed_keys if was_ann else None,
        added=added,
    )
    notes = {e: t for e, t in indexed_notes.items() if int(e) not in drop_episodes}
    if adding is not None:
        notes.update(_notes_stamps(adding))
    _commit(path, generation, embedder, rows, kind, next_key, notes)
    episodes = len(set(rows.column("episode_id").to_pylist()))
    return IndexReport(
        "updated",
        kind,
        rows.num_rows,
        episodes,
        0 if added is None else len(added[0]),
        len(removed_keys),
    )


# --- reading -------------------------------------------------------------------------------


@dataclass
class IndexSnapshot:
    """One generation, loaded for searching (shared by the threads of a process)."""

    generation: str
    kind: str
    embedder: str
    keys: np.ndarray  # uint64, row order
    episode_ids: np.ndarray  # int64
    versions: np.ndarray
    passage_nos: np.ndarray
    kinds: list[str]
    starts: list[float | None]
    ends: list[float | None]
    texts: list[str]
    vectors: np.ndarray | None = None  # exact
    ann: Any = None  # usearch (from ann_min() passages on)
    text_index: Any = None
    by_key: dict[int, int] = field(default_factory=dict)
    by_passage: dict[tuple[int, int, int], int] = field(default_factory=dict)

    @property
    def count(self) -> int:
        return len(self.keys)

    def vector_search(
        self, query: np.ndarray, k: int, allowed: np.ndarray | None = None
    ) -> list[tuple[int, float]]:
        """(row, cosine) of the ``k`` nearest passages, best first; ``allowed`` is a row mask."""
        if not self.count or k <= 0:
            return []
        query = np.asarray(query, dtype=np.float32).reshape(-1)
        if self.vectors is not None or (allowed is not None and allowed.sum() <= ann_min()):
            return self._exact(query, k, allowed)
        grown = k
        while True:
            found = self.ann.search(query, min(grown, self.count))
            out = []
            for key, distance in zip(found.keys, found.distances, strict=True):
                row = self.by_key.get(int(key))
                if row is not None and (allowed is None or allowed[row]):
                    out.append((row, 1.0 - float(distance)))
            if len(out) >= k or grown >= self.count:
                return out[:k]
            grown *= 4

    def _exact(
        self, query: np.ndarray, k: int, allowed: np.ndarray | None
    ) -> list[tuple[int, float]]:
        rows = np.arange(self.count) if allowed is None else np.flatnonzero(allowed)
        if not len(rows):
            return []
        if self.vectors is not None:
            vectors = self.vectors if allowed is None else self.vectors[rows]
        else:
            vectors = np.asarray(self.ann.get(self.keys[rows], dtype=np.float32), dtype=np.float32)
        scores = vectors @ query
        k = min(k, len(rows))
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top])]
        return [(int(rows[i]), float(scores[i])) for i in top]

    def keyword_search(
        self, terms: Sequence[str], k: int, allowed: np.ndarray | None = None
    ) -> list[tuple[int, float]]:
        """(row, BM25) of the ``k`` best passages for any of ``terms`` (index terms)."""
        import tantivy

        if self.text_index is None or not terms or not self.count:
            return []
        schema = self.text_index.schema
        query = tantivy.Query.boolean_query(
            [
                (tantivy.Occur.Should, tantivy.Query.term_query(schema, "text", t))
                for t in dict.fromkeys(terms)
            ]
        )
        self.text_index.reload()
        searcher = self.text_index.searcher()
        want = k
        while True:
            hits = searcher.search(query, limit=want).hits
            out, seen = [], set()
            for score, address in hits:
                doc = searcher.doc(address)
                ref = (doc["episode_id"][0], doc["version"][0], doc["passage_no"][0])
                row = self.by_passage.get(ref)
                if row is None or row in seen or (allowed is not None and not allowed[row]):
                    continue
                seen.add(row)
                out.append((row, float(score)))
            if len(out) >= k or len(hits) < want or want >= 20 * k:
                return out[:k]
            want *= 4


_snapshots: dict[str, IndexSnapshot] = {}
_snapshot_lock = threading.Lock()


def reset_snapshots() -> None:
    """Forget the loaded generation (the next search loads the current one anew)."""
    with _snapshot_lock:
        _snapshots.clear()


def load_snapshot(path: Path | None = None) -> IndexSnapshot | None:
    """The current generation of the index at ``path``, loaded once per process and
    generation; ``None`` when there is no index. Raises ``OSError``/``ValueError`` when
    it cannot be read (the caller rebuilds)."""
    path = path or index_path()
    manifest = read_manifest(path)
    if manifest is None:
        return None
    generation = str(manifest.get("generation"))
    cache_key = f"{path}/{generation}"
    with _snapshot_lock:
        cached = _snapshots.get(cache_key)
        if cached is not None:
            return cached
        snapshot = _load(path, manifest)
        _snapshots.clear()  # one generation per process: the older one goes
        _snapshots[cache_key] = snapshot
        return snapshot


def _load(path: Path, manifest: dict[str, Any]) -> IndexSnapshot:
    folder = path / str(manifest["generation"])
    rows = pq.read_table(folder / "rows.parquet")
    keys = rows.column("key").to_numpy()
    episode_ids = rows.column("episode_id").to_numpy()
    versions = rows.column("version").to_numpy()
    numbers = rows.column("passage_no").to_numpy()
    snapshot = IndexSnapshot(
        generation=str(manifest["generation"]),
        kind=str(manifest.get("kind")),
        embedder=str(manifest.get("embedder")),
        keys=keys,
        episode_ids=episode_ids,
        versions=versions,
        passage_nos=numbers,
        kinds=rows.column("kind").to_pylist(),
        starts=rows.column("start_s").to_pylist(),
        ends=rows.column("end_s").to_pylist(),
        texts=rows.column("text").to_pylist(),
    )
    if (folder / "vectors.npy").is_file():
        snapshot.vectors = np.load(folder / "vectors.npy", mmap_mode="r")
        if snapshot.vectors.shape != (len(keys), EMBEDDING_DIM):
            raise ValueError(f"{folder / 'vectors.npy'} does not match its rows")
    else:
        from usearch.index import Index

        snapshot.ann = Index.restore(str(folder / "vectors.usearch"), view=True)
        if snapshot.ann is None or len(snapshot.ann) != len(keys):
            raise ValueError(f"{folder / 'vectors.usearch'} does not match its rows")
        snapshot.ann.expansion_search = ANN_PARAMS["expansion_search"]
    snapshot.by_key = {int(k): i for i, k in enumerate(keys)}
    snapshot.by_passage = {
        (int(e), int(v), int(n)): i
        for i, (e, v, n) in enumerate(zip(episode_ids, versions, numbers, strict=True))
    }
    try:
        snapshot.text_index = _open_text(path / "text")
    except (OSError, ValueError) as exc:
        raise ValueError(f"keyword index unreadable: {exc}") from exc
    return snapshot
