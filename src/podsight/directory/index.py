"""The directory's full-text index of ``lake/podcastindex_feeds`` (tantivy).

Why tantivy: measured on the 1,000,000-row generated dump (``bench/README.md``), the
directory's searches answer in 11 ms (p50) and 15 ms (p95; 45 ms on a loaded machine)
from a 158 MB index, where SQLite FTS5 (built into Python's ``sqlite3``, the other
offline candidate) takes 4–11 s for a common word (its ``bm25()`` ranks every match;
tantivy keeps a top-k heap over compressed postings). The index lives beside the lake,
at ``$PODSIGHT_HOME/search/podcastindex_feeds``, so it works whatever database Django uses.

One document per lake row: ``title`` (weight 3), ``author`` (``itunesAuthor``, and
``itunesOwnerName`` when it differs; weight 1.5) and ``description`` (tags stripped,
weight 1) are searched; ``language`` (the normalised tag and its primary subtag) and
``category`` (lower-cased names) filter; ``weight`` multiplies the score so live,
popular feeds rank a little higher (×1.0 for dead feeds, ×1.1–1.4 for live ones by
``popularityScore``, 0–30). The fields a result shows are stored in the index, so a search
never reads the lake.

Keeping it in step with the lake: the index records, in ``podsight-directory.json``, the
lake version (and the lake table's id) it reflects. The dump import upserts every row it
writes (new or changed) right after writing it to the lake, and commits the index with
the lake's version every :data:`COMMIT_EVERY` rows and at the end. Before an import, and
with ``podsight directory reindex``, :func:`sync_with_lake` brings an index that is behind
up to date: when the recorded version is older it re-indexes the rows of the lake files
added since (an interrupted import leaves at most that); when there is no index, or it
belongs to another lake table or an older index format, it builds a new one from the whole
lake in a side folder and swaps it in. Upserts delete the ids first, so a row is never
indexed twice. One process at a time writes (a lock file beside the index).
"""

from __future__ import annotations

import fcntl
import html
import json
import logging
import os
import re
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.dataset as pads
import tantivy

from podsight import conf, lake
from podsight.errors import StorageError
from podsight.lake.tables import PODCASTINDEX_FEEDS
from podsight.progress import SILENT, Progress
from podsight.sources.text import normalise_language

__all__ = [
    "COMMIT_EVERY",
    "DirectoryBusy",
    "DirectoryIndexWriter",
    "IndexSync",
    "analyze",
    "index_path",
    "open_index",
    "read_state",
    "sync_with_lake",
    "plain_text",
]

log = logging.getLogger(__name__)

# Bump when the schema, tokenizers or document building change: older indexes are rebuilt.
FORMAT = 1
LAKE_TABLE = PODCASTINDEX_FEEDS.name  # the lake table this index mirrors
STATE_FILE = "podsight-directory.json"
COMMIT_EVERY = 250_000
HEAP_BYTES = 96_000_000
_READ_BATCH = 25_000
# Descriptions longer than this are cut for the index: what a show is about is said first.
_MAX_DESCRIPTION = 4000
_FOLD = "podsight_fold"
_LOWER = "podsight_lower"
# Lake columns the index reads.
COLUMNS = (
    "id url title itunesAuthor itunesOwnerName description language episodeCount "
    "popularityScore dead " + " ".join(f"category{i}" for i in range(1, 11))
).split()
_TAGS = re.compile(r"<[^>]*>")


class DirectoryBusy(StorageError):
    """Another process is writing the directory index."""


def index_path() -> Path:
    return conf.podsight_home() / "search" / LAKE_TABLE


def _analyzer() -> tantivy.TextAnalyzer:
    # Words of letters and digits, lower-cased, accents folded (émission = emission), so
    # the many languages of the dump search alike; no stemming (it is language-specific).
    return (
        tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
        .filter(tantivy.Filter.remove_long(40))
        .filter(tantivy.Filter.lowercase())
        .filter(tantivy.Filter.ascii_fold())
        .build()
    )


_QUERY_ANALYZER = _analyzer()


def analyze(text: str) -> list[str]:
    """The index's words of ``text``, as a query sees them."""
    return _QUERY_ANALYZER.analyze(text)


