"""Podcast Index API connector: trending, search, feeds by id/URL/iTunes id/guid, episodes.

Every request is signed as the API requires (https://podcastindex-org.github.io/docs-api/):
``X-Auth-Key`` (the key), ``X-Auth-Date`` (unix seconds, accepted within 3 minutes) and
``Authorization`` = lowercase hex SHA-1 of key + secret + date, plus a ``User-Agent``.
:class:`PodcastIndexAuth` adds them per request, so a retried request is signed anew.
The secret and the hash never appear in messages or logs.

Calls go through :class:`~podsight.sources.http.ApiClient` (HTTP cache, a polite rate
limit, retries honouring ``Retry-After``). ``episodes`` asks for up to 200 feeds per call
(the API's limit) with the ids sorted and ``since`` as an epoch, so a run against unchanged
feeds repeats the same URLs and the cache can revalidate them instead of downloading.

Responses are turned into records by the pure
:func:`podsight.sources.podcastindex.normalize.normalize` (replayable from stored payloads).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Generator, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar

import httpx

from podsight import conf
from podsight.sources.connector import NOTHING_SEEN, Seen
from podsight.sources.http import ApiAuthError, ApiClient, ApiError, SourceNotConfigured
from podsight.sources.podcastindex.normalize import SOURCE, normalize
from podsight.sources.records import Normalized

if TYPE_CHECKING:
    from podsight.sources.sync import ShowSpec

__all__ = [
    "CREDENTIAL_VARS",
    "MAX_FEED_IDS",
    "PODCASTINDEX_RATE",
    "PodcastIndexAuth",
    "PodcastIndexConnector",
    "auth_headers",
    "podcastindex_error_hook",
]

CREDENTIAL_VARS = ("PODCASTINDEX_API_KEY", "PODCASTINDEX_API_SECRET")
MAX_FEED_IDS = 200  # episodes/byfeedid takes at most 200 comma-separated ids
# The API publishes no hard limit; a few calls a second keeps a sync well-mannered.
PODCASTINDEX_RATE = (5, 1.0)
SIGNUP_URL = "https://api.podcastindex.org/signup"


def auth_headers(key: str, secret: str, when: float, user_agent: str) -> dict[str, str]:
    """The four headers the API checks, for a request made at unix time ``when``."""
    date = str(int(when))
    digest = hashlib.sha1((key + secret + date).encode("utf-8")).hexdigest()
    return {
        "User-Agent": user_agent,
        "X-Auth-Key": key,
        "X-Auth-Date": date,
        "Authorization": digest,
    }


class PodcastIndexAuth(httpx.Auth):
    """Signs each request with the key, the current time and SHA-1(key + secret + time)."""

    def __init__(
        self,
        key: str,
        secret: str,
        *,
        user_agent: str | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._key = key
        self._secret = secret
        self._user_agent = user_agent or conf.user_agent()
        self._clock = clock

    def __repr__(self) -> str:  # keep the secret out of debug output
        return f"PodcastIndexAuth(key={self._key[:4]}…)"

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers.update(
            auth_headers(self._key, self._secret, self._clock(), self._user_agent)
        )
        yield request


def _scrub(text: str, secrets: Sequence[str]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


def podcastindex_error_hook(key: str, secret: str) -> Callable[[httpx.Response], ApiError | None]:
    """401/403 → :class:`ApiAuthError` naming the two settings (never their values)."""

    def hook(response: httpx.Response) -> ApiError | None:
        if response.status_code not in (401, 403):
            return None
        reason = ""
        try:
            body: Any = response.json()
        except ValueError:
            body = response.text
        if isinstance(body, dict):
            reason = str(body.get("description") or body.get("message") or "")
        elif isinstance(body, str):
            reason = body
        reason = _scrub(" ".join(reason.split())[:200], [key, secret])
        if "<html" in reason.lower():
            reason = ""
        detail = f" ({reason})" if reason else ""
        return ApiAuthError(
            f"Podcast Index refused the credentials: HTTP {response.status_code}{detail}. "
            "Check PODCASTINDEX_API_KEY and PODCASTINDEX_API_SECRET (and that this machine's "
            "clock is right: signed requests are only accepted within 3 minutes)",
            source=SOURCE,
        )

    return hook


class PodcastIndexConnector:
    """Podcast Index calls returning normalised records; see the module docstring.
    A :class:`~podsight.sources.connector.Connector`, plus ``trending`` and the
    endpoint-level calls (``show``, ``episodes``, ``recent_episodes``)."""

    source: ClassVar[str] = SOURCE
    spec_field: ClassVar[str] = "podcastindex_id"
    normalize = staticmethod(normalize)

    def __init__(self, api: ApiClient) -> None:
        self.api = api

    @classmethod
    def from_settings(cls, *, cache: Any = True, **api_options: Any) -> PodcastIndexConnector:
        """Credentials from ``PODCASTINDEX_API_KEY`` / ``_SECRET``, the URL from settings;
        ``api_options`` go to :class:`ApiClient`."""
        key, secret = (conf.credential(name) for name in CREDENTIAL_VARS)
        missing = [name for name in CREDENTIAL_VARS if not conf.credential(name)]
        if missing:
            raise SourceNotConfigured(
                f"Podcast Index is not configured: set {' and '.join(missing)} "
                f"(a free key and secret from {SIGNUP_URL})",
                source=SOURCE,
            )
        api_options.setdefault("rate", PODCASTINDEX_RATE)
        api = ApiClient(
            SOURCE,
            conf.api_url("PODSIGHT_PODCASTINDEX_API_URL"),
            auth=PodcastIndexAuth(key, secret),
            cache=cache,
            error_hook=podcastindex_error_hook(key, secret),
            **api_options,
        )
        return cls(api)

    @staticmethod
    def follows(spec: ShowSpec) -> bool:
        # The feed URL is enough: Podcast Index looks a feed up by it.
        return bool(spec.podcastindex_id or spec.rss_url)

    @property
    def quota_units(self) -> None:
        return None  # no unit quota, a polite rate only

    def close(self) -> None:
        self.api.close()

    def __enter__(self) -> PodcastIndexConnector:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _call(self, endpoint: str, params: dict[str, Any]) -> Normalized:
        query = {k: v for k, v in params.items() if v is not None}
        response = self.api.get(endpoint, query)
        return normalize(endpoint, response.params, response.data)

    def trending(
        self, max: int = 10, lang: str | None = None, cat: str | None = None
    ) -> Normalized:
        """``podcasts/trending``: shows with their ``trend_score`` metric."""
        return self._call("podcasts/trending", {"max": max, "lang": lang, "cat": cat})

    def search(self, term: str, *, limit: int = 10) -> Normalized:
        """``search/byterm``: shows whose title, author or owner match ``term``."""
        if not term.strip():
            raise ValueError("search term is empty")
        return self._call("search/byterm", {"q": term, "max": limit, "fulltext": ""})

    def fetch_show(self, spec: ShowSpec, seen: Seen = NOTHING_SEEN) -> Normalized:
        """The feed (by ``spec.podcastindex_id``, else by ``spec.rss_url``) and its episodes
        published since the newest one ``seen``: that time is stable while nothing is new,
        so the URL stays the same and the cache can revalidate it."""
        if spec.podcastindex_id:
            result = self.show(feed_id=int(spec.podcastindex_id))
        else:
            result = self.show(feed_url=spec.rss_url)
        for show in result.shows:
            since = seen.newest_published(show.external_id)
            result.extend(self.episodes([int(show.external_id)], since=since))
        return result

    def show(
        self,
        *,
        feed_id: int | None = None,
        feed_url: str | None = None,
        itunes_id: int | None = None,
        guid: str | None = None,
    ) -> Normalized:
        """One feed by exactly one of its ids; an unknown feed gives an empty result."""
        given = {
            "feed_id": feed_id,
            "feed_url": feed_url,
            "itunes_id": itunes_id,
            "guid": guid,
        }
        chosen = [name for name, value in given.items() if value not in (None, "")]
        if len(chosen) != 1:
            raise ValueError("show() needs exactly one of feed_id, feed_url, itunes_id, guid")
        if feed_id is not None:
            return self._call("podcasts/byfeedid", {"id": int(feed_id)})
        if feed_url:
            return self._call("podcasts/byfeedurl", {"url": feed_url})
        if itunes_id is not None:
            return self._call("podcasts/byitunesid", {"id": int(itunes_id)})
        return self._call("podcasts/byguid", {"guid": guid})

    def episodes(
        self, feed_ids: Sequence[int], *, since: datetime | None = None, max: int = 1000
    ) -> Normalized:
        """``episodes/byfeedid`` for many feeds, ≤200 ids per call, ids sorted.

        ``since`` (aware datetime) asks only for episodes published since then; pass the
        newest episode time already known so an unchanged feed keeps the same URL.
        ``max`` applies per call (to up to 200 feeds together).
        """
        ids = sorted({int(i) for i in feed_ids})
        since_epoch = int(since.timestamp()) if since is not None else None
        out = Normalized()
        for start in range(0, len(ids), MAX_FEED_IDS):
            chunk = ids[start : start + MAX_FEED_IDS]
            out.extend(
                self._call(
                    "episodes/byfeedid",
                    {
                        "id": ",".join(str(i) for i in chunk),
                        "since": since_epoch,
                        "max": max,
                        "fulltext": "",
                    },
                )
            )
        return out

    def recent_episodes(self, max: int = 100) -> Normalized:
        """``recent/episodes``: the newest episodes across the whole index."""
        return self._call("recent/episodes", {"max": max, "fulltext": ""})
