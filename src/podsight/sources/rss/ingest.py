"""Ingest RSS/Atom feeds (URLs, files, folders) into per-source records and the catalog.

A feed is written in short transactions: its channel, then its episodes
:data:`CHUNK_EPISODES` at a time, then vanished marks, then the feed's state (ETag,
status), so a huge feed never holds SQLite's single write lock for long, and a run
stopped half-way is completed by the next one. A feed that cannot be fetched, read or
stored is recorded on its :class:`~podsight.sources.models.Feed` row with the reason, and
the run goes on. Re-ingesting an unchanged feed writes nothing but the feed's check time.
Parallel runs on one database are safe: rows are created with get-or-create semantics
and each feed's chunks take turns.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from django.db import DatabaseError, IntegrityError, OperationalError, transaction
from django.utils import timezone

from podsight.busy import is_database_busy
from podsight.catalog.models import Channel, Episode
from podsight.catalog.services import (
    apply_channel_values,
    episode_values_for,
    refresh_episodes,
    resolve_channel,
)
from podsight.progress import SILENT, Progress
from podsight.sources.models import Feed, LinkMethod, Source, SourceChannel, SourceEpisode
from podsight.sources.rss.document import ParsedChannel, ParsedEpisode, ParseResult
from podsight.sources.rss.fetch import (
    FetchError,
    FetchRequest,
    FetchResult,
    fetch_feeds,
    read_feed_file,
)
from podsight.sources.rss.parser import FeedParseError, parse_feed
from podsight.sources.store import OWN_IDENTITY, content_hash, link_or_create_channel, sync_keys
from podsight.sources.text import HTML_RULES, html_to_text, sanitize_html

__all__ = [
    "CHUNK_EPISODES",
    "FeedOutcome",
    "IngestReport",
    "expand_locations",
    "ingest_feeds",
    "record_external_id",
    "store_feed",
    "episode_values_for",
    "content_hash",
]

log = logging.getLogger(__name__)

# A feed's episodes are written in transactions of at most this many. SQLite has one
# writer at a time: a 60 MB feed written in one transaction kept the API's writes waiting
# for half a minute; a chunk takes a fraction of a second (bench/ingest_lock.py).
CHUNK_EPISODES = 200

# Files in a folder that are feeds; anything else (JSON expectations, XSDs, notes) is skipped.
FEED_SUFFIXES = {".xml", ".rss", ".atom", ".rdf", ".feed"}


@dataclass
class FeedOutcome:
    location: str
    # new | updated | unchanged | not-modified | failed, or incomplete: the document was
    # cut short or partly unreadable (see ``repairs``), so items may be missing from it.
    status: str
    title: str = ""
    episodes_total: int = 0
    episodes_new: int = 0
    episodes_updated: int = 0
    episodes_vanished: int = 0
    repairs: list[str] = field(default_factory=list)
    error: str = ""
    channel_id: int | None = None
    # What the run did to the catalog: new, updated or unchanged (also when incomplete).
    change: str = ""

    @property
    def failed(self) -> bool:
        return self.status == "failed"


@dataclass
class IngestReport:
    outcomes: list[FeedOutcome]

    @property
    def all_failed(self) -> bool:
        return bool(self.outcomes) and all(o.failed for o in self.outcomes)

    def count(self, status: str) -> int:
        return sum(1 for o in self.outcomes if o.status == status)


def _is_url(location: str) -> bool:
    return "://" in location and not location.startswith("file://")


def expand_locations(locations: Iterable[str]) -> list[str]:
    """URLs stay as they are; folders become their feed files (recursively), sorted."""
    out: list[str] = []
    for location in locations:
        if _is_url(location):
            out.append(location)
            continue
        path = Path(location.removeprefix("file://")).expanduser()
        if path.is_dir():
            out.extend(
                str(p)
                for p in sorted(path.rglob("*"))
                if p.is_file() and p.suffix.lower() in FEED_SUFFIXES
            )
        else:
            out.append(str(path))
    return list(dict.fromkeys(out))


def _jsonable(value: Any) -> Any:
    """Records → JSON values, as ``dataclasses.asdict`` then ISO dates, without its deep
    copies (asdict took a sixth of a re-ingest)."""
    fields = getattr(value, "__dataclass_fields__", None)
    if fields is not None:
        return {name: _jsonable(getattr(value, name)) for name in fields}
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    return value


def channel_data(channel: ParsedChannel) -> dict[str, Any]:
    """The channel as parsed: its description is the feed's markup (see :func:`stored`)."""
    data = _jsonable(channel)
    data["categories"] = [list(c.path) for c in channel.categories]
    return data


