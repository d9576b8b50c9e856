"""One :class:`ConnectorCase` per registered connector: the replay backend holding real
recorded responses, the credentials it accepts and a show it knows. The contract suite
(``test_connector_contract.py``) runs against each; the connector's own test module uses
the same case to serve its source-specific tests (quota, paging, errors, caching).

A new connector registered in :data:`podsight.sources.connector.CONNECTORS` gets the
whole suite by adding its case here (the suite fails for a connector without one).

(Imported as ``connector_cases``: pytest puts this folder on the path.)
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from httpserver import ReplayApis
from podsight.demo.apiserver import ApiServer
from podsight.demo.apple_api import AppleBackend
from podsight.demo.podcastindex_api import PodcastIndexBackend
from podsight.demo.spotify_api import SpotifyBackend
from podsight.demo.youtube_api import YouTubeBackend
from podsight.sources.sync import ShowSpec

__all__ = ["CASES", "ConnectorCase", "load"]


def load(folder: Path, name: str) -> Any:
    """A recorded JSON response from the corpus."""
    return json.loads((folder / name).read_text(encoding="utf-8"))


@dataclass(frozen=True)
class ConnectorCase:
    source: str
    #: the real test data root → the replay backend holding :attr:`show`
    backend: Callable[[Path], Any]
    #: the backend → what to mount on the replay server (mount name → backend)
    mounts: Callable[[Any], dict[str, Any]]
    #: settings the backend accepts as credentials (empty: the API takes none)
    credentials: Mapping[str, str]
    show: ShowSpec  # a show the backend holds
    show_id: str  # its id on the source
    episodes: int  # how many episodes the backend holds for it
    search_term: str  # finds the show
    unknown: ShowSpec  # a show the backend does not hold
    settings: Mapping[str, str] = field(default_factory=dict)  # for the contract suite

    def serve(
        self, apis: ReplayApis, backend: Any, *, cache_mode: str = "etag", **env: str
    ) -> ApiServer:
        """A replay server for ``backend`` with the connector pointed at it; ``env``
        overrides the credentials (a wrong secret, a missing key…)."""
        return apis.serve(
            self.mounts(backend), cache_mode=cache_mode, env={**self.credentials, **env}
        )


# -- Spotify: the first seed's Huberman Lab export -------------------------------------

SPOTIFY_CLIENT_ID = "podsight-test-client"
SPOTIFY_SECRET = "Sup3r-S3cret-Value-42"
SPOTIFY_HUBERMAN = "79CkJF3UJTHFV8Dse3Oy0P"

SPOTIFY = ConnectorCase(
    source="spotify",
    backend=lambda data: SpotifyBackend.from_seed(
        data / "seeds" / "youtubeAPI", client_id=SPOTIFY_CLIENT_ID, client_secret=SPOTIFY_SECRET
    ),
    mounts=lambda backend: {"spotify": backend, "spotify-accounts": backend.accounts},
    credentials={"SPOTIFY_CLIENT_ID": SPOTIFY_CLIENT_ID, "SPOTIFY_CLIENT_SECRET": SPOTIFY_SECRET},
    show=ShowSpec(name="Huberman Lab", spotify_id=SPOTIFY_HUBERMAN),
    show_id=SPOTIFY_HUBERMAN,
    episodes=20,
    search_term="huberman",
    unknown=ShowSpec(name="nobody", spotify_id="0000000000000000000000"),
)


# -- YouTube: the same export as the Data API serves it --------------------------------

YOUTUBE_KEY = "AIzaTest-k3y-not-a-real-one"
YOUTUBE_HUBERMAN = "UC2D2CMWXMOVWx7giW1n3LIg"

YOUTUBE = ConnectorCase(
    source="youtube",
    backend=lambda data: YouTubeBackend.from_seed(
        data / "seeds" / "youtubeAPI", api_key=YOUTUBE_KEY
    ),
    mounts=lambda backend: {"youtube": backend},
    credentials={"YOUTUBE_API_KEY": YOUTUBE_KEY},
    show=ShowSpec(name="Huberman Lab", youtube_channel_id=YOUTUBE_HUBERMAN),
    show_id=YOUTUBE_HUBERMAN,
    episodes=20,
    search_term="Huberman Lab",
    unknown=ShowSpec(name="nobody", youtube_channel_id="UC0000000000000000000000"),
)


# -- Apple: recorded iTunes search results; episodes in the real lookup shape -----------

NERDCAST = 381816509  # Jovem Nerd's NerdCast in the recorded search

# The shape of a real ``lookup?entity=podcastEpisode`` episode result (Apple's field
# names and value formats; the values are made up).
APPLE_EPISODE = {
    "wrapperType": "podcastEpisode",
    "kind": "podcast-episode",
    "collectionId": NERDCAST,
    "collectionName": "NerdCast",
    "trackId": 1000522907460,
    "trackName": "NerdCast 800 - Ten years of questions",
    "episodeGuid": "229d4b05-66de-4e3d-8682-ad2900086fbd",
    "episodeUrl": "https://media.example.invalid/nerdcast/800.mp3?utm_source=Podcast",
    "episodeFileExtension": "mp3",
    "episodeContentType": "audio",
    "previewUrl": "https://media.example.invalid/nerdcast/800.mp3?utm_source=Podcast",
    "releaseDate": "2021-05-24T12:00:00Z",
    "trackTimeMillis": 2800000,
    "description": "We answer ten years of questions.\n\nThanks to our listeners.\nSee you!",
    "shortDescription": "",
    "trackViewUrl": "https://podcasts.apple.com/us/podcast/ten-years/id381816509?i=1000522907460&uo=4",
    "collectionViewUrl": "https://itunes.apple.com/us/podcast/nerdcast/id381816509?mt=2&uo=4",
    "artworkUrl60": "https://is2-ssl.mzstatic.com/image/thumb/x/60x60bb.jpg",
    "artworkUrl160": "https://is2-ssl.mzstatic.com/image/thumb/x/160x160bb.jpg",
    "artworkUrl600": "https://is2-ssl.mzstatic.com/image/thumb/x/600x600bb.jpg",
    "contentAdvisoryRating": "Explicit",
    "closedCaptioning": "none",
    "country": "USA",
    "artistIds": [594344196],
    "genres": [{"name": "Society & Culture", "id": "1324"}],
}


def apple_episodes(collection_id: int, count: int) -> list[dict[str, Any]]:
    """``count`` episodes in the real result shape, newest first."""
    out = []
    start = datetime(2024, 6, 1, 12, tzinfo=UTC)
    for i in range(count):
        episode = copy.deepcopy(APPLE_EPISODE)
        episode.update(
            collectionId=collection_id,
            trackId=1_000_600_000_000 + i,
            trackName=f"Episode {count - i}",
            episodeGuid=f"guid-{collection_id}-{count - i}",
            episodeUrl=f"https://media.example.invalid/{collection_id}/{count - i}.mp3",
            releaseDate=(start - timedelta(days=7 * i)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        )
        out.append(episode)
    return out


def apple_backend(samples: Path, episodes: int = 0) -> tuple[AppleBackend, dict[int, Any]]:
    """The recorded search's shows, NerdCast with ``episodes`` episodes."""
    results = load(samples, "podsearch_bot__en-us__searchInline.json")["results"]
    collections = {r["collectionId"]: r for r in results}
    return AppleBackend(collections, {NERDCAST: apple_episodes(NERDCAST, episodes)}), collections


