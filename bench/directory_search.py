"""Benchmark: searching the Podcast Index directory (the imported dump's feeds).

Usage: ``.venv/bin/python bench/directory_search.py [--rows N] [--seed S] [--dump PATH]
[--home DIR] [--rounds R] [--compare-fts5]`` (default 1,000,000 rows, 20 rounds).

Generates a dump with the public dump's layout (``write_sample_dump``; ``--dump`` reuses
one, generating it there if missing), imports it into a fresh ``PODSIGHT_HOME`` with the
default SQLite database (the import builds the directory index as it goes) and prints
the import's time and sizes. Then it runs a fixed set of searches (common words, rare
words, words in other scripts and accents, description-only words, several words,
filters, later pages through the cursor) ``R`` times each in shuffled order through the
``directory.search`` step, and a few rounds through the API (Django's test client, in
process: routing, the view and JSON rendering, no socket), and prints p50/p95/p99.
``--home DIR`` keeps the home there; run again with the same ``--home`` and
``--skip-import`` to measure searches only. ``--compare-fts5`` also builds an SQLite
FTS5 index of the same rows (the other offline candidate) and times the same searches
once each. Not a test: figures depend on the machine and on what else runs on it.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import re
import shutil
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

from podcastindex_dump import _mb, _reset_peak_rss, _status_kb  # noqa: E402

__all__ = ["main"]

TARGET_P95_MS = 100.0


def _size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


def _searches(dump: Path) -> list[tuple[str, str, dict[str, str], int]]:
    """(kind, q, filters, page) of the benchmark; page > 1 follows the cursor."""
    db = sqlite3.connect(dump)
    try:
        total = db.execute("SELECT count(*) FROM podcasts").fetchone()[0]
        middle = db.execute(
            "SELECT id, title FROM podcasts WHERE length(title) > 20 LIMIT 1 OFFSET ?",
            (total // 2,),
        ).fetchone()
    finally:
        db.close()
    feed_id, title = middle
    return [
        *(("common word", w, {}, 1) for w in ("news", "history", "music", "comedy", "the")),
        *(("common word", w, {}, 1) for w in ("weekly", "science", "stories")),
        *(
            ("several words", w, {}, 1)
            for w in ("true crime", "science weekly", "daily news show", "family love stories")
        ),
        ("a show's title", title, {}, 1),
        *(
            ("other scripts, accents", w, {}, 1)
            for w in ("fútbol", "Geschichte", "ポッドキャスト", "подкаст", "emission", "noticias")
        ),
        ("rare word", str(feed_id), {}, 1),  # in one description: "#<id>"
        ("rare word", "zorblax", {}, 1),
        *(("description only", w, {}, 1) for w in ("link", "more")),
        ("filter", "news", {"language": "en"}, 1),
        ("filter", "música", {"language": "es"}, 1),
        ("filter", "history", {"category": "History"}, 1),
        ("filter", "wissenschaft", {"language": "de"}, 1),
        ("filter", "comedy", {"language": "en", "category": "Comedy"}, 1),
        ("later page", "news", {}, 2),
        ("later page", "news", {}, 10),
        ("later page", "link", {}, 3),
    ]


def _run_step(search, q: str, filters: dict[str, str], page: int) -> tuple[float, int]:
    """Seconds for the last page (earlier pages only fetch its cursor), results on it."""
    cursor = None
    for _ in range(page - 1):
        cursor = search(q, cursor=cursor, **filters).next_cursor
        if cursor is None:
            return 0.0, 0
    started = time.perf_counter()
    result = search(q, cursor=cursor, **filters)
    return time.perf_counter() - started, len(result.results)


def _run_api(client, q: str, filters: dict[str, str], page: int) -> float:
    url, params = "/api/directory", {"q": q, **filters}
    for _ in range(page - 1):
        url = client.get(url, params).json()["next"]
        params = {}
        if url is None:
            return 0.0
    started = time.perf_counter()
    response = client.get(url, params)
    elapsed = time.perf_counter() - started
    assert response.status_code == 200, response.content[:300]
    return elapsed


def _report(label: str, samples: list[float]) -> str:
    ms = [s * 1000 for s in samples]
    p95 = _percentile(ms, 0.95)
    verdict = "met" if p95 <= TARGET_P95_MS else "**missed**"
    return (
        f"| {label} | {len(ms)} | {_percentile(ms, 0.5):.1f} | {p95:.1f} | "
        f"{_percentile(ms, 0.99):.1f} | {max(ms):.1f} | ≤ {TARGET_P95_MS:.0f} ms: {verdict} |"
    )


_TAGS = re.compile(r"<[^>]*>")


def _fts5(home: Path, work: Path, searches, rounds: int) -> None:
    """The same searches on an SQLite FTS5 index of the same lake rows, for comparison."""
    from podsight import lake
    from podsight.lake.tables import PODCASTINDEX_FEEDS

    path = work / "fts5.sqlite3"
    path.unlink(missing_ok=True)
    db = sqlite3.connect(path)
    db.execute("PRAGMA journal_mode = OFF")
    db.execute("PRAGMA synchronous = OFF")
    db.execute(
        "CREATE VIRTUAL TABLE feeds USING fts5(title, author, description, content='', "
        "tokenize='unicode61 remove_diacritics 2')"
    )
    db.execute("CREATE TABLE meta (id INTEGER PRIMARY KEY, language TEXT, categories TEXT)")
    started = time.perf_counter()
    from deltalake import DeltaTable

    dataset = DeltaTable(str(lake.table_path(PODCASTINDEX_FEEDS))).to_pyarrow_dataset()
    columns = ["id", "title", "itunesAuthor", "description", "language"] + [
        f"category{i}" for i in range(1, 11)
    ]
    for batch in dataset.to_batches(columns=columns, batch_size=25_000):
        rows = list(zip(*(batch.column(c).to_pylist() for c in columns), strict=True))
        db.executemany(
            "INSERT INTO feeds (rowid, title, author, description) VALUES (?, ?, ?, ?)",
            [(r[0], r[1], r[2], _TAGS.sub(" ", r[3]) if r[3] else None) for r in rows],
        )
        db.executemany(
            "INSERT INTO meta VALUES (?, ?, ?)",
            [
                (r[0], (r[4] or "").lower(), "|" + "|".join(c.lower() for c in r[5:] if c) + "|")
                for r in rows
            ],
        )
    db.commit()
    db.execute("INSERT INTO feeds (feeds) VALUES ('optimize')")
    db.commit()
    print(
        f"FTS5: built in {time.perf_counter() - started:.1f} s, {_size(path) / 1e6:,.0f} MB "
        "(contentless, unicode61 remove_diacritics 2)"
    )
    samples: list[float] = []
    for _kind, q, filters, page in searches:
        if page > 1:
            continue
        words = " ".join('"' + w.replace('"', '""') + '"' for w in q.split())
        sql = "SELECT feeds.rowid FROM feeds JOIN meta ON meta.id = feeds.rowid WHERE feeds MATCH ?"
        params: list[str] = [words]
        if "language" in filters:
            sql += " AND (meta.language = ? OR meta.language LIKE ?)"
            params += [filters["language"], filters["language"] + "-%"]
        if "category" in filters:
            sql += " AND meta.categories LIKE ?"
            params.append(f"%|{filters['category'].lower()}|%")
        sql += " ORDER BY bm25(feeds, 3.0, 1.5, 1.0) LIMIT 51"
        for _ in range(rounds):
            started = time.perf_counter()
            db.execute(sql, params).fetchall()
            samples.append(time.perf_counter() - started)
        print(f"  FTS5 {q!r} {filters or ''}: {samples[-1] * 1000:,.1f} ms")
    print(_report("FTS5 (first pages only)", samples))
    db.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--dump", type=Path, help="reuse (or generate) the dump here")
    parser.add_argument("--home", type=Path, help="PODSIGHT_HOME to use (kept)")
    parser.add_argument("--skip-import", action="store_true", help="--home is imported")
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--api-rounds", type=int, default=3)
    parser.add_argument("--compare-fts5", action="store_true")
    parser.add_argument("--fts5-rounds", type=int, default=1)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="podsight-bench-directory-"))
    home = args.home or work / "home"
    if args.home and not args.skip_import:
        shutil.rmtree(home, ignore_errors=True)
    os.environ["PODSIGHT_HOME"] = str(home)
    os.environ.pop("DATABASE_URL", None)

    from importlib.metadata import version

    from podsight.bootstrap import ensure_database
    from podsight.directory.index import index_path
    from podsight.pipeline.steps import STEPS
    from podsight.sources.podcastindex.dump.run import import_dump
    from podsight.sources.podcastindex.dump.sample import write_sample_dump

    try:
        print(
            f"machine: {os.cpu_count()} CPUs, {platform.machine()}, Python "
            f"{platform.python_version()}, tantivy {version('tantivy')}, SQLite "
            f"{sqlite3.sqlite_version}, load average {os.getloadavg()[0]:.2f}"
        )
        dump = args.dump or work / "podcastindex_feeds.db"
        if not dump.is_file():
            started = time.perf_counter()
            write_sample_dump(dump, args.rows, args.seed)
            print(f"generated {args.rows:,} rows in {time.perf_counter() - started:.1f} s")
        print(f"dump: {dump} ({dump.stat().st_size / 1e6:,.0f} MB)")
        ensure_database()
        if not args.skip_import:
            _reset_peak_rss()
            load = os.getloadavg()[0]
            report = import_dump(dump, progress=False)
            print(
                f"import (lake + directory index): {report.rows_read:,} rows in "
                f"{report.elapsed_s:.1f} s = {report.rows_per_s:,.0f} rows/s, "
                f"{report.indexed:,} indexed; peak RSS {_mb(_status_kb('VmHWM'))}; load "
                f"average {load:.2f} → {os.getloadavg()[0]:.2f}"
            )
        lake_path = home / "lake" / "podcastindex_feeds"
        print(
            f"index: {_size(index_path()) / 1e6:,.0f} MB at {index_path()}; lake table "
            f"{_size(lake_path) / 1e6:,.0f} MB"
        )

        searches = _searches(dump)
        search = STEPS["directory.search"]
        _run_step(search, "warm up", {}, 1)
        by_kind: dict[str, list[float]] = {}
        every: list[float] = []
        counts: dict[tuple[str, str, int], int] = {}
        order = [s for s in searches for _ in range(args.rounds)]
        random.Random(7).shuffle(order)
        load = os.getloadavg()[0]
        for kind, q, filters, page in order:
            elapsed, found = _run_step(search, q, filters, page)
            by_kind.setdefault(kind, []).append(elapsed)
            every.append(elapsed)
            counts[(q, str(filters), page)] = found
        print(f"searches: load average {load:.2f} → {os.getloadavg()[0]:.2f}")
        print()
        print("| searches (page size 50) | samples | p50 ms | p95 ms | p99 ms | max ms | target |")
        print("|---|---|---|---|---|---|---|")
        for kind, samples in by_kind.items():
            print(_report(kind, samples))
        print(_report("**all, `directory.search` step**", every))

        from django.test import Client

        client = Client()
        _run_api(client, "warm up", {}, 1)
        api = [
            _run_api(client, q, filters, page)
            for _ in range(args.api_rounds)
            for _kind, q, filters, page in searches
        ]
        print(_report("**all, `GET /api/directory` (in process)**", api))
        print()
        for (q, filters, page), found in counts.items():
            if not found:
                print(f"(no results: {q!r} {filters} page {page})")

        if args.compare_fts5:
            print()
            _fts5(home, work, searches, args.fts5_rounds)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