def episode_data(episode: ParsedEpisode) -> dict[str, Any]:
    """The episode as parsed: its description is the feed's markup (see :func:`stored`)."""
    return _jsonable(episode)


def source_hash(data: dict[str, Any]) -> str:
    """The content hash of a record: of what the feed says (its markup, before any HTML
    work) and of the rules that derive the stored form, so an unchanged item is known
    without sanitising it again."""
    return content_hash({**data, "_html_rules": HTML_RULES})


def stored(data: dict[str, Any]) -> dict[str, Any]:
    """The record's stored form: the markup replaced by sanitised HTML and plain text."""
    out: dict[str, Any] = {}
    for key, value in data.items():
        if key == "description_markup":
            out["description_html"] = (sanitize_html(value) or None) if value else None
            out["description_text"] = (html_to_text(value) or None) if value else None
        else:
            out[key] = value
    return out


def record_external_id(feed_url: str) -> str:
    """The external id of a feed's source record: its URL, or for a local file
    ``file:`` and 16 hex digits of the SHA-256 of its ``file://`` URI. The id is shown in
    API responses and labels, and a server's file paths are nobody's business."""
    if feed_url.startswith("file://"):
        return "file:" + hashlib.sha256(feed_url.encode()).hexdigest()[:16]
    return feed_url


def _find_feed(location: str) -> Feed:
    feed = Feed.objects.filter(url=location).first()
    if feed is None:
        # A feed that moved permanently is still found under its old address.
        for candidate in Feed.objects.filter(previous_urls__icontains=location):
            if location in candidate.previous_urls:
                return candidate
        # get_or_create retries the read when a parallel run inserted the row first.
        feed, _created = Feed.objects.get_or_create(url=location)
    return feed


def _record_failure(feed: Feed, error: str, http_status: int | None, now: datetime) -> None:
    feed.last_checked_at = now
    feed.last_status = "failed"
    feed.last_http_status = http_status
    feed.last_error = error
    feed.consecutive_failures += 1
    feed.save(update_fields=_FAILURE_FIELDS)


_FAILURE_FIELDS = [
    "last_checked_at", "last_status", "last_http_status", "last_error", "consecutive_failures"
]  # fmt: skip
# Written only after a feed's last episode chunk, so an interrupted run is redone in full:
# a stored ETag would otherwise make the next fetch answer 304 for a half-stored feed.
_DONE_FIELDS = [
    "url", "previous_urls", "etag", "last_modified", "last_http_status", "last_checked_at",
    "last_status", "last_error", "consecutive_failures", "repairs",
]  # fmt: skip


def store_feed(feed: Feed, result: ParseResult, *, fetched_at: datetime) -> FeedOutcome:
    """Write one parsed feed: its source records, and canonical clusters for new ones.

    The channel comes first (one transaction), then the episodes in transactions of at
    most :data:`CHUNK_EPISODES`, then the vanished marks, then the feed's state (ETag,
    status). A run stopped half-way leaves every committed chunk consistent, and the
    next run writes what is missing: nothing is skipped as "unchanged" that was not stored.
    """
    outcome = FeedOutcome(location=feed.url, status="unchanged", repairs=list(result.repairs))
    parsed = _unique_identities(result.episodes)
    record, change = _store_channel(feed, result, fetched_at)
    identities = list(parsed)
    for start in range(0, len(identities), CHUNK_EPISODES):
        chunk = {key: parsed[key] for key in identities[start : start + CHUNK_EPISODES]}
        new, updated = _store_chunk(record.pk, chunk, fetched_at)
        outcome.episodes_new += new
        outcome.episodes_updated += updated
    if result.complete:  # a cut-short document says nothing about the items it lost
        outcome.episodes_vanished = _mark_vanished(record.pk, parsed.keys(), fetched_at)
    outcome.episodes_total = len(parsed)
    if change == "unchanged" and (
        outcome.episodes_new or outcome.episodes_updated or outcome.episodes_vanished
    ):
        change = "updated"
    outcome.change = change
    outcome.status = change if result.complete else "incomplete"

    feed.last_status = "ok" if result.complete else "incomplete"
    feed.last_error = ""
    feed.consecutive_failures = 0
    feed.repairs = list(result.repairs)
    feed.last_checked_at = fetched_at
    feed.save(update_fields=_DONE_FIELDS)
    outcome.title = result.channel.title or ""
    outcome.channel_id = _canonical_channel(record.pk)
    return outcome


