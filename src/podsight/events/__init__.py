"""Listening events: the events API (``api.py``), the checks of an item (``schema.py``),
references resolved to catalog ids (``resolve.py``), ingest into the durable event log
(``services.py``, ``log.py``: local SQLite or Kafka), the consumer that turns the log into
the lake's ``events`` and ``engagement_daily`` tables (``consumer.py``) and the live and
history queries over them (``queries.py``).

gPodder device sync is :mod:`podsight.gpodder`, which sends its changes here; the listener
simulator is :mod:`podsight.demo.simulate`.
"""

# The package exports nothing itself: its public names are declared by the modules above.
__all__: list[str] = []
