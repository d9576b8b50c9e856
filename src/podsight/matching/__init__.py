"""Cross-source entity resolution: which source records are the same show or episode.

Pure parts (no database):

- :mod:`.text`: title normalisation, show-name affixes, episode numbers;
- :mod:`.episodes`: episode pair features, blocking by publish time, scoring, one-to-one
  assignment;
- :mod:`.channels`: channel candidates for records without strong keys (Spotify, YouTube)
  and the evidence for a link;
- :mod:`.schedule`: pairing by steady offsets in time and length when titles cannot.

A run against the catalog, in import order (each imports only those before it):

- :mod:`.writes`: channel merges and episode moves written in bulk with their link events;
- :mod:`.review`: people's overrides (confirm, reject, force), applied through ``writes``;
- :mod:`.snapshot`: what a run reads (channel clusters, episode records, the last run's mark);
- :mod:`.run`: ``run_match``, which applies overrides, then links channels and episodes.

Also :mod:`.report` (link counts, evaluation against labels), :mod:`.api` (``/api/links``)
and :mod:`.models` (``MatchRun``, ``LinkEvent``, ``LinkOverride``).
"""

# The package exports nothing itself: its public names are declared by the modules above.
__all__: list[str] = []
