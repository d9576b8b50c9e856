"""YouTube Data API v3 source: channels, uploads and their counts, within a daily quota."""

from podsight.sources.youtube.client import YouTubeConnector, youtube_error_hook
from podsight.sources.youtube.normalize import normalize, playlist_video_ids, video_kind
from podsight.sources.youtube.quota import COSTS, QuotaLedger, cost_of

__all__ = [
    "COSTS",
    "QuotaLedger",
    "YouTubeConnector",
    "cost_of",
    "normalize",
    "playlist_video_ids",
    "video_kind",
    "youtube_error_hook",
]
