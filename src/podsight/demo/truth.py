"""Ground truth for matching: which stored source records are the same demo show/episode.

The demo world knows what every rendered record really is: RSS items by their enclosure
URL, Spotify episodes by the deterministic id of (show, episode), YouTube videos by the
renderer's ``truth`` (kind, show, episode). :func:`write_labels` turns that into the labels
CSV that ``podsight match --report --labels FILE`` reads (format in
:mod:`podsight.matching.report`): every RSS, Spotify and YouTube record of the catalog is
labelled, records that are nothing else (Spotify-only extras, clips, shorts, live streams,
channel trailers, re-uploads of an episode already uploaded) as matching nothing.
"""

from __future__ import annotations

import csv
import itertools
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from podsight.demo.spotify_api import base62_id, spotify_demo_ids
from podsight.demo.world import World
from podsight.demo.youtube_api import build_youtube_backend, youtube_demo_ids

__all__ = ["LabelCounts", "write_labels"]

# YouTube kinds that are the episode itself, not a cut of it.
_WHOLE_KINDS = frozenset({"episode", "trailer"})
LABELLED_SOURCES = ("rss", "spotify", "youtube")


@dataclass(frozen=True)
class LabelCounts:
    channel_records: int
    channel_pairs: int
    episode_records: int
    episode_pairs: int
    world_shows: int
    world_episodes: int


def _show_of_record(world: World) -> dict[tuple[str, str], str]:
    """(source, external id or link) → show slug, for channel records."""
    out: dict[tuple[str, str], str] = {}
    for show in world.shows:
        out[("rss-link", show.link)] = show.slug
    for slug, show_id in spotify_demo_ids(world).items():
        out[("spotify", show_id)] = slug
    for slug, channel_id in youtube_demo_ids(world).items():
        out[("youtube", channel_id)] = slug
    return out


def _episode_identities(world: World) -> dict[tuple[str, str], tuple[str, int]]:
    """(source, enclosure URL or external id) → (show slug, episode index)."""
    out: dict[tuple[str, str], tuple[str, int]] = {}
    for show in world.shows:
        for episode in show.episodes:
            out[("rss", episode.enclosure_url)] = (show.slug, episode.index)
            spotify_id = base62_id(f"{world.seed}-spotify-episode-{show.slug}-{episode.index}")
            out[("spotify", spotify_id)] = (show.slug, episode.index)
    for video_id, truth in build_youtube_backend(world).truth.items():
        if truth["kind"] in _WHOLE_KINDS and truth["episode"] is not None:
            out[("youtube", video_id)] = (truth["show"], truth["episode"])
    return out


def write_labels(world: World, path: str | Path) -> LabelCounts:
    """Write the labels CSV for the catalog's RSS, Spotify and YouTube records."""
    from django.db.models import TextField, Value
    from django.db.models.fields.json import KT
    from django.db.models.functions import NullIf

    from podsight.sources.models import SourceChannel, SourceEpisode

    shows = _show_of_record(world)
    identities = _episode_identities(world)
    channel_groups: dict[str, list[tuple[str, str]]] = defaultdict(list)
    channel_singles: list[tuple[str, str]] = []
    for source, external_id, link in SourceChannel.objects.filter(
        source__in=LABELLED_SOURCES
    ).values_list(
        "source", "external_id", NullIf(KT("data__link"), Value("null"), output_field=TextField())
    ):
        key = ("rss-link", link or "") if source == "rss" else (source, external_id)
        slug = shows.get(key)
        (channel_groups[slug] if slug else channel_singles).append((source, external_id))

    episode_groups: dict[tuple[str, int], list[tuple[str, str, str]]] = defaultdict(list)
    episode_singles: list[tuple[str, str, str]] = []
    rows = SourceEpisode.objects.filter(source__in=LABELLED_SOURCES).values_list(
        "source",
        "external_id",
        "source_channel__external_id",
        NullIf(KT("data__enclosure_url"), Value("null"), output_field=TextField()),
    )
    for source, external_id, show_id, enclosure in rows.iterator(chunk_size=20_000):
        key = (source, enclosure or "") if source == "rss" else (source, external_id)
        identity = identities.get(key)
        record = (source, external_id, show_id)
        (episode_groups[identity] if identity else episode_singles).append(record)

    channel_pairs = episode_pairs = 0
    with Path(path).open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            [
                "entity",
                "left_source",
                "left_id",
                "right_source",
                "right_id",
                "left_show",
                "right_show",
            ]
        )
        for members in channel_groups.values():
            if len(members) == 1:
                writer.writerow(["channel", *members[0], "", "", "", ""])
            for (ls, li), (rs, ri) in itertools.pairwise(sorted(members)):
                writer.writerow(["channel", ls, li, rs, ri, "", ""])
                channel_pairs += 1
        for source, external_id in channel_singles:
            writer.writerow(["channel", source, external_id, "", "", "", ""])
        for members in episode_groups.values():
            if len(members) == 1:
                source, external_id, show = members[0]
                writer.writerow(["episode", source, external_id, "", "", show, ""])
            for (ls, li, lshow), (rs, ri, rshow) in itertools.pairwise(sorted(members)):
                writer.writerow(["episode", ls, li, rs, ri, lshow, rshow])
                episode_pairs += 1
        for source, external_id, show in episode_singles:
            writer.writerow(["episode", source, external_id, "", "", show, ""])
    return LabelCounts(
        channel_records=sum(len(m) for m in channel_groups.values()) + len(channel_singles),
        channel_pairs=channel_pairs,
        episode_records=sum(len(m) for m in episode_groups.values()) + len(episode_singles),
        episode_pairs=episode_pairs,
        world_shows=len(world.shows),
        world_episodes=sum(len(s.episodes) for s in world.shows),
    )
