"""The Listening page against the stub: live windows for staff, engagement and completion
for everyone (one's own for non-staff), the window, span and show pickers, empty lakes."""

from __future__ import annotations

import copy
import json

import pandas as pd
import pyarrow as pa
from dashboard_stub import StubClient

from podsight.dashboard.client import ApiCallError

# Answers in the shapes of events/queries.py live_stats and events/stats.py engagement,
# completion (a staff token; a user's own have "user" set), and GET /api/users/{id}/history.
LIVE = {
    "window": {"from": "2025-06-10T11:00:00+00:00", "to": "2025-06-10T12:00:00+00:00"},
    "events": 30,
    "active_users": 4,
    "per_minute": [
        {"minute": "2025-06-10T11:05:00+00:00", "events": 20, "users": 3},
        {"minute": "2025-06-10T11:50:00+00:00", "events": 10, "users": 2},
    ],
    "top_episodes": [
        {"episode": 7, "title": "Breathing, slowly", "plays": 5, "listeners": 3, "events": 18},
        {"episode": 9, "title": "", "plays": 2, "listeners": 2, "events": 12},
    ],
}
ENGAGEMENT = {
    "from": "2025-06-08",
    "to": "2025-06-10",
    "user": None,
    "days": [
        {"day": "2025-06-08", "listeners": 8, "plays": 38, "hours": 15.78, "finished": 13,
         "likes": 2, "skips": 3},
        {"day": "2025-06-09", "listeners": 0, "plays": 0, "hours": 0.0, "finished": 0,
         "likes": 0, "skips": 0},
        {"day": "2025-06-10", "listeners": 5, "plays": 17, "hours": 4.64, "finished": 4,
         "likes": 0, "skips": 4},
    ],
}  # fmt: skip
BINS = ["0–10%", "10–20%", "20–30%", "30–40%", "40–50%", "50–60%", "60–70%", "70–80%",
        "80–90%", "90–100%"]  # fmt: skip
COMPLETION = {
    "from": "2025-05-12",
    "to": "2025-06-10",
    "user": None,
    "bins": BINS,
    "shows": [
        {"show": 9, "title": "Notes on Mindfulness", "listeners": 16, "pairs": 47,
         "finished_share": 0.8298, "skipped_share": 0.1489,
         "completion": [4, 1, 1, 0, 0, 1, 0, 0, 1, 39],
         "skip_positions": [5, 1, 0, 0, 0, 1, 0, 0, 0, 0]},
        {"show": 3, "title": "Café com tecnologia", "listeners": 11, "pairs": 22,
         "finished_share": 0.6818, "skipped_share": 0.3182,
         "completion": [6, 1, 0, 0, 0, 0, 0, 0, 0, 15],
         "skip_positions": [0] * 10},
    ],
}  # fmt: skip
HISTORY = {
    "user_id": "ann",
    "events": [
        {"event_id": "e2", "type": "complete", "occurred_at": "2025-06-10T11:30:00+00:00",
         "episode_id": 7, "channel_id": 9, "position_s": 1800.0, "duration_s": 1800.0,
         "session_id": "s1", "episode_title": "Breathing, slowly"},
        {"event_id": "e1", "type": "play", "occurred_at": "2025-06-10T11:00:00+00:00",
         "episode_id": 7, "channel_id": 9, "position_s": 0.0, "duration_s": 1800.0,
         "session_id": "s1", "episode_title": "Breathing, slowly"},
    ],
    "next_before": None,
}  # fmt: skip


def _own(answer: dict, user: str) -> dict:
    out = copy.deepcopy(answer)
    out["user"] = user
    return out


def _staff_stub() -> StubClient:
    stub = StubClient(staff=True)
    stub.on("GET", "/api/stats/live", LIVE)
    stub.on("GET", "/api/stats/engagement", ENGAGEMENT)
    stub.on("GET", "/api/stats/completion", COMPLETION)
    return stub


def _charts(at) -> list:
    return at.get("vega_lite_chart")


def _chart_data(chart) -> pd.DataFrame:
    (dataset,) = chart.proto.datasets
    return pa.ipc.open_stream(dataset.data.data).read_pandas()


def _spec(chart) -> dict:
    return json.loads(chart.proto.spec)


def _metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_staff_see_live_engagement_and_completion(run_page):
    stub = _staff_stub()
    at = run_page("listening", stub)
    assert at.title[0].value == "Listening"
    assert [h.value for h in at.subheader] == [
        "Live",
        "Engagement per day",
        "Completion and skips per show",
    ]
    assert stub.called("GET", "/api/stats/live") == [({"window": "1h", "top": 10}, None)]
    assert stub.called("GET", "/api/stats/engagement") == [({"days": 30}, None)]
    assert stub.called("GET", "/api/stats/completion") == [({"days": 30}, None)]
    metrics = _metrics(at)
    assert (metrics["Events"], metrics["Active users"]) == ("30", "4")
    assert metrics["Events per minute (mean)"] == "0.5"  # 30 events over 61 minutes
    assert metrics["Finished (≥ 90 %)"] == "83%"
    charts = _charts(at)
    # events/minute, top episodes, engagement counts, hours, completion, skip positions
    assert len(charts) == 6
    per_minute = _chart_data(charts[0])
    assert len(per_minute) == 61 and per_minute["events per minute"].sum() == 30
    assert _spec(charts[0])["encoding"]["y"]["title"] == "Events per minute"
    top = _chart_data(charts[1])
    assert list(top["title"]) == ["Breathing, slowly", "episode 9"]
    assert _spec(charts[1])["encoding"]["x"]["title"] == "Plays (count)"
    counts = _chart_data(charts[2])
    assert set(counts["measure"]) == {"listeners", "plays", "finished", "skips"}
    assert _spec(charts[3])["encoding"]["y"]["title"] == "Hours listened"
    assert list(_chart_data(charts[4])["count"]) == COMPLETION["shows"][0]["completion"]
    assert _spec(charts[5])["encoding"]["x"]["title"] == "Position in the episode"
    assert list(at.dataframe[0].value["show"]) == ["Notes on Mindfulness", "Café com tecnologia"]
    assert not stub.unanswered


