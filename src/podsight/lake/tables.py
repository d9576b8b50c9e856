"""The lake's tables (name, schema, partitioning, key): defined in :mod:`podsight.lake_tables`,
which imports only pyarrow so the Spark engine shares it without the rest of podsight."""

from podsight.lake_tables import *  # noqa: F403
from podsight.lake_tables import __all__  # noqa: F401
