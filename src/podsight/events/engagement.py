"""``engagement_daily`` recomputed from ``events`` in one batch (the ``events.engagement``
step), locally with DuckDB or as the Spark job of the same name.

The consumer keeps ``engagement_daily`` current row by row as events arrive
(:mod:`podsight.events.consumer`); this recomputes every row from the whole ``events``
table with the consumer's own query (:func:`~podsight.events.consumer.engagement_sql`,
unkeyed), so the two agree exactly, and replaces the table in one commit (the old rows
stay readable by time travel). It is what a scheduled pipeline runs after draining the
log, and what a scale-out setup runs on Spark when the events no longer fit one machine.

**Incremental.** The commit records the ``events`` version it was computed from
(``podsight.engagement_from``); when the table's newest commit is such a recomputation
from the current ``events`` version nothing changed, and the step does nothing. The
commit also records the log position it covers (``podsight.events_position``), as the
consumer's commits do, so a consumer started afterwards finds nothing to catch up on.
Nor does it recompute when the consumer has kept the table exact since (every ``events``
commit since the last recomputation is a consumer's, none a restore, and the position
``engagement_daily`` covers is the one ``events`` is at): rewriting an identical table
daily would copy it in storage each day and make every user "new" to ``recs.refresh``.

It holds the consumer's lock while it runs: a consumer running meanwhile would change
``events`` under it. When a consumer is running, the step does nothing either: that
consumer keeps the table current itself.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass

from deltalake import DeltaTable

from podsight import engines, lake
from podsight.lake.tables import ENGAGEMENT_DAILY, EVENTS

__all__ = ["FROM_KEY", "EngagementReport", "compute_engagement", "recompute", "recomputed_from"]

# Commit metadata: the ``events`` version a recomputation read.
FROM_KEY = "podsight.engagement_from"


@dataclass
class EngagementReport:
    """What :func:`recompute` did: ``skipped`` says why it did nothing."""

    engine: str = "local"
    rows: int = 0
    days: int = 0
    events_version: int | None = None
    seconds: float = 0.0
    skipped: str | None = None
    # Why it recomputed (forced, events restored, written by another path…).
    reason: str = ""

    def __str__(self) -> str:
        if self.skipped:
            return f"engagement_daily not recomputed: {self.skipped}"
        return (
            f"engagement_daily recomputed on {self.engine} from events version "
            f"{self.events_version}: {self.rows:,} row(s) over {self.days:,} day(s) "
            f"in {self.seconds:.2f} s" + (f" ({self.reason})" if self.reason else "")
        )


def recomputed_from() -> int | None:
    """The ``events`` version the table's newest commit was recomputed from; None when
    that commit is not a recomputation (the consumer's, a restore) or there is no table."""
    if not lake.exists(ENGAGEMENT_DAILY):
        return None
    (newest,) = DeltaTable(str(lake.table_path(ENGAGEMENT_DAILY))).history(1)
    raw = newest.get(FROM_KEY)
    return int(raw) if raw is not None else None


def _commits(table) -> Iterator[dict]:
    """The table's commits, newest first, read a few at a time (most walks stop early)."""
    dt = DeltaTable(str(lake.table_path(table)))
    limit, seen = 16, 0
    while True:
        history = dt.history(limit)
        yield from history[seen:]
        if len(history) < limit:
            return
        seen, limit = len(history), limit * 4


# The table versions up to which the walk below found only the consumer's commits: the
# next walk stops there (a restore adds a new version, it never rewrites an old one), so
# a daily check reads one day's commits, not the whole history.
CHECKED_FILE = ".engagement_checked.json"


def _checked() -> tuple[int, int]:
    """(events, engagement_daily) versions already walked; (-1, -1) when unknown or
    beyond the tables (recreated since)."""
    try:
        raw = json.loads(lake.table_path(CHECKED_FILE).read_text("utf-8"))
        events, engagement = int(raw["events"]), int(raw["engagement_daily"])
    except (OSError, ValueError, KeyError, TypeError):
        return -1, -1
    if events > _version(EVENTS) or engagement > _version(ENGAGEMENT_DAILY):
        return -1, -1
    return events, engagement


def _version(table) -> int:
    return DeltaTable(str(lake.table_path(table))).version()


def _remember_checked() -> None:
    path = lake.table_path(CHECKED_FILE)
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(
        json.dumps({"events": _version(EVENTS), "engagement_daily": _version(ENGAGEMENT_DAILY)}),
        "utf-8",
    )
    os.replace(temporary, path)


def _not_covered() -> str | None:
    """None when ``engagement_daily`` already holds exactly what a recomputation would
    write, else why not. It does when, since the last recomputation (or ever), every
    ``events`` commit is a consumer's (it carries the log position; a restore or another
    writer may not have kept engagement in step) and every ``engagement_daily`` commit is
    the consumer's merge of the keys it wrote, covering the position ``events`` is at."""
    from podsight.events.consumer import COVERS_KEY, POSITION_KEY, lake_position
    from podsight.lake.history import RESTORED_FROM

    if not lake.exists(ENGAGEMENT_DAILY):
        return "engagement_daily does not exist yet"
    events_checked, engagement_checked = _checked()
    base = events_checked  # events versions up to this one need no walk
    for commit in _commits(ENGAGEMENT_DAILY):
        if int(commit["version"]) <= engagement_checked:
            break
        if RESTORED_FROM in commit:
            return f"engagement_daily was restored (version {commit['version']})"
        if FROM_KEY in commit:
            base = max(base, int(commit[FROM_KEY]))  # the last recomputation's events
            break
        if COVERS_KEY not in commit:
            return (
                f"engagement_daily version {commit['version']} was not written by the "
                "consumer"
            )
    for commit in _commits(EVENTS):
        if int(commit["version"]) <= base:
            break
        if RESTORED_FROM in commit:
            return f"events was restored (version {commit['version']})"
        if POSITION_KEY not in commit:
            return (
                f"events version {commit['version']} was not written by the consumer (no "
                "log position)"
            )
    position = lake_position(EVENTS)
    if lake_position(ENGAGEMENT_DAILY, COVERS_KEY) != position:
        return "engagement_daily does not cover the events' log position"
    _remember_checked()
    return None


def _days() -> int:
    """Days ``engagement_daily`` holds (its partitions)."""
    (count,) = lake.query("SELECT count(DISTINCT day) AS n FROM g", g=ENGAGEMENT_DAILY.name)[
        "n"
    ].to_pylist()
    return int(count)


def compute_engagement(events_version: int | None = None):
    """Every ``engagement_daily`` row from ``events`` (at ``events_version``, default the
    current one), as an Arrow table of the lake's schema, sorted by its key."""
    from podsight.events.consumer import engagement_sql

    dataset = DeltaTable(
        str(lake.table_path(EVENTS)), version=events_version
    ).to_pyarrow_dataset()
    con = lake.connect()
    try:
        con.register("events", dataset)
        table = con.sql(
            f"SELECT * FROM ({engagement_sql(keyed=False)}) ORDER BY day, user_id, episode_id"
        ).to_arrow_table()
    finally:
        con.close()
    return table.select(ENGAGEMENT_DAILY.schema.names).cast(ENGAGEMENT_DAILY.schema)


def recompute(*, engine: str | None = None, force: bool = False) -> EngagementReport:
    """Recompute ``engagement_daily`` from ``events`` on ``engine`` (default
    ``PODSIGHT_ENGINE``), unless it already was from the current ``events`` (``force``:
    all the same)."""
    from podsight.events.consumer import (
        COVERS_KEY,
        ConsumerBusy,
        _encode_position,
        consumer_lock,
        lake_position,
    )

    report = EngagementReport(engine=engines.current(engine))
    if report.engine == "spark":
        engines.spark_python()  # a missing Spark says so even when there is nothing to do
    started = time.monotonic()
    if not lake.exists(EVENTS):
        report.skipped = (
            "the lake has no events yet (send listening events and run `podsight events "
            "consume`)"
        )
        return report
    try:
        with consumer_lock():
            version = DeltaTable(str(lake.table_path(EVENTS))).version()
            report.events_version = version
            if not force and recomputed_from() == version:
                report.skipped = (
                    f"events unchanged since the last recomputation (version {version})"
                )
                return report
            # Decided before a Spark job would start its JVM.
            why = "forced" if force else _not_covered()
            if why is None:
                report.skipped = (
                    f"it already covers every event (events version {version}): the "
                    "consumer kept it current"
                )
                return report
            report.reason = why
            metadata = {FROM_KEY: str(version)}
            position = lake_position(EVENTS)
            if position:
                metadata[COVERS_KEY] = _encode_position(position)
            if report.engine == "spark":
                result = engines.run_spark_job(
                    "events.engagement",
                    lake=str(lake.table_path(EVENTS).parent),
                    mode="overwrite",
                    commit_metadata=metadata,
                )
                report.rows = int(result["rows_written"])
                report.days = _days()
            else:
                rows = compute_engagement(version)
                lake.overwrite(ENGAGEMENT_DAILY, rows, metadata=metadata)
                report.rows = rows.num_rows
                report.days = len(set(rows.column("day").to_pylist()))
    except ConsumerBusy as busy:
        report.skipped = (
            f"a consumer is running on this lake{busy.who}: it keeps engagement_daily current"
        )
        return report
    report.seconds = round(time.monotonic() - started, 3)
    return report