def _store_channel(
    feed: Feed, result: ParseResult, fetched_at: datetime
) -> tuple[SourceChannel, str]:
    """The feed's source record, created (with its canonical channel) or updated;
    returns it and "new", "updated" or "unchanged"."""
    parsed = channel_data(result.channel)
    chash = source_hash(parsed)
    external_id = record_external_id(feed.url)
    # A file's own path stays out of the record (it is shown by the API).
    url = result.channel.self_url or ("" if feed.url.startswith("file://") else feed.url)
    change = "unchanged"
    if feed.source_channel_id is not None:
        # A feed read again unchanged writes nothing: no write transaction, which on SQLite
        # would queue behind (and hold up) every other writer; and no HTML work.
        current = SourceChannel.objects.filter(pk=feed.source_channel_id).first()
        if (
            current is not None
            and current.content_hash == chash
            and current.vanished_at is None
            and current.url == url
        ):
            return current, change
    cdata = stored(parsed)
    with transaction.atomic():
        # Read inside the transaction: a parallel run may have linked the feed meanwhile.
        linked = Feed.objects.filter(pk=feed.pk).values_list("source_channel_id", flat=True)
        record = SourceChannel.objects.filter(pk__in=linked).first()
        if record is None:
            record = SourceChannel.objects.filter(
                source=Source.RSS, external_id=external_id
            ).first()
        if record is None:
            try:
                with transaction.atomic():  # savepoint: a lost race rolls back only this
                    record = SourceChannel.objects.create(
                        source=Source.RSS,
                        external_id=external_id,
                        url=url,
                        data=cdata,
                        content_hash=chash,
                        fetched_at=fetched_at,
                    )
                    # Another source (Apple's feedUrl, Podcast Index) may already know it.
                    link_or_create_channel(record, now=fetched_at)
                change = "new"
            except IntegrityError:  # a parallel run created it first (PostgreSQL)
                record = SourceChannel.objects.get(source=Source.RSS, external_id=external_id)
        if change != "new" and (
            record.content_hash != chash or record.vanished_at is not None or record.url != url
        ):
            if record.data == cdata and record.vanished_at is None and record.url == url:
                # Same stored form under another hash (stored by an older podsight, or new
                # HTML rules that changed nothing here): not a change, only the hash is.
                record.content_hash = chash
                record.save(update_fields=["content_hash"])
            else:
                record.data, record.content_hash, record.url = cdata, chash, url
                record.fetched_at, record.vanished_at = fetched_at, None
                record.save()
                sync_keys(record)
                if record.channel_id is not None:
                    channel = Channel.objects.get(pk=record.channel_id)
                    apply_channel_values(channel, list(channel.source_records.all()))
                change = "updated"
        if feed.source_channel_id != record.pk:
            feed.source_channel = record
            Feed.objects.filter(pk=feed.pk).update(source_channel=record)
    return record, change


def _canonical_channel(record_pk: int) -> int | None:
    """The live canonical channel of a source record (merged ids followed)."""
    channel_id = (
        SourceChannel.objects.filter(pk=record_pk).values_list("channel_id", flat=True).first()
    )
    survivor = resolve_channel(channel_id) if channel_id is not None else None
    return survivor.pk if survivor is not None else channel_id


