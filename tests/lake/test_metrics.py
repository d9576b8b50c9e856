from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from podsight.lake.metrics import MetricSnapshot, metric_history, record_metrics


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
