"""Timestamped search of episodes by what is said in them: hybrid vector + keyword.

A query is embedded with the index's embedder and compared with every current passage
(cosine; :mod:`.index`: exact or usearch), and its words are looked up in the passages'
BM25 index (tantivy, English stemming). The two rankings are combined by reciprocal-rank
fusion (:data:`RRF_K`): a passage's score is the sum over the rankings it appears in of
``1 / (RRF_K + rank)``. RRF was chosen over a normalised score blend by the labelled query
set (``bench/search_eval.py``, docs/content.md "Search"): it needs no scale matching
between cosines and BM25 scores, which vary from query to query.

Passages are then grouped by episode: an episode's score is its best passage's, and it
carries its best :data:`PASSAGES_PER_EPISODE` passages with their times and a deep link to
the moment (``enclosure_url#t=<start>``, the Media Fragments time a player seeks to).
Filters (``channel``, ``language``, ``published_after``) restrict the passages searched,
not the results after the fact, so a filtered search still finds ``limit`` episodes.

Ad reads (the sponsor segments ``content.analyze`` found) stay searchable, since an
advertiser looks for them, but they are told apart: each such passage names its
``sponsor``, and unless the query names that sponsor its score is multiplied by
:data:`SPONSOR_WEIGHT`, so a read repeated in every episode of a show does not outrank
what the episodes are about.
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import numpy as np

from podsight.content import index as search_index
from podsight.content.passages import ContentBusy
from podsight.errors import InputError, StorageError

__all__ = [
    "DEFAULT_LIMIT",
    "FUSIONS",
    "LANGUAGE_TAG",
    "MAX_LIMIT",
    "MAX_QUERY_LENGTH",
    "METHODS",
    "PASSAGES_PER_EPISODE",
    "RRF_K",
    "SPONSOR_WEIGHT",
    "EpisodeResult",
    "InvalidSearch",
    "PassageResult",
    "SearchReport",
    "deep_link",
    "parse_published_after",
    "search",
]

log = logging.getLogger(__name__)

DEFAULT_LIMIT = 10
MAX_LIMIT = 50
MAX_QUERY_LENGTH = 500
PASSAGES_PER_EPISODE = 3
CANDIDATES = 200  # passages taken from each ranking before fusing
RRF_K = 60  # the constant of Cormack et al. (2009): damps the top ranks' weight
BLEND_VECTOR_WEIGHT = 0.5
# An ad read's score is scaled by this unless the query names its sponsor: below any
# content passage of similar rank, above nothing at all.
SPONSOR_WEIGHT = 0.5
METHODS = ("hybrid", "vector", "keyword")
FUSIONS = ("rrf", "blend")
LANGUAGE_TAG = re.compile(r"[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{1,8}){0,3}")


class InvalidSearch(InputError):
    """A search parameter is wrong; ``field`` names it."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(message)
        self.field = field_name
        self.message = message


@dataclass
class PassageResult:
    passage_no: int
    start_s: float | None
    end_s: float | None
    text: str
    score: float
    kind: str  # transcript | notes
    link: str | None  # the enclosure at this moment
    sponsor: str | None = None  # an ad read: its sponsor ("" when the read names none)


@dataclass
class EpisodeResult:
    episode_id: int
    title: str
    channel_id: int
    channel_title: str
    published_at: datetime | None
    language: str
    score: float
    link: str | None  # the best passage's moment
    passages: list[PassageResult] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["published_at"] = self.published_at.isoformat() if self.published_at else None
        return out


@dataclass
class SearchReport:
    """The ``search`` step's answer: episodes best first, each with its best passages."""

    query: str
    method: str
    fusion: str
    results: list[EpisodeResult]
    filters: dict[str, Any] = field(default_factory=dict)
    passages_indexed: int = 0
    index_kind: str = ""  # exact | ann | "" (nothing indexed)
    elapsed_ms: float = 0.0
    note: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "query": self.query,
            "method": self.method,
            "results": [r.as_dict() for r in self.results],
            "passages_indexed": self.passages_indexed,
            "index": self.index_kind or None,
        }

    def __str__(self) -> str:
        return (
            f"{len(self.results)} episodes for {self.query!r} ({self.method}, "
            f"{self.passages_indexed:,} passages searched, {self.elapsed_ms:.0f} ms)"
        )


