"""Pipeline steps: every piece of work a user can start, by name, typed.

The CLI, the API, the dashboard, the local runner and (later) Airflow DAGs list
:data:`STEPS` and call :func:`run_step`, so no front end or engine has logic of its own::

    from podsight.pipeline import STEPS, run_step

    for name, step in STEPS.items():
        print(name, step.summary, [p.name for p in step.params], step.report.__name__)
    report = run_step("ingest.rss", locations=["feeds/"], concurrency=4)

:mod:`~podsight.pipeline.registry` holds the registry, :mod:`~podsight.pipeline.steps`
the steps, :mod:`~podsight.pipeline.reports` the reports of steps with no domain report.
"""

from podsight.pipeline import steps as _steps  # noqa: F401 - registers every step
from podsight.pipeline.registry import STEPS, Param, Step, run_step

__all__ = ["STEPS", "Param", "Step", "run_step"]
