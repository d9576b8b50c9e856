"""Ingestion into the catalog: idempotence, in-place updates, vanished items, HTTP behaviour."""

from __future__ import annotations

import gzip
import hashlib
import os
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from httpserver import Reply
from podsight.catalog.models import Channel, Episode
from podsight.sources.models import Feed, SourceChannel, SourceEpisode
from podsight.sources.rss.ingest import ingest_feeds

pytestmark = pytest.mark.django_db

ITEM = re.compile(rb"<item>.*?</item>", re.S)


@pytest.fixture
def bc_sample(rss_corpus: Path) -> bytes:
    return (rss_corpus / "podcast-feed-parser" / "bc-sample.xml").read_bytes()


def _ingest(*locations: str):
    return ingest_feeds(list(locations))


def _snapshot():
    return (
        list(Channel.objects.values_list("id", "title", "updated_at")),
        list(Episode.objects.values_list("id", "title", "updated_at", "available")),
        list(SourceEpisode.objects.values_list("id", "content_hash", "fetched_at", "vanished_at")),
    )


def test_reingesting_the_same_feed_changes_nothing(tmp_path: Path, bc_sample: bytes):
    feed = tmp_path / "bc.xml"
    feed.write_bytes(bc_sample)
    first = _ingest(str(feed)).outcomes[0]
    assert first.status == "new" and first.episodes_new == 4
    before = _snapshot()
    second = _ingest(str(feed)).outcomes[0]
    assert second.status == "unchanged"
    assert (second.episodes_new, second.episodes_updated, second.episodes_vanished) == (0, 0, 0)
    assert _snapshot() == before
    assert Channel.objects.count() == 1 and Episode.objects.count() == 4


def test_changed_items_update_in_place(tmp_path: Path, bc_sample: bytes):
    feed = tmp_path / "bc.xml"
    feed.write_bytes(bc_sample)
    _ingest(str(feed))
    first_item = ITEM.search(bc_sample).group(0)
    old_title = re.search(rb"<title>(.*?)</title>", first_item, re.S).group(1)
    changed = bc_sample.replace(old_title, b"A corrected title", 1)
    feed.write_bytes(changed)
    ids_before = set(Episode.objects.values_list("id", flat=True))
    outcome = _ingest(str(feed)).outcomes[0]
    assert outcome.status == "updated" and outcome.episodes_updated == 1
    assert set(Episode.objects.values_list("id", flat=True)) == ids_before
    assert Episode.objects.filter(title="A corrected title").count() == 1
    record = SourceEpisode.objects.get(data__title="A corrected title")
    assert record.episode.title == "A corrected title"
    assert record.episode.field_sources["title"] == f"rss:{record.external_id}"


def test_vanished_items_are_marked_not_deleted(tmp_path: Path, bc_sample: bytes):
    feed = tmp_path / "bc.xml"
    feed.write_bytes(bc_sample)
    _ingest(str(feed))
    last_item = ITEM.findall(bc_sample)[-1]
    feed.write_bytes(bc_sample.replace(last_item, b""))
    outcome = _ingest(str(feed)).outcomes[0]
    assert outcome.episodes_vanished == 1
    assert Episode.objects.count() == 4  # nothing deleted
    gone = SourceEpisode.objects.get(vanished_at__isnull=False)
    assert gone.episode.available is False
    assert Episode.objects.filter(available=True).count() == 3
    # It comes back: the same record and canonical episode are revived.
    feed.write_bytes(bc_sample)
    outcome = _ingest(str(feed)).outcomes[0]
    assert outcome.episodes_updated == 1
    gone.refresh_from_db()
    assert gone.vanished_at is None and gone.episode.available is True


def test_truncated_document_does_not_mark_missing_items_vanished(tmp_path: Path, bc_sample: bytes):
    feed = tmp_path / "bc.xml"
    feed.write_bytes(bc_sample)
    _ingest(str(feed))
    cut = bc_sample.index(ITEM.findall(bc_sample)[2])
    feed.write_bytes(bc_sample[: cut + 200])  # cut inside the third item
    outcome = _ingest(str(feed)).outcomes[0]
    assert outcome.status != "failed"
    assert "recovered" in outcome.repairs
    assert SourceEpisode.objects.filter(vanished_at__isnull=False).count() == 0


