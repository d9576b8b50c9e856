"""Each step's gate (pipeline.validate): a bad write makes the step itself fail with a
QualityError (so the runner runs nothing that depends on it), and the restore the
message names, followed by a fixed run, gives the data a clean run gives."""

from __future__ import annotations

import json
import math
import uuid
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from deltalake import DeltaTable

from listening import catalog, home  # noqa: F401  (fixtures)
from podsight import lake
from podsight.catalog.models import Channel, Episode
from podsight.errors import QualityError
from podsight.events.services import ingest
from podsight.lake.history import restore
from podsight.pipeline import run_step, validate
from podsight.sources.models import SourceChannel

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("catalog")]

T0 = datetime(2025, 6, 2, 9, 0, tzinfo=UTC)


def _plays(episodes: list[Episode], user: str, start: float) -> list[dict]:
    items = []
    for n, episode in enumerate(episodes):
        at = T0 + timedelta(seconds=start + 1000 * n)
        items += [
            {"event_id": str(uuid.uuid4()), "user_id": user, "episode": episode.pk,
             "type": "play", "occurred_at": at.isoformat(), "position_s": 0},
            {"event_id": str(uuid.uuid4()), "user_id": user, "episode": episode.pk,
             "type": "pause", "occurred_at": (at + timedelta(seconds=120)).isoformat(),
             "position_s": 120},
        ]  # fmt: skip
    result = ingest(items, client="test")
    assert not result.errors, result.errors[:3]
    return items


def _engagement() -> list[dict]:
    return lake.query(
        "SELECT * EXCLUDE (last_event_at) FROM g ORDER BY day, user_id, episode_id",
        g="engagement_daily",
    ).to_pylist()


def test_a_consumer_writing_bad_weights_fails_its_step_and_the_restore_repairs_it():
    episodes = list(Episode.objects.order_by("pk")[:4])
    _plays(episodes[:2], "ann", 0)
    first = run_step("events.consume", once=True, refresh=False)
    assert first.quality.ok and len(first.quality.checks) > 20, first.quality.summary()
    good_version = DeltaTable(str(lake.table_path("engagement_daily"))).version()

    _plays(episodes[2:], "bob", 50)
    # A bug in the weight formula: every recomputed weight is NaN.
    with pytest.MonkeyPatch.context() as bug:
        bug.setattr("podsight.events.consumer.WEIGHT_SQL", "CAST('NaN' AS DOUBLE)")
        with pytest.raises(QualityError) as raised:
            run_step("events.consume", once=True, refresh=False)
    message = str(raised.value)
    assert "after events.consume" in message
    assert "engagement_daily: weight finite: 2 of 2 failed" in message
    assert "user_id=bob" in message
    assert f"podsight lake restore engagement_daily --version {good_version}" in message
    assert "events:" not in message  # the events themselves were fine
    assert any(math.isnan(r["weight"]) for r in _engagement())

    # What the message says, then the fixed code runs again: the rows are recomputed.
    restore("engagement_daily", good_version)
    again = run_step("events.consume", once=True, refresh=False)
    assert again.quality.ok
    rows = _engagement()
    assert len(rows) == 4 and all(math.isfinite(r["weight"]) for r in rows)
    assert {r["user_id"] for r in rows} == {"ann", "bob"}


def test_a_failed_gate_keeps_failing_on_the_next_run_until_the_data_is_fixed():
    episodes = list(Episode.objects.order_by("pk")[:4])
    _plays(episodes[:2], "ann", 0)
    run_step("events.consume", once=True, refresh=False)
    good_version = DeltaTable(str(lake.table_path("engagement_daily"))).version()
    _plays(episodes[2:], "bob", 50)
    with pytest.MonkeyPatch.context() as bug:
        bug.setattr("podsight.events.consumer.WEIGHT_SQL", "CAST('NaN' AS DOUBLE)")
        with pytest.raises(QualityError):
            run_step("events.consume", once=True, refresh=False)

    # The bug is fixed, nothing new arrived: the next run (a schedule, an Airflow retry)
    # still finds the bad rows, and says how to clear them.
    for _ in range(2):
        with pytest.raises(QualityError) as raised:
            run_step("events.consume", once=True, refresh=False)
        message = str(raised.value)
        assert "engagement_daily: weight finite: 2 of" in message and "user_id=bob" in message
        assert f"podsight lake restore engagement_daily --version {good_version}" in message
        assert "fails on every run" in message
        assert f"engagement_daily since version {good_version}" in message

    # Rewriting the table (the batch recomputation, fixed) clears it: the gate then covers
    # the new files only, and passes from then on.
    done = run_step("events.engagement", engine="local", force=True)
    assert done.quality.ok
    assert run_step("events.consume", once=True, refresh=False).quality.ok
    assert all(math.isfinite(r["weight"]) for r in _engagement())


