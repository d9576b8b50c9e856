"""The root of every error podsight raises on purpose.

A :class:`PodsightError`'s message is written for the person running podsight: it says
what went wrong and what to do. Front ends show it as it is (the CLI prints one
``error: …`` line and exits with ``exit_code``); any other exception is a bug.
"""

from __future__ import annotations

__all__ = ["ConfigurationError", "PodsightError", "UsageError"]


class PodsightError(Exception):
    """An expected failure of a run: exit code 1."""

    exit_code = 1


class UsageError(PodsightError):
    """The request itself is wrong (an argument, a file given): exit code 2."""

    exit_code = 2


class ConfigurationError(UsageError):
    """A setting (environment variable, data directory) is wrong or unusable."""
