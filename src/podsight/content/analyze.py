"""``content.analyze``: understand each episode from its passages.

Per run: the passages are brought up to date first (:func:`podsight.content.passages.
build_passages`: current transcript versions cut and embedded, or the title and show notes
for an episode without a transcript), then per episode

    sponsors (with repetition across the show) → keywords → topics → chapters → vector

and the passage index and the episode vectors (:mod:`.similar`) are updated. The results
go to :class:`~podsight.content.models.EpisodeAnalysis`.

Incremental: an episode whose analysis was made from the same transcript version with the
same embedder, and whose vector is stored, is not analysed again (``force`` does it
anyway). The vectors are written before the analyses are committed, both under the
content lock; a run that fails or dies in between leaves episodes without a vector or
without a current analysis, and the next run analyses them again. Repetition is a show-level
fact, so the show pass is cheap and separate: the passages of the show's
:data:`REPEAT_WINDOW` latest analysed episodes are compared with the new ones (vectors and
word 5-grams, no embedding), and an older episode whose ad reads change because a new
episode repeats them is analysed again from its stored passages.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from podsight.content.chapters import auto_chapters, feed_chapters
from podsight.content.keywords import episode_keywords
from podsight.content.passages import WORDS_PER_MINUTE
from podsight.content.segments import Passage
from podsight.content.sponsors import detect_sponsors, repeated_passages, sponsor_passage_nos
from podsight.content.topics import episode_topics
from podsight.progress import SILENT, Progress

__all__ = [
    "REPEAT_WINDOW",
    "AnalysisReport",
    "EpisodeFindings",
    "analyze_episode",
    "analyze_episodes",
    "forget_analyses",
    "load_passages",
]

# Episodes of a show compared for repeated ad reads: a read runs for weeks, so the latest
# dozen find it while the cost per show stays bounded.
REPEAT_WINDOW = 12
_PHASES = ("passages", "sponsors", "keywords", "topics", "chapters", "index", "vectors")


@dataclass
class EpisodeFindings:
    """What the analysis found for one episode (what :class:`EpisodeAnalysis` stores)."""

    episode_id: int
    version: int
    notes_only: bool
    passages: int
    keywords: list[dict]
    topics: list[dict]
    chapters: list[dict]
    chapters_source: str  # feed | auto | ""
    sponsors: list[dict]
    vector: np.ndarray | None = None
    chapters_error: str = ""
    seconds: float = 0.0  # transcript time covered (end of the last passage)


@dataclass
class AnalysisReport:
    """Counts and timings of one ``content.analyze`` run."""

    considered: int = 0  # episodes looked at, after the filters (analysed or unchanged)
    analysed: int = 0
    unchanged: int = 0  # skipped: same transcript version and embedder as before
    reanalysed_for_repeats: int = 0  # older episodes whose ad reads a new episode revealed
    notes_only: int = 0
    without_passages: int = 0  # asked for, but no passages (nothing to analyse)
    sponsor_segments: int = 0
    sponsored_episodes: int = 0
    chapters_feed: int = 0
    chapters_auto: int = 0
    chapter_errors: list[str] = field(default_factory=list)  # "episode 12: why"
    transcript_hours: float = 0.0
    embedder: str = ""
    engine: str = "local"  # where the passages were embedded (podsight.engines)
    passages_report: Any = None  # build_passages' own report
    index_report: Any = None  # update_index's
    timings: dict[str, float] = field(default_factory=lambda: dict.fromkeys(_PHASES, 0.0))

    @property
    def seconds(self) -> float:
        return sum(self.timings.values())

    @property
    def seconds_per_transcript_hour(self) -> float | None:
        return self.seconds / self.transcript_hours if self.transcript_hours else None

    def __str__(self) -> str:
        per_hour = self.seconds_per_transcript_hour
        rate = f", {per_hour:.0f} s per transcript hour" if per_hour else ""
        return (
            f"{self.analysed} episodes analysed ({self.notes_only} from show notes only, "
            f"{self.reanalysed_for_repeats} more for repeated ad reads), {self.unchanged} "
            f"unchanged, {self.without_passages} without passages; {self.sponsor_segments} "
            f"sponsor segments in {self.sponsored_episodes} episodes; chapters: "
            f"{self.chapters_feed} from feeds, {self.chapters_auto} automatic; "
            f"{self.transcript_hours:.2f} transcript hours in {self.seconds:.1f} s{rate}"
        )


def load_passages(pairs: Iterable[tuple[int, int]], embedder: str) -> dict[int, list[Passage]]:
    """The stored passages (with vectors) of these (episode, version) pairs by this
    embedder: ``{episode_id: [Passage, ...]}`` in passage order."""
    from podsight.content.passages import read_passages

    pairs = list(pairs)
    if not pairs:
        return {}
    table = read_passages(pairs, embedder=embedder)
    out: dict[int, list[Passage]] = defaultdict(list)
    columns = table.select(
        ["episode_id", "version", "passage_no", "kind", "start_s", "end_s", "speakers", "text"]
    ).to_pydict()
    if table.num_rows:
        flat = table.column("vector").combine_chunks().flatten().to_numpy(zero_copy_only=False)
        vectors = flat.astype(np.float32).reshape(table.num_rows, -1)
    for n in range(table.num_rows):
        out[columns["episode_id"][n]].append(
            Passage(
                episode_id=columns["episode_id"][n],
                version=columns["version"][n],
                passage_no=columns["passage_no"][n],
                start_s=columns["start_s"][n],
                end_s=columns["end_s"][n],
                text=columns["text"][n] or "",
                speakers=tuple(columns["speakers"][n] or ()),
                kind=columns["kind"][n] or "transcript",
                vector=vectors[n],
            )
        )
    return dict(out)


def analyze_episode(
    passages: Sequence[Passage],
    *,
    language: str = "",
    chapters_reference: Any = None,
    repeated: Iterable[int] = (),
    client: Any = None,
    timings: dict[str, float] | None = None,
) -> EpisodeFindings:
    """Analyse one episode's passages (one version, in order, with vectors)."""
    timings = timings if timings is not None else dict.fromkeys(_PHASES, 0.0)
    first = passages[0]
    notes_only = all(p.kind == "notes" for p in passages)

    clock = time.perf_counter()
    segments = [] if notes_only else detect_sponsors(passages, repeated=repeated)
    skip = sponsor_passage_nos(segments)
    timings["sponsors"] += time.perf_counter() - clock

    clock = time.perf_counter()
    keywords = episode_keywords(passages, language or "en", skip=skip)
    timings["keywords"] += time.perf_counter() - clock

    clock = time.perf_counter()
    topics = episode_topics(passages, skip=skip)
    timings["topics"] += time.perf_counter() - clock

    clock = time.perf_counter()
    chapters: list[dict] = []
    source, error = "", ""
    try:
        found = feed_chapters(chapters_reference, client=client)
    except Exception as exc:  # noqa: BLE001 - any failure of the feed's document: auto chapters
        found, error = None, str(exc) or type(exc).__name__
    if found:
        chapters, source = found, "feed"
    elif not notes_only:
        chapters = auto_chapters(passages, language or "en", skip=skip)
        source = "auto" if chapters else ""
    timings["chapters"] += time.perf_counter() - clock

    from podsight.content.similar import episode_vector

    clock = time.perf_counter()
    vector = episode_vector(passages, skip=skip)
    timings["vectors"] += time.perf_counter() - clock
    ends = [p.end_s for p in passages if p.end_s is not None]
    # Untimed transcripts (plain text, Markdown) are measured at the chunker's speaking rate.
    words = sum(len(p.text.split()) for p in passages if not notes_only)
    return EpisodeFindings(
        episode_id=first.episode_id,
        version=first.version,
        notes_only=notes_only,
        passages=len(passages),
        keywords=list(keywords),
        topics=topics,
        chapters=chapters,
        chapters_source=source,
        sponsors=[s.as_json() for s in segments],
        vector=vector,
        chapters_error=error,
        seconds=max(ends) if ends else words * 60.0 / WORDS_PER_MINUTE,
    )


