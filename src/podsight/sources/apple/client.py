"""Apple Podcasts connector over the public iTunes Search API (no credentials).

``lookup?id=…&entity=podcastEpisode`` gives a show and its newest episodes (at most
200: there is no paging), ``search?media=podcast&entity=podcast`` finds shows.
Apple allows about 20 calls a minute per address and answers faster callers with
HTTP 403, so calls are limited to that rate and a 403 is treated as a rate limit.
Responses come as ``text/javascript`` at times; :class:`ApiClient` decodes the body
as JSON whatever the content type says.

Every response is turned into records by the pure
:func:`podsight.sources.apple.normalize.normalize`, so replaying the stored payloads
gives the same records.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

import httpx

from podsight import conf
from podsight.sources.apple.normalize import SOURCE, normalize
from podsight.sources.connector import NOTHING_SEEN, Seen
from podsight.sources.http import (
    ApiClient,
    ApiError,
    ApiNotFound,
    ApiRateLimited,
    ApiResponseError,
    retry_after_seconds,
)
from podsight.sources.records import Normalized

if TYPE_CHECKING:
    from podsight.sources.sync import ShowSpec

__all__ = ["APPLE_RATE", "LOOKUP_LIMIT", "AppleConnector", "apple_error_hook"]

APPLE_RATE = (20, 60.0)  # calls per seconds, per Apple's published guidance
LOOKUP_LIMIT = 200  # the most episodes a lookup returns
SEARCH_LIMIT = 200
RATE_LIMIT_WAIT_S = 60.0  # Apple sends no Retry-After with its 403


def apple_error_hook(response: httpx.Response) -> ApiError | None:
    """iTunes' own error answers → precise errors (see :class:`ApiClient`)."""
    status = response.status_code
    if status == 403:
        wait = retry_after_seconds(response.headers.get("retry-after"))
        return ApiRateLimited(
            "apple: the iTunes Search API refused the call (HTTP 403), which it does when "
            "one address makes more than about 20 calls a minute; slow down and retry later",
            retry_after=wait if wait is not None else RATE_LIMIT_WAIT_S,
        )
    if status == 400:
        try:
            body = response.json()
        except ValueError:
            return None
        message = body.get("errorMessage") if isinstance(body, dict) else None
        if isinstance(message, str) and message:
            return ApiResponseError(f"apple: the request was rejected: {message}")
    return None


class AppleConnector:
    """Shows and episodes from Apple Podcasts' catalog, as normalised records
    (a :class:`~podsight.sources.connector.Connector`)."""

    source: ClassVar[str] = SOURCE
    spec_field: ClassVar[str] = "itunes_id"
    normalize = staticmethod(normalize)

    def __init__(self, api: ApiClient, *, country: str = "US") -> None:
        self.api = api
        self.country = country

    @classmethod
    def from_settings(cls, *, cache: Any = True, **api_options: Any) -> AppleConnector:
        """Base URL from ``PODSIGHT_ITUNES_API_URL``; ``api_options`` go to :class:`ApiClient`."""
        api_options.setdefault("rate", APPLE_RATE)
        api = ApiClient(
            SOURCE,
            conf.api_url("PODSIGHT_ITUNES_API_URL"),
            cache=cache,
            error_hook=apple_error_hook,
            **api_options,
        )
        return cls(api, country=conf.env("PODSIGHT_ITUNES_COUNTRY", "US"))

    @staticmethod
    def follows(spec: ShowSpec) -> bool:
        return bool(spec.itunes_id)

    @property
    def quota_units(self) -> None:
        return None  # Apple limits the call rate, not units

    def close(self) -> None:
        self.api.close()

    def __enter__(self) -> AppleConnector:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def fetch_show(self, spec: ShowSpec, seen: Seen = NOTHING_SEEN) -> Normalized:
        """The show ``spec.itunes_id`` and its newest episodes: one call, so ``seen`` is
        not needed (there are no pages to skip; an unchanged answer is revalidated)."""
        del seen
        collection_id = spec.itunes_id
        response = self.api.get(
            "lookup",
            {
                "id": str(collection_id),
                "entity": "podcastEpisode",
                "limit": LOOKUP_LIMIT,
                "country": self.country,
            },
        )
        result = normalize("lookup", response.params, response.data)
        if not any(show.external_id == str(collection_id) for show in result.shows):
            raise ApiNotFound(
                f"apple lookup: no podcast with id {collection_id} in the {self.country} store",
                source=SOURCE,
                endpoint="lookup",
                status=response.status,
            )
        return result

    def search(self, term: str, *, limit: int = 25) -> Normalized:
        """Shows matching ``term``."""
        limit = max(1, min(int(limit), SEARCH_LIMIT))
        response = self.api.get(
            "search",
            {
                "term": term,
                "media": "podcast",
                "entity": "podcast",
                "country": self.country,
                "limit": limit,
            },
        )
        return normalize("search", response.params, response.data)
