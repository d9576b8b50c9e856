"""Import the public Podcast Index SQLite dump (``podcastindex_feeds.db``).

The dump (https://public.podcastindex.org/podcastindex_feeds.db.tgz, updated daily, about
4 million rows) has one table, ``podcasts``, one row per feed (see :data:`DUMP_COLUMNS`).
Dates are unix seconds; ``itunesId`` is an integer, an empty string or stray text; any
column may be NULL.

Where the rows go:

- **The lake**, all of them: Delta table ``lake/podcastindex_feeds`` holds the dump's
  columns as the dump names them (:data:`LAKE_SCHEMA`), one row per feed id, plus the
  derived strong keys ``feed_key`` (:func:`~podsight.sources.keys.normalise_feed_url` of
  ``url``), ``guid_key`` and ``itunes_key``, a ``row_hash`` of the content, and
  ``first_imported_at``/``imported_at``. Millions of feeds nobody follows are bulk data,
  not catalog rows; DuckDB joins them by key when matching needs them.
- **The catalog**, only the feeds that concern it: a row that shares a strong key
  (podcast:guid, Podcast Index id, iTunes id or normalised feed URL, in that order) with
  a source record already in a canonical channel becomes (or refreshes) a
  :class:`~podsight.sources.models.SourceChannel` (``source="podcastindex"``,
  ``external_id`` = the feed id) with the API normaliser's field names
  (:func:`row_data`), its ``SourceKey`` rows, and a link to that channel
  (``link_method="key"``, confidence 1.0, an explanation such as ``shares feed URL
  example.com/feed with rss:https://example.com/feed``). Podcast Index records the
  catalog already holds (from the API) are refreshed from the dump when it differs.

How it runs, in three threads so both cores work: one reads the dump in ``id`` order
in batches (ADBC's SQLite driver, straight into Arrow); this one derives keys and hashes
with Arrow and DuckDB kernels, compares each row's hash with the lake's, and writes the
catalog's few rows through Django; one writes the lake (a plain append for new rows, a
delta-rs merge on the feed id when rows changed). Memory is bounded by the batch size.

- **Re-import** never duplicates: unchanged rows are not written at all, changed rows
  replace the old ones (Delta keeps the old versions: ``DeltaTable.history``), new rows
  are appended. Rows that disappear from a later dump stay as they were.
- **Resumable**: after each batch is in both stores, the last imported id is written to a
  checkpoint under ``$PODSIGHT_HOME/state/`` keyed by the dump's resolved path, size and
  mtime; ``resume=True`` continues after it. A crash between the stores and the
  checkpoint only means that batch is read again and found unchanged. A finished import
  removes its checkpoint.

Rows without a positive id or a usable feed URL are skipped and counted with the reason.
Integer columns holding stray text read as 0 (SQLite's ``CAST``); ``itunesId`` is kept
as text, as the dump has it.
"""

from __future__ import annotations

import bisect
import hashlib
import json
import logging
import os
import queue
import random
import sqlite3
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from podsight import conf, lake
from podsight.errors import InputError
from podsight.sources.keys import KEY_LABELS, KEY_ORDER, channel_keys, normalise_feed_urls
from podsight.sources.podcastindex.normalize import SOURCE, itunes_id_of
from podsight.sources.text import as_int, html_to_text, normalise_language, sanitize_html

# Dump descriptions are all different: skip the lru_cache (hashing, eviction, memory).
_sanitize_html = getattr(sanitize_html, "__wrapped__", sanitize_html)
_html_to_text = getattr(html_to_text, "__wrapped__", html_to_text)

__all__ = [
    "DUMP_COLUMNS",
    "DUMP_SCHEMA",
    "LAKE_SCHEMA",
    "LAKE_TABLE",
    "DumpFormatError",
    "DumpImportReport",
    "checkpoint_path",
    "import_dump",
    "prepare_row",
    "row_data",
    "write_sample_dump",
]

log = logging.getLogger(__name__)


log = logging.getLogger(__name__)

# The ``podcasts`` table of the public dump, in column order, with declared types.
DUMP_COLUMNS: tuple[tuple[str, str], ...] = (
    ("id", "INTEGER"),
    ("url", "TEXT"),
    ("title", "TEXT"),
    ("lastUpdate", "INTEGER"),
    ("link", "TEXT"),
    ("lastHttpStatus", "INTEGER"),
    ("dead", "INTEGER"),
    ("contentType", "TEXT"),
    ("itunesId", "INTEGER"),
    ("originalUrl", "TEXT"),
    ("itunesAuthor", "TEXT"),
    ("itunesOwnerName", "TEXT"),
    ("explicit", "INTEGER"),
    ("imageUrl", "TEXT"),
    ("itunesType", "TEXT"),
    ("generator", "TEXT"),
    ("newestItemPubdate", "INTEGER"),
    ("language", "TEXT"),
    ("oldestItemPubdate", "INTEGER"),
    ("episodeCount", "INTEGER"),
    ("popularityScore", "INTEGER"),
    ("priority", "INTEGER"),
    ("createdOn", "INTEGER"),
    ("updateFrequency", "INTEGER"),
    ("chash", "TEXT"),
    ("host", "TEXT"),
    ("newestEnclosureUrl", "TEXT"),
    ("podcastGuid", "TEXT"),
    ("description", "TEXT"),
    *((f"category{i}", "TEXT") for i in range(1, 11)),
    ("newestEnclosureDuration", "INTEGER"),
)
# Same columns, order and declared types as the public dump; constraints are left out so
# generated samples can hold NULLs anywhere, as the importer must tolerate.
DUMP_SCHEMA = (
    "CREATE TABLE podcasts (\n"
    + ",\n".join(
        f"  {name} {kind}{' PRIMARY KEY' if name == 'id' else ''}" for name, kind in DUMP_COLUMNS
    )
    + "\n)"
)
# Columns read. Crawler bookkeeping that changes without the feed changing (lastUpdate,
# priority, updateFrequency, chash) and host (part of the URL) are not.
_READ = (
    "id url title link lastHttpStatus dead contentType itunesId originalUrl itunesAuthor "
    "itunesOwnerName explicit imageUrl itunesType generator newestItemPubdate language "
    "oldestItemPubdate episodeCount popularityScore createdOn newestEnclosureUrl podcastGuid "
    "description category1 category2 category3 category4 category5 category6 category7 "
    "category8 category9 category10 newestEnclosureDuration"
).split()
CHECKPOINT_PREFIX = "podcastindex-dump-"
# Up to this many keys of already-linked records are held in memory for linking; past it
# each batch asks the database instead.
PRELOAD_KEYS = 300_000
_MAX_EXAMPLES = 20


class DumpFormatError(InputError, ValueError):
    """The file is not a Podcast Index dump (no ``podcasts`` table or columns missing)."""


# --- row normalisation (the catalog's rows) ---------------------------------------------

_LANGUAGES: dict[str, str | None] = {}
_DAYS: dict[int, str] = {}
_EPOCH_DAY = date(1970, 1, 1)
_MAX_EPOCH = 32503680000  # year 3000: past it a "date" is garbage


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if value.__class__ is not str:
        if isinstance(value, bytes):
            value = value.decode("utf-8", "replace")
        elif isinstance(value, (int, float)):
            value = str(value)
        else:
            return None
    value = value.strip()
    return value or None


