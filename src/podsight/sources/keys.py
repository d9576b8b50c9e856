"""Strong keys: identifiers two sources share only when they describe the same show.

Keys are normalised so trivial differences (http vs https, ``www.``, host case,
a trailing slash, a fragment) do not hide a match, while anything that could
name a different feed (path, query) is kept.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit, urlunsplit

__all__ = ["channel_keys", "normalise_feed_url", "normalise_media_url"]


def normalise_feed_url(url: str | None) -> str:
    """``https://WWW.Example.com/feed/`` → ``example.com/feed``; "" for non-URLs."""
    if not url:
        return ""
    text = url.strip()
    if "://" not in text:
        return ""
    try:
        parts = urlsplit(text)
    except ValueError:
        return ""
    if parts.scheme.lower() not in ("http", "https", "feed", "itpc", "pcast"):
        return ""
    host = (parts.hostname or "").lower().rstrip(".")
    if not host:
        return ""
    host = host.removeprefix("www.")
    port = parts.port
    if port and port not in (80, 443):
        host = f"{host}:{port}"
    path = parts.path.rstrip("/")
    return urlunsplit(("", host, path, parts.query, "")).removeprefix("//")


def normalise_media_url(url: str | None) -> str:
    """Enclosure URLs: as feed URLs (tracking redirect prefixes are kept: they differ)."""
    return normalise_feed_url(url)


def _ids(value: Any) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, bool):
        return []
    if isinstance(value, (int, float)):
        return [str(int(value))] if value > 0 else []
    text = str(value).strip()
    return [text] if text.isdigit() and int(text) > 0 else []


def channel_keys(source: str, external_id: str, data: Mapping[str, Any]) -> set[tuple[str, str]]:
    """The (kind, value) strong keys of one source channel record."""
    keys: set[tuple[str, str]] = set()
    urls: Iterable[Any] = [
        data.get("feed_url"),
        data.get("self_url"),
        *(data.get("feed_urls") or []),
    ]
    if source == "rss":
        urls = [*urls, external_id]
    for url in urls:
        normal = normalise_feed_url(url) if isinstance(url, str) else ""
        if normal:
            keys.add(("feed_url", normal))
    guid = data.get("podcast_guid")
    if isinstance(guid, str) and guid.strip():
        keys.add(("podcast_guid", guid.strip().lower()))
    for value in _ids(data.get("itunes_id")):
        keys.add(("itunes_id", value))
    for value in _ids(data.get("podcastindex_id")):
        keys.add(("podcastindex_id", value))
    if source == "apple":
        keys.update(("itunes_id", v) for v in _ids(external_id))
    if source == "podcastindex":
        keys.update(("podcastindex_id", v) for v in _ids(external_id))
    return keys
