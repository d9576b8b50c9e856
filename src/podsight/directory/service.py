"""Searching the directory, and adding one of its feeds to the catalog.

A search takes the words of ``q`` (the index's tokenizer: lower-cased, accents folded)
and finds the feeds where every word occurs in the title, the author or the description,
in two tiers:

1. feeds where every word is in the title or the author (what people search a directory
   for: a show's name, its host);
2. then the others, where some word is only in the description.

Within a tier each word scores its best field (BM25; title ×3, author ×1.5, description
×1, plus a fifth of the other fields' scores), a title holding the words as a phrase
scores ×2 more, and the sum is multiplied by the feed's weight (×1.0 for a dead feed,
×1.1–1.4 for a live one by popularity; :mod:`.index`). Ties are broken by Podcast
Index id. The tiers also keep searches fast: common words match most descriptions, but
the first pages of such a search come from the far smaller title tier.

Pages are keyset pages over (tier, score, id): the cursor holds the last result's
triple (and the search it belongs to), the next page is what comes after it. Each tier
pages through its best :data:`MAX_RESULTS` results; more words or a filter narrow a
search.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import tantivy

from podsight import lake
from podsight.directory.index import LAKE_TABLE, analyze, index_path, open_index
from podsight.errors import InputError, NotFoundError, PodsightError, StorageError
from podsight.progress import SILENT, Progress
from podsight.sources.text import normalise_language

__all__ = [
    "DEFAULT_PAGE_SIZE",
    "MAX_PAGE_SIZE",
    "MAX_RESULTS",
    "AddResult",
    "DirectoryError",
    "DirectoryPage",
    "DirectoryUnavailable",
    "FeedNotFound",
    "InvalidCursor",
    "InvalidSearch",
    "add_feed",
    "search",
]

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 100
MAX_RESULTS = 10_000
MAX_QUERY_LENGTH = 500
MAX_WORDS = 16
# The language filter's form (the OpenAPI document states it): en, pt-BR, en_us…
LANGUAGE_TAG = re.compile(r"[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{1,8}){0,3}")
TITLE_BOOST = 3.0
AUTHOR_BOOST = 1.5
PHRASE_BOOST = 2.0
# A word's score is its best field's plus this share of the others'.
TIE_BREAKER = 0.2

IMPORT_HINT = "run `podsight import podcastindex FILE` with the Podcast Index dump first"


class DirectoryError(PodsightError):
    """A directory request that cannot be answered; the message says what to do."""


class DirectoryUnavailable(DirectoryError, StorageError):
    """Nothing to search: no dump imported, or the index is missing."""


class FeedNotFound(DirectoryError, NotFoundError):
    """No feed with that Podcast Index id in the imported dump."""

    exit_code = 2  # the id given is wrong


class InvalidSearch(DirectoryError, InputError):
    """A search parameter is wrong; ``field`` names it."""

    exit_code = 2

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(message)
        self.field = field_name
        self.message = message


class InvalidCursor(InvalidSearch):
    def __init__(self, message: str) -> None:
        super().__init__("cursor", message)


# --- the reader ----------------------------------------------------------------------------

_reader_lock = threading.Lock()
_reader: tuple[tuple[Any, ...], tantivy.Index] | None = None


def _index() -> tantivy.Index:
    """The index, reopened when a commit or a rebuild replaced its ``meta.json``."""
    global _reader
    path = index_path()
    try:
        meta = (path / "meta.json").stat()
    except OSError:
        if lake.exists(LAKE_TABLE):
            raise DirectoryUnavailable(
                "the directory index is missing: run `podsight directory reindex` to build "
                "it from the imported dump"
            ) from None
        raise DirectoryUnavailable(
            f"no Podcast Index dump has been imported: {IMPORT_HINT}"
        ) from None
    stamp = (str(path), meta.st_ino, meta.st_mtime_ns, meta.st_size)
    with _reader_lock:
        if _reader is None or _reader[0] != stamp:
            try:
                _reader = (stamp, open_index(path))
            except (ValueError, OSError) as exc:  # damaged, or a newer tantivy's format
                raise DirectoryUnavailable(
                    f"the directory index at {path} cannot be read ({exc}); run "
                    "`podsight directory reindex --rebuild`"
                ) from None
        return _reader[1]


# --- search --------------------------------------------------------------------------------


@dataclass
class DirectoryPage:
    results: list[dict[str, Any]]
    next_cursor: str | None
    page_size: int


def _words(q: str | None) -> list[str]:
    if q is None or not q.strip():
        raise InvalidSearch("q", "give a word to search for in titles, authors and descriptions")
    if len(q) > MAX_QUERY_LENGTH:
        raise InvalidSearch("q", f"the search is longer than {MAX_QUERY_LENGTH} characters")
    words = list(dict.fromkeys(analyze(q)))
    # No searchable word (only punctuation, or tokens too long to be words): nothing can
    # match, which is an empty answer rather than a bad request.
    if len(words) > MAX_WORDS:
        raise InvalidSearch("q", f"the search has more than {MAX_WORDS} different words")
    return words


def _language(value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    # A language tag as the API documents it, then normalised as the feed parser does for
    # what the index holds.
    tag = normalise_language(value) if LANGUAGE_TAG.fullmatch(value) else None
    if tag is None:
        raise InvalidSearch(
            "language", "the language must be a language tag such as `en` or `pt-br`"
        )
    return tag


def _category(value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    if len(value) > 100:
        raise InvalidSearch("category", "the category is longer than 100 characters")
    return value.strip().lower()


def _queries(
    schema: tantivy.Schema, words: list[str], language: str | None, category: str | None
) -> tuple[tantivy.Query, tantivy.Query]:
    """(the title tier's query, the description tier's query)."""
    Query, Occur = tantivy.Query, tantivy.Occur

    def word(text: str, description: bool) -> tantivy.Query:
        fields = [
            Query.boost_query(Query.term_query(schema, "title", text), TITLE_BOOST),
            Query.boost_query(Query.term_query(schema, "author", text), AUTHOR_BOOST),
        ]
        if description:
            fields.append(Query.term_query(schema, "description", text, index_option="freq"))
        return Query.disjunction_max_query(fields, TIE_BREAKER)

    common: list[tuple[Any, tantivy.Query]] = []
    if len(words) > 1:  # the words as a phrase in the title: a bonus
        phrase = Query.phrase_query(schema, "title", words)
        common.append((Occur.Should, Query.boost_query(phrase, PHRASE_BOOST)))
    # Filters must match but add nothing to the score.
    if language:
        term = Query.term_query(schema, "language", language, index_option="basic")
        common.append((Occur.Must, Query.const_score_query(term, 0.0)))
    if category:
        term = Query.term_query(schema, "category", category, index_option="basic")
        common.append((Occur.Must, Query.const_score_query(term, 0.0)))
    named = [(Occur.Must, word(text, False)) for text in words]
    anywhere = [(Occur.Must, word(text, True)) for text in words]
    titles = Query.boolean_query(named + common)
    rest = Query.boolean_query(
        anywhere + common + [(Occur.MustNot, Query.boolean_query(list(named)))]
    )
    return titles, rest


def _fingerprint(words: list[str], language: str | None, category: str | None) -> str:
    raw = json.dumps([words, language, category], ensure_ascii=False)
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


def _encode_cursor(search_id: str, tier: int, score: float, feed_id: int, position: int) -> str:
    # Signed like every cursor of the API (api/pagination.py), then checked all the same.
    from podsight.api.pagination import sign_cursor

    return sign_cursor([search_id, tier, float(score), feed_id, position])


def _decode_cursor(token: str, search_id: str) -> tuple[int, float, int, int]:
    """(tier, score, id, position in the tier) of the last result before the page."""
    from podsight.api.pagination import InvalidCursor as ApiInvalidCursor
    from podsight.api.pagination import unsign_cursor, valid_id

    try:
        payload = unsign_cursor(token)
    except ApiInvalidCursor:
        raise InvalidCursor("not a cursor of this API; use the `next` link as given") from None
    if not isinstance(payload, list) or len(payload) != 5:
        raise InvalidCursor("not a cursor of the directory; use the `next` link as given")
    fingerprint, tier, score, feed_id, position = payload
    if not (
        tier in (0, 1)
        and not isinstance(tier, bool)
        and isinstance(score, float)
        and math.isfinite(score)
        and score >= 0
        and valid_id(feed_id)
        and valid_id(position)
        and position <= MAX_RESULTS
    ):
        raise InvalidCursor("the cursor was altered; use the `next` link as given")
    if fingerprint != search_id:
        raise InvalidCursor("this cursor belongs to another search (q, language or category)")
    return tier, score, feed_id, position


def _ranked(
    searcher: tantivy.Searcher,
    query: tantivy.Query,
    after: tuple[float, int] | None,
    position: int,
    want: int,
) -> list[tuple[float, int, Any]]:
    """Up to ``want`` hits (score, id, address) after ``after`` in (score desc, id asc)
    order.

    tantivy ranks by score alone; ties are put in id order here. A window of the top
    hits is fetched, and only hits scoring above the window's lowest score are sure of
    their place (a tie at the edge may go on past it): the window grows until enough
    are, or it holds every match, or it reaches ``MAX_RESULTS``.
    """
    if position >= MAX_RESULTS or want < 1:
        return []
    window = max(64, (position + want) * 2)
    while True:
        limit = min(window, MAX_RESULTS + 1)
        hits = searcher.search(query, limit, count=False, weight_by_field="weight").hits
        complete = len(hits) < limit
        capped = not complete and limit > MAX_RESULTS
        ids = searcher.fast_field_values("id", [address for _score, address in hits])
        rows = sorted(
            (
                (score, feed_id, address)
                for (score, address), feed_id in zip(hits, ids, strict=True)
            ),
            key=lambda row: (-row[0], row[1]),
        )
        if capped:
            rows = rows[:MAX_RESULTS]
        elif not complete:
            floor = hits[-1][0]
            rows = [row for row in rows if row[0] > floor]
        if after is not None:
            score, feed_id = after
            rows = [row for row in rows if row[0] < score or (row[0] == score and row[1] > feed_id)]
        if len(rows) >= want or complete or capped:
            return rows[:want]
        window *= 4


def _result(score: float, feed_id: int, doc: dict[str, list[Any]]) -> dict[str, Any]:
    def first(name: str) -> Any:
        values = doc.get(name)
        return values[0] if values else None

    url = first("url")
    dead = first("dead")
    return {
        "podcastindex_id": feed_id,
        "title": first("title") or "",
        "author": first("author") or "",
        "url": bytes(url).decode() if url is not None else "",
        "language": first("language"),
        "categories": list(doc.get("category") or []),
        "episode_count": first("episode_count"),
        "popularity": first("popularity"),
        "dead": None if dead is None else bool(dead),
        "channel": None,
        "score": score,
    }


def search(
    q: str | None,
    *,
    language: str | None = None,
    category: str | None = None,
    page_size: int = DEFAULT_PAGE_SIZE,
    cursor: str | None = None,
) -> DirectoryPage:
    """One page of the directory's feeds matching ``q``; see the module docstring."""
    words = _words(q)
    language, category = _language(language), _category(category)
    if (
        not isinstance(page_size, int)
        or isinstance(page_size, bool)
        or not 1 <= page_size <= MAX_PAGE_SIZE
    ):
        raise InvalidSearch(
            "page_size", f"the page size must be a whole number from 1 to {MAX_PAGE_SIZE}"
        )
    if not words:
        return DirectoryPage([], None, page_size)
    search_id = _fingerprint(words, language, category)
    tier, after, position = 0, None, 0
    if cursor is not None:
        tier, score, feed_id, position = _decode_cursor(cursor, search_id)
        after = (score, feed_id)
    index = _index()
    searcher = index.searcher()
    queries = _queries(index.schema, words, language, category)
    rows: list[tuple[int, float, int, Any]] = []  # (tier, score, id, address)
    for current in range(tier, len(queries)):
        start = current == tier
        found = _ranked(
            searcher,
            queries[current],
            after if start else None,
            position if start else 0,
            page_size + 1 - len(rows),
        )
        rows.extend((current, *row) for row in found)
        if len(rows) > page_size:
            break
    page = rows[:page_size]
    results = [
        _result(score, feed_id, searcher.doc(address).to_dict())
        for _tier, score, feed_id, address in page
    ]
    _attach_channels(results)
    next_cursor = None
    if len(rows) > page_size:
        last_tier, score, feed_id, _address = page[-1]
        in_tier = sum(1 for row in page if row[0] == last_tier)
        at = (position if last_tier == tier else 0) + in_tier
        if at < MAX_RESULTS or last_tier + 1 < len(queries):
            next_cursor = _encode_cursor(search_id, last_tier, score, feed_id, min(at, MAX_RESULTS))
    return DirectoryPage(results, next_cursor, page_size)


