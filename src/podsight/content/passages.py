"""Passages: a transcript cut into stretches of about 30-60 s, embedded and kept in the lake.

Cutting (:func:`chunk_segments`). Each segment is split into sentences; those sentences
(units) are packed in order into passages. A passage is closed at the first sentence end or
speaker turn after it reaches ``target_s``; when the next unit would take it past
``max_s`` it is closed at the last sentence end or turn after ``min_s`` (or, with none,
right there: a run-on speaker). The next passage starts with the previous one's last unit
again when that is short (``overlap_s``), so a thought cut at the seam is found from both
sides. Times come from the segments: a sentence inside a segment gets its share of the
segment's time by characters. A transcript without times (plain text, Markdown) is cut by
words instead, at :data:`WORDS_PER_MINUTE` (what 30-60 s of speech holds), and its passages
have no times. A transcript timed only here and there (a JSON without ``endTime``) gets
the missing times filled in from its neighbours; under half timed, it counts as untimed.

An episode without a transcript gets one ``kind="notes"`` passage from its title and show
notes (version 0), so it can still be found. It is a view of the current notes, not
history: when the title or notes change, the next build replaces it in the lake (same key,
a new ``created_at``), and :mod:`.index` re-indexes it.

Building (:func:`build_passages`): for every canonical episode, its current transcript
version (``EpisodeTranscript.version``) or its notes; an episode whose (version, embedder)
passages are already in the lake is skipped, so a run only embeds what changed. Passages
of superseded versions stay in the lake (history); search uses the current ones only
(:mod:`.index`).
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import re
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np
import pyarrow as pa

from podsight import conf, lake
from podsight.content.segments import Passage, Segment
from podsight.errors import InputError, StorageError
from podsight.lake.tables import EMBEDDING_DIM, PASSAGES
from podsight.progress import SILENT, Progress

__all__ = [
    "MAX_S",
    "MIN_S",
    "NOTES_MAX_CHARS",
    "TARGET_S",
    "WORDS_PER_MINUTE",
    "ContentBusy",
    "PassageReport",
    "build_passages",
    "embed_on_spark",
    "chunk_segments",
    "content_lock",
    "notes_passage",
    "passages_to_table",
    "read_passages",
    "sentences",
]

log = logging.getLogger(__name__)

TARGET_S = 45.0
MIN_S = 30.0
MAX_S = 60.0
OVERLAP_S = 12.0  # the last unit is repeated in the next passage when it is this short
# Speech runs at about 150 words a minute: how untimed text is measured.
WORDS_PER_MINUTE = 150.0
_WORDS_PER_S = WORDS_PER_MINUTE / 60.0
NOTES_MAX_CHARS = 2000  # the model reads 256 word pieces: more is cut anyway
_EMBED_BATCH = 256  # passages embedded (and episodes written) per round

# A sentence ends at . ! ? … (with closing quotes/brackets) followed by a space.
_SENTENCE_END = re.compile(r"(?<=[.!?…])[\"'”’)\]]*\s+")
_ENDS_SENTENCE = re.compile(r"[.!?…][\"'”’)\]]*$")
_SPACES = re.compile(r"\s+")


def sentences(text: str) -> list[str]:
    """``text`` split after sentence-ending punctuation; spaces collapsed."""
    text = _SPACES.sub(" ", text).strip()
    if not text:
        return []
    return [s.strip() for s in _SENTENCE_END.split(text) if s.strip()]


def _words(text: str) -> int:
    return len(text.split())


@dataclass(slots=True)
class _Unit:
    text: str
    speaker: str
    start: float  # seconds (estimated from words when the transcript is untimed)
    end: float
    ends_sentence: bool
    turn_after: bool = False  # the next unit is another speaker's


def _timed(segments: Sequence[Segment]) -> bool:
    known = sum(1 for s in segments if s.start_s is not None)
    return bool(segments) and known * 2 >= len(segments)


def _fill_times(segments: Sequence[Segment]) -> list[tuple[float, float]]:
    """(start, end) for every segment of a mostly timed transcript: a missing start is
    the previous end (or a known later start minus its words' time), a missing end the
    next start or start plus its words' time."""
    n = len(segments)
    starts: list[float | None] = [s.start_s for s in segments]
    # Backwards: a leading run without times ends where the first known start is.
    later: float | None = None
    for i in range(n - 1, -1, -1):
        if starts[i] is not None:
            later = starts[i]
        elif later is not None and all(s is None for s in starts[:i]):
            later = max(0.0, later - _words(segments[i].text) / _WORDS_PER_S)
            starts[i] = later
    spans: list[tuple[float, float]] = []
    previous_end = 0.0
    for i, segment in enumerate(segments):
        start = starts[i] if starts[i] is not None else previous_end
        start = max(start, 0.0)
        end = segment.end_s
        if end is None or end < start:
            following = next((starts[j] for j in range(i + 1, n) if starts[j] is not None), None)
            spoken = start + max(_words(segment.text), 1) / _WORDS_PER_S
            end = following if following is not None and following >= start else spoken
            end = min(end, spoken) if following is not None and following > spoken else end
        spans.append((start, end))
        previous_end = end
    return spans


def _units(segments: Sequence[Segment], timed: bool) -> list[_Unit]:
    if timed:
        spans = _fill_times(segments)
    else:
        spans, clock = [], 0.0
        for segment in segments:
            length = _words(segment.text) / _WORDS_PER_S
            spans.append((clock, clock + length))
            clock += length
    units: list[_Unit] = []
    for segment, (start, end) in zip(segments, spans, strict=True):
        parts = sentences(segment.text)
        if not parts:
            continue
        total = sum(len(p) for p in parts)
        at = start
        for part in parts:
            length = (end - start) * len(part) / total if total else 0.0
            units.append(
                _Unit(part, segment.speaker, at, at + length, bool(_ENDS_SENTENCE.search(part)))
            )
            at += length
        units[-1].end = end
    for unit, following in zip(units, units[1:], strict=False):
        unit.turn_after = bool(following.speaker) and following.speaker != unit.speaker
    return units


def _split_long(unit: _Unit, max_s: float) -> list[_Unit]:
    """A unit longer than a passage (a run-on sentence) in word pieces of ``max_s``."""
    words = unit.text.split()
    duration = unit.end - unit.start
    pieces = max(1, int(np.ceil(duration / max_s)))
    per = int(np.ceil(len(words) / pieces))
    out: list[_Unit] = []
    for k in range(0, len(words), per):
        chunk = words[k : k + per]
        start = unit.start + duration * k / len(words)
        end = unit.start + duration * min(k + per, len(words)) / len(words)
        last = k + per >= len(words)
        out.append(
            _Unit(
                " ".join(chunk),
                unit.speaker,
                start,
                end,
                unit.ends_sentence if last else False,
                unit.turn_after if last else False,
            )
        )
    return out


@dataclass(frozen=True, slots=True)
class _Chunk:
    units: tuple[_Unit, ...]
    overlap: int  # leading units repeated from the previous passage


def _last_sentence(units: list[_Unit], overlap_s: float) -> list[_Unit]:
    """The units of the passage's last sentence (a cue may hold part of one), when they
    are short enough to repeat; else its last unit when that is; never the whole passage."""
    k = len(units) - 1
    while k > 0 and not units[k - 1].ends_sentence and not units[k - 1].turn_after:
        k -= 1
    if k > 0 and units[-1].end - units[k].start <= overlap_s:
        return units[k:]
    if len(units) > 1 and units[-1].end - units[-1].start <= overlap_s:
        return units[-1:]
    return []


def _pack(
    units: list[_Unit], target_s: float, min_s: float, max_s: float, overlap_s: float
) -> Iterator[_Chunk]:
    flat: list[_Unit] = []
    for unit in units:
        flat.extend(_split_long(unit, max_s) if unit.end - unit.start > max_s else [unit])
    i, n = 0, len(flat)
    carried: list[_Unit] = []
    while i < n:
        current = list(carried)
        begin = current[0].start if current else flat[i].start
        last_cut = -1  # index in `current` after which a cut is clean, once past min_s
        j = i
        while j < n:
            unit = flat[j]
            if current and unit.end - begin > max_s and len(current) > len(carried):
                break
            current.append(unit)
            j += 1
            clean = unit.ends_sentence or unit.turn_after
            length = unit.end - begin
            if clean and length >= min_s:
                last_cut = len(current)
            if clean and length >= target_s:
                break
        if j < n and last_cut > len(carried) and last_cut < len(current):
            # Went past max_s: back to the last clean cut after min_s.
            j -= len(current) - last_cut
            current = current[:last_cut]
        yield _Chunk(tuple(current), len(carried))
        i = j
        # No overlap across a silence (music, a cut): the next passage would span it.
        bridged = i < n and flat[i].start - current[-1].end <= overlap_s
        carried = _last_sentence(current, overlap_s) if bridged else []


def chunk_segments(
    segments: Sequence[Segment],
    *,
    episode_id: int = 0,
    version: int = 0,
    target_s: float = TARGET_S,
    min_s: float = MIN_S,
    max_s: float = MAX_S,
    overlap_s: float = OVERLAP_S,
) -> list[Passage]:
    """The passages of one transcript (see the module docstring), numbered from 0."""
    if not 0 < min_s <= target_s <= max_s:
        raise InputError(
            f"passage lengths need 0 < min ≤ target ≤ max, not {min_s}/{target_s}/{max_s}"
        )
    timed = _timed(segments)
    units = _units(segments, timed)
    passages: list[Passage] = []
    for number, chunk in enumerate(_pack(units, target_s, min_s, max_s, overlap_s)):
        speakers = tuple(dict.fromkeys(u.speaker for u in chunk.units if u.speaker))
        passages.append(
            Passage(
                episode_id=episode_id,
                version=version,
                passage_no=number,
                start_s=round(chunk.units[0].start, 3) if timed else None,
                end_s=round(chunk.units[-1].end, 3) if timed else None,
                text=" ".join(u.text for u in chunk.units),
                speakers=speakers,
            )
        )
    return passages


def notes_passage(episode_id: int, title: str, notes: str) -> Passage | None:
    """The one passage of an episode without a transcript: title and show notes."""
    text = _SPACES.sub(" ", f"{title.strip()}. {notes.strip()}" if notes.strip() else title)
    text = text.strip()[:NOTES_MAX_CHARS]
    if not text or text == ".":
        return None
    return Passage(episode_id, 0, 0, None, None, text, (), "notes")


# --- the lake -----------------------------------------------------------------------------


def passages_to_table(passages: Sequence[Passage], embedder: str) -> pa.Table:
    """Rows of ``lake/passages`` (every passage has its ``vector``)."""
    now = datetime.now(UTC)
    vectors = np.stack([p.vector for p in passages]).astype(np.float32, copy=False)
    flat = pa.array(vectors.reshape(-1), type=pa.float32())
    return pa.table(
        {
            "episode_id": pa.array([p.episode_id for p in passages], pa.int64()),
            "version": pa.array([p.version for p in passages], pa.int32()),
            "passage_no": pa.array([p.passage_no for p in passages], pa.int32()),
            "kind": pa.array([p.kind for p in passages], pa.string()),
            "start_s": pa.array([p.start_s for p in passages], pa.float64()),
            "end_s": pa.array([p.end_s for p in passages], pa.float64()),
            "speakers": pa.array([list(p.speakers) for p in passages], pa.list_(pa.string())),
            "text": pa.array([p.text for p in passages], pa.large_string()),
            "embedder": pa.array([embedder] * len(passages), pa.string()),
            "vector": pa.FixedSizeListArray.from_arrays(flat, EMBEDDING_DIM),
            "created_at": pa.array([now] * len(passages), pa.timestamp("us", tz="UTC")),
        },
        schema=PASSAGES.schema,
    )


def read_passages(
    pairs: Iterable[tuple[int, int]] | None = None, *, embedder: str | None = None
) -> pa.Table:
    """Passages of these (episode, version) pairs (all when ``None``) of one embedder, in
    episode, version, passage order; an empty table before any were built."""
    if not lake.exists(PASSAGES):
        return PASSAGES.schema.empty_table()
    where, params = ["TRUE"], []
    if embedder is not None:
        where.append("embedder = ?")
        params.append(embedder)
    if pairs is not None:
        pairs = list(pairs)
        if not pairs:
            return PASSAGES.schema.empty_table()
        episodes = sorted({e for e, _ in pairs})
        where.append(f"episode_id IN ({', '.join(str(int(e)) for e in episodes)})")
    table = lake.query(
        f"SELECT * FROM p WHERE {' AND '.join(where)} "  # noqa: S608 - ints and ? only
        "ORDER BY episode_id, version, passage_no",
        params,
        p=PASSAGES,
    )
    if pairs is not None:
        wanted = set(pairs)
        keep = [
            (e, v) in wanted
            for e, v in zip(
                table.column("episode_id").to_pylist(),
                table.column("version").to_pylist(),
                strict=True,
            )
        ]
        table = table.filter(pa.array(keep, pa.bool_()))
    return table


def _built(embedder: str) -> dict[tuple[int, int], str | None]:
    """(episode, version) pairs with passages of ``embedder`` → the md5 of the text of
    their notes passage (``None``: transcript passages)."""
    if not lake.exists(PASSAGES):
        return {}
    rows = lake.query(
        "SELECT episode_id, version, max(CASE WHEN kind = 'notes' THEN md5(text) END) "
        "FROM p WHERE embedder = ? GROUP BY episode_id, version",
        [embedder],
        p=PASSAGES,
    )
    return {
        (e, v): digest
        for e, v, digest in zip(*(rows.column(i).to_pylist() for i in range(3)), strict=True)
    }


def _notes_digest(title: str, notes: str) -> str | None:
    passage = notes_passage(0, title, notes)
    return None if passage is None else hashlib.md5(passage.text.encode()).hexdigest()  # noqa: S324


def _sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


_held = threading.local()


class ContentBusy(StorageError):
    """Another process is writing the passages or the search index."""


@contextmanager
def content_lock(*, wait: bool = True) -> Iterator[None]:
    """One writer at a time of the passages and the search index (a lock file under
    ``PODSIGHT_HOME/index``); others wait for it, or (``wait=False``: a search that found
    the index missing) get :class:`ContentBusy`. Re-entrant in one thread, so a caller
    (``content.analyze``) may hold it around :func:`build_passages` and the index update."""
    depth = getattr(_held, "depth", 0)
    if depth:
        _held.depth = depth + 1
        try:
            yield
        finally:
            _held.depth -= 1
        return
    path = conf.podsight_home() / "index"
    path.mkdir(parents=True, exist_ok=True)
    with (path / "write.lock").open("a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            raise ContentBusy(
                "the search index is being built by another podsight process "
                "(`podsight content analyze`); try again when it is done"
            ) from None
        _held.depth = 1
        try:
            yield
        finally:
            _held.depth = 0
            fcntl.flock(handle, fcntl.LOCK_UN)


# --- building -----------------------------------------------------------------------------


@dataclass
class PassageReport:
    """What :func:`build_passages` did."""

    embedder: str = ""
    episodes: int = 0  # canonical episodes considered
    built: int = 0  # episodes given passages now (a transcript version or notes)
    notes: int = 0  # of those: notes only (no transcript)
    current: int = 0  # already had passages of their current version
    empty: int = 0  # nothing to cut (no transcript text, no title)
    passages: int = 0  # passages written
    embed_s: float = 0.0
    elapsed_s: float = 0.0
    built_pairs: list[tuple[int, int]] = field(default_factory=list)  # (episode, version)

    @property
    def passages_per_s(self) -> float:
        return self.passages / self.embed_s if self.embed_s else 0.0

    def __str__(self) -> str:
        return (
            f"passages: {self.built} episodes embedded ({self.notes} from show notes only), "
            f"{self.passages:,} passages in {self.elapsed_s:.1f} s "
            f"({self.passages_per_s:.0f}/s with {self.embedder}); {self.current} already "
            f"current, {self.empty} with nothing to embed"
        )


def _plans(episode_ids: Sequence[int] | None) -> list[tuple[int, int, str, str]]:
    """(episode, version, title, notes) of each canonical episode; version 0: notes."""
    from podsight.catalog.models import Episode
    from podsight.content.index import current_versions  # imports this module

    episodes = Episode.objects.alive()
    if episode_ids is not None:
        episode_ids = list(episode_ids)
        episodes = episodes.filter(pk__in=episode_ids)
    # The same versions the index follows (a stored version stays current when a later
    # fetch fails: it is still the latest transcript there is).
    versions = current_versions(episode_ids)
    return [
        (pk, versions.get(pk, 0), title, notes)
        for pk, title, notes in episodes.order_by("pk").values_list(
            "pk", "title", "description_text"
        )
    ]


def embed_on_spark(texts: Sequence[str], embedder_key: str, expected_name: str) -> np.ndarray:
    """``texts`` embedded by the Spark job ``content.embed`` (the same model, through
    mapInPandas): one job for all of them, a JVM's start being seconds. The rows travel
    as Parquet files under ``PODSIGHT_HOME`` (where a cluster's storage would be)."""
    import tempfile

    import pyarrow.parquet as pq

    from podsight import engines

    scratch = conf.podsight_home() / "tmp"
    scratch.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=scratch, prefix="embed-") as folder:
        source, target = f"{folder}/texts.parquet", f"{folder}/vectors.parquet"
        pq.write_table(
            pa.table(
                {
                    "id": pa.array(range(len(texts)), pa.int64()),
                    "text": pa.array(list(texts), pa.large_string()),
                }
            ),
            source,
        )
        result = engines.run_spark_job(
            "content.embed", input=source, output=target, output_format="parquet",
            text_column="text", embedder=embedder_key,
        )  # fmt: skip
        if result.get("embedder") != expected_name:
            # Vectors of one embedder are never mixed with another's (embed.py).
            raise engines.SparkJobError(
                f"the Spark job content.embed used {result.get('embedder')!r}, not "
                f"{expected_name!r} as this side does; install the same model in .venv-spark"
            )
        table = pq.read_table(target, columns=["id", "vector"])
    ids = table.column("id").to_numpy()
    if len(ids) != len(texts) or set(ids.tolist()) != set(range(len(texts))):
        raise engines.SparkJobError(
            f"the Spark job content.embed returned {len(ids)} vectors for {len(texts)} passages"
        )
    flat = table.column("vector").combine_chunks().flatten().to_numpy(zero_copy_only=False)
    vectors = np.empty((len(texts), EMBEDDING_DIM), dtype=np.float32)
    vectors[ids] = flat.astype(np.float32).reshape(len(ids), EMBEDDING_DIM)
    return vectors


