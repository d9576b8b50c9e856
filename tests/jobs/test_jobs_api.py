"""``/api/jobs``: allowed steps run on the server's worker threads, their progress and
outcome recorded (podsight/jobs/). Requests are checked against each step's typed
parameters; jobs left behind by a dead process are marked interrupted."""

from __future__ import annotations

import inspect
import logging
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone
from rest_framework.test import APIClient

from httpserver import Reply
from podsight.accounts.services import create_token
from podsight.content.analyze import AnalysisReport
from podsight.content.transcripts import TranscriptsReport
from podsight.jobs.allowed import ALLOWED, request_schema
from podsight.jobs.models import Job, JobStatus
from podsight.jobs.services import recover_interrupted, runner_name
from podsight.pipeline.registry import STEPS, Step
from podsight.progress import SILENT, Progress

# What the dashboard's job_button and the stub answers of tests/dashboard rely on.
JOB_KEYS = {
    "id", "step", "params", "status", "progress", "notes", "summary", "report", "error",
    "created_by", "created_at", "started_at", "finished_at",
}  # fmt: skip


def _client(username: str, staff: bool) -> APIClient:
    # No password: hashing one is most of a test's time, and tokens need none.
    user = get_user_model().objects.create(username=username, is_staff=staff)
    scopes = ["staff", "links:review"] if staff else []
    _, key = create_token(f"sign-in-{username}", scopes, user=user)
    client = APIClient(raise_request_exception=False)
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


@pytest.fixture
def staff() -> APIClient:
    return _client("ops", staff=True)


@pytest.fixture
def listener() -> APIClient:
    return _client("alice", staff=False)


def _error(response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, (response.status_code, response.content[:600])
    error = response.json()["error"]
    assert error["status"] == status
    if code:
        assert error["code"] == code, error
    return error


def _wait(client: APIClient, job_id: int, until, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        job = client.get(f"/api/jobs/{job_id}").json()
        if until(job):
            return job
        assert time.monotonic() < deadline, f"job never got there: {job}"
        time.sleep(0.05)


def _finished(job: dict) -> bool:
    return job["status"] in ("succeeded", "failed", "interrupted")


# --------------------------------------------------------------------------- permissions


@pytest.mark.django_db
def test_jobs_need_a_staff_token(listener):
    body = {"step": "match", "params": {}}
    _error(listener.post("/api/jobs", body, format="json"), 403, "missing_scope")
    _error(listener.get("/api/jobs"), 403, "missing_scope")
    _error(listener.get("/api/jobs/1"), 403, "missing_scope")
    anonymous = APIClient(raise_request_exception=False)
    _error(anonymous.post("/api/jobs", body, format="json"), 401)
    _error(anonymous.get("/api/jobs"), 401)
    assert not Job.objects.exists()


# --------------------------------------------------------------------------- the request


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"step": "migrate"}, "step"),  # registered, but not a job a dashboard may start
        ({"step": "no.such.step"}, "step"),
        ({"params": {}}, "step"),
        ({"step": 3}, "step"),
        ({"step": "match", "params": {"labels": "/etc/passwd"}}, "params.labels"),
        ({"step": "match", "params": {"full": "yes"}}, "params.full"),
        ({"step": "match", "params": []}, "params"),
        ({"step": "match", "surprise": 1}, "surprise"),
        ({"step": "match", "dry_run": "no"}, "dry_run"),
        ({"step": "content.transcripts", "params": {"limit": 0}}, "params.limit"),
        ({"step": "content.transcripts", "params": {"limit": True}}, "params.limit"),
        ({"step": "content.transcripts", "params": {"limit": 2.5}}, "params.limit"),
        ({"step": "content.analyze", "params": {"episode_ids": [1, "2"]}}, "params.episode_ids"),
        ({"step": "ingest.rss", "params": {}}, "params.locations"),
        ({"step": "ingest.rss", "params": {"locations": ["/srv/feeds"]}}, "params.locations"),
        (
            {"step": "ingest.rss", "params": {"locations": "https://a.example/f"}},
            "params.locations",
        ),  # fmt: skip
        (
            {"step": "ingest.rss", "params": {"locations": ["file:///etc/hosts"]}},
            "params.locations",
        ),  # fmt: skip
        (
            {"step": "directory.add", "params": {"podcastindex_id": 2**63}},
            "params.podcastindex_id",
        ),  # fmt: skip
        ({"step": "recs.train", "params": {"models": ["als", "nope"]}}, "params.models"),
        ({"step": "sources.sync", "params": {"sources_file": "x.toml"}}, "params.sources_file"),
        ({"step": "sources.sync", "params": {"sources": ["myspace"]}}, "params.sources"),
    ],
)
def test_a_bad_request_is_400_naming_the_field(staff, body, field):
    error = _error(staff.post("/api/jobs", body, format="json"), 400, "invalid")
    assert field in error["details"], error
    assert not Job.objects.exists()


