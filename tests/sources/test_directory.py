"""The Podcast Index directory: search over every imported dump feed, and ``directory add``.

Dumps are generated with the real ``podcasts`` layout by ``write_sample_dump`` (the
benchmark's generator) and imported with the real import, which keeps the index.
"""

from __future__ import annotations

import base64
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from deltalake import DeltaTable
from django.core import signing
from rest_framework.test import APIClient

from httpserver import Reply
from podsight import lake
from podsight.accounts.services import create_token
from podsight.api.pagination import CURSOR_SALT
from podsight.catalog.models import Channel
from podsight.directory import index as directory_index
from podsight.directory.index import analyze, index_path, open_index, read_state
from podsight.directory.service import (
    MAX_PAGE_SIZE,
    DirectoryUnavailable,
    FeedNotFound,
    InvalidCursor,
    InvalidSearch,
)
from podsight.lake.tables import PODCASTINDEX_FEEDS
from podsight.pipeline.steps import STEPS
from podsight.sources.models import SourceChannel
from podsight.sources.podcastindex.dump.run import import_dump
from podsight.sources.podcastindex.dump.sample import write_sample_dump
from podsight.sources.text import normalise_language

pytestmark = pytest.mark.django_db(transaction=True)

ROWS = 1500
BATCH = 400
ROOT = Path(__file__).resolve().parents[2]
NAMED_COLUMNS = ("title", "itunesAuthor", "itunesOwnerName")


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_sample_dump(tmp_path_factory.mktemp("dump") / "podcastindex_feeds.db", ROWS, 5)


@pytest.fixture
def dump(sample: Path, tmp_path: Path) -> Path:
    target = tmp_path / "podcastindex_feeds.db"
    target.write_bytes(sample.read_bytes())
    return target


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PODSIGHT_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def _execute(path: Path, sql: str, params: tuple[Any, ...] = ()) -> None:
    db = sqlite3.connect(path)
    try:
        db.execute(sql, params)
        db.commit()
    finally:
        db.close()


def _rows(path: Path) -> list[sqlite3.Row]:
    db = sqlite3.connect(path)
    db.row_factory = sqlite3.Row
    try:
        return db.execute("SELECT * FROM podcasts WHERE url LIKE 'http%' ORDER BY id").fetchall()
    finally:
        db.close()


def _import(path: Path, **options: Any):
    return import_dump(path, batch_size=BATCH, **options)


def _search(q: str, **options: Any):
    return STEPS["directory.search"](q, **options)


def _all_pages(q: str, page_size: int = MAX_PAGE_SIZE, **options: Any) -> list[dict[str, Any]]:
    results, cursor = [], None
    while True:
        page = _search(q, page_size=page_size, cursor=cursor, **options)
        results.extend(page.results)
        cursor = page.next_cursor
        if cursor is None:
            return results


def _ids(results: list[dict[str, Any]]) -> list[int]:
    return [r["podcastindex_id"] for r in results]


def _words_of(row: sqlite3.Row) -> set[str]:
    text = " ".join(
        str(row[c] or "") for c in ("title", "itunesAuthor", "itunesOwnerName", "description")
    )
    return set(analyze(directory_index.plain_text(text)))


def test_search_finds_a_feed_by_a_word_of_its_title(dump: Path) -> None:
    row = _rows(dump)[700]
    _execute(dump, "UPDATE podcasts SET title = 'Zorblax Radio Hour' WHERE id = ?", (row["id"],))
    report = _import(dump)
    assert report.finished and report.indexed == report.new == ROWS

    page = _search("zorblax")
    assert _ids(page.results) == [row["id"]] and page.next_cursor is None
    found = page.results[0]
    categories = [row[f"category{i}"] for i in range(1, 11) if row[f"category{i}"]]
    assert found == {
        "podcastindex_id": row["id"],
        "title": "Zorblax Radio Hour",
        "author": row["itunesAuthor"] or row["itunesOwnerName"] or "",
        "url": row["url"],
        "language": normalise_language(row["language"]),
        "categories": categories,
        "episode_count": row["episodeCount"],
        "popularity": row["popularityScore"],
        "dead": bool(row["dead"]),
        "channel": None,
        "score": found["score"],
    }
    # Case and accents do not matter; every word must match.
    assert _ids(_search("ZÖRBLAX radio").results) == [row["id"]]
    assert _search("zorblax nosuchword").results == []

    body = APIClient().get("/api/directory", {"q": "zorblax"}).json()
    assert body == {"results": [found], "next": None, "page_size": 50}


