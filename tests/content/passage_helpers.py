"""Helpers of the passage, index and search tests: a catalog of episodes whose transcript
segments are in the lake, as ``content.transcripts`` leaves them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import pyarrow as pa

from podsight import lake
from podsight.content.segments import Segment
from podsight.lake.tables import TRANSCRIPTS

__all__ = ["make_episode", "store_segments"]


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


def store_segments(episode, segments: Sequence[Segment], *, version: int | None = None) -> int:
    """The segments as the next transcript version of ``episode`` (lake + state row)."""
    from podsight.content.models import EpisodeTranscript, TranscriptStatus

    state, _ = EpisodeTranscript.objects.get_or_create(episode=episode)
    version = version or state.version + 1
    now = datetime.now(UTC)
    rows = pa.table(
        {
            "episode_id": pa.array([episode.pk] * len(segments), pa.int64()),
            "version": pa.array([version] * len(segments), pa.int32()),
            "segment_no": pa.array(range(len(segments)), pa.int32()),
            "source": pa.array(["rss"] * len(segments)),
            "format": pa.array(["vtt"] * len(segments)),
            "language": pa.array(["en"] * len(segments)),
            "start_s": pa.array([s.start_s for s in segments], pa.float64()),
            "end_s": pa.array([s.end_s for s in segments], pa.float64()),
            "speaker": pa.array([s.speaker for s in segments]),
            "text": pa.array([s.text for s in segments], pa.large_string()),
            "created_at": pa.array([now] * len(segments), pa.timestamp("us", tz="UTC")),
        },
        schema=TRANSCRIPTS.schema,
    )
    lake.append(TRANSCRIPTS, rows)
    state.status = TranscriptStatus.OK
    state.version = version
    state.segments = len(segments)
    state.save()
    return version
