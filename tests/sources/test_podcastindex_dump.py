"""Importing the Podcast Index SQLite dump: counts, re-import, resume, quirks, key linking.

Dumps are generated with the real ``podcasts`` layout by ``write_sample_dump`` (the
benchmark's generator). The tests commit for real (``transaction=True``): resuming is
about what survived a failed batch.
"""

from __future__ import annotations

import json
import random
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from deltalake import DeltaTable

from podsight import lake
from podsight.catalog.models import Channel
from podsight.lake.tables import PODCASTINDEX_FEEDS
from podsight.sources.keys import channel_keys, normalise_feed_url
from podsight.sources.models import SourceChannel, SourceKey
from podsight.sources.podcastindex.dump import catalog, lake_writer, rows, run
from podsight.sources.podcastindex.dump.checkpoint import checkpoint_path
from podsight.sources.podcastindex.dump.layout import DUMP_COLUMNS, READ_COLUMNS, DumpFormatError
from podsight.sources.podcastindex.dump.rows import row_data
from podsight.sources.podcastindex.dump.run import import_dump
from podsight.sources.podcastindex.dump.sample import write_sample_dump
from podsight.sources.podcastindex.normalize import epoch_iso
from podsight.sources.rss.ingest import content_hash

pytestmark = pytest.mark.django_db(transaction=True)

ROWS = 1500
BATCH = 400
BAD_URLS = {"no-url": None, "not-a-url": "just some text", "blank": "   "}


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A generated dump plus three rows without a usable feed URL."""
    path = write_sample_dump(tmp_path_factory.mktemp("dump") / "podcastindex_feeds.db", ROWS, 11)
    with sqlite3.connect(path) as db:
        top = db.execute("SELECT max(id) FROM podcasts").fetchone()[0]
        for offset, (title, url) in enumerate(BAD_URLS.items(), start=1):
            db.execute(
                "INSERT INTO podcasts (id, url, title) VALUES (?, ?, ?)", (top + offset, url, title)
            )
    db.close()
    return path


@pytest.fixture
def dump_copy(sample: Path, tmp_path: Path) -> Path:
    target = tmp_path / "podcastindex_feeds.db"
    target.write_bytes(sample.read_bytes())
    return target


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PODSIGHT_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def _rows(path: Path, where: str = "1 = 1", params: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
    db = sqlite3.connect(path)
    db.row_factory = sqlite3.Row
    try:
        return db.execute(f"SELECT * FROM podcasts WHERE {where} ORDER BY id", params).fetchall()
    finally:
        db.close()


def _execute(path: Path, sql: str, params: tuple[Any, ...] = ()) -> None:
    db = sqlite3.connect(path)
    try:
        db.execute(sql, params)
        db.commit()
    finally:
        db.close()


def _good_ids(path: Path, after: int = 0) -> list[int]:
    return [r["id"] for r in _rows(path, "id > ?", (after,)) if normalise_feed_url(r["url"])]


def _lake() -> dict[int, dict[str, Any]]:
    """The lake table's rows by feed id."""
    table = DeltaTable(str(lake.table_path(PODCASTINDEX_FEEDS))).to_pyarrow_table()
    return {row["id"]: row for row in table.to_pylist()}


