"""What the jobs share: where a lake's tables are, and the parameters every job takes."""

from __future__ import annotations

from podsight_spark.registry import Param

STORAGE_OPTIONS = Param(
    dict,
    None,
    "delta-rs storage options for object storage (e.g. AWS_REGION, AWS_ENDPOINT_URL)",
)


def table_uri(lake: str, name: str) -> str:
    """``<lake>/<name>``: the local engine's layout ($PODSIGHT_HOME/lake/<name>), for a
    directory or an object-store URI alike."""
    return f"{lake.rstrip('/')}/{name}"
