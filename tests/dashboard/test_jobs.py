"""``job_button``: a page's long action starts a job through the API and follows it (with
a StubClient answering as ``/api/jobs`` does: the answers are made by the API's own
serializer)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from dashboard_stub import StubClient
from streamlit.testing.v1 import AppTest

from podsight.dashboard.client import ApiCallError
from podsight.jobs.api import JobSerializer
from podsight.jobs.models import Job

CLIENT_KEY = "podsight_client"
CREATED = datetime(2026, 12, 6, 14, 0, tzinfo=UTC)


def job(status: str = "queued", **fields: Any) -> dict[str, Any]:
    """A job as ``GET /api/jobs/{id}`` answers it."""
    row = Job(id=7, step="match", params={"full": False}, status=status, created_by="ops",
              created_at=CREATED, **fields)  # fmt: skip
    return JobSerializer(row).data


def _page() -> None:
    import streamlit as st

    from podsight.dashboard.jobs import job_button

    job_button(st.session_state["podsight_client"], "Re-run matching", "match", {"full": False},
               key="match")  # fmt: skip


def _app(client: StubClient) -> AppTest:
    at = AppTest.from_function(_page, default_timeout=10)
    at.session_state[CLIENT_KEY] = client
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _texts(at: AppTest) -> list[str]:
    return [p.proto.text for p in at.get("progress")]


def test_clicking_starts_the_step_as_a_job_and_shows_its_progress_then_its_summary():
    stub = StubClient(staff=True)
    stub.on("POST", "/api/jobs", job("queued"))
    stub.on("GET", "/api/jobs/7", job("running", progress_label="matching", progress_done=3,
                                      progress_total=12))  # fmt: skip
    at = _app(stub)
    assert not stub.calls  # nothing runs before the click

    at.button[0].click().run()
    assert stub.called("POST", "/api/jobs") == [({}, {"step": "match", "params": {"full": False}})]
    assert _texts(at) == ["matching: 3 of 12"]
    assert at.get("progress")[0].proto.value == 25

    stub.on("GET", "/api/jobs/7", job("succeeded", summary="incremental run · 4 linked",
                                      progress_label="matching", progress_done=12,
                                      progress_total=12))  # fmt: skip
    at.run()
    assert not at.exception
    assert [s.value for s in at.success] == ["incremental run · 4 linked"]
    assert not _texts(at)


def test_a_failed_job_shows_its_error():
    stub = StubClient(staff=True)
    stub.on("POST", "/api/jobs", job("queued"))
    stub.on("GET", "/api/jobs/7", job("failed", error="every feed failed: 404"))
    at = _app(stub)
    at.button[0].click().run()
    assert [e.value for e in at.error] == ["match failed: every feed failed: 404"]


def test_a_step_already_running_is_followed_not_started_twice():
    stub = StubClient(staff=True)
    running = ApiCallError(409, "job_running", "A match job (id 7) is already queued or "
                           "running", {"job": 7})  # fmt: skip
    stub.on("POST", "/api/jobs", running)
    stub.on("GET", "/api/jobs/7", job("running", progress_label="matching", progress_done=1,
                                      progress_total=2))  # fmt: skip
    at = _app(stub)
    at.button[0].click().run()
    assert not at.error
    assert "already running" in at.info[0].value
    assert _texts(at) == ["matching: 1 of 2"]


@pytest.mark.parametrize("status", [400, 403])
def test_a_refused_start_shows_the_api_reason(status):
    stub = StubClient(staff=False)
    stub.on("POST", "/api/jobs", ApiCallError(status, "missing_scope", "This API token lacks "
                                              "the scope staff needed here"))  # fmt: skip
    at = _app(stub)
    at.button[0].click().run()
    shown = at.warning if status == 403 else at.error  # ui.show_error's way
    assert any("lacks the scope staff" in e.value for e in shown)
    assert not stub.called("GET", "/api/jobs/.*")
