"""The registry of named pipeline steps."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from podsight.bootstrap import ensure_database

__all__ = ["STEPS", "build_demo_feeds", "ingest_rss", "step"]

STEPS: dict[str, Callable[..., Any]] = {}


def step(name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def register(fn: Callable[..., Any]) -> Callable[..., Any]:
        STEPS[name] = fn
        return fn

    return register


@step("ingest.rss")
def ingest_rss(
    locations: Sequence[str], *, concurrency: int = 8, progress: bool = True, console=None
):
    """Fetch/read, parse and store RSS/Atom feeds → :class:`IngestReport`."""
    ensure_database()
    from podsight.sources.rss.ingest import ingest_feeds

    return ingest_feeds(locations, concurrency=concurrency, progress=progress, console=console)


@step("demo.feeds")
def build_demo_feeds(out_dir: Path, *, seed: int = 42, shows: int = 24) -> list[Path]:
    """Write the seeded demo world's RSS documents into ``out_dir`` → their paths."""
    from podsight.demo import build_world, write_rss_feeds

    # A folder reused with another seed or size must not keep the old world's feeds.
    if out_dir.is_dir():
        for stale in out_dir.glob("*.xml"):
            stale.unlink()
    return write_rss_feeds(build_world(seed=seed, shows=shows), out_dir)
