"""Pure normaliser for YouTube Data API v3 responses (``normalize(endpoint, params, body)``).

- ``channels`` → one :class:`ShowRecord` per channel (metrics: subscribers, views, videos;
  subscribers left out when the channel hides them).
- ``videos`` → one :class:`EpisodeRecord` per video (metrics: views, likes, comments, each
  only when YouTube shows it; the API sends counts as strings).
- ``search`` → channel results as shows and video results as episodes, with only what a
  search snippet holds (titles are HTML-escaped there and are unescaped; descriptions
  are cut off with "..." and are left out).
- ``playlistItems`` → nothing: an uploads page only lists video ids; read them with
  :func:`playlist_video_ids` and ask ``videos`` for the details.

Every field may be missing or null; records keep only the fields that have a value.

Video ``kind`` (first rule that applies wins):

1. ``live``: ``liveBroadcastContent`` is ``live``/``upcoming``, or ``liveStreamingDetails``
   has no ``actualEndTime`` (a stream that has not ended). A finished stream is a
   normal video.
2. ``short``: duration ≤ 60 s, or a ``#shorts``/``#short`` hashtag in the title or
   description (or a tag that is exactly "shorts"/"short") of a video no longer than
   180 s or of unknown length ("#short-term" or a tag "short-term effects" is not one).
3. ``trailer``: the title says trailer/teaser (also "tráiler", "bande-annonce") and the
   video is under 10 minutes or of unknown length (a full episode *about* trailers is
   not one).
4. ``clip``: the title marks a clip ("clip", "clips", "#clips", "highlight(s)", "excerpt",
   "extrait", "Ausschnitt"); or the video is under 10 minutes on a channel whose
   episodes are long: the median length of that channel's non-live, non-short videos
   *in the same response* is at least 30 minutes (with at least 3 such videos).
   The connector asks for videos in sorted-id batches of similar size, so each batch
   is a fair sample of the channel.
5. ``episode`` otherwise.
"""

from __future__ import annotations

import html
import re
import statistics
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import isodate

from podsight.sources.records import EpisodeRecord, Normalized, ShowRecord
from podsight.sources.text import normalise_language

__all__ = [
    "CHANNEL_URL",
    "SOURCE",
    "VIDEO_URL",
    "channel_record",
    "duration_seconds",
    "normalize",
    "playlist_video_ids",
    "typical_lengths",
    "video_kind",
    "video_record",
]

SOURCE = "youtube"
CHANNEL_URL = "https://www.youtube.com/channel/{}"
VIDEO_URL = "https://www.youtube.com/watch?v={}"

SHORT_MAX_S = 60
SHORTS_TAG_MAX_S = 180
TRAILER_MAX_S = 600
CLIP_MAX_S = 600
LONG_CHANNEL_MEDIAN_S = 1800
LONG_CHANNEL_MIN_VIDEOS = 3

_THUMBNAIL_ORDER = ("maxres", "standard", "high", "medium", "default")
_SHORTS = re.compile(r"#shorts?(?![\w-])", re.IGNORECASE)
_TRAILER = re.compile(r"\b(?:trailers?|teasers?|tráiler|bande[- ]annonce)\b", re.IGNORECASE)
_CLIP = re.compile(
    r"(?:\b|#)(?:clips?|highlights?|excerpts?|extraits?|ausschnitt(?:e)?)\b", re.IGNORECASE
)
_NOT_A_LANGUAGE = {"zxx", "und", "mul", "mis"}


