"""Long actions started from a page (sync a show, re-run matching, train): each is a step
run by the API server as a job (``POST /api/jobs``), never in the page's own process.

:func:`job_button` starts one and then follows it (``GET /api/jobs/{id}``) in a fragment
that refreshes itself every second, so the rest of the page stays usable while it runs.
Job shape (``podsight/jobs/api.py``, docs/dashboard.md "Long actions"): ``id``,
``step``, ``params``, ``status`` (``queued``, ``running``, ``succeeded``, ``failed``,
``interrupted``), ``progress`` (``label``, ``item``, ``done``, ``total``: null while
unknown), ``notes`` (``level``, ``message``), ``summary`` (one line, once finished),
``report`` (the step's report as JSON), ``error``, ``created_by``, ``created_at``,
``started_at``, ``finished_at``. One job of a step at a time: starting a step whose job
is queued or running is a 409 ``job_running`` naming that job (``details.job``), which
the button then follows instead.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from podsight.dashboard.client import ApiCallError, ApiClient
from podsight.dashboard.ui import show_error

__all__ = ["FINISHED", "job_button", "show_job", "started_job"]

FINISHED = frozenset({"succeeded", "failed", "interrupted"})


def _state_key(key: str) -> str:
    return f"podsight_job:{key}"


def started_job(key: str) -> int | None:
    """The id of the job :func:`job_button` ``key`` started (or follows) in this session,
    else None: a page keeps showing a job's outcome after its effect hides the button."""
    return st.session_state.get(_state_key(key))


def show_job(job: dict[str, Any]) -> None:
    """One job's state: a progress bar while it runs, its summary or error after."""
    status = job.get("status")
    progress = job.get("progress") or {}
    label = progress.get("label") or job.get("step", "")
    done, total = progress.get("done") or 0, progress.get("total")
    if status in ("queued", "running"):
        if total:
            item = f" · {progress['item']}" if progress.get("item") else ""
            st.progress(min(done / total, 1.0), text=f"{label}: {done:,} of {total:,}{item}")
        else:
            st.progress(0.0, text=f"{label}: {status}…")
    elif status == "succeeded":
        st.success(job.get("summary") or f"{job.get('step')} finished.", icon=":material/done:")
    else:
        st.error(
            f"{job.get('step')} {status}: {job.get('error') or 'no reason recorded'}",
            icon=":material/error:",
        )


def _follow(client: ApiClient, key: str) -> None:
    job_id = st.session_state.get(_state_key(key))
    if job_id is None:
        return
    try:
        job = client.get(f"/api/jobs/{job_id}")
    except ApiCallError as exc:
        show_error(exc)
        return
    show_job(job)
    if job.get("status") in FINISHED and st.session_state.get(f"{_state_key(key)}:seen") != job_id:
        # Once, when it ends: rerun the whole page so that it shows the job's effect.
        st.session_state[f"{_state_key(key)}:seen"] = job_id
        st.rerun(scope="app")


def job_button(
    client: ApiClient,
    label: str,
    step: str,
    params: dict[str, Any] | None = None,
    *,
    key: str,
    help: str | None = None,  # noqa: A002 - Streamlit's own name for it
    disabled: bool = False,
) -> None:
    """A button that runs ``step`` with ``params`` on the server, then its live progress.

    ``key`` names this action on the page (one job at a time per key)."""
    if st.button(label, key=f"job-button:{key}", help=help, disabled=disabled):
        try:
            job = client.post("/api/jobs", json={"step": step, "params": params or {}})
        except ApiCallError as exc:
            running = exc.details.get("job") if isinstance(exc.details, dict) else None
            if exc.code == "job_running" and isinstance(running, int):
                # Someone (perhaps this page) started it already: follow that run.
                st.info(f"A {step} job is already running; showing its progress.")
                st.session_state[_state_key(key)] = running
            else:
                show_error(exc)
        else:
            st.session_state[_state_key(key)] = job["id"]
    if st.session_state.get(_state_key(key)) is None:
        return
    job_id = st.session_state[_state_key(key)]
    finished = st.session_state.get(f"{_state_key(key)}:seen") == job_id
    # A finished job is shown once more without polling; a running one refreshes itself.
    st.fragment(_follow, run_every=None if finished else 1.0)(client, key)
