"""podsight's pipeline graph as Airflow DAGs: ``podsight_daily`` and ``podsight_weekly``.

Built from :data:`podsight.pipeline.graph.GRAPH`, the one place the order is written: one
task per node, the node's needs as upstream tasks, its retries, and its backoff as the
first retry delay, doubling after each (Airflow's exponential backoff). Each task runs the
node through the CLI, ``$PODSIGHT_BIN pipeline run --only NODE --trigger airflow``, so a
task does exactly what the local runner does for that node and this file has no logic of
its own.

Airflow's virtualenv has none of podsight's dependencies (their pins clash), only
``podsight.pipeline.graph`` (standard library) on its path; ``PODSIGHT_BIN`` (default
``podsight``) is podsight's own command, in its own virtualenv. The task's environment is
the worker's (``append_env``), so PODSIGHT_HOME, DATABASE_URL and every other podsight
setting reach the command as they are set where Airflow runs. docs/airflow.md.
"""

from __future__ import annotations

import re
import shlex
from datetime import datetime, timedelta

from airflow.sdk import DAG, task
from airflow.sdk.exceptions import AirflowSkipException

from podsight.pipeline import graph

# An exit code Airflow turns into a skipped task. `podsight pipeline run --only NODE`
# exits 0 for a skipped node today, so what skips a task is the check of the node's `when`
# before podsight is called; this code is for a wrapper command that reports a skip so.
SKIPPED_EXIT_CODE = 99

# Airflow task ids allow letters, digits, '_', '-' and '.'; node names are dotted, so today
# each task id is its node's name. Anything else would be replaced, hence the mapping.
_DISALLOWED = re.compile(r"[^\w.-]")

SCHEDULES = {"daily": "@daily", "weekly": "@weekly"}


def task_id(node_name: str) -> str:
    """The Airflow task id of a graph node."""
    return _DISALLOWED.sub("_", node_name)


#: Graph node name -> Airflow task id, for every node.
TASK_IDS = {name: task_id(name) for name in graph.GRAPH}


# A task that finds another pipeline run in progress (the other DAG's, one started by hand)
# waits this long for its turn before failing (then Airflow retries it): the weekly and the
# daily DAG both start at midnight on Sundays.
LOCK_WAIT_S = 3600


def command(node_name: str) -> str:
    """The shell command running one node: podsight's CLI, from PODSIGHT_BIN at run time.
    Recorded in podsight as started by Airflow; tried once (Airflow does the retries); no
    progress bars in task logs."""
    return (
        f'"${{PODSIGHT_BIN:-podsight}}" pipeline run --only {shlex.quote(node_name)} '
        f"--trigger airflow --no-retries --wait {LOCK_WAIT_S} --no-progress"
    )


def _add_task(node: graph.Node):
    # The node's `when` is asked where the task runs (the worker's environment), as the
    # runner asks it: a node that cannot run here is skipped, not failed.
    @task.bash(
        task_id=TASK_IDS[node.name],
        retries=node.retries,
        retry_delay=timedelta(seconds=node.backoff_s),
        retry_exponential_backoff=2.0,
        skip_on_exit_code=SKIPPED_EXIT_CODE,
        append_env=True,
        doc=node.doc or None,
    )
    def run_node() -> str:
        reason = node.skip_reason()
        if reason is not None:
            raise AirflowSkipException(f"{node.name}: {reason}")
        return command(node.name)

    return run_node()


def build(cadence: str) -> DAG:
    """The DAG of one cadence's nodes, with the graph's edges."""
    with DAG(
        dag_id=f"podsight_{cadence}",
        description=f"podsight's {cadence} pipeline (podsight.pipeline.graph)",
        schedule=SCHEDULES[cadence],
        start_date=datetime(2026, 1, 1),
        catchup=False,
        # One task at a time, one run at a time: each task is a `podsight pipeline run`,
        # which holds the runner's lock (PODSIGHT_HOME/pipeline.lock) and would refuse a
        # second one started beside it (the two branches of the daily graph).
        max_active_runs=1,
        max_active_tasks=1,
        tags=["podsight"],
    ) as dag:
        tasks = {node.name: _add_task(node) for node in graph.nodes([cadence])}
        for node in graph.nodes([cadence]):
            for need in node.needs:
                tasks[need] >> tasks[node.name]
    return dag


podsight_daily = build("daily")
podsight_weekly = build("weekly")
