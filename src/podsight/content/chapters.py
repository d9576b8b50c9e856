"""Chapters of an episode: the feed's own, or found at topic shifts between passages.

**From the feed.** ``Episode.chapters`` holds the feed's reference (``{"url", "type",
"inline"}``, see ``sources/rss/document.py``): inline Podlove Simple Chapters are used as
they are; a ``podcast:chapters`` JSON document (Podcasting 2.0 chapters format, version
1.2) is fetched with the feeds' safe fetcher (SSRF guard, size cap, timeouts) and parsed.
Chapters with ``"toc": false`` are not part of the table of contents and are left out.

**Automatic.** Without feed chapters, boundaries go where the talk changes subject:
TextTiling (Hearst, 1997) on the passage embeddings. For each gap between passages the
cosine between the mean vector of the :data:`WINDOW` passages before and after it is a
measure of continuity; a gap's *depth* is how far that cosine falls below the highest
values on both sides. Gaps deeper than mean − std/2 of all depths are boundaries, deepest
first, as long as every chapter lasts :data:`MIN_CHAPTER_S` (or :data:`MIN_PASSAGES`
passages where the transcript has no times). Each chapter is titled with its keywords.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from podsight.content.keywords import extract_keywords
from podsight.content.segments import Passage
from podsight.errors import InputError

__all__ = [
    "CHAPTERS_MAX_BYTES",
    "MIN_CHAPTER_S",
    "MIN_PASSAGES",
    "WINDOW",
    "auto_chapters",
    "feed_chapters",
    "fetch_chapters",
    "parse_chapters_json",
]

MIN_CHAPTER_S = 180.0
MIN_PASSAGES = 4
WINDOW = 2
# A chapters document is a few kilobytes; a megabyte is generous and bounds a bad server.
CHAPTERS_MAX_BYTES = 1 << 20


def _seconds(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None
    return seconds if seconds >= 0 and seconds == seconds else None


def parse_chapters_json(data: bytes | str) -> list[dict]:
    """The table of contents of a Podcasting 2.0 chapters document, in time order:
    ``[{"start_s", "end_s", "title", "url", "img"}]`` (``end_s`` None where absent).
    Raises :class:`~podsight.errors.InputError` for a document that is not one."""
    try:
        document = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InputError(f"the chapters document is not JSON: {exc}") from None
    items = document.get("chapters") if isinstance(document, dict) else None
    if not isinstance(items, list):
        raise InputError('the chapters document has no "chapters" list')
    out = []
    for item in items:
        if not isinstance(item, dict) or item.get("toc") is False:
            continue
        start = _seconds(item.get("startTime"))
        if start is None:
            continue
        out.append(
            {
                "start_s": start,
                "end_s": _seconds(item.get("endTime")),
                "title": str(item.get("title") or "").strip(),
                "url": str(item.get("url") or ""),
                "img": str(item.get("img") or ""),
            }
        )
    out.sort(key=lambda c: c["start_s"])
    return out


def fetch_chapters(url: str, *, client: Any = None) -> list[dict]:
    """Fetch and parse a chapters document through the feeds' safe fetcher. Raises the
    fetcher's :class:`~podsight.sources.rss.fetch.FetchError` or an ``InputError``."""
    from podsight.sources.rss.fetch import FetchRequest, fetch_feed, make_client

    own = client is None
    client = client or make_client()
    try:
        result = fetch_feed(client, FetchRequest(url), max_bytes=CHAPTERS_MAX_BYTES)
    finally:
        if own:
            client.close()
    if result.error is not None:
        raise result.error
    return parse_chapters_json(result.content or b"")


