"""``/api/pipeline/runs``: the runs the local runner recorded, for staff, newest first
and paged, and one run with each node."""

from __future__ import annotations

import socket
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from podsight.accounts.services import create_token
from podsight.errors import PodsightError
from podsight.jobs.models import PipelineRun
from podsight.pipeline.graph import Node
from podsight.pipeline.registry import STEPS, Step
from podsight.pipeline.runner import run_pipeline

pytestmark = pytest.mark.django_db


@dataclass(frozen=True)
class Counted:
    n: int

    def __str__(self) -> str:
        return f"{self.n} things"


def _client(username: str, staff: bool) -> APIClient:
    user = get_user_model().objects.create(username=username, is_staff=staff)
    _, key = create_token(f"sign-in-{username}", ["staff"] if staff else [], user=user)
    client = APIClient(raise_request_exception=False)
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


@pytest.fixture
def recorded(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[int]:
    """Two runs of a small graph: one where ``b`` fails (``c`` blocked), then one that
    succeeds."""
    monkeypatch.setenv("PODSIGHT_HOME", str(tmp_path))
    monkeypatch.setenv("PODSIGHT_PIPELINE_BACKOFF_SCALE", "0")
    state = {"fail": True}

    def a() -> Counted:
        return Counted(3)

    def b() -> Counted:
        if state["fail"]:
            raise PodsightError("the feed server is down")
        return Counted(4)

    for name, fn in (("a", a), ("b", b), ("c", a)):
        monkeypatch.setitem(STEPS, f"fake.{name}", Step(f"fake.{name}", fn, "x:Counted"))
    graph = {
        "a": Node("a", "fake.a"),
        "b": Node("b", "fake.b", needs=("a",), retries=1),
        "c": Node("c", "fake.c", needs=("b",)),
    }
    first = run_pipeline(graph=graph, trigger="schedule")
    state["fail"] = False
    second = run_pipeline(graph=graph)
    return [first.run_id, second.run_id]


def test_staff_list_the_runs_newest_first_with_counts(recorded: list[int]) -> None:
    staff = _client("ops", staff=True)
    page = staff.get("/api/pipeline/runs").json()
    assert [r["id"] for r in page["results"]] == recorded[::-1]
    newest, oldest = page["results"]
    assert newest["status"] == "succeeded" and newest["counts"] == {"succeeded": 3}
    assert oldest["status"] == "failed" and oldest["trigger"] == "schedule"
    assert oldest["counts"] == {"succeeded": 1, "failed": 1, "blocked": 1}
    assert oldest["error"] == "failed: b; blocked: c" and oldest["cadences"] == ["daily"]

    first = staff.get("/api/pipeline/runs", {"page_size": 1}).json()
    assert [r["id"] for r in first["results"]] == [recorded[1]] and first["next"]
    rest = staff.get(first["next"]).json()
    assert [r["id"] for r in rest["results"]] == [recorded[0]] and rest["next"] is None

    failed = staff.get("/api/pipeline/runs", {"status": "failed"}).json()
    assert [r["id"] for r in failed["results"]] == [recorded[0]]
    assert staff.get("/api/pipeline/runs", {"status": "nope"}).status_code == 400


def test_one_run_has_each_node(recorded: list[int]) -> None:
    staff = _client("ops", staff=True)
    run = staff.get(f"/api/pipeline/runs/{recorded[0]}").json()
    nodes = {n["node"]: n for n in run["steps"]}
    assert list(nodes) == ["a", "b", "c"]
    assert nodes["a"]["summary"] == "3 things" and nodes["a"]["report"] == {"n": 3}
    assert (nodes["b"]["status"], nodes["b"]["attempts"]) == ("failed", 2)
    assert nodes["b"]["error"] == "the feed server is down"
    assert (nodes["c"]["status"], nodes["c"]["error"]) == ("blocked", "needs b, which failed")
    assert nodes["c"]["started_at"] and nodes["b"]["seconds"] is not None

    missing = staff.get("/api/pipeline/runs/999999")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"


def test_runs_are_for_staff_only(recorded: list[int]) -> None:
    listener = _client("alice", staff=False)
    assert listener.get("/api/pipeline/runs").status_code == 403
    assert listener.get(f"/api/pipeline/runs/{recorded[0]}").status_code == 403
    assert APIClient().get("/api/pipeline/runs").status_code == 401


def test_a_run_whose_process_is_gone_reads_as_interrupted() -> None:
    dead = PipelineRun.objects.create(trigger="cli",
                                      runner=f"{socket.gethostname()}:999999999:1")  # fmt: skip
    staff = _client("ops", staff=True)
    run = staff.get(f"/api/pipeline/runs/{dead.pk}").json()
    assert run["status"] == "interrupted" and "stopped before it finished" in run["error"]
