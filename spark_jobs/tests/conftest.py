"""One local[2] SparkSession for the whole run (a JVM takes seconds to start), and small
lake fixtures written with delta-rs and podsight's own schemas."""

from __future__ import annotations

import os
import sys

import pytest

os.environ.setdefault("PODSIGHT_SPARK_MASTER", "local[2]")
# Python workers run this interpreter (the .venv-spark one).
os.environ.setdefault("PYSPARK_PYTHON", sys.executable)


@pytest.fixture(scope="session")
def spark():
    from podsight_spark.session import get_session

    session = get_session("podsight-spark tests")
    yield session
    session.stop()
