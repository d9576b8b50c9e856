"""Data-quality checks: what a step wrote is checked before anything downstream reads it.

A check looks at rows (an Arrow table or dataset, a lake table's files, a Django
queryset) and counts the rows that break one rule: the schema, nulls in key columns,
duplicates of a unique key, a value outside its range, a row count that does not match
the step's input. Each is one DuckDB aggregate query (one scan for all of a table's range
rules), never a Python loop over rows; a failing rule costs one more query for a few
offending keys to show.

Steps gather their checks in a :class:`QualityReport` (carried by the step's report as
``quality``) and call :meth:`QualityReport.raise_if_failed`: a failure raises
:class:`~podsight.errors.QualityError`, so the step fails and the pipeline runner does
not run what depends on it. The message names the table, the rule, the counts, a few
offending keys, and the lake version to go back to (``podsight lake restore``).

What a step wrote in the lake is found from the Delta log (:func:`written`): the files
added since the version the table had before the step. Nulls and ranges are checked on
those files only, unique keys on the whole partitions they fall in (a duplicate may sit
in an older file of the same day), or, for unpartitioned tables, on the key columns of
the whole table (columnar: a few integer columns are read).

No data-quality library is used: none is in our locks, and those that fit (pandera,
Great Expectations, Soda Core) validate pandas frames in memory or bring a server-sized
dependency tree for what here is a handful of SQL aggregates over files DuckDB already
reads.

Like the rest of :mod:`podsight.lake`, this module imports no app of podsight; the
checks of database rows take the querysets their callers build.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.dataset as ds
from deltalake import DeltaTable

from podsight import lake
from podsight.errors import QualityError
from podsight.lake.tables import (
    API_PAYLOADS,
    DURATION_SLACK,
    DURATION_SLACK_S,
    EMBEDDING_DIM,
    ENGAGEMENT_DAILY,
    EVENTS,
    PASSAGES,
    SOURCE_METRICS,
    TRANSCRIPTS,
    LakeTable,
)

__all__ = [
    "EARLIEST",
    "EXAMPLES",
    "FUTURE_SKEW",
    "MAX_LISTENED_S",
    "MAX_SECONDS",
    "Check",
    "QualityReport",
    "Rows",
    "Written",
    "added_rows",
    "attach",
    "check_api_payloads",
    "check_engagement",
    "check_events",
    "check_passages",
    "check_queryset",
    "check_schema",
    "check_source_metrics",
    "check_table",
    "check_transcripts",
    "count_check",
    "passed_version",
    "record_passed",
    "timestamp_rule",
    "versions",
    "written",
]

# No podcast data predates 2000; the event API refuses earlier times too.
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
# Clients' clocks are checked within minutes when events arrive; a day more catches a
# time written in the wrong unit or zone without flagging a test clock set a day back.
FUTURE_SKEW = timedelta(days=1)
# A week: longer than any episode (the event API's limit too).
MAX_SECONDS = 7 * 24 * 3600.0
# Offending keys shown per failed check.
EXAMPLES = 5


@dataclass(frozen=True)
class Check:
    """One rule on one table: ``failed`` rows (or units) broke it among ``checked``."""

    table: str
    check: str
    failed: int
    checked: int | None = None
    examples: tuple[str, ...] = ()
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.failed == 0

    def __str__(self) -> str:
        of = f" of {self.checked:,}" if self.checked is not None else ""
        text = f"{self.table}: {self.check}: {self.failed:,}{of} failed"
        if self.detail:
            text += f" ({self.detail})"
        if self.examples:
            text += "; e.g. " + ", ".join(self.examples)
        return text


@dataclass
class QualityReport:
    """The checks of one step's writes; ``restore``: each lake table's version its gate
    last passed at (None: none since it was created), which the error message points
    back to."""

    step: str
    checks: list[Check] = field(default_factory=list)
    restore: dict[str, int | None] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def failures(self) -> list[Check]:
        return [c for c in self.checks if not c.ok]

    @property
    def ok(self) -> bool:
        return not self.failures

    def extend(self, checks: Iterable[Check]) -> None:
        self.checks.extend(checks)

    def summary(self) -> str:
        failed = len(self.failures)
        if failed:
            return f"{failed} of {len(self.checks)} quality check(s) failed"
        return f"{len(self.checks)} quality check(s) passed in {self.seconds:.2f} s"

    def as_dict(self) -> dict[str, Any]:
        return {
            "step": self.step,
            "ok": self.ok,
            "seconds": self.seconds,
            "checks": [asdict(c) for c in self.checks],
            "restore": dict(self.restore),
        }

    def raise_if_failed(self) -> None:
        """Raise :class:`QualityError` naming every failed check and what to do."""
        if self.ok:
            return
        failed = "; ".join(str(c) for c in self.failures)
        actions = []
        held = []
        for table in sorted({c.table for c in self.failures}):
            if table not in self.restore:
                continue
            before = self.restore[table]
            if before is None:
                actions.append(
                    f"move {lake.table_path(table)} aside ({table} has passed no check "
                    "since it was created)"
                )
                held.append(f"all of {table}")
            else:
                actions.append(f"`podsight lake restore {table} --version {before}`")
                held.append(f"everything written to {table} since version {before}")
        what = "fix the cause, then run the step again"
        if actions:
            what = (
                "see `podsight lake history TABLE`; go back to the data that last passed: "
                f"{'; '.join(actions)} (or rewrite the bad rows); then {what}. Until then "
                "this check fails on every run, retries included: it covers "
                + "; ".join(held)
            )
        else:
            what += " (database rows: correct them, or restore a backup: docs/operations.md)"
        message = (
            f"data-quality check(s) failed after {self.step}, so nothing downstream ran on "
            f"this data: {failed}. What to do: {what}."
        )
        raise QualityError(message, report=self)


def attach(report: Any, quality: QualityReport) -> Any:
    """Give a step's report its quality checks (as ``report.quality``); the report."""
    try:
        object.__setattr__(report, "quality", quality)
    except (AttributeError, TypeError):  # a report with __slots__: the checks stay unseen
        pass
    return report


