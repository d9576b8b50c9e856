"""Parallel `podsight ingest rss DIR` runs into one fresh home, as users start them.

Four real processes of the installed command, started together on a fresh
``PODSIGHT_HOME`` (so they also race to create the schema), without
``DJANGO_SETTINGS_MODULE``; every one must finish with the documented exit code and no
traceback, and the database must hold what one run alone stores: each feed, source record
and canonical cluster once.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

PODSIGHT = str(Path(sys.executable).with_name("podsight"))
RUNS = 4


@pytest.fixture
def feed_dir(rss_corpus: Path, tmp_path: Path) -> Path:
    """Real feeds: 17 shows (The Daily's 845 items among them), five variants of one show
    that link by key, and a document with no feed (rss_empty_document.xml) that fails in
    every run."""
    out = tmp_path / "feeds"
    shutil.copytree(rss_corpus / "podcast-feed-parser", out)
    shutil.copy(rss_corpus / "feedparser_tests/illformed/rss_empty_document.xml", out)
    return out


def _env(home: Path, database_url: str | None) -> dict[str, str]:
    env = {
        k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DJANGO_SETTINGS_MODULE")
    }
    env["PODSIGHT_HOME"] = str(home)
    if database_url:
        env["DATABASE_URL"] = database_url
    return env


def _start(feeds: Path, home: Path, database_url: str | None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [PODSIGHT, "ingest", "rss", "--no-progress", str(feeds)],
        env=_env(home, database_url),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _finish(process: subprocess.Popen[str]) -> tuple[int, str, str]:
    out, err = process.communicate(timeout=600)
    return process.returncode, out, err


SNAPSHOT_SQL = {
    "feeds": "SELECT url FROM sources_feed ORDER BY url",
    "records": "SELECT external_id FROM sources_sourcechannel WHERE source = 'rss' ORDER BY 1",
    "clusters": "SELECT channel_id, external_id FROM sources_sourcechannel",
    "source_episodes": (
        "SELECT c.external_id, e.external_id FROM sources_sourceepisode e "
        "JOIN sources_sourcechannel c ON c.id = e.source_channel_id ORDER BY 1, 2"
    ),
    "episodes": "SELECT count(*) FROM catalog_episode",
    "channels": "SELECT count(*) FROM catalog_channel",
    "unlinked": "SELECT count(*) FROM sources_sourceepisode WHERE episode_id IS NULL",
}


def _snapshot(rows_of) -> dict[str, object]:
    out: dict[str, object] = {}
    for name, sql in SNAPSHOT_SQL.items():
        rows = rows_of(sql)
        if name == "clusters":  # channel ids differ between databases; the grouping must not
            groups: dict[int, set[str]] = {}
            for channel_id, external_id in rows:
                groups.setdefault(channel_id, set()).add(external_id)
            out[name] = sorted(sorted(g) for g in groups.values())
        else:
            out[name] = [tuple(r) for r in rows]
    return out


# The PostgreSQL variant is marked so that the PostgreSQL pass (-m django_db) runs it.
@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.django_db)])
def database(request, tmp_path: Path) -> Iterator[tuple[str | None, str | None, object]]:
    """(DATABASE_URL of the parallel runs, of the reference run, snapshot function)."""
    if request.param == "sqlite":

        def snap(home: Path, _url: str | None):
            with sqlite3.connect(home / "podsight.sqlite3") as db:
                return _snapshot(lambda sql: db.execute(sql).fetchall())

        yield None, None, snap
        return
    base = os.environ.get("DATABASE_URL", "")
    if not base.startswith(("postgres://", "postgresql://")):
        pytest.skip("PostgreSQL variant runs in the PostgreSQL pass (DATABASE_URL=postgres://…)")
    import psycopg

    server = base.rsplit("/", 1)[0]
    names = [f"podsight_race_{uuid.uuid4().hex[:10]}" for _ in range(2)]
    with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
        for name in names:
            admin.execute(f'CREATE DATABASE "{name}"')

    def snap(_home: Path, url: str | None):
        with psycopg.connect(url) as db:
            return _snapshot(lambda sql: db.execute(sql).fetchall())

    try:
        yield f"{server}/{names[0]}", f"{server}/{names[1]}", snap
    finally:
        with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
            for name in names:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _failed_count(out: str) -> int:
    m = re.search(r"(\d+) failed", out)
    return int(m.group(1)) if m else 0


def _race(folder: Path, home: Path, url: str | None, reference_home: Path, ref_url: str | None):
    """RUNS parallel runs into ``home``, one run alone into ``reference_home``: every
    parallel run ends as documented, with the failures of the run alone, no more."""
    runs = [_start(folder, home, url) for _ in range(RUNS)]
    results = [_finish(p) for p in runs]
    code, ref_out, ref_err = _finish(_start(folder, reference_home, ref_url))
    assert code == 0 and "Traceback" not in ref_err, ref_err
    files = len(list(folder.glob("*.*")))
    for code, out, err in results:
        assert "Traceback" not in err + out, err[-3000:]
        assert code == 0, err[-3000:]  # documented: non-zero only when every feed failed
        assert f"{files} feeds:" in out
        assert _failed_count(out) == _failed_count(ref_out), out[-3000:]  # none lost to the race
    return _failed_count(ref_out)


def test_parallel_first_ingests_store_every_feed_once(
    feed_dir: Path, rss_corpus: Path, tmp_path: Path, database
):
    parallel_url, reference_url, snapshot = database
    home, reference_home = tmp_path / "home", tmp_path / "reference"
    # Round 1, a fresh home: the runs start together and also race to create the schema;
    # large real feeds, whose chunks interleave.
    assert _race(feed_dir, home, parallel_url, reference_home, reference_url) == 1
    # Round 2, the schema in place: the runs start together and race to create the feed
    # rows of 70 small real feeds (3 of 4 runs died of it).
    small = tmp_path / "small"
    small.mkdir()
    for path in (rss_corpus / "podcastparser_tests").glob("*.rss"):
        shutil.copy(path, small)
    _race(small, home, parallel_url, reference_home, reference_url)

    parallel = snapshot(home, parallel_url)
    alone = snapshot(reference_home, reference_url)
    assert len(parallel["feeds"]) == len(list(feed_dir.iterdir())) + 70
    assert len(set(parallel["records"])) == len(parallel["records"])
    assert parallel == alone
    # bc-sample and its four variants (one broken) share keys: one cluster of five.
    assert max(len(group) for group in parallel["clusters"]) == 5
