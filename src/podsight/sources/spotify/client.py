"""Spotify Web API connector: shows and their episodes, app-only (client credentials).

Authentication is the client-credentials grant: ``POST {accounts}/api/token`` with
HTTP Basic client auth gives a bearer token for about an hour.
:class:`SpotifyClientCredentials` fetches it on first use, keeps it until shortly
before it expires, and on a 401 fetches a new one and sends the request once more.
The client secret and the token never appear in messages or logs.

Calls go through :class:`~podsight.sources.http.ApiClient` (cache, rate limit,
retries honouring ``Retry-After``). A 429 whose body says ``QUOTA_EXCEEDED`` is not
a short rate limit but the app's quota: it raises
:class:`~podsight.sources.http.ApiQuotaExceeded` at once instead of retrying.

Every response is turned into records by the pure
:func:`podsight.sources.spotify.normalize.normalize`, so replaying the stored
payloads gives the same records.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Generator
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import parse_qs, urlsplit

import httpx

from podsight import conf
from podsight.sources.connector import NOTHING_SEEN, Seen
from podsight.sources.http import (
    ApiAuthError,
    ApiClient,
    ApiError,
    ApiQuotaExceeded,
    ApiResponseError,
    ApiUnavailable,
    SourceNotConfigured,
)
from podsight.sources.records import Normalized
from podsight.sources.spotify.normalize import SOURCE, normalize

if TYPE_CHECKING:
    from podsight.sources.sync import ShowSpec

__all__ = [
    "EPISODES_PAGE_SIZE",
    "SEARCH_LIMIT",
    "SPOTIFY_RATE",
    "SpotifyClientCredentials",
    "SpotifyConnector",
    "spotify_error_hook",
]

log = logging.getLogger("podsight.sources.spotify")

EPISODES_PAGE_SIZE = 50  # the API's maximum for shows/{id}/episodes
SEARCH_LIMIT = 10  # the most search results podsight asks for per call
# Spotify limits per app over a rolling 30 s window without publishing the number;
# about 3 calls a second on average stays well clear of it.
SPOTIFY_RATE = (90, 30.0)
TOKEN_PATH = "/api/token"
CREDENTIAL_VARS = ("SPOTIFY_CLIENT_ID", "SPOTIFY_CLIENT_SECRET")
_MAX_PAGES = 2000  # 100,000 episodes: more means the paging is broken, not the show long


class SpotifyClientCredentials(httpx.Auth):
    """Bearer token from the client-credentials grant, cached until it expires."""

    def __init__(
        self,
        client_id: str,
        client_secret: str,
        accounts_url: str,
        *,
        timeout: httpx.Timeout | float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client_id = client_id
        self._client_secret = client_secret
        self.token_url = accounts_url.rstrip("/") + TOKEN_PATH
        self._clock = clock
        self._lock = threading.Lock()
        self._token: str | None = None
        self._expires_at = 0.0
        self.tokens_fetched = 0
        if timeout is None:
            timeout = httpx.Timeout(
                conf.env_float("PODSIGHT_API_READ_TIMEOUT", 30),
                connect=conf.env_float("PODSIGHT_API_CONNECT_TIMEOUT", 10),
            )
        # Never cached, never sent through a proxy from the environment.
        self._http = httpx.Client(
            timeout=timeout,
            trust_env=False,
            headers={"User-Agent": conf.user_agent(), "Accept": "application/json"},
        )

    def __repr__(self) -> str:  # keep the secret out of debug output
        return f"SpotifyClientCredentials(client_id={self._client_id!r}, url={self.token_url!r})"

    def close(self) -> None:
        self._http.close()

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        token = self.token()
        request.headers["Authorization"] = f"Bearer {token}"
        response = yield request
        if response.status_code == 401:
            # Expired or revoked early: one fresh token, one more try.
            request.headers["Authorization"] = f"Bearer {self.token(refresh_from=token)}"
            yield request

    def token(self, *, refresh_from: str | None = None) -> str:
        """A valid access token; ``refresh_from`` is a token the API just refused."""
        with self._lock:
            fresh = self._token is not None and self._clock() < self._expires_at
            if fresh and (refresh_from is None or self._token != refresh_from):
                return self._token  # type: ignore[return-value]
            self._token, lifetime = self._fetch()
            # Renew a little early so a token never expires in flight.
            margin = min(60.0, lifetime * 0.1)
            self._expires_at = self._clock() + max(0.0, lifetime - margin)
            return self._token

    def _fetch(self) -> tuple[str, float]:
        started = time.perf_counter()
        try:
            response = self._http.post(
                self.token_url,
                data={"grant_type": "client_credentials"},
                auth=(self._client_id, self._client_secret),
            )
        except httpx.TimeoutException as exc:
            raise self._error(ApiUnavailable, None, f"timed out ({type(exc).__name__})") from None
        except httpx.TransportError as exc:
            message = f"network error: {self._safe(str(exc))}"
            raise self._error(ApiUnavailable, None, message) from None
        status = response.status_code
        log.info(
            "source=%s endpoint=api/token status=%s elapsed=%.3fs",
            SOURCE,
            status,
            time.perf_counter() - started,
        )
        body: Any = None
        try:
            body = response.json()
        except ValueError:
            body = None
        if status in (400, 401, 403):
            error = body.get("error") if isinstance(body, dict) else None
            description = body.get("error_description") if isinstance(body, dict) else None
            reason = ": ".join(str(p) for p in (error, description) if p) or f"HTTP {status}"
            if error in (None, "invalid_client", "unauthorized_client") or status != 400:
                raise self._error(
                    ApiAuthError,
                    status,
                    f"the accounts service refused the app credentials ({self._safe(reason)}); "
                    "check SPOTIFY_CLIENT_ID / SPOTIFY_CLIENT_SECRET",
                )
            raise self._error(ApiResponseError, status, f"token request rejected ({reason})")
        if status >= 400:
            raise self._error(
                ApiUnavailable, status, f"HTTP {status} from the accounts service; try again later"
            )
        token = body.get("access_token") if isinstance(body, dict) else None
        if not isinstance(token, str) or not token:
            raise self._error(ApiResponseError, status, "the token response has no access_token")
        self.tokens_fetched += 1
        expires_in = body.get("expires_in")
        lifetime = float(expires_in) if isinstance(expires_in, (int, float)) else 3600.0
        return token, lifetime

    def _safe(self, text: str) -> str:
        return text.replace(self._client_secret, "***") if self._client_secret else text

    def _error(self, cls: type[ApiError], status: int | None, message: str) -> ApiError:
        return cls(
            f"{SOURCE} api/token: {message}", source=SOURCE, endpoint="api/token", status=status
        )


def spotify_error_hook(response: httpx.Response) -> ApiError | None:
    """Spotify's own error bodies → precise errors (see :class:`ApiClient`)."""
    if response.status_code == 429 and "QUOTA_EXCEEDED" in response.text:
        return ApiQuotaExceeded(
            "spotify: the app's API quota is used up (QUOTA_EXCEEDED); stop syncing Spotify "
            "for now and run it again after the quota resets"
        )
    if response.status_code == 401:
        return ApiAuthError(
            "spotify: the API refused a freshly issued access token (HTTP 401); "
            "check SPOTIFY_CLIENT_ID / SPOTIFY_CLIENT_SECRET and the app's status"
        )
    return None


