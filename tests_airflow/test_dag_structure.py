"""The DAGs import cleanly and are podsight.pipeline.graph: same tasks, edges, retries."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from datetime import timedelta

import pytest

from conftest import DAGS
from podsight.pipeline import graph


def _dag_module():
    spec = importlib.util.spec_from_file_location("podsight_daily", DAGS / "podsight_daily.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_dagbag_imports_with_no_errors(dagbag):
    assert dagbag.import_errors == {}
    assert set(dagbag.dags) == {"podsight_daily", "podsight_weekly"}


def test_the_dag_file_needs_nothing_of_podsights_dependencies():
    # Airflow's venv has none of them (their pins clash with Airflow's): importing the DAG
    # file must import only podsight.pipeline.graph of podsight, and no Django.
    code = (
        "import runpy, sys; runpy.run_path(sys.argv[1]);"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('podsight', 'django')))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(DAGS / "podsight_daily.py")],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip().splitlines()[-1] == str(
        ["podsight", "podsight.pipeline", "podsight.pipeline.graph"]
    )
    assert importlib.util.find_spec("django") is None, "podsight's deps are in Airflow's venv"


@pytest.mark.parametrize("cadence", graph.CADENCES)
def test_tasks_edges_and_retries_are_the_graphs(dagbag, cadence):
    dag = dagbag.dags[f"podsight_{cadence}"]
    task_ids = _dag_module().TASK_IDS
    nodes = graph.nodes([cadence])
    assert nodes, cadence

    assert sorted(dag.task_ids) == sorted(task_ids[node.name] for node in nodes)
    edges = {(task.task_id, down) for task in dag.tasks for down in task.downstream_task_ids}
    assert edges == {(task_ids[need], task_ids[node.name]) for node in nodes for need in node.needs}
    for node in nodes:
        task = dag.get_task(task_ids[node.name])
        assert task.retries == node.retries, node.name
        assert task.retry_delay == timedelta(seconds=node.backoff_s), node.name
        assert task.retry_exponential_backoff == 2.0, node.name  # doubling, as the runner
        assert task.skip_on_exit_code == [99], node.name


def test_schedules(dagbag):
    daily, weekly = dagbag.dags["podsight_daily"], dagbag.dags["podsight_weekly"]
    assert (daily.catchup, weekly.catchup) == (False, False)
    assert (daily.schedule, weekly.schedule) == ("@daily", "@weekly")
    assert daily.max_active_runs == weekly.max_active_runs == 1
    assert daily.max_active_tasks == weekly.max_active_tasks == 1  # the runner's lock


def test_every_node_runs_through_the_cli():
    module = _dag_module()
    for name in graph.GRAPH:
        assert module.command(name) == (
            f'"${{PODSIGHT_BIN:-podsight}}" pipeline run --only {name} '
            "--trigger airflow --no-retries --wait 3600 --no-progress"
        )
    # Task ids keep the node's name where Airflow allows it; the rest is replaced.
    assert module.TASK_IDS == {name: name for name in graph.GRAPH}
    assert module.task_id("a b/c") == "a_b_c"
