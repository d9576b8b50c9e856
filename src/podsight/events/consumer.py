"""From the event log to the lake: ``events`` (append, partitioned by date) and
``engagement_daily`` (user × episode × day), exactly once.

How exactly-once holds through a crash at any point:

* Each ``events`` commit carries, in its commit metadata, the log position after the
  entries it holds. The rows and the position are one atomic Delta commit, so on restart
  the consumer resumes where the last commit left off: a batch is either wholly in the
  table, position included, or not at all.
* ``engagement_daily`` rows are not incremented; they are recomputed from the ``events``
  table for every (user, episode, day) a batch touched, and merged in (replacing the old
  row). Recomputing twice gives the same row, so a crash between the two commits is
  repaired on restart by recomputing the keys of the events the engagement table has
  not yet seen (its own commits carry the ``events`` position they cover).
* An event id already in ``events`` is dropped (Kafka may hold a client's retry twice).

After each batch's engagement commit, ``on_written`` (the ``events.consume`` step passes
the recommendations' refresh) gets the ids of the users the batch wrote (leaving out
those whose only events were ``progress`` or ``seek``: see ``QUIET_TYPES``). It runs on a
thread of its own: the consumer hands the users over and goes on with the next batch,
users arriving meanwhile are gathered into the next call, and a failure is logged,
never raised, so a refresh can neither stall nor lose consumption. An idle consumer polls
the log every ``DEFAULT_INTERVAL_S`` (0.5 s): a listener's new play should reach their
recommendations within seconds (docs/recs.md "Near real time").

See ``docs/events.md`` for the weight formula and the listened-seconds rule.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta

import duckdb
import orjson
import pyarrow as pa
import pyarrow.compute as pc
from deltalake import DeltaTable

from podsight import lake, locks
from podsight.errors import StorageError
from podsight.events.log import Entry, EventLog, Position, open_log
from podsight.lake.tables import (
    ENGAGEMENT_DAILY,
    ENGAGEMENT_MAX_SPEED,
    ENGAGEMENT_WEIGHT_SQL,
    EVENTS,
    LakeTable,
)

__all__ = [
    "COVERS_KEY",
    "DEFAULT_INTERVAL_S",
    "ConsumeReport",
    "ConsumerBusy",
    "consume",
    "consumer_lock",
    "engagement_sql",
    "lake_position",
]

logger = logging.getLogger("podsight.events.consume")

# Seconds between polls of an empty log. A poll of the local log is one indexed SQLite
# read (microseconds), of Kafka two small requests; 5 s alone took the near-real-time
# target of 5 s from an accepted event to changed recommendations.
DEFAULT_INTERVAL_S = 0.5
# How long a stopping consumer waits for the refresh at hand.
REFRESH_DRAIN_S = 30.0

# The tables, their schemas and partitioning: lake/tables.py.
ENGAGEMENT = ENGAGEMENT_DAILY
POSITION_KEY = "podsight.log_position"
COVERS_KEY = "podsight.events_position"

_PAYLOAD_FIELDS = [
    f.name
    for f in EVENTS.schema
    if f.name not in ("occurred_at", "received_at", "date", "log_partition", "log_offset")
]

# Weight of a user × episode × day (docs/events.md) and the fastest plausible playback:
# defined in lake_tables, where the Spark engine's events.engagement reads them too.
WEIGHT_SQL = ENGAGEMENT_WEIGHT_SQL
MAX_SPEED = ENGAGEMENT_MAX_SPEED


class ConsumerBusy(StorageError, RuntimeError):
    """Another consumer holds this lake's lock; ``holder`` is who, as its lock file says
    ("process 12 on host api-1 since …"), empty when it does not say."""

    def __init__(self, message: str, holder: str = "") -> None:
        super().__init__(message)
        self.holder = holder

    @property
    def who(self) -> str:
        """`` (process 12 on host … since …)``, or nothing when unknown."""
        return f" ({self.holder})" if self.holder else ""


@dataclass
class ConsumeReport:
    batches: int = 0
    events_written: int = 0
    duplicates_dropped: int = 0
    engagement_rows: int = 0
    recovered_keys: int = 0
    position: Position | None = None
    # Why nothing was consumed: a drain found a consumer running (it keeps the lake current).
    skipped: str | None = None

    def __str__(self) -> str:
        if self.skipped:
            return f"nothing consumed: {self.skipped}"
        text = (
            f"{self.batches} batch(es): {self.events_written:,} event(s) written, "
            f"{self.duplicates_dropped:,} duplicate(s) dropped, "
            f"{self.engagement_rows:,} engagement row(s) recomputed"
        )
        if self.recovered_keys:
            text += f", {self.recovered_keys:,} recomputed after an interrupted run"
        return text


def _decode_position(raw: str | None) -> Position | None:
    if not raw:
        return None
    return {int(k): int(v) for k, v in json.loads(raw).items()}


def _encode_position(position: Position) -> str:
    return json.dumps({str(k): v for k, v in sorted(position.items())})


def lake_position(table: LakeTable, key: str = POSITION_KEY) -> Position | None:
    """The position the table's latest commit that carries ``key`` records."""
    if not lake.exists(table):
        return None
    dt = DeltaTable(str(lake.table_path(table)))
    limit = 16
    while True:
        history = dt.history(limit)
        for commit in history:  # newest first
            if key in commit:
                return _decode_position(commit[key])
        if len(history) < limit:
            return None
        limit *= 4