def test_items_without_guid_get_a_stable_identity(tmp_path: Path, bc_sample: bytes):
    feed = tmp_path / "bc.xml"
    no_guids = re.sub(rb"<guid[^>]*>.*?</guid>", b"", bc_sample, flags=re.S)
    feed.write_bytes(no_guids)
    _ingest(str(feed))
    ids = sorted(SourceEpisode.objects.values_list("external_id", flat=True))
    assert all(i.startswith("http") for i in ids), ids  # enclosure URLs
    before = _snapshot()
    assert _ingest(str(feed)).outcomes[0].status == "unchanged"
    assert _snapshot() == before


def test_unreadable_feed_is_recorded_and_the_run_goes_on(tmp_path: Path, bc_sample: bytes):
    good = tmp_path / "good.xml"
    good.write_bytes(bc_sample)
    bad = tmp_path / "bad.xml"
    bad.write_bytes(b"<html><body>502 Bad Gateway</body></html>")
    report = _ingest(str(bad), str(good))
    statuses = {Path(o.location).name: o.status for o in report.outcomes}
    assert statuses == {"bad.xml": "failed", "good.xml": "new"}
    assert not report.all_failed
    failed = Feed.objects.get(url=bad.resolve().as_uri())
    assert failed.last_status == "failed" and failed.last_error
    assert failed.consecutive_failures == 1


def test_cli_exits_non_zero_only_when_every_feed_failed(tmp_path: Path, bc_sample: bytes):
    from podsight.cli.main import app

    bad = tmp_path / "bad.xml"
    bad.write_bytes(b"not a feed at all")
    good = tmp_path / "good.xml"
    good.write_bytes(bc_sample)
    runner = CliRunner()
    result = runner.invoke(app, ["ingest", "rss", "--no-progress", str(bad)])
    assert result.exit_code == 1, result.output
    result = runner.invoke(app, ["ingest", "rss", "--no-progress", str(bad), str(good)])
    assert result.exit_code == 0, result.output
    assert "All Things Chemical" in result.output and "failed" in result.output


# --- over HTTP, against a real local server ---------------------------------------------


@pytest.fixture
def allow_private(monkeypatch):
    monkeypatch.setenv("PODSIGHT_ALLOW_PRIVATE_URLS", "1")


def test_conditional_get_yields_not_modified(local_server, bc_sample, allow_private):
    def feed(handler):
        if handler.headers.get("If-None-Match") == '"v1"':
            return Reply(304, b"", {"ETag": '"v1"'})
        body = gzip.compress(bc_sample)
        return Reply(
            200,
            body,
            {"ETag": '"v1"', "Content-Type": "application/rss+xml", "Content-Encoding": "gzip"},
        )

    local_server.routes["/feed.xml"] = feed
    url = local_server.url("/feed.xml")
    assert _ingest(url).outcomes[0].status == "new"
    assert Feed.objects.get(url=url).etag == '"v1"'
    outcome = _ingest(url).outcomes[0]
    assert outcome.status == "not-modified"
    assert outcome.title == "All Things Chemical"
    assert local_server.seen[-1][1].get("if-none-match") == '"v1"'
    assert "podsight" in local_server.seen[-1][1]["user-agent"]


def test_permanent_redirect_updates_the_stored_feed_url(local_server, bc_sample, allow_private):
    local_server.routes["/old.xml"] = lambda h: Reply(301, b"", {"Location": "/new.xml"})
    local_server.routes["/new.xml"] = lambda h: Reply(200, bc_sample)
    old = local_server.url("/old.xml")
    assert _ingest(old).outcomes[0].status == "new"
    feed = Feed.objects.get()
    assert feed.url == local_server.url("/new.xml")
    assert feed.previous_urls == [old]
    # Asking for the old address again finds the same feed, not a new one.
    _ingest(old)
    assert Feed.objects.count() == 1 and SourceChannel.objects.count() == 1


