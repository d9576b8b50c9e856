"""Podcast Index API payloads → :class:`~podsight.sources.records.Normalized` (pure, no I/O).

Shapes (from the official OpenAPI spec):

- ``podcasts/trending`` and ``search/byterm``: ``{"status": "true", "feeds": [feed…], "count"…}``
- ``podcasts/byfeedid|byfeedurl|byitunesid|byguid``: ``{"status": "true", "feed": {…}}``;
  an unknown feed answers ``"feed": []`` (status still ``"true"``), which gives no record.
- ``episodes/byfeedid`` and ``recent/episodes``: ``{"status": "true", "items": [item…]}``.

A body with ``"status": "false"`` is an error and raises an :class:`ApiError` subclass
carrying the API's ``description``; a body that is not an object with the expected list
or object raises :class:`ApiResponseError`. Within a valid body, missing, ``null``, empty
or zero-as-unknown values (``season: 0``, ``image: ""``) are simply left out of ``data``.

``episodes/byfeedid`` returns at most ``max`` items for all requested feeds together,
newest first: the requested feeds are in ``complete_shows`` only when the call had no
``since`` and fewer than ``max`` items came back.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from podsight.sources.http import ApiAuthError, ApiError, ApiNotFound, ApiResponseError
from podsight.sources.records import EpisodeRecord, Normalized, ShowRecord
from podsight.sources.text import as_int, html_to_text, normalise_language, sanitize_html

__all__ = [
    "ENDPOINTS",
    "EPISODE_ENDPOINTS",
    "SHOW_ENDPOINTS",
    "SOURCE",
    "categories_of",
    "epoch_iso",
    "episode_kind",
    "episode_record",
    "itunes_id_of",
    "normalize",
    "show_record",
]

SOURCE = "podcastindex"
FEEDS_ENDPOINTS = ("podcasts/trending", "search/byterm")
FEED_ENDPOINTS = (
    "podcasts/byfeedid",
    "podcasts/byfeedurl",
    "podcasts/byitunesid",
    "podcasts/byguid",
)
SHOW_ENDPOINTS = FEEDS_ENDPOINTS + FEED_ENDPOINTS
EPISODE_ENDPOINTS = ("episodes/byfeedid", "recent/episodes")
ENDPOINTS = SHOW_ENDPOINTS + EPISODE_ENDPOINTS
CHAPTERS_TYPE = "application/json+chapters"
# Transcript types by file extension, for items that only carry ``transcriptUrl``.
_TRANSCRIPT_TYPES = {
    "srt": "application/srt",
    "vtt": "text/vtt",
    "json": "application/json",
    "html": "text/html",
    "htm": "text/html",
    "txt": "text/plain",
}
_KINDS = {"trailer": "trailer", "bonus": "bonus"}


# -- small value readers (shared with the dump import) ---------------------------------


def _positive(value: Any) -> int | None:
    number = as_int(value)
    return number if number is not None and number > 0 else None


def itunes_id_of(value: Any) -> int | None:
    """iTunes ids arrive as ints, as digits, as ``""`` or as stray text; only ids > 0 count."""
    return _positive(value)


def epoch_iso(value: Any) -> str | None:
    """Unix seconds → ISO 8601 in UTC (``2019-01-02T03:30:13+00:00``); 0/absent → ``None``."""
    seconds = _positive(value)
    if seconds is None or seconds > 32503680000:  # past year 3000: garbage, not a date
        return None
    return datetime.fromtimestamp(seconds, UTC).isoformat()


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, (dict, list, bool)):
        return None
    text = str(value).strip()
    return text or None


def _flag(value: Any) -> bool | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return value != 0
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "explicit"):
        return True
    if text in ("0", "false", "no", "clean"):
        return False
    return None


def categories_of(value: Any) -> list[list[str]]:
    """``{"104": "Tv", "105": "Film"}`` → ``[["Tv"], ["Film"]]`` in category id order."""
    if not isinstance(value, dict):
        return []
    pairs = []
    for key, name in value.items():
        label = _text(name)
        if label:
            number = as_int(key)
            pairs.append((number if number is not None else 1 << 62, str(key), label))
    return [[label] for _, _, label in sorted(pairs)]


def episode_kind(episode_type: str | None) -> str:
    """``trailer`` and ``bonus`` stay; everything else (``full``, absent) is an ``episode``."""
    return _KINDS.get((episode_type or "").lower(), "episode")


def _compact(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if v is not None and v != "" and v != [] and v != {}}


# -- records ---------------------------------------------------------------------------


def show_record(feed: Mapping[str, Any]) -> ShowRecord | None:
    """One ``feed`` object; ``None`` when it has no usable id."""
    feed_id = _positive(feed.get("id"))
    if feed_id is None:
        return None
    description = _text(feed.get("description"))
    funding = feed.get("funding")
    funding_list = []
    if isinstance(funding, dict) and _text(funding.get("url")):
        funding_list = [{"url": _text(funding.get("url")), "text": _text(funding.get("message"))}]
    newest = feed.get("newestItemPublishTime", feed.get("newestItemPubdate"))
    original_url = _text(feed.get("originalUrl"))
    feed_url = _text(feed.get("url"))
    data = _compact(
        {
            "title": _text(feed.get("title")),
            "description_html": sanitize_html(description) if description else None,
            "description_text": html_to_text(description) if description else None,
            "link": _text(feed.get("link")),
            "language": normalise_language(_text(feed.get("language"))),
            "author": _text(feed.get("author")),
            "owner_name": _text(feed.get("ownerName")),
            "image_url": _text(feed.get("artwork")) or _text(feed.get("image")),
            "explicit": _flag(feed.get("explicit")),
            "itunes_type": (_text(feed.get("itunesType")) or "").lower() or None,
            "categories": categories_of(feed.get("categories")),
            "podcast_guid": _text(feed.get("podcastGuid")),
            "feed_url": feed_url,
            "original_url": original_url if original_url != feed_url else None,
            "itunes_id": itunes_id_of(feed.get("itunesId")),
            "podcastindex_id": feed_id,
            "episode_count": as_int(feed.get("episodeCount")),
            "dead": _flag(feed.get("dead")),
            "last_http_status": _positive(feed.get("lastHttpStatus")),
            "content_type": _text(feed.get("contentType")),
            "generator": _text(feed.get("generator")),
            "medium": _text(feed.get("medium")),
            "locked": _flag(feed.get("locked")),
            "newest_item_published_at": epoch_iso(newest),
            "funding": funding_list,
        }
    )
    metrics: dict[str, float] = {}
    for name, key in (
        ("trend_score", "trendScore"),
        ("episode_count", "episodeCount"),
        ("popularity_score", "popularityScore"),
    ):
        number = as_int(feed.get(key))
        if number is not None:
            metrics[name] = float(number)
    return ShowRecord(
        source=SOURCE,
        external_id=str(feed_id),
        data=data,
        url=data.get("link") or data.get("feed_url") or "",
        metrics=metrics,
    )


def _transcripts(item: Mapping[str, Any]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    listed = item.get("transcripts")
    for entry in listed if isinstance(listed, list) else []:
        if isinstance(entry, dict) and _text(entry.get("url")) and entry["url"] not in seen:
            seen.add(entry["url"])
            out.append(
                {
                    "url": _text(entry.get("url")),
                    "type": _text(entry.get("type")),
                    "language": _text(entry.get("language")),
                    "rel": _text(entry.get("rel")),
                }
            )
    single = _text(item.get("transcriptUrl"))
    if single and single not in seen:
        extension = single.rsplit("?", 1)[0].rsplit(".", 1)[-1].lower()
        out.append(
            {"url": single, "type": _TRANSCRIPT_TYPES.get(extension), "language": None, "rel": None}
        )
    return out


def _persons(item: Mapping[str, Any]) -> list[dict[str, Any]]:
    out = []
    listed = item.get("persons")
    for person in listed if isinstance(listed, list) else []:
        if isinstance(person, dict) and _text(person.get("name")):
            out.append(
                {
                    "name": _text(person.get("name")),
                    "role": (_text(person.get("role")) or "").lower() or None,
                    "group": (_text(person.get("group")) or "").lower() or None,
                    "href": _text(person.get("href")),
                    "img": _text(person.get("img")),
                }
            )
    return out


def episode_record(item: Mapping[str, Any]) -> EpisodeRecord | None:
    """One ``item``; ``None`` when it lacks its own id or its feed's id."""
    episode_id = _positive(item.get("id"))
    feed_id = _positive(item.get("feedId"))
    if episode_id is None or feed_id is None:
        return None
    description = _text(item.get("description"))
    episode_type = (_text(item.get("episodeType")) or "").lower() or None
    chapters_url = _text(item.get("chaptersUrl"))
    data = _compact(
        {
            "guid": _text(item.get("guid")),
            "title": _text(item.get("title")),
            "description_html": sanitize_html(description) if description else None,
            "description_text": html_to_text(description) if description else None,
            "published_at": epoch_iso(item.get("datePublished")),
            "duration_s": _positive(item.get("duration")),
            "enclosure_url": _text(item.get("enclosureUrl")),
            "enclosure_type": _text(item.get("enclosureType")),
            "enclosure_length": _positive(item.get("enclosureLength")),
            "episode_number": _positive(item.get("episode")),
            "season_number": _positive(item.get("season")),
            "episode_type": episode_type,
            "explicit": _flag(item.get("explicit")),
            "image_url": _text(item.get("image")),
            "link": _text(item.get("link")),
            "transcripts": _transcripts(item),
            "chapters": {"url": chapters_url, "type": CHAPTERS_TYPE, "inline": []}
            if chapters_url
            else None,
            "persons": _persons(item),
            "podcastindex_id": episode_id,
            "feed_url": _text(item.get("feedUrl")),
        }
    )
    data["kind"] = episode_kind(episode_type)
    return EpisodeRecord(
        source=SOURCE,
        external_id=str(episode_id),
        show_external_id=str(feed_id),
        data=data,
        url=data.get("link") or data.get("enclosure_url") or "",
    )


