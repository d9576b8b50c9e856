"""Episode transcripts: stored in the lake by version, fetched from the feeds' links.

**Storing and reading** (every transcript source goes through these):

- :func:`store_transcript` writes a transcript's segments as the episode's next version
  in lake ``transcripts`` and points its :class:`~podsight.content.models.EpisodeTranscript`
  at it (status ``ok``); the feed path here and speech recognition (``content/asr.py``) both
  call it. Versions only grow: an earlier version stays in the lake.
- :func:`read_segments` (one episode) and :func:`read_current_segments` (many) read the
  current version's segments back, in order.

**Fetching** (:func:`fetch_transcripts`, the step ``content.transcripts``): for every
canonical episode whose feed links transcripts (``Episode.transcripts``: ``url``, ``type``,
``language``, ``rel``), :func:`choose_link` picks one: a link in the channel's language
first, then by format VTT > JSON > SRT > HTML > Markdown > plain text. It is fetched with
the feeds' safe fetcher (SSRF guard, size cap ``PODSIGHT_TRANSCRIPT_MAX_BYTES``, timeouts,
conditional GET with the stored ETag and Last-Modified, several at once), parsed
(:mod:`.formats`), and stored only when its SHA-256 is new, so an unchanged transcript
keeps its version and nothing downstream (passages, analysis) is redone. A failure is
recorded on the episode (``error``; status ``error`` unless an earlier version is stored,
which stays current) and the run goes on.
"""

from __future__ import annotations

import fcntl
import hashlib
import importlib
import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pyarrow as pa
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from podsight import conf, lake
from podsight.catalog.models import Episode
from podsight.content.formats import (
    FORMATS,
    TranscriptFormatError,
    format_from_media_type,
    format_from_url,
    parse_transcript,
    primary_language,
)
from podsight.content.models import EpisodeTranscript, TranscriptSource, TranscriptStatus
from podsight.content.segments import Segment, Transcript
from podsight.errors import ConfigurationError
from podsight.lake.tables import TRANSCRIPTS
from podsight.progress import SILENT, Progress
from podsight.sources.rss.fetch import (
    FetchRequest,
    FetchResult,
    fetch_feed,
    make_client,
    positive_setting,
)

__all__ = [
    "ASR_RETRY_AFTER",
    "FORMAT_PREFERENCE",
    "AsrPart",
    "StoreItem",
    "TranscriptLink",
    "TranscriptOutcome",
    "TranscriptsReport",
    "VersionFacts",
    "choose_link",
    "fetch_transcripts",
    "forget_stored",
    "read_current_segments",
    "read_segments",
    "segment_at",
    "store_transcript",
    "store_transcripts",
    "transcript_links",
    "transcript_max_bytes",
    "version_facts",
]

log = logging.getLogger(__name__)

# Which link wins when an episode offers several (the Podcasting 2.0 namespace recommends
# VTT; JSON and SRT carry times too; HTML and Markdown speakers and some times; text none).
FORMAT_PREFERENCE = ("vtt", "json", "srt", "html", "markdown", "text")
_DEFAULT_MAX_BYTES = 10 * 1024 * 1024
# A failed speech recognition of an unchanged enclosure is tried again after this long.
ASR_RETRY_AFTER = timedelta(days=7)
# Transcripts written to the lake per commit: fewer, larger Delta commits.
_STORE_BATCH = 100


def transcript_max_bytes() -> int:
    """The size cap of one transcript document (``PODSIGHT_TRANSCRIPT_MAX_BYTES``, 10 MiB),
    read as the fetcher reads its own caps."""
    return int(positive_setting("PODSIGHT_TRANSCRIPT_MAX_BYTES", _DEFAULT_MAX_BYTES))


# --- storing and reading ----------------------------------------------------------------


@dataclass
class StoreItem:
    """One transcript to store (see :func:`store_transcript` for the fields)."""

    episode_id: int
    transcript: Transcript
    source: str
    url: str
    sha256: str
    mime_type: str = ""
    etag: str = ""
    last_modified: str = ""
    details: dict[str, Any] | None = None


def _duration(segments: Sequence[Segment]) -> float | None:
    times = [t for s in segments for t in (s.end_s, s.start_s) if t is not None]
    return max(times) if times else None


