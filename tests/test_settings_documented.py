"""Every setting the code reads from the environment is in the README's settings table."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Names that look like settings but are not read from the environment (module constants).
NOT_SETTINGS = {"SPOTIFY_RATE", "PODCASTINDEX_RATE", "PODCASTINDEX_FEEDS"}
_NAME = re.compile(
    r"""["'`](?P<name>(?:PODSIGHT|SPOTIFY|YOUTUBE|PODCASTINDEX)_[A-Z0-9_]+|DATABASE_URL)["'`]"""
)
_RATE = re.compile(r"PODSIGHT_\{source\.upper\(\)\}_RATE_LIMIT")


def _read_settings() -> set[str]:
    names: set[str] = set()
    for path in (ROOT / "src" / "podsight").rglob("*.py"):
        text = path.read_text("utf-8")
        names.update(m["name"] for m in _NAME.finditer(text))
        if _RATE.search(text):
            names.update(f"PODSIGHT_{s}_RATE_LIMIT" for s in ("APPLE", "SPOTIFY", "YOUTUBE",
                                                              "PODCASTINDEX"))  # fmt: skip
    return names - NOT_SETTINGS


def _documented() -> str:
    readme = (ROOT / "README.md").read_text("utf-8")
    start = readme.index("## Settings")
    end = readme.index("\n## ", start + 1)
    return readme[start:end]


def test_every_setting_is_documented() -> None:
    table = _documented()
    names = _read_settings()
    assert len(names) > 30  # the scan found the settings at all
    # Whole names: PODSIGHT_LOGIN_MAX_FAILURES is not documented by …_PER_CLIENT alone.
    missing = sorted(n for n in names if not re.search(rf"(?<![A-Z0-9_]){n}(?![A-Z0-9_])", table))
    assert not missing, f"document these settings in README.md's settings table: {missing}"
