"""lake.quality: each check catches a real bad write into a Delta table, names the table,
the check, the count and the offending keys, and points at the version to restore."""

from __future__ import annotations

import math
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from podsight import lake
from podsight.errors import PodsightError, QualityError
from podsight.lake import quality
from podsight.lake.tables import EMBEDDING_DIM, ENGAGEMENT_DAILY, EVENTS, PASSAGES

T0 = datetime(2025, 6, 2, 9, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PODSIGHT_HOME", str(tmp_path))
    return tmp_path


def _events(n: int, **changes) -> pa.Table:
    """``n`` valid play events (one user each), with ``changes`` (column → values)."""
    at = [T0 + timedelta(minutes=i) for i in range(n)]
    columns = {
        "event_id": [str(uuid.uuid4()) for _ in range(n)],
        "user_id": [f"u{i}" for i in range(n)],
        "type": ["play"] * n,
        "occurred_at": at,
        "received_at": at,
        "date": [t.date() for t in at],
        "episode_id": list(range(1, n + 1)),
        "channel_id": [1] * n,
        "position_s": [10.0] * n,
        "duration_s": [600.0] * n,
        "rating": [None] * n,
        "device": [None] * n,
        "session_id": [None] * n,
        "client": ["test"] * n,
        "feed_url": [None] * n,
        "enclosure_url": [None] * n,
        "source": [None] * n,
        "external_id": [None] * n,
        "log_partition": [0] * n,
        "log_offset": list(range(n)),
    }
    columns.update(changes)
    return pa.table(columns, schema=EVENTS.schema)


def _engagement(rows: list[dict]) -> pa.Table:
    base = {
        "plays": 1, "listened_s": 10.0, "max_completion": 0.5, "likes": 0, "unlikes": 0,
        "skips": 0, "downloads": 0, "rating": None, "events": 1, "weight": 0.5,
    }  # fmt: skip
    full = [
        {**base, "last_event_at": datetime.combine(r["day"], datetime.min.time(), UTC), **r}
        for r in rows
    ]
    return pa.Table.from_pylist(full, schema=ENGAGEMENT_DAILY.schema)


def _failed(checks: list[quality.Check]) -> dict[str, quality.Check]:
    return {c.check: c for c in checks if not c.ok}


def test_good_events_pass_every_check():
    lake.append(EVENTS, _events(20))
    checks = quality.check_events(None, written_rows=20)
    assert len(checks) >= 10 and all(c.ok for c in checks), [str(c) for c in checks if not c.ok]


def test_a_null_key_a_duplicate_id_and_out_of_range_values_are_caught():
    good = _events(10)
    lake.append(EVENTS, good)
    before = quality.versions(EVENTS)["events"]
    dup = good.column("event_id")[3].as_py()
    future = datetime.now(UTC) + timedelta(days=30)
    bad = _events(
        4,
        event_id=[dup, str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4())],
        user_id=["x", None, "y", "z"],
        occurred_at=[T0, T0, future, T0],
        received_at=[T0, T0, future, T0],
        date=[T0.date(), T0.date(), future.date(), T0.date()],
        position_s=[10.0, 10.0, 10.0, 961.0],  # beyond 600 s + 10 % + 300 s
        duration_s=[600.0, 600.0, 600.0, 600.0],
    )
    lake.append(EVENTS, bad)
    failed = _failed(quality.check_events(before, written_rows=4))
    assert set(failed) == {
        "no nulls in event_id, user_id, type, occurred_at, received_at, date, "
        "log_partition, log_offset",
        "unique event_id",
        "occurred_at from 2000 to now + 1 day",
        "received_at from 2000 to now + 1 day",
        "position_s within duration_s (+10 % + 300 s)",
    }
    assert failed["unique event_id"].failed == 1
    assert dup in " ".join(failed["unique event_id"].examples)
    assert failed["position_s within duration_s (+10 % + 300 s)"].failed == 1
    assert (
        failed["position_s within duration_s (+10 % + 300 s)"].checked == 4
    )  # only what was written


def test_the_step_error_names_table_check_counts_keys_and_the_restore():
    lake.append(EVENTS, _events(5))
    before = quality.versions(EVENTS)
    lake.append(EVENTS, _events(3, user_id=["a", None, None]))
    report = quality.QualityReport(
        "events.consume", quality.check_events(before["events"], written_rows=3), before
    )
    with pytest.raises(QualityError) as raised:
        report.raise_if_failed()
    message = str(raised.value)
    assert isinstance(raised.value, PodsightError) and raised.value.report is report
    assert "after events.consume" in message
    assert "events: no nulls in event_id, user_id" in message
    assert "2 of 3 failed" in message
    assert "user_id=None" in message
    assert f"`podsight lake restore events --version {before['events']}`" in message
    assert "\n" not in message  # the CLI prints it as one line


