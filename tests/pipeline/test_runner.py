"""The local runner on a small graph of its own, with fake steps standing in the registry:
order, statuses, retries and their backoff, the records, the lock and recovery."""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from podsight.errors import InputError, PodsightError, QualityError, UsageError
from podsight.jobs.models import NodeStatus, PipelineRun, PipelineStepRun, RunStatus
from podsight.pipeline import runner
from podsight.pipeline.graph import Node
from podsight.pipeline.registry import STEPS, Step

pytestmark = pytest.mark.django_db


def _graph(*declared: Node) -> dict[str, Node]:
    """A graph of these nodes, declared in dependency order."""
    return {node.name: node for node in declared}


@dataclass(frozen=True)
class Done:
    what: str
    items: list[int]

    def __str__(self) -> str:
        return f"did {self.what}"


class Steps:
    """Fake steps registered under ``fake.<name>``: each records its calls and does what
    it is told (succeed, raise this, fail the first n times)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.monkeypatch = monkeypatch
        self.calls: list[tuple[str, dict]] = []

    def add(self, name: str, *, fail: BaseException | None = None, times: int = 10**6,
            takes_engine: bool = False) -> None:  # fmt: skip
        failures = {"left": times}

        def fn(**params):
            self.calls.append((name, params))
            if fail is not None and failures["left"] > 0:
                failures["left"] -= 1
                raise fail
            return Done(name, [1, 2])

        if not takes_engine:
            def fn_no_engine(*, progress=None, path=None):  # noqa: ANN001, ANN202
                return fn(**({"path": path} if path else {}))

            self.monkeypatch.setitem(STEPS, f"fake.{name}", Step(f"fake.{name}", fn_no_engine,
                                                                 "x:Done"))  # fmt: skip
        else:
            def fn_engine(*, engine="local"):  # noqa: ANN001, ANN202
                return fn(engine=engine)

            self.monkeypatch.setitem(STEPS, f"fake.{name}", Step(f"fake.{name}", fn_engine,
                                                                 "x:Done"))  # fmt: skip

    def names(self) -> list[str]:
        return [name for name, _ in self.calls]


@pytest.fixture
def steps(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Steps:
    monkeypatch.setenv("PODSIGHT_HOME", str(tmp_path))
    monkeypatch.setenv("PODSIGHT_PIPELINE_BACKOFF_SCALE", "0")
    return Steps(monkeypatch)


def _small_graph(**overrides: dict) -> dict:
    """a → b → c, and d beside them; e needs c and d."""
    spec = {
        "a": {}, "b": {"needs": ("a",)}, "c": {"needs": ("b",)}, "d": {},
        "e": {"needs": ("c", "d")},
    }  # fmt: skip
    for name, changes in overrides.items():
        spec[name] = {**spec[name], **changes}
    return _graph(*(Node(name, f"fake.{name}", backoff_s=1.0, **kw) for name, kw in spec.items()))


def _rows(report: runner.PipelineRunReport) -> dict[str, PipelineStepRun]:
    return {row.node: row for row in PipelineStepRun.objects.filter(run_id=report.run_id)}


def test_nodes_run_in_dependency_order_and_are_recorded(steps: Steps) -> None:
    for name in "abcde":
        steps.add(name)
    report = runner.run_pipeline(graph=_small_graph(), trigger="test")
    assert steps.names() == ["a", "b", "c", "d", "e"]
    assert report.status == "succeeded" and not report.failed
    run = PipelineRun.objects.get(pk=report.run_id)
    assert (run.status, run.trigger, run.cadences) == (RunStatus.SUCCEEDED, "test", ["daily"])
    assert run.finished_at is not None and run.seconds is not None
    rows = _rows(report)
    assert [rows[n].position for n in "abcde"] == [0, 1, 2, 3, 4]
    assert rows["b"].status == NodeStatus.SUCCEEDED and rows["b"].attempts == 1
    assert rows["b"].summary == "did b"  # the report's own line
    assert rows["b"].report == {"what": "b", "items": [1, 2]}  # the report as JSON
    assert [n.name for n in report.nodes] == list("abcde")


def test_a_failure_blocks_only_its_dependents_with_the_reason(steps: Steps) -> None:
    for name in "acde":
        steps.add(name)
    steps.add("b", fail=PodsightError("the feed server is down; try later"))
    report = runner.run_pipeline(graph=_small_graph())
    # b tried three times (two retries), c and e never; d beside them ran.
    assert steps.names() == ["a", "b", "b", "b", "d"]
    assert report.status == "failed" and report.failed
    rows = _rows(report)
    assert rows["b"].status == "failed" and rows["b"].attempts == 3
    assert rows["b"].error == "the feed server is down; try later"
    assert (rows["c"].status, rows["c"].error) == ("blocked", "needs b, which failed")
    assert rows["e"].status == "blocked"
    assert rows["e"].error == "needs c, which was blocked (b failed)"
    assert rows["d"].status == "succeeded" and rows["c"].attempts == 0
    run = PipelineRun.objects.get(pk=report.run_id)
    assert run.status == "failed" and run.error == "failed: b; blocked: c, e"


def test_the_next_run_recovers_after_an_injected_failure(steps: Steps) -> None:
    for name in "acde":
        steps.add(name)
    steps.add("b", fail=PodsightError("injected"))
    first = runner.run_pipeline(graph=_small_graph())
    assert {n.name: n.status for n in first.nodes}["e"] == "blocked"
    steps.add("b")  # the cause is gone
    second = runner.run_pipeline(graph=_small_graph())
    assert second.status == "succeeded"
    assert {n.status for n in second.nodes} == {"succeeded"}
    listed = runner.recent_runs(5)
    assert [r.run_id for r in listed.runs] == [second.run_id, first.run_id]


def test_retries_wait_twice_as_long_each_time_scaled_by_the_setting(
    steps: Steps, monkeypatch: pytest.MonkeyPatch
) -> None:
    waits: list[float] = []
    monkeypatch.setattr(time, "sleep", waits.append)
    monkeypatch.setenv("PODSIGHT_PIPELINE_BACKOFF_SCALE", "2")
    steps.add("a", fail=PodsightError("flaky"), times=2)  # fails twice, then works
    graph = _graph(Node("a", "fake.a", retries=3, backoff_s=5.0))
    report = runner.run_pipeline(graph=graph)
    assert waits == [10.0, 20.0]  # 5 s, then 10 s, times 2
    assert report.nodes[0].status == "succeeded" and report.nodes[0].attempts == 3
    monkeypatch.setenv("PODSIGHT_PIPELINE_BACKOFF_SCALE", "-1")
    with pytest.raises(UsageError, match="PODSIGHT_PIPELINE_BACKOFF_SCALE"):
        runner.run_pipeline(graph=graph)


def test_a_wrong_input_and_a_missing_step_are_not_retried(steps: Steps) -> None:
    steps.add("a", fail=InputError("podcastindex_feeds.db is not a file"))
    graph = _graph(Node("a", "fake.a"), Node("b", "not.registered"))
    report = runner.run_pipeline(graph=graph)
    a, b = report.nodes
    assert (a.status, a.attempts) == ("failed", 1)
    assert (b.status, b.attempts) == ("failed", 1)
    assert "no step named 'not.registered'" in b.error


def test_a_failed_quality_check_is_not_retried_and_blocks_the_dependents(steps: Steps) -> None:
    # A retry would start from the bad data already written and find nothing new to check.
    for name in "acde":
        steps.add(name)
    steps.add("b", fail=QualityError("data-quality check(s) failed after b: …"))
    report = runner.run_pipeline(graph=_small_graph(b={"retries": 3}))
    assert steps.names() == ["a", "b", "d"]
    rows = _rows(report)
    assert (rows["b"].status, rows["b"].attempts) == ("failed", 1)
    assert rows["b"].error.startswith("data-quality check(s) failed after b")
    assert (rows["c"].status, rows["c"].error) == ("blocked", "needs b, which failed")
    assert rows["e"].status == "blocked"


def test_a_bug_in_a_step_is_recorded_by_type_and_message_only(steps: Steps) -> None:
    steps.add("a", fail=ZeroDivisionError("division by zero"))
    report = runner.run_pipeline(graph=_graph(Node("a", "fake.a", retries=0)))
    assert report.nodes[0].error == "ZeroDivisionError: division by zero"
    assert "Traceback" not in report.nodes[0].error


def test_skipped_nodes_do_not_stop_their_dependents(steps: Steps) -> None:
    steps.add("a")
    steps.add("b")
    graph = _graph(Node("a", "fake.a", when=lambda: "no dump here"),
                   Node("b", "fake.b", needs=("a",)))  # fmt: skip
    report = runner.run_pipeline(graph=graph)
    assert [(n.status, n.error) for n in report.nodes] == [
        ("skipped", "no dump here"), ("succeeded", "")
    ]
    assert steps.names() == ["b"] and report.status == "succeeded"


def test_engine_goes_to_engine_nodes_and_the_dump_path_from_its_setting(
    steps: Steps, monkeypatch: pytest.MonkeyPatch
) -> None:
    steps.add("a", takes_engine=True)
    steps.add("b")
    monkeypatch.setitem(runner.SETTING_PARAMS, "fake.b", {"path": "PODSIGHT_PODCASTINDEX_DUMP"})
    monkeypatch.setenv("PODSIGHT_PODCASTINDEX_DUMP", "/data/feeds.db")
    graph = _graph(Node("a", "fake.a", engine=True), Node("b", "fake.b"))
    runner.run_pipeline(graph=graph, engine="spark")
    assert steps.calls == [("a", {"engine": "spark"}), ("b", {"path": "/data/feeds.db"})]
    steps.calls.clear()
    runner.run_pipeline(graph=graph)  # no engine given: the step's default
    assert steps.calls[0] == ("a", {"engine": "local"})
    # A node given an engine whose step takes none fails clearly.
    report = runner.run_pipeline(graph=_graph(Node("b", "fake.b", engine=True)), engine="spark")
    assert "takes no engine" in report.nodes[0].error
    # One list of engines and one message (engines.py), as an argument's error (exit 2,
    # not a setting's 503), and the same spelling rules as PODSIGHT_ENGINE.
    with pytest.raises(UsageError, match="'hadoop' is not an engine; use one of local, spark") as e:
        runner.run_pipeline(graph=graph, engine="hadoop")
    assert type(e.value) is UsageError
    assert not hasattr(runner, "ENGINES")
    steps.calls.clear()
    runner.run_pipeline(graph=graph, engine=" Spark ")
    assert steps.calls[0] == ("a", {"engine": "spark"})


def test_selection_only_and_from(steps: Steps) -> None:
    for name in "abcde":
        steps.add(name)
    report = runner.run_pipeline(graph=_small_graph(), only=["c"])
    assert [n.name for n in report.nodes] == ["c"] and steps.names() == ["c"]
    steps.calls.clear()
    report = runner.run_pipeline(graph=_small_graph(), start="b")
    assert steps.names() == ["b", "c", "e"]
    with pytest.raises(UsageError, match="not both"):
        runner.run_pipeline(graph=_small_graph(), only=["a"], start="b")
    with pytest.raises(UsageError, match=r"no pipeline node named 'zz'; the nodes are: a, b"):
        runner.run_pipeline(graph=_small_graph(), only=["zz"])
    with pytest.raises(UsageError, match="cadence must be one of"):
        runner.run_pipeline(graph=_small_graph(), cadences=["hourly"])


def test_a_second_run_is_refused_while_one_holds_the_lock(steps: Steps) -> None:
    steps.add("a")
    with runner.pipeline_lock():
        with pytest.raises(runner.PipelineBusy, match="a pipeline run is already running"):
            runner.run_pipeline(graph=_graph(Node("a", "fake.a")))
    assert steps.names() == []
    runner.run_pipeline(graph=_graph(Node("a", "fake.a")))  # released with the block
    assert steps.names() == ["a"]


def test_the_busy_message_names_the_running_run(steps: Steps) -> None:
    steps.add("a")
    with runner.pipeline_lock():  # as a live run holds it, with its record
        running = PipelineRun.objects.create(trigger="schedule", runner="another-host:1:2")
        with pytest.raises(runner.PipelineBusy) as refused:
            runner.run_pipeline(graph=_graph(Node("a", "fake.a")))
    assert f"(run {running.pk} since " in str(refused.value)
    assert refused.value.exit_code == 2


def test_a_run_left_running_by_a_dead_process_is_marked_interrupted(steps: Steps) -> None:
    steps.add("a")
    dead = PipelineRun.objects.create(
        trigger="cli", runner=f"{socket.gethostname()}:999999999:12345"
    )
    row = PipelineStepRun.objects.create(run=dead, position=0, node="a", step="fake.a",
                                         status=NodeStatus.RUNNING)  # fmt: skip
    elsewhere = PipelineRun.objects.create(trigger="cli", runner="another-host:12:34")
    runner.run_pipeline(graph=_graph(Node("a", "fake.a")))
    dead.refresh_from_db()
    row.refresh_from_db()
    elsewhere.refresh_from_db()
    assert dead.status == "interrupted" and "stopped before it finished" in dead.error
    assert row.status == "interrupted"
    assert elsewhere.status == "running"  # its process cannot be checked from here


def test_ctrl_c_during_a_node_records_the_run_as_interrupted(steps: Steps) -> None:
    steps.add("a")
    steps.add("b", fail=KeyboardInterrupt())
    with pytest.raises(KeyboardInterrupt):
        runner.run_pipeline(graph=_small_graph())
    run = PipelineRun.objects.latest("id")
    rows = {r.node: r for r in run.steps.all()}
    assert run.status == "interrupted" and "during b" in run.error
    assert (rows["a"].status, rows["b"].status, rows["c"].status) == (
        "succeeded", "interrupted", "pending"
    )
    assert rows["b"].attempts == 1  # recorded as the attempt started


def test_a_stop_request_ends_the_run_after_the_node_at_hand(steps: Steps) -> None:
    stop = threading.Event()
    steps.add("b")

    def a_then_stop(**_):  # noqa: ANN003, ANN202
        stop.set()
        return Done("a", [])

    steps.monkeypatch.setitem(STEPS, "fake.a", Step("fake.a", a_then_stop, "x:Done"))
    report = runner.run_pipeline(graph=_graph(Node("a", "fake.a"), Node("b", "fake.b")),
                                 stop=stop)  # fmt: skip
    assert report.status == "interrupted" and report.error == "stopped on request before b"
    assert [n.status for n in report.nodes] == ["succeeded", "pending"]


def test_no_retries_tries_each_node_once(steps: Steps) -> None:
    steps.add("a", fail=PodsightError("flaky"))
    report = runner.run_pipeline(graph=_graph(Node("a", "fake.a", retries=3)), retries=False)
    assert (report.nodes[0].status, report.nodes[0].attempts) == ("failed", 1)
    assert steps.names() == ["a"]


def test_a_reports_quality_checks_are_kept_in_its_json(steps: Steps) -> None:
    @dataclass(frozen=True)
    class Checked:
        rows: int

    @dataclass(frozen=True)
    class Quality:
        checks: int
        passed: bool

    def checked(**_):  # noqa: ANN003, ANN202
        report = Checked(5)
        object.__setattr__(report, "quality", Quality(4, True))  # as steps attach it
        return report

    steps.monkeypatch.setitem(STEPS, "fake.q", Step("fake.q", checked, "x:Checked"))
    report = runner.run_pipeline(graph=_graph(Node("q", "fake.q")))
    row = PipelineStepRun.objects.get(run_id=report.run_id)
    assert row.report == {"rows": 5, "quality": {"checks": 4, "passed": True}}


def test_a_run_can_wait_for_the_one_in_progress(steps: Steps) -> None:
    steps.add("a")
    held, release = threading.Event(), threading.Event()

    def hold() -> None:
        with runner.pipeline_lock():
            held.set()
            release.wait(10)

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert held.wait(10)
        started = time.monotonic()
        with pytest.raises(runner.PipelineBusy):
            runner.run_pipeline(graph=_graph(Node("a", "fake.a")), lock_wait=0.3)
        assert time.monotonic() - started >= 0.3  # it did wait before refusing
        threading.Timer(0.3, release.set).start()
        report = runner.run_pipeline(graph=_graph(Node("a", "fake.a")), lock_wait=10)
    finally:
        release.set()
        holder.join(10)
    assert report.status == "succeeded" and steps.names() == ["a"]
