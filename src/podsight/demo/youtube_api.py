"""The YouTube Data API v3 for the demo and the tests: a replay backend and the world's channels.

:class:`YouTubeBackend` answers ``/channels``, ``/playlistItems``, ``/videos`` and
``/search`` from resources held in the API's own shapes, with the API's paging
(``pageToken``/``nextPageToken`` in YouTube's own token format), ``part``
filtering, limits (50 ids per call) and error bodies::

    {"error": {"code": 400, "message": "...", "errors": [{"reason": "keyInvalid", ...}]}}

It keeps score of the quota units its callers used (``units_used``), like Google
does, and can pretend the quota is gone (``quota_exhausted`` / ``quota_limit``).

Data comes from three places:

- :meth:`YouTubeBackend.from_seed`: the first seed project's real export of the
  Huberman Lab channel (1 channel, 20 videos with their counts);
- :func:`build_youtube_backend`: the demo world's shows as YouTube channels, with
  the differences real channels have (see :func:`build_youtube_backend`);
- any resources a test builds.

Counts never change by themselves; :meth:`YouTubeBackend.advance` lets time pass.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import random
import re
import statistics
import threading
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from podsight.demo.apiserver import ApiRequest, Reply
from podsight.demo.world import EPOCH, Episode, Show, World, english_title, shortened_title
from podsight.sources.text import html_to_text

__all__ = [
    "COSTS",
    "YouTubeBackend",
    "build_youtube_backend",
    "google_error",
    "iso_duration",
    "page_token",
    "parse_page_token",
    "youtube_demo_ids",
]

COSTS = {"channels": 1, "playlistItems": 1, "videos": 1, "search": 100}
MAX_RESULTS = 50
PARTS: dict[str, frozenset[str]] = {
    "channels": frozenset(
        {
            "auditDetails",
            "brandingSettings",
            "contentDetails",
            "contentOwnerDetails",
            "id",
            "localizations",
            "snippet",
            "statistics",
            "status",
            "topicDetails",
        }
    ),
    "playlistItems": frozenset({"contentDetails", "id", "snippet", "status"}),
    "videos": frozenset(
        {
            "contentDetails",
            "fileDetails",
            "id",
            "liveStreamingDetails",
            "localizations",
            "player",
            "processingDetails",
            "recordingDetails",
            "snippet",
            "statistics",
            "status",
            "suggestions",
            "topicDetails",
        }
    ),
    "search": frozenset({"id", "snippet"}),
}
_STATUS_TEXT = {400: "INVALID_ARGUMENT", 403: "PERMISSION_DENIED", 404: "NOT_FOUND"}
_QUOTA_MESSAGE = (
    "The request cannot be completed because you have exceeded your "
    '<a href="/youtube/v3/getting-started#quota">quota</a>.'
)


# -- wire formats ----------------------------------------------------------------------


def google_error(
    status: int,
    reason: str,
    message: str,
    *,
    domain: str = "global",
    location: str | None = None,
    details: list[dict[str, Any]] | None = None,
) -> Reply:
    """An error answer in Google's JSON shape (never cached)."""
    entry: dict[str, Any] = {"message": message, "domain": domain, "reason": reason}
    if location:
        entry.update(location=location, locationType="parameter")
    error: dict[str, Any] = {"code": status, "message": message, "errors": [entry]}
    if status in _STATUS_TEXT:
        error["status"] = _STATUS_TEXT[status]
    if details:
        error["details"] = details
    return Reply(status, {"error": error}, cacheable=False)


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def page_token(offset: int) -> str:
    """YouTube's page token for an offset (protobuf ``{1: offset, 2: 0}``): 10 → ``CAoQAA``."""
    raw = b"\x08" + _varint(offset) + b"\x10\x00"
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def parse_page_token(token: str) -> int | None:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (ValueError, TypeError):
        return None
    if len(raw) < 4 or raw[0] != 0x08:
        return None
    offset, shift, index = 0, 0, 1
    while index < len(raw):
        byte = raw[index]
        offset |= (byte & 0x7F) << shift
        index += 1
        if not byte & 0x80:
            break
        shift += 7
    if raw[index : index + 2] not in (b"\x10\x00", b"\x10\x01"):
        return None
    return offset


def _etag(value: Any) -> str:
    blob = json.dumps(value, sort_keys=True, ensure_ascii=False).encode()
    return base64.urlsafe_b64encode(hashlib.sha1(blob).digest()).decode().rstrip("=")


