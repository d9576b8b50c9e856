"""YouTube Data API v3 connector: a channel, its uploads and their counts, within a quota.

One channel sync costs, in units (see :mod:`podsight.sources.youtube.quota`)::

    channels.list        1   snippet, contentDetails (uploads playlist), statistics
    playlistItems.list   1   per page of 50 uploads, newest first, until a page holds
                             only videos already known (incremental) or the list ends
    videos.list          1   per batch of ≤ 50 ids: the new videos *and* the known ones,
                             so view/like/comment counts are refreshed on every sync

``search.list`` (100 units) is only used by :meth:`YouTubeConnector.search`,
never when a channel id or handle is known. Parameters are always sent in the same
order and the ids of a ``videos.list`` batch are sorted, so a repeated sync asks for
the same URLs and the HTTP cache can revalidate them (a 304 still costs its units,
but not the download).
"""

from __future__ import annotations

import html
import logging
import math
import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar

import httpx

from podsight import conf
from podsight.sources.connector import NOTHING_SEEN, Seen
from podsight.sources.http import (
    ApiAuthError,
    ApiClient,
    ApiError,
    ApiNotFound,
    ApiQuotaExceeded,
    ApiRateLimited,
    ApiResponse,
    ApiResponseError,
    SourceNotConfigured,
    retry_after_seconds,
)
from podsight.sources.records import Normalized
from podsight.sources.youtube.normalize import normalize, playlist_video_ids
from podsight.sources.youtube.quota import QuotaLedger, cost_of, quota_resets_at

if TYPE_CHECKING:
    from podsight.sources.sync import ShowSpec

__all__ = [
    "API_KEY_SETTING",
    "CHANNEL_PARTS",
    "MAX_IDS_PER_CALL",
    "VIDEO_PARTS",
    "YouTubeConnector",
    "balanced_batches",
    "youtube_error_hook",
]

log = logging.getLogger(__name__)

API_KEY_SETTING = "YOUTUBE_API_KEY"
API_URL_SETTING = "PODSIGHT_YOUTUBE_API_URL"
CHANNEL_PARTS = "snippet,contentDetails,statistics"
PLAYLIST_PARTS = "contentDetails"
VIDEO_PARTS = "snippet,contentDetails,statistics"
MAX_IDS_PER_CALL = 50
# YouTube limits API keys by daily units (the ledger), not per second: no rate limiter
# unless one is asked for (``from_settings(rate=(calls, seconds))``).
DEFAULT_RATE: tuple[int, float] | None = None

_QUOTA_REASONS = {"quotaExceeded", "dailyLimitExceeded", "dailyLimitExceededUnreg"}
_RATE_REASONS = {"rateLimitExceeded", "userRateLimitExceeded", "RATE_LIMIT_EXCEEDED"}
_KEY_REASONS = {"keyInvalid", "keyExpired", "API_KEY_INVALID", "API_KEY_EXPIRED"}
_BLOCKED_REASONS = {
    "ipRefererBlocked",
    "API_KEY_HTTP_REFERRER_BLOCKED",
    "API_KEY_IP_ADDRESS_BLOCKED",
    "API_KEY_ANDROID_APP_BLOCKED",
    "API_KEY_IOS_APP_BLOCKED",
    "API_KEY_SERVICE_BLOCKED",
}
_DISABLED_REASONS = {"accessNotConfigured", "SERVICE_DISABLED"}
_NOT_FOUND_REASONS = {
    "channelNotFound",
    "playlistNotFound",
    "videoNotFound",
    "channelClosed",
    "channelSuspended",
}
_SECRET_IN_TEXT = re.compile(r"(?i)\b(key|api_key|apikey|access_token)=[^&\s\"']+")


def _scrub(text: str) -> str:
    return _SECRET_IN_TEXT.sub(lambda m: f"{m.group(1)}=REDACTED", text)


def _error_body(response: httpx.Response) -> tuple[str, list[str]]:
    """(message, reasons) from Google's error shape; ("", []) when it is not one."""
    try:
        body = response.json()
    except ValueError:
        return "", []
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return "", []
    reasons: list[str] = []
    for entry in [*(error.get("errors") or []), *(error.get("details") or [])]:
        if isinstance(entry, dict) and isinstance(entry.get("reason"), str):
            reasons.append(entry["reason"])
    message = error.get("message") if isinstance(error.get("message"), str) else ""
    message = html.unescape(re.sub(r"<[^>]+>", "", message)).strip()
    return _scrub(message), reasons


