"""Training, serving and the life cycle on the real pieces: the demo catalog, simulated
listeners through the event log and the consumer into the lake, ``recs.data`` reading it,
the real :class:`~podsight.recs.blend.Hybrid` and its models. Then the same as a user
runs it: ``podsight recs train`` and ``podsight serve`` (gunicorn, 2 workers) in
subprocesses, whose impressions survive the server's stop."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from deltalake import DeltaTable
from django.db.models import F

from podsight.pipeline import run_step
from podsight.recs import lifecycle, serving
from podsight.recs.models import Impression, ModelVersion
from support import free_port, user_env, wait_until_serving

pytestmark = pytest.mark.django_db

MODELS = ["als", "popular", "fresh", "trending"]


@pytest.fixture
def home(tmp_path: Path, monkeypatch, fresh_caches) -> Path:
    monkeypatch.setenv("PODSIGHT_HOME", str(tmp_path))
    monkeypatch.delenv("PODSIGHT_CACHE_URL", raising=False)
    monkeypatch.delenv("PODSIGHT_EVENT_LOG", raising=False)
    monkeypatch.setattr(serving.impressions, "background", False)
    return tmp_path


@pytest.fixture
def listened(home):
    """The demo catalog (10 shows) and 60 simulated listeners' events in the lake."""
    run_step("demo.load", shows=10, apis=False, content=False, listeners=0)
    run_step(
        "events.simulate",
        users=60,
        events=3000,
        direct=True,
        speedup=0,
        tastes_path=home / "tastes.json",
    )
    run_step("events.consume", once=True)
    return home


def _send(user: str, episode: int, kind: str = "play", at: datetime | None = None) -> None:
    from podsight.events.services import ingest

    item = {
        "event_id": str(uuid.uuid4()),
        "user_id": user,
        "episode": episode,
        "type": kind,
        "occurred_at": (at or datetime.now(UTC)).isoformat(),
    }
    if kind == "play":
        item["position_s"] = 0
    result = ingest([item], client="test")
    assert not result.errors, result.errors
    # The test makes the consumer's refresh call itself (below), in its own transaction: a
    # refresh thread on another connection would see no model (PostgreSQL) and say so
    # to the process-wide active-version cache.
    run_step("events.consume", once=True, refresh=False)


def test_train_serve_refresh_measure_and_roll_back_on_the_real_pieces(listened, monkeypatch):
    from podsight import lake
    from podsight.lake.tables import ENGAGEMENT_DAILY

    first = lifecycle.train(MODELS)
    assert first.status == "serving", first.note
    delta = DeltaTable(str(lake.table_path(ENGAGEMENT_DAILY))).version()
    assert first.data_version == delta
    assert first.metrics["hybrid"]["ndcg@10"] is not None
    row = ModelVersion.objects.get(version=first.version)
    assert row.data["users"] >= 50 and set(row.params["weights"]) <= set(MODELS)
    users = list(serving.cache().users())
    assert first.cached == len(users) >= 50
    user = sorted(users)[0]
    got = serving.recommendations_for(user, n=10)
    assert got.cached and got.model_version == first.version and len(got.items) >= 8
    assert all(i["reason"] and i["sources"] and i["title"] for i in got.items)
    # A cold-start user gets a list too, computed and then cached.
    cold = serving.recommendations_for("never-seen-before", n=5)
    assert not cold.cached and cold.items
    # The user plays the top episode: a refresh (the consumer's call) drops it.
    top = int(got.items[0]["episode"])
    _send(user, top)
    assert serving.refresh_users([user]) == 1
    after = serving.recommendations_for(user, n=10)
    assert after.cached and str(top) not in [i["episode"] for i in after.items]
    # Play-through: the user played a served episode within a day of the impression, and
    # the day is over (a later event): impressions and that play moved 30 h back.
    serving.flush_impressions()
    Impression.objects.update(served_at=F("served_at") - timedelta(hours=30))
    _send(user, int(got.items[1]["episode"]), at=datetime.now(UTC) - timedelta(hours=29))
    rates = serving.play_through()[first.version]
    assert rates["impressions"] == 3 and rates["played"] >= 1
    # also-played from the serving version.
    version, similar = serving.also_played(top, 5)
    assert version == first.version and str(top) not in [s["episode"] for s in similar]
    # A second version on the same data. ALS's threads make its validation figure vary a
    # little between fits on 60 listeners; the gate has its own tests (test_lifecycle):
    # here it is opened so that the second version promotes and can be rolled back.
    monkeypatch.setenv("PODSIGHT_RECS_PROMOTE_TOLERANCE", "1")
    second = lifecycle.train(MODELS)
    assert second.status == "serving", second.note
    assert serving.recommendations_for(user, n=10).model_version == second.version
    back = lifecycle.rollback()
    assert back.version == first.version
    assert serving.recommendations_for(user, n=10).model_version == first.version
    assert Impression.objects.filter(model_version=first.version).count() >= 3


def test_recs_train_and_serve_as_a_user_runs_them(tmp_path: Path):
    """The CLI on a fresh home, then two gunicorn workers; stopping the server writes the
    impressions it buffered."""
    bin_dir = Path(sys.executable).parent
    podsight = str(bin_dir / "podsight")
    home = tmp_path / "home"
    env = user_env(home)

    def run(*args: str, code: int = 0) -> subprocess.CompletedProcess:
        done = subprocess.run([podsight, *args], env=env, capture_output=True, text=True,
                              timeout=600)  # fmt: skip
        assert done.returncode == code, f"{args}: {done.stdout}{done.stderr}"
        assert "Traceback" not in done.stderr
        return done

    empty = run("recs", "train", "--models", ",".join(MODELS), "--no-progress", code=1)
    assert "events consume" in empty.stderr
    run("demo", "load", "--shows", "3", "--no-apis", "--no-content", "--listeners", "0",
        "--no-progress")  # fmt: skip
    run("simulate", "listeners", "--direct", "--users", "40", "--events", "2000",
        "--speedup", "0", "--tastes", str(tmp_path / "t.json"), "--no-progress")  # fmt: skip
    run("events", "consume", "--once")
    trained = run("recs", "train", "--models", ",".join(MODELS), "--no-progress")
    assert "status: serving" in trained.stdout and "precomputed" in trained.stdout
    listed = run("recs", "models")
    assert "serving" in listed.stdout
    key = run("tokens", "create", "reader", "--scope", "staff").stdout.strip()
    port = free_port()
    server = subprocess.Popen(
        [podsight, "serve", "--port", str(port), "--workers", "2"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        wait_until_serving(f"http://127.0.0.1:{port}/healthz", server)
        headers = {"Authorization": f"Token {key}"}
        answered = 0
        with httpx.Client(headers=headers, timeout=10) as client:
            for i in range(20):
                response = client.get(
                    f"http://127.0.0.1:{port}/api/users/sim42-{i + 1:05d}/recommendations?n=5"
                )
                assert response.status_code == 200, response.text
                assert response.json()["results"]
                answered += 1
    finally:
        server.send_signal(signal.SIGINT)
        _, err = server.communicate(timeout=60)
    assert "Traceback" not in err, err
    # Each list served is an impression, written by the time the server stopped.
    with sqlite3.connect(home / "podsight.sqlite3") as db:
        (count,) = db.execute("SELECT count(*) FROM recs_impression").fetchone()
    assert count == answered == 20
    assert "20" in run("recs", "models").stdout  # the impressions column