def _lake_versions(episode_ids: Sequence[int]) -> dict[int, int]:
    """The highest version the lake holds per episode: a run stopped between the lake
    write and the database update left one the database does not know, and the next
    version must not reuse its number."""
    if not episode_ids or not lake.exists(TRANSCRIPTS):
        return {}
    ids = ", ".join(str(int(i)) for i in sorted(set(episode_ids)))
    rows = lake.query(
        f"SELECT episode_id, max(version) AS v FROM t WHERE episode_id IN ({ids}) "
        "GROUP BY episode_id",
        t=TRANSCRIPTS,
    ).to_pylist()
    return {r["episode_id"]: r["v"] for r in rows}


@contextmanager
def _writing() -> Iterator[None]:
    """One writer of transcripts at a time on this machine (a lock file under
    ``PODSIGHT_HOME/state``): two runs, or the feed and speech paths at once, must not
    both take the same next version number."""
    folder = conf.podsight_home() / "state"
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / "transcripts.lock").open("a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def store_transcripts(items: Sequence[StoreItem], *, skip_unchanged: bool = False) -> list[int]:
    """Store each item as its episode's next version, in one lake commit; the versions.

    With ``skip_unchanged``, an item whose ``source`` and ``sha256`` are those of its
    episode's current version is not stored (its entry is 0): checked under the write lock,
    so that two runs that fetched the same new document store it once."""
    if not items:
        return []
    ids = [item.episode_id for item in items]
    if len(set(ids)) != len(ids):
        raise ValueError("store_transcripts: one transcript per episode per call")
    with _writing():
        if not skip_unchanged:
            return _store(items, ids)
        current = {
            episode_id: (source, sha)
            for episode_id, source, sha in EpisodeTranscript.objects.filter(
                episode_id__in=ids, version__gt=0
            ).values_list("episode_id", "source", "content_sha256")
        }
        new = [i for i in items if current.get(i.episode_id) != (i.source, i.sha256)]
        new_ids = [i.episode_id for i in new]
        stored = dict(zip(new_ids, _store(new, new_ids), strict=True))
        return [stored.get(episode_id, 0) for episode_id in ids]


def _store(items: Sequence[StoreItem], ids: list[int]) -> list[int]:
    if not items:
        return []
    known = dict(
        EpisodeTranscript.objects.filter(episode_id__in=ids).values_list("episode_id", "version")
    )
    in_lake = _lake_versions(ids)
    versions = [max(known.get(i, 0), in_lake.get(i, 0)) + 1 for i in ids]
    now = datetime.now(UTC)
    columns: dict[str, list[Any]] = {name: [] for name in TRANSCRIPTS.schema.names}
    for item, version in zip(items, versions, strict=True):
        for number, seg in enumerate(item.transcript.segments):
            row = {
                "episode_id": item.episode_id,
                "version": version,
                "segment_no": number,
                "source": item.source,
                "format": item.transcript.format,
                "language": item.transcript.language,
                "start_s": seg.start_s,
                "end_s": seg.end_s,
                "speaker": seg.speaker,
                "text": seg.text,
                "created_at": now,
            }
            for name, value in row.items():
                columns[name].append(value)
    lake.append(TRANSCRIPTS, pa.table(columns, schema=TRANSCRIPTS.schema))
    stamp = timezone.now()
    with transaction.atomic():
        for item, version in zip(items, versions, strict=True):
            t = item.transcript
            EpisodeTranscript.objects.update_or_create(
                episode_id=item.episode_id,
                defaults={
                    "status": TranscriptStatus.OK,
                    "source": item.source,
                    "url": item.url,
                    "mime_type": item.mime_type[:100],
                    "format": t.format,
                    "language": t.language[:35],
                    "version": version,
                    "content_sha256": item.sha256,
                    "etag": item.etag or "",
                    "last_modified": item.last_modified or "",
                    "segments": len(t.segments),
                    "duration_s": _duration(t.segments),
                    "error": "",
                    "warnings": list(t.warnings),
                    "details": dict(item.details or {}),
                    "fetched_at": stamp,
                    "checked_at": stamp,
                },
            )
    return versions


def store_transcript(
    episode_id: int,
    transcript: Transcript,
    *,
    source: str,
    url: str,
    sha256: str,
    mime_type: str = "",
    etag: str = "",
    last_modified: str = "",
    details: dict[str, Any] | None = None,
) -> int:
    """Store ``transcript`` as the episode's next version; returns that version.

    ``source`` is ``rss`` or ``asr``; ``url`` the document (or the enclosure for asr);
    ``sha256`` what identifies the content (the document's bytes, or the audio's), which a
    later run compares to decide whether anything changed; ``details`` source-specific
    facts (the speech model, audio seconds, real-time factor). The episode's state row
    becomes status ``ok`` with this version, its error cleared."""
    if source not in TranscriptSource.values:
        raise ValueError(f"source must be one of {TranscriptSource.values}, not {source!r}")
    (version,) = store_transcripts(
        [
            StoreItem(
                episode_id, transcript, source, url, sha256, mime_type, etag, last_modified,
                details,
            )
        ]
    )  # fmt: skip
    return version


def _segments_from(rows: Iterable[dict[str, Any]]) -> list[Segment]:
    return [Segment(r["start_s"], r["end_s"], r["speaker"] or "", r["text"]) for r in rows]


def read_segments(
    episode_id: int, version: int | None = None, *, offset: int = 0, limit: int | None = None
) -> list[Segment]:
    """The segments of the episode's transcript ``version`` (default: the current one), in
    order; empty when there is none. ``offset`` and ``limit`` read a page (by segment
    number)."""
    if version is None:
        version = (
            EpisodeTranscript.objects.filter(episode_id=episode_id)
            .values_list("version", flat=True)
            .first()
        )
    if not version or not lake.exists(TRANSCRIPTS):
        return []
    page = f" LIMIT {int(limit)}" if limit is not None else ""
    rows = lake.query(
        "SELECT start_s, end_s, speaker, text FROM t WHERE episode_id = ? AND version = ? "
        f"AND segment_no >= ? ORDER BY segment_no{page}",
        [int(episode_id), int(version), int(offset)],
        t=TRANSCRIPTS,
    ).to_pylist()
    return _segments_from(rows)


def segment_at(episode_id: int, version: int, seconds: float) -> int:
    """The number of the segment being spoken ``seconds`` into the episode's transcript
    ``version``: the last one starting at or before it (0 when none does, or the
    transcript has no times)."""
    if not lake.exists(TRANSCRIPTS):
        return 0
    rows = lake.query(
        "SELECT max(segment_no) AS n FROM t WHERE episode_id = ? AND version = ? AND start_s <= ?",
        [int(episode_id), int(version), float(seconds)],
        t=TRANSCRIPTS,
    ).to_pylist()
    found = rows[0]["n"] if rows else None
    return int(found) if found is not None else 0


@dataclass(frozen=True)
class VersionFacts:
    """What one stored version is: where it came from, its format, language and size."""

    source: str
    format: str
    language: str
    segments: int


def version_facts(episode_id: int, version: int) -> VersionFacts | None:
    """Source, format, language and segment count of the episode's transcript ``version``,
    from its own lake rows (the state row describes the current version only); None when
    the lake holds no such version."""
    if not lake.exists(TRANSCRIPTS):
        return None
    rows = lake.query(
        "SELECT any_value(source) AS source, any_value(format) AS format, "
        "any_value(language) AS language, count(*) AS n FROM t "
        "WHERE episode_id = ? AND version = ?",
        [int(episode_id), int(version)],
        t=TRANSCRIPTS,
    ).to_pylist()
    if not rows or not rows[0]["n"]:
        return None
    row = rows[0]
    return VersionFacts(row["source"] or "", row["format"] or "", row["language"] or "", row["n"])


def read_current_segments(episode_ids: Iterable[int] | None = None) -> dict[int, list[Segment]]:
    """The current version's segments of many episodes at once (default: every episode with
    a stored transcript): ``{episode_id: [Segment, ...]}``, in one lake scan."""
    current = EpisodeTranscript.objects.filter(version__gt=0)
    if episode_ids is not None:
        current = current.filter(episode_id__in=list(episode_ids))
    versions = dict(current.values_list("episode_id", "version"))
    if not versions or not lake.exists(TRANSCRIPTS):
        return {}
    wanted = pa.table(
        {
            "episode_id": pa.array(list(versions), pa.int64()),
            "version": pa.array(list(versions.values()), pa.int32()),
        }
    )
    con = lake.connect()
    try:
        from deltalake import DeltaTable

        con.register("t", DeltaTable(str(lake.table_path(TRANSCRIPTS))).to_pyarrow_dataset())
        con.register("w", wanted)
        rows = (
            con.sql(
                "SELECT t.episode_id, t.start_s, t.end_s, t.speaker, t.text FROM t "
                "JOIN w ON t.episode_id = w.episode_id AND t.version = w.version "
                "ORDER BY t.episode_id, t.segment_no"
            )
            .to_arrow_table()
            .to_pylist()
        )
    finally:
        con.close()
    out: dict[int, list[Segment]] = {}
    for r in rows:
        out.setdefault(r["episode_id"], []).append(
            Segment(r["start_s"], r["end_s"], r["speaker"] or "", r["text"])
        )
    return out


# --- choosing a link --------------------------------------------------------------------


@dataclass(frozen=True)
class TranscriptLink:
    """One ``podcast:transcript`` of an episode, as ingest stores it."""

    url: str
    type: str = ""
    language: str = ""
    rel: str = ""

    @property
    def format(self) -> str | None:
        return format_from_media_type(self.type) or format_from_url(self.url)


def transcript_links(episode: Episode) -> list[TranscriptLink]:
    """The episode's transcript links (entries without a URL are left out)."""
    links = []
    for raw in episode.transcripts or []:
        if isinstance(raw, dict) and isinstance(raw.get("url"), str) and raw["url"].strip():
            links.append(
                TranscriptLink(
                    raw["url"].strip(),
                    str(raw.get("type") or ""),
                    str(raw.get("language") or ""),
                    str(raw.get("rel") or ""),
                )
            )
    return links


def choose_link(links: Sequence[TranscriptLink], language: str = "") -> TranscriptLink | None:
    """The link to fetch: one in ``language`` (the channel's; ``en`` matches ``en-US``)
    before one without a language before one in another language; then by
    :data:`FORMAT_PREFERENCE` (an unknown format last); then the feed's order."""
    wanted = primary_language(language)

    def rank(indexed: tuple[int, TranscriptLink]) -> tuple[int, int, int]:
        index, link = indexed
        have = primary_language(link.language)
        lang = 1 if not have or not wanted else (0 if have == wanted else 2)
        fmt = link.format
        order = FORMAT_PREFERENCE.index(fmt) if fmt in FORMAT_PREFERENCE else len(FORMATS)
        return lang, order, index

    return min(enumerate(links), key=rank)[1] if links else None


# --- the run ----------------------------------------------------------------------------


@dataclass
class TranscriptOutcome:
    """What happened to one episode: ``stored`` (new or changed), ``unchanged`` (304 or
    the same content), ``failed``, ``no_link``, or an ASR status."""

    episode_id: int
    status: str
    url: str = ""
    format: str = ""
    version: int = 0
    segments: int = 0
    error: str = ""
    warnings: int = 0


@dataclass
class AsrPart:
    """Speech recognition for episodes without a transcript link (``asr=True``)."""

    attempted: int = 0
    stored: int = 0
    unchanged: int = 0
    no_speech_model: int = 0
    no_audio: int = 0  # no enclosure to transcribe
    failed: int = 0
    audio_s: float = 0.0
    elapsed_s: float = 0.0


@dataclass
class TranscriptsReport:
    episodes: int = 0  # considered: alive episodes with a link (and without, for asr)
    fetched: int = 0  # documents that arrived (200), changed or not
    not_modified: int = 0  # 304 answers
    unchanged: int = 0  # 304, or content with the stored SHA-256
    stored: int = 0  # new versions written
    failed: int = 0
    no_link: int = 0
    formats: dict[str, int] = field(default_factory=dict)  # stored versions per format
    warnings: int = 0  # repair lines in the stored transcripts
    asr: AsrPart | None = None
    outcomes: list[TranscriptOutcome] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(1 for o in self.outcomes if o.status == status)

    @property
    def all_failed(self) -> bool:
        """Something was attempted and nothing of it worked (the command exits 1)."""
        return self.failed > 0 and self.stored == 0 and self.unchanged == 0


def forget_stored(episode_ids: Sequence[int]) -> tuple[int, int]:
    """Mark the transcripts of ``episode_ids`` as not stored (their lake rows were taken
    out by a restore), so ``content.transcripts`` fetches them again; (from feeds, by
    speech recognition) counts.

    A feed's: its validators and hash are cleared, so the next fetch downloads and stores
    it as the next version. A transcribed one: back to version 0, which
    ``content transcripts --asr`` picks up."""
    states = EpisodeTranscript.objects.filter(episode_id__in=list(episode_ids), version__gt=0)
    asr = states.filter(source=TranscriptSource.ASR).update(
        version=0, status=TranscriptStatus.PENDING, content_sha256="", checked_at=None
    )
    rss = states.exclude(source=TranscriptSource.ASR).update(
        content_sha256="", etag="", last_modified="", checked_at=None
    )
    return rss, asr


def _episodes(limit: int | None, asr: bool) -> list[Episode]:
    qs = Episode.objects.alive().select_related("channel", "transcript_state")
    if not asr:
        qs = qs.filter(has_transcript=True)
    else:
        # Speech is slow: an episode that holds a transcript (transcribed, or from a feed
        # that has since dropped the link), or in a language without a speech model, is
        # not done again.
        done = Q(transcript_state__version__gt=0)
        done |= Q(transcript_state__status=TranscriptStatus.NO_SPEECH_MODEL)
        # A failed one (an unreadable file, a download cut by the timeout) would fail the
        # same way on every run and download its audio each time: it is tried again only
        # once its enclosure changes, or after ASR_RETRY_AFTER.
        done |= Q(
            transcript_state__source=TranscriptSource.ASR,
            transcript_state__status=TranscriptStatus.ERROR,
            transcript_state__url=F("enclosure_url"),
            transcript_state__checked_at__gt=timezone.now() - ASR_RETRY_AFTER,
        )
        qs = qs.filter(Q(has_transcript=True) | ~done)
    # Never-checked episodes first, then the longest unchecked: a limited run moves on
    # through the catalog instead of refetching the same few.
    qs = qs.order_by(F("transcript_state__checked_at").asc(nulls_first=True), "pk")
    return list(qs[:limit] if limit is not None else qs)


def _state(episode: Episode) -> EpisodeTranscript | None:
    try:
        return episode.transcript_state
    except EpisodeTranscript.DoesNotExist:
        return None


def _record_failure(episode: Episode, url: str, message: str, mime_type: str = "") -> None:
    """The error on the episode; an earlier stored version stays current (status ok)."""
    state = _state(episode)
    stamp = timezone.now()
    if state is not None and state.version > 0:
        EpisodeTranscript.objects.filter(pk=state.pk).update(
            error=message, checked_at=stamp, updated_at=stamp
        )
        return
    EpisodeTranscript.objects.update_or_create(
        episode=episode,
        defaults={
            "status": TranscriptStatus.ERROR,
            "source": TranscriptSource.RSS,
            "url": url,
            "mime_type": mime_type[:100],
            "error": message,
            "checked_at": stamp,
        },
    )


def _record_unchanged(episode: Episode, result: FetchResult) -> None:
    stamp = timezone.now()
    EpisodeTranscript.objects.filter(episode=episode).update(
        url=result.request_url,  # the same document may have moved to another link
        etag=result.etag or "",
        last_modified=result.last_modified or "",
        error="",
        checked_at=stamp,
        updated_at=stamp,
    )


def _record_no_link(episodes: Sequence[Episode]) -> None:
    stamp = timezone.now()
    EpisodeTranscript.objects.bulk_create(
        [
            EpisodeTranscript(episode=e, status=TranscriptStatus.NONE, checked_at=stamp)
            for e in episodes
            if _state(e) is None
        ],
        ignore_conflicts=True,
    )
    # Only "not fetched yet" becomes "none": a stored version, or what speech recognition
    # said, stays.
    pending = [e.pk for e in episodes if (s := _state(e)) is not None and s.version == 0]
    EpisodeTranscript.objects.filter(
        episode_id__in=pending, status=TranscriptStatus.PENDING
    ).update(status=TranscriptStatus.NONE, checked_at=stamp)


def _unlinked_episodes() -> list[Episode]:
    """Alive episodes whose feeds link no transcript and that have no state row yet, or
    one still pending (what a run without speech recognition marks ``none``)."""
    qs = (
        Episode.objects.alive()
        .filter(has_transcript=False)
        .filter(Q(transcript_state__isnull=True) | Q(transcript_state__status="pending"))
        .select_related("transcript_state")
        .only("pk", "transcript_state")
    )
    return list(qs)


def _request(episode: Episode, link: TranscriptLink) -> FetchRequest:
    state = _state(episode)
    if state is not None and state.url == link.url and state.source == TranscriptSource.RSS:
        # Conditional GET only for the document we hold: another link must come in full.
        if state.version > 0:
            return FetchRequest(link.url, state.etag or None, state.last_modified or None)
    return FetchRequest(link.url)


def fetch_transcripts(
    *,
    limit: int | None = None,
    asr: bool = False,
    concurrency: int = 8,
    progress: Progress = SILENT,
    transcribe: Callable[[Episode], Any] | None = None,
) -> TranscriptsReport:
    """Fetch, parse and store the preferred transcript of every alive episode that links
    one (at most ``limit`` episodes, the least recently checked first); with ``asr``,
    transcribe the episodes without a link (``transcribe``: the per-episode function,
    default ``podsight.content.asr.transcribe_episode``)."""
    if asr and transcribe is None:
        transcribe = _asr_function()
    report = TranscriptsReport()
    episodes = _episodes(limit, asr)
    report.episodes = len(episodes)
    linked: list[tuple[Episode, TranscriptLink]] = []
    unlinked: list[Episode] = []
    for episode in episodes:
        link = choose_link(transcript_links(episode), episode.channel.language)
        if link is None:
            unlinked.append(episode)
        else:
            linked.append((episode, link))
    _fetch_linked(linked, report, concurrency=concurrency, progress=progress)
    if asr:
        assert transcribe is not None
        report.asr = _transcribe_unlinked(unlinked, transcribe, report, progress=progress)
    else:
        # Not limited: marking them costs one query, and the count is the catalog's.
        report.no_link = Episode.objects.alive().filter(has_transcript=False).count() + len(
            unlinked
        )
        report.episodes += report.no_link - len(unlinked)
        _record_no_link([*unlinked, *_unlinked_episodes()])
    return report


def _asr_function() -> Callable[[Episode], Any]:
    try:
        asr_module = importlib.import_module("podsight.content.asr")
    except ModuleNotFoundError as exc:
        if exc.name != "podsight.content.asr":
            raise ConfigurationError(
                f"speech recognition cannot start ({exc}); install it with `make venv-ml`"
            ) from None
        asr_module = None
    function = getattr(asr_module, "transcribe_episode", None)
    if function is None:
        raise ConfigurationError(
            "speech recognition is not part of this podsight yet (podsight.content.asr is "
            "missing); run `podsight content transcripts` without --asr"
        )
    return function


def _fetch_linked(
    linked: Sequence[tuple[Episode, TranscriptLink]],
    report: TranscriptsReport,
    *,
    concurrency: int,
    progress: Progress,
) -> None:
    if not linked:
        return
    max_bytes = transcript_max_bytes()
    allow_private = conf.allow_private_urls()
    pending: list[tuple[Episode, TranscriptLink, FetchResult, Transcript, str]] = []

    def flush() -> None:
        items = [
            StoreItem(
                episode.pk, transcript, TranscriptSource.RSS, link.url, sha,
                result.content_type or link.type, result.etag or "", result.last_modified or "",
            )
            for episode, link, result, transcript, sha in pending
        ]  # fmt: skip
        versions = store_transcripts(items, skip_unchanged=True)
        for (episode, link, result, transcript, _s), version in zip(pending, versions, strict=True):
            if not version:
                # Another run stored this very document since this one read the state.
                report.unchanged += 1
                _record_unchanged(episode, result)
                current = EpisodeTranscript.objects.get(episode=episode)
                report.outcomes.append(
                    TranscriptOutcome(episode.pk, "unchanged", link.url, current.format,
                                      current.version)
                )  # fmt: skip
                continue
            report.stored += 1
            report.formats[transcript.format] = report.formats.get(transcript.format, 0) + 1
            report.warnings += len(transcript.warnings)
            report.outcomes.append(
                TranscriptOutcome(
                    episode.pk, "stored", link.url, transcript.format, version,
                    len(transcript.segments), warnings=len(transcript.warnings),
                )
            )  # fmt: skip
        pending.clear()

    workers = max(1, concurrency)
    client = make_client(max_connections=workers)
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="transcripts")
    try:
        with progress.task("transcripts", total=len(linked)) as task:

            def work(request: FetchRequest) -> FetchResult:
                return fetch_feed(
                    client, request, max_bytes=max_bytes, allow_private=allow_private,
                    what="transcript", size_setting="PODSIGHT_TRANSCRIPT_MAX_BYTES",
                )  # fmt: skip

            futures = {
                pool.submit(work, _request(episode, link)): (episode, link)
                for episode, link in linked
            }
            for future in as_completed(futures):
                episode, link = futures.pop(future)
                task.advance(item=link.url)
                try:
                    result = future.result()
                except Exception as exc:  # noqa: BLE001 - one document must never stop the run
                    log.exception("fetching the transcript of episode %s failed", episode.pk)
                    message = (
                        f"{link.url}: the transcript could not be fetched "
                        f"({type(exc).__name__}: {exc}); a podsight bug, the log file has the "
                        "details"
                    )
                    _failed(episode, link, message, report)
                    continue
                stored = _handle(episode, link, result, report)
                if stored is not None:
                    pending.append((episode, link, result, *stored))
                    if len(pending) >= _STORE_BATCH:
                        flush()
            flush()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        client.close()


