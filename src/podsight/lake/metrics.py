"""Source metrics (views, likes, comments, ranks…) as an append-only time series
(lake table ``source_metrics``, :data:`~podsight.lake.tables.SOURCE_METRICS`).

Every sync appends a snapshot; nothing is overwritten, so a metric's history is
the ordered list of its snapshots.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from deltalake import DeltaTable

from podsight import lake
from podsight.lake.tables import SOURCE_METRICS

__all__ = [
    "MetricSnapshot",
    "latest_metrics",
    "metric_history",
    "metric_overview",
    "metric_series",
    "record_metrics",
]

# A table of at most this many rows is read once per commit and queried in memory: every
# sync appends a small file, and opening them all took most of a show's or an episode's
# detail (0.2–0.8 s for the demo's 84 files). Larger tables are read from disk each time.
MEMORY_ROWS = 500_000

_memory_lock = threading.Lock()
_memory: dict[str, tuple[tuple[Any, ...], pa.Table | None]] = {}


def _newest_commit(path: Path) -> tuple[Any, ...] | None:
    """What identifies the table's current version without opening it: its newest commit
    file (name, size, change time, inode; a table made again at the same path differs)."""
    newest = None
    try:
        with os.scandir(path / "_delta_log") as entries:
            for entry in entries:
                if entry.name.endswith(".json") and (newest is None or entry.name > newest.name):
                    newest = entry
    except FileNotFoundError:
        return None
    if newest is None:
        return None
    stat = newest.stat()
    return (newest.name, stat.st_size, stat.st_mtime_ns, stat.st_ino)


def _in_memory() -> pa.Table | None:
    """The whole table as of its newest commit when it is small, else None."""
    path = lake.table_path(SOURCE_METRICS)
    stamp = _newest_commit(path)
    if stamp is None:
        return None
    key = str(path)
    with _memory_lock:
        kept = _memory.get(key)
        if kept is not None and kept[0] == stamp:
            return kept[1]
        table = DeltaTable(str(path))
        actions = pa.table(table.get_add_actions(flatten=True))
        rows = pc.sum(actions["num_records"]).as_py() or 0
        # Read after the stamp: never older than the commit it is kept under.
        data = table.to_pyarrow_table() if rows <= MEMORY_ROWS else None
        _memory[key] = (stamp, data)
        return data


def _query(sql: str, params: list[Any]) -> pa.Table:
    """``lake.query`` over source_metrics as ``m``, from memory when the table is small."""
    data = _in_memory()
    if data is None:
        return lake.query(sql, params, m=SOURCE_METRICS)
    con = lake.connect()
    try:
        con.register("m", data)
        return con.sql(sql, params=params or None).to_arrow_table()
    finally:
        con.close()


@dataclass(frozen=True, slots=True)
class MetricSnapshot:
    source: str
    kind: str
    external_id: str
    metric: str
    value: float
    observed_at: datetime

    def __post_init__(self) -> None:
        if self.observed_at.tzinfo is None:
            raise ValueError("observed_at must be timezone-aware")
        if self.kind not in ("channel", "episode"):
            raise ValueError(f"kind must be 'channel' or 'episode', not {self.kind!r}")


def record_metrics(snapshots: Iterable[MetricSnapshot]) -> int:
    """Append snapshots to the lake; returns how many were written."""
    rows = list(snapshots)
    if not rows:
        return 0
    columns = {name: [getattr(r, name) for r in rows] for name in SOURCE_METRICS.schema.names}
    lake.append(SOURCE_METRICS, pa.table(columns, schema=SOURCE_METRICS.schema))
    return len(rows)


def metric_history(source: str, external_id: str, metric: str) -> list[tuple[datetime, float]]:
    """Every snapshot of one metric of one record, oldest first."""
    if not lake.exists(SOURCE_METRICS):
        return []
    table = _query(
        "SELECT observed_at, value FROM m WHERE source = ? AND external_id = ? AND metric = ? "
        "ORDER BY observed_at",
        [source, external_id, metric],
    )
    return list(zip(table["observed_at"].to_pylist(), table["value"].to_pylist(), strict=True))


def _records_filter(kind: str, records: Sequence[tuple[str, str]]) -> tuple[str, list[Any]]:
    pairs = " OR ".join("(source = ? AND external_id = ?)" for _ in records)
    params: list[Any] = [kind]
    for source, external_id in records:
        params.extend([source, external_id])
    return f"kind = ? AND ({pairs})", params


def latest_metrics(
    kind: str, records: Sequence[tuple[str, str]]
) -> dict[tuple[str, str], dict[str, dict[str, Any]]]:
    """(source, external_id) → metric → {"value", "observed_at"} of the newest snapshot."""
    if not records or not lake.exists(SOURCE_METRICS):
        return {}
    where, params = _records_filter(kind, records)
    table = _query(
        "SELECT source, external_id, metric, arg_max(value, observed_at) AS value, "
        f"max(observed_at) AS observed_at FROM m WHERE {where} "
        "GROUP BY source, external_id, metric ORDER BY source, external_id, metric",
        params,
    )
    out: dict[tuple[str, str], dict[str, dict[str, Any]]] = {}
    for row in table.to_pylist():
        out.setdefault((row["source"], row["external_id"]), {})[row["metric"]] = {
            "value": row["value"],
            "observed_at": row["observed_at"],
        }
    return out


def metric_series(
    kind: str, records: Sequence[tuple[str, str]], metric: str | None = None
) -> list[dict[str, Any]]:
    """Every snapshot of the records' metrics, one series per (source, id, metric)."""
    if not records or not lake.exists(SOURCE_METRICS):
        return []
    where, params = _records_filter(kind, records)
    if metric:
        where += " AND metric = ?"
        params.append(metric)
    table = _query(
        f"SELECT source, external_id, metric, observed_at, value FROM m WHERE {where} "
        "ORDER BY source, external_id, metric, observed_at",
        params,
    )
    series: dict[tuple[str, str, str], dict[str, Any]] = {}
    for row in table.to_pylist():
        key = (row["source"], row["external_id"], row["metric"])
        entry = series.setdefault(
            key,
            {"source": key[0], "external_id": key[1], "metric": key[2], "points": []},
        )
        entry["points"].append({"observed_at": row["observed_at"], "value": row["value"]})
    return list(series.values())


