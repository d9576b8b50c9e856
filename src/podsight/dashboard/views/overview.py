"""Overview: the catalog per source and how well it is linked, the serving model, and for
staff the review queue, each source's last sync and error, the YouTube quota, listening
in the last hour and the recent jobs.

One call (``GET /api/stats/overview``), plus ``GET /api/jobs`` for staff.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import altair as alt
import pandas as pd
import streamlit as st

from podsight.dashboard import charts, ui
from podsight.dashboard.client import ApiCallError, ApiClient
from podsight.dashboard.fetch import get_all

__all__ = ["render"]

LINKED = "linked to another source"
ALONE = "on this source only"
JOBS_SHOWN = 5


def _share(linked: int, total: int) -> str:
    return f"{linked / total:.0%}" if total else "—"


def _when(value: str | None) -> str:
    if not value:
        return "never"
    return datetime.fromisoformat(value).strftime("%Y-%m-%d %H:%M UTC")


def _records_frame(sources: list[dict[str, Any]], kind: str) -> pd.DataFrame:
    rows = []
    for s in sources:
        total, linked = s[kind], s[f"{kind}_linked"]
        if total:
            rows.append({"source": s["label"], "records": linked, "link": LINKED, "link_order": 0})
            rows.append(
                {"source": s["label"], "records": total - linked, "link": ALONE, "link_order": 1}
            )
    return pd.DataFrame(rows, columns=["source", "records", "link", "link_order"])


def _records_chart(frame: pd.DataFrame, order: list[str], y_title: str) -> None:
    if frame.empty:
        st.caption("No records yet.")
        return
    chart = (
        alt.Chart(frame)
        .mark_bar()
        .encode(
            x=alt.X("source:N", title="Source", sort=order, axis=alt.Axis(labelAngle=-30)),
            y=alt.Y("records:Q", title=y_title, stack="zero"),
            color=alt.Color("link:N", title=None, scale=alt.Scale(domain=[LINKED, ALONE]),
                            legend=alt.Legend(orient="top")),
            order=alt.Order("link_order:Q"),
            tooltip=["source", "link", "records"],
        )
        .properties(height=320)
    )  # fmt: skip
    st.altair_chart(chart, width="stretch")


def _tiles(data: dict[str, Any]) -> None:
    by = {s["source"]: s for s in data["sources"]}
    model = data.get("model")
    tiles: list[tuple[str, str, str]] = [
        ("Channels", f"{data['catalog']['channels']:,}", "canonical shows"),
        ("Episodes", f"{data['catalog']['episodes']:,}", "canonical episodes"),
    ]
    for source in ("spotify", "youtube"):
        s = by.get(source) or {"label": source, "channels": 0, "channels_linked": 0,
                               "episodes": 0, "episodes_linked": 0}  # fmt: skip
        tiles.append(
            (
                f"{s['label']} episodes linked",
                _share(s["episodes_linked"], s["episodes"]),
                f"{s['episodes_linked']:,} of {s['episodes']:,}; channels "
                f"{_share(s['channels_linked'], s['channels'])}",
            )
        )
    if data.get("review") is not None:
        review = data["review"]
        tiles.append(
            (
                "Links needing review",
                f"{review['channels'] + review['episodes']:,}",
                f"{review['channels']:,} channels, {review['episodes']:,} episodes",
            )
        )
    quota = data.get("youtube_quota")
    if quota is not None:
        if quota.get("error"):
            tiles.append(("YouTube quota used today", "?", quota["error"]))
        else:
            tiles.append(
                (
                    "YouTube quota used today",
                    f"{quota['used']:,} units",
                    f"of {quota['budget']:,}; resets {_when(quota['resets_at'])}"
                    + (" (exhausted)" if quota.get("exhausted") else ""),
                )
            )
    if data.get("listening") is not None:
        live = data["listening"]
        tiles.append(
            (
                "Events in the last hour",
                f"{live['events']:,}",
                f"{live['active_users']:,} active listeners",
            )  # fmt: skip
        )
    if model:
        ndcg = model.get("ndcg_at_10")
        tiles.append(
            (
                "Serving model NDCG@10",
                f"{ndcg:.3f}" if isinstance(ndcg, int | float) else "—",
                f"version {model['version']}",
            )
        )
    else:
        tiles.append(("Serving model", "none", "train one: `podsight recs train`"))
    per_row = 4
    for start in range(0, len(tiles), per_row):
        for column, (label, value, help_) in zip(
            st.columns(per_row), tiles[start : start + per_row], strict=False
        ):
            column.metric(label, value)
            if help_:
                column.caption(help_)


def _sources(data: dict[str, Any]) -> None:
    st.subheader("Records by source")
    if not any(s["channels"] or s["episodes"] for s in data["sources"]):
        st.info(
            "The catalog is empty. Load the demo with `podsight demo load`, or add shows "
            "with `podsight ingest FEED…` and `podsight sync`."
        )
        return
    order = [s["label"] for s in data["sources"]]  # survivorship order, as the API lists
    left, right = st.columns(2)
    with left:
        st.caption("Channel records")
        _records_chart(_records_frame(data["sources"], "channels"), order, "Channels (count)")
    with right:
        st.caption("Episode records")
        _records_chart(_records_frame(data["sources"], "episodes"), order, "Episodes (count)")


def _listening(live: dict[str, Any]) -> None:
    st.subheader("Listening in the last hour")
    if not live["events"]:
        st.info(
            "No listening events in the last hour. Send some with `podsight simulate "
            "listeners` and move them into the lake with `podsight events consume`."
        )
        return
    charts.minute_line(charts.per_minute(live))


def _sync(sync: list[dict[str, Any]]) -> None:
    st.subheader("Sources: last sync and last error")
    rows = [
        {
            "source": s["source"],
            "last sync": _when(s["last_sync_at"]),
            "status": s["status"] or "never synced",
            "note": s["message"],
            "last error": s["last_error"] or "—",
            "error at": _when(s["last_error_at"]) if s["last_error_at"] else "—",
        }
        for s in sync
    ]
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")


def _jobs(answer: Any) -> None:
    if isinstance(answer, ApiCallError):
        if answer.status == 404:  # a server without jobs: nothing to list
            return
        st.subheader("Recent jobs")
        ui.show_error(answer)
        return
    st.subheader("Recent jobs")
    jobs = (answer or {}).get("results") or []
    if not jobs:
        st.caption("No jobs yet: long actions started from the pages appear here.")
        return
    rows = []
    for job in jobs[:JOBS_SHOWN]:
        progress = job.get("progress") or {}
        done, total = progress.get("done"), progress.get("total")
        rows.append(
            {
                "step": job.get("step"),
                "status": job.get("status"),
                "progress": f"{progress.get('label') or ''} {done or 0:,}/{total:,}".strip()
                if total
                else (progress.get("label") or ""),
                "created": _when(job.get("created_at")),
                "finished": _when(job.get("finished_at")) if job.get("finished_at") else "—",
                "result": job.get("error") or job.get("summary") or "",
            }
        )
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")


def render(client: ApiClient) -> None:
    st.title("Overview")
    calls = {"overview": ("/api/stats/overview", {})}
    if client.staff:
        calls["jobs"] = ("/api/jobs", {"page_size": JOBS_SHOWN})
    answers = get_all(client, calls)  # at once: the page waits for the slowest only
    data = answers["overview"]
    if isinstance(data, ApiCallError):
        ui.show_error(data)
        return
    missing = [k for k in ("as_of", "catalog", "sources", "model") if k not in data]
    if missing:  # a server older than this dashboard
        st.error(
            f"The API's answer to /api/stats/overview lacks {', '.join(missing)}: the "
            "server is older than this dashboard; upgrade podsight there."
        )
        return
    st.caption(f"As of {_when(data['as_of'])}")
    _tiles(data)
    _sources(data)
    if data.get("listening") is not None:
        _listening(data["listening"])
    if data.get("sync") is not None:
        _sync(data["sync"])
    if "jobs" in answers:
        _jobs(answers["jobs"])
    if data.get("review") is None:
        st.caption(
            "Sync state, the review queue, the YouTube quota and live listening are for "
            "staff; your own listening is on the Listening page."
        )
