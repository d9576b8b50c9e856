"""Spotify Web API payloads → :class:`~podsight.sources.records.Normalized` (pure, no I/O).

``normalize(endpoint, params, body)`` takes the endpoint *template* the connector
called (``"shows/{id}"``, ``"shows/{id}/episodes"``, ``"search"``…), the parameters
recorded with the payload (path values and query) and the decoded JSON. The same
payload always gives the same records, so stored payloads can be replayed.

Show and episode objects are found wherever the API nests them (a show's embedded
``episodes`` page, an episode's ``show``, search results, saved items, playlist
items), so every endpoint that returns them normalises. Episodes whose show is not
known from the payload (``search?type=episode``) are skipped: a record needs its show.

Real payloads omit or null many fields (``html_description`` is missing from older
responses, ``images`` can be empty, paging ``items`` can hold ``null`` for an episode
unavailable in the market); a missing optional field gives a missing value, never an
error. :class:`~podsight.sources.http.ApiResponseError` means the body is not the
expected kind of JSON at all.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

from podsight.sources.http import ApiResponseError
from podsight.sources.records import EpisodeRecord, Normalized, ShowRecord
from podsight.sources.text import as_int as _int
from podsight.sources.text import html_to_text, normalise_language, sanitize_html

__all__ = [
    "SOURCE",
    "episode_kind",
    "episode_record",
    "largest_image",
    "normalize",
    "published_at",
    "show_record",
]

SOURCE = "spotify"

# Titles that say the item is a trailer, in the languages podcasts are published in.
# The word must lead the title (after at most three words: "Season 2 Trailer"), end it,
# or stand in brackets, so "Why trailers work" stays an episode.
_TRAILER_WORD = r"(?:tr[aá]iler|bande[- ]annonce)"
_TRAILER = re.compile(
    rf"^\W*(?:[\w'’.]+\s+){{0,3}}{_TRAILER_WORD}(?![\w-])"
    rf"|(?<![\w-]){_TRAILER_WORD}\W*$"
    rf"|[(\[]\s*{_TRAILER_WORD}\s*[)\]]",
    re.I,
)

# Endpoints whose top-level shape we know; anything else is walked as it comes.
_SHOW = "shows/{id}"
_SHOW_EPISODES = "shows/{id}/episodes"


def normalize(endpoint: str, params: Mapping[str, Any] | None, body: Any) -> Normalized:
    """Records from one Spotify response (see the module docstring)."""
    params = params or {}
    _check_shape(endpoint, body)
    out = Normalized()
    seen_shows: set[str] = set()
    seen_episodes: set[str] = set()
    context_show = str(params.get("id") or "") if endpoint == _SHOW_EPISODES else ""
    for obj, show_id in _objects(body, context_show):
        kind = obj.get("type")
        if kind == "show":
            record = show_record(obj)
            if record is not None and record.external_id not in seen_shows:
                seen_shows.add(record.external_id)
                out.shows.append(record)
        elif kind == "episode" and show_id:
            episode = episode_record(obj, show_id)
            if episode is not None and episode.external_id not in seen_episodes:
                seen_episodes.add(episode.external_id)
                out.episodes.append(episode)
    # A single page that starts at 0 and has no next page is the show's whole list.
    if endpoint == _SHOW and isinstance(body.get("episodes"), dict) and body.get("id"):
        if _whole_list(body["episodes"]):
            out.complete_shows.add(str(body["id"]))
    elif endpoint == _SHOW_EPISODES and context_show and _whole_list(body):
        out.complete_shows.add(context_show)
    return out


def _check_shape(endpoint: str, body: Any) -> None:
    def fail(what: str) -> None:
        raise ApiResponseError(
            f"spotify {endpoint}: expected {what}, got {type(body).__name__}",
            source=SOURCE,
            endpoint=endpoint,
        )

    if endpoint == _SHOW:
        if not isinstance(body, dict) or not isinstance(body.get("id"), str):
            fail("a show object with an id")
    elif endpoint in (_SHOW_EPISODES, "me/shows", "me/episodes"):
        if not isinstance(body, dict) or not isinstance(body.get("items"), list):
            fail("a paging object with items")
    elif endpoint == "episodes/{id}":
        if not isinstance(body, dict) or not isinstance(body.get("id"), str):
            fail("an episode object with an id")
    elif endpoint == "search":
        if not isinstance(body, dict):
            fail("a search result object")
        for key in ("shows", "episodes"):
            page = body.get(key)
            if page is not None and not (
                isinstance(page, dict) and isinstance(page.get("items", []), list)
            ):
                fail(f"a paging object under {key!r}")
    elif endpoint in ("shows", "episodes"):
        if not isinstance(body, dict) or not isinstance(body.get(endpoint), list):
            fail(f"an object with a list of {endpoint}")


def _objects(node: Any, show_id: str) -> Iterator[tuple[dict[str, Any], str]]:
    """Every show/episode object in ``node`` with the id of the show it belongs to."""
    if isinstance(node, list):
        for item in node:
            yield from _objects(item, show_id)
        return
    if not isinstance(node, dict):
        return
    kind = node.get("type")
    if kind == "show" and isinstance(node.get("id"), str):
        yield node, node["id"]
        episodes = node.get("episodes")
        if episodes is not None:
            yield from _objects(episodes, node["id"])
        return
    if kind == "episode" and isinstance(node.get("id"), str):
        show = node.get("show")
        owner = show.get("id") if isinstance(show, dict) else None
        if isinstance(show, dict) and isinstance(owner, str):
            yield from _objects(show, owner)
        yield node, owner if isinstance(owner, str) else show_id
        return
    for key, value in node.items():
        if isinstance(value, (dict, list)) and key not in ("external_urls", "images"):
            yield from _objects(value, show_id)


def _whole_list(page: Any) -> bool:
    if not isinstance(page, dict) or not isinstance(page.get("items"), list):
        return False
    return not page.get("next") and not page.get("offset")


# --- field helpers -------------------------------------------------------------------


def _text(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    value = value.strip()
    return value or None


def _bool(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):  # database exports store flags as 0/1
        return bool(value)
    return None


def largest_image(images: Any) -> str | None:
    """URL of the largest image (by area; the first when sizes are unknown)."""
    best: tuple[int, int, str] | None = None
    for i, image in enumerate(images if isinstance(images, list) else []):
        if not isinstance(image, dict) or not _text(image.get("url")):
            continue
        area = (_int(image.get("width")) or 0) * (_int(image.get("height")) or 0)
        key = (area, -i, image["url"].strip())
        if best is None or key[:2] > best[:2]:
            best = key
    return best[2] if best else None


def _spotify_url(obj: Mapping[str, Any]) -> str:
    urls = obj.get("external_urls")
    if isinstance(urls, dict):
        return _text(urls.get("spotify")) or ""
    return ""


def _language(obj: Mapping[str, Any]) -> str | None:
    languages = obj.get("languages")
    candidates = list(languages) if isinstance(languages, list) else []
    if isinstance(languages, str):  # flattened exports: "en" or "en,es"
        candidates = languages.split(",")
    candidates.append(obj.get("language"))  # deprecated single value on episodes
    for value in candidates:
        language = normalise_language(value) if isinstance(value, str) else None
        if language:
            return language
    return None


def _descriptions(obj: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """(sanitised HTML, plain text); ``description`` is Spotify's tag-stripped text."""
    raw_html = _text(obj.get("html_description"))
    plain = _text(obj.get("description"))
    if raw_html:
        description_html = sanitize_html(raw_html) or None
        description_text = html_to_text(raw_html) or plain
    elif plain:
        description_html = html.escape(plain, quote=False)
        description_text = plain
    else:
        description_html = description_text = None
    return description_html, description_text