def test_picking_a_window_a_span_and_a_show(run_page):
    stub = _staff_stub()
    at = run_page("listening", stub)
    window, span = at.segmented_control
    assert (window.label, span.label) == ("Window", "Span")
    window.set_value("24 h").run()
    assert stub.called("GET", "/api/stats/live")[-1] == ({"window": "24h", "top": 10}, None)
    at.segmented_control[1].set_value("7 days").run()
    assert stub.called("GET", "/api/stats/engagement")[-1] == ({"days": 7}, None)
    assert stub.called("GET", "/api/stats/completion")[-1] == ({"days": 7}, None)
    at.selectbox[0].select("Café com tecnologia (11 listeners)").run()
    assert not at.exception
    assert _metrics(at)["Finished (≥ 90 %)"] == "68%"
    assert list(_chart_data(_charts(at)[4])["count"]) == COMPLETION["shows"][1]["completion"]
    assert any("No skips with a known position." in c.value for c in at.caption)


def test_others_see_their_own_listening(run_page):
    ann = StubClient(staff=False, username="ann")
    ann.on("GET", "/api/stats/engagement", _own(ENGAGEMENT, "ann"))
    ann.on("GET", "/api/stats/completion", _own(COMPLETION, "ann"))
    ann.on("GET", "/api/users/ann/history", HISTORY)
    at = run_page("listening", ann)
    assert not ann.called("GET", "/api/stats/live")
    assert "Your own listening (ann)" in at.caption[0].value
    assert [h.value for h in at.subheader] == [
        "Engagement per day",
        "Completion and skips per show",
        "Your latest events",
    ]
    assert ann.called("GET", "/api/users/ann/history") == [({"limit": 20}, None)]
    # The staff-only "Listener" box is not offered, and no user= is sent.
    assert not [t for t in at.text_input if t.key == "listening-user"]
    assert ann.called("GET", "/api/stats/engagement") == [({"days": 30}, None)]
    assert ann.called("GET", "/api/stats/completion") == [({"days": 30}, None)]
    history = at.dataframe[1].value
    assert list(history["type"]) == ["complete", "play"]
    assert not ann.unanswered


def test_an_empty_lake_says_what_to_run(run_page):
    stub = StubClient(staff=True)
    empty_live = {**LIVE, "events": 0, "active_users": 0, "per_minute": [], "top_episodes": []}
    quiet = copy.deepcopy(ENGAGEMENT)
    for day in quiet["days"]:
        day.update(listeners=0, plays=0, hours=0.0, finished=0, likes=0, skips=0)
    stub.on("GET", "/api/stats/live", empty_live)
    stub.on("GET", "/api/stats/engagement", quiet)
    stub.on("GET", "/api/stats/completion", {**COMPLETION, "shows": []})
    at = run_page("listening", stub)
    infos = [i.value for i in at.info]
    assert len(infos) == 3 and all("podsight events consume" in i for i in infos)
    assert "No listening events in the last 1 h." in infos[0]
    assert not _charts(at) and not at.selectbox


def test_api_errors_are_shown_not_raised(run_page):
    stub = _staff_stub()
    stub.on("GET", "/api/stats/live", ApiCallError(503, "database_busy", "Retry later."))
    at = run_page("listening", stub)
    assert "Retry later." in at.error[0].value
    assert "Engagement per day" in [h.value for h in at.subheader]  # the rest still shows


def test_a_listener_without_listening_is_told_so_not_sent_to_the_cli(run_page):
    ann = StubClient(staff=False, username="ann")
    quiet = _own(ENGAGEMENT, "ann")
    for day in quiet["days"]:
        day.update(listeners=0, plays=0, hours=0.0, finished=0, likes=0, skips=0)
    ann.on("GET", "/api/stats/engagement", quiet)
    ann.on("GET", "/api/stats/completion", {**_own(COMPLETION, "ann"), "shows": []})
    ann.on("GET", "/api/users/ann/history", {"user_id": "ann", "events": [], "next_before": None})
    at = run_page("listening", ann)
    infos = [i.value for i in at.info]
    assert len(infos) == 2 and all(i.startswith("No listening of yours") for i in infos)
    assert not any("podsight events consume" in i for i in infos)
    assert any(c.value == "No listening of yours yet." for c in at.caption)


def test_staff_narrow_engagement_and_completion_to_one_listener(run_page):
    stub = _staff_stub()
    at = run_page("listening", stub)
    at.text_input(key="listening-user").input("sim42-00007").run()
    wanted = ({"days": 30, "user": "sim42-00007"}, None)
    assert stub.called("GET", "/api/stats/engagement")[-1] == wanted
    assert stub.called("GET", "/api/stats/completion")[-1] == wanted
    assert stub.called("GET", "/api/stats/live")[-1] == ({"window": "1h", "top": 10}, None)
    assert any("are sim42-00007's alone" in c.value for c in at.caption)
    at.text_input(key="listening-user").input("  ").run()
    assert stub.called("GET", "/api/stats/engagement")[-1] == ({"days": 30}, None)
