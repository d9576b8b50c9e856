"""Podcast Index: the API connector (:mod:`.client`, :mod:`.normalize`) and the dump import.

- :class:`~podsight.sources.podcastindex.client.PodcastIndexConnector`: signed API calls
  (trending, search, feed lookups, episodes) returning normalised records;
- :func:`~podsight.sources.podcastindex.normalize.normalize`: the pure payload normaliser;
- :func:`~podsight.sources.podcastindex.dump.run.import_dump`: the public SQLite dump
  (``podcastindex_feeds.db``) as source records, in bulk (imports Django: load it lazily).
"""

from __future__ import annotations

from podsight.sources.podcastindex.client import PodcastIndexConnector
from podsight.sources.podcastindex.normalize import normalize

__all__ = ["PodcastIndexConnector", "normalize"]
