"""The overview page (being built: see docs/dashboard.md)."""

from __future__ import annotations

import streamlit as st

from podsight.dashboard.client import ApiClient

__all__ = ["render"]


def render(client: ApiClient) -> None:
    st.title("overview")