def _schema() -> tantivy.Schema:
    builder = tantivy.SchemaBuilder()
    builder.add_integer_field("id", stored=True, indexed=True, fast=True)
    builder.add_text_field("title", stored=True, tokenizer_name=_FOLD)
    builder.add_text_field("author", stored=True, tokenizer_name=_FOLD)
    # Frequencies but no positions: phrases are matched in titles only.
    builder.add_text_field("description", tokenizer_name=_FOLD, index_option="freq")
    builder.add_text_field("language", stored=True, tokenizer_name="raw", index_option="basic")
    builder.add_text_field("category", stored=True, tokenizer_name=_LOWER, index_option="basic")
    builder.add_bytes_field("url", stored=True)
    builder.add_integer_field("episode_count", stored=True)
    builder.add_integer_field("popularity", stored=True)
    builder.add_integer_field("dead", stored=True)
    builder.add_float_field("weight", fast=True)
    return builder.build()


def open_index(path: Path, *, create: bool = False) -> tantivy.Index:
    """The index at ``path`` with podsight's tokenizers registered."""
    if create:
        path.mkdir(parents=True, exist_ok=True)
        index = tantivy.Index(_schema(), str(path), reuse=False)
    else:
        index = tantivy.Index.open(str(path))
    index.register_tokenizer(_FOLD, _analyzer())
    index.register_tokenizer(
        _LOWER,
        tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.raw())
        .filter(tantivy.Filter.lowercase())
        .build(),
    )
    return index


# --- state -------------------------------------------------------------------------------