def test_every_match_is_found_once_in_rank_order_across_pages(dump: Path) -> None:
    _import(dump)
    rows = _rows(dump)
    word = "weekly"
    expected = {r["id"] for r in rows if word in _words_of(r)}
    assert 100 < len(expected) < len(rows)  # a common word, but not in every feed

    results = _all_pages(word, page_size=37)
    ids = _ids(results)
    assert len(ids) == len(set(ids)) and set(ids) == expected
    # Feeds with the word in the title or author first, then description-only ones;
    # within each, by score then id.
    by_id = {r["id"]: r for r in rows}
    named = [
        word in set(analyze(" ".join(str(by_id[i][c] or "") for c in NAMED_COLUMNS))) for i in ids
    ]
    tier_end = named.index(False)
    assert tier_end > 0 and not any(named[tier_end:])
    for tier in (results[:tier_end], results[tier_end:]):
        keys = [(-r["score"], r["podcastindex_id"]) for r in tier]
        assert keys == sorted(keys)


def test_equal_scores_page_in_id_order_even_when_updates_reorder_the_index(dump: Path) -> None:
    ids = [r["id"] for r in _rows(dump)[200:350]]
    marks = ",".join("?" * len(ids))
    _execute(
        dump,
        "UPDATE podcasts SET title = 'Zorblax', itunesAuthor = 'Same Host', itunesOwnerName = "
        f"'Same Host', description = NULL, dead = 0, popularityScore = 0 WHERE id IN ({marks})",
        tuple(ids),
    )
    _import(dump)
    # Re-indexed documents go to a new segment: the engine's order of equal scores is then
    # no longer the id order, which pages must still follow.
    _execute(
        dump,
        f"UPDATE podcasts SET episodeCount = 7777 WHERE id IN ({','.join('?' * 50)})",
        tuple(ids[:50]),
    )
    assert _import(dump).indexed == 50
    results = _all_pages("zorblax", page_size=10)
    assert _ids(results) == sorted(ids)
    assert len({r["score"] for r in results}) == 1


def test_language_and_category_filters(dump: Path) -> None:
    _import(dump)
    rows = _rows(dump)
    word = "the"

    def language_of(row: sqlite3.Row) -> str:
        return normalise_language(row["language"]) or ""

    spanish = {
        r["id"] for r in rows if word in _words_of(r) and language_of(r).split("-")[0] == "es"
    }
    assert spanish
    found = _all_pages(word, language="ES")
    assert {r["podcastindex_id"] for r in found} == spanish
    assert all(r["language"].split("-")[0] == "es" for r in found)

    category = "Technology"
    tech = {
        r["id"]
        for r in rows
        if word in _words_of(r) and category in {r[f"category{i}"] for i in range(1, 11)}
    }
    assert tech
    found = _all_pages(word, category="technology")
    assert {r["podcastindex_id"] for r in found} == tech

    both = _all_pages(word, language="es", category=category)
    assert {r["podcastindex_id"] for r in both} == spanish & tech
    with pytest.raises(InvalidSearch) as error:
        _search(word, language="en us; drop")
    assert error.value.field == "language"


