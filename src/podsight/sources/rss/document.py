"""What the RSS/Atom parser produces: plain, immutable records, no Django.

The parser turns bytes into these; ingestion turns these into catalog rows.
Every field is already normalised (timezone-aware datetimes, seconds as int,
booleans for explicit flags, stripped strings, ``None`` when absent), except the
description: the parser keeps the feed's markup as it is (``description_markup``) and
``description_html`` (sanitised) and ``description_text`` are derived from it when read.
Ingestion reads them only for items that are new or changed, so parsing and re-ingesting
an unchanged feed do no HTML work.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from podsight.sources.text import html_to_text, sanitize_html

__all__ = [
    "Category",
    "Chapters",
    "Funding",
    "ParsedChannel",
    "ParsedEpisode",
    "ParseResult",
    "Person",
    "Transcript",
]


@dataclass(frozen=True, slots=True)
class Person:
    """``<podcast:person>``."""

    name: str
    role: str | None = None
    group: str | None = None
    href: str | None = None
    img: str | None = None


@dataclass(frozen=True, slots=True)
class Transcript:
    """``<podcast:transcript>``."""

    url: str
    type: str | None = None
    language: str | None = None
    rel: str | None = None


@dataclass(frozen=True, slots=True)
class Chapters:
    """``<podcast:chapters>`` (a JSON chapters document) or inline Podlove Simple Chapters."""

    url: str | None = None
    type: str | None = None
    # Inline chapters (psc:chapters): list of (start seconds, title, href or None).
    inline: tuple[tuple[float, str, str | None], ...] = ()


@dataclass(frozen=True, slots=True)
class Funding:
    """``<podcast:funding>``."""

    url: str
    text: str | None = None


@dataclass(frozen=True, slots=True)
class Category:
    """An iTunes category; ``path`` is outermost first, e.g. ("Technology", "Podcasting")."""

    path: tuple[str, ...]


class _Described:
    """The description read two ways, derived when asked (never at parse time: the
    sanitiser is the costly part, and ingest runs it only for new or changed items)."""

    __slots__ = ()
    description_markup: str | None

    @property
    def description_html(self) -> str | None:
        """Sanitised HTML of the description."""
        return _html(self.description_markup)

    @property
    def description_text(self) -> str | None:
        """Plain text derived from the description."""
        return _text(self.description_markup)


@dataclass(slots=True)
class ParsedEpisode(_Described):
    identity: str  # guid if present, else enclosure URL, else "title+date:<sha1>"; stable
    guid: str | None = None
    title: str | None = None
    # The feed's own markup, NOT sanitised: never render it; read description_html.
    description_markup: str | None = None
    published_at: datetime | None = None  # always timezone-aware when set
    duration_s: int | None = None
    enclosure_url: str | None = None
    enclosure_type: str | None = None
    enclosure_length: int | None = None
    episode_number: int | None = None
    season_number: int | None = None
    episode_type: str | None = None  # full | trailer | bonus (lower-cased)
    explicit: bool | None = None
    image_url: str | None = None
    link: str | None = None
    transcripts: list[Transcript] = field(default_factory=list)
    chapters: Chapters | None = None
    persons: list[Person] = field(default_factory=list)


@dataclass(slots=True)
class ParsedChannel(_Described):
    title: str | None = None
    # The feed's own markup, NOT sanitised: never render it; read description_html.
    description_markup: str | None = None
    link: str | None = None
    language: str | None = None  # lower-case BCP 47-ish, e.g. "en-us"
    author: str | None = None
    owner_name: str | None = None
    owner_email: str | None = None
    image_url: str | None = None
    categories: list[Category] = field(default_factory=list)
    explicit: bool | None = None
    itunes_type: str | None = None  # episodic | serial
    podcast_guid: str | None = None
    podcast_guid_computed: bool = False  # True when derived from the feed URL (UUIDv5)
    self_url: str | None = None  # atom:link rel="self"
    new_feed_url: str | None = None  # itunes:new-feed-url
    funding: list[Funding] = field(default_factory=list)
    persons: list[Person] = field(default_factory=list)


def _html(markup: str | None) -> str | None:
    return (sanitize_html(markup) or None) if markup else None


def _text(markup: str | None) -> str | None:
    return (html_to_text(markup) or None) if markup else None


@dataclass(slots=True)
class ParseResult:
    channel: ParsedChannel
    episodes: list[ParsedEpisode]
    format: str  # "rss" | "atom"
    # Repairs that were needed, e.g. "leading-bytes", "html-entities", "unbound-prefix",
    # "namespace-case", "encoding", "deep-nesting" (elements nested deeper than 200 levels
    # dropped), "recovered" (libxml2 recovery: truncated or broken markup).
    repairs: list[str] = field(default_factory=list)
    # False when the document was cut short or markup was dropped: the item list may be
    # incomplete, so ingestion must not mark missing items as vanished.
    complete: bool = True