def _first(reasons: list[str], group: set[str], default: str = "") -> str:
    """The first of ``reasons`` (in the body's order) that belongs to ``group``."""
    return next((r for r in reasons if r in group), default)


def youtube_error_hook(response: httpx.Response) -> ApiError | None:
    """Turn YouTube's error reasons into precise errors (None: generic handling)."""
    message, reasons = _error_body(response)
    found = set(reasons)
    status = response.status_code
    endpoint = response.request.url.path.rstrip("/").rsplit("/", 1)[-1]
    prefix = f"youtube {endpoint}"
    detail = f": {message}" if message else ""
    if found & _QUOTA_REASONS:
        reason = _first(reasons, _QUOTA_REASONS)
        reset = quota_resets_at(datetime.now(UTC))
        error = ApiQuotaExceeded(
            f"{prefix}: the YouTube API quota of this key's Google Cloud project is used up "
            f"({reason}); it resets at {reset:%Y-%m-%d %H:%M} {reset.tzname()}; "
            "run the sync again after that or ask Google for a higher quota"
        )
        error.daily = True  # type: ignore[attr-defined]
        return error
    if found & _RATE_REASONS:
        return ApiRateLimited(
            f"{prefix}: YouTube asks to slow down ({_first(reasons, _RATE_REASONS)}){detail}",
            retry_after=retry_after_seconds(response.headers.get("retry-after")),
        )
    if found & _KEY_REASONS or (status == 400 and "api key not valid" in message.lower()):
        reason = _first(reasons, _KEY_REASONS, "keyInvalid")
        return ApiAuthError(
            f"{prefix}: YouTube refused the API key ({reason}); check {API_KEY_SETTING}"
        )
    if found & _DISABLED_REASONS:
        return ApiAuthError(
            f"{prefix}: the YouTube Data API v3 is not enabled for the Google Cloud project of "
            f"{API_KEY_SETTING}; enable it in the Google Cloud console{detail}"
        )
    if found & _BLOCKED_REASONS:
        return ApiAuthError(
            f"{prefix}: the restrictions of {API_KEY_SETTING} block this request "
            f"({_first(reasons, _BLOCKED_REASONS)}); allow this host/IP for the key{detail}"
        )
    if found & _NOT_FOUND_REASONS:
        reason = _first(reasons, _NOT_FOUND_REASONS)
        return ApiNotFound(f"{prefix}: not found ({reason}){detail}")
    if status == 403 and "forbidden" in found:
        return ApiAuthError(
            f"{prefix}: YouTube refused the request (forbidden){detail}; check {API_KEY_SETTING} "
            "and the key's API restrictions"
        )
    if status == 400 and reasons:
        return ApiResponseError(f"{prefix}: bad request ({reasons[0]}){detail}")
    return None


def balanced_batches(ids: Iterable[str], size: int = MAX_IDS_PER_CALL) -> list[list[str]]:
    """Sorted ids cut into as few batches of ≤ ``size`` as possible, of similar length."""
    ordered = sorted(set(ids))
    if not ordered:
        return []
    count = math.ceil(len(ordered) / size)
    base, extra = divmod(len(ordered), count)
    batches, start = [], 0
    for index in range(count):
        length = base + (1 if index < extra else 0)
        batches.append(ordered[start : start + length])
        start += length
    return batches


