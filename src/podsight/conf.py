"""Settings read from the environment, usable without Django (parsers, fetchers, CLI).

Django's ``settings.py`` reads the same functions so there is one source of truth.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from podsight.errors import ConfigurationError, InputError

__all__ = [
    "SettingError",
    "TimespanError",
    "API_URLS",
    "allow_private_urls",
    "api_url",
    "credential",
    "database_url",
    "env",
    "env_float",
    "env_flag",
    "parse_timespan",
    "podsight_home",
    "user_agent",
]

_TRUE = {"1", "true", "yes", "on"}


# Base URLs of the source APIs (settings, so tests and the demo point them at a local server).
API_URLS = {
    "PODSIGHT_SPOTIFY_API_URL": "https://api.spotify.com/v1",
    "PODSIGHT_SPOTIFY_ACCOUNTS_URL": "https://accounts.spotify.com",
    "PODSIGHT_YOUTUBE_API_URL": "https://www.googleapis.com/youtube/v3",
    "PODSIGHT_PODCASTINDEX_API_URL": "https://api.podcastindex.org/api/1.0",
    "PODSIGHT_ITUNES_API_URL": "https://itunes.apple.com",
}


class SettingError(ConfigurationError, ValueError):
    """A setting's value cannot be used; the message names the setting and its form. A
    ``ValueError`` too: code that parses settings beside numbers catches both alike."""


def env(name: str, default: str = "") -> str:
    value = os.environ.get(name)
    return default if value is None or value.strip() == "" else value.strip()


def env_float(name: str, default: float) -> float:
    raw = env(name, "")
    if not raw:
        return default
    try:
        return float(raw)
    except ValueError:
        raise SettingError(f"{name} must be a number, not {raw!r}") from None


def api_url(name: str) -> str:
    """A source API's base URL: the environment's, else the real service's."""
    return env(name, API_URLS[name]).rstrip("/")


def credential(name: str) -> str:
    """A secret from the environment ("" when unset). Callers must never log it."""
    return env(name, "")


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


_SPAN = re.compile(r"(\d+(?:\.\d+)?)\s*([smhd]?)")
_SPAN_UNIT = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


class TimespanError(InputError, ValueError):
    """Not a duration. A ``ValueError`` too: settings and query parameters parse spans
    beside numbers and catch both alike."""


def parse_timespan(raw: str) -> float:
    """Seconds of a span as people type it: ``"90"``, ``"60s"``, ``"5m"``, ``"1h30m"``…
    (CLI options and query parameters); :class:`TimespanError` saying the expected form."""
    text = raw.strip().lower().replace(" ", "")
    parts = list(_SPAN.finditer(text))
    if not text or "".join(m.group(0) for m in parts) != text:
        raise TimespanError(f"{raw!r} is not a duration such as 60s, 5m, 1h or 1h30m")
    seconds = sum(float(m.group(1)) * _SPAN_UNIT[m.group(2)] for m in parts)
    if seconds <= 0:
        raise TimespanError(f"{raw!r}: a duration must be > 0")
    return seconds
