"""The model life cycle and serving, on their own logic: the blender and the lake reader
are the small stand-ins of ``serve_fakes`` (the same paths on the real ones are in
``test_serving_real.py``). The database, the model directories, the cache (database and
Redis) and the lake's events are real."""

from __future__ import annotations

import json
import os
import threading
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pytest
from recs_synthetic import make_dataset
from serve_fakes import FakeHybrid, install

from podsight.errors import NotFoundError, PodsightError
from podsight.recs import lifecycle, serving
from podsight.recs.models import CachedRecommendations, Impression, ModelVersion

pytestmark = pytest.mark.django_db

REDIS_URL = os.environ.get("PODSIGHT_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture
def home(tmp_path: Path, monkeypatch, fresh_caches) -> Path:
    monkeypatch.setenv("PODSIGHT_HOME", str(tmp_path))
    monkeypatch.delenv("PODSIGHT_CACHE_URL", raising=False)
    monkeypatch.delenv("PODSIGHT_RECS_PROMOTE_TOLERANCE", raising=False)
    # The test's transaction is the only connection: no writer thread beside it.
    monkeypatch.setattr(serving.impressions, "background", False)
    return tmp_path


@pytest.fixture
def lake(home, monkeypatch):
    return install(monkeypatch, make_dataset())


@pytest.fixture(params=["database", "redis"])
def cache_kind(request, monkeypatch, lake):
    if request.param == "redis":
        import redis

        try:
            redis.Redis.from_url(REDIS_URL).ping()
        except redis.RedisError:
            pytest.skip(f"no Redis at {REDIS_URL}")
        monkeypatch.setenv("PODSIGHT_CACHE_URL", REDIS_URL)
        serving.forget_loaded()
        serving.cache().clear()
        yield "redis"
        serving.cache().clear()
    else:
        yield "database"


def _train(ndcg: float, variant: int = 0, **options) -> lifecycle.TrainReport:
    FakeHybrid.ndcg, FakeHybrid.variant = ndcg, variant
    return lifecycle.train(["fake"], **options)


def _status() -> dict[str, str]:
    return dict(ModelVersion.objects.values_list("version", "status"))


def test_the_first_version_is_saved_with_its_manifest_and_serves(lake, home):
    report = _train(0.30)
    assert report.status == "serving" and report.previous is None
    assert "first version" in report.note
    directory = home / "models" / report.version
    manifest = json.loads((directory / "manifest.json").read_text())
    assert manifest["version"] == report.version
    assert manifest["models"] == {"fake": {}}
    assert manifest["weights"] == {"fake": 1.0}
    assert manifest["metrics"]["hybrid"]["ndcg@10"] == pytest.approx(0.30)
    assert manifest["data"]["users"] == 60 and manifest["data"]["interactions"] == 480
    assert (directory / "model" / "blend.json").is_file()
    assert not list((home / "models").glob(".tmp-*"))  # written aside, renamed in
    row = ModelVersion.objects.get(version=report.version)
    assert row.path == str(directory) and row.promoted_at is not None
    assert row.metrics["hybrid"]["ndcg@10"] == pytest.approx(0.30)
    # Every user of the data has a cached list from this version.
    assert report.cached == 60
    assert set(CachedRecommendations.objects.values_list("model_version", flat=True)) == {
        report.version
    }


def test_the_data_version_is_recorded(lake):
    lake.dataset.data_version = 7
    report = _train(0.30)
    assert report.data_version == 7
    assert ModelVersion.objects.get(version=report.version).data_version == 7


def test_no_listening_is_an_error_saying_what_to_run(lake):
    from podsight.recs.core import Dataset

    lake.dataset = Dataset(users=[], items=[], matrix=make_dataset().matrix[:0, :0])
    with pytest.raises(lifecycle.NoTrainingData, match="events consume"):
        _train(0.3)
    assert not ModelVersion.objects.exists()


def test_the_gate_promotes_within_tolerance_rejects_beyond_and_force_overrides(lake, monkeypatch):
    monkeypatch.setenv("PODSIGHT_RECS_PROMOTE_TOLERANCE", "0.02")
    first = _train(0.30)
    # 0.29 is within 0.02 of 0.30: promoted, the first retired.
    second = _train(0.29)
    assert second.status == "serving" and second.previous == first.version
    assert _status()[first.version] == "retired"
    # 0.25 is 0.04 below the serving 0.29: rejected, with the figures in the note.
    third = _train(0.25)
    assert third.status == "rejected"
    assert "0.2500" in third.note and "0.2900" in third.note and "--force" in third.note
    assert _status()[second.version] == "serving"
    # Its files are kept: it can be promoted by hand, but the gate still applies...
    with pytest.raises(lifecycle.GateRefused, match="not promoted"):
        lifecycle.promote(third.version)
    # ...unless forced.
    forced = lifecycle.promote(third.version, force=True)
    assert forced.status == "serving" and "forced" in forced.note
    assert _status() == {
        first.version: "retired",
        second.version: "retired",
        third.version: "serving",
    }
    fourth = _train(0.10, force=True)
    assert fourth.status == "serving" and fourth.note.startswith("forced past the gate")


def test_a_bad_tolerance_setting_is_named(lake, monkeypatch):
    monkeypatch.setenv("PODSIGHT_RECS_PROMOTE_TOLERANCE", "lots")
    with pytest.raises(PodsightError, match="PODSIGHT_RECS_PROMOTE_TOLERANCE"):
        _train(0.3)


def test_rollback_restores_the_previous_version_and_its_lists(lake, cache_kind):
    first = _train(0.30, variant=0)
    before = serving.recommendations_for("u001", n=10, log_impression=False)
    assert before.model_version == first.version and before.cached
    second = _train(0.31, variant=1)
    after = serving.recommendations_for("u001", n=10, log_impression=False)
    assert after.model_version == second.version and after.cached
    assert [i["episode"] for i in after.items] != [i["episode"] for i in before.items]
    report = lifecycle.rollback()
    assert report.version == first.version and report.previous == second.version
    assert report.cached == 60
    assert _status() == {first.version: "serving", second.version: "candidate"}
    again = serving.recommendations_for("u001", n=10, log_impression=False)
    assert again.model_version == first.version and again.cached
    assert again.items == before.items
    # Nothing served before the first version: a second rollback has nowhere to go.
    with pytest.raises(lifecycle.NoPrevious, match="only version"):
        lifecycle.rollback()
    # The rolled-back version can be promoted again.
    assert lifecycle.promote(second.version).status == "serving"


def test_rollback_with_nothing_serving_says_so(lake):
    with pytest.raises(lifecycle.NoPrevious, match="recs train"):
        lifecycle.rollback()


def test_a_missing_version_is_not_found(lake):
    with pytest.raises(NotFoundError, match="none is trained yet"):
        lifecycle.promote("20990101-000000-abcd")


def test_an_ab_split_is_stable_per_user_and_both_versions_are_reported(lake, cache_kind):
    first = _train(0.30, variant=0)
    second = _train(0.20, variant=1)  # rejected by the gate, still a trained version
    assert second.status == "rejected"
    report = lifecycle.start_ab(second.version, 0.3)
    assert report.status == "challenger" and report.cached == 60
    users = [f"u{u:03d}" for u in range(60)] + [f"new-{i}" for i in range(200)]
    seen = {u: serving.recommendations_for(u, n=5).model_version for u in users}
    # The split follows the hash, and a second read gives each user the same version.
    for user, version in seen.items():
        expected = second.version if serving.bucket(user) < 0.3 else first.version
        assert version == expected, user
        assert serving.recommendations_for(user, n=5).model_version == version
    share = sum(v == second.version for v in seen.values()) / len(seen)
    assert 0.2 < share < 0.4
    serving.flush_impressions()
    listed = {m.version: m for m in lifecycle.list_models().models}
    assert listed[first.version].status == "serving"
    assert listed[second.version].status == "challenger"
    assert listed[second.version].share == pytest.approx(0.3)
    on_second = sum(v == second.version for v in seen.values())
    assert listed[second.version].online["impressions"] == 2 * on_second
    assert listed[first.version].online["impressions"] == 2 * (len(users) - on_second)
    stopped = lifecycle.stop_ab()
    assert stopped.status == "candidate"
    assert serving.recommendations_for("new-1", n=5).model_version == first.version


def test_cached_lists_are_long_enough_and_carry_their_version(lake, cache_kind):
    report = _train(0.30)
    entry = serving.cache().get("u001")
    assert entry["v"] == report.version
    # 120 items minus the user's 8 plays and 1 rejection: all of them, under the cap.
    assert len(entry["items"]) == 111
    first = entry["items"][0]
    assert set(first) == {"episode", "title", "show", "show_title", "language", "score",
                          "sources", "reason"}  # fmt: skip
    assert first["title"].startswith("Episode") and first["show_title"]
    calls = FakeHybrid.recommend_calls
    got = serving.recommendations_for("u001", n=100)
    assert got.cached and len(got.items) == 100
    assert FakeHybrid.recommend_calls == calls  # read, not computed
    german = serving.recommendations_for("u001", n=20, language="de-DE")
    assert german.items and all(i["language"] == "de" for i in german.items)
    shows = serving.recommendations_for("u001", n=5, kind="shows")
    assert len(shows.items) == 5
    assert len({s["show"] for s in shows.items}) == 5
    assert all(s["episodes"] and s["show_title"] for s in shows.items)


def test_an_unknown_user_gets_a_cold_start_list_computed_and_cached(lake, cache_kind):
    report = _train(0.30)
    assert serving.cache().get("stranger") is None
    got = serving.recommendations_for("stranger", n=10)
    assert not got.cached and got.model_version == report.version and len(got.items) == 10
    assert serving.cache().get("stranger")["v"] == report.version
    assert serving.recommendations_for("stranger", n=10).cached


def test_refresh_users_follows_the_lake_now(lake, cache_kind):
    report = _train(0.30)
    top = serving.recommendations_for("u001", n=3, log_impression=False).items[0]["episode"]
    # The user plays the top episode: after a refresh it is no longer recommended.
    lake.extra["u001"] = [lake.dataset.items.index(top)]
    assert serving.refresh_users(["u001", "u002"]) == 2
    got = serving.recommendations_for("u001", n=3, log_impression=False)
    assert got.cached and got.model_version == report.version
    assert top not in [i["episode"] for i in got.items]


def test_refresh_without_a_model_does_nothing_and_reading_says_to_train(lake):
    assert serving.refresh_users(["u001"]) == 0
    with pytest.raises(serving.NoModel, match="podsight recs train"):
        serving.recommendations_for("u001")


def test_impressions_are_buffered_then_written_with_the_version(lake):
    report = _train(0.30)
    served = serving.recommendations_for("u003", n=4)
    serving.recommendations_for("u004", n=2, kind="shows")
    assert serving.flush_impressions() == 2
    rows = {i.user_id: i for i in Impression.objects.all()}
    assert rows["u003"].model_version == report.version
    assert rows["u003"].episodes == [i["episode"] for i in served.items]
    assert len(rows["u004"].episodes) == 2  # a show's best episode each


def test_a_refused_impression_is_dropped_after_retries_and_holds_back_no_other(lake):
    log = serving.impressions
    log.add("good-1", "v1", ["1"])
    log.add("bad", "v1", [object()])  # not JSON: the database write refuses it
    log.add("good-2", "v1", ["2"])
    for _ in range(log.RETRIES - 1):
        with pytest.raises(TypeError):
            log.flush()
    assert Impression.objects.count() == 0  # kept for the next round until then
    assert log.flush() == 2
    assert sorted(Impression.objects.values_list("user_id", flat=True)) == ["good-1", "good-2"]
    log.add("good-3", "v1", ["3"])
    assert log.flush() == 1 and log.flush() == 0


def test_closing_stops_the_writer_thread_then_writes_the_rest(lake, monkeypatch):
    log = type(serving.impressions)()
    written = []
    monkeypatch.setattr(log, "flush", lambda: written.append(1) or 0)
    monkeypatch.setattr(log, "FLUSH_EVERY_S", 60.0)
    log.background = True
    log.add("u", "v1", ["1"])
    (thread,) = [t for t in threading.enumerate() if t.name == "podsight-impressions"]
    log.close()
    assert not thread.is_alive() and written == [1]


def _play_events(rows: list[tuple[str, int, datetime]]) -> None:
    from podsight.lake import append
    from podsight.lake.tables import EVENTS

    columns = {f.name: [] for f in EVENTS.schema}
    for user, episode, at in rows:
        for name in columns:
            columns[name].append(None)
        columns["event_id"][-1] = str(uuid.uuid4())
        columns["user_id"][-1] = user
        columns["type"][-1] = "play"
        columns["occurred_at"][-1] = at
        columns["received_at"][-1] = at
        columns["date"][-1] = at.date()
        columns["episode_id"][-1] = episode
    append(EVENTS, pa.table(columns, schema=EVENTS.schema))


def test_play_through_counts_plays_of_served_episodes_within_a_day(lake):
    from podsight.catalog.models import Channel, Episode

    report = _train(0.30)
    shown = {u: serving.recommendations_for(u, n=5).items for u in ("u001", "u002", "u003")}
    serving.recommendations_for("u001", n=5)  # a reload: the same pairs, counted once
    serving.flush_impressions()
    served_at = Impression.objects.filter(user_id="u001").earliest("served_at").served_at
    soon = served_at + timedelta(minutes=30)
    late = served_at + timedelta(hours=25)
    # u003 plays a served episode under the id it had before a merge.
    channel = Channel.objects.create(title="Show")
    survivor = Episode.objects.create(pk=int(shown["u003"][1]["episode"]), channel=channel)
    Episode.objects.create(pk=987_654, channel=channel, merged_into=survivor)
    _play_events(
        [
            ("u001", int(shown["u001"][2]["episode"]), soon),  # counts
            ("u002", int(shown["u002"][0]["episode"]), late),  # too late
            ("u003", int(shown["u001"][0]["episode"]) + 10_000, soon),  # not a served one
            ("u002", int(shown["u002"][0]["episode"]), served_at - timedelta(hours=1)),  # before
            ("u003", 987_654, soon),  # counts: merged into a served one
        ]
    )
    rates = serving.play_through()
    assert rates[report.version] == {
        "impressions": 4,
        "shown": 15,
        "played": 2,
        "rate": pytest.approx(2 / 15, abs=1e-4),
    }
    listed = lifecycle.list_models().models[0]
    assert listed.online["played"] == 2


def test_play_through_waits_for_the_window_to_close_and_is_cached(lake):
    report = _train(0.30)
    shown = serving.recommendations_for("u001", n=5).items
    serving.flush_impressions()
    served_at = Impression.objects.get(user_id="u001").served_at
    # The newest event is 2 h after serving: the 24 h window is still open.
    _play_events([("u001", int(shown[0]["episode"]), served_at + timedelta(hours=2))])
    rates = serving.play_through()
    assert rates[report.version] == {"impressions": 1, "shown": 0, "played": 0, "rate": None}
    _play_events([("u009", 1, served_at + timedelta(hours=30))])
    assert serving.play_through() == rates  # the process's answer of the last minute
    assert serving.play_through(max_age_s=0)[report.version]["rate"] == pytest.approx(0.2)


def test_models_are_listed_newest_first(lake):
    first = _train(0.30)
    second = _train(0.10)
    listed = lifecycle.list_models()
    assert [m.version for m in listed.models] == [second.version, first.version]
    assert listed.models[0].status == "rejected" and "below" in listed.models[0].note
    assert listed.tolerance == pytest.approx(0.01)
    assert listed.models[1].online == {"impressions": 0, "shown": 0, "played": 0, "rate": None}


def test_versions_are_unique_and_sortable():
    from podsight.recs.bundle import new_version

    now = datetime(2026, 12, 6, 10, 0, tzinfo=UTC)
    versions = {new_version(now) for _ in range(50)}
    assert len(versions) > 40
    assert all(v.startswith("20261206-100000-") for v in versions)


def test_an_unknown_model_is_named_before_the_lake_is_read(lake):
    from podsight.errors import UsageError

    with pytest.raises(UsageError, match="no recommender named 'nope'"):
        lifecycle.train(["fake", "nope"])
    assert not ModelVersion.objects.exists()


def test_warm_loads_the_active_versions(lake):
    assert serving.warm() == []
    first = _train(0.30)
    second = _train(0.10)  # rejected
    lifecycle.start_ab(second.version, 0.5)
    assert serving.warm() == [first.version, second.version]


def test_damaged_or_missing_model_files_are_a_storage_error_saying_what_to_do(lake, home):
    import shutil

    from podsight.errors import StorageError

    first = _train(0.30)
    second = _train(0.30, variant=1)
    model = home / "models" / first.version
    (model / "manifest.json").write_text("{}")
    with pytest.raises(StorageError, match="podsight recs train"):
        lifecycle.rollback()
    # The serving version: its blend without "models", then its folder gone.
    blend = home / "models" / second.version / "model" / "blend.json"
    blend.write_text(json.dumps({"weights": {}, "variant": 0}))
    serving.forget_loaded()
    CachedRecommendations.objects.all().delete()
    with pytest.raises(StorageError, match="roll back"):
        serving.recommendations_for("u001")
    shutil.rmtree(home / "models" / second.version)
    serving.forget_loaded()
    with pytest.raises(StorageError, match="podsight recs train"):
        serving.recommendations_for("u001")
    with pytest.raises(StorageError):
        lifecycle.promote(second.version, force=True)


def test_a_promotion_waits_for_another_processs_change_then_says_busy(lake, home, monkeypatch):
    import portalocker

    first = _train(0.30)
    second = _train(0.10)  # rejected by the gate: promote --force below
    monkeypatch.setattr(lifecycle, "LOCK_WAIT_S", 0.2)
    # Another process deciding now (a second descriptor on the same file conflicts).
    with portalocker.Lock(str(home / "models" / ".lifecycle.lock"), timeout=1):
        with pytest.raises(lifecycle.LifecycleBusy, match="try again"):
            lifecycle.promote(second.version, force=True)
        with pytest.raises(lifecycle.LifecycleBusy):
            lifecycle.rollback()
    assert _status()[first.version] == "serving"
    assert lifecycle.promote(second.version, force=True).status == "serving"
