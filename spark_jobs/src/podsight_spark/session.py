"""The SparkSession every job runs in.

``PODSIGHT_SPARK_MASTER`` picks the master (default ``local[2]``: this machine's two
cores); a real cluster's URL (``spark://host:7077``, ``yarn``, ``k8s://https://...``)
works the same (docs/scale-out.md). ``PODSIGHT_SPARK_DRIVER_MEMORY`` (default ``2g``) is
the driver's heap, which in ``local[N]`` is also the executors'. Times are UTC throughout,
as the lake's are; logs are quiet (errors only) so that a job's stdout is its JSON line.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

__all__ = ["DEFAULT_MASTER", "get_session", "master"]

DEFAULT_MASTER = "local[2]"
MASTER_SETTING = "PODSIGHT_SPARK_MASTER"
DRIVER_MEMORY_SETTING = "PODSIGHT_SPARK_DRIVER_MEMORY"
# Spark's own default (1g) is too small for ALS on a few million interactions in local
# mode; 2g leaves most of a small machine to the rest.
DEFAULT_DRIVER_MEMORY = "2g"
_LOG4J = Path(__file__).with_name("log4j2.properties")


def master() -> str:
    return os.environ.get(MASTER_SETTING, "").strip() or DEFAULT_MASTER


def driver_memory() -> str:
    return os.environ.get(DRIVER_MEMORY_SETTING, "").strip() or DEFAULT_DRIVER_MEMORY


def get_session(app_name: str = "podsight"):
    from pyspark.sql import SparkSession

    url = master()
    java_opts = f"-Duser.timezone=UTC -Dlog4j2.configurationFile=file:{_LOG4J}"
    builder = (
        SparkSession.builder.master(url)
        .appName(app_name)
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.driver.extraJavaOptions", java_opts)
        .config("spark.executor.extraJavaOptions", java_opts)
        .config("spark.driver.memory", driver_memory())
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        # Partition values read from a Delta table's paths stay text and are cast to the
        # lake schema's types (delta.read_table): Spark's guesses could differ from them.
        .config("spark.sql.sources.partitionColumnTypeInference.enabled", "false")
    )
    if url.startswith("local"):
        # Local data is small: the default 200 shuffle partitions cost more in task
        # overhead than the work itself.
        builder = builder.config("spark.sql.shuffle.partitions", "4").config(
            "spark.default.parallelism", "4"
        )
    # Python workers run this interpreter: the venv that has podsight_spark's imports.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    return spark
