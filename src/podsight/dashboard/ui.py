"""What every page shares: showing API errors as messages (never a traceback), charts
with titled axes, and small formatting helpers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import altair as alt
import pandas as pd
import streamlit as st

from podsight.dashboard.client import ApiCallError

__all__ = ["CLIENT_KEY", "SIGNED_OUT_KEY", "bar_chart", "call", "end_session",
           "show_error"]  # fmt: skip

# Where the signed-in client lives in a browser session's state (tests put a stub there),
# and why the last session ended (shown above the sign-in form).
CLIENT_KEY = "podsight_client"
SIGNED_OUT_KEY = "podsight_signed_out"

T = TypeVar("T")


def end_session(reason: str | None = None) -> None:
    """Forget everything of this browser session (the next person at this browser sees
    none of it) and start again at the sign-in form, saying ``reason``."""
    st.session_state.clear()
    if reason:
        st.session_state[SIGNED_OUT_KEY] = reason
    st.rerun()


def show_error(exc: ApiCallError) -> None:
    """The API's own message (it says what to do), with the status for reference. A 401
    (the sign-in expired or was revoked) ends the session instead: back to signing in."""
    if exc.status == 401:
        end_session(exc.message)
    if exc.status == 0:
        st.error(exc.message, icon=":material/cloud_off:")
    elif exc.status == 403:
        st.warning(exc.message, icon=":material/lock:")
    else:
        st.error(f"{exc.message} ({exc.status} {exc.code})", icon=":material/error:")


def call(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T | None:
    """``fn(*args, **kwargs)``, or None after showing its API error on the page."""
    try:
        return fn(*args, **kwargs)
    except ApiCallError as exc:
        show_error(exc)
        return None


def _encode(x: str, y: str, x_title: str, y_title: str, x_type: str, color: str | None):
    enc: dict[str, Any] = {
        "x": alt.X(f"{x}:{x_type}", title=x_title),
        "y": alt.Y(f"{y}:Q", title=y_title),
        "tooltip": [x, y] + ([color] if color else []),
    }
    if color:
        enc["color"] = alt.Color(f"{color}:N", title=color.replace("_", " "))
    return enc


def bar_chart(
    data: pd.DataFrame,
    x: str,
    y: str,
    *,
    x_title: str,
    y_title: str,
    color: str | None = None,
    x_type: str = "N",
    height: int = 260,
) -> None:
    """A bar chart whose axes say what they measure and in what unit."""
    if data.empty:
        st.caption("No data yet.")
        return
    chart = alt.Chart(data).mark_bar().encode(**_encode(x, y, x_title, y_title, x_type, color))
    st.altair_chart(chart.properties(height=height), use_container_width=True)
