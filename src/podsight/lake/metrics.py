"""Source metrics (views, likes, comments, ranks…) as an append-only time series.

Every sync appends a snapshot; nothing is overwritten, so a metric's history is
the ordered list of its snapshots.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import pyarrow as pa

from podsight import lake

__all__ = ["TABLE", "MetricSnapshot", "metric_history", "record_metrics"]

TABLE = "source_metrics"

SCHEMA = pa.schema(
    [
        ("source", pa.string()),
        ("kind", pa.string()),  # channel | episode
        ("external_id", pa.string()),
        ("metric", pa.string()),
        ("value", pa.float64()),
        ("observed_at", pa.timestamp("us", tz="UTC")),
    ]
)


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
    columns = {name: [getattr(r, name) for r in rows] for name in SCHEMA.names}
    lake.append(TABLE, pa.table(columns, schema=SCHEMA))
    return len(rows)


def metric_history(source: str, external_id: str, metric: str) -> list[tuple[datetime, float]]:
    """Every snapshot of one metric of one record, oldest first."""
    if not lake.exists(TABLE):
        return []
    table = lake.query(
        "SELECT observed_at, value FROM m WHERE source = ? AND external_id = ? AND metric = ? "
        "ORDER BY observed_at",
        [source, external_id, metric],
        m=TABLE,
    )
    return list(zip(table["observed_at"].to_pylist(), table["value"].to_pylist(), strict=True))
