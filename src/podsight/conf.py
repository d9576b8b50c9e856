"""Settings read from the environment, usable without Django (parsers, fetchers, CLI).

Django's ``settings.py`` reads the same functions so there is one source of truth.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = [
    "allow_private_urls",
    "database_url",
    "env_flag",
    "podsight_home",
    "user_agent",
]

_TRUE = {"1", "true", "yes", "on"}


def env_flag(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    return value.strip().lower() in _TRUE


def podsight_home() -> Path:
    """The data directory (``PODSIGHT_HOME``, default ``./var``), created on first use."""
    home = Path(os.environ.get("PODSIGHT_HOME") or "var").expanduser().resolve()
    home.mkdir(parents=True, exist_ok=True)
    return home


def database_url() -> str | None:
    return os.environ.get("DATABASE_URL") or None


def allow_private_urls() -> bool:
    """``PODSIGHT_ALLOW_PRIVATE_URLS=1`` lets fetchers reach loopback/private/link-local hosts."""
    return env_flag("PODSIGHT_ALLOW_PRIVATE_URLS")


def user_agent() -> str:
    from podsight import __version__

    return os.environ.get(
        "PODSIGHT_USER_AGENT",
        f"podsight/{__version__} (+https://github.com/podsight/podsight; podcast catalog crawler)",
    )