@pytest.mark.django_db
def test_a_body_that_is_not_an_object_is_400(staff):
    response = staff.post("/api/jobs", data="[1]", content_type="application/json")
    assert "non_field_errors" in _error(response, 400, "invalid")["details"]


@pytest.mark.django_db
def test_dry_run_checks_and_records_nothing(staff):
    body = {"step": "content.transcripts", "params": {"limit": 5, "asr": False}, "dry_run": True}
    response = staff.post("/api/jobs", body, format="json")
    assert response.status_code == 200, response.content
    job = response.json()
    assert set(job) == JOB_KEYS
    assert (job["id"], job["step"], job["params"], job["status"]) == (
        None, "content.transcripts", {"limit": 5, "asr": False}, "queued",
    )  # fmt: skip
    assert job["created_by"] == "ops"
    assert not Job.objects.exists()


def test_the_allow_list_names_real_steps_and_parameters():
    for step, rules in ALLOWED.items():
        params = {p.name: p for p in STEPS[step].params}
        assert {r.name for r in rules} <= set(params), step
        # A step whose required parameter is not allowed could never run.
        assert {n for n, p in params.items() if p.required} <= {r.name for r in rules}, step
        # Each runs with the job's progress.
        assert "progress" in inspect.signature(STEPS[step].fn).parameters, step
    variants = request_schema()["oneOf"]
    assert [v["properties"]["step"]["enum"] for v in variants] == [[s] for s in ALLOWED]
    assert ALLOWED.keys() >= {"match", "recs.train", "ingest.rss", "content.transcripts",
                              "content.analyze", "directory.add", "sources.sync"}  # fmt: skip


@pytest.mark.django_db
def test_the_document_states_the_body_and_the_answers(staff):
    document = staff.get("/api/schema?format=json").json()
    post = document["paths"]["/api/jobs"]["post"]
    body = post["requestBody"]["content"]["application/json"]["schema"]
    assert body == request_schema()
    assert {"200", "202", "400", "401", "403", "409"} <= set(post["responses"])
    listed = document["paths"]["/api/jobs"]["get"]
    assert {p["name"] for p in listed["parameters"]} >= {"status", "step", "cursor", "page_size"}
    assert "404" in document["paths"]["/api/jobs/{id}"]["get"]["responses"]


@pytest.mark.django_db
def test_an_unknown_job_is_404(staff):
    _error(staff.get("/api/jobs/999999"), 404, "not_found")


# --------------------------------------------------------------------------- running


@pytest.fixture
def feed_server(local_server, rss_corpus: Path, monkeypatch):
    """A show's feed at /show.xml on a local server (allowed for this test)."""
    monkeypatch.setenv("PODSIGHT_ALLOW_PRIVATE_URLS", "1")
    body = (rss_corpus / "podcast-feed-parser/bc-sample.xml").read_bytes()
    local_server.routes["/show.xml"] = lambda request: Reply(
        200, body, {"Content-Type": "application/rss+xml"}
    )
    return local_server


