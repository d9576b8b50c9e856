"""The Catalog page against a stub of the API.

The stub's answers are real ones: ``catalog_answers.json`` was copied from the API serving
the demo catalog (``podsight demo load``), one answer per endpoint the page calls."""

from __future__ import annotations

import copy
import json
from datetime import date
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from dashboard_stub import StubClient
from streamlit.testing.v1 import AppTest

from podsight.dashboard.client import ApiCallError
from podsight.dashboard.views.catalog import SECTION_KEY, feed_url

ANSWERS = json.loads((Path(__file__).with_name("catalog_answers.json")).read_text())
CHANNELS = ANSWERS["GET /api/channels?page_size=3"]
CHANNEL = ANSWERS["GET /api/channels/1"]
METRICS = ANSWERS["GET /api/channels/1/metrics"]
CHANNEL_EPISODES = ANSWERS["GET /api/channels/1/episodes?page_size=3"]
EPISODES = ANSWERS["GET /api/episodes?q=burnout&page_size=3"]
SEARCH = ANSWERS["GET /api/search?q=sleep&limit=2"]
FEED = "https://demo.podsight.invalid/feeds/all-about-burnout.xml"
# What POST /api/jobs answers (podsight.jobs.api.JobSerializer).
JOB = {
    "id": 7, "step": "ingest.rss", "params": {"locations": [FEED]}, "status": "queued",
    "progress": {"label": "", "item": "", "done": 0, "total": None}, "notes": [],
    "summary": "", "report": None, "error": "", "created_by": "ops",
    "created_at": "2026-12-06T14:00:00Z", "started_at": None, "finished_at": None,
}  # fmt: skip


def catalog_stub(staff: bool = True) -> StubClient:
    stub = StubClient(staff=staff, username="ops" if staff else "ann")
    stub.on("GET", "/api/channels", CHANNELS)
    stub.on("GET", r"/api/channels/\d+", CHANNEL)
    stub.on("GET", r"/api/channels/\d+/metrics", METRICS)
    stub.on("GET", r"/api/channels/\d+/episodes", CHANNEL_EPISODES)
    stub.on("GET", "/api/episodes", EPISODES)
    stub.on("GET", "/api/search", SEARCH)
    stub.on("POST", "/api/jobs", JOB)
    stub.on("GET", r"/api/jobs/\d+", {**JOB, "status": "running"})
    return stub


def _last(stub: StubClient, method: str, path: str) -> dict:
    calls = stub.called(method, path)
    assert calls, f"no {method} {path}; calls: {stub.calls}"
    return calls[-1][0]


def _frame(at, index: int = 0):
    return at.dataframe[index].value


def _charts(at) -> list[dict]:
    return [json.loads(c.proto.spec) for c in at.get("vega_lite_chart")]


def _chart_rows(at, index: int) -> list[dict]:
    """The data a chart draws (Arrow IPC in the element)."""
    import pyarrow as pa

    [dataset] = at.get("vega_lite_chart")[index].proto.datasets
    return pa.ipc.open_stream(dataset.data.data).read_all().to_pylist()


# --- search ---------------------------------------------------------------------------------


def test_renders_the_first_page_of_shows(run_page):
    stub = catalog_stub()
    at = run_page("catalog", stub)
    assert at.title[0].value == "Catalog"
    assert _last(stub, "GET", "/api/channels") == {"page_size": 25}
    table = _frame(at)
    assert list(table["title"]) == [c["title"] for c in CHANNELS["results"]]
    assert table["sources"][0] == "apple, podcastindex, rss, spotify, youtube"
    assert at.caption[0].value == "3 shows on this page; more on the next page"
    assert at.selectbox(key="catalog:shows:pick").options == [
        f"{c['title']} (#{c['id']})" for c in CHANNELS["results"]
    ]
    assert not at.error and not stub.unanswered


def test_show_filters_go_to_the_api(run_page):
    stub = catalog_stub()
    at = run_page("catalog", stub)
    at.text_input(key="catalog:q").input("burnout")
    at.selectbox(key="catalog:shows:source").select("youtube")
    at.text_input(key="catalog:shows:language").input("en")
    at.text_input(key="catalog:shows:category").input("Mental Health")
    at.selectbox(key="catalog:shows:explicit").select("no")
    at.run()
    assert _last(stub, "GET", "/api/channels") == {
        "q": "burnout", "source": "youtube", "language": "en", "category": "Mental Health",
        "explicit": "false", "page_size": 25,
    }  # fmt: skip


def test_next_page_sends_the_cursor_and_a_new_query_starts_over(run_page):
    stub = catalog_stub()
    at = run_page("catalog", stub)
    expected = parse_qs(urlsplit(CHANNELS["next"]).query)["cursor"][0]
    at.button(key="shows:next").click().run()
    assert _last(stub, "GET", "/api/channels")["cursor"] == expected
    at.text_input(key="catalog:q").input("taktik").run()
    assert "cursor" not in _last(stub, "GET", "/api/channels")


