"""Import the public Podcast Index SQLite dump (``podcastindex_feeds.db``).

The dump (https://public.podcastindex.org/podcastindex_feeds.db.tgz, updated daily, about
4 million rows) has one table, ``podcasts``, one row per feed (see :data:`DUMP_COLUMNS`).
Dates are unix seconds; ``itunesId`` is an integer, an empty string or stray text; any
column may be NULL.

Where the rows go:

- **The lake**, all of them: Delta table ``lake/podcastindex_feeds``
  (:data:`~podsight.lake.tables.PODCASTINDEX_FEEDS`) holds the dump's columns as the dump
  names them, one row per feed id, plus the derived strong keys ``feed_key``
  (:func:`~podsight.sources.keys.normalise_feed_url` of ``url``), ``guid_key`` and
  ``itunes_key``, a ``row_hash`` of the content, and ``first_imported_at``/``imported_at``.
  Millions of feeds nobody follows are bulk data, not catalog rows; DuckDB joins them by
  key when matching needs them.
- **The catalog**, only the feeds that concern it: a row that shares a strong key
  (podcast:guid, Podcast Index id, iTunes id or normalised feed URL, in that order) with
  a source record already in a canonical channel becomes (or refreshes) a
  :class:`~podsight.sources.models.SourceChannel` (``source="podcastindex"``,
  ``external_id`` = the feed id) with the API normaliser's field names
  (:func:`row_data`), its ``SourceKey`` rows, and a link to that channel
  (``link_method="key"``, confidence 1.0, an explanation such as ``shares feed URL
  example.com/feed with rss:https://example.com/feed``). Podcast Index records the
  catalog already holds (from the API) are refreshed from the dump when it differs.

How it runs, in three threads so both cores work: one reads the dump in ``id`` order
in batches (ADBC's SQLite driver, straight into Arrow); this one derives keys and hashes
with Arrow and DuckDB kernels, compares each row's hash with the lake's, and writes the
catalog's few rows through Django; one writes the lake (a plain append for new rows, a
delta-rs merge on the feed id when rows changed). Memory is bounded by the batch size.

- **Re-import** never duplicates: unchanged rows are not written at all, changed rows
  replace the old ones (Delta keeps the old versions: ``DeltaTable.history``), new rows
  are appended. Rows that disappear from a later dump stay as they were.
- **Resumable**: after each batch is in both stores, the last imported id is written to a
  checkpoint under ``$PODSIGHT_HOME/state/`` keyed by the dump's resolved path, size and
  mtime; ``resume=True`` continues after it. A crash between the stores and the
  checkpoint only means that batch is read again and found unchanged. A finished import
  removes its checkpoint.

Rows without a positive id or a usable feed URL are skipped and counted with the reason.
Integer columns holding stray text read as 0 (SQLite's ``CAST``); ``itunesId`` is kept
as text, as the dump has it.

Modules: :mod:`.layout` (the dump file's columns, opening it), :mod:`.reader` (batches into
Arrow, keys and hashes), :mod:`.rows` (a row as the catalog stores it), :mod:`.lake_writer`
(new and changed rows into the lake), :mod:`.catalog` (linking rows to the catalog),
:mod:`.checkpoint` (resuming), :mod:`.report`, :mod:`.run` (``import_dump``) and
:mod:`.sample` (``write_sample_dump``: generated dumps for tests and benchmarks).
"""

# The package exports nothing itself: its public names are declared by the modules above.
__all__: list[str] = []