def iso_duration(seconds: int | None) -> str:
    """Seconds → YouTube's ISO 8601 duration (``PT1H2M3S``; ``P0D`` for none)."""
    if not seconds or seconds <= 0:
        return "P0D"
    days, rest = divmod(int(seconds), 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    out = "P" + (f"{days}D" if days else "")
    clock = (f"{hours}H" if hours else "") + (f"{minutes}M" if minutes else "")
    clock += f"{secs}S" if secs else ""
    return out + ("T" + clock if clock else "")


def _zulu(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _search_escape(text: str) -> str:
    """Search snippets carry HTML-escaped titles, as the real API sends them."""
    return (
        text.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&quot;")
        .replace("'", "&#39;")
    )


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _three_figures(value: int) -> int:
    """Subscriber counts are shown rounded to three significant figures."""
    if value < 1000:
        return value
    digits = int(math.log10(value)) + 1
    step = 10 ** (digits - 3)
    return value // step * step


def _playlist_item(video: Mapping[str, Any], playlist_id: str, position: int) -> dict[str, Any]:
    video_id = video["id"]
    snippet = video.get("snippet") or {}
    suffix = hashlib.sha1(video_id.encode()).hexdigest()[:16].upper()
    item_snippet = {
        "publishedAt": snippet.get("publishedAt"),
        "channelId": snippet.get("channelId"),
        "title": snippet.get("title"),
        "description": snippet.get("description"),
        "thumbnails": snippet.get("thumbnails"),
        "channelTitle": snippet.get("channelTitle"),
        "playlistId": playlist_id,
        "position": position,
        "resourceId": {"kind": "youtube#video", "videoId": video_id},
        "videoOwnerChannelTitle": snippet.get("channelTitle"),
        "videoOwnerChannelId": snippet.get("channelId"),
    }
    item: dict[str, Any] = {
        "kind": "youtube#playlistItem",
        "etag": _etag([playlist_id, video_id, position]),
        "id": base64.b64encode(f"{playlist_id}.{suffix}".encode()).decode(),
        "snippet": {k: v for k, v in item_snippet.items() if v is not None},
        "contentDetails": {"videoId": video_id},
        "status": {"privacyStatus": "public"},
    }
    if snippet.get("publishedAt"):
        item["contentDetails"]["videoPublishedAt"] = snippet["publishedAt"]
    return item


def uploads_playlist_id(channel: Mapping[str, Any]) -> str:
    related = (channel.get("contentDetails") or {}).get("relatedPlaylists") or {}
    return related.get("uploads") or "UU" + str(channel["id"])[2:]


def uploads_playlists(
    channels: Iterable[Mapping[str, Any]], videos: Iterable[Mapping[str, Any]]
) -> dict[str, list[dict[str, Any]]]:
    """Each channel's uploads playlist: its videos, newest first."""
    by_channel: dict[str, list[Mapping[str, Any]]] = {}
    for video in videos:
        channel_id = (video.get("snippet") or {}).get("channelId")
        if channel_id:
            by_channel.setdefault(channel_id, []).append(video)
    out: dict[str, list[dict[str, Any]]] = {}
    for channel in channels:
        playlist = uploads_playlist_id(channel)
        own = sorted(
            by_channel.get(channel["id"], []),
            key=lambda v: ((v.get("snippet") or {}).get("publishedAt") or "", v["id"]),
            reverse=True,
        )
        out[playlist] = [_playlist_item(v, playlist, i) for i, v in enumerate(own)]
    return out


# -- backend ---------------------------------------------------------------------------


class YouTubeBackend:
    """Answers like the YouTube Data API v3 from resources in its own shapes."""

    def __init__(
        self,
        channels: list[dict[str, Any]],
        videos: list[dict[str, Any]],
        playlist_items: dict[str, list[dict[str, Any]]] | None = None,
        api_key: str = "demo",
        *,
        quota_limit: int | None = None,
    ) -> None:
        self.api_key = api_key
        # Own copies (JSON round trip: the resources are JSON, and it is fast).
        self.channels: dict[str, dict[str, Any]] = {c["id"]: c for c in _json_copy(channels)}
        self.videos: dict[str, dict[str, Any]] = {v["id"]: v for v in _json_copy(videos)}
        if playlist_items is None:
            self.playlist_items = uploads_playlists(self.channels.values(), self.videos.values())
        else:
            self.playlist_items = _json_copy(playlist_items)
        self.quota_limit = quota_limit
        self.quota_exhausted = False
        self.units_used = 0
        self.calls: Counter[str] = Counter()
        self.days_advanced = 0
        # Demo only: what each video really is (kind, show slug, world episode index).
        self.truth: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()

    # -- construction -----------------------------------------------------------------

    @classmethod
    def from_seed(cls, path: str | Path, *, api_key: str = "demo") -> YouTubeBackend:
        """The first seed project's export (``seeds/youtubeAPI``) as API resources.

        Titles, descriptions, dates, tags and counts are kept exactly; the export has
        no durations, thumbnails, handles or channel statistics, so those parts are
        left out rather than invented.
        """
        folder = Path(path)
        channel_rows = json.loads((folder / "channels.json").read_text(encoding="utf-8"))
        video_rows = json.loads((folder / "videos.json").read_text(encoding="utf-8"))
        channels = [_seed_channel(row) for row in channel_rows]
        videos = [_seed_video(row) for row in video_rows]
        return cls(channels, videos, api_key=api_key)

    # -- time -------------------------------------------------------------------------

    def advance(self, days: float) -> None:
        """Let ``days`` pass: view, like and comment counts grow (deterministically)."""
        if days <= 0:
            raise ValueError("advance() needs a positive number of days")
        with self._lock:
            self.days_advanced += days
            gained: Counter[str] = Counter()
            for video_id, video in self.videos.items():
                stats = video.get("statistics")
                snippet = video.get("snippet") or {}
                if not isinstance(stats, dict) or snippet.get("liveBroadcastContent") in (
                    "live",
                    "upcoming",
                ):
                    continue
                digest = int(hashlib.sha1(video_id.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF
                factor = (1 + 0.002 + 0.02 * digest) ** days
                for name in ("viewCount", "likeCount", "commentCount"):
                    if name not in stats:
                        continue
                    old = int(stats[name])
                    new = round(old * factor)
                    if name == "viewCount":
                        new = max(new, old + 1)
                        gained[snippet.get("channelId", "")] += new - old
                    stats[name] = str(new)
            for channel_id, channel in self.channels.items():
                stats = channel.get("statistics")
                if not isinstance(stats, dict):
                    continue
                if "viewCount" in stats:
                    stats["viewCount"] = str(int(stats["viewCount"]) + gained[channel_id])
                if "subscriberCount" in stats:
                    grown = round(int(stats["subscriberCount"]) * (1.0005**days)) + 1
                    stats["subscriberCount"] = str(_three_figures(grown))

    # -- HTTP -------------------------------------------------------------------------

    def handle(self, request: ApiRequest) -> Reply:
        name = request.path.strip("/")
        handlers = {
            "channels": self._channels,
            "playlistItems": self._playlist_items,
            "videos": self._videos,
            "search": self._search,
        }
        handler = handlers.get(name)
        if request.method != "GET":
            return google_error(405, "methodNotAllowed", f"Method {request.method} not allowed")
        if handler is None:
            return google_error(404, "notFound", "Not Found")
        key = request.query.get("key", "")
        if not key:
            return google_error(
                403,
                "forbidden",
                "Method doesn't allow unregistered callers (callers without established "
                "identity). Please use API Key or other form of API consumer identity to call "
                "this API.",
            )
        if key != self.api_key:
            return google_error(
                400,
                "keyInvalid",
                "API key not valid. Please pass a valid API key.",
                domain="usageLimits",
                details=[
                    {
                        "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                        "reason": "API_KEY_INVALID",
                        "domain": "googleapis.com",
                        "metadata": {"service": "youtube.googleapis.com"},
                    }
                ],
            )
        cost = COSTS[name]
        with self._lock:
            over = self.quota_limit is not None and self.units_used + cost > self.quota_limit
            if self.quota_exhausted or over:
                return google_error(403, "quotaExceeded", _QUOTA_MESSAGE, domain="youtube.quota")
            # Google charges every request it accepts, invalid parameters included.
            self.units_used += cost
            self.calls[name] += 1
        parts = _parts(name, request.query)
        if isinstance(parts, Reply):
            return parts
        with self._lock:
            return handler(request.query, parts)

    def _channels(self, query: dict[str, str], parts: frozenset[str]) -> Reply:
        if "id" in query:
            wanted = _id_list(query["id"])
            if len(wanted) > MAX_RESULTS:
                return _too_many("id")
            found = [self.channels[i] for i in wanted if i in self.channels]
        elif "forHandle" in query:
            handle = query["forHandle"].strip().lstrip("@").casefold()
            found = [
                c
                for c in self.channels.values()
                if handle
                and str((c.get("snippet") or {}).get("customUrl") or "").lstrip("@").casefold()
                == handle
            ][:1]
        else:
            return google_error(
                400,
                "missingRequiredParameter",
                "No filter selected. Expected one of: forUsername, managedByMe, forHandle, "
                "mySubscribers, categoryId, id, mine",
                location="parameters.",
            )
        body: dict[str, Any] = {
            "kind": "youtube#channelListResponse",
            "etag": "",
            "pageInfo": {"totalResults": len(found), "resultsPerPage": 5},
        }
        if found:  # the real API leaves "items" out when nothing matched
            body["items"] = [_only(c, parts) for c in found]
        body["etag"] = _etag(body)
        return Reply(200, body)

    def _playlist_items(self, query: dict[str, str], parts: frozenset[str]) -> Reply:
        playlist_id = query.get("playlistId", "")
        if not playlist_id:
            return google_error(
                400,
                "missingRequiredParameter",
                "No filter selected. Expected one of: playlistId, id",
                location="parameters.",
            )
        if playlist_id not in self.playlist_items:
            return google_error(
                404,
                "playlistNotFound",
                "The playlist identified with the request's <code>playlistId</code> parameter "
                "cannot be found.",
                domain="youtube.playlistItem",
                location="playlistId",
            )
        items = self.playlist_items[playlist_id]
        if query.get("videoId"):
            items = [i for i in items if i["contentDetails"]["videoId"] == query["videoId"]]
        per_page = _max_results(query)
        if isinstance(per_page, Reply):
            return per_page
        page = _page(items, query.get("pageToken"), per_page)
        if isinstance(page, Reply):
            return page
        chosen, next_token, prev_token = page
        body: dict[str, Any] = {"kind": "youtube#playlistItemListResponse", "etag": ""}
        if next_token:
            body["nextPageToken"] = next_token
        if prev_token:
            body["prevPageToken"] = prev_token
        body["items"] = [_only(i, parts) for i in chosen]
        body["pageInfo"] = {"totalResults": len(items), "resultsPerPage": per_page}
        body["etag"] = _etag(body)
        return Reply(200, body)

    def _videos(self, query: dict[str, str], parts: frozenset[str]) -> Reply:
        if "id" not in query:
            return google_error(
                400,
                "missingRequiredParameter",
                "No filter selected. Expected one of: myRating, chart, id",
                location="parameters.",
            )
        wanted = _id_list(query["id"])
        if len(wanted) > MAX_RESULTS:
            return _too_many("id")
        found = [self.videos[i] for i in wanted if i in self.videos]
        body: dict[str, Any] = {
            "kind": "youtube#videoListResponse",
            "etag": "",
            "items": [_only(v, parts) for v in found],
            "pageInfo": {"totalResults": len(found), "resultsPerPage": len(found)},
        }
        body["etag"] = _etag(body)
        return Reply(200, body)

    def _search(self, query: dict[str, str], parts: frozenset[str]) -> Reply:
        types = {t.strip() for t in query.get("type", "video,channel,playlist").split(",")}
        if not types <= {"video", "channel", "playlist"}:
            return google_error(
                400, "invalidSearchFilter", "Invalid value for type.", location="type"
            )
        terms = [_fold(t) for t in re.findall(r"\w+", query.get("q", ""))]
        channel_filter = query.get("channelId")
        scored: list[tuple[float, str, str, dict[str, Any]]] = []
        if "channel" in types and not channel_filter:
            for channel in self.channels.values():
                snippet = channel.get("snippet") or {}
                score = _match(terms, snippet.get("title"), snippet.get("description"))
                if score is not None:
                    subs = int((channel.get("statistics") or {}).get("subscriberCount") or 0)
                    scored.append(
                        (score + subs / 1e9, snippet.get("publishedAt") or "", "channel", channel)
                    )
        if "video" in types:
            for video in self.videos.values():
                snippet = video.get("snippet") or {}
                if channel_filter and snippet.get("channelId") != channel_filter:
                    continue
                score = _match(
                    terms,
                    snippet.get("title"),
                    snippet.get("description"),
                    *snippet.get("tags", []),
                )
                if score is not None:
                    views = int((video.get("statistics") or {}).get("viewCount") or 0)
                    scored.append(
                        (score + views / 1e12, snippet.get("publishedAt") or "", "video", video)
                    )
        if query.get("order") == "date":
            scored.sort(key=lambda s: (s[1], s[3]["id"]), reverse=True)
        else:
            scored.sort(key=lambda s: (-s[0], s[3]["id"]))
        per_page = _max_results(query)
        if isinstance(per_page, Reply):
            return per_page
        page = _page(scored, query.get("pageToken"), per_page)
        if isinstance(page, Reply):
            return page
        chosen, next_token, prev_token = page
        body: dict[str, Any] = {"kind": "youtube#searchListResponse", "etag": ""}
        if next_token:
            body["nextPageToken"] = next_token
        if prev_token:
            body["prevPageToken"] = prev_token
        body["regionCode"] = query.get("regionCode", "US")
        body["pageInfo"] = {"totalResults": len(scored), "resultsPerPage": per_page}
        body["items"] = [_search_result(kind, resource) for _, _, kind, resource in chosen]
        body["etag"] = _etag(body)
        return Reply(200, body)


def _parts(name: str, query: Mapping[str, str]) -> frozenset[str] | Reply:
    raw = query.get("part", "")
    if not raw.strip():
        return google_error(400, "required", "Required parameter: part", location="part")
    parts = frozenset(p.strip() for p in raw.split(",") if p.strip())
    unknown = sorted(parts - PARTS[name])
    if unknown:
        return google_error(
            400, "unknownPart", f"'{unknown[0]}'", domain="youtube.part", location="part"
        )
    return parts


def _json_copy(value: Any) -> Any:
    return json.loads(json.dumps(value))


def _only(resource: Mapping[str, Any], parts: frozenset[str]) -> dict[str, Any]:
    """The resource with only the asked-for parts (encoded at once, so not deep-copied)."""
    return {k: v for k, v in resource.items() if k in ("kind", "etag", "id") or k in parts}


def _id_list(raw: str) -> list[str]:
    out: list[str] = []
    for value in raw.split(","):
        value = value.strip()
        if value and value not in out:
            out.append(value)
    return out


def _too_many(parameter: str) -> Reply:
    return google_error(
        400,
        "invalidFilters",
        f"The request specifies more than {MAX_RESULTS} values for the <code>{parameter}</code> "
        "filter parameter.",
        domain="youtube.parameter",
        location=parameter,
    )


def _max_results(query: Mapping[str, str]) -> int | Reply:
    raw = query.get("maxResults", "5")
    try:
        value = int(raw)
    except ValueError:
        value = -1
    if not 0 <= value <= MAX_RESULTS:
        return google_error(
            400,
            "invalidParameter",
            f"Invalid value '{raw}'. Values must be within the range: [0, {MAX_RESULTS}]",
            location="maxResults",
        )
    return value


def _page(items: list[Any], token: str | None, per_page: int) -> tuple[list[Any], str, str] | Reply:
    offset = 0
    if token:
        parsed = parse_page_token(token)
        if parsed is None or parsed > len(items):
            return google_error(
                400,
                "invalidPageToken",
                "The request specifies an invalid page token.",
                domain="youtube.parameter",
                location="pageToken",
            )
        offset = parsed
    chosen = items[offset : offset + per_page]
    end = offset + len(chosen)
    next_token = page_token(end) if per_page and end < len(items) else ""
    prev_token = page_token(max(0, offset - per_page)) if offset else ""
    return chosen, next_token, prev_token


def _match(terms: list[str], *texts: Any) -> float | None:
    """None unless every term occurs; more when they occur in the first text (title)."""
    folded = [_fold(t) if isinstance(t, str) else "" for t in texts]
    everything = " ".join(folded)
    if not all(term in everything for term in terms):
        return None
    return float(sum(term in folded[0] for term in terms)) if folded else 0.0


def _search_result(kind: str, resource: Mapping[str, Any]) -> dict[str, Any]:
    snippet = resource.get("snippet") or {}
    description = " ".join(str(snippet.get("description") or "").split())
    if len(description) > 160:
        description = description[:157].rsplit(" ", 1)[0] + " ..."
    thumbs = snippet.get("thumbnails") or {}
    is_channel = kind == "channel"
    result_snippet: dict[str, Any] = {
        "publishedAt": snippet.get("publishedAt"),
        "channelId": resource["id"] if is_channel else snippet.get("channelId"),
        "title": _search_escape(str(snippet.get("title") or "")),
        "description": description,
        "thumbnails": {
            name: ({"url": t["url"]} if is_channel else t)
            for name, t in thumbs.items()
            if name in ("default", "medium", "high") and isinstance(t, dict) and t.get("url")
        },
        "channelTitle": snippet.get("title") if is_channel else snippet.get("channelTitle"),
        "liveBroadcastContent": snippet.get("liveBroadcastContent", "none"),
        "publishTime": snippet.get("publishedAt"),
    }
    ident = (
        {"kind": "youtube#channel", "channelId": resource["id"]}
        if is_channel
        else {"kind": "youtube#video", "videoId": resource["id"]}
    )
    item = {
        "kind": "youtube#searchResult",
        "etag": "",
        "id": ident,
        "snippet": {k: v for k, v in result_snippet.items() if v is not None},
    }
    item["etag"] = _etag(item)
    return item


# -- the first seed's export -----------------------------------------------------------


def _seed_channel(row: Mapping[str, Any]) -> dict[str, Any]:
    channel_id = row["channel_id"]
    snippet = {
        "title": row.get("title") or row.get("channel_title"),
        "description": row.get("description") or "",
        "publishedAt": row.get("published_at") or row.get("publish_time"),
        "localized": {
            "title": row.get("title") or row.get("channel_title"),
            "description": row.get("description") or "",
        },
    }
    channel = {
        "kind": "youtube#channel",
        "etag": "",
        "id": channel_id,
        "snippet": {k: v for k, v in snippet.items() if v is not None},
        "contentDetails": {"relatedPlaylists": {"likes": "", "uploads": "UU" + channel_id[2:]}},
    }
    channel["etag"] = _etag(channel)
    return channel


def _seed_video(row: Mapping[str, Any]) -> dict[str, Any]:
    tags = [t.strip() for t in str(row.get("tags") or "").split(",") if t.strip()]
    snippet: dict[str, Any] = {
        "publishedAt": row.get("published_at"),
        "channelId": row.get("channel_id"),
        "title": row.get("video_title"),
        "description": row.get("description") or "",
        "channelTitle": row.get("channel_title"),
        "tags": tags or None,
        "categoryId": row.get("category_id"),
        "liveBroadcastContent": row.get("live_broadcast_content") or "none",
        "defaultLanguage": row.get("default_language"),
        "localized": {"title": row.get("video_title"), "description": row.get("description") or ""},
        "defaultAudioLanguage": row.get("default_audio_language"),
    }
    stats = {
        name: str(int(row[column]))
        for name, column in (
            ("viewCount", "view_count"),
            ("likeCount", "like_count"),
            ("favoriteCount", "favorite_count"),
            ("commentCount", "comment_count"),
        )
        if row.get(column) is not None
    }
    video: dict[str, Any] = {
        "kind": "youtube#video",
        "etag": "",
        "id": row["video_id"],
        "snippet": {k: v for k, v in snippet.items() if v is not None},
    }
    if stats:
        video["statistics"] = stats
    video["etag"] = _etag(video)
    return video


# -- the demo world's channels ---------------------------------------------------------

_ID_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
_NUMBERING = re.compile(r"^(?:#\d+: |Ep\. \d+ – |\d+\. |E\d+ \| )")
_COUNTRIES = {
    "en": ("US", "US", "GB", "CA", None),
    "es": ("ES", "MX", "AR"),
    "de": ("DE", "AT", None),
    "fr": ("FR", "CA", "BE"),
    "pt": ("BR", "BR", "PT"),
    "sv": ("SE", None),
}
_CATEGORY_IDS = {
    "Technology": "28",
    "Science": "28",
    "News": "25",
    "Comedy": "23",
    "Sports": "17",
    "Education": "27",
    "History": "27",
    "Arts": "24",
    "Health & Fitness": "26",
    "Business": "22",
    "Society & Culture": "22",
}
_CLIP_TITLES = (
    "{base} (Clip)",
    "CLIP: {base}",
    "{base} | Highlights",
    "Highlights: {base}",
    "{base} #clips",
)
_UNMARKED_CLIP_TITLES = (
    "{host} on what most people miss",
    "The moment that changed how {host} thinks",
    "{base}: the part everyone asks about",
)
_SHORT_TITLES = ("{base} #shorts", "Wait for the end… #shorts", "{host} in 30 seconds", "{base}")
_THUMBS = (
    ("default", "default", 120, 90),
    ("medium", "mqdefault", 320, 180),
    ("high", "hqdefault", 480, 360),
    ("standard", "sddefault", 640, 480),
)
UNMARKED_CLIPS_MIN_MEDIAN_S = 55 * 60
_VARIANT_SALT = 0x7E57A11  # seeds the title and re-upload variants' own stream


@dataclass
class _ChannelPlan:
    show: Show
    channel_id: str
    title: str
    handle: str
    host_named: bool
    features: set[str]
    seed: int
    subscribers: int
    hidden_subscribers: bool
    comments_off: bool
    country: str | None
    default_language: str | None
    title_suffix: bool
    strip_numbering: bool
    number_style: str | None  # "suffix" (" #12") | "prefix" ("#12 | ") | None
    guest_series: bool
    shift_h: int  # hours between the RSS release and the upload
    ad_s: int  # dynamic ads in the RSS audio that the video does not have
    intro_s: int  # a video-only intro
    start_fraction: float  # the channel started uploading this far into the back catalogue
    missing_rate: float
    clip_rate: float
    short_rate: float
    created: datetime = field(default_factory=lambda: EPOCH)
    # Drawn after the rest (their own stream), so adding them left the other draws as they
    # were: a channel that uploads English titles for a non-English show, one that
    # shortens titles, one that re-uploads some episodes weeks later.
    translated: bool = False
    shorten_rate: float = 0.0
    reupload_rate: float = 0.0


def _youtube_id(rng: random.Random, length: int, last: str) -> str:
    return "".join(rng.choice(_ID_ALPHABET) for _ in range(length - 1)) + rng.choice(last)


def _median_full_s(show: Show) -> float:
    lengths = [e.duration_s for e in show.episodes if e.episode_type == "full"]
    return float(statistics.median(lengths)) if lengths else 0.0


def _channel_plans(world: World) -> list[_ChannelPlan]:
    """Which shows have a channel and how each channel differs: cheap, no videos."""
    rng = random.Random(f"{world.seed}-youtube")
    count = len(world.shows)
    order = list(range(count))
    rng.shuffle(order)
    without = set(order[: max(1, round(count * 0.25))] if count > 1 else [])
    with_channel = [i for i in order if i not in without]
    forced: dict[int, set[str]] = {i: set() for i in with_channel}
    if with_channel:
        # Features the tests rely on, pre-assigned so they exist for every seed.
        forced[with_channel[0]] |= {"clips", "shorts"}
        forced[with_channel[1 % len(with_channel)]].add("trailer")
        forced[with_channel[2 % len(with_channel)]].add("live")
        forced[with_channel[3 % len(with_channel)]].add("host_named")
        long_form = [
            i for i in with_channel if _median_full_s(world.shows[i]) >= UNMARKED_CLIPS_MIN_MEDIAN_S
        ]
        if long_form:
            forced[long_form[0]] |= {"clips", "unmarked_clips"}
    tested = {i for i, features in forced.items() if features}  # left as the tests know them
    plans: list[_ChannelPlan] = []
    handles: set[str] = set()
    for index, show in enumerate(world.shows):
        srng = random.Random(rng.getrandbits(64))  # one stream per show: shows don't shift others
        if index not in forced:
            continue
        features = set(forced[index])
        for feature, chance in (("clips", 0.35), ("shorts", 0.35), ("live", 0.1)):
            if srng.random() < chance:
                features.add(feature)
        if srng.random() < 0.2:
            features.add("host_named")
        long_form = _median_full_s(show) >= UNMARKED_CLIPS_MIN_MEDIAN_S
        if long_form and srng.random() < 0.5 and "clips" in features:
            features.add("unmarked_clips")
        host_named = "host_named" in features
        if host_named:
            title = show.hosts[0].name
        else:
            title = srng.choice(
                (
                    show.title,
                    show.title,
                    show.title,
                    f"{show.title} Podcast",
                    f"{show.title} (Official)",
                )
                if "podcast" not in show.title.lower()
                else (show.title,)
            )
        base = re.sub(r"[^a-z0-9]", "", _fold(title))[:28] or "channel"
        handle = base
        while handle in handles:
            handle = f"{base}{srng.randint(2, 99)}"
        handles.add(handle)
        plans.append(
            _ChannelPlan(
                show=show,
                channel_id="UC" + _youtube_id(srng, 22, "AQgw"),
                title=title,
                handle="@" + handle,
                host_named=host_named,
                features=features,
                seed=srng.getrandbits(64),
                subscribers=int(10 ** srng.uniform(3.0, 6.2)),
                hidden_subscribers=srng.random() < 0.1,
                comments_off=srng.random() < 0.1,
                country=srng.choice(_COUNTRIES.get(show.language, (None,))),
                default_language=show.language_tag if srng.random() < 0.6 else None,
                title_suffix=srng.random() < 0.45,
                strip_numbering=srng.random() < 0.5,
                number_style=srng.choice((None, None, "suffix", "prefix")),
                guest_series=srng.random() < 0.15,
                shift_h=srng.choice((-2, 0, 0, 1, 3, 6, 12)),
                ad_s=srng.choice((0, 30, 60, 90, 120, 180)),
                intro_s=srng.choice((0, 0, 8, 15, 30)),
                start_fraction=0.0 if srng.random() < 0.5 else srng.uniform(0.1, 0.5),
                missing_rate=srng.choice((0.0, 0.03, 0.08)),
                clip_rate=srng.uniform(0.12, 0.22),
                short_rate=srng.uniform(0.1, 0.2),
            )
        )
        if index not in tested:
            vrng = random.Random(plans[-1].seed ^ _VARIANT_SALT)
            plans[-1].translated = show.language != "en" and vrng.random() < 0.1
            plans[-1].shorten_rate = vrng.uniform(0.4, 0.8) if vrng.random() < 0.12 else 0.0
            plans[-1].reupload_rate = vrng.uniform(0.03, 0.1) if vrng.random() < 0.08 else 0.0
    return plans


def youtube_demo_ids(world: World) -> dict[str, str]:
    """Show slug → YouTube channel id (``UC`` + 22 characters) for shows that have one."""
    return {plan.show.slug: plan.channel_id for plan in _channel_plans(world)}


class _ChannelRenderer:
    def __init__(self, plan: _ChannelPlan) -> None:
        self.plan = plan
        self.show = plan.show
        self.rng = random.Random(plan.seed)
        self.variant_rng = random.Random(plan.seed ^ _VARIANT_SALT)
        self.videos: list[dict[str, Any]] = []
        self.truth: dict[str, dict[str, Any]] = {}
        self.category = _CATEGORY_IDS.get(self.show.categories[0][0], "22")
        self.audio_language = self.show.language_tag

    # building blocks --------------------------------------------------------------

    def _host(self) -> str:
        return self.rng.choice(self.show.hosts).name

    def _footer(self) -> str:
        plan = self.plan
        return (
            f"Subscribe to {plan.title}: https://www.youtube.com/{plan.handle}?sub_confirmation=1\n"
            f"Listen to {self.show.title} on your podcast app: {self.show.link}"
        )

    def _stats(self, kind: str, published: datetime) -> dict[str, str]:
        rng = self.rng
        age_days = max(0.05, (EPOCH - published).total_seconds() / 86400)
        reach = self.plan.subscribers * rng.lognormvariate(math.log(0.08), 0.6)
        scale = {"episode": 1.0, "clip": 0.6, "short": 2.5, "trailer": 0.3}.get(kind, 1.0)
        views = int(reach * scale * (1 - math.exp(-age_days / 10))) + rng.randint(0, 40)
        stats = {
            "viewCount": str(views),
            "likeCount": str(int(views * rng.uniform(0.015, 0.05))),
            "favoriteCount": "0",
            "commentCount": str(int(views * rng.uniform(0.0008, 0.004))),
        }
        if self.plan.comments_off:
            del stats["commentCount"]
        return stats

    def _add(
        self,
        *,
        kind: str,
        title: str,
        description: str,
        published: datetime,
        duration_s: int | None,
        episode: Episode | None,
        live_start: datetime | None = None,
    ) -> str:
        rng = self.rng
        video_id = _youtube_id(rng, 11, "AEIMQUYcgkosw048")
        thumbs = {
            name: {
                "url": f"https://i.ytimg.demo.invalid/vi/{video_id}/{file}.jpg",
                "width": width,
                "height": height,
            }
            for name, file, width, height in _THUMBS
        }
        tags = [self.show.title.lower(), *self.show.topics[:3]]
        snippet: dict[str, Any] = {
            "publishedAt": _zulu(published),
            "channelId": self.plan.channel_id,
            "title": title,
            "description": description,
            "thumbnails": thumbs,
            "channelTitle": self.plan.title,
            "tags": tags,
            "categoryId": self.category,
            "liveBroadcastContent": "upcoming" if live_start else "none",
            "localized": {"title": title, "description": description},
            "defaultAudioLanguage": self.audio_language,
        }
        if self.plan.default_language:
            snippet["defaultLanguage"] = self.plan.default_language
        video: dict[str, Any] = {
            "kind": "youtube#video",
            "etag": "",
            "id": video_id,
            "snippet": snippet,
            "contentDetails": {
                "duration": iso_duration(duration_s),
                "dimension": "2d",
                "definition": "hd" if kind != "short" else "sd",
                "caption": "true" if rng.random() < 0.3 else "false",
                "licensedContent": False,
                "contentRating": {},
                "projection": "rectangular",
            },
        }
        if live_start is not None:
            video["statistics"] = {
                "viewCount": "0",
                "likeCount": "0",
                "favoriteCount": "0",
                "commentCount": "0",
            }
            video["liveStreamingDetails"] = {"scheduledStartTime": _zulu(live_start)}
        else:
            video["statistics"] = self._stats(kind, published)
        video["etag"] = _etag(video)
        self.videos.append(video)
        self.truth[video_id] = {
            "kind": kind,
            "show": self.show.slug,
            "episode": episode.index if episode is not None else None,
        }
        return video_id

    def _title(self, episode: Episode) -> str:
        plan, rng = self.plan, self.rng
        title = episode.title
        if plan.translated:
            title = english_title(self.show, episode, self.variant_rng) or title
        elif plan.shorten_rate and self.variant_rng.random() < plan.shorten_rate:
            title = shortened_title(title)
        if plan.strip_numbering:
            title = _NUMBERING.sub("", title)
        if plan.number_style and episode.episode:
            title = (
                f"{title} #{episode.episode}"
                if plan.number_style == "suffix"
                else f"#{episode.episode} | {title}"
            )
        has_guest = any(p.role == "guest" for p in episode.persons)
        if plan.guest_series and (has_guest or rng.random() < 0.3):
            title = "GUEST SERIES | " + title
        if plan.title_suffix:
            title = f"{title} | {self.show.title}"
        return title

    # the channel ------------------------------------------------------------------

    def render(self) -> None:
        plan, rng, show = self.plan, self.rng, self.show
        long_form = _median_full_s(show) >= 20 * 60
        start = int(len(show.episodes) * plan.start_fraction)
        uploaded: list[tuple[Episode, datetime, str, str]] = []
        made: Counter[str] = Counter()
        trailer_done = False
        for episode in show.episodes:
            if episode.episode_type == "trailer":
                if "trailer" in plan.features or rng.random() < 0.7:
                    published = episode.published + timedelta(hours=plan.shift_h)
                    if published <= EPOCH:
                        title = episode.title + (f" | {show.title}" if plan.title_suffix else "")
                        self._add(
                            kind="trailer",
                            title=title,
                            description=html_to_text(episode.description_html)
                            + "\n\n"
                            + self._footer(),
                            published=published,
                            duration_s=max(65, episode.duration_s + rng.randint(-5, 20)),
                            episode=episode,
                        )
                        trailer_done = True
                continue
            if episode.index < start or rng.random() < plan.missing_rate:
                continue
            duration = episode.duration_s - plan.ad_s + rng.randint(-15, 15) + plan.intro_s
            duration = max(61, duration)
            if long_form and duration < 600:
                continue  # long-form channels do not upload short audio extras
            published = episode.published + timedelta(
                hours=plan.shift_h, minutes=rng.randint(-30, 90)
            )
            if published > EPOCH:
                continue  # not uploaded yet at the world's "now"
            title = self._title(episode)
            description = html_to_text(episode.description_html) + "\n\n" + self._footer()
            video_id = self._add(
                kind="episode",
                title=title,
                description=description,
                published=published,
                duration_s=duration,
                episode=episode,
            )
            uploaded.append((episode, published, video_id, description))
            if plan.reupload_rate and self.variant_rng.random() < plan.reupload_rate:
                self._reupload(episode, title, description, published, duration)
            if "clips" in plan.features and rng.random() < plan.clip_rate:
                made["clip"] += self._clip(episode, published, video_id)
            if "shorts" in plan.features and rng.random() < plan.short_rate:
                made["short"] += self._short(episode, published)
        if uploaded:
            newest = uploaded[-1]
            if "clips" in plan.features and not made["clip"]:
                self._clip(newest[0], newest[1], newest[2], force=True)
            if "shorts" in plan.features and not made["short"]:
                self._short(newest[0], newest[1], force=True)
        if "trailer" in plan.features and not trailer_done:
            first = min((v[1] for v in uploaded), default=EPOCH - timedelta(days=30))
            self._add(
                kind="trailer",
                title=rng.choice(("Official Trailer", "Teaser")) + f" | {show.title}",
                description=f"{show.title}: what this show is about.\n\n" + self._footer(),
                published=first - timedelta(days=rng.randint(1, 6)),
                duration_s=rng.randint(75, 180),
                episode=None,
            )
        if "live" in plan.features:
            host = self._host()
            self._add(
                kind="live",
                title=f"LIVE Q&A with {host}" + (f" | {show.title}" if plan.title_suffix else ""),
                description=f"Ask {host} anything, live.\n\n" + self._footer(),
                published=EPOCH - timedelta(days=rng.randint(1, 3), hours=rng.randint(0, 12)),
                duration_s=None,
                episode=None,
                live_start=EPOCH + timedelta(days=rng.randint(1, 6), hours=rng.randint(0, 12)),
            )
        oldest = min(
            (datetime.fromisoformat(v["snippet"]["publishedAt"]) for v in self.videos),
            default=EPOCH,
        )
        plan.created = oldest - timedelta(days=rng.randint(3, 400), hours=rng.randint(0, 23))

    def _reupload(
        self, episode: Episode, title: str, description: str, published: datetime, duration: int
    ) -> None:
        """The same episode uploaded again weeks later (a fixed edit, a lost upload): it
        must not take the episode's link from the first upload."""
        vrng = self.variant_rng
        again = published + timedelta(days=vrng.randint(20, 240), hours=vrng.randint(0, 23))
        if again > EPOCH:
            return
        self._add(
            kind="reupload",
            title=vrng.choice((title, f"{title} (re-upload)", f"[Re-upload] {title}")),
            description=description,
            published=again,
            duration_s=max(61, duration + vrng.randint(-4, 4)),
            episode=episode,
        )

    def _clip(
        self, episode: Episode, published: datetime, source_id: str, *, force: bool = False
    ) -> int:
        rng, plan = self.rng, self.plan
        when = published + timedelta(days=rng.randint(1, 4), hours=rng.randint(0, 6))
        if when > EPOCH:
            if not force:
                return 0
            when = max(published + timedelta(minutes=30), EPOCH - timedelta(hours=1))
            if when > EPOCH:
                return 0
        base = _NUMBERING.sub("", episode.title)
        unmarked = "unmarked_clips" in plan.features and rng.random() < 0.5
        pattern = rng.choice(_UNMARKED_CLIP_TITLES if unmarked else _CLIP_TITLES)
        title = pattern.format(base=base, host=self._host())
        self._add(
            kind="clip",
            title=title,
            description=f"From the full episode: https://www.youtube.com/watch?v={source_id}\n\n"
            + self._footer(),
            published=when,
            duration_s=rng.randint(90, 540),
            episode=episode,
        )
        return 1

    def _short(self, episode: Episode, published: datetime, *, force: bool = False) -> int:
        rng = self.rng
        when = published + timedelta(days=rng.randint(0, 2), hours=rng.randint(1, 10))
        if when > EPOCH:
            if not force:
                return 0
            when = EPOCH - timedelta(minutes=rng.randint(5, 50))
        base = _NUMBERING.sub("", episode.title)
        title = rng.choice(_SHORT_TITLES).format(base=base, host=self._host())
        description = "#shorts" if rng.random() < 0.5 else self.show.title
        self._add(
            kind="short",
            title=title,
            description=description,
            published=when,
            duration_s=rng.randint(15, 59),
            episode=episode,
        )
        return 1

    def channel(self) -> dict[str, Any]:
        plan, show = self.plan, self.show
        intro = (
            f"Welcome to the official {show.title} YouTube channel. "
            if plan.host_named or plan.title != show.title
            else ""
        )
        description = intro + html_to_text(show.description_html)
        avatar = hashlib.sha1(plan.channel_id.encode()).hexdigest()[:24]
        views = sum(int(v["statistics"]["viewCount"]) for v in self.videos)
        statistics_: dict[str, Any] = {
            "viewCount": str(views + int(plan.subscribers * 0.3)),
            "subscriberCount": str(_three_figures(plan.subscribers)),
            "hiddenSubscriberCount": plan.hidden_subscribers,
            "videoCount": str(len(self.videos)),
        }
        if plan.hidden_subscribers:
            del statistics_["subscriberCount"]
        snippet: dict[str, Any] = {
            "title": plan.title,
            "description": description,
            "customUrl": plan.handle,
            "publishedAt": _zulu(plan.created),
            "thumbnails": {
                name: {
                    "url": f"https://yt3.demo-ggpht.invalid/{avatar}=s{size}-c-k-c0x00ffffff-no-rj",
                    "width": size,
                    "height": size,
                }
                for name, size in (("default", 88), ("medium", 240), ("high", 800))
            },
            "localized": {"title": plan.title, "description": description},
        }
        if plan.default_language:
            snippet["defaultLanguage"] = plan.default_language
        if plan.country:
            snippet["country"] = plan.country
        channel = {
            "kind": "youtube#channel",
            "etag": "",
            "id": plan.channel_id,
            "snippet": snippet,
            "contentDetails": {
                "relatedPlaylists": {"likes": "", "uploads": "UU" + plan.channel_id[2:]}
            },
            "statistics": statistics_,
        }
        channel["etag"] = _etag(channel)
        return channel


def build_youtube_backend(world: World, *, api_key: str = "demo") -> YouTubeBackend:
    """The demo world's shows as YouTube channels, deterministic from the world's seed.

    Differences from the RSS feeds, as real channels have them: about a quarter of the
    shows have no channel; some channels are named after the host, not the show;
    video titles drop or change the feed's numbering and add affixes (``" | Show"``,
    ``"GUEST SERIES | "``, ``"#12"``); uploads come hours after (or before) the RSS
    release and run shorter (no dynamic ads) or longer (a video intro); the back
    catalogue is often incomplete and a few episodes are missing; clips, shorts,
    trailers and an upcoming live stream are mixed into the uploads. A few channels
    shorten titles, a few of non-English shows title their videos in English, and a few
    upload some episodes again weeks later. What each video really is (kind, show, world
    episode) is in ``backend.truth``.
    """
    channels: list[dict[str, Any]] = []
    videos: list[dict[str, Any]] = []
    truth: dict[str, dict[str, Any]] = {}
    for plan in _channel_plans(world):
        renderer = _ChannelRenderer(plan)
        renderer.render()
        channels.append(renderer.channel())
        videos.extend(renderer.videos)
        truth.update(renderer.truth)
    backend = YouTubeBackend(channels, videos, api_key=api_key)
    backend.truth = truth
    return backend