@pytest.mark.django_db(transaction=True)
def test_syncing_a_show_runs_the_real_step_and_records_its_outcome(staff, feed_server):
    url = feed_server.url("/show.xml")
    response = staff.post(
        "/api/jobs", {"step": "ingest.rss", "params": {"locations": [url]}}, format="json"
    )
    assert response.status_code == 202, response.content
    started = response.json()
    assert set(started) == JOB_KEYS
    assert started["status"] in ("queued", "running") and started["created_by"] == "ops"

    job = _wait(staff, started["id"], _finished)
    assert job["status"] == "succeeded", job
    assert job["summary"].startswith("1 feed(s): 1 new;"), job["summary"]
    assert job["report"]["outcomes"][0]["location"] == url
    assert job["report"]["outcomes"][0]["status"] == "new"
    assert job["progress"]["label"] and job["progress"]["done"] == job["progress"]["total"] == 1
    assert job["started_at"] and job["finished_at"] >= job["started_at"]
    assert job["error"] == ""

    # The catalog has the show, and matching it runs as a job too.
    response = staff.post("/api/jobs", {"step": "match", "params": {"pair_counts": True}},
                          format="json")  # fmt: skip
    assert response.status_code == 202, response.content
    job = _wait(staff, response.json()["id"], _finished)
    assert job["status"] == "succeeded", job
    assert "channels:" in job["summary"] and job["report"]["pair_counts"] is not None
    assert job["progress"]["label"] == "matching"

    listed = staff.get("/api/jobs", {"status": "succeeded"}).json()
    assert [j["step"] for j in listed["results"]] == ["match", "ingest.rss"]  # newest first
    assert (
        staff.get("/api/jobs", {"step": "ingest.rss"}).json()["results"][0]["id"] == (started["id"])
    )
    page = staff.get("/api/jobs", {"page_size": 1}).json()
    assert len(page["results"]) == 1 and page["next"]
    rest = staff.get(page["next"]).json()
    assert [j["step"] for j in rest["results"]] == ["ingest.rss"] and rest["next"] is None


@pytest.mark.django_db(transaction=True)
def test_a_step_that_fails_is_recorded_as_failed_with_its_message(staff, local_server,
                                                                  monkeypatch):  # fmt: skip
    monkeypatch.setenv("PODSIGHT_ALLOW_PRIVATE_URLS", "1")
    url = local_server.url("/gone.xml")  # answers 404
    response = staff.post(
        "/api/jobs", {"step": "ingest.rss", "params": {"locations": [url]}}, format="json"
    )
    job = _wait(staff, response.json()["id"], _finished)
    assert job["status"] == "failed", job
    assert job["error"].startswith(f"every feed failed: {url}: ") and "404" in job["error"]
    assert job["summary"] == "1 feed(s): 1 failed; 0 new episodes"


def _stand_in(monkeypatch, name: str, fn) -> None:
    """``fn`` runs as step ``name`` (same parameters; run_step looks steps up per call)."""
    real = STEPS[name]
    assert [(p.name, p.annotation) for p in Step(name, fn, "").params] == [
        (p.name, p.annotation) for p in real.params
    ]
    monkeypatch.setitem(STEPS, name, Step(name, fn, real.report_name))


