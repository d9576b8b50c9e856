"""Offline demo data: a seeded world of podcasts and renderers for it (RSS today)."""

from podsight.demo.rss import render_rss, write_rss_feeds
from podsight.demo.world import (
    BREAKAGES,
    DEFAULT_BASE_URL,
    MALFORMED_BREAKAGES,
    Episode,
    Person,
    Show,
    Transcript,
    World,
    build_world,
)

__all__ = [
    "BREAKAGES",
    "DEFAULT_BASE_URL",
    "MALFORMED_BREAKAGES",
    "Episode",
    "Person",
    "Show",
    "Transcript",
    "World",
    "build_world",
    "render_rss",
    "write_rss_feeds",
]
