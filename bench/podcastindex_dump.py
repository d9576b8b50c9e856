"""Benchmark: importing a Podcast Index dump (real layout, generated) into SQLite.

Usage: ``.venv/bin/python bench/podcastindex_dump.py [--rows N] [--batch-size B] [--seed S]``
(default 1,000,000 rows). Generates ``podcastindex_feeds.db`` with the public dump's
``podcasts`` table and its quirks (``write_sample_dump``) in a temporary folder, runs
``import_dump`` into a fresh ``PODSIGHT_HOME`` with the default SQLite database (migrated
first), then imports the same file again, and prints rows/s, elapsed time and peak RSS of
both runs against the targets (≥ 50,000 rows/s, ≤ 1 GB). The temporary folder is removed
unless ``--keep``. Not a test: figures depend on the machine and on what else runs on it.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import shutil
import sqlite3
import sys
import tempfile
import time
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


def _cpu_seconds() -> tuple[float, float]:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime, children.ru_utime + children.ru_stime


def _mb(kb: int) -> str:
    return f"{kb / 1024:,.0f} MB"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--batch-size", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="podsight-bench-pidump-"))
    # A fresh home and the default SQLite database, whatever the caller's environment says.
    os.environ["PODSIGHT_HOME"] = str(work / "home")
    os.environ.pop("DATABASE_URL", None)

    from podsight.bootstrap import ensure_database
    from podsight.sources.podcastindex.dump import import_dump, write_sample_dump

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

        results = []
        for label in ("first import", "re-import"):
            _reset_peak_rss()
            own_before, children_before = _cpu_seconds()
            load_before = os.getloadavg()[0]
            report = import_dump(dump, batch_size=args.batch_size, progress=not args.no_progress)
            own_after, children_after = _cpu_seconds()
            peak_kb = _status_kb("VmHWM")
            helper_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
            results.append((label, report, peak_kb, helper_kb))
            rows = max(report.rows_read, 1)
            print(
                f"{label}: {report.rows_read:,} rows in {report.elapsed_s:.1f} s = "
                f"{report.rows_per_s:,.0f} rows/s (new {report.new:,}, updated "
                f"{report.updated:,}, unchanged {report.unchanged:,}, skipped {report.skipped:,})"
                f"; peak RSS {_mb(peak_kb)} (helpers {report.helpers}, each ≤ {_mb(helper_kb)})"
                f"; CPU per row: writer {(own_after - own_before) / rows * 1e6:.0f} µs, "
                f"helpers {(children_after - children_before) / rows * 1e6:.0f} µs"
                f"; load average {load_before:.2f} → {os.getloadavg()[0]:.2f}"
            )
        database = work / "home" / "podsight.sqlite3"
        print(f"database: {database.stat().st_size / 1e6:,.0f} MB")

        print()
        print("| run | rows/s | elapsed | peak RSS (writer) | target rows/s | target RSS |")
        print("|---|---|---|---|---|---|")
        for label, report, peak_kb, _helper_kb in results:
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