def deep_link(enclosure_url: str, start_s: float | None) -> str | None:
    """``enclosure_url#t=<whole seconds>`` (a player seeks there); the URL alone without
    a time; ``None`` without an enclosure."""
    if not enclosure_url:
        return None
    base = enclosure_url.split("#", 1)[0]
    return base if start_s is None else f"{base}#t={int(start_s)}"


def parse_published_after(value: str | None) -> datetime | None:
    """An ISO 8601 date or date-time (UTC when it names no zone)."""
    if value is None:
        return None
    text = value.strip()
    try:
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text), datetime.min.time(), UTC)
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidSearch(
            "published_after", "give an ISO 8601 date or time, e.g. 2024-01-31 or 2024-01-31T12:00Z"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _check(query: str, limit: int, language: str | None, channel: int | None) -> str:
    query = (query or "").strip()
    if not query:
        raise InvalidSearch("q", "the search is empty: give some words")
    if len(query) > MAX_QUERY_LENGTH:
        raise InvalidSearch("q", f"the search is longer than {MAX_QUERY_LENGTH} characters")
    if "\x00" in query:
        raise InvalidSearch("q", "the search must not contain NUL characters")
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidSearch("limit", f"limit must be from 1 to {MAX_LIMIT}")
    if language is not None and not LANGUAGE_TAG.fullmatch(language):
        raise InvalidSearch(
            "language", "the language must be a language tag such as `en` or `pt-br`"
        )
    if channel is not None and not 1 <= channel < 2**63:
        raise InvalidSearch("channel", "channel must be a channel id (a positive whole number)")
    return query


def _load_twice() -> tuple[search_index.IndexSnapshot | None, Exception | None]:
    """The current snapshot, tried twice: a read that failed while a writer replaced the
    manifest or a generation usually succeeds on the next one."""
    for attempt in (1, 2):
        try:
            return search_index.load_snapshot(), None
        except Exception as exc:  # any damage to the files: the caller decides
            if attempt == 2:
                return None, exc
            log.info("search index unreadable (%s): reading it again", exc)
            search_index.reset_snapshots()
    raise AssertionError("unreachable")


def _passages_in_lake() -> int:
    """Rows of lake ``passages`` (all versions and embedders: an upper bound of what an
    index build reads)."""
    from podsight import lake
    from podsight.lake.tables import PASSAGES

    if not lake.exists(PASSAGES):
        return 0
    return int(lake.query("SELECT count(*) FROM p", p=PASSAGES).column(0)[0].as_py())


def _build_inline(why: str) -> None:
    """Build the index in this (request) thread only when it is small: a large catalog's
    build takes minutes (bench/ann.py) and belongs to ``podsight content analyze``."""
    count = _passages_in_lake()
    if count >= search_index.ann_min():
        raise ContentBusy(
            f"the search index is {why} and the catalog has {count:,} passages, too many to "
            "index while answering a search; run `podsight content analyze` to build it"
        )
    search_index.update_index(rebuild=why != "missing", wait=False)


def _snapshot() -> search_index.IndexSnapshot | None:
    """The current index; when it is missing or unreadable (twice), built here for a small
    catalog (see :func:`_build_inline`); ``None`` when no passages were ever built."""
    snapshot, error = _load_twice()
    if error is not None:
        log.warning("search index unreadable (%s): rebuilding it from the lake", error)
        _build_inline("unreadable")
        try:
            return search_index.load_snapshot()
        except Exception as again:
            raise StorageError(
                f"the search index under {search_index.index_path()} cannot be read ({again}) "
                "even after a rebuild; remove that folder and run `podsight content analyze`"
            ) from again
    if snapshot is None:
        if not _passages_in_lake():
            return None
        _build_inline("missing")
        snapshot = search_index.load_snapshot()
    return snapshot


def _allowed(
    snapshot: search_index.IndexSnapshot,
    channel: int | None,
    language: str | None,
    published_after: datetime | None,
) -> np.ndarray | None:
    if channel is None and language is None and published_after is None:
        return None
    from django.db.models import Q

    from podsight.catalog.models import Episode

    episodes = Episode.objects.alive()
    if channel is not None:
        episodes = episodes.filter(channel_id=channel)
    if language is not None:
        tag = language.strip().lower().replace("_", "-")
        episodes = episodes.filter(
            Q(channel__language__iexact=tag) | Q(channel__language__istartswith=f"{tag}-")
        )
    if published_after is not None:
        episodes = episodes.filter(published_at__gte=published_after)
    ids = np.fromiter(episodes.values_list("pk", flat=True), dtype=np.int64)
    return np.isin(snapshot.episode_ids, ids)


def _fuse(
    snapshot: search_index.IndexSnapshot,
    query_vector: np.ndarray,
    vector_hits: list[tuple[int, float]],
    keyword_hits: list[tuple[int, float]],
    method: str,
    fusion: str,
) -> dict[int, float]:
    if method == "vector":
        return dict(vector_hits)
    if method == "keyword":
        return dict(keyword_hits)
    if fusion == "rrf":
        scores: dict[int, float] = {}
        for hits in (vector_hits, keyword_hits):
            for rank, (row, _) in enumerate(hits, 1):
                scores[row] = scores.get(row, 0.0) + 1.0 / (RRF_K + rank)
        return scores
    # blend: cosine of every candidate (exact) plus BM25 over the query's best BM25.
    rows = list(dict.fromkeys([r for r, _ in vector_hits] + [r for r, _ in keyword_hits]))
    cosines = dict(vector_hits)
    missing = [r for r in rows if r not in cosines]
    if missing:
        mask = np.zeros(snapshot.count, dtype=bool)
        mask[missing] = True
        cosines.update(snapshot.vector_search(query_vector, len(missing), mask))
    keyword = dict(keyword_hits)
    top = max(keyword.values(), default=0.0) or 1.0
    w = BLEND_VECTOR_WEIGHT
    return {r: w * cosines.get(r, 0.0) + (1 - w) * keyword.get(r, 0.0) / top for r in rows}


def search(
    query: str,
    *,
    channel: int | None = None,
    language: str | None = None,
    published_after: datetime | str | None = None,
    limit: int = DEFAULT_LIMIT,
    method: str = "hybrid",
    fusion: str = "rrf",
    passages_per_episode: int = PASSAGES_PER_EPISODE,
) -> SearchReport:
    """Episodes whose passages best answer ``query`` (see the module docstring)."""
    started = time.perf_counter()
    query = _check(query, limit, language, channel)
    if method not in METHODS:
        raise InvalidSearch("method", f"method must be one of {', '.join(METHODS)}")
    if fusion not in FUSIONS:
        raise InvalidSearch("fusion", f"fusion must be one of {', '.join(FUSIONS)}")
    if isinstance(published_after, str):
        published_after = parse_published_after(published_after)
    filters = {
        k: v
        for k, v in (
            ("channel", channel),
            ("language", language),
            ("published_after", published_after),
        )
        if v is not None
    }
    report = SearchReport(query, method, fusion if method == "hybrid" else "", [], filters)
    snapshot = _snapshot()
    if snapshot is None or not snapshot.count:
        report.note = "nothing is indexed yet: run `podsight content analyze`"
        report.elapsed_ms = (time.perf_counter() - started) * 1000
        return report
    report.passages_indexed = snapshot.count
    report.index_kind = snapshot.kind
    allowed = _allowed(snapshot, channel, language, published_after)
    if allowed is not None:
        report.passages_indexed = int(allowed.sum())
    from podsight.content.embed import EMBEDDERS, get_embedder

    # The index's own embedder for the query: vectors of two embedders never meet.
    short = snapshot.embedder.rsplit("/", 1)[-1]
    embedder = get_embedder(short if short in EMBEDDERS else None)
    query_vector = embedder.encode([query])[0]
    vector_hits: list[tuple[int, float]] = []
    keyword_hits: list[tuple[int, float]] = []
    if method in ("hybrid", "vector"):
        vector_hits = snapshot.vector_search(query_vector, CANDIDATES, allowed)
    if method in ("hybrid", "keyword"):
        terms = search_index.text_terms(query)
        try:
            keyword_hits = snapshot.keyword_search(terms, CANDIDATES, allowed)
        except Exception as exc:  # the words index replaced under this process by a rebuild
            log.warning("keyword index unreadable (%s): reopening it", exc)
            search_index.reset_snapshots()
            fresh = _snapshot()
            if fresh is not None and fresh.generation == snapshot.generation:
                keyword_hits = fresh.keyword_search(terms, CANDIDATES, allowed)
            else:  # a new generation meanwhile: its rows differ; answer from the vectors
                report.note = "keyword index was being replaced: vector results only"
    scores = _fuse(snapshot, query_vector, vector_hits, keyword_hits, method, fusion)
    ads = _ad_reads(snapshot, scores)
    for row, sponsor in ads.items():
        if not (sponsor and _names(query, sponsor)):
            scores[row] *= SPONSOR_WEIGHT
    by_episode: dict[int, list[tuple[float, int]]] = {}
    for row, score in scores.items():
        by_episode.setdefault(int(snapshot.episode_ids[row]), []).append((score, row))
    ranked = sorted(by_episode.items(), key=lambda item: -max(s for s, _ in item[1]))
    report.results = _results(snapshot, ranked[: limit * 2], limit, passages_per_episode, ads)
    report.elapsed_ms = (time.perf_counter() - started) * 1000
    return report


def _ad_reads(snapshot: search_index.IndexSnapshot, scores: dict[int, float]) -> dict[int, str]:
    """The candidate rows that are ad reads, with their sponsor's name ("" when unnamed),
    from the analysis of the same transcript version as the indexed passage."""
    from podsight.content.models import EpisodeAnalysis

    rows_by_episode: dict[int, list[int]] = {}
    for row in scores:
        rows_by_episode.setdefault(int(snapshot.episode_ids[row]), []).append(row)
    ads: dict[int, str] = {}
    analyses = EpisodeAnalysis.objects.filter(episode_id__in=rows_by_episode).only(
        "episode_id", "transcript_version", "sponsors"
    )
    for analysis in analyses:
        if not analysis.sponsors:
            continue
        named = {
            int(no): segment.get("name") or ""
            for segment in analysis.sponsors
            for no in segment.get("passages") or ()
        }
        for row in rows_by_episode[analysis.episode_id]:
            if int(snapshot.versions[row]) != analysis.transcript_version:
                continue  # analysed from another version: its passage numbers differ
            number = int(snapshot.passage_nos[row])
            if number in named:
                ads[row] = named[number]
    return ads


def _names(query: str, sponsor: str) -> bool:
    """Whether the query names the sponsor (letters and digits only, case-folded)."""
    squash = re.compile(r"[^0-9a-z]+")
    name = squash.sub("", sponsor.casefold())
    return bool(name) and name in squash.sub("", query.casefold())


def _results(
    snapshot: search_index.IndexSnapshot,
    ranked: list[tuple[int, list[tuple[float, int]]]],
    limit: int,
    per_episode: int,
    ads: dict[int, str],
) -> list[EpisodeResult]:
    from podsight.catalog.models import Episode

    episodes = {
        e.pk: e
        for e in Episode.objects.alive()
        .filter(pk__in=[episode for episode, _ in ranked])
        .select_related("channel")
    }
    results: list[EpisodeResult] = []
    for episode_id, hits in ranked:
        episode = episodes.get(episode_id)
        if episode is None:  # merged or deleted since the index was updated
            continue
        hits.sort(key=lambda hit: -hit[0])
        passages = [
            PassageResult(
                passage_no=int(snapshot.passage_nos[row]),
                start_s=snapshot.starts[row],
                end_s=snapshot.ends[row],
                text=snapshot.texts[row],
                score=round(float(score), 6),
                kind=snapshot.kinds[row],
                link=deep_link(episode.enclosure_url, snapshot.starts[row]),
                sponsor=ads.get(row),
            )
            for score, row in hits[:per_episode]
        ]
        results.append(
            EpisodeResult(
                episode_id=episode_id,
                title=episode.title,
                channel_id=episode.channel_id,
                channel_title=episode.channel.title,
                published_at=episode.published_at,
                language=episode.channel.language,
                score=passages[0].score,
                link=passages[0].link,
                passages=passages,
            )
        )
        if len(results) >= limit:
            break
    return results