@pytest.mark.django_db(transaction=True)
def test_progress_is_recorded_while_the_step_runs_and_a_second_job_waits_its_turn(
    staff, monkeypatch
):
    gate, reached = threading.Event(), threading.Event()

    def analyze(
        *,
        limit: int | None = None,
        episode_ids: Sequence[int] | None = None,
        force: bool = False,
        engine: str | None = None,
        progress: Progress = SILENT,
    ) -> AnalysisReport:
        """Stand-in: one item done, then waits for the test."""
        progress.note("two episodes have no transcript", level=logging.WARNING)
        with progress.task("analysing", total=3) as task:
            task.advance(item="episode 1")
            reached.set()
            assert gate.wait(30)
            task.advance(2, item="episode 3")
        return AnalysisReport(considered=3, analysed=3)

    _stand_in(monkeypatch, "content.analyze", analyze)
    body = {"step": "content.analyze", "params": {"limit": 3, "force": True}}
    first = staff.post("/api/jobs", body, format="json").json()
    try:
        assert reached.wait(30)
        job = _wait(staff, first["id"], lambda j: j["progress"]["done"] == 1)
        assert job["status"] == "running"
        assert job["progress"] == {"label": "analysing", "item": "episode 1", "done": 1,
                                   "total": 3}  # fmt: skip
        assert job["notes"] == [{"level": "WARNING", "message": "two episodes have no transcript"}]
        assert [j["id"] for j in staff.get("/api/jobs", {"status": "running"}).json()[
            "results"]] == [first["id"]]  # fmt: skip

        second = staff.post("/api/jobs", body, format="json")
        assert _error(second, 409, "job_running")["details"] == {"job": first["id"]}
        # Another step is not held up by it.
        other = staff.post("/api/jobs", {"step": "match", "dry_run": True}, format="json")
        assert other.status_code == 200
    finally:
        gate.set()
    job = _wait(staff, first["id"], _finished)
    assert job["status"] == "succeeded", job
    assert job["progress"]["done"] == 3 and job["report"]["analysed"] == 3
    assert job["summary"] == str(AnalysisReport(considered=3, analysed=3))
    # Finished: the step may run again.
    again = staff.post("/api/jobs", body, format="json")
    assert again.status_code == 202
    gate.set()
    _wait(staff, again.json()["id"], _finished)


@pytest.mark.django_db(transaction=True)
def test_jobs_beyond_the_workers_wait_queued_until_one_is_free(staff, monkeypatch, settings):
    settings.JOB_WORKERS = 2  # the pool never shrinks: other tests' threads count too
    gates = {name: threading.Event() for name in ("content.analyze", "content.transcripts")}

    def analyze(
        *,
        limit: int | None = None,
        episode_ids: Sequence[int] | None = None,
        force: bool = False,
        engine: str | None = None,
        progress: Progress = SILENT,
    ) -> AnalysisReport:
        """Stand-in: holds a worker until the test lets it go."""
        assert gates["content.analyze"].wait(30)
        return AnalysisReport()

    def transcripts(
        *,
        limit: int | None = None,
        asr: bool = False,
        concurrency: int = 8,
        progress: Progress = SILENT,
    ) -> TranscriptsReport:
        """Stand-in: holds the other worker."""
        assert gates["content.transcripts"].wait(30)
        return TranscriptsReport()

    _stand_in(monkeypatch, "content.analyze", analyze)
    _stand_in(monkeypatch, "content.transcripts", transcripts)
    try:
        held = [
            staff.post("/api/jobs", {"step": step}, format="json").json()["id"] for step in gates
        ]
        for job_id in held:
            _wait(staff, job_id, lambda j: j["status"] == "running")
        third = staff.post("/api/jobs", {"step": "match"}, format="json").json()["id"]
        time.sleep(1.5)  # time enough for a free worker to have taken it
        assert staff.get(f"/api/jobs/{third}").json()["status"] == "queued"
        gates["content.analyze"].set()
        job = _wait(staff, third, _finished)
        assert job["status"] == "succeeded", job
    finally:
        for gate in gates.values():
            gate.set()
    for job_id in held:
        assert _wait(staff, job_id, _finished)["status"] == "succeeded"


@pytest.mark.django_db(transaction=True)
def test_a_bug_in_a_step_fails_the_job_without_its_details(staff, monkeypatch, caplog):
    def analyze(
        *,
        limit: int | None = None,
        episode_ids: Sequence[int] | None = None,
        force: bool = False,
        engine: str | None = None,
        progress: Progress = SILENT,
    ) -> AnalysisReport:
        """Stand-in: a bug."""
        raise KeyError("internal detail")

    _stand_in(monkeypatch, "content.analyze", analyze)
    with caplog.at_level(logging.ERROR, logger="podsight.jobs.services"):
        response = staff.post("/api/jobs", {"step": "content.analyze"}, format="json")
        job = _wait(staff, response.json()["id"], _finished)
    assert job["status"] == "failed"
    assert "failed unexpectedly" in job["error"] and "internal detail" not in job["error"]
    logged = [r for r in caplog.records if r.exc_info]
    assert logged and "internal detail" in str(logged[0].exc_info[1])