def _iso(value: Any) -> str | None:
    """Unix seconds → ``2019-01-02T03:30:13+00:00`` (as ``normalize.epoch_iso``), fast."""
    if value.__class__ is not int:
        value = as_int(value)
        if value is None:
            return None
    if value <= 0 or value > _MAX_EPOCH:
        return None
    days, seconds = divmod(value, 86400)
    day = _DAYS.get(days)
    if day is None:
        day = _DAYS[days] = (_EPOCH_DAY + timedelta(days=days)).isoformat()
    hours, seconds = divmod(seconds, 3600)
    minutes, seconds = divmod(seconds, 60)
    return f"{day}T{hours:02d}:{minutes:02d}:{seconds:02d}+00:00"


def _language(value: Any) -> str | None:
    if value is None:
        return None
    try:
        return _LANGUAGES[value]
    except (KeyError, TypeError):
        pass
    text = _text(value)
    result = normalise_language(text) if text else None
    if len(_LANGUAGES) < 10_000 and isinstance(value, str):
        _LANGUAGES[value] = result
    return result


def _int(value: Any) -> int | None:
    if value.__class__ is int or value is None:
        return value
    return as_int(value)


def _positive(value: Any) -> int | None:
    if value.__class__ is int:
        return value if value > 0 else None
    number = as_int(value)
    return number if number is not None and number > 0 else None


def _flag(value: Any) -> bool | None:
    number = _int(value)
    return None if number is None else number != 0


def row_data(row: Sequence[Any]) -> dict[str, Any]:
    """The normalised ``data`` of one dump row (columns in :data:`_READ` order).

    Field names are the API normaliser's; absent, NULL and empty values are left out.
    """
    # Strip every text value once (empty → None); odd types (bytes, numbers in text
    # columns) are fixed by _text where a text is expected. The hot loop of the import.
    (
        feed_id,
        url,
        title,
        link,
        http_status,
        dead,
        content_type,
        itunes_id,
        original_url,
        author,
        owner_name,
        explicit,
        image_url,
        itunes_type,
        generator,
        newest,
        language,
        oldest,
        episode_count,
        popularity,
        created_on,
        newest_enclosure_url,
        podcast_guid,
        description,
        *rest,
    ) = [(v.strip() or None) if v.__class__ is str else v for v in row]
    newest_duration = rest[10]
    categories = [
        [name]
        for name in dict.fromkeys(
            c if c.__class__ is str else _text(c) for c in rest[:10] if c is not None
        )
        if name
    ] or None
    if url.__class__ is not str:
        url = _text(url)
    if original_url.__class__ is not str:
        original_url = _text(original_url)
    if description.__class__ is not str:
        description = _text(description)
    if description:
        # Plain text needs no sanitiser (sanitize_html would return it unchanged).
        html = _sanitize_html(description) if "<" in description else description
        text = _html_to_text(description)
    else:
        html = text = None
    if itunes_type.__class__ is not str:
        itunes_type = _text(itunes_type)
    data = {
        "title": title if title.__class__ is str else _text(title),
        "description_html": html,
        "description_text": text,
        "link": link if link.__class__ is str else _text(link),
        "language": _language(language),
        "author": author if author.__class__ is str else _text(author),
        "owner_name": owner_name if owner_name.__class__ is str else _text(owner_name),
        "image_url": image_url if image_url.__class__ is str else _text(image_url),
        "explicit": None if explicit is None else _flag(explicit),
        "itunes_type": itunes_type.lower() if itunes_type else None,
        "categories": categories,
        "podcast_guid": podcast_guid if podcast_guid.__class__ is str else _text(podcast_guid),
        "feed_url": url,
        "original_url": original_url if original_url != url else None,
        "itunes_id": itunes_id_of(itunes_id),
        "podcastindex_id": _positive(feed_id),
        "episode_count": _int(episode_count),
        "dead": None if dead is None else _flag(dead),
        "last_http_status": _positive(http_status),
        "content_type": content_type if content_type.__class__ is str else _text(content_type),
        "generator": generator if generator.__class__ is str else _text(generator),
        "newest_item_published_at": _iso(newest),
        "oldest_item_published_at": _iso(oldest),
        "podcastindex_created_at": _iso(created_on),
        "popularity_score": _int(popularity),
        "newest_enclosure_url": newest_enclosure_url
        if newest_enclosure_url.__class__ is str
        else _text(newest_enclosure_url),
        "newest_enclosure_duration_s": _positive(newest_duration),
    }
    return {k: v for k, v in data.items() if v is not None}


class _BadRow(ValueError):
    """A row that cannot become a record (the message is the reason)."""


# (external_id, url, data JSON, content hash, keys) of one row ready to store.
Prepared = tuple[str, str, str, str, tuple[tuple[str, str], ...]]


def prepare_row(row: Sequence[Any]) -> Prepared:
    """One dump row → what the writer stores; raises ``ValueError`` naming a bad row."""
    feed_id = _positive(row[0])
    if feed_id is None:
        raise _BadRow("id is not a positive integer")
    data = row_data(row)
    external_id = str(feed_id)
    keys = channel_keys(SOURCE, external_id, data)
    if not any(kind == "feed_url" for kind, _ in keys):
        raise _BadRow("no usable feed URL")
    # Serialised once, exactly as content_hash() does, and stored as it is.
    blob = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    digest = hashlib.sha256(blob.encode()).hexdigest()
    return (
        external_id,
        data.get("link") or data["feed_url"],
        blob,
        digest,
        tuple(sorted(keys)),
    )


@dataclass
class _Batch:
    first_id: int
    last_id: int
    rows: list[Prepared]
    bad: list[tuple[Any, str]]

    @property
    def read(self) -> int:
        return len(self.rows) + len(self.bad)


def _dump_uri(path: Path) -> str:
    return path.resolve().as_uri() + "?mode=ro"


def _open_dump(path: Path) -> sqlite3.Connection:
    try:
        source = sqlite3.connect(_dump_uri(path), uri=True)
        info = {r[1]: r for r in source.execute("PRAGMA table_info(podcasts)")}
        columns = set(info)
    except sqlite3.DatabaseError as exc:
        raise DumpFormatError(f"{path} is not a readable SQLite database ({exc})") from exc
    if not columns:
        source.close()
        raise DumpFormatError(f"{path} has no 'podcasts' table: not a Podcast Index dump")
    missing = [c for c in _READ if c not in columns]
    if missing:
        source.close()
        raise DumpFormatError(
            f"{path}: table 'podcasts' lacks column(s) {', '.join(missing)}; "
            "not the Podcast Index dump layout"
        )
    if not info["id"][5] or str(info["id"][2]).upper() != "INTEGER":
        source.close()  # rows are paged by id: it must be the table's integer key
        raise DumpFormatError(f"{path}: podcasts.id is not the INTEGER PRIMARY KEY")
    return source