class YouTubeConnector:
    """Channels, uploads and counts from the YouTube Data API v3, charged to a quota ledger
    (a :class:`~podsight.sources.connector.Connector`)."""

    source: ClassVar[str] = "youtube"
    spec_field: ClassVar[str] = "youtube_channel_id"
    normalize = staticmethod(normalize)

    def __init__(self, api: ApiClient, *, quota: QuotaLedger, api_key: str | None = None) -> None:
        key = api_key if api_key is not None else conf.credential(API_KEY_SETTING)
        if not key:
            raise SourceNotConfigured(
                f"{API_KEY_SETTING} is not set; create an API key for the YouTube Data API v3 "
                "in the Google Cloud console and export it to sync YouTube",
                source=self.source,
            )
        self.api = api
        self.quota = quota
        self._key = key
        self._spent = 0
        if api.error_hook is None:
            api.error_hook = youtube_error_hook

    @classmethod
    def from_settings(cls, *, cache: Any = True, **client_options: Any) -> YouTubeConnector:
        """From ``YOUTUBE_API_KEY``, ``PODSIGHT_YOUTUBE_API_URL`` and the quota settings.

        ``client_options`` go to :class:`ApiClient` (``sleep``, ``timeout``, ``rate``…).
        """
        key = conf.credential(API_KEY_SETTING)
        if not key:
            raise SourceNotConfigured(
                f"{API_KEY_SETTING} is not set; create an API key for the YouTube Data API v3 "
                "in the Google Cloud console and export it to sync YouTube",
                source=cls.source,
            )
        quota = QuotaLedger.from_env()
        client_options.setdefault("rate", DEFAULT_RATE)
        api = ApiClient(
            cls.source,
            conf.api_url(API_URL_SETTING),
            cache=cache,
            error_hook=youtube_error_hook,
            **client_options,
        )
        return cls(api, quota=quota, api_key=key)

    @staticmethod
    def follows(spec: ShowSpec) -> bool:
        return bool(spec.youtube_channel_id or spec.youtube_handle)

    def close(self) -> None:
        self.api.close()

    def __enter__(self) -> YouTubeConnector:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- quota ------------------------------------------------------------------------

    @property
    def spent_this_run(self) -> int:
        """Units this connector charged in this process."""
        return self._spent

    @property
    def quota_units(self) -> int:
        """The contract's name for :attr:`spent_this_run`."""
        return self._spent

    @property
    def used_today(self) -> int:
        return self.quota.used_today

    def _call(self, endpoint: str, params: Mapping[str, Any]) -> ApiResponse:
        """One API call: reserve its cost, call, charge each attempt that went out."""
        cost = cost_of(endpoint)
        reservation = self.quota.reserve(cost, endpoint=endpoint)
        stats = self.api.stats
        calls_before, hits_before = stats.calls, stats.cache_hits
        try:
            return self.api.get(endpoint, {**params, "key": self._key})
        except ApiQuotaExceeded as exc:
            if getattr(exc, "daily", False):
                # The day the call went out in: a refusal answered just after the Pacific
                # midnight speaks of the day that ended, not of the fresh quota.
                self.quota.mark_exhausted(reservation.day)
            raise self._safe(exc) from None
        except ApiError as exc:
            raise self._safe(exc) from None
        finally:
            # Every attempt that left for the network may have been counted by YouTube
            # (answered, revalidated with a 304, refused, or unanswered after being sent);
            # answers from the local cache were not and are refunded.
            attempts = (stats.calls - calls_before) - (stats.cache_hits - hits_before)
            charged = cost * max(0, attempts)
            self.quota.settle(reservation, charged)
            self._spent += charged

    def _safe(self, exc: ApiError) -> ApiError:
        """The error, with the API key removed from its message should it appear there."""
        text = str(exc)
        if self._key in text or _SECRET_IN_TEXT.search(text):
            exc.args = (_scrub(text.replace(self._key, "REDACTED")),)
        return exc

    # -- channel sync -----------------------------------------------------------------

    def fetch_show(self, spec: ShowSpec, seen: Seen = NOTHING_SEEN) -> Normalized:
        """The channel ``spec`` names (its id, else its handle) via :meth:`fetch_channel`,
        with the videos ``seen`` as the known ones (a handle is resolved to a stored
        channel to find them; an unknown handle has none)."""
        if spec.youtube_channel_id:
            known = seen.episode_ids(spec.youtube_channel_id)
            return self.fetch_channel(channel_id=spec.youtube_channel_id, known_video_ids=known)
        stored = seen.show_id_for_handle(spec.youtube_handle)
        known = seen.episode_ids(stored) if stored else frozenset()
        return self.fetch_channel(handle=spec.youtube_handle, known_video_ids=known)

    def fetch_channel(
        self,
        *,
        channel_id: str | None = None,
        handle: str | None = None,
        known_video_ids: Iterable[str] = frozenset(),
    ) -> Normalized:
        """The channel, its new uploads and fresh counts of every known upload.

        ``known_video_ids`` are the channel's videos already stored: paging stops after
        a page holding only known videos, and all of them are asked for again so their
        counts are refreshed. The channel id is in ``complete_shows`` only when the
        whole uploads playlist was read.
        """
        if bool(channel_id) == bool(handle):
            raise ValueError("fetch_channel needs exactly one of channel_id or handle")
        known = frozenset(known_video_ids)
        params: dict[str, Any] = {"part": CHANNEL_PARTS}
        if channel_id:
            params["id"] = channel_id
        else:
            params["forHandle"] = "@" + str(handle).strip().lstrip("@")
        response = self._call("channels", params)
        channels = normalize("channels", response.params, response.data)
        items = _items(response.data)
        wanted = channel_id or (channels.shows[0].external_id if channels.shows else None)
        show = next((s for s in channels.shows if s.external_id == wanted), None)
        item = next((i for i in items if i.get("id") == wanted), None)
        if show is None or item is None:
            what = f"id {channel_id}" if channel_id else f"handle {params['forHandle']}"
            raise ApiNotFound(
                f"youtube channels: no channel with {what}",
                source=self.source,
                endpoint="channels",
            )
        result = Normalized(shows=[show])
        uploads = show.data.get("uploads_playlist_id") or _uploads_playlist_for(show.external_id)
        if not uploads:
            log.warning("youtube channel %s has no uploads playlist", show.external_id)
            return result
        try:
            new_ids, complete = self._uploads(uploads, known)
        except ApiNotFound:
            # The uploads playlist of a channel that never uploaded does not exist.
            videos = _count_of(item, "videoCount")
            if videos == 0:
                result.complete_shows.add(show.external_id)
                return result
            raise
        for batch in balanced_batches([*new_ids, *known]):
            response = self._call("videos", {"part": VIDEO_PARTS, "id": ",".join(batch)})
            result.extend(normalize("videos", response.params, response.data))
        if complete:
            result.complete_shows.add(show.external_id)
        return result

    def _uploads(self, playlist_id: str, known: frozenset[str]) -> tuple[list[str], bool]:
        """(new video ids newest first, whether the whole playlist was read)."""
        new_ids: list[str] = []
        seen_tokens: set[str] = set()
        token: str | None = None
        while True:
            response = self._call(
                "playlistItems",
                {
                    "part": PLAYLIST_PARTS,
                    "playlistId": playlist_id,
                    "maxResults": MAX_IDS_PER_CALL,
                    "pageToken": token,
                },
            )
            page = playlist_video_ids(response.data)
            new_ids.extend(i for i in page if i not in known and i not in new_ids)
            body = response.data if isinstance(response.data, dict) else {}
            next_token = body.get("nextPageToken")
            if not isinstance(next_token, str) or not next_token:
                return new_ids, True
            if known and page and all(i in known for i in page):
                return new_ids, False
            if next_token in seen_tokens:
                log.warning("youtube playlist %s repeats page token %s", playlist_id, next_token)
                return new_ids, False
            seen_tokens.add(next_token)
            token = next_token

    # -- discovery --------------------------------------------------------------------

    def search(self, term: str, *, limit: int = 5) -> Normalized:
        """Channels matching ``term`` (``search.list``, 100 units): shows only."""
        if not term.strip():
            raise ValueError("search needs a search term")
        response = self._call(
            "search",
            {
                "part": "snippet",
                "q": term.strip(),
                "type": "channel",
                "maxResults": max(1, min(int(limit), MAX_IDS_PER_CALL)),
            },
        )
        return Normalized(shows=normalize("search", response.params, response.data).shows)


def _items(body: Any) -> list[dict[str, Any]]:
    items = body.get("items") if isinstance(body, dict) else None
    return [i for i in items if isinstance(i, dict)] if isinstance(items, list) else []


def _count_of(item: Mapping[str, Any], name: str) -> int | None:
    stats = item.get("statistics")
    value = stats.get(name) if isinstance(stats, dict) else None
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def _uploads_playlist_for(channel_id: str) -> str | None:
    """The uploads playlist id YouTube derives from a channel id (``UC…`` → ``UU…``)."""
    return "UU" + channel_id[2:] if channel_id.startswith("UC") and len(channel_id) > 2 else None