def _unique_identities(episodes: Sequence[ParsedEpisode]) -> dict[str, ParsedEpisode]:
    """Identity → episode. Publishers sometimes reuse one guid for different items; the
    first keeps the identity, later ones with another title get a title-derived suffix
    (stable across runs) so nothing is lost. True repeats are dropped."""
    out: dict[str, ParsedEpisode] = {}
    for episode in episodes:
        first = out.get(episode.identity)
        if first is None:
            out[episode.identity] = episode
        elif first.title != episode.title:
            digest = hashlib.sha1((episode.title or "").encode()).hexdigest()[:12]
            out.setdefault(f"{episode.identity}#{digest}", episode)
    return out


def _known(record_pk: int, identities: list[str]) -> dict[str, tuple[int, str, Any, int | None]]:
    """identity → (pk, content hash, vanished_at, canonical episode id) of stored episodes."""
    rows = SourceEpisode.objects.filter(source_channel_id=record_pk, external_id__in=identities)
    return {
        external_id: (pk, digest, vanished_at, episode_id)
        for external_id, pk, digest, vanished_at, episode_id in rows.values_list(
            "external_id", "pk", "content_hash", "vanished_at", "episode_id"
        )
    }


def _store_chunk(
    record_pk: int, parsed: dict[str, ParsedEpisode], now: datetime
) -> tuple[int, int]:
    """One transaction: create or update these episodes of one record; (new, updated).

    Items are compared by the hash of what the feed says; only new and changed ones are
    sanitised (the stored form). What needs no database (stored forms, canonical values of
    new episodes) is computed before the transaction begins, from a read that takes no
    lock: with SQLite the transaction holds the only write lock, and other writers wait
    for all of it."""
    identities = list(parsed)
    hashes: dict[str, tuple[dict[str, Any], str]] = {}
    for identity, episode in parsed.items():
        data = episode_data(episode)
        hashes[identity] = (data, source_hash(data))
    known = _known(record_pk, identities)
    if all(
        (current := known.get(identity)) is not None and current[1] == digest and current[2] is None
        for identity, (_, digest) in hashes.items()
    ):
        return 0, 0  # every episode stored as it is: no HTML work, no write transaction
    rows: dict[str, tuple[dict[str, Any], str, str]] = {}

    def row_of(identity: str) -> tuple[dict[str, Any], str, str]:
        row = rows.get(identity)
        if row is None:
            data, digest = hashes[identity]
            episode = parsed[identity]
            url = episode.link or episode.enclosure_url or ""
            row = rows[identity] = (stored(data), digest, url)
        return row

    for identity, (_, digest) in hashes.items():
        current = known.get(identity)
        if current is None or current[1] != digest or current[2] is not None:
            row_of(identity)
    prepared = {
        identity: _new_episode(record_pk, identity, row, now)
        for identity, row in rows.items()
        if identity not in known
    }
    # Stored forms of the items whose hash differs: an equal one is no change.
    differing = [known[i][0] for i in rows if i in known and known[i][2] is None]
    before = dict(SourceEpisode.objects.filter(pk__in=differing).values_list("pk", "data"))

    with transaction.atomic():
        # On PostgreSQL this row lock makes parallel runs of one feed take turns per chunk
        # (SQLite's write lock already does), so both never insert the same episode.
        channel_id = (
            SourceChannel.objects.select_for_update()
            .filter(pk=record_pk)
            .values_list("channel_id", flat=True)
            .get()
        )
        known = _known(record_pk, identities)  # again: a parallel run may have written
        new: list[tuple[SourceEpisode, Episode]] = []
        changed: list[SourceEpisode] = []
        rehashed: list[SourceEpisode] = []
        for identity, (_, digest) in hashes.items():
            current = known.get(identity)
            if current is None:
                new.append(
                    prepared.get(identity)
                    or _new_episode(record_pk, identity, row_of(identity), now)
                )
            elif current[1] != digest or current[2] is not None:
                # row_of: a parallel run may have changed what the first read saw.
                data, digest, url = row_of(identity)
                if current[2] is None and before.get(current[0]) == data:
                    # Same stored form under another hash (stored by an older podsight,
                    # or new HTML rules that changed nothing here): only the hash changes.
                    rehashed.append(SourceEpisode(pk=current[0], content_hash=digest))
                    continue
                changed.append(
                    SourceEpisode(
                        pk=current[0],
                        episode_id=current[3],
                        data=data,
                        content_hash=digest,
                        url=url,
                        fetched_at=now,
                        vanished_at=None,
                    )
                )

        if new:
            if channel_id is None:
                raise RuntimeError(f"source channel {record_pk} has no canonical channel")
            survivor = resolve_channel(channel_id)
            channel_id = survivor.pk if survivor is not None else channel_id
            for _, episode in new:
                episode.channel_id = channel_id
            Episode.objects.bulk_create([episode for _, episode in new], batch_size=500)
            for source_episode, episode in new:
                source_episode.episode = episode
            SourceEpisode.objects.bulk_create([record for record, _ in new], batch_size=500)
        if changed:
            SourceEpisode.objects.bulk_update(
                changed,
                ["data", "content_hash", "url", "fetched_at", "vanished_at"],
                batch_size=500,
            )
            refresh_episodes(r.episode_id for r in changed if r.episode_id is not None)
        if rehashed:
            SourceEpisode.objects.bulk_update(rehashed, ["content_hash"], batch_size=500)
    return len(new), len(changed)