APPLE = ConnectorCase(
    source="apple",
    backend=lambda data: apple_backend(data / "api_samples" / "itunes", episodes=12)[0],
    mounts=lambda backend: {"itunes": backend},
    credentials={},
    show=ShowSpec(name="NerdCast", itunes_id=str(NERDCAST)),
    show_id=str(NERDCAST),
    episodes=12,
    search_term="jovem nerd",
    unknown=ShowSpec(name="nobody", itunes_id="999"),
    # Apple's 20 calls a minute would make the suite wait; its own tests check the rate.
    settings={"PODSIGHT_APPLE_RATE_LIMIT": "off"},
)


# -- Podcast Index: the official OpenAPI document's examples ---------------------------

PODCASTINDEX_KEY = "UXKCGDSYGUUEVQJSYDZH"
PODCASTINDEX_SECRET = "yzJe2eE7XV-3eY576dyRZ6wXyAbndh6LUrCZ8KN|"
PODCASTINDEX_FEED = 75075


def podcastindex_openapi(data: Path) -> Path:
    return data / "api_samples" / "podcastindex" / "pi_api.openapi.json"


PODCASTINDEX = ConnectorCase(
    source="podcastindex",
    backend=lambda data: PodcastIndexBackend.from_spec(
        podcastindex_openapi(data), key=PODCASTINDEX_KEY, secret=PODCASTINDEX_SECRET
    ),
    mounts=lambda backend: {"podcastindex": backend},
    credentials={
        "PODCASTINDEX_API_KEY": PODCASTINDEX_KEY,
        "PODCASTINDEX_API_SECRET": PODCASTINDEX_SECRET,
    },
    show=ShowSpec(name="Batman University", podcastindex_id=str(PODCASTINDEX_FEED)),
    show_id=str(PODCASTINDEX_FEED),
    episodes=1,
    search_term="batman university",
    unknown=ShowSpec(name="nobody", podcastindex_id="1"),
)

CASES: dict[str, ConnectorCase] = {c.source: c for c in (PODCASTINDEX, APPLE, SPOTIFY, YOUTUBE)}
