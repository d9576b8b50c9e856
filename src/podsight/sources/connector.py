"""The contract every API source connector keeps, and the registry of connectors.

A connector turns one source's API into normalised records
(:class:`~podsight.sources.records.Normalized`). Sync, discover and replay reach every
source only through this contract, so a new source is one class, one line in
:data:`CONNECTORS`, a ``ShowSpec`` field for its id, and one case in the shared
contract tests (``tests/sources/connector_cases.py``)::

    with connector_class("spotify").from_settings(cache=True) as connector:
        result = connector.fetch_show(spec, seen)   # a show and its new episodes
        found = connector.search("huberman", limit=5)

Incremental fetching: the connector is told what the catalog already holds through a
:class:`Seen` (the cursor), and decides itself how to use it — Podcast Index asks for
episodes ``since`` the newest one held, Spotify and YouTube stop paging at a page of
known episodes, Apple has no pages to skip. Connectors never touch the database; sync
hands them a :class:`Seen` that reads it, tests an in-memory :class:`SeenRecords`.

RSS is not a connector: a feed is one document fetched by URL with conditional GETs
(no API, credentials, quota or payload log) and it has its own ingest path
(:mod:`podsight.sources.rss.ingest`); see ``docs/sources.md``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, Self, runtime_checkable

from podsight.errors import InputError

if TYPE_CHECKING:
    from podsight.sources.http import ApiClient
    from podsight.sources.records import Normalized
    from podsight.sources.sync import ShowSpec

__all__ = [
    "CONNECTORS",
    "NOTHING_SEEN",
    "Connector",
    "Seen",
    "SeenRecords",
    "UnknownSource",
    "connector_class",
    "make_connector",
    "normalizer_for",
]


class UnknownSource(InputError, ValueError):
    """A source name that podsight has no connector for."""


class Seen(Protocol):
    """What the catalog already holds of one source: the cursor of an incremental fetch.

    ``show_id`` is the source's own id of the show (``SourceChannel.external_id``)."""

    def episode_ids(self, show_id: str) -> frozenset[str]:
        """Ids of the show's episodes already stored."""

    def newest_published(self, show_id: str) -> datetime | None:
        """Publication time of the newest episode already stored, if any."""

    def show_id_for_handle(self, handle: str) -> str | None:
        """The id of a stored show known by this handle (``@name``), if any."""


@dataclass(frozen=True)
class SeenRecords:
    """An in-memory :class:`Seen` (tests, or a caller without a database)."""

    episodes: Mapping[str, Iterable[str]] = field(default_factory=dict)
    newest: Mapping[str, datetime] = field(default_factory=dict)
    handles: Mapping[str, str] = field(default_factory=dict)  # handle without "@" → show id

    def episode_ids(self, show_id: str) -> frozenset[str]:
        return frozenset(self.episodes.get(show_id, ()))

    def newest_published(self, show_id: str) -> datetime | None:
        return self.newest.get(show_id)

    def show_id_for_handle(self, handle: str) -> str | None:
        return self.handles.get(handle.lstrip("@").lower())


NOTHING_SEEN: Seen = SeenRecords()


@runtime_checkable
class Connector(Protocol):
    """One source's API as normalised records; see the module docstring."""

    #: The source name records carry (``ShowRecord.source``) and the registry key.
    source: ClassVar[str]
    #: The :class:`ShowSpec` field a show found on this source is followed by.
    spec_field: ClassVar[str]
    #: The HTTP layer: its ``stats`` (calls, cache hits, 304s) and ``take_payloads()``.
    api: ApiClient

    @classmethod
    def from_settings(cls, *, cache: Any = True, **api_options: Any) -> Self:
        """From environment settings and credentials; ``cache`` is ``True`` (the shared
        store), ``False`` or a hishel storage; ``api_options`` go to ``ApiClient``.
        Raises :class:`~podsight.sources.http.SourceNotConfigured` without credentials."""

    @staticmethod
    def follows(spec: ShowSpec) -> bool:
        """Whether ``spec`` names this source's show (so sync asks this source)."""

    @staticmethod
    def normalize(endpoint: str, params: dict[str, Any], body: Any) -> Normalized:
        """The pure payload normaliser (replay uses it on kept payloads)."""

    def fetch_show(self, spec: ShowSpec, seen: Seen = NOTHING_SEEN) -> Normalized:
        """The show ``spec`` names and its episodes new since ``seen``; raises
        :class:`~podsight.sources.http.ApiError` (e.g. ``ApiNotFound``)."""

    def search(self, term: str, *, limit: int = 10) -> Normalized:
        """Shows matching ``term`` (shows only; at most the source's own maximum)."""

    @property
    def quota_units(self) -> int | None:
        """Quota units this connector spent (None: the source counts no units)."""

    def close(self) -> None: ...

    def __enter__(self) -> Self: ...

    def __exit__(self, *exc: object) -> None: ...


# Registry: source name → "module:Class", in survivorship order (sync runs them so after
# RSS). Imported on first use: a command that needs one source loads only that one.
CONNECTORS: dict[str, str] = {
    "podcastindex": "podsight.sources.podcastindex.client:PodcastIndexConnector",
    "apple": "podsight.sources.apple.client:AppleConnector",
    "spotify": "podsight.sources.spotify.client:SpotifyConnector",
    "youtube": "podsight.sources.youtube.client:YouTubeConnector",
}


def connector_class(source: str) -> type[Connector]:
    try:
        module, _, name = CONNECTORS[source].partition(":")
    except KeyError:
        raise UnknownSource(f"unknown source {source!r}; known: {', '.join(CONNECTORS)}") from None
    return getattr(importlib.import_module(module), name)


def make_connector(source: str, *, cache: Any = True) -> Connector:
    """The source's connector from settings (raises ``SourceNotConfigured``)."""
    return connector_class(source).from_settings(cache=cache)


def normalizer_for(source: str) -> Callable[[str, dict[str, Any], Any], Normalized]:
    return connector_class(source).normalize