def read_state(path: Path | None = None) -> dict[str, Any] | None:
    """What the index at ``path`` reflects: ``{"format", "lake_id", "lake_version", …}``."""
    path = path or index_path()
    try:
        state = json.loads((path / STATE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return state if isinstance(state, dict) else None


def _write_state(path: Path, lake_id: str, lake_version: int, documents: int) -> None:
    state = {
        "format": FORMAT,
        "lake_table": LAKE_TABLE,
        "lake_id": lake_id,
        "lake_version": lake_version,
        "documents": documents,
        "updated_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    scratch = path / (STATE_FILE + ".tmp")
    scratch.write_text(json.dumps(state, indent=1), encoding="utf-8")
    os.replace(scratch, path / STATE_FILE)


def _lake_table() -> Any:
    from deltalake import DeltaTable

    return DeltaTable(str(lake.table_path(LAKE_TABLE)))


# --- documents ---------------------------------------------------------------------------

_LANGUAGES: dict[str, tuple[str, ...]] = {}


def _language_terms(value: str | None) -> tuple[str, ...]:
    """``en-US`` → ``("en-us", "en")``: the tag, then its primary subtag for filtering."""
    if not value:
        return ()
    terms = _LANGUAGES.get(value)
    if terms is None:
        tag = normalise_language(value)
        terms = () if tag is None else tuple(dict.fromkeys((tag, tag.split("-")[0])))
        if len(_LANGUAGES) < 10_000:
            _LANGUAGES[value] = terms
    return terms


def plain_text(description: str) -> str:
    if "<" in description:
        description = _TAGS.sub(" ", description)
    if "&" in description:
        description = html.unescape(description)
    return description[:_MAX_DESCRIPTION]


def _weight(popularity: int | None, dead: int | None) -> float:
    """The stored value tantivy turns into the score's multiplier ``log2(2 + value)``."""
    if dead:
        return 0.0  # × 1.0
    share = min(max(popularity or 0, 0), 30) / 30
    return 2 ** (1.1 + 0.3 * share) - 2  # × 1.1 … 1.4


def _text(value: Any) -> str | None:
    if value is None:
        return None
    value = value.strip()
    return value or None


def documents(table: pa.Table) -> Iterator[tantivy.Document]:
    """One document per lake row of ``table`` (which has at least :data:`COLUMNS`)."""
    columns = [table.column(name).to_pylist() for name in COLUMNS]
    for (
        feed_id,
        url,
        title,
        author,
        owner,
        description,
        language,
        episodes,
        popularity,
        dead,
        *categories,
    ) in zip(*columns, strict=True):
        doc = tantivy.Document()
        doc.add_integer("id", feed_id)
        title = _text(title)
        if title:
            doc.add_text("title", title)
        author, owner = _text(author), _text(owner)
        if author:
            doc.add_text("author", author)
        if owner and owner != author:
            doc.add_text("author", owner)
        if description:
            doc.add_text("description", plain_text(description))
        for term in _language_terms(language):
            doc.add_text("language", term)
        for name in dict.fromkeys(c.strip() for c in categories if c):
            if name:
                doc.add_text("category", name)
        if url:
            doc.add_bytes("url", url.encode())
        if episodes is not None:
            doc.add_integer("episode_count", episodes)
        if popularity is not None:
            doc.add_integer("popularity", popularity)
        if dead is not None:
            doc.add_integer("dead", 1 if dead else 0)
        doc.add_float("weight", _weight(popularity, dead))
        yield doc


# --- writing -----------------------------------------------------------------------------


class _Lock:
    """An exclusive lock on ``<index>.lock``, so one process writes the index at a time."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._file = path.with_name(path.name + ".lock").open("a+")
        try:
            fcntl.flock(self._file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._file.close()
            raise DirectoryBusy(
                "another podsight process (an import or `podsight directory reindex`) is "
                "writing the directory index; wait for it to finish, then run this again"
            ) from None

    def release(self) -> None:
        if not self._file.closed:
            fcntl.flock(self._file, fcntl.LOCK_UN)
            self._file.close()


class DirectoryIndexWriter:
    """Writes lake rows into the index at ``path`` (the caller holds the lock)."""

    def __init__(self, path: Path, *, create: bool = False, threads: int = 1) -> None:
        self.path = path
        if create:  # whatever was there belongs to no lake (or to a failed build)
            shutil.rmtree(path, ignore_errors=True)
        self.index = open_index(path, create=create)
        self.schema = self.index.schema
        # During an import one indexing thread: the import's own threads use the other core.
        self._writer = self.index.writer(heap_size=HEAP_BYTES, num_threads=threads)
        self.pending = 0
        self.written = 0

    def upsert(self, table: pa.Table, *, new: bool = False) -> None:
        """Index these lake rows, replacing any document with the same id.

        ``new``: the rows were not in the lake before, so not in the index either (it
        only ever holds lake rows): nothing to replace.
        """
        if not table.num_rows:
            return
        if not new:
            ids = table.column("id").to_pylist()
            query = tantivy.Query.term_set_query(self.schema, "id", ids)
            self._writer.delete_documents_by_query(query)
        for doc in documents(table.select(COLUMNS)):
            self._writer.add_document(doc)
        self.pending += table.num_rows
        self.written += table.num_rows

    def commit(self, lake_id: str, lake_version: int) -> None:
        """Make the upserts visible and record that the index reflects this lake version."""
        self._writer.commit()
        self.pending = 0
        self.index.reload()
        _write_state(self.path, lake_id, lake_version, self.index.searcher().num_docs)

    def close(self) -> None:
        """Finish background merges and release tantivy's writer lock."""
        if self._writer is not None:
            self._writer.wait_merging_threads()
            self._writer = None


def _lake_identity() -> tuple[str, int]:
    table = _lake_table()
    return table.metadata().id, table.version()


def _batches(fragments: list[Any], dataset: Any) -> Iterator[pa.RecordBatch]:
    subset = pads.FileSystemDataset(
        fragments, dataset.schema, dataset.format, filesystem=dataset.filesystem
    )
    yield from subset.to_batches(columns=list(COLUMNS), batch_size=_READ_BATCH)


@dataclass
class IndexSync:
    """What :func:`sync_with_lake` did: ``current``, ``caught_up``, ``rebuilt`` or ``no_lake``."""

    action: str
    rows: int = 0
    lake_version: int | None = None
    elapsed_s: float = 0.0

    def __str__(self) -> str:
        if self.action == "no_lake":
            return "directory index: no imported dump yet"
        if self.action == "current":
            return f"directory index: up to date with lake version {self.lake_version}"
        verb = "rebuilt from" if self.action == "rebuilt" else "caught up with"
        return (
            f"directory index: {verb} lake version {self.lake_version}, {self.rows:,} rows "
            f"indexed in {self.elapsed_s:.1f} s"
        )


def _fragments_since(state: dict[str, Any] | None, lake_id: str) -> list[Any] | None:
    """Lake files added since the version the index reflects; ``None``: rebuild instead."""
    from deltalake import DeltaTable

    if (
        state is None
        or state.get("format") != FORMAT
        or state.get("lake_id") != lake_id
        or not isinstance(state.get("lake_version"), int)
    ):
        return None
    try:
        old = DeltaTable(str(lake.table_path(LAKE_TABLE)), version=state["lake_version"])
        known = {os.path.basename(uri) for uri in old.file_uris()}
    except Exception as exc:  # the version's log entries were cleaned up: start afresh
        log.info("directory index: lake version %s unreadable (%s)", state["lake_version"], exc)
        return None
    dataset = _lake_table().to_pyarrow_dataset()
    return [f for f in dataset.get_fragments() if os.path.basename(f.path) not in known]


def sync_with_lake(
    *,
    progress: Progress = SILENT,
    rebuild: bool = False,
    keep_writer: bool = False,
) -> tuple[IndexSync, DirectoryIndexWriter | None, _Lock | None]:
    """Bring the index in step with the lake (see the module docstring).

    With ``keep_writer`` the lock and an open writer are handed back for the caller (the
    dump import) to go on writing; otherwise both are released.
    """
    started = time.perf_counter()
    path = index_path()
    lock = _Lock(path)
    writer: DirectoryIndexWriter | None = None
    try:
        if not lake.exists(LAKE_TABLE):
            result = IndexSync("no_lake")
        else:
            lake_id, version = _lake_identity()
            state = read_state(path)
            fragments = None if rebuild else _fragments_since(state, lake_id)
            if fragments is not None and state is not None:
                if not fragments and state["lake_version"] == version:
                    result = IndexSync("current", lake_version=version)
                else:
                    writer = DirectoryIndexWriter(path)
                    rows = _index_fragments(writer, fragments, progress, "catching up")
                    writer.commit(lake_id, version)
                    result = IndexSync("caught_up", rows, version)
            else:
                rows = _rebuild(path, lake_id, version, progress)
                result = IndexSync("rebuilt", rows, version)
        if keep_writer and result.action != "no_lake" and writer is None:
            writer = DirectoryIndexWriter(path)
        result.elapsed_s = time.perf_counter() - started
        if result.action in ("caught_up", "rebuilt"):
            log.info("%s", result)
        if not keep_writer:
            if writer is not None:
                writer.close()
                writer = None
            lock.release()
            return result, None, None
        return result, writer, lock
    except BaseException:
        if writer is not None:
            writer.close()
        lock.release()
        raise


def _index_fragments(
    writer: DirectoryIndexWriter,
    fragments: list[Any],
    progress: Progress,
    label: str,
    *,
    new: bool = False,
) -> int:
    dataset = _lake_table().to_pyarrow_dataset()
    total = sum(f.count_rows() for f in fragments)
    rows = 0
    with progress.task(f"directory index {label}", total=total) as task:
        for batch in _batches(fragments, dataset):
            writer.upsert(pa.Table.from_batches([batch]), new=new)
            rows += batch.num_rows
            task.update(completed=rows)
    return rows


def _rebuild(path: Path, lake_id: str, version: int, progress: Progress) -> int:
    """A new index of the whole lake, built beside the old one and swapped in."""
    building = path.with_name(path.name + ".building")
    shutil.rmtree(building, ignore_errors=True)
    writer = DirectoryIndexWriter(building, create=True, threads=2)
    try:
        fragments = list(_lake_table().to_pyarrow_dataset().get_fragments())
        rows = _index_fragments(writer, fragments, progress, "building", new=True)
        writer.commit(lake_id, version)
    finally:
        writer.close()
    old = path.with_name(path.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if path.exists():
        os.replace(path, old)
    os.replace(building, path)
    shutil.rmtree(old, ignore_errors=True)
    return rows


class LakeIndexer:
    """The dump import's side of the index: upserts each batch right after the lake write.

    Created before the import reads its first batch (the index is first brought in step
    with the lake), used from the lake writer's thread, committed every
    :data:`COMMIT_EVERY` rows and when the import ends, successful or not.
    """

    def __init__(self, *, progress: Progress = SILENT) -> None:
        self._failed = False
        self.sync, self._writer, self._lock = sync_with_lake(progress=progress, keep_writer=True)
        if self.sync.action not in ("no_lake", "current"):
            progress.note(str(self.sync))

    def upsert(self, new: pa.Table, changed: pa.Table) -> None:
        """Index the rows of one batch, just written to the lake."""
        try:
            if self._writer is None:
                # The lake did not exist before this import: its first batch created it.
                self._writer = DirectoryIndexWriter(index_path(), create=True)
            self._writer.upsert(new, new=True)
            self._writer.upsert(changed)
            if self._writer.pending >= COMMIT_EVERY:
                self.commit()
        except BaseException:
            # The lake has this batch and the index may hold part of it: committing now
            # would record a lake version the index does not fully reflect. Left at its
            # last commit, the index is caught up by the next import (files since then).
            self._failed = True
            raise

    def commit(self) -> None:
        if self._writer is None:
            return
        lake_id, version = _lake_identity()
        self._writer.commit(lake_id, version)

    @property
    def written(self) -> int:
        return self._writer.written if self._writer is not None else 0

    def close(self) -> None:
        """Commit what was written (it is in the lake either way) and release the index."""
        try:
            if (
                not self._failed
                and self._writer is not None
                and (self._writer.pending or read_state(index_path()) is None)
            ):
                self.commit()
        finally:
            try:
                if self._writer is not None:
                    self._writer.close()
            finally:
                self._writer = None
                if self._lock is not None:
                    self._lock.release()
                    self._lock = None