def _rows(entries: list[Entry]) -> pa.Table:
    columns: dict[str, list] = {name: [] for name in _PAYLOAD_FIELDS}
    occurred: list[int] = []
    received: list[int] = []
    partitions: list[int] = []
    offsets: list[int] = []
    for entry in entries:
        event = orjson.loads(entry.payload)
        for name in _PAYLOAD_FIELDS:
            columns[name].append(event.get(name))
        occurred.append(event["occurred_us"])
        received.append(event["received_us"])
        partitions.append(entry.partition)
        offsets.append(entry.offset)
    schema = EVENTS.schema
    occurred_at = pa.array(occurred, pa.int64()).cast(schema.field("occurred_at").type)
    arrays = {name: pa.array(values, schema.field(name).type) for name, values in columns.items()}
    arrays["occurred_at"] = occurred_at
    arrays["received_at"] = pa.array(received, pa.int64()).cast(schema.field("received_at").type)
    arrays["date"] = occurred_at.cast(pa.date32())
    arrays["log_partition"] = pa.array(partitions, pa.int32())
    arrays["log_offset"] = pa.array(offsets, pa.int64())
    return pa.table([arrays[f.name] for f in schema], schema=schema)


def _dataset(dates: set[date]):
    """The ``events`` table's files for these dates only (partition pruning)."""
    return DeltaTable(str(lake.table_path(EVENTS))).to_pyarrow_dataset(
        file_pruning_predicate=[("date", "in", [d.isoformat() for d in sorted(dates)])]
    )


def _fresh(rows: pa.Table) -> tuple[pa.Table, int]:
    """Drop rows whose event id is earlier in the batch or already in ``events``."""
    con = duckdb.connect()
    try:
        con.register("batch", rows)
        con.execute("CREATE TEMP TABLE b AS SELECT *, row_number() OVER () AS n FROM batch")
        if lake.exists(EVENTS):
            dates = set(rows.column("date").to_pylist())
            existing = _dataset(dates)
            con.register("existing", existing)
            seen = "SELECT event_id FROM existing WHERE event_id IN (SELECT event_id FROM b)"
        else:
            seen = "SELECT NULL::VARCHAR AS event_id WHERE false"
        columns = ", ".join(f.name for f in EVENTS.schema)
        fresh = con.sql(
            f"SELECT {columns} FROM b WHERE event_id NOT IN ({seen}) "
            "QUALIFY row_number() OVER (PARTITION BY event_id ORDER BY n) = 1 ORDER BY n"
        ).to_arrow_table()
    finally:
        con.close()
    return fresh.cast(EVENTS.schema), rows.num_rows - fresh.num_rows