def _new_episode(
    record_pk: int, identity: str, row: tuple[dict[str, Any], str, str], now: datetime
) -> tuple[SourceEpisode, Episode]:
    """A new source record and its canonical episode (channel set when stored)."""
    data, digest, url = row
    record = SourceEpisode(
        source=Source.RSS,
        external_id=identity,
        source_channel_id=record_pk,
        url=url,
        data=data,
        content_hash=digest,
        fetched_at=now,
        link_method=LinkMethod.KEY,
        link_confidence=1.0,
        link_explanation=OWN_IDENTITY,
        linked_at=now,
    )
    return record, Episode(**episode_values_for([record]))


def _mark_vanished(record_pk: int, present: Iterable[str], now: datetime) -> int:
    """Mark the record's live episodes that the document no longer lists; in chunks."""
    keep = set(present)
    live = SourceEpisode.objects.filter(source_channel_id=record_pk, vanished_at__isnull=True)
    gone = [
        (pk, episode_id)
        for pk, external_id, episode_id in live.values_list("pk", "external_id", "episode_id")
        if external_id not in keep
    ]
    marked = 0
    for start in range(0, len(gone), CHUNK_EPISODES):
        chunk = gone[start : start + CHUNK_EPISODES]
        with transaction.atomic():
            marked += SourceEpisode.objects.filter(
                pk__in=[pk for pk, _ in chunk], vanished_at__isnull=True
            ).update(vanished_at=now)
            refresh_episodes(episode_id for _, episode_id in chunk if episode_id is not None)
    return marked


def ingest_feeds(
    locations: Sequence[str],
    *,
    concurrency: int = 8,
    progress: Progress = SILENT,
) -> IngestReport:
    """Fetch (URLs) or read (files), parse and store every feed; never stops at one failure.

    Whatever goes wrong with one feed (unreadable, unparsable, the database busy past its
    timeout, a conflict with a parallel run) becomes that feed's ``failed`` outcome."""
    targets = expand_locations(locations)
    feeds: dict[str, Feed] = {}
    early: dict[str, FeedOutcome] = {}
    for location in targets:
        try:
            feeds[location] = _find_feed(_feed_key(location))
        except Exception as exc:  # noqa: BLE001 - one feed's problem must not end the run
            early[location] = _failed_outcome(location, exc)

    fetched: dict[str, FetchResult] = {}
    urls = [loc for loc in targets if _is_url(loc) and loc in feeds]
    if urls:
        requests = [
            FetchRequest(
                url=feeds[u].url,
                etag=feeds[u].etag or None,
                last_modified=feeds[u].last_modified or None,
            )
            for u in urls
        ]
        results = fetch_feeds(requests, concurrency=concurrency, progress=progress)
        fetched = dict(zip(urls, results, strict=True))

    outcomes: list[FeedOutcome] = []
    with progress.task("ingest", total=len(targets)) as task:
        for location in targets:
            task.update(item=location)
            outcome = early.get(location)
            if outcome is None:
                outcome = _ingest_guarded(feeds[location], location, fetched.get(location))
            outcomes.append(outcome)
            task.advance()
    return IngestReport(outcomes)