def test_private_addresses_are_refused_without_the_setting(local_server, bc_sample, monkeypatch):
    monkeypatch.delenv("PODSIGHT_ALLOW_PRIVATE_URLS", raising=False)
    local_server.routes["/feed.xml"] = lambda h: Reply(200, bc_sample)
    report = _ingest(local_server.url("/feed.xml"))
    outcome = report.outcomes[0]
    assert outcome.status == "failed" and report.all_failed
    assert "PODSIGHT_ALLOW_PRIVATE_URLS" in outcome.error
    assert local_server.seen == []  # refused before any connection


def test_over_http_reingest_is_idempotent_and_vanished_items_are_marked(
    local_server, bc_sample, allow_private
):
    # No validators: the server sends the full body every time, so content hashes decide.
    current = {"body": bc_sample}
    local_server.routes["/feed.xml"] = lambda h: Reply(200, current["body"])
    url = local_server.url("/feed.xml")
    assert _ingest(url).outcomes[0].status == "new"
    before = _snapshot()
    again = _ingest(url).outcomes[0]
    assert again.status == "unchanged" and _snapshot() == before
    current["body"] = bc_sample.replace(ITEM.findall(bc_sample)[0], b"")
    outcome = _ingest(url).outcomes[0]
    assert (outcome.status, outcome.episodes_vanished) == ("updated", 1)
    assert Episode.objects.count() == 4 and Episode.objects.filter(available=False).count() == 1
    assert len(local_server.seen) == 3


def test_demo_load_ingests_podsight_feeds_when_set(tmp_path, bc_sample, monkeypatch):
    from podsight.cli.main import app

    feed = tmp_path / "mine.xml"
    feed.write_bytes(bc_sample)
    monkeypatch.setenv("PODSIGHT_FEEDS", str(feed))
    result = CliRunner().invoke(app, ["demo", "load", "--listeners", "0", "--no-progress"])
    assert result.exit_code == 0, result.output
    assert list(Channel.objects.values_list("title", flat=True)) == ["All Things Chemical"]


# --- issue 15: bounded transactions, deep nesting, size cap, no server paths -----------


@pytest.fixture
def the_daily(rss_corpus: Path) -> bytes:
    return (rss_corpus / "podcast-feed-parser" / "the-daily.xml").read_bytes()  # 845 items


def test_interrupted_ingest_keeps_committed_chunks_and_the_next_run_completes_it(
    local_server, the_daily, allow_private, monkeypatch
):
    """Episodes are committed in chunks; Ctrl-C in the middle keeps what was committed,
    and the ETag is not stored, so the next run fetches the whole feed again (not a 304)
    and writes the rest."""
    from podsight.sources.rss import ingest

    local_server.routes["/daily.xml"] = lambda h: (
        Reply(304, b"", {"ETag": '"d1"'})
        if h.headers.get("If-None-Match") == '"d1"'
        else Reply(200, the_daily, {"ETag": '"d1"'})
    )
    url = local_server.url("/daily.xml")
    real = ingest.episode_values_for
    calls = {"n": 0}

    def interrupted(records):
        calls["n"] += 1
        if calls["n"] > 300:
            raise KeyboardInterrupt  # the user stops the run after 300 of 845 episodes
        return real(records)

    monkeypatch.setattr(ingest, "episode_values_for", interrupted)
    with pytest.raises(KeyboardInterrupt):
        _ingest(url)
    monkeypatch.setattr(ingest, "episode_values_for", real)
    kept = SourceEpisode.objects.count()
    assert 0 < kept <= 300 and Episode.objects.count() == kept  # whole chunks only
    assert Feed.objects.get(url=url).etag == ""  # not yet: the feed is not complete

    outcome = _ingest(url).outcomes[0]
    assert "if-none-match" not in local_server.seen[-1][1]
    assert outcome.status == "updated"
    assert outcome.episodes_new == 845 - kept
    assert SourceEpisode.objects.count() == Episode.objects.count() == 845
    assert Channel.objects.count() == 1
    assert Feed.objects.get(url=url).etag == '"d1"'
    assert _ingest(url).outcomes[0].status == "not-modified"


def _deeply_nested(feed: bytes, depth: int = 100_000) -> bytes:
    at = feed.index(b"<item>")
    return feed[:at] + b"<x>" * depth + b"</x>" * depth + feed[at:]