def _attach_channels(results: list[dict[str, Any]]) -> None:
    """Set each result's ``channel``: the canonical channel of the catalog record with its
    Podcast Index id (the dump import's or ``directory add``'s link), else of a record
    with its feed URL (an RSS ingest of the same feed); merged channels are followed."""
    if not results:
        return
    from django.db.models import Q

    from podsight.catalog.models import Channel
    from podsight.catalog.services import surviving_ids
    from podsight.sources.keys import normalise_feed_url
    from podsight.sources.models import SourceKey

    ids = {str(r["podcastindex_id"]): r for r in results}
    feeds: dict[str, list[dict[str, Any]]] = {}
    for result in results:
        key = normalise_feed_url(result["url"])
        if key:
            feeds.setdefault(key, []).append(result)
    rows = (
        SourceKey.objects.filter(record__channel__isnull=False)
        .filter(
            Q(kind="podcastindex_id", value__in=list(ids))
            | Q(kind="feed_url", value__in=list(feeds))
        )
        .values_list("kind", "value", "record__channel_id")
        .order_by("record_id")
    )
    by_id: dict[str, int] = {}
    by_feed: dict[str, int] = {}
    for kind, value, channel_id in rows:
        (by_id if kind == "podcastindex_id" else by_feed).setdefault(value, channel_id)
    alive = surviving_ids(Channel, set(by_id.values()) | set(by_feed.values()))
    for result in results:
        channel = by_id.get(str(result["podcastindex_id"]))
        if channel is None:
            channel = by_feed.get(normalise_feed_url(result["url"]))
        result["channel"] = alive.get(channel) if channel is not None else None


