"""Cross-source entity resolution: which source records are the same show or episode.

- :mod:`.text`: title normalisation, show-name affixes, episode numbers;
- :mod:`.episodes`: episode pair features, blocking by publish time, scoring, one-to-one
  assignment;
- :mod:`.channels`: channel candidates for records without strong keys (Spotify, YouTube)
  and the evidence for a link;
- :mod:`.services`: ``run_match``, which applies the links to the catalog.
"""