def test_a_gate_that_fails_after_a_restore_clears_and_new_writes_are_checked_once():
    episodes = list(Episode.objects.order_by("pk")[:3])
    _plays(episodes[:1], "ann", 0)
    run_step("events.consume", once=True, refresh=False)
    good_version = DeltaTable(str(lake.table_path("engagement_daily"))).version()
    _plays(episodes[1:2], "bob", 50)
    with pytest.MonkeyPatch.context() as bug:
        bug.setattr("podsight.events.consumer.WEIGHT_SQL", "CAST('NaN' AS DOUBLE)")
        with pytest.raises(QualityError):
            run_step("events.consume", once=True, refresh=False)
    restore("engagement_daily", good_version)
    assert run_step("events.consume", once=True, refresh=False).quality.ok
    passed = DeltaTable(str(lake.table_path("engagement_daily"))).version()
    # Nothing new: the next gate reads nothing of engagement_daily's rows again.
    again = run_step("events.consume", once=True, refresh=False)
    ranged = {c.check: c for c in again.quality.checks if c.table == "engagement_daily"}
    assert "weight finite" not in ranged, sorted(ranged)
    assert DeltaTable(str(lake.table_path("engagement_daily"))).version() == passed


def test_restoring_events_makes_the_consumer_read_the_taken_out_events_again():
    episodes = list(Episode.objects.order_by("pk")[:3])
    _plays(episodes[:1], "ann", 0)
    run_step("events.consume", once=True, refresh=False)
    kept = DeltaTable(str(lake.table_path("events"))).version()
    kept_engagement = DeltaTable(str(lake.table_path("engagement_daily"))).version()
    _plays(episodes[1:], "bob", 50)
    run_step("events.consume", once=True, refresh=False)
    before = _engagement()
    restore("events", kept)
    restore("engagement_daily", kept_engagement)
    assert {r["user_id"] for r in _engagement()} == {"ann"}
    redone = run_step("events.consume", once=True, refresh=False)
    assert redone.events_written == 4 and redone.quality.ok
    assert _engagement() == before  # exactly what the first pass computed


def test_a_record_linked_to_a_channel_merged_away_fails_match():
    start = validate.before()
    linked = SourceChannel.objects.filter(channel__isnull=False).order_by("pk").first()
    other = Channel.objects.exclude(pk=linked.channel_id).order_by("pk").first()
    # A bad write: the channel is merged into another without its records moving.
    Channel.objects.filter(pk=linked.channel_id).update(merged_into=other)
    with pytest.raises(QualityError) as raised:
        validate.check_match(start, object())
    message = str(raised.value)
    assert "source channel records: linked channel exists (not merged away): 1 of" in message
    assert f"pk={linked.pk}" in message and f"channel_id={linked.channel_id}" in message
    assert "docs/operations.md" in message  # database rows: the backup to restore


def test_source_records_without_their_key_fail_sync():
    start = validate.before()
    record = SourceChannel.objects.order_by("pk").first()
    SourceChannel.objects.filter(pk=record.pk).update(
        external_id="", fetched_at=datetime.now(UTC) + timedelta(seconds=1)
    )
    with pytest.raises(QualityError, match="source and external id present: 1 of 1 failed"):
        validate.check_sync(start, object())


