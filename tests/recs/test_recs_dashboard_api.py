"""The endpoints the dashboard's Recommendations page needs: ``GET /api/recs/users``
(listeners, staff), ``POST /api/recs/try`` (cold start, tried),
``POST /api/recs/models/{version}/promote`` and ``POST /api/recs/rollback`` (staff).

Try-it runs the real blend and models (``recs.blend.Hybrid``: als, itemknn, content,
fresh, trending, popular) trained by ``lifecycle.train`` on the synthetic two-group data
(``recs_synthetic``), with catalog episodes under the same ids; the life cycle endpoints
run on the ``serve_fakes`` stand-ins, whose validation NDCG the test sets to pass or fail
the gate. Tokens, permissions, database, model files and the lake are real."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from recs_synthetic import N_ITEMS, N_SHOWS, PER_SHOW, make_dataset
from rest_framework.test import APIClient
from serve_fakes import FakeHybrid, install

from podsight.accounts.models import SCOPE_STAFF
from podsight.accounts.services import create_token, create_user
from podsight.recs import lifecycle, serving
from podsight.recs.models import ModelVersion

pytestmark = pytest.mark.django_db

REAL_MODELS = ["als", "itemknn", "content", "fresh", "trending", "popular"]


@pytest.fixture
def home(tmp_path: Path, monkeypatch, fresh_caches) -> Path:
    monkeypatch.setenv("PODSIGHT_HOME", str(tmp_path))
    monkeypatch.delenv("PODSIGHT_CACHE_URL", raising=False)
    monkeypatch.delenv("PODSIGHT_RECS_PROMOTE_TOLERANCE", raising=False)
    monkeypatch.setattr(serving.impressions, "background", False)
    return tmp_path


def _client(*scopes: str, user=None) -> APIClient:
    client = APIClient()
    _, key = create_token(f"t-{uuid.uuid4().hex[:6]}", list(scopes), user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def _listener(name: str) -> APIClient:
    """A signed-in non-staff listener's client (no scope, acting for the user)."""
    return _client(user=create_user(name, f"pw-{name}-123456"))


# --------------------------------------------------------------------------- listeners


def _engagement(rows: list[tuple[str, int, int]]) -> None:
    """(user, episode, plays) rows into the lake's engagement_daily, one day each."""
    from podsight import lake
    from podsight.lake.tables import ENGAGEMENT_DAILY

    now = datetime(2026, 11, 30, 12, tzinfo=UTC)
    n = len(rows)
    lake.append(
        ENGAGEMENT_DAILY,
        pa.table(
            {
                "user_id": [r[0] for r in rows],
                "episode_id": [r[1] for r in rows],
                "day": [date(2026, 11, 1) + timedelta(days=i % 20) for i in range(n)],
                "plays": [r[2] for r in rows],
                "listened_s": [600.0] * n,
                "max_completion": [1.0] * n,
                "likes": [0] * n,
                "unlikes": [0] * n,
                "skips": [0] * n,
                "downloads": [0] * n,
                "rating": pa.array([None] * n, pa.int32()),
                "events": [3] * n,
                "last_event_at": [now - timedelta(hours=i) for i in range(n)],
                "weight": [1.0] * n,
            },
            schema=ENGAGEMENT_DAILY.schema,
        ),
    )


def test_listeners_are_staff_only_most_plays_first_searchable_and_paged(home):
    staff = _client(SCOPE_STAFF)
    assert staff.get("/api/recs/users").json() == {"results": [], "next_cursor": None}
    _engagement(
        [("sim42-00001", 1, 2), ("sim42-00001", 2, 3), ("sim42-00002", 1, 1),
         ("ann", 3, 9), ("sim42-00003", 4, 5), ("sim42-00003", 4, 1)]
    )  # fmt: skip
    body = staff.get("/api/recs/users").json()
    assert [(r["user_id"], r["plays"], r["episodes"]) for r in body["results"]] == [
        ("ann", 9, 1),
        ("sim42-00003", 6, 1),
        ("sim42-00001", 5, 2),
        ("sim42-00002", 1, 1),
    ]
    assert body["next_cursor"] is None
    assert datetime.fromisoformat(body["results"][0]["last_active_at"]).tzinfo is not None
    found = staff.get("/api/recs/users?q=SIM42-0000&page_size=2").json()
    assert [r["user_id"] for r in found["results"]] == ["sim42-00003", "sim42-00001"]
    rest = staff.get(f"/api/recs/users?q=sim42-0000&page_size=2&cursor={found['next_cursor']}")
    assert [r["user_id"] for r in rest.json()["results"]] == ["sim42-00002"]
    assert rest.json()["next_cursor"] is None
    # LIKE's wildcards are plain text here.
    assert staff.get("/api/recs/users?q=%25").json()["results"] == []
    for query in ("q=", "page_size=0", "page_size=201", "cursor=forged", "cursor="):
        assert staff.get(f"/api/recs/users?{query}").status_code == 400, query
    assert staff.get("/api/recs/users?cursor=").json()["error"]["code"] == "invalid_cursor"
    refused = _listener("ann").get("/api/recs/users")
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "missing_scope"
    assert APIClient().get("/api/recs/users").status_code == 401


