"""lake.history: a restore is a new version that carries podsight's commit metadata as it
stood at the version restored, and waits for no running consumer (it is refused)."""

from __future__ import annotations

import fcntl
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pytest

from podsight import lake
from podsight.errors import StorageError
from podsight.events.consumer import COVERS_KEY, lake_position
from podsight.lake.history import RESTORED_FROM, history, restore
from podsight.lake.tables import ENGAGEMENT_DAILY, SOURCE_METRICS


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PODSIGHT_HOME", str(tmp_path))
    return tmp_path


def _empty_engagement(covers: dict[int, int]) -> None:
    import json

    metadata = {COVERS_KEY: json.dumps({str(k): v for k, v in covers.items()})}
    lake.append(ENGAGEMENT_DAILY, ENGAGEMENT_DAILY.schema.empty_table(), metadata=metadata)


def test_a_restore_carries_the_position_of_the_version_restored():
    _empty_engagement({0: 10})  # version 0
    _empty_engagement({0: 25})  # 1
    lake.append(ENGAGEMENT_DAILY, ENGAGEMENT_DAILY.schema.empty_table())  # 2: no position
    _empty_engagement({0: 40})  # 3
    assert lake_position(ENGAGEMENT_DAILY, COVERS_KEY) == {0: 40}
    done = restore("engagement_daily", 2)
    assert (done.restored, done.previous, done.version) == (2, 3, 4)
    # Version 2's own commit had none: the latest at or before it is version 1's.
    assert lake_position(ENGAGEMENT_DAILY, COVERS_KEY) == {0: 25}
    newest = history("engagement_daily", limit=1).versions[0]
    assert newest.operation == "RESTORE" and newest.metadata[RESTORED_FROM] == "2"


def test_a_restore_of_the_consumers_tables_is_refused_while_it_runs(home: Path):
    _empty_engagement({0: 1})
    _empty_engagement({0: 2})
    with open(lake.table_path(".consumer.lock"), "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)  # what a running consumer holds
        with pytest.raises(StorageError, match="podsight events consume` is running"):
            restore("engagement_daily", 0)
        # Tables it does not write are not held up.
        row = {"source": "rss", "kind": "channel", "external_id": "x", "metric": "m",
               "value": 1.0, "observed_at": datetime(2025, 1, 1, tzinfo=UTC)}  # fmt: skip
        lake.append(SOURCE_METRICS, pa.Table.from_pylist([row], schema=SOURCE_METRICS.schema))
        lake.append(SOURCE_METRICS, pa.Table.from_pylist([row], schema=SOURCE_METRICS.schema))
        assert restore("source_metrics", 0).version == 2
    assert restore("engagement_daily", 0).version == 2