def test_import_writes_every_feed_to_the_lake_with_its_keys(dump_copy: Path) -> None:
    report = import_dump(dump_copy, batch_size=BATCH)

    good = _good_ids(dump_copy)
    assert len(good) == ROWS
    assert (report.new, report.updated, report.unchanged) == (ROWS, 0, 0)
    assert report.skipped == len(BAD_URLS)
    assert report.skip_reasons == {"no usable feed URL": len(BAD_URLS)}
    assert report.rows_read == ROWS + len(BAD_URLS) and report.finished
    assert report.linked == 0 and report.rows_per_s > 0
    assert not checkpoint_path(dump_copy).exists()  # a finished import leaves no checkpoint
    # Nothing in the catalog shares a key with these feeds: they stay bulk data.
    assert not SourceChannel.objects.filter(source="podcastindex").exists()
    assert Channel.objects.count() == 0

    stored = _lake()
    assert sorted(stored) == good
    raw = {r["id"]: r for r in _rows(dump_copy)}
    for feed_id in random.Random(3).sample(good, 60):
        row, kept = raw[feed_id], stored[feed_id]
        for name in READ_COLUMNS:  # the dump's own columns, as the dump has them
            value = row[name]
            if name == "itunesId" and value is not None:
                value = str(value)
            assert kept[name] == value, name
        assert kept["feed_key"] == normalise_feed_url(row["url"])
        guid = (row["podcastGuid"] or "").strip().lower() or None
        assert kept["guid_key"] == guid
        itunes = {
            v
            for k, v in channel_keys(
                "podcastindex", "1", row_data(tuple(row[c] for c in READ_COLUMNS))
            )
            if k == "itunes_id"
        }
        assert ({str(kept["itunes_key"])} if kept["itunes_key"] else set()) == itunes
        assert kept["first_imported_at"] == kept["imported_at"]


def test_reimport_updates_changed_rows_and_never_duplicates(dump_copy: Path) -> None:
    import_dump(dump_copy, batch_size=BATCH)
    before = _lake()
    renamed, moved = _good_ids(dump_copy)[10], _good_ids(dump_copy)[20]
    _execute(dump_copy, "UPDATE podcasts SET title = 'Renamed Show ✓' WHERE id = ?", (renamed,))
    _execute(
        dump_copy,
        "UPDATE podcasts SET url = 'https://moved.example.org/feed.xml' WHERE id = ?",
        (moved,),
    )

    report = import_dump(dump_copy, batch_size=BATCH)

    assert (report.new, report.updated, report.unchanged) == (0, 2, ROWS - 2)
    after = _lake()
    assert len(after) == ROWS
    assert after[renamed]["title"] == "Renamed Show ✓"
    assert after[moved]["feed_key"] == "moved.example.org/feed.xml"
    for feed_id in (renamed, moved):
        assert after[feed_id]["first_imported_at"] == before[feed_id]["first_imported_at"]
        assert after[feed_id]["imported_at"] > before[feed_id]["imported_at"]
        assert after[feed_id]["row_hash"] != before[feed_id]["row_hash"]
    untouched = _good_ids(dump_copy)[30]
    assert after[untouched] == before[untouched]
    # The old content is still there, one Delta version back.
    table = DeltaTable(str(lake.table_path(PODCASTINDEX_FEEDS)))
    previous = DeltaTable(str(lake.table_path(PODCASTINDEX_FEEDS)), version=table.version() - 1)
    titles = previous.to_pyarrow_table(filters=[("id", "=", renamed)]).column("title")
    assert titles.to_pylist() == [before[renamed]["title"]]

    third = import_dump(dump_copy, batch_size=BATCH)
    assert (third.new, third.updated, third.unchanged) == (0, 0, ROWS)
    assert DeltaTable(str(lake.table_path(PODCASTINDEX_FEEDS))).version() == table.version()