def _prepare_rows(rows: list[Sequence[Any]]) -> _Batch:
    prepared: list[Prepared] = []
    bad: list[tuple[Any, str]] = []
    for row in rows:
        try:
            prepared.append(prepare_row(row))
        except _BadRow as exc:
            bad.append((row[0], str(exc)))
        except Exception as exc:  # one odd row must not stop a 4-million-row import
            bad.append((row[0], f"unreadable row ({type(exc).__name__}: {exc})"))
    return _Batch(rows[0][0], rows[-1][0], prepared, bad)


# --- reading and deriving (Arrow) -----------------------------------------------------

LAKE_TABLE = "podcastindex_feeds"
_TIMESTAMP = pa.timestamp("us", tz="UTC")
_KINDS = dict(DUMP_COLUMNS)
# itunesId is declared INTEGER but holds "" and stray text in the real dump: kept as text.
_TEXT_COLUMNS = frozenset(c for c in _READ if _KINDS[c] == "TEXT") | {"itunesId"}
_DUMP_FIELDS = [pa.field(c, pa.string() if c in _TEXT_COLUMNS else pa.int64()) for c in _READ]
LAKE_SCHEMA = pa.schema(
    [
        *_DUMP_FIELDS,
        pa.field("feed_key", pa.string()),  # normalise_feed_url(url)
        pa.field("guid_key", pa.string()),  # podcastGuid, stripped and lower-cased
        pa.field("itunes_key", pa.int64()),  # itunesId when it is a positive integer
        pa.field("row_hash", pa.int64()),  # 63 bits of md5 of the dump's columns: changes
        pa.field("first_imported_at", _TIMESTAMP),
        pa.field("imported_at", _TIMESTAMP),  # when this content was last written
    ]
)
_READ_SCHEMA = pa.schema(_DUMP_FIELDS)
# Every column is CAST so each value has the column's type whatever SQLite stored (ADBC
# infers a column's type from its values). `id` is left bare: it is the rowid, so the
# ORDER BY walks the table's b-tree instead of sorting.
_SELECT = (
    "SELECT "
    + ", ".join(
        c if c == "id" else f"CAST({c} AS {'TEXT' if c in _TEXT_COLUMNS else 'INTEGER'}) AS {c}"
        for c in _READ
    )
    + " FROM podcasts WHERE id > ? ORDER BY id LIMIT ?"
)
# md5 of every column but the id (NULL distinct from "", columns separated), cut to 63
# bits so it fits Delta's signed long: 8 bytes a row in memory for the comparison index.
_ROW_HASH = (
    "CAST(md5_number_lower(concat_ws(chr(31), "
    + ", ".join(f"coalesce(CAST({c} AS VARCHAR), chr(30))" for c in _READ if c != "id")
    + ")) >> 1 AS BIGINT)"
)
_NO_STRING = pa.scalar(None, pa.string())


def _read_arrow(path: Path, after_id: int, batch_size: int) -> Iterator[pa.Table]:
    """Batches of dump rows with ``id > after_id`` in id order, typed as _READ_SCHEMA."""
    import adbc_driver_sqlite.dbapi as adbc

    connection = adbc.connect(_dump_uri(path))
    try:
        cursor = connection.cursor()
        try:
            # One query per batch: type inference then sees only that batch, and a column
            # that is all NULL in it comes back as int64 nulls, which the cast below fixes.
            cursor.adbc_statement.set_options(**{"adbc.sqlite.query.batch_rows": str(batch_size)})
            while True:
                cursor.execute(_SELECT, (after_id, batch_size))
                table = cursor.fetch_arrow_table()
                if table.num_rows == 0:
                    return
                table = table.cast(_READ_SCHEMA)
                after_id = table.column("id")[-1].as_py()
                yield table
        finally:
            cursor.close()
    finally:
        connection.close()


def _derive(table: pa.Table, duck: Any, now: datetime) -> tuple[pa.Table, pa.Table]:
    """(rows to keep with their keys and hash, skipped rows' ids and reasons)."""
    ids = table.column("id")
    feed_key = normalise_feed_urls(table.column("url"))
    bad_id = pc.invert(pc.fill_null(pc.greater(ids, 0), False))
    no_url = pc.is_null(feed_key)
    skipped = pc.or_(bad_id, no_url)
    reasons = pc.if_else(bad_id, "id is not a positive integer", "no usable feed URL")
    skips = pa.table({"id": ids, "reason": reasons}).filter(skipped)

    guid = pc.utf8_lower(pc.utf8_trim_whitespace(table.column("podcastGuid")))
    guid = pc.if_else(pc.equal(guid, ""), _NO_STRING, guid)
    itunes = pc.utf8_trim_whitespace(table.column("itunesId"))
    numeric = pc.fill_null(pc.match_substring_regex(itunes, r"^[0-9]{1,18}$"), False)
    itunes_key = pc.cast(pc.if_else(numeric, itunes, _NO_STRING), pa.int64())
    itunes_key = pc.if_else(pc.greater(itunes_key, 0), itunes_key, pa.scalar(None, pa.int64()))
    derived = table.append_column("feed_key", feed_key)
    derived = derived.append_column("guid_key", guid).append_column("itunes_key", itunes_key)
    derived = derived.filter(pc.invert(skipped))
    duck.register("batch", derived)
    try:
        hashes = duck.sql(f"SELECT {_ROW_HASH} AS row_hash FROM batch").to_arrow_table()
    finally:
        duck.unregister("batch")
    stamp = pa.repeat(pa.scalar(now, _TIMESTAMP), derived.num_rows)
    derived = derived.append_column("row_hash", hashes.column(0))
    derived = derived.append_column("first_imported_at", stamp).append_column("imported_at", stamp)
    return derived.cast(LAKE_SCHEMA), skips


class _LakeIndex:
    """Feed id → row hash of what the lake holds, sorted, for vectorised comparison."""

    def __init__(self) -> None:
        self.ids = pa.array([], pa.int64())
        self.hashes = pa.array([], pa.int64())
        if lake.exists(LAKE_TABLE):
            known = lake.query("SELECT id, row_hash FROM feeds ORDER BY id", feeds=LAKE_TABLE)
            self.ids = known.column("id").combine_chunks()
            self.hashes = known.column("row_hash").combine_chunks()

    def split(self, rows: pa.Table) -> tuple[pa.Table, pa.Table, int]:
        """(new rows, changed rows, number unchanged) of a batch of rows sorted by id."""
        if rows.num_rows == 0 or len(self.ids) == 0:
            return rows, rows.slice(0, 0), 0
        ids = rows.column("id")
        # Only the index's slice within the batch's id range can match.
        start = bisect.bisect_left(_Ints(self.ids), ids[0].as_py())
        stop = bisect.bisect_right(_Ints(self.ids), ids[-1].as_py())
        at = pc.index_in(ids, value_set=self.ids.slice(start, stop - start))
        present = pc.is_valid(at)
        old = pc.take(self.hashes.slice(start, stop - start), at)
        same = pc.fill_null(pc.equal(old, rows.column("row_hash")), False)
        new = rows.filter(pc.invert(present))
        changed = rows.filter(pc.and_(present, pc.invert(same)))
        return new, changed, pc.sum(same).as_py() or 0


class _Ints:
    """Sequence view of an Arrow int array, for bisect."""

    def __init__(self, values: pa.Array) -> None:
        self.values = values

    def __len__(self) -> int:
        return len(self.values)

    def __getitem__(self, position: int) -> int:
        return self.values[position].as_py()