# --------------------------------------------------------------------------- the rules


def _normal(t: pa.DataType) -> str:
    """A type as the Delta log keeps it: large/view strings and lists are strings and
    lists, a fixed-size list is a list (Delta has no fixed size)."""
    if pa.types.is_large_string(t) or pa.types.is_string_view(t) or pa.types.is_string(t):
        return "string"
    if pa.types.is_large_binary(t) or pa.types.is_binary_view(t) or pa.types.is_binary(t):
        return "binary"
    if (
        pa.types.is_list(t)
        or pa.types.is_large_list(t)
        or pa.types.is_fixed_size_list(t)
        or pa.types.is_list_view(t)
    ):
        return f"list<{_normal(t.value_type)}>"
    if pa.types.is_timestamp(t):
        return f"timestamp[{t.unit}, {t.tz or 'naive'}]"
    return str(t)


def check_schema(table: LakeTable, actual: pa.Schema | None = None) -> Check:
    """The table's columns (names, order and types) are the ones :mod:`.tables` declares;
    ``actual`` defaults to the schema in the table's Delta log."""
    if actual is None:
        actual = pa.schema(DeltaTable(str(lake.table_path(table))).schema().to_arrow())
    expected = {f.name: _normal(f.type) for f in table.schema}
    found = {f.name: _normal(f.type) for f in actual}
    problems = [f"missing {n}" for n in expected if n not in found]
    problems += [f"unexpected {n}" for n in found if n not in expected]
    problems += [
        f"{n} is {found[n]}, not {t}" for n, t in expected.items() if n in found and found[n] != t
    ]
    if not problems and list(found) != list(expected):
        problems.append("columns out of order")
    return Check(
        table.name, "schema", len(problems), len(expected), tuple(problems[:EXAMPLES]),
        "expected the columns of podsight.lake.tables" if problems else "",
    )  # fmt: skip


