"""iTunes Search API payloads → :class:`~podsight.sources.records.Normalized` (pure, no I/O).

Both ``search`` and ``lookup`` answer ``{"resultCount": n, "results": [...]}``.
Results with ``kind: "podcast"`` (``wrapperType: "track"``) are shows; results with
``wrapperType: "podcastEpisode"`` are episodes. Anything else (artists, songs) is
ignored. A missing or ``null`` field (``feedUrl`` is null for shows without a public
feed) gives a missing value; :class:`~podsight.sources.http.ApiResponseError` means
the body is not a results object at all.

A ``lookup`` with ``entity=podcastEpisode`` returns only the newest episodes (up to
``limit``, at most 200): the show is in ``complete_shows`` only when fewer than
``limit`` came back or their number reaches the show's ``trackCount``.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from typing import Any

from podsight.sources.http import ApiResponseError
from podsight.sources.records import EpisodeRecord, Normalized, ShowRecord
from podsight.sources.spotify.normalize import episode_kind
from podsight.sources.text import as_int as _int
from podsight.sources.text import parse_date, sanitize_html

__all__ = ["SOURCE", "enclosure_type", "episode_record", "normalize", "show_record"]

SOURCE = "apple"
_EXPLICIT = {"explicit": True, "cleaned": False, "notexplicit": False, "clean": False}
# episodeFileExtension → MIME type, as feeds declare them.
_MIME = {
    "mp3": "audio/mpeg",
    "m4a": "audio/x-m4a",
    "aac": "audio/aac",
    "mp4": "video/mp4",
    "m4v": "video/x-m4v",
    "mov": "video/quicktime",
    "ogg": "audio/ogg",
    "opus": "audio/opus",
    "wav": "audio/wav",
    "flac": "audio/flac",
    "pdf": "application/pdf",
}
_BLANK_LINES = re.compile(r"\n\s*\n")


def normalize(endpoint: str, params: Mapping[str, Any] | None, body: Any) -> Normalized:
    """Records from one iTunes Search API response (see the module docstring)."""
    params = params or {}
    if not isinstance(body, dict) or not isinstance(body.get("results"), list):
        raise ApiResponseError(
            f"apple {endpoint}: expected an object with a results list, got {type(body).__name__}",
            source=SOURCE,
            endpoint=endpoint,
        )
    out = Normalized()
    shows: dict[str, ShowRecord] = {}
    episodes: dict[str, EpisodeRecord] = {}
    for result in body["results"]:
        if not isinstance(result, dict):
            continue
        if result.get("wrapperType") == "podcastEpisode" or result.get("kind") == "podcast-episode":
            episode = episode_record(result)
            if episode is not None:
                episodes.setdefault(episode.external_id, episode)
        elif result.get("kind") == "podcast":
            show = show_record(result)
            if show is not None:
                shows.setdefault(show.external_id, show)
    out.shows = list(shows.values())
    out.episodes = list(episodes.values())
    if endpoint == "lookup" and str(params.get("entity") or "") == "podcastEpisode":
        limit = _int(params.get("limit")) or 50
        for show in out.shows:
            count = sum(1 for e in out.episodes if e.show_external_id == show.external_id)
            track_count = show.metrics.get("track_count")
            if count < limit or (track_count is not None and count >= track_count):
                out.complete_shows.add(show.external_id)
    return out


# --- field helpers -------------------------------------------------------------------


def _text(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    value = value.strip()
    return value or None


def _id(value: Any) -> str | None:
    number = _int(value)
    return str(number) if number is not None and number > 0 else None


def _explicit(*values: Any) -> bool | None:
    for value in values:
        if isinstance(value, str) and value.strip().lower() in _EXPLICIT:
            return _EXPLICIT[value.strip().lower()]
    return None


def _advisory(value: Any) -> str | None:
    """``contentAdvisoryRating`` ("Explicit" / "Clean") in the explicitness vocabulary."""
    return {"explicit": "explicit", "clean": "cleaned"}.get(str(value).strip().lower())


def _date(value: Any) -> str | None:
    parsed = parse_date(value) if isinstance(value, str) else None
    return parsed.isoformat() if parsed else None


def _artwork(result: Mapping[str, Any]) -> str | None:
    for key in ("artworkUrl600", "artworkUrl160", "artworkUrl100", "artworkUrl60", "artworkUrl30"):
        url = _text(result.get(key))
        if url:
            return url
    return None


def _genre_names(genres: Any) -> list[str]:
    names: list[str] = []
    for genre in genres if isinstance(genres, list) else []:
        name = _text(genre.get("name")) if isinstance(genre, dict) else _text(genre)
        if name and name != "Podcasts" and name not in names:
            names.append(name)
    return names


def _compact(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if v is not None}


def enclosure_type(extension: Any, content_type: Any) -> str | None:
    """MIME type from ``episodeFileExtension`` / ``episodeContentType`` ("mp3", "audio")."""
    ext = (_text(extension) or "").lower().lstrip(".")
    if ext in _MIME:
        return _MIME[ext]
    kind = (_text(content_type) or "").lower()
    if "/" in kind:
        return kind
    if kind in ("audio", "video") and ext:
        return f"{kind}/{ext}"
    return None


def _text_to_html(text: str) -> str:
    """Plain text (iTunes descriptions) as HTML paragraphs with line breaks kept."""
    paragraphs = [p.strip() for p in _BLANK_LINES.split(text) if p.strip()]
    return sanitize_html(
        "".join(
            "<p>" + html.escape(p, quote=False).replace("\n", "<br>") + "</p>" for p in paragraphs
        )
    )


def show_record(result: Mapping[str, Any]) -> ShowRecord | None:
    collection_id = _id(result.get("collectionId")) or _id(result.get("trackId"))
    if collection_id is None:
        return None
    track_count = _int(result.get("trackCount"))
    data = _compact(
        {
            "title": _text(result.get("collectionName")) or _text(result.get("trackName")),
            "author": _text(result.get("artistName")),
            "feed_url": _text(result.get("feedUrl")),
            "itunes_id": int(collection_id),
            "image_url": _artwork(result),
            "categories": [[name] for name in _genre_names(result.get("genres"))] or None,
            "explicit": _explicit(
                result.get("collectionExplicitness"),
                result.get("trackExplicitness"),
                _advisory(result.get("contentAdvisoryRating")),
            ),
            "latest_published_at": _date(result.get("releaseDate")),
            "country": _text(result.get("country")),
        }
    )
    url = _text(result.get("collectionViewUrl")) or _text(result.get("trackViewUrl")) or ""
    metrics = {"track_count": float(track_count)} if track_count is not None else {}
    return ShowRecord(SOURCE, collection_id, data, url=url, metrics=metrics)


def episode_record(result: Mapping[str, Any]) -> EpisodeRecord | None:
    track_id = _id(result.get("trackId"))
    collection_id = _id(result.get("collectionId"))
    if track_id is None or collection_id is None:
        return None
    title = _text(result.get("trackName"))
    description = _text(result.get("description")) or _text(result.get("shortDescription"))
    millis = _int(result.get("trackTimeMillis"))
    link = _text(result.get("trackViewUrl"))
    data = _compact(
        {
            "title": title,
            "guid": _text(result.get("episodeGuid")),
            "enclosure_url": _text(result.get("episodeUrl")),
            "enclosure_type": enclosure_type(
                result.get("episodeFileExtension"), result.get("episodeContentType")
            ),
            "published_at": _date(result.get("releaseDate")),
            "duration_s": (millis + 500) // 1000 if millis is not None else None,
            "description_html": _text_to_html(description) if description else None,
            "description_text": description,
            "explicit": _explicit(
                result.get("trackExplicitness"), _advisory(result.get("contentAdvisoryRating"))
            ),
            "image_url": _artwork(result),
            "link": link,
            "kind": episode_kind(title),
        }
    )
    return EpisodeRecord(SOURCE, track_id, collection_id, data, url=link or "")
