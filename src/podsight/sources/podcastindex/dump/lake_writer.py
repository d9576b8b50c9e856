"""The lake side of the import: which rows are new or changed against the lake
(:class:`LakeIndex`), and a thread that writes them (:class:`LakeWriter`)."""

from __future__ import annotations

import bisect
import queue
import threading
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from podsight import lake
from podsight.lake.tables import PODCASTINDEX_FEEDS as FEEDS

__all__ = ["LakeIndex", "LakeWriter", "write_lake"]

_DONE = object()


class LakeIndex:
    """Feed id → row hash of what the lake holds, sorted, for vectorised comparison."""

    def __init__(self) -> None:
        self.ids = pa.array([], pa.int64())
        self.hashes = pa.array([], pa.int64())
        if lake.exists(FEEDS):
            known = lake.query("SELECT id, row_hash FROM feeds ORDER BY id", feeds=FEEDS)
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


def write_lake(new: pa.Table, changed: pa.Table) -> None:
    """Append new rows; merge changed ones by id, keeping their first_imported_at."""
    if new.num_rows and not changed.num_rows:
        lake.append(FEEDS, new)
        return
    rows = pa.concat_tables([new, changed]) if new.num_rows else changed
    if not rows.num_rows:
        return
    ids = rows.column("id")
    # The literal id range lets delta-rs skip every file outside it (files are written in
    # id order, so a batch touches one or two); without it each merge reads the table.
    low, high = pc.min(ids).as_py(), pc.max(ids).as_py()
    lake.merge(FEEDS, rows, within=f"t.id >= {low} AND t.id <= {high}", keep=["first_imported_at"])


class LakeWriter:
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
                write_lake(new, changed)
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
