"""events.engagement: engagement_daily from events, equal to a hand computation."""

from __future__ import annotations

import sys

import pyarrow as pa
import pytest
from deltalake import DeltaTable, write_deltalake
from lakedata import ENGAGEMENT_COLUMNS, EXPECTED, events_table, write_events
from podsight_spark import registry
from podsight_spark.errors import JobError

from podsight.lake_tables import ENGAGEMENT_DAILY, EVENTS


def _rows(path):
    table = DeltaTable(path).to_pyarrow_table()
    assert table.schema.names == ENGAGEMENT_DAILY.schema.names
    rows = [tuple(r[c] for c in ENGAGEMENT_COLUMNS) for r in table.to_pylist()]
    return sorted(rows, key=lambda r: (r[2], r[0], r[1])), table


def test_engagement_equals_the_hand_computation(spark, tmp_path):
    write_events(tmp_path)
    result = registry.run("events.engagement", {"lake": str(tmp_path)}, spark=spark)
    assert result["rows_written"] == len(EXPECTED)
    assert result["table_version"] == 0 and result["events_version"] == 0
    rows, table = _rows(str(tmp_path / "engagement_daily"))
    assert rows == EXPECTED  # exactly: floats compared bit for bit
    # The lake's schema and partitioning, as the local engine writes them.
    assert table.schema == ENGAGEMENT_DAILY.schema
    assert DeltaTable(str(tmp_path / "engagement_daily")).metadata().partition_columns == ["day"]
    # Never Django: the job shares only the schemas (and the embedder) with the web side.
    assert not any(m == "django" or m.startswith("django.") for m in sys.modules)
    assert "podsight.lake" not in sys.modules and "duckdb" not in sys.modules


def test_overwrite_replaces_and_merge_keeps_other_rows(spark, tmp_path):
    write_events(tmp_path)
    out = str(tmp_path / "engagement_daily")
    registry.run("events.engagement", {"lake": str(tmp_path)}, spark=spark)
    # A row no event explains: overwrite drops it, merge keeps it and replaces the rest.
    first = DeltaTable(out).to_pyarrow_table().slice(0, 1).to_pylist()[0]
    first.update(user_id="u9", plays=42)
    write_deltalake(out, pa.Table.from_pylist([first], schema=ENGAGEMENT_DAILY.schema),
                    mode="append")
    assert DeltaTable(out).to_pyarrow_table().num_rows == len(EXPECTED) + 1

    result = registry.run("events.engagement", {"lake": str(tmp_path), "mode": "merge",
                                                "commit_metadata": {"podsight.test": "1"}},
                          spark=spark)
    assert result["table_version"] == 2
    assert DeltaTable(out).to_pyarrow_table().num_rows == len(EXPECTED) + 1
    assert DeltaTable(out).history(1)[0]["podsight.test"] == "1"
    rows, _ = _rows(out)
    assert [r for r in rows if r[0] != "u9"] == EXPECTED

    registry.run("events.engagement", {"lake": str(tmp_path)}, spark=spark)
    rows, _ = _rows(out)
    assert rows == EXPECTED


def test_an_empty_events_table_gives_an_empty_engagement_table(spark, tmp_path):
    write_deltalake(str(tmp_path / "events"), events_table().slice(0, 0),
                    partition_by=list(EVENTS.partition_by))
    result = registry.run("events.engagement", {"lake": str(tmp_path)}, spark=spark)
    assert result["rows_written"] == 0
    table = DeltaTable(str(tmp_path / "engagement_daily")).to_pyarrow_table()
    assert table.num_rows == 0 and table.schema == ENGAGEMENT_DAILY.schema


def test_no_events_table_is_a_clear_error(spark, tmp_path):
    with pytest.raises(JobError, match="no Delta table 'events'"):
        registry.run("events.engagement", {"lake": str(tmp_path)}, spark=spark)


def test_parameters_are_checked_before_spark_starts():
    with pytest.raises(JobError, match="unknown parameter.*lakes.*it takes"):
        registry.run("events.engagement", {"lakes": "/x"})
    with pytest.raises(JobError, match="'lake' is required"):
        registry.run("events.engagement", {})
    with pytest.raises(JobError, match="'mode' must be one of overwrite, merge"):
        registry.run("events.engagement", {"lake": "/x", "mode": "append"})
    with pytest.raises(JobError, match="'lake' must be str, got 3"):
        registry.run("events.engagement", {"lake": 3})
    with pytest.raises(JobError, match="no job 'events.engagment'"):
        registry.run("events.engagment", {})
