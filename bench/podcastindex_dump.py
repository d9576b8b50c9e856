"""Benchmark: importing a Podcast Index dump (real layout, generated).

Usage: ``.venv/bin/python bench/podcastindex_dump.py [--rows N] [--batch-size B] [--seed S]
[--linked L]`` (default 1,000,000 rows, 1,000 linked channels). Generates
``podcastindex_feeds.db`` with the public dump's ``podcasts`` table and its quirks
(``write_sample_dump``) in a temporary folder and a fresh ``PODSIGHT_HOME`` with the
default SQLite database, where ``L`` canonical channels hold an RSS record whose feed URL
is one of the dump's (so the catalog side of the import has work to do). Then it runs
``import_dump`` three times: the first import, a re-import of the same file (nothing
changed), and a re-import after 10% of the rows changed their description, and prints
rows/s, elapsed time and peak RSS of each against the targets (≥ 50,000 rows/s, ≤ 1 GB).
The temporary folder is removed unless ``--keep``. Not a test: figures depend on the
machine and on what else runs on it.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import sqlite3
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

__all__ = ["main"]

TARGET_ROWS_PER_S = 50_000
TARGET_RSS_BYTES = 1 << 30


def _status_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def _reset_peak_rss() -> bool:
    """Restart VmHWM from the current RSS (Linux: ``echo 5 > /proc/self/clear_refs``)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def _mb(kb: int) -> str:
    return f"{kb / 1024:,.0f} MB"


def _link_channels(dump: Path, count: int) -> int:
    """``count`` canonical channels whose RSS feed is one of the dump's feeds."""
    from podsight.sources.models import SourceChannel
    from podsight.sources.store import content_hash, link_or_create_channel

    db = sqlite3.connect(dump)
    try:
        total = db.execute("SELECT count(*) FROM podcasts").fetchone()[0]
        step = max(total // max(count, 1), 1)
        urls = [
            row[0]
            for row in db.execute(
                "SELECT url FROM podcasts WHERE rowid % ? = 0 LIMIT ?", (step, count)
            )
        ]
    finally:
        db.close()
    now = datetime.now(UTC)
    for url in urls:
        data = {"title": f"Show at {url}", "feed_url": url}
        record = SourceChannel.objects.create(
            source="rss",
            external_id=url,
            url=url,
            data=data,
            content_hash=content_hash(data),
            fetched_at=now,
        )
        link_or_create_channel(record, now=now)
    return len(urls)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--batch-size", type=int, default=25_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--linked", type=int, default=1_000, help="channels sharing a feed")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="podsight-bench-pidump-"))
    # A fresh home and the default SQLite database, whatever the caller's environment says.
    os.environ["PODSIGHT_HOME"] = str(work / "home")
    os.environ.pop("DATABASE_URL", None)

    from podsight.bootstrap import ensure_database
    from podsight.progress import RichProgress
    from podsight.sources.podcastindex.dump.run import import_dump
    from podsight.sources.podcastindex.dump.sample import write_sample_dump

    try:
        print(
            f"machine: {os.cpu_count()} CPUs, {platform.machine()}, Python "
            f"{platform.python_version()}, SQLite {sqlite3.sqlite_version}, load average "
            f"{os.getloadavg()[0]:.2f}"
        )
        started = time.perf_counter()
        dump = write_sample_dump(work / "podcastindex_feeds.db", args.rows, args.seed)
        print(
            f"generated {args.rows:,} rows ({dump.stat().st_size / 1e6:,.0f} MB) in "
            f"{time.perf_counter() - started:.1f} s: {dump}"
        )
        ensure_database()
        print(f"catalog: {_link_channels(dump, args.linked):,} channels with a dump feed")

        results = []
        for label in ("first import", "re-import, unchanged", "re-import, 10% changed"):
            if label.endswith("changed") and not label.endswith("unchanged"):
                db = sqlite3.connect(dump)
                db.execute(
                    "UPDATE podcasts SET description = description || ' (new)' WHERE id % 10 = 0"
                )
                db.commit()
                db.close()
            _reset_peak_rss()
            cpu_before = time.process_time()
            load_before = os.getloadavg()[0]
            report = import_dump(
                dump,
                batch_size=args.batch_size,
                progress=RichProgress(enabled=not args.no_progress),
            )
            cpu = time.process_time() - cpu_before
            peak_kb = _status_kb("VmHWM")
            results.append((label, report, peak_kb))
            rows = max(report.rows_read, 1)
            print(
                f"{label}: {report.rows_read:,} rows in {report.elapsed_s:.1f} s = "
                f"{report.rows_per_s:,.0f} rows/s (lake: new {report.new:,}, updated "
                f"{report.updated:,}, unchanged {report.unchanged:,}, skipped "
                f"{report.skipped:,}; catalog: linked {report.linked:,}, refreshed "
                f"{report.refreshed:,}); peak RSS {_mb(peak_kb)}; CPU {cpu / rows * 1e6:.0f} µs "
                f"a row ({cpu / report.elapsed_s:.2f} cores); load average {load_before:.2f} "
                f"→ {os.getloadavg()[0]:.2f}"
            )
        home = work / "home"
        lake_bytes = sum(p.stat().st_size for p in (home / "lake").rglob("*") if p.is_file())
        print(
            f"lake: {lake_bytes / 1e6:,.0f} MB; database: "
            f"{(home / 'podsight.sqlite3').stat().st_size / 1e6:,.0f} MB"
        )

        print()
        print("| run | rows/s | elapsed | peak RSS | target rows/s | target RSS |")
        print("|---|---|---|---|---|---|")
        for label, report, peak_kb in results:
            speed_ok = "met" if report.rows_per_s >= TARGET_ROWS_PER_S else "**missed**"
            rss_ok = "met" if peak_kb * 1024 <= TARGET_RSS_BYTES else "**missed**"
            print(
                f"| {label} | {report.rows_per_s:,.0f} | {report.elapsed_s:.1f} s | "
                f"{_mb(peak_kb)} | ≥ {TARGET_ROWS_PER_S:,}: {speed_ok} | ≤ 1 GB: {rss_ok} |"
            )
    finally:
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
