"""Benchmark: podsight's RSS/Atom parser vs fastfeedparser and feedparser, and ingestion.

Usage: ``.venv/bin/python bench/rss_parse.py [--reps N] [--no-ingest]``. Reads every feed
file under ``$PODSIGHT_TEST_DATA/rss_feeds`` (default ``../shared/data`` from the repo
root) and, in one process, best of N repetitions:

- parses each with podsight (native fast path on, as shipped), podsight's lxml path alone,
  fastfeedparser and feedparser (throughput, failures), and counts the files the fast
  path accepts (the rest it declines to the lxml path);
- ingests the corpus twice into a fresh ``PODSIGHT_HOME`` through the ``ingest.rss``
  step (first ingest, then re-ingest of the unchanged files);
- ingests a generated 1.1 MB feed whose description nests 100,000 ``<div>``.

Not a test: numbers depend on the machine.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from podsight.sources import text  # noqa: E402
from podsight.sources.rss.parser import FeedParseError, parse_feed  # noqa: E402

__all__ = ["main"]

SKIP_SUFFIXES = {".json", ".xsd", ".md"}
Files = list[tuple[str, bytes]]


def corpus_dir() -> Path:
    base = Path(os.environ.get("PODSIGHT_TEST_DATA") or ROOT.parent / "shared" / "data")
    return base / "rss_feeds"


def corpus_files() -> Files:
    base = corpus_dir()
    if not base.is_dir():
        sys.exit(f"corpus not found: {base} (set PODSIGHT_TEST_DATA)")
    return [
        (str(p.relative_to(base)), p.read_bytes())
        for p in sorted(base.rglob("*"))
        if p.is_file() and p.suffix.lower() not in SKIP_SUFFIXES
    ]


# Each runner returns (items, failed files).


def run_podsight(files: Files) -> tuple[int, int]:
    items = failed = 0
    for _name, data in files:
        try:
            items += len(parse_feed(data).episodes)
        except FeedParseError:
            failed += 1
    return items, failed


def run_podsight_lxml(files: Files) -> tuple[int, int]:
    """The lxml path alone (the fast path off): what parses the files the fast path declines."""
    items = failed = 0
    for _name, data in files:
        try:
            items += len(parse_feed(data, fast=False).episodes)
        except FeedParseError:
            failed += 1
    return items, failed


def fast_path_accepts(files: Files) -> int:
    from podsight.sources.rss import parser

    if not parser.FAST_SCANNER:
        return 0
    return sum(1 for _name, data in files if data.strip() and parser.parse_fast(data, None))


def run_podsight_html(files: Files) -> tuple[int, int]:
    """Parse, then derive every description's stored form (what a first ingest does)."""
    items = failed = 0
    for _name, data in files:
        try:
            result = parse_feed(data)
        except FeedParseError:
            failed += 1
            continue
        for record in (result.channel, *result.episodes):
            record.description_html, record.description_text  # noqa: B018
        items += len(result.episodes)
    return items, failed


def run_fastfeedparser(files: Files) -> tuple[int, int]:
    import fastfeedparser

    items = failed = 0
    for _name, data in files:
        try:
            items += len(fastfeedparser.parse(data).entries)
        except Exception:  # noqa: BLE001 - it raises ValueError and others on broken feeds
            failed += 1
    return items, failed


def run_feedparser(files: Files) -> tuple[int, int]:
    import feedparser

    items = failed = 0
    for _name, data in files:
        result = feedparser.parse(data)
        if not result.entries and not result.feed:
            failed += 1
        items += len(result.entries)
    return items, failed


def clear_caches() -> None:
    # Cold: no carry-over of the HTML caches between repetitions.
    text.sanitize_html.cache_clear()
    text.html_to_text.cache_clear()


def best_of(fn: Callable[[Files], tuple[int, int]], files: Files, reps: int):
    best, result = float("inf"), (0, 0)
    for _ in range(reps):
        clear_caches()
        gc.collect()
        start = time.perf_counter()
        result = fn(files)
        best = min(best, time.perf_counter() - start)
    return best, result


def deep_html_feed(depth: int = 100_000) -> bytes:
    markup = "<div>" * depth + "deep" + "</div>" * depth
    return (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>Deep</title>'
        "<item><title>Deep one</title><guid>deep-1</guid>"
        f"<description><![CDATA[{markup}]]></description></item></channel></rss>"
    ).encode()