def count_check(table: str, check: str, found: int, expected: int, *, at_most: bool = False,
                detail: str = "") -> Check:  # fmt: skip
    """A row count against the step's input: ``found == expected`` (or ``<=``)."""
    bad = found > expected if at_most else found != expected
    relation = "at most" if at_most else "exactly"
    text = f"found {found:,}, expected {relation} {expected:,}" + (f"; {detail}" if detail else "")
    failed = abs(found - expected) if bad else 0
    return Check(table, check, failed, expected, (), text if bad else "")


def timestamp_rule(column: str, now: datetime | None = None) -> str:
    """SQL: ``column`` is not before 2000 nor more than :data:`FUTURE_SKEW` ahead."""
    latest = (now or datetime.now(UTC)) + FUTURE_SKEW
    return (
        f"{column} >= TIMESTAMPTZ '{EARLIEST.isoformat()}' "
        f"AND {column} <= TIMESTAMPTZ '{latest.isoformat()}'"
    )


class Rows:
    """Rows of one table registered in DuckDB as ``t``: an Arrow table or dataset.

    ``key``: the columns shown for an offending row (the table's key by default)."""

    def __init__(self, table: str, data: pa.Table | ds.Dataset, key: Sequence[str] = ()) -> None:
        self.table = table
        self.key = tuple(key)
        self._con = lake.connect()
        self._con.register("t", data)
        self._count: int | None = None

    def close(self) -> None:
        self._con.close()

    def __enter__(self) -> Rows:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _one(self, sql: str) -> tuple:
        return self._con.execute(sql).fetchone()  # type: ignore[return-value]

    def _examples(self, where: str, columns: Sequence[str] | None = None) -> tuple[str, ...]:
        shown = list(columns or self.key)
        if not shown:
            return ()
        select = ", ".join(_text(c) for c in shown)
        rows = self._con.execute(f"SELECT DISTINCT {select} FROM t WHERE {where} LIMIT {EXAMPLES}")
        return tuple(
            " ".join(f"{c}={_show(v)}" for c, v in zip(shown, row, strict=True))
            for row in rows.fetchall()
        )

    def count(self) -> int:
        if self._count is None:
            self._count = int(self._one("SELECT count(*) FROM t")[0])
        return self._count

    def nulls(self, columns: Sequence[str]) -> Check:
        """No row has a null in ``columns`` (the key, and what else must be there)."""
        where = " OR ".join(f"{_quote(c)} IS NULL" for c in columns)
        failed = int(self._one(f"SELECT count(*) FROM t WHERE {where}")[0])
        examples = self._examples(where, [*self.key, *[c for c in columns if c not in self.key]])
        return Check(self.table, f"no nulls in {', '.join(columns)}", failed, self.count(),
                     examples if failed else ())  # fmt: skip

    def duplicates(self, key: Sequence[str] | None = None) -> Check:
        """No two rows share ``key`` (default: the rows' key)."""
        columns = list(key or self.key)
        select = ", ".join(_quote(c) for c in columns)
        failed = int(
            self._one(
                f"SELECT count(*) FROM (SELECT {select} FROM t GROUP BY ALL HAVING count(*) > 1)"
            )[0]
        )
        examples: tuple[str, ...] = ()
        if failed:
            shown = ", ".join(_text(c) for c in columns)
            rows = self._con.execute(
                f"SELECT {shown}, count(*) AS n FROM t GROUP BY ALL HAVING count(*) > 1 "
                f"ORDER BY n DESC LIMIT {EXAMPLES}"
            ).fetchall()
            examples = tuple(
                " ".join(f"{c}={_show(v)}" for c, v in zip(columns, row, strict=False))
                + f" ×{row[-1]}"
                for row in rows
            )
        return Check(self.table, f"unique {', '.join(columns)}", failed, self.count(), examples,
                     "key(s) held by more than one row" if failed else "")  # fmt: skip

    def rules(self, rules: Mapping[str, str]) -> list[Check]:
        """Each rule (label → SQL condition on a row) holds for every row; a null value
        passes (nulls are :meth:`nulls`' business). All rules in one scan."""
        if not rules:
            return []
        items = list(rules.items())
        counts = ", ".join(
            f"count(*) FILTER (WHERE ({condition}) IS FALSE)" for _, condition in items
        )
        found = self._one(f"SELECT count(*), {counts} FROM t")
        total = int(found[0])
        checks = []
        for (label, condition), failed in zip(items, found[1:], strict=True):
            failed = int(failed)
            examples = self._examples(f"({condition}) IS FALSE") if failed else ()
            checks.append(Check(self.table, label, failed, total, examples))
        return checks

    def scalar(self, sql: str) -> Any:
        """One value of ``sql`` over ``t`` (row counts to compare with inputs)."""
        return self._one(sql)[0]


