"""The canonical catalog: channels (shows) and episodes, one row per real-world thing.

- ``models.py``: ``Channel``, ``Episode``, ``ChannelCategory`` (merged-away rows point at
  their survivor);
- ``survivorship.py``: which linked source record supplies each canonical field;
- ``services.py``: keeping canonical rows in step with the records linked to them;
- ``search.py``: full text over titles and descriptions (SQLite FTS5, PostgreSQL tsvector);
- ``api.py``: the read-only REST API (``/api/channels``, ``/api/episodes``, metrics).
"""

# The package exports nothing itself: its public names are declared by the modules above.
__all__: list[str] = []
