"""The Podcast Index directory: every feed of the imported dump, searchable.

:mod:`.index` keeps a full-text index (tantivy) of ``lake/podcastindex_feeds`` in step
with the lake; :mod:`.service` searches it and adds a feed to the catalog; :mod:`.api`
serves both over HTTP. The CLI (``podsight directory``) and the API call the pipeline
steps ``directory.search``, ``directory.add`` and ``directory.reindex``.
"""

# The package exports nothing itself: its public names are declared by the modules above.
__all__: list[str] = []
