"""Source metrics (views, likes, comments, ranks…) as an append-only time series
(lake table ``source_metrics``, :data:`~podsight.lake.tables.SOURCE_METRICS`).

Every sync appends a snapshot; nothing is overwritten, so a metric's history is
the ordered list of its snapshots.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pyarrow as pa

from podsight import lake
from podsight.lake.tables import SOURCE_METRICS

__all__ = [
    "MetricSnapshot",
    "latest_metrics",
    "metric_history",
    "metric_series",
    "record_metrics",
]


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
    table = lake.query(
        "SELECT observed_at, value FROM m WHERE source = ? AND external_id = ? AND metric = ? "
        "ORDER BY observed_at",
        [source, external_id, metric],
        m=SOURCE_METRICS,
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
    table = lake.query(
        "SELECT source, external_id, metric, arg_max(value, observed_at) AS value, "
        f"max(observed_at) AS observed_at FROM m WHERE {where} "
        "GROUP BY source, external_id, metric ORDER BY source, external_id, metric",
        params,
        m=SOURCE_METRICS,
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
    table = lake.query(
        f"SELECT source, external_id, metric, observed_at, value FROM m WHERE {where} "
        "ORDER BY source, external_id, metric, observed_at",
        params,
        m=SOURCE_METRICS,
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
