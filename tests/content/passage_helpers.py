"""Helpers of the passage, index and search tests: a catalog of episodes whose transcript
segments are in the lake, as ``content.transcripts`` leaves them."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import UTC, datetime

from podsight.content.segments import Segment, Transcript

__all__ = ["ENGINE", "make_episode", "store_segments"]

# A timed transcript of small talk with one thing said at 70 s.
ENGINE = [
    Segment(i * 5.0, i * 5.0 + 5, "Host", f"Welcome back to the show, segment {i}.")
    for i in range(24)
]
ENGINE[14] = Segment(
    70.0,
    75.0,
    "Guest",
    "A diesel engine ignites its fuel by compression alone, without spark plugs.",
)


def make_episode(
    title: str,
    *,
    channel=None,
    channel_title: str = "A show",
    language: str = "en",
    published_at: datetime | None = None,
    notes: str = "",
    enclosure_url: str = "https://cdn.example.org/{n}.mp3",
):
    from podsight.catalog.models import Channel, Episode

    if channel is None:
        channel = Channel.objects.create(title=channel_title, language=language)
    n = Episode.objects.count() + 1
    return Episode.objects.create(
        channel=channel,
        title=title,
        guid=f"guid-{n}-{title}",
        description_text=notes,
        published_at=published_at or datetime(2024, 1, n % 28 + 1, tzinfo=UTC),
        enclosure_url=enclosure_url.format(n=n),
    )


def store_segments(episode, segments: Sequence[Segment]) -> int:
    """The segments as the next transcript version of ``episode`` (the real store)."""
    from podsight.content.transcripts import store_transcript

    text = "\n".join(s.text for s in segments)
    digest = hashlib.sha256(text.encode()).hexdigest()
    return store_transcript(
        episode.pk, Transcript(list(segments), "vtt", "en"), source="rss", url="", sha256=digest
    )