def build_passages(
    *,
    episode_ids: Sequence[int] | None = None,
    engine: str = "local",
    progress: Progress = SILENT,
) -> PassageReport:
    """Cut, embed and store the passages of every canonical episode (or those of
    ``episode_ids``) whose current version has none yet for the configured embedder;
    ``engine="spark"``: embedded by the Spark job ``content.embed``."""
    from podsight.content.embed import embedder_name, get_embedder
    from podsight.content.transcripts import read_current_segments

    started = time.perf_counter()
    embedder = get_embedder()
    report = PassageReport(embedder=embedder.name)
    with content_lock():
        plans = _plans(episode_ids)
        report.episodes = len(plans)
        done = _built(embedder.name)
        # A notes passage is a view of the current title and notes: rebuilt (replaced in
        # the lake) when they changed since, though its (episode, version) is the same.
        refresh = {
            (e, v)
            for e, v, title, notes in plans
            if done.get((e, v)) is not None and done[(e, v)] != _notes_digest(title, notes)
        }
        todo = [p for p in plans if (p[0], p[1]) not in done or (p[0], p[1]) in refresh]
        report.current = len(plans) - len(todo)
        segments = read_current_segments([e for e, v, _, _ in todo if v > 0])
        pending: list[Passage] = []
        with progress.task("cutting passages", total=len(todo)) as task:
            for episode, version, title, notes in todo:
                cut: list[Passage] = []
                if version > 0 and segments.get(episode):
                    cut = chunk_segments(segments[episode], episode_id=episode, version=version)
                if not cut:
                    if version > 0:
                        log.warning(
                            "episode %s: transcript v%s has no text; using its notes",
                            episode,
                            version,
                        )
                    passage = notes_passage(episode, title, notes)
                    if passage is None and (episode, version) in refresh:
                        # Title and notes emptied: the old text stays (the lake is only
                        # appended to or upserted), as before this episode changed.
                        log.warning("episode %s: title and notes are now empty", episode)
                    if passage is not None:
                        # Keyed by the (textless) transcript's version: it is current,
                        # so the next run skips it instead of embedding it again.
                        passage.version = version
                    cut = [passage] if passage else []
                    if cut:
                        report.notes += 1
                if not cut:
                    report.empty += 1
                else:
                    report.built += 1
                    report.built_pairs.append((cut[0].episode_id, cut[0].version))
                    pending.extend(cut)
                task.advance(item=str(episode))
        on_spark = None
        if engine == "spark" and pending:
            t0 = time.perf_counter()
            with progress.task("embedding passages on Spark", total=None):
                on_spark = embed_on_spark(
                    [p.text for p in pending], embedder_name(), embedder.name
                )
            report.embed_s += time.perf_counter() - t0
        with progress.task("embedding passages", total=len(pending)) as task:
            at = 0
            while at < len(pending):
                # Whole episodes per round: one lake commit holds all of an episode's rows.
                end = min(at + _EMBED_BATCH, len(pending))
                while end < len(pending) and pending[end].episode_id == pending[end - 1].episode_id:
                    end += 1
                batch = pending[at:end]
                if on_spark is not None:
                    vectors = on_spark[at:end]
                else:
                    t0 = time.perf_counter()
                    vectors = embedder.encode([p.text for p in batch])
                    report.embed_s += time.perf_counter() - t0
                for passage, vector in zip(batch, vectors, strict=True):
                    passage.vector = vector
                fresh = [p for p in batch if (p.episode_id, p.version) not in refresh]
                if fresh:
                    lake.append(PASSAGES, passages_to_table(fresh, embedder.name))
                replaced = [p for p in batch if (p.episode_id, p.version) in refresh]
                if replaced:
                    # Upsert by (episode, version, passage_no), only this embedder's rows.
                    ids = ", ".join(sorted({str(p.episode_id) for p in replaced}))
                    lake.merge(
                        PASSAGES,
                        passages_to_table(replaced, embedder.name),
                        within=f"t.embedder = {_sql_text(embedder.name)} "
                        f"AND t.episode_id IN ({ids})",
                    )
                report.passages += len(batch)
                task.advance(len(batch))
                at = end
    report.elapsed_s = time.perf_counter() - started
    return report
