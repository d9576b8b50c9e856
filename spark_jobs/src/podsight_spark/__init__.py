"""podsight's Spark engine: the jobs the web side runs with ``engine=spark``.

``python -m podsight_spark run JOB --params JSON`` runs one registered job (:mod:`.registry`)
and prints one JSON line with its result; ``python -m podsight_spark list`` lists them.
Tables are read and written through delta-rs with the schemas of
:mod:`podsight.lake_tables`, the same the local engine writes (docs/scale-out.md).
"""

__version__ = "0.1.0"