def test_rows_added_must_equal_the_events_the_consumer_says_it_wrote():
    lake.append(EVENTS, _events(5))
    checks = {c.check: c for c in quality.check_events(None, written_rows=4)}
    check = checks["rows added equal events consumed"]
    assert not check.ok and "found 5, expected exactly 4" in str(check)


def test_a_table_created_by_the_run_is_named_as_such():
    lake.append(EVENTS, _events(2, user_id=[None, "b"]))
    report = quality.QualityReport("events.consume", quality.check_events(None), {"events": None})
    created = r"move .*events aside \(events has passed no check since it was created\)"
    with pytest.raises(QualityError, match=created):
        report.raise_if_failed()


def test_a_table_whose_first_check_failed_stays_checked_whole_until_one_passes():
    assert quality.passed_version(EVENTS) is None  # no table yet: recorded as such
    lake.append(EVENTS, _events(2, user_id=[None, "b"]))  # the first write is bad
    assert quality.passed_version(EVENTS) is None  # still: every file is checked
    failed = [c for c in quality.check_events(quality.passed_version(EVENTS)) if not c.ok]
    assert [c.check for c in failed] == [
        "no nulls in event_id, user_id, type, occurred_at, received_at, date, log_partition, "
        "log_offset"
    ]
    quality.record_passed({EVENTS.name: lake.version(EVENTS)})
    assert quality.passed_version(EVENTS) == lake.version(EVENTS)


def test_a_lake_gated_first_adopts_the_current_version_and_a_remade_table_is_all_new():
    lake.append(EVENTS, _events(2))
    assert quality.passed_version(EVENTS) == 0  # adopted, and recorded at once
    lake.append(EVENTS, _events(1))
    assert quality.passed_version(EVENTS) == 0
    # The table moved aside and made again (a new Delta table id): nothing of it passed.
    lake.table_path(EVENTS).rename(lake.table_path(EVENTS).with_name("events-aside"))
    lake.append(EVENTS, _events(1))
    assert quality.passed_version(EVENTS) is None


def test_the_schema_check_names_a_changed_type_and_a_missing_column():
    wrong = (
        _events(2).drop_columns(["device"]).set_column(1, "user_id", pa.array([1, 2], pa.int64()))
    )
    from deltalake import write_deltalake

    write_deltalake(str(lake.table_path(EVENTS)), wrong)
    check = quality.check_schema(EVENTS)
    assert check.failed == 2
    assert "missing device" in check.examples and "user_id is int64, not string" in check.examples


def test_engagement_nan_weight_negative_listening_duplicates_and_orphans():
    day = T0.date()
    lake.append(EVENTS, _events(3))  # users u0..u2 on episodes 1..3, that day
    lake.append(ENGAGEMENT_DAILY, _engagement([
        {"day": day, "user_id": "u0", "episode_id": 1},
        {"day": day, "user_id": "u1", "episode_id": 2},
    ]))  # fmt: skip
    before = quality.versions(ENGAGEMENT_DAILY)["engagement_daily"]
    assert all(c.ok for c in quality.check_engagement(None))
    lake.append(ENGAGEMENT_DAILY, _engagement([
        {"day": day, "user_id": "u2", "episode_id": 3, "weight": math.nan},
        {"day": day, "user_id": "u1", "episode_id": 2, "listened_s": -5.0},  # and a duplicate
        {"day": day, "user_id": "ghost", "episode_id": 9},  # no events at all
        {"day": day, "user_id": "u0", "episode_id": 1, "max_completion": 1.5, "weight": math.inf},
    ]))  # fmt: skip
    failed = _failed(quality.check_engagement(before))
    assert failed["weight finite"].failed == 2
    assert failed["listened_s from 0 to 3 days (3× speed)"].failed == 1
    assert failed["max_completion from 0 to 1"].failed == 1
    assert failed["unique day, user_id, episode_id"].failed == 2
    orphans = failed["every row has events that day"]
    assert orphans.failed == 1 and "user_id=ghost" in orphans.examples[0]
    assert "rows at most the distinct (user, episode, day) of events" in failed


