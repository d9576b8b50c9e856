"""Offline demo data and tooling.

- ``world.py``: a seeded world of shows, hosts and episodes; ``rss.py``: it as RSS feeds;
- ``apple_api.py``, ``podcastindex_api.py``, ``spotify_api.py``, ``youtube_api.py``: it as
  each API answers, served by ``apiserver.py`` (``apis.py`` runs them for ``podsight demo
  apis``; the connector tests use them too);
- ``documents.py``: each episode's script (phrases per language in ``talk.py``) as
  transcript documents in every format and chapters, and their host on the API server;
- ``truth.py``: which stored records are the same demo show or episode (matching labels);
- ``load.py``: ``podsight demo load`` as steps (the feeds, ingest, the APIs synced,
  matching, transcripts fetched and analysed) and the demo's reports;
- ``simulate.py``: the listener simulator (``podsight simulate listeners``).
"""

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
