"""Every Delta table of the lake: its name, schema, partitioning and key, in one place.

Standard library and pyarrow only, and importing nothing else of podsight: the web side
reads it as :mod:`podsight.lake.tables` and the Spark engine (``spark_jobs/``,
``podsight_spark``, which never imports Django) imports it directly, so both engines write
the same shapes. Each app writes its tables through :mod:`podsight.lake` (``append``,
``merge``) with these definitions, so a table's shape is stated once. Which app writes what:

========================  =====================================  =========================
table                     written by                             partitioned by / key
========================  =====================================  =========================
``api_payloads``          ``sources/payloads.py`` (connectors)   source / append-only
``source_metrics``        ``lake/metrics.py`` (sync)             — / append-only
``events``                ``events/consumer.py``                 date / event_id
``engagement_daily``      ``events/consumer.py``                 day / day, user, episode
``podcastindex_feeds``    ``sources/podcastindex/dump/``         — / id
``transcripts``           ``content/transcripts.py``, ``asr.py``  — / episode, version, segment
``passages``              ``content/passages.py``                — / episode, version, passage
========================  =====================================  =========================

docs/events.md, docs/sources.md and docs/content.md describe the columns.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

__all__ = [
    "API_PAYLOADS",
    "DURATION_SLACK",
    "DURATION_SLACK_S",
    "ENGAGEMENT_DAILY",
    "EMBEDDING_DIM",
    "ENGAGEMENT_MAX_SPEED",
    "ENGAGEMENT_WEIGHT_SQL",
    "EVENTS",
    "PASSAGES",
    "PODCASTINDEX_FEEDS",
    "SOURCE_METRICS",
    "TABLES",
    "TRANSCRIPTS",
    "LakeTable",
]

_TS = pa.timestamp("us", tz="UTC")

# How far an event's position may pass the catalog's duration: feeds state the duration
# without the dynamically inserted ads a listener hears. The event API refuses more
# (events.services) and the events table's quality gate checks it (lake.quality).
DURATION_SLACK = 1.10
DURATION_SLACK_S = 300


@dataclass(frozen=True)
class LakeTable:
    """One Delta table at ``$PODSIGHT_HOME/lake/<name>``."""

    name: str
    schema: pa.Schema
    partition_by: tuple[str, ...] = ()
    # The columns naming a row, which a merge matches on; empty: the table is only appended.
    key: tuple[str, ...] = ()


API_PAYLOADS = LakeTable(
    "api_payloads",
    pa.schema(
        [
            ("source", pa.string()),
            ("endpoint", pa.string()),
            ("params", pa.string()),  # JSON object: path values and query parameters
            ("url", pa.string()),
            ("status", pa.int32()),
            ("fetched_at", _TS),
            ("body", pa.large_string()),
        ]
    ),
    partition_by=("source",),
)

SOURCE_METRICS = LakeTable(
    "source_metrics",
    pa.schema(
        [
            ("source", pa.string()),
            ("kind", pa.string()),  # channel | episode
            ("external_id", pa.string()),
            ("metric", pa.string()),
            ("value", pa.float64()),
            ("observed_at", _TS),
        ]
    ),
)

EVENTS = LakeTable(
    "events",
    pa.schema(
        [
            ("event_id", pa.string()),
            ("user_id", pa.string()),
            ("type", pa.string()),
            ("occurred_at", _TS),
            ("received_at", _TS),
            ("date", pa.date32()),
            ("episode_id", pa.int64()),
            ("channel_id", pa.int64()),
            ("position_s", pa.float64()),
            ("duration_s", pa.float64()),
            ("rating", pa.int32()),
            ("device", pa.string()),
            ("session_id", pa.string()),
            ("client", pa.string()),
            ("feed_url", pa.string()),
            ("enclosure_url", pa.string()),
            ("source", pa.string()),
            ("external_id", pa.string()),
            ("log_partition", pa.int32()),
            ("log_offset", pa.int64()),
        ]
    ),
    partition_by=("date",),
    key=("event_id",),
)

ENGAGEMENT_DAILY = LakeTable(
    "engagement_daily",
    pa.schema(
        [
            ("user_id", pa.string()),
            ("episode_id", pa.int64()),
            ("day", pa.date32()),
            ("plays", pa.int64()),
            ("listened_s", pa.float64()),
            ("max_completion", pa.float64()),
            ("likes", pa.int64()),
            ("unlikes", pa.int64()),
            ("skips", pa.int64()),
            ("downloads", pa.int64()),
            ("rating", pa.int32()),
            ("events", pa.int64()),
            ("last_event_at", _TS),
            ("weight", pa.float64()),
        ]
    ),
    partition_by=("day",),
    key=("day", "user_id", "episode_id"),
)

# engagement_daily's derived values, computed by both engines (events/consumer.py in DuckDB,
# podsight_spark's events.engagement in Spark SQL), so they are written once here.
# Weight of a user × episode × day (docs/events.md): completion is the main signal; a
# like, a rating above or below 3 and a skip move it; negatives stay negative.
ENGAGEMENT_WEIGHT_SQL = (
    "max_completion + 0.5 * (likes - unlikes) - 0.5 * skips + 0.1 * least(downloads, 1)"
    " + coalesce((rating - 3) * 0.25, 0)"
)
# A listener may play at up to 3× speed: more progress than that per wall second is a
# seek the client did not report, not listening.
ENGAGEMENT_MAX_SPEED = 3.0

# The dump's columns as the import reads them (text where the dump declares TEXT, and
# itunesId, declared INTEGER but holding "" and stray text), then what the import derives.
_TEXT = pa.string()
_INT = pa.int64()
PODCASTINDEX_FEEDS = LakeTable(
    "podcastindex_feeds",
    pa.schema(
        [
            ("id", _INT),
            ("url", _TEXT),
            ("title", _TEXT),
            ("link", _TEXT),
            ("lastHttpStatus", _INT),
            ("dead", _INT),
            ("contentType", _TEXT),
            ("itunesId", _TEXT),
            ("originalUrl", _TEXT),
            ("itunesAuthor", _TEXT),
            ("itunesOwnerName", _TEXT),
            ("explicit", _INT),
            ("imageUrl", _TEXT),
            ("itunesType", _TEXT),
            ("generator", _TEXT),
            ("newestItemPubdate", _INT),
            ("language", _TEXT),
            ("oldestItemPubdate", _INT),
            ("episodeCount", _INT),
            ("popularityScore", _INT),
            ("createdOn", _INT),
            ("newestEnclosureUrl", _TEXT),
            ("podcastGuid", _TEXT),
            ("description", _TEXT),
            *((f"category{i}", _TEXT) for i in range(1, 11)),
            ("newestEnclosureDuration", _INT),
            ("feed_key", _TEXT),  # normalise_feed_url(url)
            ("guid_key", _TEXT),  # podcastGuid, stripped and lower-cased
            ("itunes_key", _INT),  # itunesId when it is a positive integer
            ("row_hash", _INT),  # 63 bits of md5 of the dump's columns: changes
            ("first_imported_at", _TS),
            ("imported_at", _TS),  # when this content was last written
        ]
    ),
    key=("id",),
)

# Transcript segments, one row each; a changed transcript is appended as the next version
# (the old one stays). start_s/end_s are null where the document gives no time.
TRANSCRIPTS = LakeTable(
    "transcripts",
    pa.schema(
        [
            ("episode_id", pa.int64()),
            ("version", pa.int32()),
            ("segment_no", pa.int32()),
            ("source", pa.string()),  # rss | asr
            ("format", pa.string()),  # vtt | srt | json | html | markdown | text | asr
            ("language", pa.string()),
            ("start_s", pa.float64()),
            ("end_s", pa.float64()),
            ("speaker", pa.string()),
            ("text", pa.large_string()),
            ("created_at", _TS),
        ]
    ),
    key=("episode_id", "version", "segment_no"),
)

# all-MiniLM-L6-v2's output size: every vector in the lake has it.
EMBEDDING_DIM = 384

# Passages of about 30-60 s with their times and unit-length embeddings, keyed by the
# transcript version they were cut from (0: one passage of title and show notes).
PASSAGES = LakeTable(
    "passages",
    pa.schema(
        [
            ("episode_id", pa.int64()),
            ("version", pa.int32()),
            ("passage_no", pa.int32()),
            ("kind", pa.string()),  # transcript | notes
            ("start_s", pa.float64()),
            ("end_s", pa.float64()),
            ("speakers", pa.list_(pa.string())),
            ("text", pa.large_string()),
            ("embedder", pa.string()),
            ("vector", pa.list_(pa.float32(), EMBEDDING_DIM)),
            ("created_at", _TS),
        ]
    ),
    key=("episode_id", "version", "passage_no"),
)

TABLES: dict[str, LakeTable] = {
    t.name: t
    for t in (
        API_PAYLOADS,
        SOURCE_METRICS,
        EVENTS,
        ENGAGEMENT_DAILY,
        PODCASTINDEX_FEEDS,
        TRANSCRIPTS,
        PASSAGES,
    )
}