def _selection(
    selections: Sequence[tuple[str, Sequence[tuple[str, str]]]], metric: str | None
) -> tuple[str, list[Any]]:
    """WHERE of the snapshots of the given (kind, records) pairs: an IN list per source,
    which stays one short clause for a show of thousands of episodes."""
    clauses: list[str] = []
    params: list[Any] = []
    for kind, records in selections:
        by_source: dict[str, list[str]] = {}
        for source, external_id in records:
            by_source.setdefault(source, []).append(external_id)
        for source, ids in sorted(by_source.items()):
            marks = ", ".join("?" for _ in ids)
            clauses.append(f"(kind = ? AND source = ? AND external_id IN ({marks}))")
            params.extend([kind, source, *ids])
    where = f"({' OR '.join(clauses)})"
    if metric:
        where += " AND metric = ?"
        params.append(metric)
    return where, params


def _totals(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Daily sums of the latest value of each record (rows: source, metric, external_id,
    day, value — the day's last snapshot — ordered by day)."""
    daily: dict[tuple[str, str], dict[Any, dict[str, float]]] = {}
    for row in rows:
        days = daily.setdefault((row["source"], row["metric"]), {})
        days.setdefault(row["day"], {})[row["external_id"]] = row["value"]
    out: list[dict[str, Any]] = []
    for (source, name), days in sorted(daily.items()):
        current: dict[str, float] = {}
        points = []
        for day in sorted(days):
            current.update(days[day])  # a record not seen that day keeps its last value
            points.append({"day": day, "value": sum(current.values()), "records": len(current)})
        out.append({"source": source, "metric": name, "points": points})
    return out


def metric_overview(
    own: Sequence[tuple[str, str]],
    episodes: Sequence[tuple[str, str]],
    metric: str | None = None,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """A show's metrics in one read of the lake: ``(series, totals)``.

    ``series``: every snapshot of its own (channel) records ``own``, as
    :func:`metric_series` gives them. ``totals``: per source and metric, the sum over the
    ``episodes`` records of each one's latest value as of the end of each UTC day on which
    any of them was observed (a record not observed that day counts with its last earlier
    value, one not observed yet does not count): ``{"source", "metric", "points": [{"day",
    "value", "records"}]}``, days oldest first, ``records`` being how many the sum covers."""
    selections = [(k, r) for k, r in (("channel", own), ("episode", episodes)) if r]
    if not selections or not lake.exists(SOURCE_METRICS):
        return [], []
    where, params = _selection(selections, metric)
    table = _query(
        "SELECT kind, source, external_id, metric, observed_at, value, "
        f"CAST(observed_at AS DATE) AS day FROM m WHERE {where} "
        "ORDER BY kind, source, external_id, metric, observed_at",
        params,
    )
    series: dict[tuple[str, str, str], dict[str, Any]] = {}
    last_of_day: dict[tuple[str, str, str, Any], dict[str, Any]] = {}
    for row in table.to_pylist():
        key = (row["source"], row["external_id"], row["metric"])
        if row["kind"] == "channel":
            entry = series.setdefault(
                key, {"source": key[0], "external_id": key[1], "metric": key[2], "points": []}
            )
            entry["points"].append({"observed_at": row["observed_at"], "value": row["value"]})
        else:  # ordered by time: the last row of a record's day is its latest that day
            last_of_day[(*key, row["day"])] = row
    return list(series.values()), _totals(last_of_day.values())
