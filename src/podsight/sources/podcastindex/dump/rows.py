"""One dump row as the catalog stores it: :func:`row_data` gives the API normaliser's
field names, :func:`prepare_row` what the writer stores (with the row's strong keys)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from podsight.sources.keys import channel_keys
from podsight.sources.podcastindex.normalize import SOURCE, itunes_id_of
from podsight.sources.text import as_int, html_to_text, normalise_language, sanitize_html

__all__ = ["Batch", "Prepared", "prepare_row", "prepare_rows", "row_data", "epoch_iso_fast"]

# Dump descriptions are all different: skip the lru_cache (hashing, eviction, memory).
_sanitize_html = getattr(sanitize_html, "__wrapped__", sanitize_html)
_html_to_text = getattr(html_to_text, "__wrapped__", html_to_text)


_LANGUAGES: dict[str, str | None] = {}
_DAYS: dict[int, str] = {}
_EPOCH_DAY = date(1970, 1, 1)
_MAX_EPOCH = 32503680000  # year 3000: past it a "date" is garbage


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if value.__class__ is not str:
        if isinstance(value, bytes):
            value = value.decode("utf-8", "replace")
        elif isinstance(value, (int, float)):
            value = str(value)
        else:
            return None
    value = value.strip()
    return value or None


def epoch_iso_fast(value: Any) -> str | None:
    """Unix seconds → ``2019-01-02T03:30:13+00:00`` (as ``normalize.epoch_iso``), fast."""
    if value.__class__ is not int:
        value = as_int(value)
        if value is None:
            return None
    if value <= 0 or value > _MAX_EPOCH:
        return None
    days, seconds = divmod(value, 86400)
    day = _DAYS.get(days)
    if day is None:
        day = _DAYS[days] = (_EPOCH_DAY + timedelta(days=days)).isoformat()
    hours, seconds = divmod(seconds, 3600)
    minutes, seconds = divmod(seconds, 60)
    return f"{day}T{hours:02d}:{minutes:02d}:{seconds:02d}+00:00"


def _language(value: Any) -> str | None:
    if value is None:
        return None
    try:
        return _LANGUAGES[value]
    except (KeyError, TypeError):
        pass
    text = _text(value)
    result = normalise_language(text) if text else None
    if len(_LANGUAGES) < 10_000 and isinstance(value, str):
        _LANGUAGES[value] = result
    return result


def _int(value: Any) -> int | None:
    if value.__class__ is int or value is None:
        return value
    return as_int(value)


def _positive(value: Any) -> int | None:
    if value.__class__ is int:
        return value if value > 0 else None
    number = as_int(value)
    return number if number is not None and number > 0 else None


def _flag(value: Any) -> bool | None:
    number = _int(value)
    return None if number is None else number != 0


def row_data(row: Sequence[Any]) -> dict[str, Any]:
    """The normalised ``data`` of one dump row (columns in :data:`READ_COLUMNS` order).

    Field names are the API normaliser's; absent, NULL and empty values are left out.
    """
    # Strip every text value once (empty → None); odd types (bytes, numbers in text
    # columns) are fixed by _text where a text is expected. The hot loop of the import.
    (
        feed_id,
        url,
        title,
        link,
        http_status,
        dead,
        content_type,
        itunes_id,
        original_url,
        author,
        owner_name,
        explicit,
        image_url,
        itunes_type,
        generator,
        newest,
        language,
        oldest,
        episode_count,
        popularity,
        created_on,
        newest_enclosure_url,
        podcast_guid,
        description,
        *rest,
    ) = [(v.strip() or None) if v.__class__ is str else v for v in row]
    newest_duration = rest[10]
    categories = [
        [name]
        for name in dict.fromkeys(
            c if c.__class__ is str else _text(c) for c in rest[:10] if c is not None
        )
        if name
    ] or None
    if url.__class__ is not str:
        url = _text(url)
    if original_url.__class__ is not str:
        original_url = _text(original_url)
    if description.__class__ is not str:
        description = _text(description)
    if description:
        # Plain text needs no sanitiser (sanitize_html would return it unchanged).
        html = _sanitize_html(description) if "<" in description else description
        text = _html_to_text(description)
    else:
        html = text = None
    if itunes_type.__class__ is not str:
        itunes_type = _text(itunes_type)
    data = {
        "title": title if title.__class__ is str else _text(title),
        "description_html": html,
        "description_text": text,
        "link": link if link.__class__ is str else _text(link),
        "language": _language(language),
        "author": author if author.__class__ is str else _text(author),
        "owner_name": owner_name if owner_name.__class__ is str else _text(owner_name),
        "image_url": image_url if image_url.__class__ is str else _text(image_url),
        "explicit": None if explicit is None else _flag(explicit),
        "itunes_type": itunes_type.lower() if itunes_type else None,
        "categories": categories,
        "podcast_guid": podcast_guid if podcast_guid.__class__ is str else _text(podcast_guid),
        "feed_url": url,
        "original_url": original_url if original_url != url else None,
        "itunes_id": itunes_id_of(itunes_id),
        "podcastindex_id": _positive(feed_id),
        "episode_count": _int(episode_count),
        "dead": None if dead is None else _flag(dead),
        "last_http_status": _positive(http_status),
        "content_type": content_type if content_type.__class__ is str else _text(content_type),
        "generator": generator if generator.__class__ is str else _text(generator),
        "newest_item_published_at": epoch_iso_fast(newest),
        "oldest_item_published_at": epoch_iso_fast(oldest),
        "podcastindex_created_at": epoch_iso_fast(created_on),
        "popularity_score": _int(popularity),
        "newest_enclosure_url": newest_enclosure_url
        if newest_enclosure_url.__class__ is str
        else _text(newest_enclosure_url),
        "newest_enclosure_duration_s": _positive(newest_duration),
    }
    return {k: v for k, v in data.items() if v is not None}


class _BadRow(ValueError):
    """A row that cannot become a record (the message is the reason)."""


# (external_id, url, data JSON, content hash, keys) of one row ready to store.
Prepared = tuple[str, str, str, str, tuple[tuple[str, str], ...]]


def prepare_row(row: Sequence[Any]) -> Prepared:
    """One dump row → what the writer stores; raises ``ValueError`` naming a bad row."""
    feed_id = _positive(row[0])
    if feed_id is None:
        raise _BadRow("id is not a positive integer")
    data = row_data(row)
    external_id = str(feed_id)
    keys = channel_keys(SOURCE, external_id, data)
    if not any(kind == "feed_url" for kind, _ in keys):
        raise _BadRow("no usable feed URL")
    # Serialised once, exactly as content_hash() does, and stored as it is.
    blob = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    digest = hashlib.sha256(blob.encode()).hexdigest()
    return (
        external_id,
        data.get("link") or data["feed_url"],
        blob,
        digest,
        tuple(sorted(keys)),
    )


@dataclass
class Batch:
    first_id: int
    last_id: int
    rows: list[Prepared]
    bad: list[tuple[Any, str]]

    @property
    def read(self) -> int:
        return len(self.rows) + len(self.bad)


def prepare_rows(rows: list[Sequence[Any]]) -> Batch:
    prepared: list[Prepared] = []
    bad: list[tuple[Any, str]] = []
    for row in rows:
        try:
            prepared.append(prepare_row(row))
        except _BadRow as exc:
            bad.append((row[0], str(exc)))
        except Exception as exc:  # one odd row must not stop a 4-million-row import
            bad.append((row[0], f"unreadable row ({type(exc).__name__}: {exc})"))
    return Batch(rows[0][0], rows[-1][0], prepared, bad)
