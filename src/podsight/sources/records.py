"""What every API connector hands to the catalog: normalised show and episode records.

Connectors (Podcast Index, Apple, Spotify, YouTube) turn API payloads into these
with *pure* functions ``normalize(endpoint, params, body) -> Normalized``, so a
stored payload can be normalised again later without calling the API
(``podsight replay``).

``data`` uses the canonical field names of :mod:`podsight.catalog.survivorship`
(``title``, ``description_html``, ``published_at`` as ISO 8601 with offset,
``duration_s``…), plus the strong keys a record carries:

- shows: ``feed_url``, ``itunes_id``, ``podcastindex_id``, ``podcast_guid``
- episodes: ``guid``, ``enclosure_url``, and ``kind`` (``episode``, ``trailer``,
  ``bonus``, ``clip``, ``short``, ``live``) so later matching can keep clips and
  trailers from taking a full episode's link.

``metrics`` are numbers observed at fetch time (views, likes, comments,
popularity…); the sync appends them to the lake as a time series.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["EpisodeRecord", "Normalized", "ShowRecord"]


@dataclass
class ShowRecord:
    source: str
    external_id: str
    data: dict[str, Any]
    url: str = ""
    metrics: dict[str, float] = field(default_factory=dict)


@dataclass
class EpisodeRecord:
    source: str
    external_id: str
    show_external_id: str
    data: dict[str, Any]
    url: str = ""
    metrics: dict[str, float] = field(default_factory=dict)


@dataclass
class Normalized:
    shows: list[ShowRecord] = field(default_factory=list)
    episodes: list[EpisodeRecord] = field(default_factory=list)
    # Shows whose full episode list this result holds: only for these may episodes
    # missing from the result be marked vanished.
    complete_shows: set[str] = field(default_factory=set)

    def extend(self, other: Normalized) -> Normalized:
        self.shows.extend(other.shows)
        self.episodes.extend(other.episodes)
        self.complete_shows |= other.complete_shows
        return self
