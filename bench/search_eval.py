"""Evaluation: passage search on a labelled query set from real transcripts.

Usage: ``.venv/bin/python bench/search_eval.py [--no-distractors] [--write-positions]
[--home DIR [--resume]]``

Loads the real transcripts of ``$PODSIGHT_TEST_DATA/transcripts`` (default
``../shared/data``) as episodes through the real path: each file is parsed by
``content.formats.parse_transcript`` and stored by ``content.transcripts.store_transcript``
(lake ``transcripts``), then ``build_passages`` cuts and embeds them (the configured
embedder, ``int8`` by default) and ``update_index`` indexes them, on a fresh
``PODSIGHT_HOME`` with its own SQLite database. Besides the 8 labelled transcripts, the
second seed's 67 machine transcripts (``seeds/podcast-recommendation-platform/history/
transcripts``) are loaded as distractors (``--no-distractors``: without them), so that
ranking the right episode first means something among 75.

``bench/data/search_queries.json`` holds the questions (our own words), each with its
transcript file, a verbatim quote of the answer, and the answer's position computed from
that quote: ``answer_s`` (start of the segment holding it) for timed transcripts,
``answer_word`` (its word offset) for Changelog's Markdown, whose timestamps are minutes
apart. ``--write-positions`` (re)computes them into the file; otherwise a run checks the
file's positions against the quotes.

For each method (``vector``, ``keyword``, ``hybrid`` with reciprocal-rank fusion, and
``hybrid`` with a normalised score blend) it reports hit@1 and hit@5 (the question's
episode is the first / among the first five results) and within-30 s: the episode is
among the first five and its best passage starts within 30 s of the answer (Markdown:
within 75 words, 30 s at 150 words a minute); and, since a passage is 30-60 s long and
may start more than 30 s before an answer it holds, the share whose best passage holds
the answer's quote; plus per-query latency (the query's embedding included).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

__all__ = [
    "METHODS",
    "QUERIES",
    "MethodScore",
    "evaluate",
    "load_corpus",
    "load_queries",
    "locate",
    "main",
]

QUERIES = ROOT / "bench" / "data" / "search_queries.json"
SEED_TRANSCRIPTS = Path("seeds/podcast-recommendation-platform/history/transcripts")
WINDOW_S = 30.0
WINDOW_WORDS = 75  # 30 s at 150 words a minute
# (label, method, fusion)
METHODS = (
    ("vector", "vector", "rrf"),
    ("keyword", "keyword", "rrf"),
    ("hybrid (rrf)", "hybrid", "rrf"),
    ("hybrid (blend)", "hybrid", "blend"),
)
_SPACES = re.compile(r"\s+")


def _test_data() -> Path:
    return Path(os.environ.get("PODSIGHT_TEST_DATA") or ROOT.parent / "shared" / "data").resolve()


def load_queries(path: Path = QUERIES) -> list[dict[str, Any]]:
    return json.loads(path.read_text("utf-8"))["queries"]


@dataclass
class _Doc:
    """One loaded transcript: its segments' text joined, where each segment starts in it."""

    episode_id: int
    timed: bool
    text: str
    offsets: list[int]  # character offset of each segment in ``text``
    starts: list[float | None]

    def word_at(self, char: int) -> int:
        return len(self.text[:char].split())


def _doc(episode_id: int, segments: list[Any]) -> _Doc:
    parts, offsets, at = [], [], 0
    for segment in segments:
        piece = _SPACES.sub(" ", segment.text).strip()
        offsets.append(at)
        parts.append(piece)
        at += len(piece) + 1
    timed = sum(s.start_s is not None for s in segments) * 2 >= len(segments)
    return _Doc(episode_id, timed, " ".join(parts), offsets, [s.start_s for s in segments])