def test_episode_search_with_filters(run_page):
    stub = catalog_stub()
    at = run_page("catalog", stub)
    at.radio(key="catalog:mode").set_value("Episodes").run()
    at.text_input(key="catalog:q").input("burnout")
    at.selectbox(key="catalog:episodes:source").select("spotify")
    at.selectbox(key="catalog:episodes:tr").select("yes")
    at.date_input(key="catalog:episodes:after").set_value(date(2025, 1, 1))
    at.run()
    assert _last(stub, "GET", "/api/episodes") == {
        "q": "burnout", "source": "spotify", "has_transcript": "true",
        "published_after": "2025-01-01T00:00:00Z", "page_size": 25,
    }  # fmt: skip
    table = _frame(at)
    assert list(table["title"]) == [e["title"] for e in EPISODES["results"]]
    assert list(table["transcript"]) == [e["transcript_status"] for e in EPISODES["results"]]
    assert list(table["show"]) == ["All About Burnout"] * 3
    assert at.caption[0].value == "3 episodes on this page; more on the next page"
    # Episodes of one show: one entry to open it.
    assert at.selectbox(key="catalog:episodes:pick").options == ["All About Burnout (#1)"]


def test_semantic_search_asks_for_words_then_searches(run_page):
    stub = catalog_stub()
    at = run_page("catalog", stub)
    at.radio(key="catalog:mode").set_value("What is said").run()
    assert not stub.called("GET", "/api/search")
    assert "Type what was said" in at.caption[0].value
    at.text_input(key="catalog:q").input("sleep")
    at.text_input(key="catalog:said:language").input("en")
    at.run()
    assert _last(stub, "GET", "/api/search") == {"q": "sleep", "language": "en", "limit": 10}
    table = _frame(at)
    assert list(table["episode"]) == [r["title"] for r in SEARCH["results"]]
    assert table["listen"][0] == SEARCH["results"][0]["passages"][0]["link"]
    assert "1,966 passages" in at.caption[0].value


def test_search_errors_are_messages(run_page):
    stub = catalog_stub()
    stub.on("GET", "/api/search", ApiCallError(503, "unavailable", "The index is being built."))
    at = run_page("catalog", stub)
    at.radio(key="catalog:mode").set_value("What is said").run()
    at.text_input(key="catalog:q").input("sleep").run()
    assert not at.exception
    assert "The index is being built." in at.error[0].value


def test_empty_catalog_and_no_match(run_page):
    stub = catalog_stub()
    stub.on("GET", "/api/channels", {"results": [], "next": None, "page_size": 25})
    at = run_page("catalog", stub)
    assert "The catalog is empty" in at.info[0].value
    at.text_input(key="catalog:q").input("nothing like it").run()
    assert at.info[0].value == "No show matches these filters."
    assert not at.dataframe


def test_opening_a_show_puts_it_in_the_url(run_page):
    stub = catalog_stub()
    at = run_page("catalog", stub)
    at.button(key="catalog:shows:pick:open").click().run()
    assert at.query_params["channel"] == "1"
    assert at.title[0].value == "All About Burnout"


# --- one show -------------------------------------------------------------------------------


def _page_script() -> None:
    import streamlit as st

    from podsight.dashboard.views import page

    page("catalog").module.render(st.session_state["podsight_client"])


@pytest.fixture
def open_show():
    """``open_show(stub, section=None, channel="1")``: the page opened at ``?channel=``
    (``run_page`` runs before a test could set the URL)."""

    def run(stub: StubClient, section: str | None = None, channel: str = "1") -> AppTest:
        at = AppTest.from_function(_page_script, default_timeout=10)
        at.session_state["podsight_client"] = stub
        at.query_params["channel"] = channel
        if section:
            at.session_state[SECTION_KEY] = section
        at.run()
        assert not at.exception, [e.value for e in at.exception]
        return at

    return run


def test_show_page_loads_with_one_call_and_lists_its_source_records(open_show):
    stub = catalog_stub()
    at = open_show(stub)
    assert at.title[0].value == "All About Burnout"
    assert [c[1] for c in stub.calls] == ["/api/channels/1"]  # the other tabs load when opened
    records = _frame(at)
    assert list(records["source"]) == ["rss", "podcastindex", "apple", "spotify", "youtube"]
    assert list(records["method"]) == ["key", "key", "key", "fuzzy", "fuzzy"]
    assert records["confidence"][3] == CHANNEL["sources"][3]["confidence"]
    assert records["explanation"][1].startswith("shares podcast:guid")
    assert records["latest metrics"][4] == "subscribers 952,000, videos 7, views 577,010"
    # The whole explanation, readable (its "~" is not taken for a strike-through).
    spotify = next(m.value for m in at.markdown if m.value.startswith("- **spotify**"))
    assert spotify.endswith(CHANNEL["sources"][3]["explanation"].replace("~", "\\~"))