def _write_lake(new: pa.Table, changed: pa.Table) -> None:
    """Append new rows; merge changed ones by id, keeping their first_imported_at."""
    from deltalake import DeltaTable, write_deltalake

    path = lake.table_path(LAKE_TABLE)
    if new.num_rows and not changed.num_rows:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_deltalake(str(path), new, mode="append")
        return
    rows = pa.concat_tables([new, changed]) if new.num_rows else changed
    if not rows.num_rows:
        return
    updates = {name: f"s.{name}" for name in LAKE_SCHEMA.names if name != "first_imported_at"}
    ids = rows.column("id")
    # The literal id range lets delta-rs skip every file outside it (files are written in
    # id order, so a batch touches one or two); without it each merge reads the table.
    low, high = pc.min(ids).as_py(), pc.max(ids).as_py()
    predicate = f"t.id >= {low} AND t.id <= {high} AND t.id = s.id"
    (
        DeltaTable(str(path))
        .merge(rows, predicate=predicate, source_alias="s", target_alias="t")
        .when_matched_update(updates)
        .when_not_matched_insert_all()
        .execute()
    )


# --- the pipeline's threads -----------------------------------------------------------

_DONE = object()


class _Prefetch:
    """Runs an iterator in a thread, one item ahead (native readers release the GIL)."""

    def __init__(self, items: Iterator[Any]) -> None:
        self._items = items
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=1)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="dump-reader", daemon=True)
        self._thread.start()

    def _put(self, item: Any) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.2)
                return True
            except queue.Full:
                continue
        return False

    def _run(self) -> None:
        try:
            for item in self._items:
                if not self._put(item):
                    return
            self._put(_DONE)
        except BaseException as exc:  # handed to the consumer, raised there
            self._put(exc)
        finally:
            close = getattr(self._items, "close", None)
            if close is not None:
                close()

    def __iter__(self) -> Iterator[Any]:
        while True:
            item = self._queue.get()
            if item is _DONE:
                return
            if isinstance(item, BaseException):
                raise item
            yield item

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)