def test_deep_nesting_keeps_the_items_and_reports_the_feed_incomplete(
    tmp_path: Path, bc_sample: bytes
):
    """100,000 nested elements before the first item: libxml2 stops at depth 256, which
    lost every item while the run said "new". The items are kept; the outcome says the
    document was incomplete, and nothing is marked vanished on its word."""
    feed = tmp_path / "deep.xml"
    feed.write_bytes(_deeply_nested(bc_sample))
    outcome = _ingest(str(feed)).outcomes[0]
    assert outcome.status == "incomplete" and outcome.change == "new"
    assert "deep-nesting" in outcome.repairs
    assert outcome.episodes_new == outcome.episodes_total == 4
    assert Feed.objects.get().last_status == "incomplete"

    runner = CliRunner()
    from podsight.cli.main import app

    result = runner.invoke(app, ["ingest", "rss", "--no-progress", str(feed)])
    assert result.exit_code == 0, result.output
    assert "1 incomplete" in result.output and "deep-nesting" in result.output
    assert SourceEpisode.objects.filter(vanished_at__isnull=False).count() == 0


def test_local_files_obey_the_size_cap(tmp_path: Path, bc_sample: bytes, monkeypatch):
    big = tmp_path / "big.xml"
    big.write_bytes(bc_sample)
    small = tmp_path / "small.xml"
    small.write_bytes(bc_sample[: bc_sample.index(b"<item>")] + b"</channel></rss>")
    monkeypatch.setenv("PODSIGHT_FEED_MAX_BYTES", str(len(bc_sample) - 1))
    report = _ingest(str(big), str(small))
    outcome = {Path(o.location).name: o for o in report.outcomes}
    assert outcome["big.xml"].status == "failed"
    assert "PODSIGHT_FEED_MAX_BYTES" in outcome["big.xml"].error
    assert f"{len(bc_sample) - 1:,}-byte limit" in outcome["big.xml"].error
    assert outcome["small.xml"].status == "new"  # the run goes on
    assert not SourceEpisode.objects.exists()
    assert Feed.objects.get(url=big.resolve().as_uri()).last_status == "failed"
    monkeypatch.setenv("PODSIGHT_FEED_MAX_BYTES", str(len(bc_sample)))  # exactly the cap
    assert _ingest(str(big)).outcomes[0].status == "new"


def test_an_unchanged_feed_read_again_opens_no_write_transaction(
    tmp_path: Path, the_daily, monkeypatch
):
    """On SQLite a transaction (BEGIN IMMEDIATE) holds the only write lock, even when it
    writes nothing: a feed read again unchanged must not queue behind other writers for
    each of its chunks."""
    from django.db import transaction as real

    import podsight.sources.rss.ingest as ingest_module

    path = tmp_path / "the-daily.xml"
    path.write_bytes(the_daily)
    assert _ingest(str(path)).outcomes[0].status == "new"
    opened: list[int] = []

    class Counting:
        def __getattr__(self, name):
            return getattr(real, name)

        def atomic(self, *args, **kwargs):
            opened.append(1)
            return real.atomic(*args, **kwargs)

    monkeypatch.setattr(ingest_module, "transaction", Counting())
    assert _ingest(str(path)).outcomes[0].status == "unchanged"
    assert len(opened) <= 1, f"{len(opened)} transactions for an unchanged feed"


def test_special_files_are_capped_or_refused_not_waited_on(tmp_path: Path):
    from podsight.sources.rss.fetch import FetchError, TooLargeError, read_feed_file

    with pytest.raises(TooLargeError):  # endless: stops after the cap, not at memory's end
        read_feed_file(Path("/dev/zero"), max_bytes=10)
    fifo = tmp_path / "feed.fifo"
    os.mkfifo(fifo)
    with pytest.raises(FetchError, match="pipe"):  # opening it blocking would hang
        read_feed_file(fifo, max_bytes=10)


def _file_id(uri: str) -> str:
    """The documented public id of a local feed file (docs/rss.md, "Local files")."""
    return "file:" + hashlib.sha256(uri.encode()).hexdigest()[:16]