# -- responses -------------------------------------------------------------------------


def _fail(endpoint: str, message: str, cls: type[ApiError] = ApiResponseError) -> ApiError:
    return cls(f"{SOURCE} {endpoint}: {message}", source=SOURCE, endpoint=endpoint)


def _check_status(endpoint: str, body: dict[str, Any]) -> None:
    status = body.get("status")
    if status is False or str(status).strip().lower() == "false":
        description = _text(body.get("description")) or "the API answered status false"
        lowered = description.lower()
        cls: type[ApiError] = ApiResponseError
        if "not found" in lowered or "no feed" in lowered or "does not exist" in lowered:
            cls = ApiNotFound
        elif "authoriz" in lowered or "api key" in lowered:
            cls = ApiAuthError
        raise _fail(endpoint, description[:300], cls)


def _ids_param(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        parts = [str(v) for v in value]
    else:
        parts = str(value).split(",")
    return [p.strip() for p in parts if p.strip().isdigit()]


def normalize(endpoint: str, params: Mapping[str, Any] | None, body: Any) -> Normalized:
    """Records from one Podcast Index response (see the module docstring)."""
    params = params or {}
    if endpoint not in ENDPOINTS:
        raise ValueError(f"no Podcast Index normaliser for endpoint {endpoint!r}")
    if not isinstance(body, dict):
        raise _fail(endpoint, f"expected a JSON object, got {type(body).__name__}")
    _check_status(endpoint, body)
    out = Normalized()
    if endpoint in FEEDS_ENDPOINTS:
        feeds = body.get("feeds")
        if not isinstance(feeds, list):
            raise _fail(endpoint, "expected a 'feeds' list in the response")
        seen: set[str] = set()
        for feed in feeds:
            record = show_record(feed) if isinstance(feed, dict) else None
            if record is not None and record.external_id not in seen:
                seen.add(record.external_id)
                out.shows.append(record)
        return out
    if endpoint in FEED_ENDPOINTS:
        feed = body.get("feed")
        if feed in (None, [], {}):  # "No feeds match": not an error, just nothing
            return out
        if not isinstance(feed, dict):
            raise _fail(endpoint, "expected a 'feed' object in the response")
        record = show_record(feed)
        if record is not None:
            out.shows.append(record)
        return out
    items = body.get("items")
    if not isinstance(items, list):
        raise _fail(endpoint, "expected an 'items' list in the response")
    seen_items: set[str] = set()
    for item in items:
        episode = episode_record(item) if isinstance(item, dict) else None
        if episode is not None and episode.external_id not in seen_items:
            seen_items.add(episode.external_id)
            out.episodes.append(episode)
    if endpoint == "episodes/byfeedid":
        limit = as_int(params.get("max"))
        since = params.get("since")
        if limit is not None and not since and len(items) < limit:
            out.complete_shows.update(_ids_param(params.get("id")))
    return out
