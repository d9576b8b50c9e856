"""gPodder device sync: the gPodder.net API v2 that podcast apps (gPodder, AntennaPod,
Kasts…) sync their devices, subscriptions and episode actions through.

- ``models.py``: the sync state (``Device``, ``Subscription``, ``EpisodeAction``); their
  tables keep the names they had under ``events`` (``events_device``…).
- ``api.py``: the views (auth, parsing, storing; every change also goes to the event log
  through :func:`podsight.events.services.ingest`).
- ``urls.py``: the routes at the server root (``/api/2/…``, ``/subscriptions/…``).
- ``schema.py``: their part of the OpenAPI document.

Listening itself (the event log, the consumer, queries) lives in :mod:`podsight.events`;
docs/events.md describes both.
"""
