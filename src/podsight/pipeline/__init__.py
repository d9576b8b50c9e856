"""Pipeline steps: plain functions with explicit inputs and outputs.

The CLI, the local runner and (later) Airflow DAGs resolve steps by name through
:data:`podsight.pipeline.steps.STEPS`, so no engine has logic of its own.
"""
