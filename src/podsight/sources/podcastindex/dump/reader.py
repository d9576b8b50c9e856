"""Reading the dump into Arrow in batches (ADBC's SQLite driver) and deriving each row's
strong keys and content hash (Arrow and DuckDB kernels); :class:`Prefetch` reads one batch
ahead in a thread."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from podsight.lake.tables import PODCASTINDEX_FEEDS
from podsight.sources.keys import normalise_feed_urls
from podsight.sources.podcastindex.dump.layout import READ_COLUMNS, dump_uri

__all__ = ["Prefetch", "derive", "read_arrow"]


# The lake table's schema (lake/tables.py) types the dump's columns too: text where the
# dump declares TEXT, and itunesId (declared INTEGER, holding "" and stray text).
_READ_SCHEMA = pa.schema([PODCASTINDEX_FEEDS.schema.field(c) for c in READ_COLUMNS])
_TEXT_COLUMNS = frozenset(c for c in READ_COLUMNS if _READ_SCHEMA.field(c).type == pa.string())
_TIMESTAMP = PODCASTINDEX_FEEDS.schema.field("imported_at").type
# Every column is CAST so each value has the column's type whatever SQLite stored (ADBC
# infers a column's type from its values). `id` is left bare: it is the rowid, so the
# ORDER BY walks the table's b-tree instead of sorting.
_SELECT = (
    "SELECT "
    + ", ".join(
        c if c == "id" else f"CAST({c} AS {'TEXT' if c in _TEXT_COLUMNS else 'INTEGER'}) AS {c}"
        for c in READ_COLUMNS
    )
    + " FROM podcasts WHERE id > ? ORDER BY id LIMIT ?"
)
# md5 of every column but the id (NULL distinct from "", columns separated), cut to 63
# bits so it fits Delta's signed long: 8 bytes a row in memory for the comparison index.
_ROW_HASH = (
    "CAST(md5_number_lower(concat_ws(chr(31), "
    + ", ".join(f"coalesce(CAST({c} AS VARCHAR), chr(30))" for c in READ_COLUMNS if c != "id")
    + ")) >> 1 AS BIGINT)"
)
_NO_STRING = pa.scalar(None, pa.string())


def read_arrow(path: Path, after_id: int, batch_size: int) -> Iterator[pa.Table]:
    """Batches of dump rows with ``id > after_id`` in id order, typed as _READ_SCHEMA."""
    import adbc_driver_sqlite.dbapi as adbc

    connection = adbc.connect(dump_uri(path))
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


def derive(table: pa.Table, duck: Any, now: datetime) -> tuple[pa.Table, pa.Table]:
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
    return derived.cast(PODCASTINDEX_FEEDS.schema), skips


_DONE = object()


class Prefetch:
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