def _build_passages(
    episode_ids: Sequence[int] | None, progress: Progress, engine: str = "local"
) -> Any:
    from podsight.content.passages import build_passages

    return build_passages(episode_ids=episode_ids, engine=engine, progress=progress)


def _update_index(progress: Progress) -> Any:
    from podsight.content.index import update_index

    return update_index(progress=progress)


def forget_analyses(episode_ids: Sequence[int]) -> int:
    """Mark the analyses of ``episode_ids`` as not done (their passages were taken out of
    the lake by a restore), so the next ``content.analyze`` cuts, embeds and analyses
    them again; how many. The findings stay until then (search keeps its keywords)."""
    from podsight.content.models import EpisodeAnalysis

    # "Done" is (transcript version, embedder) matching: no embedder never matches.
    return EpisodeAnalysis.objects.filter(episode_id__in=list(episode_ids)).update(embedder="")


def analyze_episodes(
    *,
    limit: int | None = None,
    episode_ids: Sequence[int] | None = None,
    force: bool = False,
    engine: str | None = None,
    progress: Progress = SILENT,
) -> AnalysisReport:
    """Passages, sponsors, keywords, topics, chapters, the index and the episode vectors
    for every episode with passages (or the ``episode_ids`` given), incrementally; the
    new passages embedded on ``engine`` (default ``PODSIGHT_ENGINE``)."""
    from django.db import transaction
    from django.utils import timezone

    from podsight import engines
    from podsight.catalog.models import Episode
    from podsight.content.embed import get_embedder
    from podsight.content.index import current_versions
    from podsight.content.models import EpisodeAnalysis
    from podsight.content.passages import content_lock
    from podsight.content.similar import load_vectors, store_vectors
    from podsight.errors import StorageError
    from podsight.sources.rss.fetch import make_client

    report = AnalysisReport(engine=engines.current(engine))
    embedder = get_embedder()
    report.embedder = embedder.name

    episodes = Episode.objects.alive().order_by("id")
    analyses = EpisodeAnalysis.objects.all()
    wanted = None if episode_ids is None else list(episode_ids)
    if wanted is not None:
        episodes = episodes.filter(pk__in=wanted)
        analyses = analyses.filter(episode_id__in=wanted)
    rows = list(
        episodes.values_list("pk", "channel_id", "published_at", "chapters", "channel__language")
    )
    versions = current_versions(wanted)
    done = {
        pk: (version, name)
        for pk, version, name in analyses.values_list(
            "episode_id", "transcript_version", "embedder"
        )
    }
    try:
        vectors = load_vectors()
    except StorageError:  # damaged: every episode's vector is written again
        vectors = None
    if vectors is not None and vectors.embedder != embedder.name:
        vectors = None

    def has_vector(pk: int) -> bool:
        return vectors is not None and vectors.vector(pk) is not None

    # What needs analysing: never analysed, from another version or embedder, or its
    # vector is missing (a run that stopped before writing it).
    candidates = []
    for row in rows:
        if (
            not force
            and done.get(row[0]) == (versions.get(row[0], 0), embedder.name)
            and has_vector(row[0])
        ):
            report.unchanged += 1
        else:
            candidates.append(row)
    if limit is not None:
        candidates = candidates[:limit]

    clock = time.perf_counter()
    # Every episode: no list of ids (a long IN list is slow, and SQLite bounds it).
    every = episode_ids is None and len(candidates) == len(rows)
    report.passages_report = _build_passages(
        None if every else [r[0] for r in candidates], progress, report.engine
    )
    report.timings["passages"] += time.perf_counter() - clock

    stored = load_passages([(r[0], versions.get(r[0], 0)) for r in candidates], embedder.name)
    language = {r[0]: r[4] or "" for r in candidates}
    todo = []
    for pk, channel_id, published_at, chapters_ref, _language in candidates:
        passages = stored.get(pk, [])
        if not passages:
            report.without_passages += 1
            continue
        todo.append((pk, channel_id, published_at, chapters_ref, passages))
    report.considered = len(todo) + report.unchanged

    # The show pass: repetition among each touched show's latest episodes.
    repeats, extra = _show_pass(todo, embedder.name, report)
    # The older episodes analysed again are in their own show's language too.
    from podsight.catalog.models import Channel

    show_language = dict(
        Channel.objects.filter(pk__in={item[1] for item in extra}).values_list("pk", "language")
    )
    for pk, channel_id, *_ in extra:
        language.setdefault(pk, show_language.get(channel_id) or "")

    # Chapters a feed's document gave before: kept when that document cannot be fetched now
    # (a server down for a day must not turn the publisher's chapters into guessed ones).
    feed_before = dict(
        EpisodeAnalysis.objects.filter(
            episode_id__in=[pk for pk, *_ in [*todo, *extra]], chapters_source="feed"
        ).values_list("episode_id", "chapters")
    )
    results: list[EpisodeFindings] = []
    with (
        make_client() as client,
        progress.task("analysing episodes", len(todo) + len(extra)) as task,
    ):
        for pk, _channel, _published, chapters_ref, passages in [*todo, *extra]:
            findings = analyze_episode(
                passages,
                language=language.get(pk, ""),
                chapters_reference=chapters_ref,
                repeated=repeats.get(pk, ()),
                client=client,
                timings=report.timings,
            )
            if findings.chapters_error:
                kept = pk in feed_before
                if kept:
                    findings.chapters, findings.chapters_source = feed_before[pk], "feed"
                note = f"episode {pk}: chapters: {findings.chapters_error}" + (
                    " (the feed's chapters fetched before are kept)" if kept else ""
                )
                report.chapter_errors.append(note.replace(": chapters:", ":", 1))
                progress.note(note)
            results.append(findings)
            task.advance(1, item=str(pk))

    now = timezone.now()
    # The vectors first, then the analyses that count an episode as done; one writer at a
    # time (concurrent runs keep each other's vectors).
    with content_lock():
        clock = time.perf_counter()
        found = {f.episode_id: f.vector for f in results if f.vector is not None}
        if found:
            store_vectors(found, embedder.name)
        report.timings["vectors"] += time.perf_counter() - clock
        with transaction.atomic():
            for f in results:
                EpisodeAnalysis.objects.update_or_create(
                    episode_id=f.episode_id,
                    defaults={
                        "transcript_version": f.version,
                        "notes_only": f.notes_only,
                        "passages": f.passages,
                        "embedder": embedder.name,
                        "keywords": f.keywords,
                        "topics": f.topics,
                        "chapters": f.chapters,
                        "chapters_source": f.chapters_source,
                        "sponsors": f.sponsors,
                        "analyzed_at": now,
                    },
                )

    # The index follows the lake's current passages: a run that fails here is caught up
    # by the next one, whatever the analyses say.
    clock = time.perf_counter()
    report.index_report = _update_index(progress)
    report.timings["index"] += time.perf_counter() - clock

    report.analysed = len(todo)
    report.reanalysed_for_repeats = len(extra)
    report.notes_only = sum(f.notes_only for f in results)
    report.sponsor_segments = sum(len(f.sponsors) for f in results)
    report.sponsored_episodes = sum(bool(f.sponsors) for f in results)
    report.chapters_feed = sum(f.chapters_source == "feed" for f in results)
    report.chapters_auto = sum(f.chapters_source == "auto" for f in results)
    report.transcript_hours = sum(f.seconds for f in results) / 3600
    return report


