"""``events.engagement``: ``engagement_daily`` recomputed from the whole ``events`` table.

The same rows the local engine computes (``podsight.events.consumer.engagement_sql``, in
DuckDB) for every user × episode × UTC day, written in Spark SQL: listening is the
position gained since the previous play/progress/seek of the same user, episode and
session (when that event was the same UTC day or the day before, as the consumer reads
them), at most ``ENGAGEMENT_MAX_SPEED`` × the wall time between them, summed and rounded
to 6 decimals; ``weight`` is ``ENGAGEMENT_WEIGHT_SQL``; both constants come from
:mod:`podsight.lake_tables`, as the local engine's do. The result replaces the table
(``mode=overwrite``) or is merged on its key (``mode=merge``), through delta-rs.
"""

from __future__ import annotations

from typing import Any

from podsight.lake_tables import (
    ENGAGEMENT_DAILY,
    ENGAGEMENT_MAX_SPEED,
    ENGAGEMENT_WEIGHT_SQL,
    EVENTS,
)
from podsight_spark import delta
from podsight_spark.jobs._common import STORAGE_OPTIONS, table_uri
from podsight_spark.registry import Param, job

# listened_s is summed in the events' own order (session, time, id), not in whatever
# order the shuffle delivers them, and rounded to 6 decimals as the local engine does: a
# float sum depends on its order (DuckDB's too), and the two engines must agree exactly.
_SQL = f"""
WITH e AS (
    SELECT ev.user_id, ev.episode_id, ev.type, ev.occurred_at, ev.rating, ev.event_id,
        coalesce(ev.session_id, '') AS session_key,
        CASE WHEN ev.type = 'complete' THEN coalesce(ev.position_s, ev.duration_s)
             ELSE ev.position_s END AS position_s,
        ev.duration_s,
        lag(ev.type) OVER w AS prev_type,
        lag(ev.position_s) OVER w AS prev_position,
        lag(ev.occurred_at) OVER w AS prev_at
    FROM events ev
    WHERE ev.episode_id IS NOT NULL
    WINDOW w AS (
        PARTITION BY ev.user_id, ev.episode_id, coalesce(ev.session_id, '')
        ORDER BY ev.occurred_at, ev.event_id
    )
),
listened AS (
    SELECT *, to_date(occurred_at) AS day,
        CASE WHEN type IN ('progress', 'pause', 'complete', 'skip')
              AND prev_type IN ('play', 'progress', 'seek')
              AND position_s IS NOT NULL AND prev_position IS NOT NULL
              AND to_date(prev_at) >= date_sub(to_date(occurred_at), 1)
        THEN greatest(0D, least(
            position_s - prev_position,
            CAST({ENGAGEMENT_MAX_SPEED!r} AS DOUBLE)
                * (CAST(unix_micros(occurred_at) - unix_micros(prev_at) AS DOUBLE) / 1000000D)))
        ELSE 0D END AS listened
    FROM e
),
agg AS (
    SELECT user_id, episode_id, day,
        count_if(type = 'play') AS plays,
        round(aggregate(
            array_sort(collect_list(struct(session_key, occurred_at, event_id, listened))),
            0D, (acc, x) -> acc + x.listened), 6) AS listened_s,
        coalesce(max(CASE WHEN type = 'complete' THEN 1.0D
            WHEN duration_s > 0 AND position_s IS NOT NULL
            THEN least(1.0D, position_s / duration_s) END), 0D) AS max_completion,
        count_if(type = 'like') AS likes,
        count_if(type = 'unlike') AS unlikes,
        count_if(type = 'skip') AS skips,
        count_if(type = 'download') AS downloads,
        CAST(max_by(rating, struct(occurred_at, event_id))
            FILTER (WHERE type = 'rate' AND rating IS NOT NULL) AS INT) AS rating,
        count(*) AS events,
        max(occurred_at) AS last_event_at
    FROM listened
    GROUP BY user_id, episode_id, day
)
SELECT *, {ENGAGEMENT_WEIGHT_SQL} AS weight FROM agg
"""


def engagement_frame(spark, events):
    """``engagement_daily``'s rows for the ``events`` DataFrame (the lake's columns)."""
    events.createOrReplaceTempView("events")
    return spark.sql(_SQL).select(ENGAGEMENT_DAILY.schema.names)


@job(
    "events.engagement",
    params={
        "lake": Param(str, help="the lake's root ($PODSIGHT_HOME/lake, or s3://bucket/lake)"),
        "mode": Param(str, "overwrite", "overwrite: replace the table; merge: on its key",
                      choices=("overwrite", "merge")),
        "commit_metadata": Param(dict, None, "custom metadata for the Delta commit"),
        "storage_options": STORAGE_OPTIONS,
    },
)
def engagement(
    spark,
    *,
    lake: str,
    mode: str,
    commit_metadata: dict[str, str] | None,
    storage_options: dict[str, str] | None,
) -> dict[str, Any]:
    """engagement_daily recomputed from the whole events table."""
    events_uri = table_uri(lake, EVENTS.name)
    events_version = delta.table_version(events_uri, storage_options)
    events = delta.read_table(spark, events_uri, EVENTS, storage_options=storage_options)
    rows = delta.to_arrow(engagement_frame(spark, events), ENGAGEMENT_DAILY)
    # Day, user, episode: the order the local engine's rows have no guarantee of either,
    # but one fixed order keeps the files the same from run to run.
    rows = rows.sort_by([("day", "ascending"), ("user_id", "ascending"),
                         ("episode_id", "ascending")])
    metadata = {str(k): str(v) for k, v in (commit_metadata or {}).items()}
    version = delta.write_table(
        table_uri(lake, ENGAGEMENT_DAILY.name), rows, ENGAGEMENT_DAILY, mode=mode,
        storage_options=storage_options, metadata=metadata or None,
    )
    return {
        "rows_written": rows.num_rows,
        "table": ENGAGEMENT_DAILY.name,
        "table_version": version,
        "events_version": events_version,
    }