@pytest.mark.parametrize(
    ("module", "failing"), [(lake_writer, "write_lake"), (run, "store_catalog_rows")]
)
def test_interrupted_import_resumes_after_the_last_stored_batch(
    dump_copy: Path, monkeypatch: pytest.MonkeyPatch, module: Any, failing: str
) -> None:
    real = getattr(module, failing)
    calls = {"n": 0}

    def fail_third_batch(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("disk full")
        return real(*args, **kwargs)

    monkeypatch.setattr(module, failing, fail_third_batch)
    with pytest.raises(RuntimeError, match="disk full"):
        import_dump(dump_copy, batch_size=BATCH)

    ids = [r["id"] for r in _rows(dump_copy)]
    stored_last = ids[2 * BATCH - 1]
    state = json.loads(checkpoint_path(dump_copy).read_text())
    assert state["last_id"] == stored_last
    assert sorted(_lake()) == ids[: 2 * BATCH]

    monkeypatch.setattr(module, failing, real)
    report = import_dump(dump_copy, batch_size=BATCH)
    remaining = _good_ids(dump_copy, stored_last)
    assert report.resumed_from == stored_last
    assert report.rows_read == len([i for i in ids if i > stored_last])  # no re-reading
    assert (report.new, report.unchanged) == (len(remaining), 0)
    assert sorted(_lake()) == _good_ids(dump_copy)
    assert not checkpoint_path(dump_copy).exists()


def test_resume_false_starts_over(dump_copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = lake_writer.write_lake
    calls = {"n": 0}

    def fail_second(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("stop")
        return real(*args, **kwargs)

    monkeypatch.setattr(lake_writer, "write_lake", fail_second)
    with pytest.raises(RuntimeError):
        import_dump(dump_copy, batch_size=BATCH)
    monkeypatch.setattr(lake_writer, "write_lake", real)

    report = import_dump(dump_copy, batch_size=BATCH, resume=False)
    assert report.resumed_from is None
    assert report.rows_read == ROWS + len(BAD_URLS)
    assert (report.new, report.unchanged) == (ROWS - BATCH, BATCH)


def test_column_types_hold_whatever_sqlite_stored(tmp_path: Path) -> None:
    """SQLite lets any column hold any type; ADBC types a column from the values it sees."""
    path = write_sample_dump(tmp_path / "types.db", 30, seed=6)
    ids = [r["id"] for r in _rows(path)]
    # All NULL in the first batch, text later; text in integer columns; a float.
    _execute(path, "UPDATE podcasts SET category10 = NULL, generator = NULL")
    _execute(
        path, "UPDATE podcasts SET category10 = 'Late', generator = 7 WHERE id = ?", (ids[-1],)
    )
    _execute(path, "UPDATE podcasts SET episodeCount = 'many', dead = 2.0 WHERE id = ?", (ids[5],))

    report = import_dump(path, batch_size=10)

    assert report.new == 30 and report.skipped == 0
    stored = _lake()
    assert stored[ids[-1]]["category10"] == "Late" and stored[ids[-1]]["generator"] == "7"
    assert stored[ids[0]]["category10"] is None
    assert stored[ids[5]]["episodeCount"] == 0 and stored[ids[5]]["dead"] == 2


def test_itunes_id_quirks_and_nulls(tmp_path: Path) -> None:
    path = write_sample_dump(tmp_path / "quirks.db", 6, seed=2)
    ids = [r["id"] for r in _rows(path)]
    values: list[Any] = ["", "not-a-number", 1441923632, None, " 987654321 ", "0"]
    for feed_id, value in zip(ids, values, strict=True):
        _execute(path, "UPDATE podcasts SET itunesId = ? WHERE id = ?", (value, feed_id))
    nulls = ", ".join(f"{name} = NULL" for name, _ in DUMP_COLUMNS if name not in ("id", "url"))
    _execute(path, f"UPDATE podcasts SET {nulls} WHERE id = ?", (ids[3],))

    report = import_dump(path)

    assert report.new == 6 and report.skipped == 0
    stored = _lake()
    assert [stored[i]["itunesId"] for i in ids] == [
        "",
        "not-a-number",
        "1441923632",
        None,
        "987654321",  # SQLite's INTEGER affinity stored " 987654321 " as a number
        "0",
    ]
    assert [stored[i]["itunes_key"] for i in ids] == [None, None, 1441923632, None, 987654321, None]
    bare = stored[ids[3]]
    assert {k for k, v in bare.items() if v is not None} == {
        "id",
        "url",
        "feed_key",
        "row_hash",
        "first_imported_at",
        "imported_at",
    }
    # The catalog's normaliser reads the same values the same way.
    data = [row_data(tuple(stored[i][c] for c in READ_COLUMNS)) for i in ids]
    assert [d.get("itunes_id") for d in data] == [None, None, 1441923632, None, 987654321, None]
    assert set(data[3]) == {"feed_url", "podcastindex_id"}


def test_row_data_tolerates_odd_values() -> None:
    names = [n for n in READ_COLUMNS]
    row: list[Any] = [None] * len(names)
    row[names.index("id")] = 7
    row[names.index("url")] = b"https://bytes.example.com/feed"
    row[names.index("title")] = 12345  # a number in a text column
    row[names.index("dead")] = "1"
    row[names.index("newestItemPubdate")] = "1546399813"
    row[names.index("category1")] = " News "
    row[names.index("category2")] = "News"
    row[names.index("description")] = "<p>Hello &amp; <script>x()</script>welcome</p>"
    data = row_data(row)
    assert data["feed_url"] == "https://bytes.example.com/feed"
    assert data["title"] == "12345" and data["dead"] is True
    assert data["newest_item_published_at"] == "2019-01-02T03:30:13+00:00"
    assert data["categories"] == [["News"]]
    assert "<script>" not in data["description_html"]
    assert data["description_text"] == "Hello & welcome"


def test_fast_iso_matches_epoch_iso() -> None:
    rng = random.Random(5)
    for value in [
        1,
        86399,
        86400,
        951782400,
        4102444800,
        *(rng.randint(1, 4_000_000_000) for _ in range(500)),
    ]:
        assert rows.epoch_iso_fast(value) == epoch_iso(value)
    for empty in (0, -5, ""):
        assert rows.epoch_iso_fast(empty) is None


@pytest.mark.parametrize("preload", [True, False])
def test_rows_sharing_a_key_with_a_linked_record_join_its_channel(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, preload: bool
) -> None:
    if not preload:
        monkeypatch.setattr(catalog, "PRELOAD_KEYS", 0)  # ask the database per batch
    rss_url = "https://www.Example.com/shows/feed/"
    rss_data = {"title": "Example Show", "feed_url": rss_url, "language": "en"}
    channel = Channel.objects.create(title="Example Show")
    rss = SourceChannel.objects.create(
        source="rss",
        external_id=rss_url,
        url=rss_url,
        data=rss_data,
        content_hash=content_hash(rss_data),
        fetched_at="2025-01-01T00:00:00Z",
        channel=channel,
        link_method="key",
        link_confidence=1.0,
    )
    for kind, value in channel_keys("rss", rss_url, rss_data):
        SourceKey.objects.create(kind=kind, value=value, record=rss)

    path = write_sample_dump(tmp_path / "link.db", 4, seed=9)
    first, second, third, fourth = (r["id"] for r in _rows(path))
    _execute(
        path,
        "UPDATE podcasts SET url = 'http://example.com/shows/feed', podcastGuid = '', "
        "itunesId = 555111222, imageUrl = 'https://img.example.com/a.jpg' WHERE id = ?",
        (first,),
    )
    # Shares only the iTunes id with the row above: it joins through that row's link.
    _execute(
        path, "UPDATE podcasts SET itunesId = 555111222, podcastGuid = '' WHERE id = ?", (third,)
    )
    _execute(
        path,
        "UPDATE podcasts SET podcastGuid = '', itunesId = '' WHERE id IN (?, ?)",
        (second, fourth),
    )

    report = import_dump(path)

    assert report.new == 4 and report.linked == 2
    assert SourceChannel.objects.filter(source="podcastindex").count() == 2
    linked = SourceChannel.objects.get(source="podcastindex", external_id=str(first))
    assert linked.channel_id == channel.pk
    assert linked.link_method == "key" and linked.link_confidence == 1.0
    assert linked.link_explanation == f"shares feed URL example.com/shows/feed with rss:{rss_url}"
    assert linked.linked_at is not None
    via_row = SourceChannel.objects.get(source="podcastindex", external_id=str(third))
    assert via_row.channel_id == channel.pk
    assert via_row.link_explanation == f"shares iTunes id 555111222 with podcastindex:{first}"
    for other in (second, fourth):  # linked to nothing: in the lake only
        assert not SourceChannel.objects.filter(external_id=str(other)).exists()
        assert other in _lake()
    channel.refresh_from_db()
    assert channel.image_url == "https://img.example.com/a.jpg"  # filled from the dump row
    assert channel.field_sources["image_url"] == f"podcastindex:{first}"
    assert channel.title == "Example Show"  # RSS still wins where it has a value


def test_unchanged_unlinked_rows_link_once_a_match_appears(tmp_path: Path) -> None:
    path = write_sample_dump(tmp_path / "later.db", 3, seed=4)
    target = _rows(path)[1]
    assert import_dump(path).linked == 0

    guid = (target["podcastGuid"] or "").strip().lower() or "c0ffee00-0000-5000-8000-000000000001"
    _execute(path, "UPDATE podcasts SET podcastGuid = ? WHERE id = ?", (guid, target["id"]))
    import_dump(path)
    channel = Channel.objects.create(title="From an API")
    other = SourceChannel.objects.create(
        source="apple",
        external_id="123",
        data={"podcast_guid": guid},
        content_hash="x",
        fetched_at="2025-01-01T00:00:00Z",
        channel=channel,
    )
    SourceKey.objects.create(kind="podcast_guid", value=guid, record=other)

    report = import_dump(path)
    assert (report.new, report.updated, report.unchanged, report.linked) == (0, 0, 3, 1)
    record = SourceChannel.objects.get(source="podcastindex", external_id=str(target["id"]))
    assert record.channel_id == channel.pk
    assert record.link_explanation == f"shares podcast:guid {guid} with apple:123"


def test_records_the_catalog_holds_are_refreshed_from_the_dump(tmp_path: Path) -> None:
    path = write_sample_dump(tmp_path / "known.db", 5, seed=8)
    row = _rows(path)[2]
    stale = {"title": "Old Title", "feed_url": row["url"]}
    record = SourceChannel.objects.create(
        source="podcastindex",
        external_id=str(row["id"]),
        url=row["url"],
        data=stale,
        content_hash=content_hash(stale),
        fetched_at="2025-01-01T00:00:00Z",
    )

    report = import_dump(path)

    assert (report.new, report.refreshed, report.linked) == (5, 1, 0)
    record.refresh_from_db()
    assert record.data == row_data(tuple(row[c] for c in READ_COLUMNS))
    assert record.content_hash == content_hash(record.data)
    keys = set(record.keys.values_list("kind", "value"))
    assert keys == channel_keys("podcastindex", record.external_id, record.data)
    assert SourceChannel.objects.filter(source="podcastindex").count() == 1
    assert import_dump(path).refreshed == 0


def test_not_a_dump_is_refused(tmp_path: Path) -> None:
    text = tmp_path / "notes.db"
    text.write_text("this is not sqlite", encoding="utf-8")
    with pytest.raises(DumpFormatError):
        import_dump(text)
    other = tmp_path / "other.db"
    db = sqlite3.connect(other)
    db.execute("CREATE TABLE podcasts (id INTEGER PRIMARY KEY, url TEXT)")
    db.commit()
    db.close()
    with pytest.raises(DumpFormatError, match="lacks column"):
        import_dump(other)


def test_sample_dump_has_the_real_layout_and_quirks(sample: Path) -> None:
    db = sqlite3.connect(sample)
    columns = [(r[1], r[2]) for r in db.execute("PRAGMA table_info(podcasts)")]
    assert columns == list(DUMP_COLUMNS)
    types = dict(db.execute("SELECT typeof(itunesId), count(*) FROM podcasts GROUP BY 1"))
    lengths = db.execute(
        "SELECT min(length(description)), max(length(description)) FROM podcasts "
        "WHERE length(description) > 0"
    ).fetchone()
    non_ascii = db.execute("SELECT count(*) FROM podcasts WHERE title GLOB '*[^ -~]*'").fetchone()
    dead = db.execute("SELECT count(*) FROM podcasts WHERE dead = 1").fetchone()[0]
    db.close()
    assert {"integer", "text", "null"} <= set(types)  # ids, "" and stray text, NULL
    assert lengths[0] >= 300 and lengths[1] <= 1000
    assert non_ascii[0] > 0 and dead > 0