# -- small readers that never raise --------------------------------------------------


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _text(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    value = value.strip()
    return value or None


def _count(value: Any) -> int | None:
    """A count as the API sends it ("12345"), or None when missing/hidden/garbled."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return value if value >= 0 else None
    if isinstance(value, float):
        return int(value) if value >= 0 and value == int(value) else None
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def _timestamp(value: Any) -> str | None:
    """``2019-03-21T20:37:49.000Z`` → ``2019-03-21T20:37:49+00:00``."""
    text = _text(value)
    if text is None:
        return None
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    when = when.astimezone(UTC)
    if when.microsecond == 0:
        return when.isoformat()
    return when.isoformat(timespec="milliseconds")


def duration_seconds(value: Any) -> int | None:
    """ISO 8601 duration (``PT1H2M3S``) → seconds; ``P0D`` (live/upcoming), garbage → None."""
    text = _text(value)
    if text is None:
        return None
    try:
        parsed = isodate.parse_duration(text)
    except (isodate.ISO8601Error, ValueError, TypeError, OverflowError):
        return None
    if not isinstance(parsed, timedelta):  # years/months: never sent by YouTube
        return None
    seconds = round(parsed.total_seconds())
    return seconds if seconds > 0 else None


def _best_thumbnail(thumbnails: Any) -> str | None:
    thumbs = _dict(thumbnails)
    for name in _THUMBNAIL_ORDER:
        url = _text(_dict(thumbs.get(name)).get("url"))
        if url:
            return url
    sized = [
        (_count(_dict(t).get("width")) or 0, _text(_dict(t).get("url"))) for t in thumbs.values()
    ]
    sized = [(w, u) for w, u in sized if u]
    return max(sized)[1] if sized else None


def _language(*values: Any) -> str | None:
    for value in values:
        code = normalise_language(_text(value))
        if code and code.split("-")[0] not in _NOT_A_LANGUAGE:
            return code
    return None


def _description(value: Any) -> dict[str, str]:
    text = value.strip() if isinstance(value, str) else ""
    if not text:
        return {}
    escaped = html.escape(text, quote=False).replace("\r\n", "\n")
    paragraphs = [p.replace("\n", "<br>") for p in re.split(r"\n{2,}", escaped) if p.strip()]
    return {
        "description_text": text,
        "description_html": "".join(f"<p>{p}</p>" for p in paragraphs),
    }


def _compact(data: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if v is not None and v != "" and v != []}


def _metrics(pairs: Iterable[tuple[str, Any]]) -> dict[str, float]:
    out: dict[str, float] = {}
    for name, raw in pairs:
        value = _count(raw)
        if value is not None:
            out[name] = value
    return out


def _items(body: Any) -> list[dict[str, Any]]:
    items = _dict(body).get("items")
    if not isinstance(items, list):
        return []
    return [item for item in items if isinstance(item, dict)]


# -- channels --------------------------------------------------------------------------


def channel_record(item: Mapping[str, Any]) -> ShowRecord | None:
    """A ``youtube#channel`` resource → show record (None without an id)."""
    channel_id = _text(item.get("id"))
    if channel_id is None:
        return None
    snippet = _dict(item.get("snippet"))
    localized = _dict(snippet.get("localized"))
    details = _dict(item.get("contentDetails"))
    stats = _dict(item.get("statistics"))
    custom_url = _text(snippet.get("customUrl"))
    handle = None
    if custom_url and re.fullmatch(r"@?[\w.\-·]+", custom_url):
        handle = "@" + custom_url.lstrip("@")
    data = _compact(
        {
            "title": _text(snippet.get("title")) or _text(localized.get("title")),
            **_description(snippet.get("description") or localized.get("description")),
            "language": _language(snippet.get("defaultLanguage")),
            "image_url": _best_thumbnail(snippet.get("thumbnails")),
            "custom_url": custom_url,
            "handle": handle,
            "uploads_playlist_id": _text(_dict(details.get("relatedPlaylists")).get("uploads")),
            "country": _text(snippet.get("country")),
        }
    )
    pairs: list[tuple[str, Any]] = [
        ("views", stats.get("viewCount")),
        ("videos", stats.get("videoCount")),
    ]
    if stats.get("hiddenSubscriberCount") is not True:
        pairs.insert(0, ("subscribers", stats.get("subscriberCount")))
    return ShowRecord(
        source=SOURCE,
        external_id=channel_id,
        data=data,
        url=CHANNEL_URL.format(channel_id),
        metrics=_metrics(pairs),
    )


# -- videos ----------------------------------------------------------------------------


def _is_live(item: Mapping[str, Any]) -> bool:
    broadcast = _text(_dict(item.get("snippet")).get("liveBroadcastContent"))
    if broadcast in ("live", "upcoming"):
        return True
    streaming = item.get("liveStreamingDetails")
    return isinstance(streaming, dict) and bool(streaming) and not streaming.get("actualEndTime")


def _is_short(item: Mapping[str, Any], duration: int | None) -> bool:
    if duration is not None and duration <= SHORT_MAX_S:
        return True
    if duration is not None and duration > SHORTS_TAG_MAX_S:
        return False
    snippet = _dict(item.get("snippet"))
    tags = snippet.get("tags") if isinstance(snippet.get("tags"), list) else []
    if any(
        isinstance(t, str) and t.strip().lstrip("#").lower() in ("short", "shorts") for t in tags
    ):
        return True
    texts = [snippet.get("title"), snippet.get("description")]
    return any(isinstance(t, str) and _SHORTS.search(t) for t in texts)


def _video_duration(item: Mapping[str, Any]) -> int | None:
    return duration_seconds(_dict(item.get("contentDetails")).get("duration"))


def typical_lengths(items: Iterable[Mapping[str, Any]]) -> dict[str, float]:
    """Channel id → median length of its non-live, non-short videos among ``items``
    (only channels with at least :data:`LONG_CHANNEL_MIN_VIDEOS` such videos)."""
    lengths: dict[str, list[int]] = {}
    for item in items:
        channel = _text(_dict(item.get("snippet")).get("channelId"))
        duration = _video_duration(item)
        if channel is None or duration is None or _is_live(item) or _is_short(item, duration):
            continue
        lengths.setdefault(channel, []).append(duration)
    return {
        channel: float(statistics.median(values))
        for channel, values in lengths.items()
        if len(values) >= LONG_CHANNEL_MIN_VIDEOS
    }


def video_kind(item: Mapping[str, Any], channel_median_s: float | None = None) -> str:
    """``episode``, ``trailer``, ``clip``, ``short`` or ``live`` (rules in the module doc)."""
    if _is_live(item):
        return "live"
    duration = _video_duration(item)
    if _is_short(item, duration):
        return "short"
    title = _text(_dict(item.get("snippet")).get("title")) or ""
    if _TRAILER.search(title) and (duration is None or duration < TRAILER_MAX_S):
        return "trailer"
    if _CLIP.search(title):
        return "clip"
    if (
        duration is not None
        and duration < CLIP_MAX_S
        and channel_median_s is not None
        and channel_median_s >= LONG_CHANNEL_MEDIAN_S
    ):
        return "clip"
    return "episode"


def video_record(
    item: Mapping[str, Any], channel_median_s: float | None = None
) -> EpisodeRecord | None:
    """A ``youtube#video`` resource → episode record (None without an id)."""
    video_id = _text(item.get("id"))
    if video_id is None:
        return None
    snippet = _dict(item.get("snippet"))
    localized = _dict(snippet.get("localized"))
    details = _dict(item.get("contentDetails"))
    stats = _dict(item.get("statistics"))
    live = _is_live(item)
    tags = snippet.get("tags") if isinstance(snippet.get("tags"), list) else []
    explicit = True if _dict(details.get("contentRating")).get("ytRating") else None
    data = _compact(
        {
            "title": _text(snippet.get("title")) or _text(localized.get("title")),
            **_description(snippet.get("description") or localized.get("description")),
            "published_at": _timestamp(snippet.get("publishedAt")),
            "duration_s": None if live else _video_duration(item),
            "image_url": _best_thumbnail(snippet.get("thumbnails")),
            "language": _language(
                snippet.get("defaultAudioLanguage"), snippet.get("defaultLanguage")
            ),
            "tags": [t.strip() for t in tags if isinstance(t, str) and t.strip()],
            "category_id": _text(snippet.get("categoryId")),
            "explicit": explicit,
            "link": VIDEO_URL.format(video_id),
            "kind": video_kind(item, channel_median_s),
        }
    )
    return EpisodeRecord(
        source=SOURCE,
        external_id=video_id,
        show_external_id=_text(snippet.get("channelId")) or "",
        data=data,
        url=VIDEO_URL.format(video_id),
        metrics=_metrics(
            [
                ("views", stats.get("viewCount")),
                ("likes", stats.get("likeCount")),
                ("comments", stats.get("commentCount")),
            ]
        ),
    )


# -- playlist items and search ---------------------------------------------------------


def playlist_video_ids(body: Any) -> list[str]:
    """Video ids of a ``playlistItems.list`` page, in playlist order, without repeats."""
    ids: list[str] = []
    for item in _items(body):
        video_id = _text(_dict(item.get("contentDetails")).get("videoId")) or _text(
            _dict(_dict(_dict(item.get("snippet")).get("resourceId"))).get("videoId")
        )
        if video_id and video_id not in ids:
            ids.append(video_id)
    return ids


def _search_results(items: list[dict[str, Any]]) -> Normalized:
    result = Normalized()
    for item in items:
        ident = _dict(item.get("id"))
        snippet = _dict(item.get("snippet"))
        title = _text(snippet.get("title"))
        title = html.unescape(title) if title else None
        kind = _text(ident.get("kind"))
        image = _best_thumbnail(snippet.get("thumbnails"))
        if kind == "youtube#channel" and _text(ident.get("channelId")):
            channel_id = _text(ident.get("channelId")) or ""
            result.shows.append(
                ShowRecord(
                    source=SOURCE,
                    external_id=channel_id,
                    data=_compact({"title": title, "image_url": image}),
                    url=CHANNEL_URL.format(channel_id),
                )
            )
        elif kind == "youtube#video" and _text(ident.get("videoId")):
            video_id = _text(ident.get("videoId")) or ""
            pseudo = {"snippet": {**snippet, "title": title}}
            result.episodes.append(
                EpisodeRecord(
                    source=SOURCE,
                    external_id=video_id,
                    show_external_id=_text(snippet.get("channelId")) or "",
                    data=_compact(
                        {
                            "title": title,
                            "published_at": _timestamp(snippet.get("publishedAt")),
                            "image_url": image,
                            "link": VIDEO_URL.format(video_id),
                            "kind": video_kind(pseudo),
                        }
                    ),
                    url=VIDEO_URL.format(video_id),
                )
            )
    return result


# -- entry point -----------------------------------------------------------------------


def normalize(endpoint: str, params: dict[str, Any], body: Any) -> Normalized:
    """Records from one YouTube API response; pure, so stored payloads can be replayed."""
    name = endpoint.strip("/").split("/", 1)[0].split("?", 1)[0]
    items = _items(body)
    if name == "channels":
        shows = [r for r in (channel_record(i) for i in items) if r is not None]
        return Normalized(shows=shows)
    if name == "videos":
        medians = typical_lengths(items)
        episodes = []
        for item in items:
            channel = _text(_dict(item.get("snippet")).get("channelId")) or ""
            record = video_record(item, medians.get(channel))
            if record is not None:
                episodes.append(record)
        return Normalized(episodes=episodes)
    if name == "search":
        return _search_results(items)
    if name == "playlistItems":
        return Normalized()
    raise ValueError(f"no YouTube normaliser for endpoint {endpoint!r}")
