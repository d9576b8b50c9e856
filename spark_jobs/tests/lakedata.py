"""Hand-made events and their engagement_daily rows, computed by hand from the rules in
podsight.events.consumer (docs/events.md)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pyarrow as pa
from deltalake import write_deltalake

from podsight.lake_tables import EVENTS

D = date(2026, 1, 5)
D1 = date(2026, 1, 6)
D2 = date(2026, 1, 7)


def t(day: date, hh: int, mm: int, ss: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hh, mm, ss, tzinfo=UTC)


# (event_id, user, type, occurred_at, episode, position_s, duration_s, rating, session)
EVENT_ROWS = [
    # u1 × 10, one session: 60 s, a seek (not listening), then 30 s and 30 s (the last
    # capped at 3× the 10 s of wall time), a like, two ratings (the last counts), a
    # download and a completion without a position (its duration stands in).
    ("e01", "u1", "play", t(D, 10, 0, 0), 10, 0.0, 600.0, None, "s1"),
    ("e02", "u1", "progress", t(D, 10, 1, 0), 10, 60.0, 600.0, None, "s1"),
    ("e03", "u1", "seek", t(D, 10, 1, 10), 10, 300.0, 600.0, None, "s1"),
    ("e04", "u1", "progress", t(D, 10, 2, 10), 10, 330.0, 600.0, None, "s1"),
    ("e05", "u1", "pause", t(D, 10, 2, 20), 10, 500.0, 600.0, None, "s1"),
    ("e06", "u1", "like", t(D, 10, 3, 0), 10, None, None, None, "s1"),
    ("e07", "u1", "rate", t(D, 10, 4, 0), 10, None, None, 4, "s1"),
    ("e08", "u1", "rate", t(D, 10, 5, 0), 10, None, None, 5, "s1"),
    ("e09", "u1", "download", t(D, 10, 6, 0), 10, None, None, None, "s1"),
    ("e10", "u1", "complete", t(D, 10, 7, 0), 10, None, 600.0, None, "s1"),
    # u1 × 11: a session over midnight; its listening counts on the day it happened.
    ("e11", "u1", "play", t(D, 23, 59, 0), 11, 0.0, 1000.0, None, "s2"),
    ("e12", "u1", "progress", t(D1, 0, 1, 0), 11, 120.0, 1000.0, None, "s2"),
    # u2 × 10 without a session: 30 s (capped), 10 s, a skip and an unlike; then a second
    # session the same day: 20 s.
    ("e13", "u2", "play", t(D, 12, 0, 0), 10, 100.0, 400.0, None, None),
    ("e14", "u2", "progress", t(D, 12, 0, 10), 10, 200.0, 400.0, None, None),
    ("e15", "u2", "skip", t(D, 12, 0, 20), 10, 210.0, 400.0, None, None),
    ("e16", "u2", "unlike", t(D, 12, 1, 0), 10, None, None, None, None),
    ("e17", "u2", "play", t(D, 13, 0, 0), 10, 0.0, 400.0, None, "x"),
    ("e18", "u2", "progress", t(D, 13, 0, 30), 10, 20.0, 400.0, None, "x"),
    # u3 × 12: a session resumed two days later: the consumer never reads that far back,
    # so neither engine counts the gap as listening.
    ("e20", "u3", "play", t(D, 8, 0, 0), 12, 0.0, 1000.0, None, "s3"),
    ("e21", "u3", "progress", t(D2, 9, 0, 0), 12, 500.0, 1000.0, None, "s3"),
    # u3 × 13: a float difference, 8.449 - 0.1 = 8.348999999999999..., rounded to 6 places.
    ("e22", "u3", "play", t(D, 9, 0, 0), 13, 0.1, 100.0, None, "s4"),
    ("e23", "u3", "pause", t(D, 9, 0, 10), 13, 8.449, 100.0, None, "s4"),
    # No episode: not engagement.
    ("e19", "u2", "subscribe", t(D, 14, 0, 0), None, None, None, None, None),
]

ENGAGEMENT_COLUMNS = [
    "user_id", "episode_id", "day", "plays", "listened_s", "max_completion", "likes",
    "unlikes", "skips", "downloads", "rating", "events", "last_event_at", "weight",
]


def _weight(max_completion, likes, unlikes, skips, downloads, rating):
    # ENGAGEMENT_WEIGHT_SQL, evaluated left to right as SQL does.
    w = max_completion + 0.5 * (likes - unlikes)
    w = w - 0.5 * skips
    w = w + 0.1 * min(downloads, 1)
    return w + ((rating - 3) * 0.25 if rating is not None else 0)


def _row(user, episode, day, plays, listened, completion, likes, unlikes, skips,
         downloads, rating, events, last):
    weight = _weight(completion, likes, unlikes, skips, downloads, rating)
    return (user, episode, day, plays, listened, completion, likes, unlikes, skips,
            downloads, rating, events, last, weight)


EXPECTED = sorted([
    _row("u1", 10, D, 1, 60.0 + 30.0 + 30.0, 1.0, 1, 0, 0, 1, 5, 10, t(D, 10, 7)),
    _row("u1", 11, D, 1, 0.0, 0.0, 0, 0, 0, 0, None, 1, t(D, 23, 59)),
    _row("u1", 11, D1, 0, 120.0, 0.12, 0, 0, 0, 0, None, 1, t(D1, 0, 1)),
    _row("u2", 10, D, 2, 30.0 + 10.0 + 20.0, 210.0 / 400.0, 0, 1, 1, 0, None, 6,
         t(D, 13, 0, 30)),
    _row("u3", 12, D, 1, 0.0, 0.0, 0, 0, 0, 0, None, 1, t(D, 8, 0)),
    _row("u3", 12, D2, 0, 0.0, 0.5, 0, 0, 0, 0, None, 1, t(D2, 9, 0)),
    _row("u3", 13, D, 1, round(8.449 - 0.1, 6), 8.449 / 100.0, 0, 0, 0, 0, None, 2,
         t(D, 9, 0, 10)),
], key=lambda r: (r[2], r[0], r[1]))


def events_table() -> pa.Table:
    cols: dict[str, list] = {f.name: [] for f in EVENTS.schema}
    for i, (eid, user, typ, at, ep, pos, dur, rating, session) in enumerate(EVENT_ROWS):
        values = {
            "event_id": eid, "user_id": user, "type": typ, "occurred_at": at,
            "received_at": at, "date": at.date(), "episode_id": ep,
            "channel_id": None if ep is None else 1, "position_s": pos, "duration_s": dur,
            "rating": rating, "device": None, "session_id": session, "client": "test",
            "feed_url": None, "enclosure_url": None, "source": None, "external_id": None,
            "log_partition": 0, "log_offset": i,
        }
        for name in cols:
            cols[name].append(values[name])
    return pa.table(cols, schema=EVENTS.schema)


def write_events(lake, table: pa.Table | None = None) -> str:
    path = str(lake / "events")
    write_deltalake(path, events_table() if table is None else table,
                    partition_by=list(EVENTS.partition_by))
    return path