def test_engagement_checks_read_only_the_partitions_written():
    old, new = date(2025, 5, 1), T0.date()
    lake.append(EVENTS, _events(1))
    # A bad row on an old day, written before: not what the next write is judged by.
    lake.append(ENGAGEMENT_DAILY, _engagement([{"day": old, "user_id": "u0", "episode_id": 1,
                                                "weight": math.nan}]))  # fmt: skip
    before = quality.versions(ENGAGEMENT_DAILY)["engagement_daily"]
    lake.append(ENGAGEMENT_DAILY, _engagement([{"day": new, "user_id": "u0", "episode_id": 1}]))
    assert all(c.ok for c in quality.check_engagement(before))
    assert "weight finite" in _failed(quality.check_engagement(None))


def _passages(vectors: list, texts: list[str]) -> pa.Table:
    n = len(texts)
    return pa.table(
        {
            "episode_id": [1] * n,
            "version": [1] * n,
            "passage_no": list(range(n)),
            "kind": ["transcript"] * n,
            "start_s": [0.0] * n,
            "end_s": [30.0] * n,
            "speakers": [[]] * n,
            "text": texts,
            "embedder": ["test"] * n,
            "vector": pa.array(vectors, pa.list_(pa.float32())),
            "created_at": [T0] * n,
        }
    ).cast(pa.schema([f if f.name != "vector" else pa.field("vector", pa.list_(pa.float32()))
                      for f in PASSAGES.schema]))  # fmt: skip


def _unit(seed: int) -> list[float]:
    v = np.random.default_rng(seed).normal(size=EMBEDDING_DIM)
    return (v / np.linalg.norm(v)).tolist()


def test_passages_empty_text_short_vectors_and_nan_are_caught():
    nan = _unit(3)
    nan[7] = math.nan
    lake.append(PASSAGES, _passages([_unit(1), _unit(2)[:100], nan, [0.0] * EMBEDDING_DIM],
                                    ["fine", "short vector", "nan", "   "]))  # fmt: skip
    failed = _failed(quality.check_passages(None))
    assert failed[f"vector of {EMBEDDING_DIM} numbers"].examples == (
        "episode_id=1 version=1 passage_no=1",
    )
    assert failed["vector finite"].failed == 1
    assert failed["text not empty"].failed == 1
    assert failed["vector of unit length"].failed >= 2  # the zero vector, the short one


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    weights=st.lists(
        st.one_of(st.floats(allow_nan=True, allow_infinity=True, width=64)),
        min_size=1,
        max_size=12,
    )
)
def test_the_weight_rule_counts_exactly_the_non_finite_weights(weights):
    table = _engagement([
        {"day": T0.date(), "user_id": f"u{i}", "episode_id": i, "weight": w}
        for i, w in enumerate(weights)
    ])  # fmt: skip
    with quality.Rows("engagement_daily", table, key=ENGAGEMENT_DAILY.key) as rows:
        (check,) = rows.rules({"weight finite": "isfinite(weight)"})
    assert check.failed == sum(not math.isfinite(w) for w in weights)
    assert check.checked == len(weights)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(ids=st.lists(st.integers(min_value=0, max_value=6), min_size=1, max_size=20))
def test_the_duplicate_rule_counts_keys_held_twice(ids):
    table = pa.table({"id": ids})
    with quality.Rows("t", table, key=("id",)) as rows:
        check = rows.duplicates()
    assert check.failed == sum(1 for i in set(ids) if ids.count(i) > 1)


def test_written_finds_new_files_through_the_lake_and_a_lost_version_makes_all_new():
    lake.append(EVENTS, _events(2))
    lake.append(EVENTS, _events(3))
    w = quality.written(EVENTS, 0)
    assert w.new.count_rows() == 3 and w.touched.count_rows() == 5
    # The same files lake.files_added_since names (the one seam for "new since N").
    names = {u.rsplit("/", 1)[-1] for u in lake.files_added_since(EVENTS, 0)}
    assert {f.path.rsplit("/", 1)[-1] for f in w.new.get_fragments()} == names
    # Version 0's log cleaned up after a checkpoint: it cannot be read, all files are new.
    from deltalake import DeltaTable

    DeltaTable(str(lake.table_path(EVENTS))).create_checkpoint()
    (lake.table_path(EVENTS) / "_delta_log" / f"{0:020d}.json").unlink()
    assert lake.files_added_since(EVENTS, 0) is None
    assert quality.written(EVENTS, 0).new.count_rows() == 5


def test_the_duration_slack_is_defined_once():
    src = Path(quality.__file__).parents[1]
    defined = sorted(
        str(p.relative_to(src))
        for p in src.rglob("*.py")
        if any(line.startswith("DURATION_SLACK") for line in p.read_text().splitlines())
    )
    assert defined == ["lake_tables.py"]
