"""The Overview page against the stub: tiles, charts, sync table, jobs, who sees what."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta

import pandas as pd
import pyarrow as pa
from dashboard_stub import StubClient

from podsight.dashboard.client import ApiCallError
from podsight.jobs.api import JobSerializer
from podsight.jobs.models import Job

# Answers in the shape of GET /api/stats/overview (events/stats.py overview) as a staff
# token gets it on a small catalog; others get null for review, sync, quota, listening.
OVERVIEW = {
    "as_of": "2025-06-10T12:00:00+00:00",
    "catalog": {"channels": 24, "episodes": 480},
    "sources": [
        {"source": "rss", "label": "RSS/Atom feed", "channels": 24, "channels_linked": 20,
         "episodes": 480, "episodes_linked": 300},
        {"source": "podcastindex", "label": "Podcast Index", "channels": 20,
         "channels_linked": 20, "episodes": 0, "episodes_linked": 0},
        {"source": "apple", "label": "Apple Podcasts", "channels": 0, "channels_linked": 0,
         "episodes": 0, "episodes_linked": 0},
        {"source": "spotify", "label": "Spotify", "channels": 18, "channels_linked": 15,
         "episodes": 200, "episodes_linked": 150},
        {"source": "youtube", "label": "YouTube", "channels": 16, "channels_linked": 12,
         "episodes": 160, "episodes_linked": 40},
    ],
    "model": {"version": "20250610-110000", "created_at": "2025-06-10T11:00:00+00:00",
              "promoted_at": "2025-06-10T11:05:00+00:00", "ndcg_at_10": 0.41234,
              "challenger": None},
    "review": {"channels": 2, "episodes": 7},
    "sync": [
        {"source": "rss", "last_sync_at": "2025-06-10T11:50:00+00:00", "status": "partial",
         "message": "24 feeds, 1 failing", "last_error": "https://x.example/feed: HTTP 500",
         "last_error_at": "2025-06-10T11:50:00+00:00"},
        {"source": "podcastindex", "last_sync_at": "2025-06-10T11:51:00+00:00",
         "status": "ok", "message": "20 shows synced, 0 failed", "last_error": "",
         "last_error_at": None},
        {"source": "apple", "last_sync_at": None, "status": None, "message": "",
         "last_error": "", "last_error_at": None},
        {"source": "spotify", "last_sync_at": "2025-06-10T11:52:00+00:00", "status": "ok",
         "message": "18 shows synced, 0 failed", "last_error": "", "last_error_at": None},
        {"source": "youtube", "last_sync_at": "2025-06-10T11:53:00+00:00",
         "status": "stopped", "message": "daily YouTube quota budget of 10000 units would "
         "be exceeded", "last_error": "Show: quota", "last_error_at":
         "2025-06-10T11:53:00+00:00"},
    ],
    "youtube_quota": {"used": 9_950, "budget": 10_000, "day": "2025-06-10",
                      "resets_at": "2025-06-11T07:00:00+00:00", "exhausted": False,
                      "error": ""},
    "listening": {
        "window": {"from": "2025-06-10T11:00:00+00:00", "to": "2025-06-10T12:00:00+00:00"},
        "events": 42,
        "active_users": 5,
        "per_minute": [
            {"minute": "2025-06-10T11:10:00+00:00", "events": 30, "users": 4},
            {"minute": "2025-06-10T11:40:00+00:00", "events": 12, "users": 2},
        ],
    },
}  # fmt: skip
# GET /api/jobs?page_size=5 (podsight.jobs.api): a page of jobs, newest first, each as
# the API's own serializer writes it.
CREATED = datetime(2025, 6, 10, 11, 59, tzinfo=UTC)
JOBS = {
    "results": [
        JobSerializer(Job(id=3, step="match", params={}, status="running", created_by="ops",
                          created_at=CREATED, started_at=CREATED, progress_label="episodes",
                          progress_done=40, progress_total=100)).data,
        JobSerializer(Job(id=2, step="recs.train", params={}, status="failed", created_by="ops",
                          created_at=CREATED - timedelta(hours=1),
                          finished_at=CREATED - timedelta(minutes=59),
                          error="no listening to train on")).data,
    ],
    "next": None,
    "page_size": 5,
}  # fmt: skip


def _for_others(answer: dict) -> dict:
    out = copy.deepcopy(answer)
    out.update(review=None, sync=None, youtube_quota=None, listening=None)
    return out


def _metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def _charts(at) -> list:
    return at.get("vega_lite_chart")


def _chart_data(chart) -> pd.DataFrame:
    """The rows a chart draws (Streamlit sends them as an Arrow stream)."""
    (dataset,) = chart.proto.datasets
    return pa.ipc.open_stream(dataset.data.data).read_pandas()


def test_staff_see_tiles_charts_sync_and_jobs(run_page, stub: StubClient):
    stub.on("GET", "/api/stats/overview", OVERVIEW).on("GET", "/api/jobs", JOBS)
    at = run_page("overview", stub)
    assert at.title[0].value == "Overview"
    metrics = _metrics(at)
    assert metrics["Channels"] == "24" and metrics["Episodes"] == "480"
    assert metrics["Spotify episodes linked"] == "75%"
    assert metrics["YouTube episodes linked"] == "25%"
    assert metrics["Links needing review"] == "9"
    assert metrics["YouTube quota used today"] == "9,950 units"
    assert metrics["Events in the last hour"] == "42"
    assert metrics["Serving model NDCG@10"] == "0.412"
    assert len(_charts(at)) == 3  # channel and episode records by source, events/minute
    headers = [h.value for h in at.subheader]
    assert headers == [
        "Records by source",
        "Listening in the last hour",
        "Sources: last sync and last error",
        "Recent jobs",
    ]
    sync, jobs = (d.value for d in at.dataframe)
    assert list(sync["source"]) == ["rss", "podcastindex", "apple", "spotify", "youtube"]
    assert sync.loc[2, "status"] == "never synced" and sync.loc[2, "last sync"] == "never"
    assert sync.loc[4, "last error"] == "Show: quota"
    assert list(jobs["step"]) == ["match", "recs.train"]
    assert jobs.loc[0, "progress"] == "episodes 40/100"
    assert jobs.loc[1, "result"] == "no listening to train on"
    assert stub.called("GET", "/api/jobs") == [({"page_size": 5}, None)]
    assert not stub.unanswered


def test_the_minutes_of_the_hour_are_all_on_the_line(run_page, stub: StubClient):
    stub.on("GET", "/api/stats/overview", OVERVIEW).on("GET", "/api/jobs", JOBS)
    at = run_page("overview", stub)
    line = _charts(at)[2]
    encoding = json.loads(line.proto.spec)["encoding"]
    assert encoding["x"]["title"] == "Time (UTC)" and encoding["x"]["type"] == "temporal"
    assert encoding["x"]["scale"] == {"type": "utc"}  # not the browser's zone
    assert encoding["y"]["title"] == "Events per minute"
    rows = _chart_data(line)
    # 61 minutes (11:00 … 12:00), the quiet ones as 0.
    assert len(rows) == 61 and rows["events per minute"].sum() == 42
    assert (rows["events per minute"] == 0).sum() == 59
    bars = _chart_data(_charts(at)[1])  # episode records: linked and alone per source
    spotify = bars[bars["source"] == "Spotify"].set_index("link")["records"]
    assert spotify.to_dict() == {"linked to another source": 150, "on this source only": 50}


def test_without_a_jobs_endpoint_the_jobs_list_is_left_out(run_page, stub: StubClient):
    stub.on("GET", "/api/stats/overview", OVERVIEW)
    stub.on("GET", "/api/jobs", ApiCallError(404, "not_found", "No such endpoint."))
    at = run_page("overview", stub)
    assert "Recent jobs" not in [h.value for h in at.subheader]
    assert not at.error


def test_others_see_the_catalog_and_a_sentence_for_the_rest(run_page):
    ann = StubClient(staff=False, username="ann")
    ann.on("GET", "/api/stats/overview", _for_others(OVERVIEW))
    at = run_page("overview", ann)
    metrics = _metrics(at)
    assert "Links needing review" not in metrics and "Channels" in metrics
    assert [h.value for h in at.subheader] == ["Records by source"]
    assert not ann.called("GET", "/api/jobs")
    assert any("are for staff" in c.value for c in at.caption)


def test_an_empty_home_says_what_to_run(run_page, stub: StubClient):
    empty = copy.deepcopy(OVERVIEW)
    empty["catalog"] = {"channels": 0, "episodes": 0}
    for s in empty["sources"]:
        s.update(channels=0, channels_linked=0, episodes=0, episodes_linked=0)
    empty["model"] = None
    empty["listening"].update(events=0, active_users=0, per_minute=[])
    stub.on("GET", "/api/stats/overview", empty).on(
        "GET", "/api/jobs", {"results": [], "next_cursor": None}
    )
    at = run_page("overview", stub)
    infos = " ".join(i.value for i in at.info)
    assert "podsight demo load" in infos and "podsight simulate listeners" in infos
    assert _metrics(at)["Serving model"] == "none"
    assert _metrics(at)["Spotify episodes linked"] == "—"
    assert not _charts(at)
    assert any("No jobs yet" in c.value for c in at.caption)


def test_an_api_error_is_shown_not_raised(run_page, stub: StubClient):
    stub.on("GET", "/api/stats/overview", ApiCallError(503, "database_busy", "Retry later."))
    at = run_page("overview", stub)
    assert "Retry later." in at.error[0].value
    assert not at.metric


def test_an_answer_of_another_shape_is_an_error_not_a_traceback(run_page, stub: StubClient):
    stub.on("GET", "/api/stats/overview", {})
    at = run_page("overview", stub)
    assert "lacks as_of, catalog, sources, model" in at.error[0].value


def test_a_jobs_error_shows_under_recent_jobs(run_page, stub: StubClient):
    stub.on("GET", "/api/stats/overview", OVERVIEW)
    stub.on("GET", "/api/jobs", ApiCallError(403, "missing_scope", "Needs the staff scope."))
    at = run_page("overview", stub)
    assert [h.value for h in at.subheader][-1] == "Recent jobs"
    assert "Needs the staff scope." in at.warning[0].value
    assert len(stub.called("GET", "/api/stats/overview")) == 1
