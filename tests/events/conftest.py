"""Listening tests: the fixtures of tests/listening.py."""

from listening import catalog, home  # noqa: F401