def test_file_feeds_show_no_server_path_in_the_api(tmp_path: Path, bc_sample: bytes):
    from rest_framework.test import APIClient

    from podsight.accounts.services import create_token

    secret_dir = tmp_path / "srv-private-feeds"
    secret_dir.mkdir()
    first = secret_dir / "bc.xml"
    first.write_bytes(bc_sample)
    # A second show whose record is forced onto the first, so /api/links lists both.
    other = secret_dir / "other.xml"
    other.write_bytes(
        re.sub(rb"<atom:link[^>]*/>", b"", bc_sample).replace(
            b"All Things Chemical", b"Another Show"
        )
    )
    _ingest(str(secret_dir))
    record = SourceChannel.objects.get(feed__url=first.resolve().as_uri())
    assert record.external_id == _file_id(first.resolve().as_uri())
    # The public id names the record, e.g. to force a link.
    _, key = create_token("reviewer", scopes=["links:review"])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    others = SourceChannel.objects.exclude(pk=record.pk)
    assert others.count() == 1
    forced = client.post(
        "/api/links/force",
        {"entity": "channel", "record": f"rss:{record.external_id}", "other": str(others.get().pk)},
        format="json",
    )
    assert forced.status_code == 200, forced.content

    channel = Channel.objects.get(source_records=record)
    episode = Episode.objects.filter(channel=channel).first()
    pages = [
        "/api/channels",
        f"/api/channels/{channel.pk}",
        f"/api/channels/{channel.pk}/episodes",
        "/api/episodes",
        f"/api/episodes/{episode.pk}",
        "/api/links",
    ]
    for page in pages:
        response = client.get(page)
        assert response.status_code == 200, (page, response.content[:300])
        text = response.content.decode()
        assert str(tmp_path) not in text and "file://" not in text, page
        assert "srv-private-feeds" not in text, page
    detail = client.get(f"/api/channels/{channel.pk}").json()
    assert f"rss:{record.external_id}" in detail["field_sources"].values()


@pytest.mark.django_db(transaction=True)
def test_migration_takes_stored_file_paths_out_of_records_and_labels():
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    from podsight.matching.models import LinkEvent

    executor = MigrationExecutor(connection)
    leaves = executor.loader.graph.leaf_nodes()
    before = [n for n in leaves if n[0] != "sources"] + [("sources", "0004_catalogcandidate")]
    executor.migrate(before)
    old = executor.loader.project_state(before).apps
    uri, longer = "file:///srv/feeds/show.xml", "file:///srv/feeds/show.xml.d/other.xml"
    channel = old.get_model("catalog", "Channel").objects.create(
        title="Show", field_sources={"title": f"rss:{uri}", "link": "spotify:abc"}
    )
    records = old.get_model("sources", "SourceChannel").objects
    now = "2024-01-01T00:00:00Z"
    rss = records.create(
        source="rss", external_id=uri, url=uri, content_hash="x", fetched_at=now, channel=channel
    )
    records.create(
        source="rss", external_id=longer, url="https://example.org/self.xml", content_hash="x",
        fetched_at=now,
    )  # fmt: skip
    spotify = records.create(
        source="spotify", external_id="abc", content_hash="y", fetched_at=now, channel=channel,
        link_explanation=f"rss:{uri} ~ spotify:abc, rss:{longer}: 3 of 4 episodes pair up",
    )  # fmt: skip
    old.get_model("matching", "LinkEvent").objects.create(
        entity="channel", record_id=spotify.pk, explanation=spotify.link_explanation, at=now
    )

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())

    public, public_longer = _file_id(uri), _file_id(longer)
    record = SourceChannel.objects.get(pk=rss.pk)
    assert (record.external_id, record.url) == (public, "")
    assert (
        SourceChannel.objects.get(external_id=public_longer).url == "https://example.org/self.xml"
    )
    assert Channel.objects.get(pk=channel.pk).field_sources == {
        "title": f"rss:{public}",
        "link": "spotify:abc",
    }
    expected = f"rss:{public} ~ spotify:abc, rss:{public_longer}: 3 of 4 episodes pair up"
    assert SourceChannel.objects.get(pk=spotify.pk).link_explanation == expected
    assert LinkEvent.objects.get().explanation == expected