class _LakeWriter:
    """Writes batches to the lake in a thread; records progress once a batch is stored.

    ``on_written(new, changed)`` runs after each lake write, before ``on_stored``: the
    directory index takes the rows there, so a checkpoint never runs ahead of it.
    """

    def __init__(self, on_stored: Any, on_written: Any) -> None:
        self._on_stored = on_stored
        self._on_written = on_written
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=1)
        self.error: BaseException | None = None
        self._what = "writing the lake table"
        self._thread = threading.Thread(target=self._run, name="dump-lake-writer", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is _DONE:
                return
            if self.error is not None:
                continue  # after a failure nothing later may be recorded as stored
            new, changed, last_id = item
            try:
                _write_lake(new, changed)
            except BaseException as exc:
                self.error = exc
                continue
            try:
                self._on_written(new, changed)
            except BaseException as exc:
                self.error, self._what = exc, "updating the directory index"
                continue
            try:
                self._on_stored(last_id)
            except BaseException as exc:
                self.error, self._what = exc, "recording the import's progress"

    def put(self, new: pa.Table, changed: pa.Table, last_id: int) -> None:
        self._raise()
        self._queue.put((new, changed, last_id))

    def finish(self) -> None:
        """Wait until every batch handed over is stored; raise the writer's error."""
        self._queue.put(_DONE)
        self._thread.join()
        self._raise()

    def _raise(self) -> None:
        if self.error is not None:
            raise RuntimeError(f"{self._what} failed: {self.error}") from self.error


# --- checkpoints ----------------------------------------------------------------------


def _identity(path: Path) -> tuple[str, int, int]:
    resolved = path.resolve()
    stat = resolved.stat()
    return str(resolved), stat.st_size, stat.st_mtime_ns


def checkpoint_path(path: Path) -> Path:
    """Where the import of this dump file (path + size + mtime) keeps its progress."""
    resolved, size, mtime = _identity(path)
    digest = hashlib.sha1(f"{resolved}|{size}|{mtime}".encode()).hexdigest()[:16]
    return conf.podsight_home() / "state" / f"{CHECKPOINT_PREFIX}{digest}.json"


def _read_checkpoint(target: Path, path: Path) -> int | None:
    try:
        state = json.loads(target.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    resolved, size, mtime = _identity(path)
    if (state.get("dump"), state.get("size"), state.get("mtime_ns")) != (resolved, size, mtime):
        return None
    last = state.get("last_id")
    return last if isinstance(last, int) else None


def _write_checkpoint(target: Path, path: Path, last_id: int, report: DumpImportReport) -> None:
    resolved, size, mtime = _identity(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    state = {
        "dump": resolved,
        "size": size,
        "mtime_ns": mtime,
        "last_id": last_id,
        "updated_at": datetime.now(UTC).isoformat(),
        "run": report.counts(),
    }
    scratch = target.with_suffix(".tmp")
    scratch.write_text(json.dumps(state, indent=1), encoding="utf-8")
    os.replace(scratch, target)


def _forget_other_versions(path: Path, keep: Path) -> None:
    """Checkpoints of older versions of the same dump file can never resume: drop them."""
    resolved = str(path.resolve())
    for candidate in keep.parent.glob(f"{CHECKPOINT_PREFIX}*.json"):
        if candidate == keep:
            continue
        try:
            if json.loads(candidate.read_text(encoding="utf-8")).get("dump") == resolved:
                candidate.unlink()
        except (OSError, ValueError):
            continue


# --- report ---------------------------------------------------------------------------


@dataclass
class DumpImportReport:
    """What one ``import_dump`` run did (a resumed run counts only its own rows).

    ``new``/``updated``/``unchanged`` count rows of the lake table; ``linked`` counts
    rows that joined a canonical channel this run and ``refreshed`` catalog records
    rewritten because their dump row changed.
    """

    path: str
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    linked: int = 0
    refreshed: int = 0
    skipped: int = 0
    skip_reasons: Counter = field(default_factory=Counter)
    skipped_examples: list[tuple[Any, str]] = field(default_factory=list)
    rows_read: int = 0
    batches: int = 0
    resumed_from: int | None = None
    last_id: int | None = None
    finished: bool = False
    elapsed_s: float = 0.0
    indexed: int = 0  # rows (re)indexed in the directory index during the batches
    index_action: str = ""  # what the index did before the batches (IndexSync.action)

    @property
    def rows_per_s(self) -> float:
        return self.rows_read / self.elapsed_s if self.elapsed_s > 0 else 0.0

    def counts(self) -> dict[str, int]:
        return {
            "new": self.new,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "linked": self.linked,
            "refreshed": self.refreshed,
            "skipped": self.skipped,
            "rows_read": self.rows_read,
        }

    def __str__(self) -> str:
        lines = [
            f"Podcast Index dump {self.path}: "
            + ("finished" if self.finished else f"stopped after id {self.last_id}"),
            f"  rows read {self.rows_read:,} in {self.elapsed_s:.1f} s "
            f"({self.rows_per_s:,.0f} rows/s)"
            + (f", resumed after id {self.resumed_from}" if self.resumed_from else ""),
            f"  lake table {LAKE_TABLE}: new {self.new:,} · updated {self.updated:,} · "
            f"unchanged {self.unchanged:,} · skipped {self.skipped:,}",
            f"  catalog: linked to a channel {self.linked:,} · refreshed {self.refreshed:,}",
            f"  directory index: {self.indexed:,} rows indexed"
            + (
                f" (index {self.index_action} before the import)"
                if self.index_action in ("rebuilt", "caught_up")
                else ""
            ),
        ]
        for reason, count in self.skip_reasons.most_common():
            lines.append(f"  skipped {count:,}: {reason}")
        return "\n".join(lines)


# --- writing the catalog (Django) -----------------------------------------------------

# Lake column holding each key kind's value (as channel_keys spells it, once cast to text).
_KEY_COLUMNS = {
    "podcast_guid": "guid_key",
    "podcastindex_id": "id",
    "itunes_id": "itunes_key",
    "feed_url": "feed_key",
}


class _Linker:
    """Finds, for a row's keys, a record that already has a canonical channel."""

    def __init__(self, connection: Any) -> None:
        self.connection = connection
        self.preloaded: dict[tuple[str, str], tuple[int | None, str, str, int]] | None = None
        self.survivors: dict[int, int | None] = {}
        self.known_ids: pa.Array | None = None  # podcastindex records the catalog holds
        self._values: dict[str, pa.Array] = {}
        self._values_size = -1
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM sources_sourcekey k JOIN sources_sourcechannel r "
                "ON r.id = k.record_id WHERE r.channel_id IS NOT NULL"
            )
            count = cursor.fetchone()[0]
            cursor.execute("SELECT count(*) FROM sources_sourcechannel WHERE source = %s", [SOURCE])
            known = cursor.fetchone()[0]
        if count <= PRELOAD_KEYS:
            self.preloaded = {}
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT k.kind, k.value, r.id, r.source, r.external_id, r.channel_id "
                    "FROM sources_sourcekey k JOIN sources_sourcechannel r "
                    "ON r.id = k.record_id WHERE r.channel_id IS NOT NULL ORDER BY r.id"
                )
                for kind, value, record_id, source, external_id, channel_id in cursor:
                    self.preloaded.setdefault(
                        (kind, value), (record_id, source, external_id, channel_id)
                    )
        if known <= PRELOAD_KEYS:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT external_id FROM sources_sourcechannel WHERE source = %s", [SOURCE]
                )
                self.known_ids = pa.array([row[0] for row in cursor], pa.string())

    @staticmethod
    def _values_by_kind(found: dict[tuple[str, str], Any]) -> dict[str, pa.Array]:
        values: dict[str, list[str]] = {kind: [] for kind in _KEY_COLUMNS}
        for kind, value in found:
            if kind in values:
                values[kind].append(value)
        return {kind: pa.array(v, pa.string()) for kind, v in values.items()}

    def candidates(self, rows: pa.Table, writer: _Writer) -> pa.Array:
        """Rows the catalog cares about: sharing a key with a linked record, or known."""
        columns = {
            kind: pc.cast(rows.column(column), pa.string()) for kind, column in _KEY_COLUMNS.items()
        }
        if self.preloaded is not None:
            if len(self.preloaded) != self._values_size:  # links made since: their keys too
                self._values = self._values_by_kind(self.preloaded)
                self._values_size = len(self.preloaded)
            values = self._values
        else:
            wanted = {
                (kind, value)
                for kind, column in columns.items()
                for value in column.to_pylist()
                if value
            }
            values = self._values_by_kind(self.batch_map(wanted))
        mask = pa.array([False] * rows.num_rows)
        for kind, column in columns.items():
            if len(values[kind]):
                hit = pc.fill_null(pc.is_in(column, value_set=values[kind]), False)
                mask = pc.or_(mask, hit)
        ids = columns["podcastindex_id"]
        known = self.known_ids
        if known is None:
            known = pa.array(list(writer.existing(ids.to_pylist())), pa.string())
        if len(known):
            mask = pc.or_(mask, pc.is_in(ids, value_set=known))
        return mask

    def batch_map(
        self, wanted: set[tuple[str, str]]
    ) -> dict[tuple[str, str], tuple[int | None, str, str, int]]:
        if self.preloaded is not None:
            return self.preloaded
        found: dict[tuple[str, str], tuple[int | None, str, str, int]] = {}
        by_kind: dict[str, list[str]] = {}
        for kind, value in wanted:
            by_kind.setdefault(kind, []).append(value)
        with self.connection.cursor() as cursor:
            for kind, values in by_kind.items():
                cursor.execute(
                    "SELECT k.value, r.id, r.source, r.external_id, r.channel_id "
                    "FROM sources_sourcekey k JOIN sources_sourcechannel r "
                    f"ON r.id = k.record_id WHERE k.kind = %s AND k.value {_in(self.connection)} "
                    "AND r.channel_id IS NOT NULL ORDER BY r.id",
                    [kind, _in_param(self.connection, values)],
                )
                for value, record_id, source, external_id, channel_id in cursor.fetchall():
                    found.setdefault((kind, value), (record_id, source, external_id, channel_id))
        return found

    def survivor(self, channel_id: int) -> int | None:
        """The channel a merged-away channel now lives on."""
        if channel_id in self.survivors:
            return self.survivors[channel_id]
        from podsight.catalog.models import Channel

        seen: set[int] = set()
        current: int | None = channel_id
        while current is not None and current not in seen:
            seen.add(current)
            rows = list(Channel.objects.filter(pk=current).values_list("merged_into_id", flat=True))
            if not rows:  # deleted meanwhile: nothing to join
                current = None
            elif rows[0] is None:
                break
            else:
                current = rows[0]
        self.survivors[channel_id] = current
        return current


def _in(connection: Any) -> str:
    if connection.vendor == "sqlite":
        return "IN (SELECT value FROM json_each(%s))"
    return "= ANY(%s)"


def _in_param(connection: Any, values: list[str]) -> Any:
    return json.dumps(values) if connection.vendor == "sqlite" else list(values)


