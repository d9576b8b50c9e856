"""The model life cycle as the pipeline graph runs it: ``recs.train(promote=False,
if_changed=True)``, ``recs.promote("latest")`` and ``recs.refresh``. The blender and the
dataset are ``serve_fakes``' stand-ins; the database, the model directories, the cache
and the lake's ``events`` table (which refresh compares versions of) are real."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pytest
from recs_synthetic import make_dataset
from serve_fakes import FakeHybrid, install

from podsight.pipeline import run_step
from podsight.recs import bundle, lifecycle, serving
from podsight.recs.models import CachedRecommendations, ModelVersion

pytestmark = pytest.mark.django_db


@pytest.fixture
def lake(tmp_path: Path, monkeypatch, fresh_caches):
    monkeypatch.setenv("PODSIGHT_HOME", str(tmp_path))
    monkeypatch.delenv("PODSIGHT_CACHE_URL", raising=False)
    monkeypatch.delenv("PODSIGHT_RECS_PROMOTE_TOLERANCE", raising=False)
    monkeypatch.setattr(serving.impressions, "background", False)
    return install(monkeypatch, make_dataset())


def _train(ndcg: float, **options) -> lifecycle.TrainReport:
    FakeHybrid.ndcg = ndcg
    return run_step("recs.train", models=["fake"], **options)


def _status() -> dict[str, str]:
    return dict(ModelVersion.objects.values_list("version", "status"))


def _play(*users: str) -> None:
    """Rows for these users appended to the lake's events table (a new Delta version)."""
    from podsight import lake as lake_io
    from podsight.lake.tables import EVENTS

    now = datetime.now(UTC)
    columns = {field.name: [None] * len(users) for field in EVENTS.schema}
    columns.update(
        event_id=[f"e-{user}-{now.timestamp()}" for user in users],
        user_id=list(users),
        type=["play"] * len(users),
        occurred_at=[now] * len(users),
        received_at=[now] * len(users),
        date=[now.date()] * len(users),  # the UTC day of occurred_at, as the consumer writes it
        episode_id=[1] * len(users),
    )
    lake_io.append(EVENTS, pa.Table.from_pydict(columns, schema=EVENTS.schema))


def test_a_candidate_is_saved_unpromoted_then_latest_promotes_it(lake):
    report = _train(0.30, promote=False)
    assert report.status == "candidate" and report.cached == 0
    assert "not promoted" in report.note and "pass" in report.note
    assert not CachedRecommendations.objects.exists()
    promoted = run_step("recs.promote", version="latest")
    assert (promoted.version, promoted.status) == (report.version, "serving")
    assert promoted.cached == 60 and CachedRecommendations.objects.count() == 60
    # Once it serves, "latest" has nothing to do, and says so: not an error.
    again = run_step("recs.promote", version="latest")
    assert again.status == "serving" and again.cached == 0
    assert "already serves: nothing to promote" in again.note


def test_latest_with_no_version_trained_is_nothing_to_do(lake):
    report = run_step("recs.promote", version="latest")
    assert (report.version, report.status) == ("", "none")
    assert "no model version is trained yet" in report.note


def test_latest_refused_by_the_gate_is_marked_rejected_not_raised(lake, monkeypatch):
    monkeypatch.setenv("PODSIGHT_RECS_PROMOTE_TOLERANCE", "0.01")
    first = _train(0.30)
    worse = _train(0.20, promote=False)
    assert _status() == {first.version: "serving", worse.version: "candidate"}
    report = run_step("recs.promote", version="latest")
    assert report.status == "rejected" and "0.2000" in report.note
    assert _status() == {first.version: "serving", worse.version: "rejected"}
    # Judged once: the next run's "latest" leaves it alone.
    again = run_step("recs.promote", version="latest")
    assert again.status == "rejected" and "nothing to promote" in again.note
    # A version named explicitly still raises when refused (the CLI's behaviour).
    with pytest.raises(lifecycle.GateRefused):
        run_step("recs.promote", version=worse.version)


def test_training_if_changed_skips_the_same_inputs_and_trains_on_new_ones(lake):
    lake.dataset.data_version = 3
    first = _train(0.30, promote=False, if_changed=True)
    assert first.status == "candidate"
    fingerprint = ModelVersion.objects.get(version=first.version).data["fingerprint"]
    assert len(fingerprint) == 32
    skipped = _train(0.30, promote=False, if_changed=True)
    assert skipped.status == "skipped" and skipped.version == first.version
    assert f"no new data since version {first.version}" in skipped.note
    assert ModelVersion.objects.count() == 1
    # Without if_changed (the CLI's default) the same data trains a new version.
    plain = _train(0.30)
    assert plain.status == "serving" and ModelVersion.objects.count() == 2
    # New listening (another engagement_daily version): trained again.
    lake.dataset.data_version = 4
    assert _train(0.30, promote=False, if_changed=True).status == "candidate"
    # A catalog change (an episode's title) is new input too.
    lake.dataset.item_titles = ["renamed", *lake.dataset.item_titles[1:]]
    assert _train(0.30, promote=False, if_changed=True).status == "candidate"
    assert _train(0.30, promote=False, if_changed=True).status == "skipped"
    # So are other models asked for.
    assert ModelVersion.objects.count() == 4


def test_if_changed_with_no_listening_is_a_skip_saying_so(lake):
    from podsight.recs.core import Dataset

    lake.dataset = Dataset(users=[], items=[], matrix=make_dataset().matrix[:0, :0])
    report = _train(0.30, promote=False, if_changed=True)
    assert report.status == "skipped" and "no listening" in report.note
    with pytest.raises(lifecycle.NoTrainingData):
        _train(0.30)


def test_refresh_recomputes_only_what_changed(lake):
    assert run_step("recs.refresh").mode == "none"
    _play("u001")  # the events table exists before the first precompute
    first = _train(0.30)
    assert first.cached == 60
    stamp = dict(CachedRecommendations.objects.values_list("user_id", "computed_at"))
    # Right after a precompute: nothing to do.
    report = run_step("recs.refresh")
    assert (report.mode, report.users, report.known) == ("incremental", 0, 60)
    assert "nothing new" in report.note
    # Two listeners played (and one newcomer): their lists only.
    _play("u002", "u003", "newcomer")
    report = run_step("recs.refresh")
    assert (report.mode, report.users) == ("incremental", 3)
    after = dict(CachedRecommendations.objects.values_list("user_id", "computed_at"))
    assert {u for u in after if after[u] != stamp.get(u)} == {"u002", "u003", "newcomer"}
    # A lost list is recomputed too.
    CachedRecommendations.objects.filter(user_id="u010").delete()
    report = run_step("recs.refresh")
    assert report.users == 1 and CachedRecommendations.objects.filter(user_id="u010").exists()
    # Another version serving: everyone's.
    second = _train(0.31, promote=False)
    run_step("recs.promote", version=second.version)
    assert run_step("recs.refresh").users == 0  # the promotion precomputed them
    (bundle.models_root() / ".refresh.json").unlink()
    report = run_step("recs.refresh")
    assert report.mode == "full" and report.users == 61
    assert set(CachedRecommendations.objects.values_list("model_version", flat=True)) == {
        second.version
    }