def check_queryset(table: str, check: str, bad: Any, *, of: Any = None,
                   show: Sequence[str] = ("pk",)) -> Check:  # fmt: skip
    """Database rows: ``bad`` (a queryset of the rows breaking the rule) is empty; ``of``
    (the queryset checked) gives the count checked; ``show``: fields shown per row."""
    failed = bad.count()
    examples: tuple[str, ...] = ()
    if failed:
        examples = tuple(
            " ".join(f"{name}={_show(v)}" for name, v in zip(show, row, strict=True))
            for row in bad.values_list(*show)[:EXAMPLES]
        )
    return Check(table, check, failed, of.count() if of is not None else None, examples)


def _quote(column: str) -> str:
    return '"' + column.replace('"', '""') + '"'


def _text(column: str) -> str:
    """A column as text for the examples (Python gets no timezone-aware values to convert,
    which would need pytz)."""
    return f"CAST({_quote(column)} AS VARCHAR)"


def _show(value: Any) -> str:
    text = str(value)
    return text if len(text) <= 60 else text[:57] + "…"


# --------------------------------------------------------------------------- lake writes


def versions(*tables: LakeTable) -> dict[str, int | None]:
    """Each table's current version (None: it does not exist): taken before a step."""
    return {
        t.name: DeltaTable(str(lake.table_path(t))).version() if lake.exists(t) else None
        for t in tables
    }


# Where each table's last passed version is kept (B2: a failed gate must keep failing
# until the data is fixed, whatever process or run comes next).
STATE_DIR = ".quality"


def _state_file(name: str) -> Path:
    return lake.table_path(STATE_DIR) / f"{name}.json"


def _table_id(table: LakeTable | str) -> str:
    return str(DeltaTable(str(lake.table_path(table))).metadata().id)


def _read_state(name: str) -> dict[str, Any] | None:
    try:
        found = json.loads(_state_file(name).read_text())
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        return {"version": None, "table_id": None}  # unreadable: check everything
    return found if isinstance(found, dict) else {"version": None, "table_id": None}


def _write_state(name: str, state: dict[str, Any]) -> None:
    path = _state_file(name)
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    temp.write_text(json.dumps(state))
    os.replace(temp, path)


def passed_version(table: LakeTable | str) -> int | None:
    """The version of ``table`` its gate last passed at: a step's checks cover everything
    written since (None: every file, nothing has passed since the table was created).

    The first gate to look at a table with no record adopts its current version (what
    was there before gates existed is not judged) and records it at once, so a failure
    of that first check holds for the next run too."""
    name = table if isinstance(table, str) else table.name
    state = _read_state(name)
    exists = lake.exists(name)
    if state is None:
        adopted = lake.version(name) if exists else None
        _write_state(name, {"version": adopted, "table_id": _table_id(name) if exists else None,
                            "adopted": True})  # fmt: skip
        return adopted
    version, table_id = state.get("version"), state.get("table_id")
    if not exists or version is None:
        return None
    if table_id != _table_id(name) or version > lake.version(name):  # type: ignore[operator]
        return None  # the table was moved aside and made again: all of it is new
    return int(version)