class _Writer:
    def __init__(self, connection: Any, now: datetime) -> None:
        self.connection = connection
        self.vendor = connection.vendor
        self.now = connection.ops.adapt_datetimefield_value(now)
        data = "CAST(%s AS jsonb)" if self.vendor == "postgresql" else "%s"
        self.insert_sql = (
            "INSERT INTO sources_sourcechannel (source, external_id, url, data, content_hash, "
            "fetched_at, first_seen_at, link_method, link_confidence, link_explanation, "
            f"linked_at, channel_id) VALUES (%s, %s, %s, {data}, %s, %s, %s, %s, %s, %s, %s, %s) "
            "ON CONFLICT (source, external_id) DO UPDATE SET url = excluded.url, "
            "data = excluded.data, content_hash = excluded.content_hash, "
            "fetched_at = excluded.fetched_at, vanished_at = NULL"
        )
        self.update_sql = (
            f"UPDATE sources_sourcechannel SET url = %s, data = {data}, content_hash = %s, "
            "fetched_at = %s, vanished_at = NULL WHERE id = %s"
        )
        self.link_sql = (
            "UPDATE sources_sourcechannel SET channel_id = %s, link_method = %s, "
            "link_confidence = %s, link_explanation = %s, linked_at = %s "
            "WHERE id = %s AND channel_id IS NULL"
        )
        self.key_sql = (
            "INSERT INTO sources_sourcekey (kind, value, record_id) VALUES (%s, %s, %s) "
            "ON CONFLICT DO NOTHING"
        )

    def executemany(self, sql: str, rows: list[Sequence[Any]]) -> None:
        if not rows:
            return
        if self.vendor == "sqlite":
            # The DB-API connection directly: Django's wrapper costs ~2 µs a row here.
            self.connection.connection.executemany(sql.replace("%s", "?"), rows)
        else:
            with self.connection.cursor() as cursor:
                cursor.executemany(sql, rows)

    def fetch(self, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        with self.connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()

    def existing(self, external_ids: list[str]) -> dict[str, tuple[int, str, int | None, bool]]:
        if not external_ids:
            return {}
        rows = self.fetch(
            "SELECT external_id, id, content_hash, channel_id, vanished_at "
            f"FROM sources_sourcechannel WHERE source = %s AND external_id {_in(self.connection)}",
            [SOURCE, _in_param(self.connection, external_ids)],
        )
        return {row[0]: (row[1], row[2], row[3], row[4] is not None) for row in rows}

    def ids_of(self, external_ids: list[str]) -> dict[str, int]:
        if not external_ids:
            return {}
        rows = self.fetch(
            "SELECT external_id, id FROM sources_sourcechannel "
            f"WHERE source = %s AND external_id {_in(self.connection)}",
            [SOURCE, _in_param(self.connection, external_ids)],
        )
        return dict(rows)

    def delete_keys(self, record_ids: list[int]) -> None:
        if not record_ids:
            return
        with self.connection.cursor() as cursor:
            if self.vendor == "sqlite":
                cursor.execute(
                    "DELETE FROM sources_sourcekey WHERE record_id IN "
                    "(SELECT value FROM json_each(%s))",
                    [json.dumps(record_ids)],
                )
            else:
                cursor.execute(
                    "DELETE FROM sources_sourcekey WHERE record_id = ANY(%s)", [record_ids]
                )


def _store_batch(
    batch: _Batch, writer: _Writer, linker: _Linker, report: DumpImportReport
) -> set[int]:
    """Write the catalog's rows of one batch (inside the caller's transaction).

    Rows the catalog holds are refreshed when their content changed; unlinked ones and
    new rows are linked when they share a key with a linked record; new rows that link
    to nothing are not written (they are in the lake). Returns the channels touched.
    """
    existing = writer.existing([row[0] for row in batch.rows])
    new_rows: list[Prepared] = []
    changed: list[tuple[Prepared, int]] = []
    unlinked: dict[str, int | None] = {}  # external id → record id (None: new)
    for row in batch.rows:
        known = existing.get(row[0])
        if known is None:
            new_rows.append(row)
            unlinked[row[0]] = None
            continue
        pk, digest, channel_id, vanished = known
        if digest != row[3] or vanished:
            changed.append((row, pk))
        if channel_id is None:
            unlinked[row[0]] = pk

    links = _find_links(batch, unlinked, linker) if unlinked else {}
    new_rows = [row for row in new_rows if row[0] in links]
    touched_channels: set[int] = set()
    link_method, confidence, now = "key", 1.0, writer.now

    writer.executemany(
        writer.insert_sql,
        [
            (SOURCE, ext, url, blob, digest, now, now, *_link_fields(links.get(ext), now))
            for ext, url, blob, digest, _keys in new_rows
        ],
    )
    writer.executemany(
        writer.update_sql,
        [(url, blob, digest, now, pk) for (_e, url, blob, digest, _k), pk in changed],
    )
    linked_existing = [
        (channel, link_method, confidence, why, now, unlinked[ext])
        for ext, (channel, why) in links.items()
        if unlinked.get(ext) is not None
    ]
    writer.executemany(writer.link_sql, linked_existing)

    new_ids = writer.ids_of([row[0] for row in new_rows])
    writer.delete_keys([pk for _row, pk in changed])
    key_rows = [(k, v, new_ids[row[0]]) for row in new_rows for k, v in row[4]]
    key_rows += [(k, v, pk) for row, pk in changed for k, v in row[4]]
    writer.executemany(writer.key_sql, key_rows)

    touched_channels.update(channel for channel, _why in links.values())
    for row, _pk in changed:
        channel_id = existing[row[0]][2]
        if channel_id is not None:
            touched_channels.add(channel_id)

    report.linked += len(links)
    report.refreshed += len(changed)
    return touched_channels


def _link_fields(link: tuple[int, str] | None, now: Any) -> tuple[Any, ...]:
    if link is None:
        return ("", None, "", None, None)
    channel, why = link
    return ("key", 1.0, why, now, channel)


def _find_links(
    batch: _Batch, unlinked: dict[str, int | None], linker: _Linker
) -> dict[str, tuple[int, str]]:
    """External id → (channel id, explanation) for unlinked rows sharing a key."""
    candidates = [row for row in batch.rows if row[0] in unlinked]
    wanted = {key for row in candidates for key in row[4]}
    known = linker.batch_map(wanted)
    links: dict[str, tuple[int, str]] = {}
    for external_id, _url, _blob, _digest, keys in candidates:
        own = unlinked[external_id]
        for kind in KEY_ORDER:
            hit = None
            for key_kind, value in keys:
                if key_kind != kind:
                    continue
                found = known.get((kind, value))
                if found is None:
                    continue
                itself = (own is not None and found[0] == own) or (
                    found[1] == SOURCE and found[2] == external_id
                )
                if not itself:
                    hit = (value, found)
                    break
            if hit is None:
                continue
            value, (_record, source, other, channel_id) = hit
            channel = linker.survivor(channel_id)
            if channel is None:
                continue
            why = f"shares {KEY_LABELS[kind]} {value} with {source}:{other}"
            links[external_id] = (channel, why)
            # Later rows sharing a key with this one join the same channel.
            for key in keys:
                known.setdefault(key, (own, SOURCE, external_id, channel))
            break
    return links


def _refresh_channels(channel_ids: set[int]) -> None:
    if not channel_ids:
        return
    from podsight.catalog.models import Channel
    from podsight.catalog.services import apply_channel_values

    for channel in Channel.objects.filter(pk__in=channel_ids).prefetch_related("source_records"):
        apply_channel_values(channel, list(channel.source_records.all()))


def _store_catalog_rows(
    rows: pa.Table, writer: _Writer, linker: _Linker, report: DumpImportReport, transaction: Any
) -> None:
    """Write the rows of one batch the catalog cares about, one transaction."""
    done = pa.array([False] * rows.num_rows)
    with transaction.atomic():
        touched: set[int] = set()
        # Rows that link make their keys linked: rows sharing one of those (another feed
        # with the same iTunes id, say) join in the next round.
        while True:
            candidates = pc.and_(linker.candidates(rows, writer), pc.invert(done))
            if not pc.any(candidates).as_py():
                break
            batch = _prepare_rows(_row_tuples(rows.filter(candidates)))
            touched |= _store_batch(batch, writer, linker, report)
            done = pc.or_(done, candidates)
        _refresh_channels(touched)


def _row_tuples(rows: pa.Table) -> list[tuple[Any, ...]]:
    """Rows as tuples in :data:`_READ` order, for :func:`prepare_row`."""
    columns = [rows.column(name).to_pylist() for name in _READ]
    return list(zip(*columns, strict=True))


def import_dump(
    path: Path,
    *,
    batch_size: int = 25_000,
    progress: bool = True,
    console: Any = None,
    resume: bool = True,
) -> DumpImportReport:
    """Import the Podcast Index dump at ``path``; see the module docstring."""
    import duckdb
    from django.db import connection, transaction
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from podsight.directory.index import LakeIndexer

    path = Path(path)
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    if not path.is_file():
        raise FileNotFoundError(f"no dump at {path}")
    started = time.perf_counter()
    now = datetime.now(UTC)
    report = DumpImportReport(path=str(path))
    checkpoint = checkpoint_path(path)
    _forget_other_versions(path, checkpoint)
    after_id = 0
    if resume:
        resumed = _read_checkpoint(checkpoint, path)
        if resumed is not None:
            after_id = report.resumed_from = resumed
    source = _open_dump(path)
    try:
        max_id = source.execute("SELECT max(id) FROM podcasts").fetchone()[0] or 0
    finally:
        source.close()

    console = console or Console(stderr=True)
    index = _LakeIndex()
    linker = _Linker(connection)
    writer = _Writer(connection, now)
    duck = duckdb.connect()

    def stored(last_id: int) -> None:  # runs in the lake writer's thread
        report.last_id = last_id
        _write_checkpoint(checkpoint, path, last_id, report)

    # The directory index first catches up with the lake (or is built, for a lake imported
    # before it existed); then it takes each batch the lake writer stores.
    try:
        directory = LakeIndexer(progress=progress, console=console)
    except BaseException:
        duck.close()
        raise
    report.index_action = directory.sync.action
    reader = _Prefetch(_read_arrow(path, after_id, batch_size))
    lake_writer = _LakeWriter(stored, directory.upsert)
    failed = True
    try:
        with Progress(  # a percentage: ids have gaps, so "n of max id" would mislead
            TextColumn("[bold]podcastindex dump[/]"),
            BarColumn(),
            TextColumn("{task.percentage:>3.0f}%"),
            TimeElapsedColumn(),
            TextColumn("{task.description}"),
            console=console,
            disable=not progress,
            transient=True,
        ) as bar:
            task = bar.add_task("", total=max(max_id, 1), completed=min(after_id, max_id))
            for table in reader:
                rows, skips = _derive(table, duck, now)
                new, changed, unchanged = index.split(rows)
                _store_catalog_rows(rows, writer, linker, report, transaction)
                last_id = table.column("id")[-1].as_py()
                lake_writer.put(new, changed, last_id)
                report.batches += 1
                report.rows_read += table.num_rows
                report.new += new.num_rows
                report.updated += changed.num_rows
                report.unchanged += unchanged
                _count_skips(report, skips)
                elapsed = time.perf_counter() - started
                bar.update(
                    task,
                    completed=min(last_id, max_id),
                    description=f"{report.rows_read:,} rows · "
                    f"{report.rows_read / elapsed if elapsed else 0:,.0f} rows/s",
                )
            lake_writer.finish()
        failed = False
        report.finished = True
        checkpoint.unlink(missing_ok=True)
    finally:
        reader.close()
        try:
            if failed:
                try:  # batches already handed over are in the catalog: store them too
                    lake_writer.finish()
                except RuntimeError:
                    pass
        finally:
            report.indexed = directory.written
            # Commits what the index took: every row of it is in the lake already.
            directory.close()
            duck.close()
        report.elapsed_s = time.perf_counter() - started
    # Interactive runs print the summary; quiet ones (progress=False) log it.
    log.log(
        logging.DEBUG if progress else logging.INFO,
        "podcastindex dump %s: %d rows in %.1f s, new %d, updated %d, unchanged %d, "
        "linked %d, refreshed %d, skipped %d",
        path,
        report.rows_read,
        report.elapsed_s,
        report.new,
        report.updated,
        report.unchanged,
        report.linked,
        report.refreshed,
        report.skipped,
    )
    if progress:
        console.print(str(report))
    return report


def _count_skips(report: DumpImportReport, skips: pa.Table) -> None:
    if not skips.num_rows:
        return
    report.skipped += skips.num_rows
    for feed_id, reason in zip(
        skips.column("id").to_pylist(), skips.column("reason").to_pylist(), strict=True
    ):
        report.skip_reasons[reason] += 1
        if len(report.skipped_examples) < _MAX_EXAMPLES:
            report.skipped_examples.append((feed_id, reason))


# --- sample dumps ---------------------------------------------------------------------

_WORDS = {
    "en": "the weekly show about news science history stories people life business money "
    "health faith music sports culture technology comedy interviews family love books film "
    "talk daily real true crime mind body world home startup design future hour".split(),
    "es": "el la de los podcast historias semanal noticias ciencia vida fútbol música cine "
    "conversaciones educación familia salud tecnología cultura".split(),
    "de": "der die das und über Geschichte Wissenschaft Gespräche Woche Fußball Musik Leben "
    "Technik Kultur Nachrichten Bücher Gesundheit".split(),
    "fr": "le la les des émission histoire société culture musique économie santé cinéma "
    "littérature débats quotidien".split(),
    "pt": "o a os de conversa notícias futebol música saúde ciência história fé vida".split(),
    "ja": "ポッドキャスト ニュース 音楽 歴史 科学 毎週 話 映画 英語 ラジオ".split(),
    "ru": "подкаст новости история музыка наука жизнь разговоры".split(),
}
_LANG_TAGS = {
    "en": ("en", "en-us", "en-US", "en-gb", "en_US", "English"),
    "es": ("es", "es-es", "es-MX", "es-419"),
    "de": ("de", "de-DE", "de-de"),
    "fr": ("fr", "fr-FR", "fr-ca"),
    "pt": ("pt", "pt-br", "pt-BR"),
    "ja": ("ja", "ja-JP"),
    "ru": ("ru", "ru-RU"),
}
_LANG_WEIGHTS = (("en", 62), ("es", 10), ("de", 7), ("fr", 6), ("pt", 8), ("ja", 4), ("ru", 3))
_PI_CATEGORIES = (
    "Arts Books Design Food Business Careers Entrepreneurship Investing Management Marketing "
    "Comedy Interviews Improv Education Courses How-To Language Learning Self-Improvement "
    "Fiction Drama History Health Fitness Medicine Mental Nutrition Kids Family Parenting "
    "Leisure Games Hobbies Music Commentary News Daily Entertainment Government Politics "
    "Christianity Religion Spirituality Science Astronomy Nature Physics Social Society "
    "Culture Documentary Personal Journals Philosophy Travel Relationships Sports Baseball "
    "Basketball Football Soccer Running Technology TV Film Reviews"
).split() + ["True Crime", "After-Shows"]
_GENERATORS = (
    "Anchor Podcasts",
    "Buzzsprout (https://www.buzzsprout.com)",
    "Libsyn WebEngine 2.0",
    "Spreaker (https://www.spreaker.com/)",
    "RSS.com",
    "PodBean.com",
    "Podcast Generator 3.2.9",
    "https://wordpress.org/?v=6.4.3",
    "Castos",
    "",
    "",
)
_CONTENT_TYPES = (
    "application/rss+xml",
    "application/rss+xml; charset=utf-8",
    "text/xml; charset=UTF-8",
    "application/xml",
    "text/xml",
    "",
)
_STATUSES = (200,) * 34 + (301, 302, 304, 404, 410, 500, 0, 906, 911)


def _feed_url(rng: random.Random, feed_id: int, slug: str) -> tuple[str, str]:
    token = f"{rng.getrandbits(48):012x}"
    choice = rng.randrange(12)
    url = (
        f"https://anchor.fm/s/{token[:8]}/podcast/rss",
        f"https://feeds.buzzsprout.com/{feed_id}.rss",
        f"https://feeds.megaphone.fm/{token[:3].upper()}{feed_id}",
        f"https://feeds.libsyn.com/{feed_id}/rss",
        f"https://rss.art19.com/{slug}-{feed_id}",
        f"https://feeds.simplecast.com/{token}{feed_id}",
        f"https://www.spreaker.com/show/{feed_id}/episodes/feed",
        f"https://feed.podbean.com/{slug}{feed_id}/feed.xml",
        f"http://{slug}{feed_id}.libsyn.com/rss",
        f"https://media.rss.com/{slug}-{feed_id}/feed.xml",
        f"https://feeds.soundcloud.com/users/soundcloud:users:{feed_id}/sounds.rss",
        f"https://www.omnycontent.com/d/playlist/{uuid.UUID(int=rng.getrandbits(128))}/"
        f"{feed_id}/podcast.rss",
    )[choice]
    return url, url.split("/")[2]


def _sentence(rng: random.Random, words: list[str], length: int) -> str:
    return " ".join(rng.choices(words, k=length))


def write_sample_dump(path: Path, rows: int, seed: int = 0, *, first_id: int = 1) -> Path:
    """Write a synthetic dump with the real ``podcasts`` layout and its quirks.

    ``rows`` feeds with ids from ``first_id`` upwards (with gaps, as deleted feeds leave):
    non-ASCII titles and descriptions of 300–1000 characters (a third of them HTML),
    ``itunesId`` as an integer, ``""``, stray text or NULL, NULLs and empty strings in
    other columns, dead feeds and made-up 9xx statuses. Same ``seed``, same file.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        path.unlink()
    rng = random.Random(seed)
    db = sqlite3.connect(path)
    db.execute("PRAGMA journal_mode = OFF")
    db.execute("PRAGMA synchronous = OFF")
    db.execute(DUMP_SCHEMA)
    names = [name for name, _ in DUMP_COLUMNS]
    insert = f"INSERT INTO podcasts ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})"
    langs = [code for code, weight in _LANG_WEIGHTS for _ in range(weight)]
    vocab = {code: words + _WORDS["en"][:8] for code, words in _WORDS.items()}
    # A pool of description bodies; each row's description starts with its own title and
    # id, so no two are equal (the HTML caches cannot make an import look faster).
    pool: dict[str, list[tuple[str, bool]]] = {}
    for code, words in vocab.items():
        bodies = []
        for _ in range(200):
            text = _sentence(rng, words, rng.randint(50, 160))
            if rng.random() < 0.35:
                half = len(text) // 2
                text = (
                    f"<p>{text[:half]}</p>\n<p><strong>{words[0]}</strong> {text[half:]} "
                    f'<a href="https://example.com/{rng.getrandbits(24)}">link</a> &amp; more'
                    "<br/></p>"
                )
                bodies.append((text, True))
            else:
                bodies.append((text.replace(" ", "\n", 1) if rng.random() < 0.2 else text, False))
        pool[code] = bodies
    base = int(datetime(2025, 3, 1, tzinfo=UTC).timestamp())
    feed_id = first_id - 1
    chunk: list[tuple[Any, ...]] = []
    for _ in range(rows):
        feed_id += 1 if rng.random() < 0.8 else rng.randint(2, 5)
        code = rng.choice(langs)
        words = vocab[code]
        title = _sentence(rng, words, rng.randint(2, 6)).title()
        slug = "".join(ch for ch in title.lower() if ch.isascii() and ch.isalnum())[:20] or "show"
        url, host = _feed_url(rng, feed_id, slug)
        body, _html = rng.choice(pool[code])
        description = f"{title} #{feed_id}. {body}"
        while len(description) < 300:
            description += " " + rng.choice(pool[code])[0]
        description = description[:1000]
        r = rng.random()
        itunes: Any = (
            rng.randint(100_000_000, 1_790_000_000)
            if r < 0.55
            else ""
            if r < 0.90
            else rng.choice(("id1234567", "null", "N/A", "0"))
            if r < 0.92
            else None
        )
        newest = base - int(rng.expovariate(1 / (86400 * 120)))
        oldest = newest - rng.randint(0, 86400 * 3000)
        category_count = rng.choice((0, 1, 1, 2, 2, 2, 3, 3, 4, 5))
        categories = rng.sample(_PI_CATEGORIES, category_count)
        categories += [None if rng.random() < 0.02 else ""] * (10 - category_count)
        author = _sentence(rng, _WORDS["en"], 2).title() if rng.random() < 0.8 else ""
        chunk.append(
            (
                feed_id,
                url,
                title if rng.random() > 0.005 else "",
                newest + rng.randint(0, 86400 * 30),
                f"https://{host}/{slug}" if rng.random() < 0.85 else "",
                rng.choice(_STATUSES),
                1 if rng.random() < 0.02 else 0,
                rng.choice(_CONTENT_TYPES),
                itunes,
                url if rng.random() < 0.9 else url.replace("https://", "http://", 1),
                author,
                author if rng.random() < 0.6 else "",
                rng.choice((0, 0, 0, 1, None)) if rng.random() < 0.98 else None,
                f"https://{host}/art/{feed_id}.jpg" if rng.random() < 0.95 else "",
                rng.choice(("episodic", "episodic", "serial", "", "Episodic")),
                rng.choice(_GENERATORS),
                newest if rng.random() > 0.03 else 0,
                rng.choice(_LANG_TAGS[code]) if rng.random() > 0.03 else "",
                oldest if rng.random() > 0.01 else None,
                min(5000, int(rng.expovariate(1 / 80))),
                0 if rng.random() < 0.7 else rng.randint(1, 29),
                rng.randint(-1, 5),
                base - rng.randint(0, 86400 * 2500),
                rng.randint(0, 9),
                f"{rng.getrandbits(128):032x}",
                host,
                f"https://{host}/audio/{feed_id}/latest.mp3" if rng.random() < 0.9 else "",
                str(uuid.UUID(int=rng.getrandbits(128), version=5)) if rng.random() < 0.85 else "",
                description if rng.random() > 0.04 else (None if rng.random() < 0.5 else ""),
                *categories,
                rng.randint(60, 7200) if rng.random() < 0.9 else rng.choice((0, None)),
            )
        )
        if len(chunk) >= 10_000:
            db.executemany(insert, chunk)
            chunk.clear()
    if chunk:
        db.executemany(insert, chunk)
    db.commit()
    db.close()
    return path