# --------------------------------------------------------------------------- try it


@pytest.fixture
def real_model(home, monkeypatch):
    """The real blend and models trained and serving on the synthetic data (the lake
    reader answers that dataset), and catalog episodes under its item ids."""
    from podsight.catalog.models import Channel, Episode
    from podsight.recs import core, data

    dataset = make_dataset()
    index = {u: i for i, u in enumerate(dataset.users)}
    monkeypatch.setattr(data, "build_dataset", lambda **kwargs: dataset)
    monkeypatch.setattr(
        data,
        "user_histories",
        lambda users, facts, **kw: {
            u: dataset.history(index[u]) if u in index else core.History(user=u) for u in users
        },
    )
    shows = [Channel.objects.create(pk=500 + s, title=f"Show {s}") for s in range(N_SHOWS)]
    for i in range(N_ITEMS):
        Episode.objects.create(pk=1000 + i, channel=shows[i // PER_SHOW], title=f"Episode {i}")
    report = lifecycle.train(REAL_MODELS)
    assert report.status == "serving", report.note
    # Offline figures to read the blend against: the sources and both baselines.
    assert {"hybrid", *REAL_MODELS, "random"} <= set(report.metrics)
    return report


def test_try_it_recommends_for_a_made_up_history_with_sources_and_reasons(real_model):
    """One test (the fixture trains the real models, the slow part)."""
    from podsight.catalog.models import Channel, Episode

    listener = _listener("newcomer")  # any signed-in caller: it reads nobody's data
    chosen = [1000, 1001, 1012]  # science episodes (group 0, English)
    response = listener.post("/api/recs/try", {"episodes": chosen, "n": 8}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["model_version"] == real_model.version
    assert [h["episode"] for h in body["history"]] == ["1000", "1001", "1012"]
    assert body["history"][0]["title"] == "Episode 0 of show 0"
    assert body["history"][0]["show_title"] == "Science Show 0"
    assert body["not_in_model"] == []
    results = body["results"]
    assert len(results) == 8
    episodes = [int(r["episode"]) for r in results]
    assert not set(episodes) & set(chosen)  # what they finished is never proposed
    # Learned from the history: mostly the science group, in English.
    assert sum(e < 1000 + N_ITEMS // 2 for e in episodes) >= 6
    assert all(r["sources"] and r["reason"] for r in results)
    assert set(r["sources"][0] for r in results) <= set(REAL_MODELS)
    # The same path as serving: the blend's own answer for that history.
    from podsight.recs.bundle import load_hybrid
    from podsight.recs.core import History

    hybrid = load_hybrid(real_model.version)

    items = np.array(sorted(hybrid.facts.items.index(str(e)) for e in chosen), np.int32)
    expected = hybrid.recommend(
        History(user="", items=items, weights=np.ones(3, np.float32), seen=items,
                finished=items, languages=("en",)), 8)  # fmt: skip
    assert episodes == [int(r.episode) for r in expected]
    assert [r["reason"] for r in results] == [r.reason for r in expected]
    # Nothing was cached or logged for anyone.
    serving.flush_impressions()
    from podsight.recs.models import Impression

    assert not Impression.objects.filter(user_id="").exists()

    # An id merged into another counts as its survivor.
    Episode.objects.filter(pk=1001).update(merged_into_id=1002)
    merged = listener.post("/api/recs/try", {"episodes": [1001]}, format="json").json()
    assert [h["episode"] for h in merged["history"]] == ["1002"]
    assert len(merged["results"]) == 10  # n's default

    # No episodes: the cold start; another taste: other recommendations.
    cold = listener.post("/api/recs/try", {"episodes": []}, format="json").json()
    assert cold["history"] == [] and len(cold["results"]) == 10
    # Cold start: only the sources that need no history (trending, popular, fresh).
    assert {s for r in cold["results"] for s in r["sources"]} <= {"trending", "popular", "fresh"}
    sport = listener.post("/api/recs/try", {"episodes": [1060, 1061, 1072]}, format="json")
    sport_eps = [int(r["episode"]) for r in sport.json()["results"]]
    assert sum(e >= 1000 + N_ITEMS // 2 for e in sport_eps) >= 8

    # Refused: ids of no episode, bad bodies, no token.
    missing = listener.post("/api/recs/try", {"episodes": [1000, 999_999]}, format="json")
    assert missing.status_code == 404
    assert "999999" in missing.json()["error"]["message"]
    # Published after the model was trained: left out, and said so.
    late = Episode.objects.create(pk=5000, channel=Channel.objects.get(pk=500), title="New")
    body = listener.post("/api/recs/try", {"episodes": [1000, late.pk]}, format="json").json()
    assert body["not_in_model"] == [5000] and [h["episode"] for h in body["history"]] == ["1000"]
    for bad in ({"episodes": [1000], "n": 0}, {"episodes": [1000], "n": 101},
                {"episodes": list(range(1000, 1021))}, {"episodes": ["x"]}, {},
                {"episodes": [0]}):  # fmt: skip
        response = listener.post("/api/recs/try", bad, format="json")
        assert response.status_code == 400, (bad, response.content)
    assert APIClient().post("/api/recs/try", {"episodes": [1000]}, format="json").status_code == 401


def test_try_it_before_any_model_says_to_train(home):
    response = _client(SCOPE_STAFF).post("/api/recs/try", {"episodes": []}, format="json")
    assert response.status_code == 409 and response.json()["error"]["code"] == "no_model"


# --------------------------------------------------------------------------- life cycle


@pytest.fixture
def two_versions(home, monkeypatch):
    """Version 1 serving (validation NDCG 0.30); version 2 rejected by the gate (0.20)."""
    install(monkeypatch, make_dataset())
    FakeHybrid.ndcg = 0.30
    first = lifecycle.train(["fake"])
    FakeHybrid.ndcg, FakeHybrid.variant = 0.20, 1
    second = lifecycle.train(["fake"])
    assert (first.status, second.status) == ("serving", "rejected")
    return first.version, second.version


def _status(version: str) -> str:
    return ModelVersion.objects.get(version=version).status


def test_promote_goes_through_the_gate_unless_forced_and_rollback_walks_back(two_versions):
    first, second = two_versions
    staff = _client(SCOPE_STAFF)
    refused = staff.post(f"/api/recs/models/{second}/promote", {}, format="json")
    assert refused.status_code == 409, refused.content
    error = refused.json()["error"]
    assert error["code"] == "gate_refused" and "0.2000" in error["message"]
    assert _status(second) == "rejected"

    forced = staff.post(f"/api/recs/models/{second}/promote", {"force": True}, format="json")
    assert forced.status_code == 200, forced.content
    body = forced.json()
    assert body["action"] == "promote" and body["version"] == second
    assert body["status"] == "serving" and body["previous"] == first
    assert "forced" in body["note"] and body["cached"] == 60
    assert (_status(first), _status(second)) == ("retired", "serving")
    # The lists now come from the promoted version.
    assert staff.get("/api/users/u001/recommendations").json()["model_version"] == second

    back = staff.post("/api/recs/rollback")
    assert back.status_code == 200, back.content
    assert back.json()["version"] == first and back.json()["previous"] == second
    assert (_status(first), _status(second)) == ("serving", "candidate")
    assert staff.get("/api/users/u001/recommendations").json()["model_version"] == first

    again = staff.post("/api/recs/rollback")
    assert again.status_code == 409 and again.json()["error"]["code"] == "no_previous"
    # Promoting the serving version again changes nothing.
    same = staff.post(f"/api/recs/models/{first}/promote")
    assert same.status_code == 200 and same.json()["note"] == "already serving"


def test_lifecycle_actions_are_staff_only_and_name_unknown_versions(two_versions):
    first, second = two_versions
    listener = _listener("u001")
    for path in (f"/api/recs/models/{second}/promote", "/api/recs/rollback"):
        refused = listener.post(path, {"force": True}, format="json")
        assert refused.status_code == 403, path
        assert APIClient().post(path).status_code == 401
    assert (_status(first), _status(second)) == ("serving", "rejected")
    staff = _client(SCOPE_STAFF)
    unknown = staff.post("/api/recs/models/20260101T000000-ffff/promote")
    assert unknown.status_code == 404 and first in unknown.json()["error"]["message"]
    assert staff.post("/api/recs/models/..%2F..%2Fetc/promote").status_code == 404
    bad = staff.post(f"/api/recs/models/{second}/promote", {"force": "perhaps"}, format="json")
    assert bad.status_code == 400


def test_rollback_with_nothing_serving_says_to_train(home):
    response = _client(SCOPE_STAFF).post("/api/recs/rollback")
    assert response.status_code == 409
    assert "podsight recs train" in response.json()["error"]["message"]


def test_the_dashboard_may_start_promote_and_rollback_as_jobs(home):
    staff = _client(SCOPE_STAFF)
    for body in ({"step": "recs.promote", "params": {"version": "20261206-134903-f256",
                                                     "force": True}},
                 {"step": "recs.rollback", "params": {}}):  # fmt: skip
        checked = staff.post("/api/jobs", {**body, "dry_run": True}, format="json")
        assert checked.status_code == 200, checked.content
        assert checked.json()["step"] == body["step"]
    missing = staff.post("/api/jobs", {"step": "recs.promote", "params": {}, "dry_run": True},
                         format="json")  # fmt: skip
    assert missing.status_code == 400 and "version" in str(missing.json()["error"]["details"])
    refused = _listener("ann").post(
        "/api/jobs", {"step": "recs.rollback", "params": {}}, format="json"
    )
    assert refused.status_code == 403