def record_passed(versions: Mapping[str, int | None]) -> None:
    """Record each table's version as passed (taken when its checks began: a write that
    raced them is checked next time)."""
    for name, version in versions.items():
        if version is not None:
            _write_state(name, {"version": version, "table_id": _table_id(name)})


@dataclass
class Written:
    """What a step wrote to one table: the files added since ``before`` (``new``), and
    the partitions they fall in whole (``touched``; unpartitioned: the whole table)."""

    table: LakeTable
    before: int | None
    after: int | None
    new: ds.Dataset | None
    touched: ds.Dataset | None

    @property
    def changed(self) -> bool:
        return self.after is not None and self.after != self.before


def written(table: LakeTable, before: int | None) -> Written:
    """The files of ``table`` that were not there at version ``before`` (None: every
    file), found by :func:`podsight.lake.fragments_added_since`; a version that can no
    longer be read (vacuumed) makes every file new."""
    if not lake.exists(table):
        return Written(table, before, None, None, None)
    current = DeltaTable(str(lake.table_path(table)))
    after = current.version()
    if after == before:
        return Written(table, before, after, None, None)
    full, added = lake.fragments_added_since(table, before, at=current)
    fragments = list(full.get_fragments())
    new = ds.FileSystemDataset(added, full.schema, full.format, full.filesystem)
    if not table.partition_by:
        return Written(table, before, after, new, full)
    # A fragment's partition is the leading "col=value" directories of its path.
    depth = len(table.partition_by)
    parts = {tuple(f.path.split("/")[:depth]) for f in added}
    same = [f for f in fragments if tuple(f.path.split("/")[:depth]) in parts]
    touched = ds.FileSystemDataset(same, full.schema, full.format, full.filesystem)
    return Written(table, before, after, new, touched)


def added_rows(table: LakeTable, before: int | None) -> int:
    """Rows the commits after version ``before`` added by appending (from the Delta log's
    operation metrics; merges' rewritten rows are not counted)."""
    if not lake.exists(table):
        return 0
    total = 0
    limit = 32
    while True:
        history = DeltaTable(str(lake.table_path(table))).history(limit)
        newer = [c for c in history if before is None or c["version"] > before]
        if len(newer) < len(history) or len(history) < limit:
            break
        limit *= 4
    for commit in newer:
        if commit.get("operation") in ("WRITE", "CREATE TABLE"):
            total += int((commit.get("operationMetrics") or {}).get("num_added_rows", 0))
    return total


# --------------------------------------------------------------------------- the tables' rules

# A listener plays at up to 3× speed (events.consumer.MAX_SPEED): a day holds at most
# three days of listening to one episode.
MAX_LISTENED_S = 3 * 24 * 3600.0


def _seconds(column: str, *, positive: bool = False) -> str:
    low = ">" if positive else ">="
    return f"isfinite({column}) AND {column} {low} 0 AND {column} <= {MAX_SECONDS}"


def check_table(table: LakeTable, before: int | None, *, required: Sequence[str],
                rules: Mapping[str, str], unique: bool = True) -> list[Check]:  # fmt: skip
    """The schema, then on the rows written since ``before``: no nulls in ``required``
    (the key first), every rule, and (``unique``) no key held twice in the partitions
    written (the whole table when it has none)."""
    if not lake.exists(table):
        return []  # nothing written, nothing to check
    checks = [check_schema(table)]
    w = written(table, before)
    if not w.changed or w.new is None:
        return checks
    with Rows(table.name, w.new, key=table.key) as rows:
        checks.append(rows.nulls([*table.key, *[c for c in required if c not in table.key]]))
        checks.extend(rows.rules(rules))
    if unique and table.key and w.touched is not None:
        with Rows(table.name, w.touched, key=table.key) as rows:
            checks.append(rows.duplicates())
    return checks


