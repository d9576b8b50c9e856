"""``podsight demo load`` gives the loaded catalog a listening history (simulated
listeners, consumed into the lake) and trains the recommender on it; loading again keeps
that history instead of doubling it. Here on the ``PODSIGHT_FEEDS`` path, with real feeds
of the corpus, through the command."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from podsight import lake

pytestmark = pytest.mark.django_db

FEEDS = ["podcast-feed-parser/podnews.xml", "podcast-feed-parser/planet-money.xml"]


def _events() -> list[dict]:
    return lake.query("SELECT user_id, client FROM e", e="events").to_pylist()


def test_demo_load_gives_listeners_a_history_once_and_trains_on_it(home, rss_corpus, monkeypatch):
    from podsight.cli.main import app

    monkeypatch.setenv("PODSIGHT_FEEDS", " ".join(str(rss_corpus / f) for f in FEEDS))
    command = ["demo", "load", "--listeners", "25", "--no-content", "--no-progress"]
    first = CliRunner().invoke(app, command)
    assert first.exit_code == 0, first.output
    assert "listening: " in first.output and "events.consume succeeded" in first.output
    assert "status: serving" in first.output, first.output
    events = _events()
    assert events and {e["client"] for e in events} == {"simulator"}
    assert {e["user_id"] for e in events} <= {f"sim42-{i:05d}" for i in range(1, 26)}
    tastes = json.loads((Path(home) / "simulated" / "tastes.json").read_text("utf-8"))
    assert [u["user_id"] for u in tastes["users"]] == [f"sim42-{i:05d}" for i in range(1, 26)]

    again = CliRunner().invoke(app, command)
    assert again.exit_code == 0, again.output
    assert "already in the lake (kept)" in again.output
    assert len(_events()) == len(events)  # not a second history on top of the first