def _next_offset(page: dict[str, Any], current: int) -> int | None:
    """The offset of the page after ``page`` (from its ``next`` URL), or None at the end."""
    nxt = page.get("next")
    if not isinstance(nxt, str) or not nxt:
        return None
    values = parse_qs(urlsplit(nxt).query).get("offset")
    try:
        offset = int(values[0]) if values else current + EPISODES_PAGE_SIZE
    except ValueError:
        offset = current + EPISODES_PAGE_SIZE
    return offset if offset > current else None


def _page_ids(page: dict[str, Any]) -> list[str]:
    items = page.get("items")
    return [
        item["id"]
        for item in (items if isinstance(items, list) else [])
        if isinstance(item, dict) and isinstance(item.get("id"), str)
    ]


class SpotifyConnector:
    """Shows and episodes from the Spotify Web API, as normalised records
    (a :class:`~podsight.sources.connector.Connector`)."""

    source: ClassVar[str] = SOURCE
    spec_field: ClassVar[str] = "spotify_id"
    normalize = staticmethod(normalize)

    def __init__(self, api: ApiClient, *, market: str = "US") -> None:
        self.api = api
        self.market = market
        self.auth: SpotifyClientCredentials | None = None  # set by from_settings

    @classmethod
    def from_settings(cls, *, cache: Any = True, **api_options: Any) -> SpotifyConnector:
        """Credentials from ``SPOTIFY_CLIENT_ID`` / ``SPOTIFY_CLIENT_SECRET``, URLs from settings.

        ``api_options`` go to :class:`ApiClient` (``timeout``, ``max_attempts``, ``sleep``…).
        """
        values = {name: conf.credential(name) for name in CREDENTIAL_VARS}
        missing = [name for name, value in values.items() if not value]
        if missing:
            raise SourceNotConfigured(
                f"spotify is not configured: set {' and '.join(missing)} (the Client ID and "
                "Client secret of an app from https://developer.spotify.com/dashboard); "
                "Spotify is skipped until then",
                source=SOURCE,
            )
        auth = SpotifyClientCredentials(
            values["SPOTIFY_CLIENT_ID"],
            values["SPOTIFY_CLIENT_SECRET"],
            conf.api_url("PODSIGHT_SPOTIFY_ACCOUNTS_URL"),
            timeout=api_options.get("timeout"),
        )
        api_options.setdefault("rate", SPOTIFY_RATE)
        api = ApiClient(
            SOURCE,
            conf.api_url("PODSIGHT_SPOTIFY_API_URL"),
            auth=auth,
            cache=cache,
            error_hook=spotify_error_hook,
            **api_options,
        )
        connector = cls(api, market=conf.env("PODSIGHT_SPOTIFY_MARKET", "US"))
        connector.auth = auth
        return connector

    @staticmethod
    def follows(spec: ShowSpec) -> bool:
        return bool(spec.spotify_id)

    @property
    def quota_units(self) -> None:
        return None  # Spotify's quota is not counted in units

    def close(self) -> None:
        self.api.close()
        if self.auth is not None:
            self.auth.close()

    def __enter__(self) -> SpotifyConnector:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def fetch_show(self, spec: ShowSpec, seen: Seen = NOTHING_SEEN) -> Normalized:
        """The show ``spec.spotify_id`` and its episodes, newest first, page by page.

        The show object embeds the first page of episodes (offset 0, up to 50), so paging
        continues from its ``next``. Paging stops after a page whose episodes are all in
        ``seen`` (the older pages were read before); the show is in ``complete_shows``
        only when every page was read.
        """
        show_id = spec.spotify_id
        known = seen.episode_ids(show_id)
        response = self.api.get("shows/{id}", {"market": self.market}, id=show_id)
        result = normalize("shows/{id}", response.params, response.data)
        embedded = response.data.get("episodes")
        if isinstance(embedded, dict) and not embedded.get("offset"):
            page, offset = embedded, 0
        else:  # no usable embedded page: start the listing at 0
            page, offset = self._episodes_page(show_id, 0, result)
        complete = False
        for _ in range(_MAX_PAGES):
            ids = _page_ids(page)
            following = _next_offset(page, offset)
            if following is None:
                complete = True
                break
            if known and ids and known.issuperset(ids):
                break
            page, offset = self._episodes_page(show_id, following, result)
        _dedupe(result)
        if complete:
            result.complete_shows.add(show_id)
        else:
            result.complete_shows.discard(show_id)
        return result

    def _episodes_page(
        self, show_id: str, offset: int, result: Normalized
    ) -> tuple[dict[str, Any], int]:
        # Same parameters in the same order every run, so the HTTP cache can revalidate.
        response = self.api.get(
            "shows/{id}/episodes",
            {"market": self.market, "limit": EPISODES_PAGE_SIZE, "offset": offset},
            id=show_id,
        )
        result.extend(normalize("shows/{id}/episodes", response.params, response.data))
        return response.data, offset

    def search(self, term: str, *, limit: int = SEARCH_LIMIT) -> Normalized:
        """Shows matching ``term`` (at most :data:`SEARCH_LIMIT`)."""
        limit = max(1, min(int(limit), SEARCH_LIMIT))
        response = self.api.get(
            "search", {"q": term, "type": "show", "market": self.market, "limit": limit}
        )
        return normalize("search", response.params, response.data)


def _dedupe(result: Normalized) -> None:
    """Drop repeats (a page boundary shifts when an episode is published mid-sync)."""
    seen: set[str] = set()
    episodes = []
    for episode in result.episodes:
        if episode.external_id not in seen:
            seen.add(episode.external_id)
            episodes.append(episode)
    result.episodes = episodes
    shows: dict[str, Any] = {}
    for show in result.shows:
        shows.setdefault(show.external_id, show)
    result.shows = list(shows.values())
