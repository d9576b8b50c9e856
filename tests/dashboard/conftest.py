"""AppTest runs a page as the dashboard would, with a :class:`StubClient`."""

from __future__ import annotations

import pytest
from dashboard_stub import StubClient
from streamlit.testing.v1 import AppTest

CLIENT_KEY = "podsight_client"


def _page_script(slug: str) -> None:
    import streamlit as st

    from podsight.dashboard.views import page

    page(slug).module.render(st.session_state["podsight_client"])


@pytest.fixture
def stub() -> StubClient:
    return StubClient(staff=True)


@pytest.fixture
def run_page():
    """``run_page(slug, stub)`` → the AppTest after its first run (``at.run()`` again after
    interacting). Fails on an uncaught exception in the page."""

    def run(slug: str, client: StubClient, timeout: float = 10) -> AppTest:
        at = AppTest.from_function(_page_script, args=(slug,), default_timeout=timeout)
        at.session_state[CLIENT_KEY] = client
        at.run()
        assert not at.exception, [e.value for e in at.exception]
        return at

    return run
