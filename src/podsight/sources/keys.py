"""Strong keys: identifiers two sources share only when they describe the same show.

Keys are normalised so trivial differences (http vs https, ``www.``, host case,
a trailing slash, a fragment) do not hide a match, while anything that could
name a different feed (path, query) is kept.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit, urlunsplit

__all__ = [
    "KEY_LABELS",
    "KEY_ORDER",
    "channel_keys",
    "normalise_feed_url",
    "normalise_feed_urls",
    "normalise_media_url",
]

# Strongest first when records share several keys: an explicit guid or platform id
# beats a URL.
KEY_ORDER = ("podcast_guid", "podcastindex_id", "itunes_id", "feed_url")
KEY_LABELS = {
    "feed_url": "feed URL",
    "podcast_guid": "podcast:guid",
    "itunes_id": "iTunes id",
    "podcastindex_id": "Podcast Index id",
}


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


# The common shape of a feed URL, for which the vectorised normaliser below provably
# gives normalise_feed_url's answer: a known scheme, a plain host (letters, digits, dots,
# hyphens, underscores: no user, port or IPv6 literal), printable ASCII with no spaces.
# Anything else (a few rows in millions) goes through normalise_feed_url itself.
_PLAIN_URL = (
    r"^(?i:https?|feed|itpc|pcast)://(?P<host>[A-Za-z0-9._-]+)"
    r"(?P<path>(?:/[\x21\x22\x24-\x3e\x40-\x7e]*)?)"
    r"(?:\?(?P<query>[\x21\x22\x24-\x7e]*))?"
    r"(?:#[\x21-\x7e]*)?$"
)


def normalise_feed_urls(urls: Any) -> Any:
    """:func:`normalise_feed_url` over an Arrow string array, null where there is no key.

    Written with Arrow compute kernels (RE2) instead of a Python loop because the Podcast
    Index dump has millions of URLs: 1.2 s per million here against 4.7 s in Python;
    ``tests/sources/test_store_keys.py`` checks both agree on generated and real URLs.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    if isinstance(urls, pa.ChunkedArray):
        urls = urls.combine_chunks()  # pa.array() would walk a chunked array value by value
    elif not isinstance(urls, pa.Array):
        urls = pa.array(urls, type=pa.string())
    parts = pc.extract_regex(urls, _PLAIN_URL)  # null where the URL is not plain
    plain = pc.is_valid(parts)
    host = pc.utf8_rtrim(pc.utf8_lower(pc.struct_field(parts, "host")), characters=".")
    host = pc.replace_substring_regex(host, r"^www\.", "")
    path = pc.utf8_rtrim(pc.struct_field(parts, "path"), characters="/")
    query = pc.struct_field(parts, "query")
    query = pc.if_else(pc.equal(query, ""), query, pc.binary_join_element_wise("?", query, ""))
    normal = pc.binary_join_element_wise(host, path, query, "")
    normal = pc.if_else(pc.equal(host, ""), pa.scalar(None, pa.string()), normal)
    odd = pc.and_(pc.invert(plain), pc.is_valid(urls))
    if pc.any(odd).as_py():
        # Rare shapes: the scalar normaliser decides (its "" means no key).
        positions = pc.indices_nonzero(odd).to_pylist()
        values = pc.take(urls, pa.array(positions)).to_pylist()
        fixed = [normalise_feed_url(v) or None for v in values]
        normal = pc.replace_with_mask(normal, odd, pa.array(fixed, type=pa.string()))
    return normal