def test_a_model_with_nan_factors_unknown_items_or_metrics_out_of_range_never_serves(tmp_path):
    known = str(Episode.objects.order_by("pk").first().pk)
    good = tmp_path / "good"
    (good / "model" / "als").mkdir(parents=True)
    np.savez(good / "model" / "als" / "factors.npz", item_factors=np.ones((3, 4), np.float32))
    metrics = {"hybrid": {"ndcg@10": 0.3, "p@10": 0.1, "r@10": 0.2, "coverage": 0.5,
                          "intra_list_similarity": -0.2, "users": 12}}  # fmt: skip
    assert validate.check_model(good, [known], metrics).ok

    bad = tmp_path / "bad"
    (bad / "model" / "als").mkdir(parents=True)
    factors = np.ones((3, 4), np.float32)
    factors[1, 2] = np.inf
    np.savez(bad / "model" / "als" / "factors.npz", item_factors=factors)
    with pytest.raises(QualityError) as raised:
        validate.check_model(bad, [known, "987654321"], {"hybrid": {"ndcg@10": 1.7}})
    message = str(raised.value)
    assert "factor and weight arrays finite: 1 of 1 failed" in message
    assert "model/als/factors.npz:item_factors (1 values)" in message
    assert "items are catalog episodes: 1 of 2 failed; e.g. item=987654321" in message
    assert "validation metrics in [0, 1]: 1 of 1 failed; e.g. hybrid.ndcg@10=1.7" in message
    assert "was not promoted" in message
    json.dumps(raised.value.report.as_dict())  # the report is JSON-ready for run records
    # Each failure names where its data came from: the factors from engagement, the
    # unknown item from the catalog, the metrics from the evaluation code.
    assert "podsight lake history engagement_daily" in message
    assert "the catalog does not have" in message
    assert "podsight.recs.evaluate" in message


def test_a_model_failing_on_its_episode_vectors_names_the_passages_not_engagement(tmp_path):
    known = str(Episode.objects.order_by("pk").first().pk)
    bad = tmp_path / "bad"
    (bad / "model" / "facts").mkdir(parents=True)
    vectors = np.ones((1, 4), np.float32)
    vectors[0, 0] = np.nan
    np.savez(bad / "model" / "facts" / "facts.npz", item_vectors=vectors)
    with pytest.raises(QualityError) as raised:
        validate.check_model(bad, [known], {})
    message = str(raised.value)
    assert "facts.npz:item_vectors (1 values)" in message
    assert "podsight lake history passages" in message
    assert "engagement_daily" not in message


def test_the_batch_engagement_step_is_gated_too():
    episodes = list(Episode.objects.order_by("pk")[:2])
    _plays(episodes, "ann", 0)
    run_step("events.consume", once=True, refresh=False)
    done = run_step("events.engagement", engine="local", force=True)
    assert done.quality.ok, [str(c) for c in done.quality.failures]
    counted = {c.check: c for c in done.quality.checks}["rows in the table equal rows recomputed"]
    assert counted.checked == done.rows == 2
    kept = DeltaTable(str(lake.table_path("engagement_daily"))).version()
    with pytest.MonkeyPatch.context() as bug:
        bug.setattr("podsight.events.consumer.WEIGHT_SQL", "CAST('Infinity' AS DOUBLE)")
        with pytest.raises(QualityError) as raised:
            run_step("events.engagement", engine="local", force=True)
    message = str(raised.value)
    assert "after events.engagement" in message
    assert "engagement_daily: weight finite: 2 of 2 failed" in message
    assert f"podsight lake restore engagement_daily --version {kept}" in message


def test_a_model_of_episodes_without_a_publication_date_serves(tmp_path):
    # recs.core: NaN in item_published is "date not known" (a feed without pubDate);
    # such a model is good. Infinity there is not a date.
    known = str(Episode.objects.order_by("pk").first().pk)
    model = tmp_path / "model-dir"
    (model / "model" / "facts").mkdir(parents=True)
    published = np.array([1.7e9, np.nan, 1.6e9])
    np.savez(model / "model" / "facts" / "facts.npz", item_published=published)
    assert validate.check_model(model, [known], {}).ok
    published[0] = np.inf
    np.savez(model / "model" / "facts" / "facts.npz", item_published=published)
    with pytest.raises(QualityError, match="facts.npz:item_published"):
        validate.check_model(model, [known], {})