def check_events(before: int | None, *, written_rows: int | None = None,
                 run_started: int | None | type[Ellipsis] = ...) -> list[Check]:  # fmt: skip
    """``events`` after a consumer run: keys, unique event ids, sane times, positions and
    durations, ratings on what was written since ``before``; and (``written_rows``: what
    the consumer says this run wrote) as many rows added since ``run_started`` (the
    version when the run began; default ``before``) as events written."""

    checks = check_table(
        EVENTS, before,
        required=("user_id", "type", "occurred_at", "received_at", "date", "log_partition",
                  "log_offset"),
        rules={
            "occurred_at from 2000 to now + 1 day": timestamp_rule("occurred_at"),
            "received_at from 2000 to now + 1 day": timestamp_rule("received_at"),
            "date is occurred_at's UTC day": "date = CAST(occurred_at AS DATE)",
            "position_s from 0 s to a week": _seconds("position_s"),
            "duration_s above 0 s, at most a week": _seconds("duration_s", positive=True),
            # What the event API accepts (events.services): a feed's duration leaves out
            # the ads inserted into the audio, so a position may pass it by 10 % + 300 s.
            "position_s within duration_s (+10 % + 300 s)":
                f"position_s <= duration_s * {DURATION_SLACK} + {DURATION_SLACK_S}",
            "rating from 1 to 5": "rating BETWEEN 1 AND 5",
            "log_offset at least 0": "log_offset >= 0",
        },
    )  # fmt: skip
    if written_rows is not None:
        checks.append(
            count_check(
                EVENTS.name, "rows added equal events consumed",
                added_rows(EVENTS, before if run_started is ... else run_started),
                written_rows, detail="the Delta log's added rows against the consumer's count",
            )
        )  # fmt: skip
    return checks


def check_engagement(before: int | None) -> list[Check]:
    """``engagement_daily`` after it was (re)computed: keys, unique (day, user, episode),
    counts and weights in range, and no row without events that day: the rows written
    are at most the distinct (user, episode, day) of ``events`` on their days.

    For every writer of the table (the consumer, ``events.engagement``)."""

    table = ENGAGEMENT_DAILY
    checks = check_table(
        table, before,
        required=("plays", "listened_s", "max_completion", "events", "last_event_at", "weight"),
        rules={
            "weight finite": "isfinite(weight)",
            "max_completion from 0 to 1": "max_completion BETWEEN 0 AND 1",
            "listened_s from 0 to 3 days (3× speed)":
                f"isfinite(listened_s) AND listened_s BETWEEN 0 AND {MAX_LISTENED_S}",
            "counts at least 0": "least(plays, likes, unlikes, skips, downloads) >= 0",
            "events at least 1": "events >= 1",
            "rating from 1 to 5": "rating BETWEEN 1 AND 5",
            "last_event_at from 2000 to now + 1 day": timestamp_rule("last_event_at"),
            "last_event_at on the row's day": "CAST(last_event_at AS DATE) = day",
        },
    )  # fmt: skip
    w = written(table, before)
    if not w.changed or w.new is None or not lake.exists(EVENTS):
        return checks
    con = lake.connect()
    try:
        con.register("e", w.new)
        found = con.execute("SELECT DISTINCT day FROM e WHERE day IS NOT NULL").fetchall()
        days = [d for (d,) in found]
        events = DeltaTable(str(lake.table_path(EVENTS))).to_pyarrow_dataset(
            file_pruning_predicate=[("date", "in", [d.isoformat() for d in days])] if days else None
        )
        con.register("v", events)
        con.execute(
            "CREATE TEMP TABLE k AS SELECT DISTINCT user_id, episode_id, date AS day FROM v "
            "WHERE episode_id IS NOT NULL AND date IN (SELECT day FROM e)"
        )
        con.execute("CREATE TEMP TABLE r AS SELECT DISTINCT day, user_id, episode_id FROM e")
        rows = con.execute("SELECT count(*) FROM r").fetchone()[0]
        keys = con.execute("SELECT count(*) FROM k").fetchone()[0]
        orphan_sql = "FROM r ANTI JOIN k USING (day, user_id, episode_id)"
        orphans = con.execute(f"SELECT count(*) {orphan_sql}").fetchone()[0]
        examples = tuple(
            f"day={d} user_id={u} episode_id={e}"
            for d, u, e in con.execute(
                f"SELECT day, user_id, episode_id {orphan_sql} LIMIT {EXAMPLES}"
            ).fetchall()
        )
    finally:
        con.close()
    checks.append(
        count_check(
            table.name,
            "rows at most the distinct (user, episode, day) of events",
            int(rows),
            int(keys),
            at_most=True,
            detail="on the days written",
        )  # fmt: skip
    )
    checks.append(
        Check(table.name, "every row has events that day", int(orphans), int(rows), examples)
    )
    return checks


