"""The demo world as the source APIs see it, served by a local :class:`ApiServer`.

Each platform's renderer derives its own view of the world (ids, title affixes,
shifted dates, ad-length durations, missing and extra episodes, clips and
trailers on YouTube); this module mounts them together and lists the demo
shows with every platform's id, as a sources file for ``podsight sync``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

from podsight.demo.apiserver import ApiServer
from podsight.demo.world import World
from podsight.sources.sync import ShowSpec

__all__ = [
    "DEMO_CREDENTIALS",
    "DEMO_RATE_LIMITS",
    "build_demo_api_server",
    "demo_show_specs",
    "pointed_at",
]

# The demo backends accept exactly these; they are not secrets.
DEMO_CREDENTIALS = {
    "SPOTIFY_CLIENT_ID": "demo",
    "SPOTIFY_CLIENT_SECRET": "demo",
    "YOUTUBE_API_KEY": "demo",
    "PODCASTINDEX_API_KEY": "demo",
    "PODCASTINDEX_API_SECRET": "demo",
}
# The local server has no rate limits; the real services' (Apple: ~20 calls/minute)
# would make the demo wait a minute for nothing.
DEMO_RATE_LIMITS = {
    f"PODSIGHT_{source}_RATE_LIMIT": "off"
    for source in ("APPLE", "SPOTIFY", "YOUTUBE", "PODCASTINDEX")
}


def build_demo_api_server(
    world: World, *, host: str = "127.0.0.1", port: int = 0, cache_mode: str = "etag"
) -> ApiServer:
    from podsight.demo.apple_api import build_apple_backend
    from podsight.demo.documents import HostingBackend
    from podsight.demo.podcastindex_api import build_podcastindex_backend
    from podsight.demo.spotify_api import build_spotify_backends
    from podsight.demo.youtube_api import build_youtube_backend

    spotify, accounts = build_spotify_backends(world)
    return ApiServer(
        {
            "spotify": spotify,
            "spotify-accounts": accounts,
            "youtube": build_youtube_backend(world),
            "podcastindex": build_podcastindex_backend(world),
            "itunes": build_apple_backend(world),
            "hosting": HostingBackend(world),
        },
        cache_mode=cache_mode,
        host=host,
        port=port,
    )


def demo_show_specs(world: World) -> list[ShowSpec]:
    """Every demo show with the ids each platform knows it by (RSS comes from files)."""
    from podsight.demo.apple_api import apple_demo_ids
    from podsight.demo.podcastindex_api import podcastindex_demo_ids
    from podsight.demo.spotify_api import spotify_demo_ids
    from podsight.demo.youtube_api import youtube_demo_ids

    pi, apple = podcastindex_demo_ids(world), apple_demo_ids(world)
    spotify, youtube = spotify_demo_ids(world), youtube_demo_ids(world)
    specs = []
    for show in world.shows:
        spec = ShowSpec(
            name=show.title,
            podcastindex_id=pi.get(show.slug, ""),
            itunes_id=apple.get(show.slug, ""),
            spotify_id=spotify.get(show.slug, ""),
            youtube_channel_id=youtube.get(show.slug, ""),
        )
        if any(spec.wants(s) for s in ("podcastindex", "apple", "spotify", "youtube")):
            specs.append(spec)
    return specs


@contextmanager
def pointed_at(server: ApiServer) -> Iterator[dict[str, str]]:
    """Environment pointing every connector at ``server`` with the demo credentials."""
    wanted = {**server.env(), **DEMO_CREDENTIALS, **DEMO_RATE_LIMITS}
    saved = {name: os.environ.get(name) for name in wanted}
    os.environ.update(wanted)
    try:
        yield wanted
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
