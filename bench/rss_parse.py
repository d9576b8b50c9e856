"""Benchmark: podsight's RSS/Atom parser vs feedparser over the real feed corpus.

Usage: ``.venv/bin/python bench/rss_parse.py [--reps N]``. Reads every feed file under
``$PODSIGHT_TEST_DATA/rss_feeds`` (default ``../shared/data`` from the repo root), parses
each with both parsers in the same process, best of N repetitions, and prints a table.
Not a test: numbers depend on the machine.
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from podsight.sources import text  # noqa: E402
from podsight.sources.rss.parser import FeedParseError, parse_feed  # noqa: E402

__all__ = ["main"]

SKIP_SUFFIXES = {".json", ".xsd", ".md"}


def corpus_files() -> list[tuple[str, bytes]]:
    base = (
        Path(os.environ.get("PODSIGHT_TEST_DATA") or ROOT.parent / "shared" / "data") / "rss_feeds"
    )
    if not base.is_dir():
        sys.exit(f"corpus not found: {base} (set PODSIGHT_TEST_DATA)")
    return [
        (str(p.relative_to(base)), p.read_bytes())
        for p in sorted(base.rglob("*"))
        if p.is_file() and p.suffix.lower() not in SKIP_SUFFIXES
    ]


def run_podsight(files: list[tuple[str, bytes]]) -> int:
    items = 0
    for _name, data in files:
        try:
            items += len(parse_feed(data).episodes)
        except FeedParseError:
            pass
    return items


def run_feedparser(files: list[tuple[str, bytes]]) -> int:
    import feedparser

    items = 0
    for _name, data in files:
        items += len(feedparser.parse(data).entries)
    return items


def clear_caches() -> None:
    # Measure cold parsing: no carry-over of the HTML caches between repetitions.
    text.sanitize_html.cache_clear()
    text.html_to_text.cache_clear()


def best_of(
    fn: Callable[[list[tuple[str, bytes]]], int], files: list[tuple[str, bytes]], reps: int
) -> tuple[float, int]:
    best, items = float("inf"), 0
    for _ in range(reps):
        clear_caches()
        gc.collect()
        start = time.perf_counter()
        items = fn(files)
        best = min(best, time.perf_counter() - start)
    return best, items


def _timed(fn: Callable[[list[tuple[str, bytes]]], int], files: list[tuple[str, bytes]]) -> float:
    gc.collect()
    start = time.perf_counter()
    fn(files)
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=5)
    args = ap.parse_args()
    warnings.simplefilter("ignore")
    files = corpus_files()
    total_mb = sum(len(d) for _, d in files) / 1e6
    import feedparser

    print(
        f"machine: {platform.machine()} {os.cpu_count()} CPUs, "
        f"{platform.system()} {platform.release()}"
    )
    print(
        f"python:  {platform.python_implementation()} {platform.python_version()}; "
        f"feedparser {feedparser.__version__}"
    )
    print(f"corpus:  {len(files)} files, {total_mb:.2f} MB, best of {args.reps}\n")
    rows = []
    for label, fn in (("podsight", run_podsight), ("feedparser", run_feedparser)):
        secs, items = best_of(fn, files, args.reps)
        rows.append((label, secs, items))
    print(f"{'parser':<11}{'seconds':>9}{'feeds/s':>10}{'items/s':>11}{'MB/s':>8}{'items':>8}")
    for label, secs, items in rows:
        print(
            f"{label:<11}{secs:>9.3f}{len(files) / secs:>10.0f}{items / secs:>11.0f}"
            f"{total_mb / secs:>8.2f}{items:>8}"
        )
    print(f"\nspeed-up podsight / feedparser: {rows[1][1] / rows[0][1]:.1f}x (cold HTML caches)")
    # Re-ingesting mostly unchanged feeds: the sanitiser cache already holds the descriptions.
    run_podsight(files)
    warm = min(_timed(run_podsight, files) for _ in range(args.reps))
    print(
        f"podsight, warm HTML caches (re-parse of the same feeds): {warm:.3f}s, "
        f"{rows[1][1] / warm:.1f}x feedparser"
    )


if __name__ == "__main__":
    main()
