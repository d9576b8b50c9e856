"""What each source says: per-source records, feeds, connectors and bulk imports.

- ``models.py``: ``SourceChannel``/``SourceEpisode`` (normalised data, each linked to a
  canonical row), ``Feed``, ``SourceKey``, ``CatalogCandidate``;
- ``records.py``: the normalised records connectors hand over; ``values.py``: coercions
  of API JSON values; ``text.py``: HTML, date, duration, integer and language helpers
  every source uses;
- ``keys.py``: strong keys (feed URL, podcast:guid, ids) that link records across sources;
- ``store.py``: storing records and linking them by key;
- ``http.py``: the one HTTP layer of the API connectors (cache, retries, limits);
- ``payloads.py``: the kept raw API responses (lake table ``api_payloads``);
- ``sync.py``, ``discover.py``, ``replay.py``: ``podsight sync``, ``discover``, ``replay``;
- ``rss/``: feed fetching, parsing (into ``rss/document.py``'s ``ParseResult``) and
  ingestion (HTML sanitised at store time, only for new or changed items);
- ``apple/``, ``spotify/``, ``youtube/``, ``podcastindex/``: the API connectors
  (``client.py``) and their pure normalisers (``normalize.py``);
  ``podcastindex/dump/``: the Podcast Index dump import.
"""

# The package exports nothing itself: its public names are declared by the modules above.
__all__: list[str] = []