def feed_chapters(reference: Any, *, client: Any = None) -> list[dict] | None:
    """The feed's chapters from an episode's ``chapters`` field, or None when it has none.
    Inline Podlove chapters need no fetch; a ``podcast:chapters`` URL is fetched."""
    if not isinstance(reference, dict):
        return None
    inline = reference.get("inline") or []
    chapters = []
    for entry in inline:
        if isinstance(entry, (list, tuple)) and len(entry) >= 2:
            start = _seconds(entry[0])
            if start is not None:
                href = entry[2] if len(entry) > 2 else None
                chapters.append(
                    {"start_s": start, "end_s": None, "title": str(entry[1] or "").strip(),
                     "url": href or "", "img": ""}
                )  # fmt: skip
    if chapters:
        return sorted(chapters, key=lambda c: c["start_s"])
    url = reference.get("url")
    if not url:
        return None
    return fetch_chapters(url, client=client)


def _gap_scores(vectors: np.ndarray) -> np.ndarray:
    """Cosine between the windows before and after each gap (len(vectors) - 1 values)."""
    out = np.zeros(len(vectors) - 1, dtype=np.float32)
    for gap in range(len(vectors) - 1):
        left = vectors[max(0, gap + 1 - WINDOW) : gap + 1].mean(axis=0)
        right = vectors[gap + 1 : gap + 1 + WINDOW].mean(axis=0)
        norm = float(np.linalg.norm(left) * np.linalg.norm(right)) or 1.0
        out[gap] = float(left @ right) / norm
    return out


def _depths(scores: np.ndarray) -> np.ndarray:
    depths = np.zeros_like(scores)
    for i, score in enumerate(scores):
        depths[i] = (scores[: i + 1].max() - score) + (scores[i:].max() - score)
    return depths


def _long_enough(passages: Sequence[Passage], start: int, end: int) -> bool:
    """Passages ``start`` up to (not including) ``end`` make a chapter long enough."""
    first, last = passages[start], passages[end - 1]
    if first.start_s is not None and last.end_s is not None:
        return last.end_s - first.start_s >= MIN_CHAPTER_S
    return end - start >= MIN_PASSAGES


def auto_chapters(
    passages: Sequence[Passage], language: str = "en", *, skip: Iterable[int] = ()
) -> list[dict]:
    """Chapters at topic shifts: ``[{"start_s", "end_s", "title", "keywords",
    "passages": [first, last]}]``; passages in ``skip`` (ad reads) stay inside chapters but
    neither place boundaries nor give titles. Needs the passages' vectors."""
    skipped = set(skip)
    ordered = [p for p in passages if p.vector is not None]
    if not ordered:
        return []
    content = [p for p in ordered if p.passage_no not in skipped] or ordered
    boundaries: list[int] = []  # indexes into ordered where a chapter starts
    if len(content) > 2 * WINDOW:
        vectors = np.stack([p.vector for p in content]).astype(np.float32)
        depths = _depths(_gap_scores(vectors))
        cutoff = float(depths.mean() - depths.std() / 2)
        position = {p.passage_no: i for i, p in enumerate(ordered)}
        for gap in sorted(range(len(depths)), key=lambda g: (-depths[g], g)):
            if depths[gap] <= cutoff or depths[gap] <= 0:
                break
            at = position[content[gap + 1].passage_no]
            edges = sorted([0, *boundaries, at, len(ordered)])
            i = edges.index(at)
            if _long_enough(ordered, edges[i - 1], at) and _long_enough(ordered, at, edges[i + 1]):
                boundaries.append(at)
    edges = sorted([0, *boundaries, len(ordered)])
    chapters = []
    for start, end in zip(edges, edges[1:], strict=False):
        part = ordered[start:end]
        text = " ".join(p.text for p in part if p.passage_no not in skipped)
        words = [k["keyword"] for k in extract_keywords(text, language, top=3)]
        chapters.append(
            {
                "start_s": part[0].start_s,
                "end_s": part[-1].end_s,
                "title": ", ".join(words),
                "keywords": words,
                "passages": [part[0].passage_no, part[-1].passage_no],
            }
        )
    return chapters
