"""The lake: bulk and time-series data in Delta tables (delta-rs), queried with DuckDB.

Tables live at ``$PODSIGHT_HOME/lake/<name>``; :mod:`.tables` names every one of them
with its schema, partitioning and key, and every write goes through :func:`append`,
:func:`merge` and :func:`overwrite` here. DuckDB reads them through delta-rs' Arrow
dataset (its own delta extension cannot be installed offline). :mod:`.metrics` holds the
source-metrics time series and its queries.

The lake is infrastructure: it imports no app of podsight (the apps import it), which a
test checks.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.dataset as ds
from deltalake import CommitProperties, DeltaTable, write_deltalake

from podsight import conf
from podsight.lake.tables import TABLES, LakeTable

__all__ = [
    "TABLES",
    "LakeTable",
    "append",
    "connect",
    "exists",
    "files_added_since",
    "fragments_added_since",
    "io_lock",
    "merge",
    "overwrite",
    "query",
    "table_path",
    "version",
]

# Held by work that reads or writes the lake from more than one thread of a process (the
# events consumer's batches and, on its refresh thread, the recommendations' reads). A
# consumer hung once (every thread waiting on a futex) while both threads were in
# delta-rs and DuckDB at the same time; serialising them costs the refresh at most one
# batch's wait.
io_lock = threading.RLock()


def table_path(table: LakeTable | str) -> Path:
    return conf.podsight_home() / "lake" / (table if isinstance(table, str) else table.name)


def exists(table: LakeTable | str) -> bool:
    return DeltaTable.is_deltatable(str(table_path(table)))


def version(table: LakeTable | str) -> int | None:
    """The table's current Delta version (None: it does not exist yet)."""
    if not exists(table):
        return None
    return DeltaTable(str(table_path(table))).version()


def files_added_since(
    table: LakeTable | str, since: int, *, at: DeltaTable | None = None
) -> list[str] | None:
    """The data files the table has now (or in ``at``, a version already opened) that
    version ``since`` did not (their URIs); None when that version can no longer be read
    (its log or files were vacuumed)."""
    from deltalake.exceptions import DeltaError

    path = str(table_path(table))
    now = at if at is not None else DeltaTable(path)
    if now.version() == since:
        return []
    try:
        before = set(DeltaTable(path, version=since).file_uris())
    except (DeltaError, OSError):
        return None
    return [uri for uri in now.file_uris() if uri not in before]


def fragments_added_since(
    table: LakeTable | str, since: int | None, *, at: DeltaTable | None = None
) -> tuple[ds.FileSystemDataset, list[ds.ParquetFileFragment]]:
    """The table's Arrow dataset (now, or ``at``) and its fragments that version ``since``
    did not have (:func:`files_added_since`): every fragment when ``since`` is None or
    can no longer be read."""
    now = at if at is not None else DeltaTable(str(table_path(table)))
    full = now.to_pyarrow_dataset()
    fragments = list(full.get_fragments())
    added = None if since is None else files_added_since(table, since, at=now)
    if added is None:
        return full, fragments
    # A fragment's path is its URI's tail (relative to the table, in the same encoding).
    ends = {uri.rsplit("/", 1)[-1]: uri for uri in added}
    return full, [
        f for f in fragments
        if (uri := ends.get(f.path.rsplit("/", 1)[-1])) is not None
        and uri.endswith("/" + f.path)
    ]  # fmt: skip


def _commit(metadata: dict[str, str] | None) -> CommitProperties | None:
    return CommitProperties(custom_metadata=metadata) if metadata else None


def append(table: LakeTable, rows: pa.Table, *, metadata: dict[str, str] | None = None) -> None:
    """Append rows (never overwrites), creating the table on first use, partitioned as
    :mod:`.tables` says; ``metadata`` goes into the Delta commit (read back through
    ``DeltaTable.history``), atomically with the rows."""
    path = table_path(table)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_deltalake(
        str(path),
        rows,
        mode="append",
        partition_by=list(table.partition_by) or None,
        commit_properties=_commit(metadata),
    )


def overwrite(
    table: LakeTable, rows: pa.Table, *, metadata: dict[str, str] | None = None
) -> None:
    """Replace the table's rows with ``rows`` in one commit (the old ones stay readable by
    time travel), creating the table on first use; for tables recomputed whole."""
    path = table_path(table)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_deltalake(
        str(path),
        rows,
        mode="overwrite",
        partition_by=list(table.partition_by) or None,
        commit_properties=_commit(metadata),
    )


def merge(
    table: LakeTable,
    rows: pa.Table,
    *,
    within: str | None = None,
    keep: Iterable[str] = (),
    metadata: dict[str, str] | None = None,
) -> None:
    """Upsert ``rows`` (alias ``s``) into an existing table (alias ``t``) by its key: a
    matched row takes the new values except the ``keep`` columns, the others are inserted.
    ``within`` is a predicate on ``t`` with literal values (an id range, a list of
    partitions) that lets delta-rs skip every file outside it; without one each merge
    reads the whole table."""
    if not table.key:
        raise ValueError(f"lake table {table.name} has no key: it is only appended to")
    matches = [f"t.{column} = s.{column}" for column in table.key]
    merger = DeltaTable(str(table_path(table))).merge(
        rows,
        predicate=" AND ".join([within, *matches] if within else matches),
        source_alias="s",
        target_alias="t",
        commit_properties=_commit(metadata),
    )
    kept = set(keep)
    if kept:
        updates = {name: f"s.{name}" for name in table.schema.names if name not in kept}
        merger = merger.when_matched_update(updates)
    else:
        merger = merger.when_matched_update_all()
    merger.when_not_matched_insert_all().execute()


def connect() -> duckdb.DuckDBPyConnection:
    """A DuckDB connection whose timestamps are UTC (lake times are stored in UTC)."""
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    return con


def query(sql: str, params: list[Any] | None = None, **tables: LakeTable | str) -> pa.Table:
    """Run DuckDB SQL; each keyword names a lake table: ``query(sql, m="source_metrics")``."""
    con = connect()
    try:
        for alias, name in tables.items():
            con.register(alias, DeltaTable(str(table_path(name))).to_pyarrow_dataset())
        return con.sql(sql, params=params or None).to_arrow_table()
    finally:
        con.close()