def load_corpus(
    test_data: Path, *, distractors: bool = True, resume: bool = False
) -> dict[str, _Doc]:
    """Every labelled transcript (and the distractors) stored, cut, embedded and indexed;
    ``{file: _Doc}`` of the labelled ones. Needs Django set up with a database.
    ``resume``: the episodes are there from an earlier run on this home (stopped while
    embedding, say): only the passages and the index are brought up to date."""
    from podsight.catalog.models import Channel, Episode
    from podsight.content.formats import parse_transcript
    from podsight.content.index import update_index
    from podsight.content.passages import build_passages
    from podsight.content.transcripts import store_transcript

    root = test_data / "transcripts"
    files = sorted({q["file"] for q in load_queries()})
    docs: dict[str, _Doc] = {}
    channels: dict[str, Any] = {}

    def add(group: str, name: str, data: bytes) -> tuple[int, list[Any]]:
        if group not in channels:
            channels[group], _ = Channel.objects.get_or_create(
                title=group, defaults={"language": "en"}
            )
        stem = Path(name).stem
        episode = Episode.objects.create(
            channel=channels[group],
            title=stem,
            guid=f"{group}/{name}",
            enclosure_url=f"https://media.example.org/{group}/{stem}.mp3",
        )
        transcript = parse_transcript(data, url=name)
        digest = hashlib.sha256(data).hexdigest()
        store_transcript(episode.pk, transcript, source="rss", url=name, sha256=digest)
        return episode.pk, transcript.segments

    def have(group: str, name: str) -> int | None:
        if not resume:
            return None
        found = Episode.objects.filter(guid=f"{group}/{name}").values_list("pk", flat=True)
        return next(iter(found), None)

    for name in files:
        group = name.split("/")[0]
        episode_id = have(group, name)
        if episode_id is None:
            episode_id, segments = add(group, name, (root / name).read_bytes())
        else:
            segments = parse_transcript((root / name).read_bytes(), url=name).segments
        docs[name] = _doc(episode_id, segments)
    if distractors:
        seed = test_data / SEED_TRANSCRIPTS
        for path in sorted([*seed.glob("*.json"), *seed.glob("*.txt")]):
            if have("seed", path.name) is None:
                add("seed", path.name, path.read_bytes())
    build_passages()
    update_index()
    return docs


def locate(query: dict[str, Any], doc: _Doc) -> dict[str, Any]:
    """Where the quote is: ``{"answer_s": …}`` or ``{"answer_word": …}``."""
    quote = _SPACES.sub(" ", query["quote"]).strip()
    at = doc.text.find(quote)
    if at < 0:
        raise ValueError(f"{query['id']}: quote {quote!r} is not in {query['file']}")
    if doc.timed:
        segment = max(i for i, offset in enumerate(doc.offsets) if offset <= at)
        return {"answer_s": round(float(doc.starts[segment]), 3)}
    return {"answer_word": doc.word_at(at)}


def _passage_word(doc: _Doc, text: str) -> int | None:
    """Word offset where a passage of an untimed transcript starts."""
    head = _SPACES.sub(" ", text).strip()[:80]
    at = doc.text.find(head)
    return None if at < 0 else doc.word_at(at)


@dataclass
class MethodScore:
    label: str
    hit1: int = 0
    hit5: int = 0
    within: int = 0
    holds: int = 0  # the best passage holds the answer
    total: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    misses: list[str] = field(default_factory=list)

    def share(self, count: int) -> float:
        return count / self.total if self.total else 0.0


