"""Sync, discover, replay and the connectors report through the progress interface their
caller supplies (``podsight.progress``); only the CLI prints. Grep-level, on purpose."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

SOURCES = Path(__file__).resolve().parents[2] / "src" / "podsight" / "sources"
MODULES = [
    "sync.py",
    "discover.py",
    "replay.py",
    "connector.py",
    "http.py",
    *(f"{source}/client.py" for source in ("podcastindex", "apple", "spotify", "youtube")),
]
PRINTING = re.compile(r"^\s*(?:from rich|import rich)|\bprint\(|\bConsole\(", re.M)


@pytest.mark.parametrize("module", MODULES)
def test_module_prints_nothing(module: str) -> None:
    found = PRINTING.findall((SOURCES / module).read_text(encoding="utf-8"))
    assert not found, f"sources/{module} prints or imports rich: {found}"
