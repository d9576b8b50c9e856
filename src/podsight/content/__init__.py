"""Understanding episodes: transcripts (from feeds and from speech), passages with their
times and embeddings, timestamped search, keywords, topics, chapters, sponsor segments and
similar episodes.

Transcript segments and passages (with their vectors) live in the lake (``transcripts``,
``passages``); the state of each episode's transcript and its analysis live in the database
(:mod:`.models`). docs/content.md describes the whole path.
"""

__all__: list[str] = []