# --- add -----------------------------------------------------------------------------------


@dataclass
class AddResult:
    podcastindex_id: int
    title: str
    feed_url: str
    record_id: int  # the podcastindex source record
    channel: int | None
    sources_file: Path
    added_to_sources: bool
    # The RSS ingest's: new, updated, unchanged, not-modified, incomplete, failed.
    feed_status: str
    feed_error: str = ""
    episodes: int = 0

    @property
    def feed_failed(self) -> bool:
        return self.feed_status == "failed"

    def as_dict(self) -> dict[str, Any]:
        return {
            "podcastindex_id": self.podcastindex_id,
            "title": self.title,
            "url": self.feed_url,
            "channel": self.channel,
            "record": self.record_id,
            "added_to_sources": self.added_to_sources,
            "feed": {
                "status": self.feed_status,
                "error": self.feed_error,
                "episodes": self.episodes,
            },
        }


def dump_row(podcastindex_id: int) -> tuple[Any, ...]:
    """The lake's row of this feed, columns in the import's order (``row_data``'s)."""
    from podsight.sources.podcastindex.dump.layout import READ_COLUMNS

    if not lake.exists(LAKE_TABLE):
        raise DirectoryUnavailable(f"no Podcast Index dump has been imported: {IMPORT_HINT}")
    columns = ", ".join(f'"{name}"' for name in READ_COLUMNS)
    table = lake.query(
        f"SELECT {columns} FROM feeds WHERE id = ? LIMIT 1", [podcastindex_id], feeds=LAKE_TABLE
    )
    if not table.num_rows:
        raise FeedNotFound(
            f"no feed with Podcast Index id {podcastindex_id} in the imported dump; "
            "find ids with `podsight directory search WORDS`"
        )
    return tuple(table.column(name)[0].as_py() for name in READ_COLUMNS)


