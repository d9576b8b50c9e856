"""Listening: for staff, live windows over every listener (``GET /api/stats/live``: events
per minute, top episodes, active users); for everyone, engagement per day
(``GET /api/stats/engagement``) and per show how far listeners got and where they skipped
(``GET /api/stats/completion``) — everyone's for staff, one's own for other users, who
also see their latest events (``GET /api/users/{me}/history``)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pandas as pd
import streamlit as st

from podsight.dashboard import charts, ui
from podsight.dashboard.client import ApiCallError, ApiClient
from podsight.dashboard.fetch import get_all

__all__ = ["DAYS", "WINDOWS", "render"]

WINDOWS = {"15 min": "15m", "1 h": "1h", "24 h": "24h"}
DAYS = {"7 days": 7, "30 days": 30, "90 days": 90}
TOP = 10
HISTORY_SHOWN = 20
HOW_TO_LISTEN = (
    "Send events with `podsight simulate listeners` (or a player, through "
    "`POST /api/events`) and move them into the lake with `podsight events consume`."
)
EMPTY_LAKE = "No listening in the lake for this span. " + HOW_TO_LISTEN
NONE_OF_YOURS = (
    "No listening of yours in this span yet: what you play in a podcast app synced with "
    "podsight (gPodder sync) or in a player sending events appears here."
)


def _empty(body: dict) -> str:
    """What to say when a span has no listening: one's own, or the whole lake's."""
    return NONE_OF_YOURS if body.get("user") else EMPTY_LAKE


def _answer(answer: Any) -> Any:
    """The answer, or None after showing its error where the data would be."""
    if isinstance(answer, ApiCallError):
        ui.show_error(answer)
        return None
    return answer


def _live(live: Any, choice: str) -> None:
    st.subheader("Live")
    live = _answer(live)
    if live is None:
        return
    frame = charts.per_minute(live)
    minutes = max(len(frame), 1)
    a, b, c = st.columns(3)
    a.metric("Events", f"{live['events']:,}")
    b.metric("Active users", f"{live['active_users']:,}")
    c.metric("Events per minute (mean)", f"{live['events'] / minutes:.1f}")
    if not live["events"]:
        st.info(f"No listening events in the last {choice}. {HOW_TO_LISTEN}")
        return
    charts.minute_line(frame)
    top = pd.DataFrame(live["top_episodes"], columns=["episode", "title", "plays", "listeners",
                                                      "events"])  # fmt: skip
    if top.empty:
        return
    st.caption(f"Top episodes in the last {choice}")
    top["title"] = top["title"].where(top["title"] != "", "episode " + top["episode"].astype(str))
    charts.top_bars(top, "title", "plays", "Plays (count)", "Episode")


def _engagement(body: Any) -> None:
    st.subheader("Engagement per day")
    body = _answer(body)
    if body is None:
        return
    frame = pd.DataFrame(body["days"])
    if frame.empty or not (frame["plays"].sum() or frame["hours"].sum()):
        st.info(_empty(body))
        return
    frame["day"] = pd.to_datetime(frame["day"], utc=True)
    counts = frame.melt(
        id_vars="day", value_vars=["listeners", "plays", "finished", "skips"],
        var_name="measure", value_name="count",
    )  # fmt: skip
    left, right = st.columns(2)
    with left:
        charts.day_lines(counts, "count", "Per day (count)", color="measure")
    with right:
        charts.day_lines(frame, "hours", "Hours listened")


def _completion(body: Any) -> None:
    st.subheader("Completion and skips per show")
    body = _answer(body)
    if body is None:
        return
    shows = body["shows"]
    if not shows:
        st.info(_empty(body))
        return
    names = {f"{s['title'] or 'show ' + str(s['show'])} ({s['listeners']:,} listeners)": s
             for s in shows}  # fmt: skip
    picked = names[st.selectbox("Show", list(names), key="listening-show")]
    a, b, c = st.columns(3)
    a.metric("Listener × episode pairs", f"{picked['pairs']:,}")
    b.metric("Finished (≥ 90 %)", f"{picked['finished_share']:.0%}")
    c.metric("Skipped", f"{picked['skipped_share']:.0%}")
    left, right = st.columns(2)
    with left:
        st.caption("How far listeners got (best position per listener and episode)")
        charts.histogram(body["bins"], picked["completion"], "Part of the episode reached",
                         "Pairs (count)")  # fmt: skip
    with right:
        st.caption("Where in the episode listeners skipped")
        if sum(picked["skip_positions"]):
            charts.histogram(body["bins"], picked["skip_positions"], "Position in the episode",
                             "Skips (count)")  # fmt: skip
        else:
            st.caption("No skips with a known position.")
    table = pd.DataFrame(
        [
            {"show": s["title"], "listeners": s["listeners"], "pairs": s["pairs"],
             "finished": f"{s['finished_share']:.0%}", "skipped": f"{s['skipped_share']:.0%}"}
            for s in shows
        ]
    )  # fmt: skip
    st.dataframe(table, hide_index=True, width="stretch")


def _history(body: Any) -> None:
    st.subheader("Your latest events")
    body = _answer(body)
    if body is None:
        return
    if not body["events"]:
        st.caption("No listening of yours yet.")
        return
    st.dataframe(
        pd.DataFrame(
            [
                {"when": e["occurred_at"], "type": e["type"],
                 "episode": e.get("episode_title") or e.get("enclosure_url", ""),
                 "position (s)": e.get("position_s")}
                for e in body["events"]
            ]
        ),
        hide_index=True,
        width="stretch",
    )  # fmt: skip


def render(client: ApiClient) -> None:
    st.title("Listening")
    if not client.staff:
        st.caption(
            f"Your own listening ({client.username}). Live windows over every listener "
            "are for staff."
        )
    left, right, third = st.columns(3)
    choice = "1 h"
    listener = None
    if client.staff:
        with left:
            choice = (
                st.segmented_control(
                    "Window", list(WINDOWS), default=choice, key="listening-window"
                )
                or choice
            )
    with right if client.staff else left:
        span = (
            st.segmented_control("Span", list(DAYS), default="30 days", key="listening-days")
            or "30 days"
        )
    if client.staff:  # others see only their own: the API would refuse anyone else's
        with third:
            listener = st.text_input(
                "Listener", placeholder="everyone", key="listening-user",
                help="A listener's user id (e.g. a username) for their engagement and "
                "completion alone; the live window is always everyone's.",
            ).strip() or None  # fmt: skip
    days = DAYS[span]
    # The client leaves out user=None: a non-staff caller's answers are their own.
    narrowed = {"days": days, "user": listener if client.staff else None}
    calls = {
        "engagement": ("/api/stats/engagement", narrowed),
        "completion": ("/api/stats/completion", narrowed),
    }
    if client.staff:
        calls["live"] = ("/api/stats/live", {"window": WINDOWS[choice], "top": TOP})
    elif client.username:
        me = quote(client.username, safe="")
        calls["history"] = (f"/api/users/{me}/history", {"limit": HISTORY_SHOWN})
    answers = get_all(client, calls)  # at once: the page waits for the slowest only
    if "live" in answers:
        _live(answers["live"], choice)
    if listener:
        st.caption(f"Engagement and completion below are {listener}'s alone.")
    _engagement(answers["engagement"])
    _completion(answers["completion"])
    if "history" in answers:
        _history(answers["history"])
