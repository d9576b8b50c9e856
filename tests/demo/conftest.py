"""Demo tests: the simulator sends listening events, so the listening fixtures
(tests/listening.py: a fresh PODSIGHT_HOME per test, a small catalog)."""

from listening import catalog, home  # noqa: F401