def published_at(release_date: Any, precision: Any = None) -> str | None:
    """``release_date`` as ISO 8601 with offset: a date means midnight UTC of its first day."""
    text = _text(release_date)
    if not text:
        return None
    precision = precision if precision in ("year", "month", "day") else None
    parts = text[:10].split("-")
    if precision is None:
        precision = {1: "year", 2: "month"}.get(len(parts), "day")
    try:
        year = int(parts[0])
        month = int(parts[1]) if precision in ("month", "day") and len(parts) > 1 else 1
        day = int(parts[2]) if precision == "day" and len(parts) > 2 else 1
        return datetime(year, month, day, tzinfo=UTC).isoformat()
    except (ValueError, IndexError):
        return None


def episode_kind(title: str | None) -> str:
    """``trailer`` when the title clearly says so, else ``episode``."""
    return "trailer" if title and _TRAILER.search(title) else "episode"


def _compact(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if v is not None}


def show_record(obj: Mapping[str, Any]) -> ShowRecord | None:
    show_id = _text(obj.get("id"))
    if not show_id:
        return None
    description_html, description_text = _descriptions(obj)
    episodes = obj.get("episodes")
    total = _int(obj.get("total_episodes"))
    if total is None and isinstance(episodes, dict):
        total = _int(episodes.get("total"))
    copyrights = obj.get("copyrights")
    copyright_text = None
    if isinstance(copyrights, list):
        texts = [_text(c.get("text")) for c in copyrights if isinstance(c, dict)]
        copyright_text = "; ".join(t for t in texts if t) or None
    data = _compact(
        {
            "title": _text(obj.get("name")),
            "description_html": description_html,
            "description_text": description_text,
            "language": _language(obj),
            "author": _text(obj.get("publisher")),
            "image_url": largest_image(obj.get("images")),
            "explicit": _bool(obj.get("explicit")),
            "media_type": _text(obj.get("media_type")),
            "total_episodes": total,
            "copyright": copyright_text,
            "externally_hosted": _bool(obj.get("is_externally_hosted")),
        }
    )
    metrics = {"total_episodes": float(total)} if total is not None else {}
    return ShowRecord(SOURCE, show_id, data, url=_spotify_url(obj), metrics=metrics)


def episode_record(obj: Mapping[str, Any], show_id: str) -> EpisodeRecord | None:
    episode_id = _text(obj.get("id"))
    if not episode_id:
        return None
    description_html, description_text = _descriptions(obj)
    title = _text(obj.get("name"))
    duration_ms = _int(obj.get("duration_ms"))
    precision = obj.get("release_date_precision")
    link = _spotify_url(obj)
    data = _compact(
        {
            "title": title,
            "description_html": description_html,
            "description_text": description_text,
            "published_at": published_at(obj.get("release_date"), precision),
            "published_precision": precision if precision in ("year", "month", "day") else None,
            "duration_s": (duration_ms + 500) // 1000 if duration_ms is not None else None,
            "explicit": _bool(obj.get("explicit")),
            "image_url": largest_image(obj.get("images")),
            "language": _language(obj),
            "link": link or None,
            "kind": episode_kind(title),
            "externally_hosted": _bool(obj.get("is_externally_hosted")),
        }
    )
    return EpisodeRecord(SOURCE, episode_id, show_id, data, url=link)
