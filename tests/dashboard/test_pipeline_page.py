"""The Pipeline page against the stub: the recent runs, and the nodes of the run chosen.
The answers are real runs recorded by the runner and serialized by the API's own
serializers, so the page reads the shape the server sends."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest
from dashboard_stub import StubClient

from podsight.dashboard.client import ApiCallError
from podsight.errors import PodsightError
from podsight.jobs.api import PipelineRunDetailSerializer, PipelineRunSerializer
from podsight.jobs.models import PipelineRun
from podsight.pipeline.graph import Node
from podsight.pipeline.registry import STEPS, Step
from podsight.pipeline.runner import run_pipeline


@dataclass(frozen=True)
class Fetched:
    n: int

    def __str__(self) -> str:
        return f"{self.n} transcripts stored"


def _json(data) -> object:
    return json.loads(json.dumps(data, default=str))


@pytest.fixture
def answers(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, db: None) -> dict:
    """``list``: the page of runs; ``detail``: each run by id. A run where ``transcripts``
    failed (``analyze`` blocked), then one where everything succeeded."""
    monkeypatch.setenv("PODSIGHT_HOME", str(tmp_path))
    monkeypatch.setenv("PODSIGHT_PIPELINE_BACKOFF_SCALE", "0")
    state = {"fail": True}

    def sync() -> Fetched:
        return Fetched(0)

    def transcripts() -> Fetched:
        if state["fail"]:
            raise PodsightError("the transcript host answered 503")
        return Fetched(7)

    for name, fn in (("sync", sync), ("transcripts", transcripts), ("analyze", sync)):
        monkeypatch.setitem(STEPS, f"fake.{name}", Step(f"fake.{name}", fn, "x:Fetched"))
    graph = {
        "sync": Node("sync", "fake.sync"),
        "transcripts": Node("transcripts", "fake.transcripts", needs=("sync",), retries=0),
        "analyze": Node("analyze", "fake.analyze", needs=("transcripts",)),
    }
    first = run_pipeline(graph=graph, trigger="schedule")
    state["fail"] = False
    second = run_pipeline(graph=graph)
    runs = list(PipelineRun.objects.order_by("-started_at", "-id"))
    return {
        "list": _json({"results": PipelineRunSerializer(runs, many=True).data,
                       "next": None, "page_size": 20}),
        "detail": {r.pk: _json(PipelineRunDetailSerializer(r).data) for r in runs},
        "ids": (first.run_id, second.run_id),
    }  # fmt: skip


def _stub(answers: dict) -> StubClient:
    stub = StubClient(staff=True)
    stub.on("GET", "/api/pipeline/runs", answers["list"])
    for run_id, detail in answers["detail"].items():
        stub.on("GET", f"/api/pipeline/runs/{run_id}", detail)
    return stub


def test_the_runs_and_the_newest_runs_nodes(run_page, answers: dict) -> None:
    failed_id, ok_id = answers["ids"]
    stub = _stub(answers)
    at = run_page("pipeline", stub)
    runs = at.dataframe[0].value
    assert list(runs["run"]) == [ok_id, failed_id]
    assert runs["status"].tolist() == ["✅ succeeded", "❌ failed"]
    assert runs["nodes"].tolist()[1] == "1 succeeded, 1 failed, 1 blocked"
    assert runs["error"].tolist()[1] == "failed: transcripts; blocked: analyze"
    assert stub.called("GET", "/api/pipeline/runs") == [({"page_size": 20}, None)]
    nodes = at.dataframe[1].value  # the newest run, chosen by default
    assert nodes["node"].tolist() == ["sync", "transcripts", "analyze"]
    assert nodes["summary or error"].tolist()[1] == "7 transcripts stored"


def test_choosing_the_failed_run_shows_why_each_node_did_not_run(run_page, answers) -> None:
    failed_id, _ = answers["ids"]
    at = run_page("pipeline", _stub(answers))
    at.selectbox(key="pipeline:run").set_value(failed_id).run()
    assert not at.exception
    nodes = at.dataframe[1].value
    assert nodes["status"].tolist() == ["✅ succeeded", "❌ failed", "⛔ blocked"]
    assert nodes["summary or error"].tolist()[1:] == [
        "the transcript host answered 503", "needs transcripts, which failed"
    ]
    assert at.error[0].value == "failed: transcripts; blocked: analyze"
    assert "by schedule" in at.caption[0].value


def test_no_run_yet_says_how_to_start_one(run_page) -> None:
    stub = StubClient(staff=True).on("GET", "/api/pipeline/runs",
                                     {"results": [], "next": None, "page_size": 20})  # fmt: skip
    at = run_page("pipeline", stub)
    assert "podsight pipeline run" in at.info[0].value
    assert not at.dataframe


def test_an_api_error_is_shown_as_the_api_words_it(run_page) -> None:
    stub = StubClient(staff=True).on(
        "GET", "/api/pipeline/runs", ApiCallError(503, "unavailable", "The database is busy.")
    )
    at = run_page("pipeline", stub)
    assert "The database is busy." in at.error[0].value