def add_feed(
    podcastindex_id: int,
    *,
    sources_file: Path,
    ingest: Callable[..., Any],
    progress: Progress = SILENT,
) -> AddResult:
    """Put a directory feed in the catalog: its dump row as a ``podcastindex`` record (a
    channel, or joined to the channel that already shares a key with it), the show in the
    sources file, then its feed ingested with ``ingest`` (the ``ingest.rss`` step), whose
    RSS record joins the same channel by feed URL."""
    from podsight.catalog.services import resolve_channel
    from podsight.sources.discover import spec_for
    from podsight.sources.models import SourceChannel
    from podsight.sources.podcastindex.dump.rows import row_data
    from podsight.sources.podcastindex.normalize import SOURCE
    from podsight.sources.records import Normalized, ShowRecord
    from podsight.sources.sync import append_to_sources_file, store_and_record

    if not 0 < podcastindex_id < 2**63:
        raise FeedNotFound(f"{podcastindex_id} is not a Podcast Index id (a positive whole number)")
    data = row_data(dump_row(podcastindex_id))
    feed_url = data.get("feed_url") or ""
    show = ShowRecord(
        source=SOURCE, external_id=str(podcastindex_id), data=data, url=data.get("link") or feed_url
    )
    # The sources file first: if it cannot be read, nothing is stored half-way.
    added = append_to_sources_file(sources_file, [spec_for(show)])
    store_and_record(Normalized(shows=[show]), fetched_at=datetime.now(UTC))
    report = ingest([feed_url], progress=progress)
    outcome = report.outcomes[0]
    record = SourceChannel.objects.get(source=SOURCE, external_id=str(podcastindex_id))
    channel = resolve_channel(record.channel_id) if record.channel_id is not None else None
    return AddResult(
        podcastindex_id=podcastindex_id,
        title=str(data.get("title") or ""),
        feed_url=feed_url,
        record_id=record.pk,
        channel=channel.pk if channel else None,
        sources_file=sources_file,
        added_to_sources=bool(added),
        feed_status=outcome.status,
        feed_error=outcome.error,
        episodes=outcome.episodes_total,
    )
