"""Pipeline steps: every piece of work a user can start, by name, typed.

The CLI, the API, the dashboard, the local runner and Airflow DAGs list
:data:`STEPS` and call :func:`run_step`, so no front end or engine has logic of its own::

    from podsight.pipeline import STEPS, run_step

    for name, step in STEPS.items():
        print(name, step.summary, [p.name for p in step.params], step.report.__name__)
    report = run_step("ingest.rss", locations=["feeds/"], concurrency=4)

:mod:`~podsight.pipeline.registry` holds the registry, :mod:`~podsight.pipeline.steps`
the steps, :mod:`~podsight.pipeline.reports` the reports of steps with no domain report,
:mod:`~podsight.pipeline.graph` the order they run in on a schedule.

The names above are loaded on first use (PEP 562), registering every step then: so
``import podsight.pipeline.graph`` imports only the standard library, and Airflow's
virtualenv, which has none of podsight's dependencies, can build its DAG from the graph.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from podsight.pipeline.registry import STEPS, Param, Step, run_step

__all__ = ["STEPS", "Param", "Step", "run_step"]


def __getattr__(name: str) -> Any:
    if name not in __all__:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    importlib.import_module("podsight.pipeline.steps")  # registers every step
    return getattr(importlib.import_module("podsight.pipeline.registry"), name)