def engagement_sql(*, keyed: bool) -> str:
    """The engagement rows computed from the relation ``events``: for the (user, episode,
    day) rows of the relation ``keys`` when ``keyed`` (the consumer's micro-batches),
    else for every one (``events.engagement``'s batch recomputation, events/engagement.py).
    One query for both, so the batch gives exactly the rows the consumer maintains.

    The previous event of a session counts for ``listened_s`` only when it is of the same
    UTC day or the day before: what the consumer reads for a day (the day before too), so
    the row does not depend on which other days a batch happened to read."""
    users = "SEMI JOIN users USING (user_id)" if keyed else ""
    keys = (
        "SEMI JOIN keys k ON l.user_id = k.user_id AND l.episode_id = k.episode_id "
        "AND l.day = k.day"
        if keyed
        else ""
    )
    return f"""
            WITH {"users AS (SELECT DISTINCT user_id FROM keys)," if keyed else ""}
            e AS (
                SELECT ev.user_id, ev.episode_id, ev.type, ev.occurred_at, ev.rating,
                    CASE WHEN ev.type = 'complete' THEN coalesce(ev.position_s, ev.duration_s)
                         ELSE ev.position_s END AS position_s,
                    ev.duration_s,
                    lag(ev.type) OVER w AS prev_type,
                    lag(ev.position_s) OVER w AS prev_position,
                    lag(ev.occurred_at) OVER w AS prev_at
                FROM events ev {users}
                WHERE ev.episode_id IS NOT NULL
                WINDOW w AS (
                    PARTITION BY ev.user_id, ev.episode_id, coalesce(ev.session_id, '')
                    ORDER BY ev.occurred_at, ev.event_id
                )
            ),
            listened AS (
                SELECT *, CAST(occurred_at AT TIME ZONE 'UTC' AS DATE) AS day,
                    CASE WHEN type IN ('progress', 'pause', 'complete', 'skip')
                          AND prev_type IN ('play', 'progress', 'seek')
                          AND position_s IS NOT NULL AND prev_position IS NOT NULL
                          AND CAST(prev_at AT TIME ZONE 'UTC' AS DATE)
                              >= CAST(occurred_at AT TIME ZONE 'UTC' AS DATE) - 1
                    THEN greatest(0, least(
                        position_s - prev_position,
                        {MAX_SPEED} * epoch(occurred_at - prev_at)))
                    ELSE 0 END AS listened
                FROM e
            ),
            agg AS (
                SELECT l.user_id, l.episode_id, l.day,
                    count(*) FILTER (WHERE type = 'play') AS plays,
                    -- Rounded: a sum of floats depends on the order it is added in, which
                    -- differs between a batch, a micro-batch and a Spark job.
                    round(coalesce(sum(listened), 0), 6) AS listened_s,
                    -- least() skips NULLs: events without a position must stay NULL.
                    coalesce(max(CASE WHEN type = 'complete' THEN 1.0
                        WHEN duration_s > 0 AND position_s IS NOT NULL
                        THEN least(1.0, position_s / duration_s) END), 0) AS max_completion,
                    count(*) FILTER (WHERE type = 'like') AS likes,
                    count(*) FILTER (WHERE type = 'unlike') AS unlikes,
                    count(*) FILTER (WHERE type = 'skip') AS skips,
                    count(*) FILTER (WHERE type = 'download') AS downloads,
                    CAST(arg_max(rating, occurred_at) FILTER (WHERE type = 'rate') AS INTEGER)
                        AS rating,
                    count(*) AS events,
                    max(occurred_at) AS last_event_at
                FROM listened l {keys}
                GROUP BY ALL
            )
            SELECT *, {WEIGHT_SQL} AS weight FROM agg
            """


def _engagement(keys: pa.Table) -> pa.Table:
    """Recompute engagement rows for ``keys`` (user_id, episode_id, day) from ``events``."""
    days = set(keys.column("day").to_pylist())
    # The day before too: a session that began before midnight carries into the day.
    read_days = days | {d - timedelta(days=1) for d in days}
    events = _dataset(read_days)
    con = duckdb.connect()
    try:
        con.register("events", events)
        con.register("keys", keys)
        table = con.sql(engagement_sql(keyed=True)).to_arrow_table()
    finally:
        con.close()
    return table.select(ENGAGEMENT.schema.names).cast(ENGAGEMENT.schema)


def _keys(rows: pa.Table) -> pa.Table:
    """(user, episode, day) a batch touches: its events' days and the day after each
    (a session running over midnight counts its first part there)."""
    con = duckdb.connect()
    try:
        con.register("r", rows)
        return con.sql(
            "SELECT DISTINCT user_id, episode_id, date AS day FROM r "
            "WHERE episode_id IS NOT NULL "
            "UNION SELECT DISTINCT user_id, episode_id, CAST(date + 1 AS DATE) FROM r "
            "WHERE episode_id IS NOT NULL"
        ).to_arrow_table()
    finally:
        con.close()