def test_title_matches_and_live_popular_feeds_rank_first(dump: Path) -> None:
    rows = _rows(dump)
    in_title, in_description, dead, popular = (r["id"] for r in rows[10:14])
    same = "Quillfeather Chronicles"
    _execute(dump, "UPDATE podcasts SET title = ? WHERE id = ?", ("Quillfeather Talks", in_title))
    _execute(
        dump,
        "UPDATE podcasts SET description = description || ' quillfeather' WHERE id = ?",
        (in_description,),
    )
    _execute(
        dump,
        "UPDATE podcasts SET title = ?, dead = 1, popularityScore = 0, itunesAuthor = 'A', "
        "itunesOwnerName = 'A' WHERE id = ?",
        (same, dead),
    )
    _execute(
        dump,
        "UPDATE podcasts SET title = ?, dead = 0, popularityScore = 25, itunesAuthor = 'A', "
        "itunesOwnerName = 'A' WHERE id = ?",
        (same, popular),
    )
    _import(dump)
    ranked = _ids(_search("quillfeather").results)
    assert ranked[-1] == in_description  # only its description has the word
    assert ranked.index(popular) < ranked.index(dead)
    assert set(ranked) == {in_title, in_description, dead, popular}


def test_cursors_are_validated(dump: Path) -> None:
    _import(dump)
    api = APIClient()
    first = api.get("/api/directory", {"q": "the", "page_size": 5}).json()
    assert len(first["results"]) == 5 and first["next"]
    token = parse_qs(urlsplit(first["next"]).query)["cursor"][0]
    second = api.get(first["next"]).json()
    assert not set(_ids(first["results"])) & set(_ids(second["results"]))

    def signed(payload: Any) -> str:  # whoever knows the key (the dev key is public)
        return signing.dumps(payload, salt=CURSOR_SALT)

    def unsigned(payload: Any) -> str:
        return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")

    good = signing.loads(token, salt=CURSOR_SALT)  # [search, tier, score, id, position]
    search_id, tier, score, feed_id, position = good
    tampered = [
        "not-a-cursor",
        "",
        token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB"),
        unsigned(good),
        signed({}),
        signed([1, 2]),
        signed([search_id, tier, "Infinity", feed_id, position]),
        signed([search_id, tier, 10**400, feed_id, position]),  # was a 500 (OverflowError)
        signed([search_id, tier, score, -4, position]),
        signed([search_id, tier, score, True, position]),
        signed([search_id, 7, score, feed_id, position]),
        signed([search_id, tier, score, feed_id, 10**9]),
        signed([*good, 1]),
    ]
    for bad in tampered:
        response = api.get("/api/directory", {"q": "the", "cursor": bad})
        assert response.status_code == 400, bad
        error = response.json()["error"]
        assert error["code"] == "invalid_cursor" and error["details"]["cursor"], bad
    other_search = api.get("/api/directory", {"q": "news", "cursor": token})
    assert other_search.status_code == 400
    assert "another search" in other_search.json()["error"]["message"]
    with pytest.raises(InvalidCursor):
        _search("the", language="en", cursor=token)

    for params in ({"q": "the", "page_size": 0}, {"q": "the", "page_size": 101}, {"q": "  "}, {}):
        response = api.get("/api/directory", params)
        assert response.status_code == 400 and response.json()["error"]["code"] == "invalid"


def test_reimport_updates_the_index_without_duplicates(dump: Path) -> None:
    target = _rows(dump)[900]["id"]
    _execute(dump, "UPDATE podcasts SET title = 'Zorblax Gazette' WHERE id = ?", (target,))
    _import(dump)
    assert _ids(_search("zorblax").results) == [target]

    _execute(dump, "UPDATE podcasts SET title = 'Quuxwing Gazette' WHERE id = ?", (target,))
    report = _import(dump)
    assert report.updated == 1 and report.indexed == 1
    assert _search("zorblax").results == []
    assert _ids(_search("quuxwing").results) == [target]
    assert _ids(_search("gazette").results) == [target]  # one document, not two

    searcher = open_index(index_path()).searcher()
    assert searcher.num_docs == ROWS
    state = read_state()
    table = DeltaTable(str(lake.table_path(PODCASTINDEX_FEEDS)))
    assert state["lake_version"] == table.version() and state["documents"] == ROWS