def _handle(
    episode: Episode,
    link: TranscriptLink,
    result: FetchResult,
    report: TranscriptsReport,
) -> tuple[Transcript, str] | None:
    """Record a failure or an unchanged document; a parsed transcript to store, or None."""
    state = _state(episode)
    if result.error is not None:
        return _failed(episode, link, str(result.error), report, result.content_type or link.type)
    if result.not_modified:
        report.not_modified += 1
        report.unchanged += 1
        _record_unchanged(episode, result)
        report.outcomes.append(
            TranscriptOutcome(episode.pk, "unchanged", link.url, state.format if state else "",
                              state.version if state else 0)
        )  # fmt: skip
        return None
    report.fetched += 1
    content = result.content or b""
    sha = hashlib.sha256(content).hexdigest()
    if (
        state is not None
        and state.version > 0
        and state.content_sha256 == sha
        and state.source == TranscriptSource.RSS
    ):
        report.unchanged += 1
        _record_unchanged(episode, result)
        report.outcomes.append(
            TranscriptOutcome(episode.pk, "unchanged", link.url, state.format, state.version)
        )
        return None
    language = link.language or episode.channel.language or ""
    # A server saying text/plain (or nothing useful) says less than the feed's type.
    media_type = result.content_type
    if format_from_media_type(media_type) in (None, "text") and format_from_media_type(link.type):
        media_type = link.type
    try:
        transcript = parse_transcript(
            content,
            media_type=media_type or None,
            url=result.final_url or link.url,
            charset=result.charset,
            language=language,
        )
    except TranscriptFormatError as exc:
        return _failed(episode, link, f"{link.url}: {exc}", report, result.content_type or "")
    except Exception as exc:  # noqa: BLE001 - one document must never stop the run
        # A parser bug on a hostile document: that episode's failure (recorded, so the run
        # moves past it next time too), the traceback in the log file.
        log.exception("reading the transcript of episode %s (%s) failed", episode.pk, link.url)
        message = (
            f"{link.url}: the transcript could not be read ({type(exc).__name__}: {exc}); "
            "a podsight bug, the log file has the details"
        )
        return _failed(episode, link, message, report, result.content_type or "")
    return transcript, sha