def _ingest_guarded(feed: Feed, location: str, fetch: FetchResult | None) -> FeedOutcome:
    try:
        return _ingest_one(feed, location, fetch)
    except Exception as exc:  # noqa: BLE001 - one feed's problem must not end the run
        outcome = _failed_outcome(location, exc)
        try:
            _record_failure(feed, outcome.error, None, timezone.now())
        except DatabaseError:  # still busy: the outcome says what happened
            pass
        return outcome


def _failed_outcome(location: str, exc: Exception) -> FeedOutcome:
    if isinstance(exc, OperationalError) and is_database_busy(exc):
        error = (
            f"the database stayed busy (another process was writing) past its timeout: {exc}; "
            "nothing is lost, run the ingest again to finish this feed"
        )
    elif isinstance(exc, DatabaseError):
        error = (
            f"database error while storing this feed ({type(exc).__name__}: {exc}); what was "
            "committed is kept, run the ingest again to finish it"
        )
    else:
        log.exception("ingesting %s failed", location)
        error = f"unexpected error ({type(exc).__name__}: {exc}); this is a bug, please report it"
    return FeedOutcome(location=location, status="failed", error=error)


def _feed_key(location: str) -> str:
    return location if _is_url(location) else Path(location).expanduser().resolve().as_uri()


def _ingest_one(feed: Feed, location: str, fetch: FetchResult | None) -> FeedOutcome:
    now = timezone.now()
    http_charset = None
    source_url: str | None = None
    if fetch is not None:
        if fetch.error is not None:
            _record_failure(feed, str(fetch.error), fetch.status, now)
            return FeedOutcome(location=location, status="failed", error=str(fetch.error))
        _remember_http_state(feed, fetch, now)
        if fetch.not_modified:
            feed.last_status = "not-modified"
            feed.last_error = ""
            feed.consecutive_failures = 0
            feed.save(update_fields=_DONE_FIELDS)
            title = ""
            if feed.source_channel_id is not None:
                record = SourceChannel.objects.filter(pk=feed.source_channel_id).first()
                title = (record.data.get("title") or "") if record else ""
            return FeedOutcome(location=location, status="not-modified", title=title)
        body = fetch.content or b""
        http_charset = fetch.charset
        source_url = feed.url
    else:
        try:
            body = read_feed_file(Path(location).expanduser())
        except FetchError as exc:
            _record_failure(feed, str(exc), None, now)
            return FeedOutcome(location=location, status="failed", error=str(exc))
    try:
        result = parse_feed(body, url=source_url, http_charset=http_charset)
    except FeedParseError as exc:
        _record_failure(feed, str(exc), fetch.status if fetch else None, now)
        return FeedOutcome(location=location, status="failed", error=str(exc))
    outcome = store_feed(feed, result, fetched_at=now)
    outcome.location = location
    return outcome


def _remember_http_state(feed: Feed, fetch: FetchResult, now: datetime) -> None:
    """Set (not save) what the fetch says; store_feed saves it after the last chunk."""
    feed.last_checked_at = now
    feed.last_http_status = fetch.status
    if not fetch.not_modified:
        feed.etag = fetch.etag or ""
        feed.last_modified = fetch.last_modified or ""
    if fetch.permanent_redirect and fetch.permanent_redirect != feed.url:
        if Feed.objects.filter(url=fetch.permanent_redirect).exclude(pk=feed.pk).exists():
            log.warning(
                "feed %s moved to %s, which is already known", feed.url, fetch.permanent_redirect
            )
        else:
            log.info("feed %s moved permanently to %s", feed.url, fetch.permanent_redirect)
            feed.previous_urls = [*feed.previous_urls, feed.url]
            feed.url = fetch.permanent_redirect
