"""Spotify Web API connector: client-credentials auth, shows, episodes, search."""

from podsight.sources.spotify.client import (
    SpotifyClientCredentials,
    SpotifyConnector,
    spotify_error_hook,
)
from podsight.sources.spotify.normalize import normalize

__all__ = ["SpotifyClientCredentials", "SpotifyConnector", "normalize", "spotify_error_hook"]