def _show_pass(todo, embedder_name, report):
    """Repeated passages per episode for the shows in ``todo``, and the older analysed
    episodes of those shows whose ad reads the repetition changes (to analyse again)."""
    from podsight.catalog.models import Episode
    from podsight.content.index import current_versions
    from podsight.content.models import EpisodeAnalysis

    clock = time.perf_counter()
    by_show: dict[int, list] = defaultdict(list)
    for item in todo:
        by_show[item[1]].append(item)
    repeats: dict[int, set[int]] = {}
    extra = []
    new_ids = {item[0] for item in todo}
    for channel_id, items in by_show.items():
        older = list(
            Episode.objects.alive()
            .filter(channel_id=channel_id, analysis__isnull=False)
            .exclude(pk__in=new_ids)
            .order_by("-published_at", "-pk")
            .values_list("pk", "published_at", "chapters")[:REPEAT_WINDOW]
        )
        old_versions = current_versions([o[0] for o in older])
        stored = load_passages([(o[0], old_versions.get(o[0], 0)) for o in older], embedder_name)
        old_passages = {pk: stored.get(pk, []) for pk, _, _ in older}
        group = {item[0]: item[4] for item in items} | {
            pk: ps for pk, ps in old_passages.items() if ps
        }
        if len(group) < 2:
            continue
        found = repeated_passages(group)
        repeats.update({pk: found[pk] for pk in group})
        sponsors_before = dict(
            EpisodeAnalysis.objects.filter(episode_id__in=list(old_passages)).values_list(
                "episode_id", "sponsors"
            )
        )
        for pk, published_at, chapters_ref in older:
            passages = old_passages.get(pk)
            if not passages or not found.get(pk):
                continue
            now_ads = sponsor_passage_nos(detect_sponsors(passages, repeated=found[pk]))
            before = {n for s in sponsors_before.get(pk) or [] for n in s.get("passages", [])}
            if now_ads != before:
                extra.append((pk, channel_id, published_at, chapters_ref, passages))
    report.timings["sponsors"] += time.perf_counter() - clock
    return repeats, extra