def check_transcripts(before: int | None) -> list[Check]:
    """``transcripts`` segments written: keys, text, times in range."""

    return check_table(
        TRANSCRIPTS, before,
        required=("source", "format", "text", "created_at"),
        rules={
            "version at least 1": "version >= 1",
            "segment_no at least 0": "segment_no >= 0",
            "start_s from 0 s to a week": _seconds("start_s"),
            "end_s from 0 s to a week": _seconds("end_s"),
            "end_s not before start_s": "end_s >= start_s",
            "created_at from 2000 to now + 1 day": timestamp_rule("created_at"),
        },
    )  # fmt: skip


def check_passages(before: int | None, *, dim: int | None = None) -> list[Check]:
    """``passages`` written: keys, no empty text, vectors of the embedding size, finite
    and of unit length, times in range."""

    dim = dim or EMBEDDING_DIM
    return check_table(
        PASSAGES, before,
        required=("kind", "text", "embedder", "vector", "created_at"),
        rules={
            "text not empty": "length(trim(text)) > 0",
            f"vector of {dim} numbers": f"len(vector) = {dim}",
            "vector finite": "list_bool_and(list_transform(vector, lambda x: isfinite(x)))",
            # all-MiniLM's vectors are normalised; float32 rounding stays far inside 1e-3.
            "vector of unit length":
                "abs(sqrt(list_sum(list_transform(vector, lambda x: x * x))) - 1) < 1e-3",
            "start_s from 0 s to a week": _seconds("start_s"),
            "end_s not before start_s": "end_s >= start_s AND end_s <= "
                                        f"{MAX_SECONDS}",
            "created_at from 2000 to now + 1 day": timestamp_rule("created_at"),
        },
    )  # fmt: skip


def check_source_metrics(before: int | None) -> list[Check]:
    """``source_metrics`` observations written: who, what, when, and a finite value."""

    return check_table(
        SOURCE_METRICS, before,
        required=("source", "kind", "external_id", "metric", "value", "observed_at"),
        rules={
            "value finite": "isfinite(value)",
            "kind channel or episode": "kind IN ('channel', 'episode')",
            "external_id not empty": "length(external_id) > 0",
            "observed_at from 2000 to now + 1 day": timestamp_rule("observed_at"),
        },
        unique=False,
    )  # fmt: skip


def check_api_payloads(before: int | None) -> list[Check]:
    """``api_payloads`` kept: source, endpoint, an HTTP status, a sane time."""

    return check_table(
        API_PAYLOADS, before,
        required=("source", "endpoint", "status", "fetched_at"),
        rules={
            "status an HTTP status": "status BETWEEN 100 AND 599",
            "fetched_at from 2000 to now + 1 day": timestamp_rule("fetched_at"),
        },
        unique=False,
    )  # fmt: skip
