"""gPodder device sync: the gPodder.net API v2 that podcast apps (gPodder, AntennaPod,
Kasts…) sync their devices, subscriptions and episode actions through.

- ``models.py``: the sync state (``Device``, ``Subscription``, ``EpisodeAction``); their
  tables keep the names they had under ``events`` (``events_device``…).
- ``services.py``: storing changes, each also sent to the event log as listening events
  through :func:`podsight.events.services.ingest` (what an action means as events);
- ``api.py``: the views: auth, parsing the apps' bodies, answering in the reference's
  shapes (``Refused`` → the API's error shape).
- ``urls.py``: the routes at the server root (``/api/2/…``, ``/subscriptions/…``).
- ``schema.py``: their part of the OpenAPI document.

Listening itself (the event log, the consumer, queries) lives in :mod:`podsight.events`;
docs/events.md describes both.
"""

# The package exports nothing itself: its public names are declared by the modules above.
__all__: list[str] = []
