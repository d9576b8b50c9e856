"""Apple Podcasts connector over the iTunes Search API: lookup and search."""

from podsight.sources.apple.client import AppleConnector, apple_error_hook
from podsight.sources.apple.normalize import normalize

__all__ = ["AppleConnector", "apple_error_hook", "normalize"]