def _merge_engagement(keys: pa.Table, covers: Position) -> int:
    rows = _engagement(keys) if keys.num_rows else ENGAGEMENT.schema.empty_table()
    metadata = {COVERS_KEY: _encode_position(covers)}
    if not lake.exists(ENGAGEMENT):
        lake.append(ENGAGEMENT, rows, metadata=metadata)
        return rows.num_rows
    days = sorted(set(rows.column("day").to_pylist()))
    if not days:
        # Still commit, so the table records the position it covers.
        lake.append(ENGAGEMENT, rows, metadata=metadata)
        return 0
    day_list = ", ".join(f"'{d.isoformat()}'" for d in days)
    # Matched on the table's key (day, user, episode) within the batch's days.
    lake.merge(ENGAGEMENT, rows, within=f"t.day IN ({day_list})", metadata=metadata)
    return rows.num_rows


def _behind(covers: Position | None, position: Position) -> pa.Table:
    """Keys of events already in ``events`` that ``engagement_daily`` has not covered."""
    covers = covers or {}
    dataset = DeltaTable(str(lake.table_path(EVENTS))).to_pyarrow_dataset()
    con = duckdb.connect()
    try:
        con.register("events", dataset)
        conditions = " OR ".join(
            f"(log_partition = {int(p)} AND log_offset >= {int(covers.get(p, 0))})"
            for p in position
        )
        missed = con.sql(
            "SELECT user_id, episode_id, date FROM events WHERE " + (conditions or "false")
        ).to_arrow_table()
    finally:
        con.close()
    return _keys(missed)