def deep_html_feed(depth: int = 100_000) -> bytes:
    """One item whose description is ``depth`` nested <div> (1.1 MB at 100,000)."""
    markup = "<div>" * depth + "deep <b>inside</b> &amp; out" + "</div>" * depth
    return (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>Deep</title>'
        "<item><title>Deep one</title><guid>deep-1</guid>"
        f"<description><![CDATA[<p>before</p>{markup}<p>after</p>]]></description></item>"
        "<item><title>Next</title><guid>deep-2</guid><description>plain</description></item>"
        "</channel></rss>"
    ).encode()


def test_deeply_nested_html_is_ingested_in_linear_time(tmp_path: Path):
    """100,000 nested <div> in one description took 39.7 s (nh3's work grows with the
    depth of each element); elements past MAX_HTML_DEPTH are flattened, text kept. The
    bound is generous for a loaded CI machine; bench/rss_parse.py reports the real time."""
    import time

    from podsight.sources import text

    text.sanitize_html.cache_clear()
    text.html_to_text.cache_clear()
    feed = tmp_path / "deep-html.xml"
    feed.write_bytes(deep_html_feed())
    assert len(feed.read_bytes()) > 1_000_000
    start = time.perf_counter()
    outcome = _ingest(str(feed)).outcomes[0]
    elapsed = time.perf_counter() - start
    assert outcome.status == "new" and outcome.episodes_new == 2
    data = SourceEpisode.objects.get(external_id="deep-1").data
    assert data["description_text"] == "before\ndeep inside & out\nafter"
    html = data["description_html"]
    # The deep tags are dropped (the <b> too, at that depth), their text kept.
    assert html.count("<div>") == text.MAX_HTML_DEPTH and "deep inside &amp; out" in html
    assert elapsed < 5, f"{elapsed:.1f} s"


def test_reingest_of_an_unchanged_feed_does_no_html_work(
    tmp_path: Path, bc_sample: bytes, monkeypatch
):
    """Items are compared by the hash of what the feed says: none is sanitised again."""
    import podsight.sources.rss.ingest as ingest_module

    feed = tmp_path / "bc.xml"
    feed.write_bytes(bc_sample)
    _ingest(str(feed))
    calls: list[str] = []
    monkeypatch.setattr(ingest_module, "sanitize_html", lambda m: calls.append(m) or m)
    monkeypatch.setattr(ingest_module, "html_to_text", lambda m: calls.append(m) or m)
    assert _ingest(str(feed)).outcomes[0].status == "unchanged"
    assert calls == []
    # One changed item: only it (and nothing else) is derived again.
    first_item = ITEM.search(bc_sample).group(0)
    old_title = re.search(rb"<title>(.*?)</title>", first_item, re.S).group(1)
    feed.write_bytes(bc_sample.replace(old_title, b"A corrected title", 1))
    outcome = _ingest(str(feed)).outcomes[0]
    assert outcome.episodes_updated == 1 and 0 < len(calls) <= 2


def test_records_stored_with_the_old_hash_are_rehashed_not_reported_changed(
    tmp_path: Path, bc_sample: bytes
):
    """Before, a record's hash was of its stored (sanitised) form; a re-ingest after the
    upgrade rewrites only the hash, once, and says unchanged as it did before."""
    from podsight.sources.store import content_hash

    feed = tmp_path / "bc.xml"
    feed.write_bytes(bc_sample)
    _ingest(str(feed))
    for model in (SourceChannel, SourceEpisode):
        for record in model.objects.all():
            model.objects.filter(pk=record.pk).update(content_hash=content_hash(record.data))
    before = list(SourceEpisode.objects.values_list("id", "data", "fetched_at"))
    updated_at = list(Episode.objects.values_list("id", "updated_at"))
    outcome = _ingest(str(feed)).outcomes[0]
    assert outcome.status == "unchanged" and outcome.episodes_updated == 0
    assert list(SourceEpisode.objects.values_list("id", "data", "fetched_at")) == before
    assert list(Episode.objects.values_list("id", "updated_at")) == updated_at
    hashes = set(SourceEpisode.objects.values_list("content_hash", flat=True))
    assert _ingest(str(feed)).outcomes[0].status == "unchanged"
    assert set(SourceEpisode.objects.values_list("content_hash", flat=True)) == hashes
