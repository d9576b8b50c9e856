"""Charts of the Overview and Listening pages that need more than ``ui.bar_chart``: time
in UTC (Vega-Lite would show the browser's zone) and counts with
whole-number ticks."""

from __future__ import annotations

from typing import Any

import altair as alt
import pandas as pd
import streamlit as st

__all__ = ["day_lines", "histogram", "minute_line", "per_minute", "top_bars"]

_UTC = alt.Scale(type="utc")


def per_minute(live: dict[str, Any]) -> pd.DataFrame:
    """Every minute of a ``/api/stats/live`` window (``window``, ``per_minute``), quiet
    ones as 0, so that the line drops to zero instead of joining distant points."""
    start = pd.Timestamp(live["window"]["from"]).floor("min")
    end = pd.Timestamp(live["window"]["to"]).floor("min")
    minutes = pd.date_range(start, end, freq="min")
    counts = {pd.Timestamp(m["minute"]): m["events"] for m in live["per_minute"]}
    return pd.DataFrame(
        {"minute": minutes, "events per minute": [counts.get(m, 0) for m in minutes]}
    )


def minute_line(frame: pd.DataFrame) -> None:
    """Events per minute (``per_minute``'s frame) over UTC time."""
    chart = (
        alt.Chart(frame)
        .mark_line(point=alt.OverlayMarkDef(size=12))
        .encode(
            x=alt.X("minute:T", title="Time (UTC)", scale=_UTC, axis=alt.Axis(format="%H:%M")),
            y=alt.Y("events per minute:Q", title="Events per minute",
                    axis=alt.Axis(tickMinStep=1)),
            tooltip=[alt.Tooltip("utcyearmonthdatehoursminutes(minute):T", title="minute (UTC)"),
                     alt.Tooltip("events per minute:Q")],
        )
        .properties(height=240)
    )  # fmt: skip
    st.altair_chart(chart, width="stretch")


def day_lines(frame: pd.DataFrame, y: str, y_title: str, color: str | None = None) -> None:
    """One value per UTC day (``day`` column), optionally one line per ``color``."""
    encoding: dict[str, Any] = {
        "x": alt.X("day:T", title="Day (UTC)", scale=_UTC, axis=alt.Axis(format="%b %d")),
        "y": alt.Y(f"{y}:Q", title=y_title),
        "tooltip": [alt.Tooltip("utcyearmonthdate(day):T", title="day (UTC)"), y]
        + ([color] if color else []),
    }
    if color:
        encoding["color"] = alt.Color(f"{color}:N", title=None,
                                      legend=alt.Legend(orient="bottom"))  # fmt: skip
    chart = alt.Chart(frame).mark_line(point=alt.OverlayMarkDef(size=12)).encode(**encoding)
    st.altair_chart(chart.properties(height=260), width="stretch")


def top_bars(frame: pd.DataFrame, label: str, value: str, x_title: str, y_title: str) -> None:
    """Horizontal bars, longest first, with whole-number ticks (counts)."""
    chart = (
        alt.Chart(frame)
        .mark_bar()
        .encode(
            x=alt.X(f"{value}:Q", title=x_title, axis=alt.Axis(tickMinStep=1, format="d")),
            y=alt.Y(f"{label}:N", title=y_title, sort="-x", axis=alt.Axis(labelLimit=320)),
            tooltip=list(frame.columns),
        )
        .properties(height=28 * len(frame) + 40)
    )
    st.altair_chart(chart, width="stretch")


def histogram(labels: list[str], counts: list[int], x_title: str, y_title: str) -> None:
    """Counts per labelled bin, the bins in the given order."""
    frame = pd.DataFrame({"bin": labels, "count": counts})
    chart = (
        alt.Chart(frame)
        .mark_bar()
        .encode(
            x=alt.X("bin:N", title=x_title, sort=labels, axis=alt.Axis(labelAngle=-45)),
            y=alt.Y("count:Q", title=y_title, axis=alt.Axis(tickMinStep=1)),
            tooltip=[alt.Tooltip("bin:N", title=x_title), alt.Tooltip("count:Q", title=y_title)],
        )
        .properties(height=240)
    )
    st.altair_chart(chart, width="stretch")