def evaluate(docs: dict[str, _Doc], queries: list[dict[str, Any]]) -> list[MethodScore]:
    """Every query by every method of :data:`METHODS` (see the module docstring)."""
    from podsight.content.search import search

    scores = []
    for label, method, fusion in METHODS:
        score = MethodScore(label)
        for query in queries:
            doc = docs[query["file"]]
            started = time.perf_counter()
            report = search(query["question"], method=method, fusion=fusion, limit=10)
            score.latencies_ms.append((time.perf_counter() - started) * 1000)
            ids = [r.episode_id for r in report.results]
            score.total += 1
            if ids[:1] == [doc.episode_id]:
                score.hit1 += 1
            if doc.episode_id not in ids[:5]:
                score.misses.append(query["id"])
                continue
            score.hit5 += 1
            best = report.results[ids.index(doc.episode_id)].passages[0]
            if _SPACES.sub(" ", query["quote"]).strip() in _SPACES.sub(" ", best.text):
                score.holds += 1
            if "answer_s" in query and best.start_s is not None:
                if abs(best.start_s - query["answer_s"]) <= WINDOW_S:
                    score.within += 1
            elif "answer_word" in query:
                start = _passage_word(doc, best.text)
                if start is not None and abs(start - query["answer_word"]) <= WINDOW_WORDS:
                    score.within += 1
        scores.append(score)
    return scores


def _table(scores: list[MethodScore]) -> str:
    lines = [
        "| method | hit@1 | hit@5 | best passage within 30 s | best passage holds the answer "
        "| p50 ms | p95 ms |",
        "|---|---|---|---|---|---|---|",
    ]
    for s in scores:
        ordered = sorted(s.latencies_ms)
        p95 = ordered[min(len(ordered) - 1, round(0.95 * len(ordered)) - 1)]
        lines.append(
            f"| {s.label} | {s.share(s.hit1):.3f} ({s.hit1}/{s.total}) | "
            f"{s.share(s.hit5):.3f} ({s.hit5}/{s.total}) | "
            f"{s.share(s.within):.3f} ({s.within}/{s.total}) | "
            f"{s.share(s.holds):.3f} ({s.holds}/{s.total}) | "
            f"{statistics.median(s.latencies_ms):.0f} | {p95:.0f} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--no-distractors", action="store_true")
    parser.add_argument("--write-positions", action="store_true")
    parser.add_argument("--home", type=Path, help="PODSIGHT_HOME to use (default: a temp dir)")
    parser.add_argument(
        "--resume", action="store_true", help="the corpus is loaded in --home already"
    )
    args = parser.parse_args(argv)

    home = args.home or Path(tempfile.mkdtemp(prefix="podsight-search-eval-"))
    os.environ["PODSIGHT_HOME"] = str(home)
    os.environ.pop("DATABASE_URL", None)
    from podsight.bootstrap import ensure_database

    ensure_database()
    from podsight.content.embed import get_embedder

    queries = load_queries()
    started = time.perf_counter()
    docs = load_corpus(_test_data(), distractors=not args.no_distractors, resume=args.resume)
    loaded_s = time.perf_counter() - started
    from podsight.content.index import read_manifest

    manifest = read_manifest() or {}
    print(
        f"# {len(queries)} queries over {len(manifest.get('episodes', {}))} episodes, "
        f"{manifest.get('count', 0):,} passages ({get_embedder().name}, index "
        f"{manifest.get('kind')}); loaded, embedded and indexed in {loaded_s:.0f} s; "
        f"load {os.getloadavg()[0]:.1f}",
        flush=True,
    )
    changed = 0
    for query in queries:
        where = locate(query, docs[query["file"]])
        stale = {k: v for k, v in where.items() if query.get(k) != v}
        if stale and not args.write_positions:
            raise SystemExit(f"{query['id']}: position {query} differs from the quote's {where}")
        if stale:
            query.pop("answer_s", None)
            query.pop("answer_word", None)
            query.update(where)
            changed += 1
    if args.write_positions:
        document = json.loads(QUERIES.read_text("utf-8"))
        document["queries"] = queries
        lines = ",\n".join("    " + json.dumps(q, ensure_ascii=False) for q in queries)
        about = json.dumps(document["about"], ensure_ascii=False)
        QUERIES.write_text(f'{{\n  "about": {about},\n  "queries": [\n{lines}\n  ]\n}}\n', "utf-8")
        print(f"# positions written for {changed} queries")
    scores = evaluate(docs, queries)
    print(_table(scores))
    for s in scores:
        if s.misses:
            print(f"# {s.label}: not in the first five: {', '.join(s.misses)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