def test_field_sources_say_which_record_each_field_came_from(open_show):
    stub = catalog_stub()
    at = open_show(stub, section="Field sources")
    table = _frame(at).set_index("field")
    assert set(table.index) == set(CHANNEL["field_sources"])
    assert table.loc["title", "source"] == "rss"
    assert table.loc["title", "record"] == "file:fcfb7144f5cf7cfe"
    assert table.loc["title", "value"] == "All About Burnout"
    assert table.loc["categories", "value"].startswith("Health & Fitness > Mental Health")


def test_metrics_are_line_charts_with_titled_axes(open_show):
    stub = catalog_stub()
    at = open_show(stub, section="Metrics")
    assert stub.called("GET", "/api/channels/1/metrics")
    # The episodes' totals, then the show's own records: one chart each, a panel per metric.
    totals, own = _charts(at)
    for chart, x_title in ((totals, "Day (UTC)"), (own, "Observed at (UTC)")):
        encoding = chart["spec"]["encoding"]
        assert (encoding["x"]["title"], encoding["y"]["title"]) == (x_title, "count")
        assert encoding["color"]["field"] == "source"
        assert chart["facet"]["field"] == "metric"
        # Dates on the time axis, not Vega's sub-second ticks; panels that fit the page.
        assert encoding["x"]["axis"]["format"].startswith("%Y-%m-%d")
        assert chart["columns"] == 3 and chart["spec"]["width"] <= 200
    panels = {
        name: sorted({row["metric"] for row in _chart_rows(at, i)})
        for i, name in enumerate(("totals", "own"))
    }
    assert panels == {
        "totals": ["comments", "likes", "views"],
        "own": ["episode_count", "subscribers", "total_episodes", "track_count", "videos", "views"],
    }
    assert "One snapshot per series so far" in at.caption[-1].value


def test_no_metrics_says_how_to_get_them(open_show):
    stub = catalog_stub()
    stub.on("GET", r"/api/channels/\d+/metrics", {"channel": 1, "series": [], "episodes": []})
    at = open_show(stub, section="Metrics")
    assert "No metrics recorded for this show yet" in at.info[0].value
    assert not _charts(at)


def test_episodes_with_transcript_status_and_paging(open_show):
    stub = catalog_stub()
    at = open_show(stub, section="Episodes")
    assert _last(stub, "GET", "/api/channels/1/episodes") == {"page_size": 50}
    table = _frame(at)
    assert list(table["title"]) == [e["title"] for e in CHANNEL_EPISODES["results"]]
    assert list(table["transcript"]) == ["none", "none", "ok"]
    assert "11 episodes" in at.caption[-1].value and "1 ok" in at.caption[-1].value
    at.button(key="catalog:channel:next").click().run()
    cursor = parse_qs(urlsplit(CHANNEL_EPISODES["next"]).query)["cursor"][0]
    assert _last(stub, "GET", "/api/channels/1/episodes") == {"page_size": 50, "cursor": cursor}


def test_unknown_or_bad_show_ids(open_show):
    stub = catalog_stub()
    stub.on("GET", r"/api/channels/\d+", ApiCallError(404, "not_found", "No channel with id 9."))
    at = open_show(stub, channel="9")
    assert "No channel with id 9." in at.error[0].value
    bad = open_show(catalog_stub(), channel="abc")
    assert "is not a channel id" in bad.error[0].value
    assert not [c for c in bad.session_state[
        "podsight_client"].calls if c[1].startswith("/api/channels")]  # fmt: skip


def test_back_to_search_leaves_the_show(open_show):
    stub = catalog_stub()
    at = open_show(stub)
    at.button(key="catalog:back").click().run()
    assert "channel" not in at.query_params
    assert at.title[0].value == "Catalog"


def test_staff_sync_the_show_through_a_job(open_show):
    stub = catalog_stub()
    at = open_show(stub)
    at.button(key="job-button:catalog-sync-1").click().run()
    assert stub.called("POST", "/api/jobs") == [
        ({}, {"step": "ingest.rss", "params": {"locations": [FEED]}})
    ]
    assert stub.called("GET", "/api/jobs/7")  # followed while it runs


def test_listeners_get_no_sync_button(open_show):
    at = open_show(catalog_stub(staff=False))
    assert not [b for b in at.button if b.label == "Sync this show"]
    assert at.title[0].value == "All About Burnout"


def test_feed_url_falls_back_to_a_directory_record():
    detail = copy.deepcopy(CHANNEL)
    assert feed_url(detail) == FEED
    detail["sources"] = [s for s in detail["sources"] if s["source"] != "rss"]
    assert feed_url(detail) == FEED  # Podcast Index and Apple name the feed too
    detail["sources"] = [s for s in detail["sources"] if s["source"] in ("spotify", "youtube")]
    assert feed_url(detail) is None


def test_a_show_without_a_feed_cannot_be_synced(open_show):
    stub = catalog_stub()
    detail = copy.deepcopy(CHANNEL)
    detail["sources"] = [s for s in detail["sources"] if s["source"] in ("spotify", "youtube")]
    stub.on("GET", r"/api/channels/\d+", detail)
    at = open_show(stub)
    assert at.button(key="job-button:catalog-sync-1").disabled
