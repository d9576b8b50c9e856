"""Listening over days, from the lake (DuckDB over ``engagement_daily`` and ``events``),
for the dashboard's Listening and Overview pages: engagement per day, and per show the
distribution of how far listeners got and of where they skipped.

Both take ``user``: one listener's own listening (what a non-staff caller sees), or
everyone's when None. Days are UTC days, the last ``days`` of them up to today included.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from django.core.cache import cache

from podsight import lake
from podsight.catalog.models import Channel, Episode
from podsight.events.queries import dataset
from podsight.lake.tables import ENGAGEMENT_DAILY, EVENTS

__all__ = [
    "BINS",
    "FINISHED",
    "MAX_DAYS",
    "SOURCES_TTL",
    "completion",
    "engagement",
    "overview",
    "serving_model",
]

MAX_DAYS = 365
# Completion and skip positions are counted in tenths of an episode.
BINS = 10
# From this completion on an episode counts as finished (players stop short of the end:
# the recommender's threshold, podsight.recs.data.FINISHED).
FINISHED = 0.9
# How long the Overview's records per source are kept (seconds), for every caller alike.
SOURCES_TTL = 60
# engagement_daily has a row for any event (a download, a like, a rating): only one where
# the listener played, listened or reached a position is listening.
PLAYED = "(plays > 0 OR listened_s > 0 OR max_completion > 0)"
# The same over a (listener, episode) pair's days.
PLAYED_PAIR = "(sum(plays) > 0 OR sum(listened_s) > 0 OR max(max_completion) > 0)"


def _first_day(days: int, now: datetime | None) -> tuple[date, date]:
    today = (now or datetime.now(UTC)).astimezone(UTC).date()
    return today - timedelta(days=days - 1), today


def _rows(relation) -> list[tuple]:
    # Through Arrow: DuckDB's own Python conversion of time zones needs pytz.
    table = relation.to_arrow_table()
    return list(zip(*(column.to_pylist() for column in table.columns), strict=True))


def _of_user(engaged, user: str | None):
    """The dataset narrowed to one listener by Arrow itself: a ``user_id = $user`` that
    DuckDB pushes into the scan meets files of later consumer batches, whose text columns
    are string views, with a plain string and fails ("no kernel matching … string,
    string_view"; test_one_listeners_statistics_over_several_consumer_batches)."""
    if not user:
        return engaged
    return engaged.filter(pc.field("user_id").cast(pa.string()) == pa.scalar(user, pa.string()))


def engagement(days: int, *, user: str | None = None, now: datetime | None = None) -> dict:
    """Per UTC day (every day of the span, quiet ones as zeros): listeners, plays, hours
    listened, episodes finished, likes and skips."""
    first, last = _first_day(days, now)
    body: dict[str, Any] = {
        "from": first.isoformat(),
        "to": last.isoformat(),
        "user": user,
        "days": [],
    }
    totals: dict[date, tuple] = {}
    engaged = dataset(ENGAGEMENT_DAILY, "day", first)
    if engaged is not None:
        con = lake.connect()
        try:
            con.register("g", _of_user(engaged, user))
            where = "day >= $first AND day <= $last"
            params: dict[str, Any] = {"first": first, "last": last}
            for row in _rows(
                con.sql(
                    f"SELECT day, count(DISTINCT user_id) FILTER (WHERE {PLAYED}), sum(plays), "
                    "sum(listened_s), "
                    f"count(*) FILTER (WHERE max_completion >= {FINISHED}), sum(likes), "
                    f"sum(skips) FROM g WHERE {where} GROUP BY day",
                    params=params,
                )
            ):
                totals[row[0]] = row[1:]
        finally:
            con.close()
    for offset in range(days):
        day = first + timedelta(days=offset)
        listeners, plays, seconds, finished, likes, skips = totals.get(day, (0,) * 6)
        body["days"].append(
            {
                "day": day.isoformat(),
                "listeners": int(listeners or 0),
                "plays": int(plays or 0),
                "hours": round(float(seconds or 0) / 3600, 2),
                "finished": int(finished or 0),
                "likes": int(likes or 0),
                "skips": int(skips or 0),
            }
        )
    return body


def completion(
    days: int, *, shows: int = 8, user: str | None = None, now: datetime | None = None
) -> dict:
    """The ``shows`` shows with the most listeners over the span, each with how far its
    (listener, episode) pairs got (``completion``: counts per tenth of the episode, the
    best position over the span) and where in its episodes listeners skipped
    (``skip_positions``: skip events per tenth, of those whose episode length is known)."""
    first, last = _first_day(days, now)
    body: dict[str, Any] = {
        "from": first.isoformat(),
        "to": last.isoformat(),
        "user": user,
        "bins": [f"{10 * i}–{10 * (i + 1)}%" for i in range(BINS)],
        "shows": [],
    }
    engaged = dataset(ENGAGEMENT_DAILY, "day", first)
    if engaged is None:
        return body
    params: dict[str, Any] = {"first": first, "last": last}
    # Episode -> show in DuckDB: the counting stays there (no listener ids through Python,
    # no unbounded pk__in); an episode the catalog no longer holds drops out in the join.
    ids = Episode.objects.values_list("pk", "channel_id")
    shows_of = pa.table(
        {
            "episode_id": pa.array([e for e, _ in ids], pa.int64()),
            "channel_id": pa.array([c for _, c in ids], pa.int64()),
        }
    )
    con = lake.connect()
    try:
        con.register("g", _of_user(engaged, user))
        con.register("m", shows_of)
        # One row per (listener, episode) over the span where they listened, with its show.
        con.execute(
            "CREATE TEMP TABLE q AS WITH p AS (SELECT user_id, episode_id, "
            "max(max_completion) AS c, sum(skips) AS s FROM g "
            f"WHERE day >= $first AND day <= $last GROUP BY 1, 2 HAVING {PLAYED_PAIR}) "
            f"SELECT m.channel_id, p.user_id, least(CAST(floor(p.c * {BINS}) AS INTEGER), "
            f"{BINS - 1}) AS tenth, p.s FROM p JOIN m USING (episode_id)",
            params,
        )
        ranked = _rows(
            con.sql(
                "SELECT channel_id, count(DISTINCT user_id) AS listeners, count(*), "
                "count(*) FILTER (WHERE s > 0) FROM q GROUP BY channel_id "
                "ORDER BY listeners DESC, channel_id LIMIT $shows",
                params={"shows": shows},
            )
        )
        top = [row[0] for row in ranked]
        bins = (
            []
            if not top
            else _rows(
                con.sql(
                    "SELECT channel_id, tenth, count(*) FROM q "
                    "WHERE list_contains($top, channel_id) "
                    "GROUP BY 1, 2",
                    params={"top": top},
                )
            )
        )
        skips: list[tuple] = []
        events = dataset(EVENTS, "date", first)
        if events is not None and top:
            con.register("e", _of_user(events, user))
            skips = _rows(
                con.sql(
                    f"SELECT channel_id, least(CAST(floor(position_s / duration_s * {BINS}) "
                    f"AS INTEGER), {BINS - 1}), count(*) FROM e WHERE type = 'skip' "
                    "AND date >= $first AND date <= $last AND channel_id IS NOT NULL "
                    "AND position_s >= 0 AND duration_s > 0 GROUP BY 1, 2",
                    params=params,
                )
            )
    finally:
        con.close()
    completion_of = {show: [0] * BINS for show in top}
    for show, tenth, n in bins:
        completion_of[show][tenth] += n
    skip_positions = {show: [0] * BINS for show in top}
    for show, tenth, n in skips:
        if show in skip_positions:
            skip_positions[show][tenth] += n
    titles = dict(Channel.objects.filter(pk__in=top).values_list("pk", "title"))
    for show, listeners, pairs, skipped in ranked:
        finished = sum(completion_of[show][int(FINISHED * BINS) :])
        body["shows"].append(
            {
                "show": show,
                "title": titles.get(show, ""),
                "listeners": int(listeners),
                "pairs": int(pairs),
                "finished_share": round(finished / pairs, 4) if pairs else 0.0,
                "skipped_share": round(skipped / pairs, 4) if pairs else 0.0,
                "completion": completion_of[show],
                "skip_positions": skip_positions[show],
            }
        )
    return body


def serving_model() -> dict[str, Any] | None:
    """The version serving most users, with its offline NDCG@10 (None before training)."""
    from podsight.recs.lifecycle import GATE_METRIC
    from podsight.recs.models import ModelStatus, ModelVersion

    row = (
        ModelVersion.objects.filter(status=ModelStatus.SERVING)
        .order_by("-promoted_at", "-id")
        .values("version", "created_at", "promoted_at", "metrics")
        .first()
    )
    if row is None:
        return None
    challenger = (
        ModelVersion.objects.filter(status=ModelStatus.CHALLENGER)
        .values_list("version", "share")
        .first()
    )
    ndcg = ((row["metrics"] or {}).get("hybrid") or {}).get(GATE_METRIC)
    return {
        "version": row["version"],
        "created_at": row["created_at"].astimezone(UTC).isoformat(),
        "promoted_at": row["promoted_at"].astimezone(UTC).isoformat()
        if row["promoted_at"]
        else None,
        "ndcg_at_10": ndcg,
        "challenger": {"version": challenger[0], "share": challenger[1]} if challenger else None,
    }


def overview(*, staff: bool, now: datetime | None = None) -> dict[str, Any]:
    """What the Overview page shows. Everyone: the canonical catalog, records per source
    with how many are linked across sources, the serving model. Staff also: links needing
    review, each source's last sync and error, the YouTube quota, listening in the last
    hour (the rest is None for others)."""
    from podsight.events.queries import live_stats
    from podsight.sources import status

    now = now or datetime.now(UTC)
    body: dict[str, Any] = {
        "as_of": now.isoformat(),
        "catalog": {
            "channels": Channel.objects.alive().count(),
            "episodes": Episode.objects.alive().count(),
        },
        # Counting every source record takes seconds on a large catalog and the counts
        # change only as syncs and matching run: everyone's for SOURCES_TTL seconds.
        "sources": cache.get_or_set(
            "stats:overview:sources", status.records_by_source, SOURCES_TTL
        ),
        "model": serving_model(),
        "review": None,
        "sync": None,
        "youtube_quota": None,
        "listening": None,
    }
    if staff:
        live = live_stats(timedelta(hours=1), top=0, now=now)
        body.update(
            review=status.links_needing_review(),
            sync=status.sync_status(),
            youtube_quota=status.youtube_quota(now),
            listening={
                "window": live["window"],
                "events": live["events"],
                "active_users": live["active_users"],
                "per_minute": live["per_minute"],
            },
        )
    return body
