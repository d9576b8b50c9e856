"""What the API reads of one episode's content in one go (the dashboard's episode page).

:func:`episode_content` is the episode (followed to the survivor of a merge) with its
channel, transcript state and analysis joined in one query; the episode detail
(``GET /api/episodes/{id}``) has the same facts but also reads the lake for every source
record's latest metrics, which a content view does not show."""

from __future__ import annotations

from podsight.catalog.models import Episode
from podsight.catalog.services import resolve_episode

__all__ = ["episode_content"]


def episode_content(pk: int) -> Episode | None:
    """The episode ``pk`` (or the one it was merged into) with ``channel``,
    ``transcript_state`` and ``analysis`` loaded; None when there is no such episode."""
    episode = resolve_episode(pk)
    if episode is None:
        return None
    return (
        Episode.objects.select_related("channel", "transcript_state", "analysis")
        .filter(pk=episode.pk)
        .first()
    )
