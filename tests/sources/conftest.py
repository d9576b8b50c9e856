from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def seed_dir(test_data: Path) -> Path:
    """The first seed project's Huberman Lab export (Spotify and YouTube), which the
    Spotify and YouTube replay backends serve."""
    return test_data / "seeds" / "youtubeAPI"