class _Refresher:
    """Calls ``callback(users)`` on a thread of its own, one call at a time; users handed
    over while a call runs are gathered into the next one. Exceptions are logged."""

    def __init__(
        self, callback: Callable[[set[str]], object], warm: Callable[[], object] | None = None
    ) -> None:
        self._callback = callback
        self._warm = warm
        self._pending: set[str] = set()
        self._cond = threading.Condition()
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="consumer-refresh", daemon=True)
        self._thread.start()

    def submit(self, users: Iterable[str]) -> None:
        with self._cond:
            self._pending.update(users)
            self._cond.notify()

    def _run(self) -> None:
        try:
            if self._warm is not None:
                # Before the first events: what the first refresh would otherwise pay.
                try:
                    self._warm()
                except Exception as exc:  # noqa: BLE001 - the first refresh will tell
                    logger.warning(
                        "warming up the refresh failed (%s: %s)", type(exc).__name__, exc
                    )
            while True:
                with self._cond:
                    while not self._pending and not self._closed:
                        self._cond.wait()
                    if not self._pending:
                        return
                    users, self._pending = self._pending, set()
                try:
                    self._callback(users)
                except Exception as exc:  # noqa: BLE001 - whatever it was, consuming goes on
                    logger.warning(
                        "refreshing %d user(s) after their events failed (%s: %s); the events "
                        "are in the lake, their lists catch up at the next refresh or training",
                        len(users), type(exc).__name__, exc,
                    )  # fmt: skip
                    logger.debug("the refresh's traceback", exc_info=True)
        finally:
            _close_connections()

    def close(self, timeout: float) -> None:
        """Finish what was handed over (waiting at most ``timeout`` seconds)."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        self._thread.join(timeout)
        if self._thread.is_alive():
            logger.warning("stopped without waiting longer for a recommendations refresh")


def _close_connections() -> None:
    # The callback may have used the database from this thread: its connections are this
    # thread's, and nobody else closes them.
    try:
        from django.db import connections

        connections.close_all()
    except Exception:  # noqa: BLE001 - Django not set up: nothing was opened
        pass


class _Stop:
    def __init__(self) -> None:
        self.requested = False
        self.signum: int | None = None

    def __call__(self, signum, frame) -> None:
        self.requested = True
        self.signum = signum


def _stall_for_tests(point: str) -> None:
    # Fault injection for the crash test: PODSIGHT_CONSUMER_STALL_AT=<point> makes the
    # consumer wait there so the test can SIGKILL it at exactly that moment.
    if os.environ.get("PODSIGHT_CONSUMER_STALL_AT") == point:
        print(f"stalled at {point}", flush=True)
        while True:
            time.sleep(1)


@contextmanager
def consumer_lock() -> Iterator[None]:
    """Held by whatever writes ``events`` or ``engagement_daily`` (a consumer, the batch
    recomputation of ``events.engagement``): :class:`ConsumerBusy` at once when taken,
    saying which process holds it (the holder writes itself into the lock file)."""
    def busy(holder: str) -> ConsumerBusy:
        who = f" ({holder})" if holder else ""
        return ConsumerBusy(
            f"another `podsight events consume` (or an engagement recomputation) is running "
            f"on this lake{who}; one at a time keeps the tables exact",
            holder,
        )

    with locks.held(lake.table_path(".consumer.lock"), busy):
        yield


def consume(
    *,
    once: bool = False,
    batch_size: int = 50_000,
    interval_s: float = DEFAULT_INTERVAL_S,
    log: EventLog | None = None,
    on_batch: Callable[[ConsumeReport], None] | None = None,
    max_batches: int | None = None,
    on_written: Callable[[set[str]], object] | None = None,
    on_start: Callable[[], object] | None = None,
) -> ConsumeReport:
    """Move events from the log into the lake in micro-batches.

    ``once``: stop when the log is drained (batch use); otherwise poll every
    ``interval_s`` until SIGINT/SIGTERM, finishing the batch at hand first.
    ``on_written``: called (on a thread of its own, see the module doc) with the users
    whose engagement each batch wrote; ``consume`` returns once it has finished.
    ``on_start``: called first on that thread (loading what ``on_written`` needs)."""
    log = log or open_log()
    report = ConsumeReport()
    with consumer_lock():
        stop = _Stop()
        previous = {
            sig: signal.signal(sig, stop)
            for sig in (signal.SIGINT, signal.SIGTERM)
            if _main_thread()
        }
        refresher = _Refresher(on_written, on_start) if on_written is not None else None
        try:
            _run(
                log, report, once, batch_size, interval_s, stop, on_batch, max_batches,
                refresher.submit if refresher else None,
            )  # fmt: skip
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            if refresher is not None:
                refresher.close(REFRESH_DRAIN_S)
    if once and stop.signum is not None and callable(previous.get(stop.signum)):
        # A drain is part of larger work (a pipeline run, the scheduler): the signal that
        # ended it after its batch was meant for that work too, so its handler gets it
        # (Python's SIGINT handler raises KeyboardInterrupt). A long-running consumer's
        # signal is its own stop.
        previous[stop.signum](stop.signum, None)
    return report


def _main_thread() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()


# Events that only move a position within an episode already played: a player sends a
# progress event a minute, and refreshing every listener's list that often would cost
# more than it changes. The play before them, and the pause, complete or skip after them,
# bring the refresh.
QUIET_TYPES = ("progress", "seek")


def _users(table: pa.Table, *, quiet: tuple[str, ...] = ()) -> set[str]:
    if quiet:
        table = table.filter(pc.invert(pc.is_in(table.column("type"), pa.array(quiet))))
    return {u for u in pc.unique(table.column("user_id")).to_pylist() if u is not None}


def _run(log, report, once, batch_size, interval_s, stop, on_batch, max_batches, written) -> None:
    position = lake_position(EVENTS) or {}
    if position:
        covers = lake_position(ENGAGEMENT, COVERS_KEY)
        if covers != position:
            keys = _behind(covers, position)
            report.recovered_keys = keys.num_rows
            report.engagement_rows += _merge_engagement(keys, position)
            if written is not None:
                written(_users(keys))
    report.position = position
    while not stop.requested:
        if max_batches is not None and report.batches >= max_batches:
            break
        entries, after = log.read(position, batch_size)
        if not entries:
            if once:
                break
            time.sleep(interval_s)
            continue
        with lake.io_lock:  # the refresh thread reads the lake too
            rows, dropped = _fresh(_rows(entries))
            lake.append(EVENTS, rows, metadata={POSITION_KEY: _encode_position(after)})
            _stall_for_tests("after-events")
            report.engagement_rows += _merge_engagement(_keys(rows), after)
        if written is not None and rows.num_rows:
            # Subscribers too: a follow changes recommendations as a play does.
            users = _users(rows, quiet=QUIET_TYPES)
            if users:
                written(users)
        position = after
        report.position = after
        report.batches += 1
        report.events_written += rows.num_rows
        report.duplicates_dropped += dropped
        if on_batch:
            on_batch(report)
        if once and len(entries) < batch_size and _drained(log, position):
            break


def _drained(log: EventLog, position: Position) -> bool:
    end = log.end()
    return all(position.get(p, 0) >= offset for p, offset in end.items())
