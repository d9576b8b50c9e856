from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta

import pytest

from podsight.lake.metrics import MetricSnapshot, latest_metrics, metric_history, record_metrics


def test_snapshots_accumulate_and_are_never_overwritten(tmp_path, monkeypatch):
    monkeypatch.setenv("PODSIGHT_HOME", str(tmp_path))
    t0 = datetime(2024, 5, 1, tzinfo=UTC)
    for day, views in enumerate([100, 250, 240]):  # a count may even drop (spam removal)
        record_metrics(
            [MetricSnapshot("youtube", "episode", "vid1", "views", views, t0 + timedelta(days=day))]
        )
    record_metrics([MetricSnapshot("youtube", "episode", "vid2", "views", 7, t0)])
    history = metric_history("youtube", "vid1", "views")
    assert [v for _, v in history] == [100.0, 250.0, 240.0]
    assert history[0][0] == t0
    assert (tmp_path / "lake" / "source_metrics" / "_delta_log").is_dir()


def test_naive_times_are_refused():
    with pytest.raises(ValueError, match="timezone-aware"):
        MetricSnapshot("youtube", "episode", "v", "views", 1, datetime(2024, 1, 1))


def test_reads_see_every_commit_and_a_table_made_again(tmp_path, monkeypatch):
    """A small table is queried from memory, kept per commit: a snapshot appended after a
    read is in the next read, and a table deleted and made again is read anew."""
    monkeypatch.setenv("PODSIGHT_HOME", str(tmp_path))
    t0 = datetime(2024, 5, 1, tzinfo=UTC)
    record_metrics([MetricSnapshot("youtube", "episode", "vid1", "views", 1, t0)])
    assert [v for _, v in metric_history("youtube", "vid1", "views")] == [1.0]
    record_metrics([MetricSnapshot("youtube", "episode", "vid1", "views", 2, t0 + timedelta(1))])
    assert [v for _, v in metric_history("youtube", "vid1", "views")] == [1.0, 2.0]
    assert (
        latest_metrics("episode", [("youtube", "vid1")])[("youtube", "vid1")]["views"]["value"]
        == 2.0
    )

    shutil.rmtree(tmp_path / "lake" / "source_metrics")
    record_metrics([MetricSnapshot("youtube", "episode", "vid1", "views", 9, t0)])
    assert [v for _, v in metric_history("youtube", "vid1", "views")] == [9.0]


def test_a_large_table_is_read_from_disk(tmp_path, monkeypatch):
    monkeypatch.setenv("PODSIGHT_HOME", str(tmp_path))
    monkeypatch.setattr("podsight.lake.metrics.MEMORY_ROWS", 1)
    t0 = datetime(2024, 5, 1, tzinfo=UTC)
    record_metrics(
        MetricSnapshot("youtube", "episode", "vid1", "views", v, t0 + timedelta(days=v))
        for v in (3, 4)
    )
    assert [v for _, v in metric_history("youtube", "vid1", "views")] == [3.0, 4.0]