def test_an_interrupted_import_leaves_an_index_that_the_next_run_completes(
    dump: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = _rows(dump)
    last = rows[-1]["id"]
    _execute(dump, "UPDATE podcasts SET title = 'Zorblax Finale' WHERE id = ?", (last,))
    calls = {"n": 0}
    original = directory_index.DirectoryIndexWriter.upsert

    def failing(self, table, **options):
        calls["n"] += 1
        if calls["n"] == 5:  # the third batch's rows (two calls a batch: new, changed)
            raise OSError("disk full")
        return original(self, table, **options)

    monkeypatch.setattr(directory_index.DirectoryIndexWriter, "upsert", failing)
    monkeypatch.setattr(directory_index, "COMMIT_EVERY", 1)  # a commit after every batch
    with pytest.raises(RuntimeError, match="directory index"):
        _import(dump)
    # The lake holds three batches; the index the two it committed, and says so.
    indexed = open_index(index_path()).searcher().num_docs
    assert indexed == 2 * BATCH
    assert (
        read_state()["lake_version"]
        < DeltaTable(str(lake.table_path(PODCASTINDEX_FEEDS))).version()
    )

    monkeypatch.setattr(directory_index.DirectoryIndexWriter, "upsert", original)
    report = _import(dump)
    assert report.finished and report.index_action == "caught_up"
    assert open_index(index_path()).searcher().num_docs == ROWS
    assert _ids(_search("zorblax").results) == [last]


def test_a_lake_without_an_index_gets_one_from_the_next_import(dump: Path, home: Path) -> None:
    _import(dump)
    import shutil

    shutil.rmtree(index_path())
    with pytest.raises(DirectoryUnavailable, match="podsight directory reindex"):
        _search("the")
    report = _import(dump)
    assert report.unchanged == ROWS and report.index_action == "rebuilt"
    assert open_index(index_path()).searcher().num_docs == ROWS

    shutil.rmtree(index_path())
    assert STEPS["directory.reindex"]().action == "rebuilt"
    assert STEPS["directory.reindex"]().action == "current"
    assert _search("the").results


def test_search_before_any_import_says_to_import(home: Path) -> None:
    with pytest.raises(DirectoryUnavailable, match="podsight import podcastindex FILE"):
        _search("news")
    response = APIClient().get("/api/directory", {"q": "news"})
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "directory_unavailable"


@pytest.fixture
def served_feed(dump: Path, local_server, rss_corpus: Path, monkeypatch: pytest.MonkeyPatch):
    """A dump row whose feed URL is a real feed served on 127.0.0.1."""
    monkeypatch.setenv("PODSIGHT_ALLOW_PRIVATE_URLS", "1")
    body = (rss_corpus / "podcast-feed-parser" / "bc-sample.xml").read_bytes()
    local_server.routes["/chemical.xml"] = lambda handler: Reply(
        200, body, {"Content-Type": "application/rss+xml"}
    )
    row = _rows(dump)[321]
    url = local_server.url("/chemical.xml")
    _execute(dump, "UPDATE podcasts SET url = ? WHERE id = ?", (url, row["id"]))
    return row["id"], url


def test_directory_add_makes_a_catalog_channel_linked_to_its_dump_row(
    dump: Path, served_feed: tuple[int, str], tmp_path: Path
) -> None:
    feed_id, url = served_feed
    _import(dump)
    title = _search(str(feed_id)).results  # its id is in its description (#id)
    assert _ids(title) == [feed_id] and title[0]["channel"] is None

    sources = tmp_path / "sources.toml"
    result = STEPS["directory.add"](feed_id, sources_file=sources)
    assert result.feed_status == "new" and result.episodes > 0 and result.added_to_sources
    assert result.channel is not None
    dump_record = SourceChannel.objects.get(source="podcastindex", external_id=str(feed_id))
    rss_record = SourceChannel.objects.get(source="rss", external_id=url)
    assert dump_record.channel_id == rss_record.channel_id == result.channel
    assert "shares feed URL" in rss_record.link_explanation
    assert Channel.objects.get(pk=result.channel).title == "All Things Chemical"
    listed = sources.read_text()
    assert f'podcastindex_id = "{feed_id}"' in listed and f'rss_url = "{url}"' in listed
    assert _search(str(feed_id)).results[0]["channel"] == result.channel

    again = STEPS["directory.add"](feed_id, sources_file=sources)
    assert not again.added_to_sources and again.channel == result.channel
    assert sources.read_text() == listed

    # A merged channel is followed to the one that survives.
    survivor = Channel.objects.create(title="survivor")
    Channel.objects.filter(pk=result.channel).update(merged_into=survivor)
    assert _search(str(feed_id)).results[0]["channel"] == survivor.pk

    with pytest.raises(FeedNotFound):
        STEPS["directory.add"](999_999_999, sources_file=sources)


def test_api_add_needs_a_staff_token(dump: Path, served_feed: tuple[int, str]) -> None:
    feed_id, _url = served_feed
    _import(dump)
    api = APIClient()
    url = f"/api/directory/{feed_id}/add"
    anonymous = api.post(url)
    assert anonymous.status_code == 401
    assert anonymous.json()["error"]["code"] == "not_authenticated"
    _token, events_key = create_token("events-app", ["events:write"])
    api.credentials(HTTP_AUTHORIZATION=f"Token {events_key}")
    denied = api.post(url)
    assert denied.status_code == 403 and denied.json()["error"]["code"] == "missing_scope"
    assert not SourceChannel.objects.filter(source="podcastindex").exists()

    _token, key = create_token("operator", ["staff"])
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    added = api.post(url)
    assert added.status_code == 200
    body = added.json()
    assert body["podcastindex_id"] == feed_id and body["feed"]["status"] == "new"
    assert body["channel"] == SourceChannel.objects.get(source="rss").channel_id
    listing = api.get("/api/directory", {"q": str(feed_id)}).json()
    assert listing["results"][0]["channel"] == body["channel"]
    missing = api.post("/api/directory/999999999/add")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"


def _cli(home: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    env.pop("DATABASE_URL", None)
    env["PODSIGHT_HOME"] = str(home)
    env["PODSIGHT_ALLOW_PRIVATE_URLS"] = "1"
    return subprocess.run(
        [sys.executable, "-m", "podsight.cli.main", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=300,
    )


def test_cli_search_and_add_from_a_shell(tmp_path: Path, dump: Path) -> None:
    fresh = tmp_path / "fresh-home"
    before = _cli(fresh, "directory", "search", "news")
    assert before.returncode == 1 and "Traceback" not in before.stderr + before.stdout
    # (A fresh home's first command also says it set the database up.)
    errors = [line for line in before.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "podsight import podcastindex FILE" in errors[0]

    row = _rows(dump)[42]
    _execute(
        dump,
        "UPDATE podcasts SET title = 'Zorblax Nights', url = 'http://127.0.0.1:9/feed.xml' "
        "WHERE id = ?",
        (row["id"],),
    )
    imported = _cli(fresh, "import", "podcastindex", str(dump), "--no-progress")
    assert imported.returncode == 0, imported.stderr
    found = _cli(fresh, "directory", "search", "zorblax")
    assert found.returncode == 0 and "Traceback" not in found.stderr
    assert "Zorblax Nights" in found.stdout and str(row["id"]) in found.stdout

    # A feed that cannot be read (nothing listens on port 9): the show is added all the
    # same, with a warning, since the next sync reads the feed.
    added = _cli(fresh, "directory", "add", str(row["id"]), "--no-progress")
    assert added.returncode == 0 and "Traceback" not in added.stderr, added.stderr
    assert "warning: its feed http://127.0.0.1:9/feed.xml could not be read" in added.stderr
    assert "Zorblax Nights" in added.stdout and "added to" in added.stdout
    assert f'podcastindex_id = "{row["id"]}"' in (fresh / "sources.toml").read_text()

    unknown = _cli(fresh, "directory", "add", "999999999")
    assert unknown.returncode == 2 and "Traceback" not in unknown.stderr
    assert unknown.stderr.strip().splitlines() == [
        "error: no feed with Podcast Index id 999999999 in the imported dump; find ids with "
        "`podsight directory search WORDS`"
    ]