def _failed(
    episode: Episode,
    link: TranscriptLink,
    message: str,
    report: TranscriptsReport,
    mime_type: str = "",
) -> None:
    report.failed += 1
    log.info("transcript of episode %s failed: %s", episode.pk, message)
    _record_failure(episode, link.url, message, mime_type)
    report.outcomes.append(
        TranscriptOutcome(episode.pk, "failed", link.url, link.format or "", error=message)
    )
    return None


def _transcribe_unlinked(
    episodes: Sequence[Episode],
    transcribe: Callable[[Episode], Any],
    report: TranscriptsReport,
    *,
    progress: Progress,
) -> AsrPart:
    """Each episode without a link through ``transcribe`` (``content/asr.py``'s
    ``transcribe_episode``), whose outcome has ``status`` (``ok``, ``no_speech_model``,
    ``none``, ``error``; ``unchanged`` is counted as such), ``transcript`` (when ok),
    ``error``, ``details`` (``url``, ``audio_s``, ``wall_s``, model, real-time factor…) and
    optionally ``sha256`` (else the transcript's own); ok ones are stored here through
    :func:`store_transcript`."""
    part = AsrPart()
    if not episodes:
        return part
    with progress.task("speech", total=len(episodes)) as task:
        for episode in episodes:
            task.advance(0, item=episode.title[:60] or str(episode.pk))
            part.attempted += 1
            try:
                outcome = transcribe(episode)
            except ConfigurationError:
                raise  # no episode can succeed: say so once
            except Exception as exc:  # noqa: BLE001 - one episode must never stop the loop
                # A full /tmp, a CTranslate2 RuntimeError, MemoryError on a long episode:
                # this episode's error; the traceback to the log file.
                log.exception("speech recognition of episode %s failed", episode.pk)
                outcome = _AsrFailure(f"speech recognition failed ({type(exc).__name__}: {exc})")
            status = getattr(outcome, "status", "error")
            details = dict(getattr(outcome, "details", None) or {})
            part.audio_s += float(details.get("audio_s") or 0.0)
            part.elapsed_s += float(details.get("wall_s") or details.get("elapsed_s") or 0.0)
            url = details.get("url") or episode.enclosure_url
            transcript = getattr(outcome, "transcript", None)
            if status == "ok" and transcript is not None:
                version = store_transcript(
                    episode.pk, transcript, source=TranscriptSource.ASR, url=url,
                    sha256=getattr(outcome, "sha256", "") or _text_sha256(transcript),
                    details=details,
                )  # fmt: skip
                part.stored += 1
                report.stored += 1
                report.formats["asr"] = report.formats.get("asr", 0) + 1
                report.outcomes.append(
                    TranscriptOutcome(episode.pk, "stored", url, transcript.format, version,
                                      len(transcript.segments))
                )  # fmt: skip
            elif status == "unchanged":
                part.unchanged += 1
                report.unchanged += 1
                report.outcomes.append(TranscriptOutcome(episode.pk, "unchanged", url))
            else:
                error = getattr(outcome, "error", "") or status
                if status == TranscriptStatus.NO_SPEECH_MODEL:
                    part.no_speech_model += 1
                elif status == TranscriptStatus.NONE:  # nothing to transcribe (no audio)
                    part.no_audio += 1
                    report.no_link += 1
                else:
                    part.failed += 1
                    report.failed += 1
                _record_asr_state(episode, url, status, error, details)
                report.outcomes.append(TranscriptOutcome(episode.pk, status, url, error=error))
            task.advance()
    return part


@dataclass
class _AsrFailure:
    """The outcome of a transcription that raised."""

    error: str
    status: str = TranscriptStatus.ERROR
    transcript: Transcript | None = None
    details: dict[str, Any] = field(default_factory=dict)


def _text_sha256(transcript: Transcript) -> str:
    joined = "\n".join(
        f"{s.start_s}\t{s.end_s}\t{s.speaker}\t{s.text}" for s in transcript.segments
    )
    return hashlib.sha256(joined.encode("utf-8")).hexdigest()


def _record_asr_state(
    episode: Episode, url: str, status: str, error: str, details: dict[str, Any]
) -> None:
    state = _state(episode)
    stamp = timezone.now()
    if state is not None and state.version > 0:
        EpisodeTranscript.objects.filter(pk=state.pk).update(
            error=error, checked_at=stamp, updated_at=stamp
        )
        return
    valid = status if status in TranscriptStatus.values else TranscriptStatus.ERROR
    EpisodeTranscript.objects.update_or_create(
        episode=episode,
        defaults={
            "status": valid,
            "source": TranscriptSource.ASR,
            "url": url,
            "error": error,
            "details": details,
            "checked_at": stamp,
        },
    )
