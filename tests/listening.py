"""Fixtures of the tests that send listening events (events, gPodder, the simulator): a
fresh PODSIGHT_HOME (event log and lake) per test, and a catalog made from real feeds of
the corpus. Each of those test packages imports them into its conftest."""

from __future__ import annotations

from pathlib import Path

import pytest

FEEDS = [
    "podcast-feed-parser/bc-sample.xml",  # 4 episodes
    "podcast-feed-parser/podnews.xml",  # 100 episodes
]


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch, fresh_caches) -> Path:
    monkeypatch.setenv("PODSIGHT_HOME", str(tmp_path))
    monkeypatch.delenv("PODSIGHT_EVENT_LOG", raising=False)
    return tmp_path


@pytest.fixture
def catalog(rss_corpus: Path, db):
    from podsight.sources.rss.ingest import ingest_feeds

    report = ingest_feeds([str(rss_corpus / f) for f in FEEDS])
    assert not any(o.failed for o in report.outcomes), [o.error for o in report.outcomes]
    return report
