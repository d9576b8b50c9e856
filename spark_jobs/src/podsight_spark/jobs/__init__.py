"""The registered jobs; importing this package registers each one (:mod:`..registry`)."""

from podsight_spark.jobs import als, embed, engagement  # noqa: F401
