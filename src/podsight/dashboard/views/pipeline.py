"""Pipeline: the recent runs of the pipeline graph (``podsight pipeline run``, the
scheduler, Airflow tasks) and, for the run chosen, each node's status, attempts, time and
summary or error.

``GET /api/pipeline/runs`` and ``GET /api/pipeline/runs/{id}`` (staff).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pandas as pd
import streamlit as st

from podsight.dashboard import ui
from podsight.dashboard.client import ApiCallError, ApiClient

__all__ = ["render"]

RUNS_SHOWN = 20
_MARK = {"succeeded": "✅", "failed": "❌", "blocked": "⛔", "skipped": "⏭️",
         "interrupted": "⚠️", "running": "⏳", "pending": "…"}  # fmt: skip


def _when(value: str | None) -> str:
    if not value:
        return "—"
    return datetime.fromisoformat(value).strftime("%Y-%m-%d %H:%M:%S UTC")


def _seconds(value: float | None) -> str:
    return "—" if value is None else f"{value:,.1f} s"


def _status(status: str) -> str:
    return f"{_MARK.get(status, '')} {status}".strip()


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{n} {status}" for status, n in counts.items()) or "no nodes"


def _label(run: dict[str, Any]) -> str:
    return f"run {run['id']} · {run['status']} · {_when(run['started_at'])} · {run['trigger']}"


def _runs_table(runs: list[dict[str, Any]]) -> None:
    rows = [
        {
            "run": r["id"],
            "status": _status(r["status"]),
            "trigger": r["trigger"],
            "started": _when(r["started_at"]),
            "time": _seconds(r["seconds"]),
            "nodes": _counts(r.get("counts") or {}),
            "error": r["error"] or "",
        }
        for r in runs
    ]
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")


def _nodes(run: dict[str, Any]) -> None:
    selection = []
    if run["only"]:
        selection.append("only " + ", ".join(run["only"]))
    if run["start_from"]:
        selection.append(f"from {run['start_from']}")
    if run["engine"]:
        selection.append(f"engine {run['engine']}")
    took = _seconds(run["seconds"]) if run["finished_at"] else "still running"
    st.caption(
        f"Started {_when(run['started_at'])} by {run['trigger']}; "
        f"{'; '.join(selection) or 'cadences ' + ', '.join(run['cadences'])}; {took}."
    )
    if run["error"]:
        (st.warning if run["status"] == "interrupted" else st.error)(run["error"])
    steps = run.get("steps") or []
    if not steps:
        st.caption("This run selected no node.")
        return
    rows = [
        {
            "node": s["node"],
            "status": _status(s["status"]),
            "attempts": s["attempts"],
            "time": _seconds(s["seconds"]),
            "summary or error": s["summary"] if s["status"] == "succeeded" else s["error"],
        }
        for s in steps
    ]
    st.dataframe(
        pd.DataFrame(rows),
        hide_index=True,
        width="stretch",
        column_config={"summary or error": st.column_config.TextColumn(width="large")},
    )


def render(client: ApiClient) -> None:
    st.title("Pipeline")
    try:
        page = client.get("/api/pipeline/runs", page_size=RUNS_SHOWN)
    except ApiCallError as exc:
        ui.show_error(exc)
        return
    runs = page.get("results") or []
    if not runs:
        st.info(
            "No pipeline run yet. Run the graph with `podsight pipeline run` (or keep it "
            "running daily with `podsight pipeline schedule`); each run appears here."
        )
        return
    _runs_table(runs)
    st.subheader("Nodes of a run")
    by_id = {r["id"]: r for r in runs}
    chosen = st.selectbox(
        "Run", list(by_id), format_func=lambda i: _label(by_id[i]), key="pipeline:run"
    )
    detail = ui.call(client.get, f"/api/pipeline/runs/{chosen}")
    if detail is not None:
        _nodes(detail)
