"""gPodder tests: every change also goes to the event log, so the listening fixtures
(tests/listening.py)."""

from listening import catalog, home  # noqa: F401
