"""The lake's tables (name, schema, partitioning, key): defined in :mod:`podsight.lake_tables`,
which imports only pyarrow so the Spark engine shares it without the rest of podsight."""

from podsight.lake_tables import (
    API_PAYLOADS,
    DURATION_SLACK,
    DURATION_SLACK_S,
    EMBEDDING_DIM,
    ENGAGEMENT_DAILY,
    ENGAGEMENT_MAX_SPEED,
    ENGAGEMENT_WEIGHT_SQL,
    EVENTS,
    PASSAGES,
    PODCASTINDEX_FEEDS,
    SOURCE_METRICS,
    TABLES,
    TRANSCRIPTS,
    LakeTable,
)

__all__ = [
    "API_PAYLOADS",
    "DURATION_SLACK",
    "DURATION_SLACK_S",
    "EMBEDDING_DIM",
    "ENGAGEMENT_DAILY",
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
