"""The lake: bulk and time-series data in Delta tables (delta-rs), queried with DuckDB.

Tables live at ``$PODSIGHT_HOME/lake/<name>``. DuckDB reads them through
delta-rs' Arrow dataset (its own delta extension cannot be installed offline).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
from deltalake import DeltaTable, write_deltalake

from podsight import conf

__all__ = ["append", "connect", "exists", "query", "table_path"]


def table_path(name: str) -> Path:
    return conf.podsight_home() / "lake" / name


def exists(name: str) -> bool:
    return DeltaTable.is_deltatable(str(table_path(name)))


def append(name: str, rows: pa.Table, *, partition_by: list[str] | None = None) -> int:
    """Append rows (never overwrites); returns the table's new version."""
    path = table_path(name)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_deltalake(str(path), rows, mode="append", partition_by=partition_by)
    return DeltaTable(str(path)).version()


def connect() -> duckdb.DuckDBPyConnection:
    """A DuckDB connection whose timestamps are UTC (lake times are stored in UTC)."""
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    return con


def query(sql: str, params: list[Any] | None = None, **tables: str) -> pa.Table:
    """Run DuckDB SQL; each keyword names a lake table: ``query(sql, m="source_metrics")``."""
    con = connect()
    try:
        for alias, name in tables.items():
            con.register(alias, DeltaTable(str(table_path(name))).to_pyarrow_dataset())
        return con.sql(sql, params=params or None).to_arrow_table()
    finally:
        con.close()
