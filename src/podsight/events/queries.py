"""Reading the lake's listening tables with DuckDB: live windows and a user's history."""

from __future__ import annotations

import threading
from collections import OrderedDict
from datetime import UTC, date, datetime, timedelta
from typing import Any

from deltalake import DeltaTable
from deltalake.exceptions import DeltaError
from rest_framework import exceptions

from podsight import conf, lake
from podsight.catalog.models import Episode
from podsight.lake.tables import EVENTS, LakeTable

__all__ = ["dataset", "history", "live_stats", "parse_before", "parse_window"]

MAX_WINDOW = timedelta(hours=24)
MIN_WINDOW = timedelta(minutes=1)


def parse_window(raw: str) -> timedelta:
    try:
        window = timedelta(seconds=conf.parse_timespan(raw))
    except (ValueError, OverflowError):  # "62269917965498220224" is beyond timedelta
        window = None
    if window is None or not MIN_WINDOW <= window <= MAX_WINDOW:
        raise exceptions.ValidationError(
            {"window": [f"{raw!r} is not a window from 1m to 24h (e.g. 15m, 2h)"]}
        )
    return window


def parse_before(raw: str | None) -> datetime | None:
    if raw is None:
        return None
    try:
        when = datetime.fromisoformat(raw)
    except ValueError:
        raise exceptions.ValidationError({"before": ["an ISO 8601 timestamp"]}) from None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


# Building a table's Arrow dataset (reading the Delta log, one partition expression per
# file) costs more than the query itself on small tables. The datasets of the newest
# version of each table are kept, per first day read, and reused until a commit (the
# consumer's next batch) makes a new version; checking for one is a listing of the log.
_CACHED = 16
_cache_lock = threading.Lock()
_tables: dict[str, DeltaTable] = {}
_datasets: OrderedDict[tuple, Any] = OrderedDict()


def dataset(table: LakeTable, column: str | None = None, since: date | None = None):
    """The newest version of ``table`` as an Arrow dataset, its files pruned to partitions
    ``column >= since`` (all when ``since`` is None); None when the table does not exist."""
    if not lake.exists(table):
        return None
    path = str(lake.table_path(table))
    with _cache_lock:
        delta = _tables.get(path)
        try:
            if delta is None:
                delta = DeltaTable(path)
            else:
                delta.update_incremental()
        except DeltaError:  # replaced under the same path (tests): read it afresh
            delta = DeltaTable(path)
        _tables[path] = delta
        key = (path, delta.version(), column, since)
        found = _datasets.get(key)
        if found is not None:
            _datasets.move_to_end(key)
            return found
        if since is None:
            found = delta.to_pyarrow_dataset()
        else:
            found = delta.to_pyarrow_dataset(
                file_pruning_predicate=[(column, ">=", since.isoformat())]
            )
        _datasets[key] = found
        while len(_datasets) > _CACHED:
            _datasets.popitem(last=False)
        return found


def _events(since: datetime | None = None):
    return dataset(EVENTS, "date", since.date() if since else None)


def _rows(relation) -> list[tuple]:
    table = relation.to_arrow_table()
    return list(zip(*(column.to_pylist() for column in table.columns), strict=True))


def _titles(ids: set[int]) -> dict[int, str]:
    return dict(Episode.objects.filter(pk__in=ids).values_list("id", "title"))


def live_stats(window: timedelta, *, top: int = 10, now: datetime | None = None) -> dict[str, Any]:
    """Events per minute, the most played episodes and the active users over the window
    (by when events happened), as of what the consumer has written."""
    now = now or datetime.now(UTC)
    since = now - window
    body: dict[str, Any] = {
        "window": {"from": since.isoformat(), "to": now.isoformat()},
        "events": 0,
        "active_users": 0,
        "per_minute": [],
        "top_episodes": [],
    }
    dataset = _events(since)
    if dataset is None:
        return body
    con = lake.connect()
    try:
        con.register("events", dataset)
        # Through Arrow: DuckDB's own Python conversion of time zones needs pytz.
        window_rows = con.sql(
            "SELECT user_id, episode_id, type, occurred_at FROM events "
            "WHERE occurred_at >= $since AND occurred_at < $now",
            params={"since": since, "now": now},
        ).to_arrow_table()
        con.register("w", window_rows)
        ((total, users),) = _rows(con.sql("SELECT count(*), count(DISTINCT user_id) FROM w"))
        per_minute = _rows(
            con.sql(
                "SELECT date_trunc('minute', occurred_at) AS minute, count(*) AS events, "
                "count(DISTINCT user_id) AS users FROM w GROUP BY 1 ORDER BY 1"
            )
        )
        top_rows = _rows(
            con.sql(
                "SELECT episode_id, count(*) FILTER (WHERE type = 'play') AS plays, "
                "count(DISTINCT user_id) AS listeners, count(*) AS events FROM w "
                "WHERE episode_id IS NOT NULL GROUP BY 1 "
                "ORDER BY plays DESC, listeners DESC, episode_id LIMIT $top",
                params={"top": top},
            )
        )
    finally:
        con.close()
    titles = _titles({r[0] for r in top_rows})
    body.update(
        events=total,
        active_users=users,
        per_minute=[
            {"minute": m.astimezone(UTC).isoformat(), "events": n, "users": u}
            for m, n, u in per_minute
        ],
        top_episodes=[
            {"episode": e, "title": titles.get(e, ""), "plays": p, "listeners": u, "events": n}
            for e, p, u, n in top_rows
        ],
    )
    return body


HISTORY_COLUMNS = (
    "event_id",
    "type",
    "occurred_at",
    "episode_id",
    "channel_id",
    "position_s",
    "duration_s",
    "rating",
    "device",
    "session_id",
    "feed_url",
    "enclosure_url",
)


def history(user_id: str, *, limit: int = 100, before: datetime | None = None) -> dict[str, Any]:
    """The user's events, newest first (``before`` pages back)."""
    body: dict[str, Any] = {"user_id": user_id, "events": [], "next_before": None}
    dataset = _events()
    if dataset is None:
        return body
    con = lake.connect()
    try:
        con.register("events", dataset)
        where = "user_id = $user" + (" AND occurred_at < $before" if before else "")
        params: dict[str, Any] = {"user": user_id, "limit": limit}
        if before:
            params["before"] = before
        rows = _rows(
            con.sql(
                f"SELECT {', '.join(HISTORY_COLUMNS)} FROM events WHERE {where} "
                "ORDER BY occurred_at DESC, event_id LIMIT $limit",
                params=params,
            )
        )
    finally:
        con.close()
    titles = _titles({r[3] for r in rows if r[3] is not None})
    events = []
    for row in rows:
        event = dict(zip(HISTORY_COLUMNS, row, strict=True))
        event["occurred_at"] = event["occurred_at"].astimezone(UTC).isoformat()
        event["episode_title"] = titles.get(event["episode_id"], "")
        events.append({k: v for k, v in event.items() if v is not None})
    body["events"] = events
    if len(rows) == limit:
        body["next_before"] = events[-1]["occurred_at"]
    return body