def ingest_once() -> dict[str, object]:
    """In this process, on the fresh PODSIGHT_HOME it was started with: first ingest and
    re-ingest of the corpus, then the deep-HTML feed, through the ingest.rss step."""
    from podsight.bootstrap import ensure_database

    ensure_database()
    from podsight.pipeline import run_step

    def timed(locations: list[str]) -> tuple[float, Any]:
        clear_caches()
        gc.collect()
        start = time.perf_counter()
        report = run_step("ingest.rss", locations=locations)  # silent by default
        return time.perf_counter() - start, report

    first, report = timed([str(corpus_dir())])
    again, second = timed([str(corpus_dir())])
    deep_path = Path(os.environ["PODSIGHT_HOME"]) / "deep-html.xml"
    deep_path.write_bytes(deep_html_feed())
    deep, deep_report = timed([str(deep_path)])
    return {
        "files": len(report.outcomes),
        "first": first,
        "again": again,
        "again_statuses": sorted({o.status for o in second.outcomes}),
        "deep": deep,
        "deep_mb": deep_path.stat().st_size / 1e6,
        "deep_status": deep_report.outcomes[0].status,
    }


def ingest_figures(reps: int) -> None:
    """Each repetition in its own process and fresh PODSIGHT_HOME (SQLite)."""
    runs = []
    for _ in range(reps):
        with tempfile.TemporaryDirectory(prefix="podsight-bench-") as home:
            env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
            env["PODSIGHT_HOME"] = home
            out = subprocess.run(
                [sys.executable, __file__, "--ingest-child"],
                env=env,
                check=True,
                capture_output=True,
                text=True,
            ).stdout
            runs.append(json.loads(out.splitlines()[-1]))
    first = min(r["first"] for r in runs)
    again = min(r["again"] for r in runs)
    deep = min(r["deep"] for r in runs)
    print(f"\ningest of the corpus ({runs[0]['files']} files), fresh SQLite home, best of {reps}:")
    print(f"  first ingest  {first:7.3f} s")
    print(f"  re-ingest     {again:7.3f} s  (statuses: {', '.join(runs[0]['again_statuses'])})")
    print(f"  first / re-ingest: {first / again:.1f}x")
    print(
        f"\n100,000 nested <div> in one description ({runs[0]['deep_mb']:.1f} MB feed): "
        f"ingested in {deep:.3f} s (status {runs[0]['deep_status']})"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--no-ingest", action="store_true", help="parsers only")
    ap.add_argument("--ingest-child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    warnings.simplefilter("ignore")
    if args.ingest_child:
        print(json.dumps(ingest_once()))
        return
    files = corpus_files()
    total_mb = sum(len(d) for _, d in files) / 1e6
    print(
        f"machine: {platform.machine()} {os.cpu_count()} CPUs, "
        f"{platform.system()} {platform.release()}, load {os.getloadavg()[0]:.1f}"
    )
    print(
        f"python:  {platform.python_implementation()} {platform.python_version()}; "
        f"lxml {version('lxml')}, nh3 {version('nh3')}, fastfeedparser "
        f"{version('fastfeedparser')}, feedparser {version('feedparser')}"
    )
    print(f"corpus:  {len(files)} files, {total_mb:.2f} MB, best of {args.reps}\n")
    rows = []
    for label, fn in (
        ("podsight", run_podsight),
        ("podsight lxml", run_podsight_lxml),
        ("podsight+html", run_podsight_html),
        ("fastfeedparser", run_fastfeedparser),
        ("feedparser", run_feedparser),
    ):
        secs, (items, failed) = best_of(fn, files, args.reps)
        rows.append((label, secs, items, failed))
    print(
        f"{'parser':<15}{'seconds':>9}{'feeds/s':>9}{'items/s':>10}{'MB/s':>8}{'items':>7}{'failed':>8}"
    )
    for label, secs, items, failed in rows:
        print(
            f"{label:<15}{secs:>9.3f}{len(files) / secs:>9.0f}{items / secs:>10.0f}"
            f"{total_mb / secs:>8.1f}{items:>7}{failed:>8}"
        )
    secs = {label: s for label, s, _, _ in rows}
    fast = secs["fastfeedparser"]
    print(
        f"\npodsight throughput / fastfeedparser: {fast / secs['podsight']:.2f}x"
        f" (lxml path alone: {fast / secs['podsight lxml']:.2f}x;"
        f" with every description sanitised: {fast / secs['podsight+html']:.2f}x)"
    )
    print(
        f"podsight's native fast path accepted {fast_path_accepts(files)} of {len(files)} files; "
        "the lxml path parsed the rest (breakage classes, other encodings)"
    )
    print(
        f"podsight / feedparser: {secs['feedparser'] / secs['podsight']:.1f}x; "
        f"fastfeedparser / feedparser: {secs['feedparser'] / secs['fastfeedparser']:.1f}x"
    )
    print(
        "(podsight fails only on documents with no feed in them; "
        "fastfeedparser also on real feeds, most for their encoding)"
    )
    if not args.no_ingest:
        ingest_figures(max(1, min(args.reps, 3)))


if __name__ == "__main__":
    main()