@pytest.mark.django_db(transaction=True)
def test_a_failure_after_the_step_still_ends_the_job(staff, monkeypatch):
    """Not only the step: a summary, report or final save that fails must not leave the
    row `running`, which would refuse every later job of that step."""

    def analyze(
        *,
        limit: int | None = None,
        episode_ids: Sequence[int] | None = None,
        force: bool = False,
        engine: str | None = None,
        progress: Progress = SILENT,
    ) -> AnalysisReport:
        """Stand-in: succeeds."""
        return AnalysisReport()

    def broken_summary(step, report):
        raise TypeError("a report shape the summary did not expect")

    _stand_in(monkeypatch, "content.analyze", analyze)
    monkeypatch.setattr("podsight.jobs.services.summarize", broken_summary)
    first = staff.post("/api/jobs", {"step": "content.analyze"}, format="json").json()
    job = _wait(staff, first["id"], _finished)
    assert job["status"] == "failed" and "failed unexpectedly" in job["error"], job
    again = staff.post("/api/jobs", {"step": "content.analyze"}, format="json")
    assert again.status_code == 202, again.content


# --------------------------------------------------------------------------- interrupted


def _dead_runner() -> str:
    """The runner name of a process of this host that has exited."""
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    host = runner_name().rsplit(":", 2)[0]
    return f"{host}:{int(done.stdout)}:1"


@pytest.mark.django_db
def test_jobs_of_a_dead_process_are_interrupted_at_start(staff):
    host, pid, _ = runner_name().rsplit(":", 2)
    now = timezone.now()
    dead_running = Job.objects.create(step="match", status="running", runner=_dead_runner(),
                                      started_at=now)  # fmt: skip
    dead_queued = Job.objects.create(step="recs.train", runner=_dead_runner())
    # This very pid, but another process: the server restarted (containers reuse pids).
    restarted = Job.objects.create(step="sources.sync", status="running",
                                   runner=f"{host}:{pid}:0")  # fmt: skip
    alive = Job.objects.create(step="content.analyze", status="running", runner=runner_name(),
                               heartbeat_at=now)  # fmt: skip
    # Another host: dead once its heartbeat is old; a queued one there cannot be judged.
    elsewhere_stale = Job.objects.create(
        step="ingest.rss", status="running", runner="elsewhere:12:34",
        heartbeat_at=now - timedelta(minutes=10),
    )  # fmt: skip
    elsewhere_beating = Job.objects.create(step="directory.add", status="running",
                                           runner="elsewhere:13:34", heartbeat_at=now)  # fmt: skip
    elsewhere_queued = Job.objects.create(step="content.transcripts", runner="elsewhere:14:34")

    interrupted = recover_interrupted()

    assert sorted(interrupted) == sorted(
        [dead_running.pk, dead_queued.pk, restarted.pk, elsewhere_stale.pk]
    )
    status = dict(Job.objects.values_list("pk", "status"))
    assert status[alive.pk] == status[elsewhere_beating.pk] == "running"
    assert status[elsewhere_queued.pk] == "queued"
    job = staff.get(f"/api/jobs/{dead_running.pk}").json()
    assert job["status"] == "interrupted" and job["finished_at"]
    assert "stopped before the job finished" in job["error"]
    # The step is free again (a dry run stands in for a real start here).
    assert (
        staff.post("/api/jobs", {"step": "match", "dry_run": True}, format="json").status_code
        == 200
    )


@pytest.mark.django_db
def test_reading_a_job_of_a_dead_process_marks_it_interrupted(staff):
    job = Job.objects.create(step="match", status="running", runner=_dead_runner())
    assert staff.get(f"/api/jobs/{job.pk}").json()["status"] == "interrupted"


@pytest.mark.django_db
def test_a_step_held_by_a_dead_process_can_be_started_again(staff):
    Job.objects.create(step="match", status="running", runner=_dead_runner())
    response = staff.post("/api/jobs", {"step": "match"}, format="json")
    assert response.status_code == 202, response.content
    assert Job.objects.filter(status=JobStatus.INTERRUPTED).count() == 1
