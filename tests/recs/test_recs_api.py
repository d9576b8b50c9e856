"""``/api/users/{id}/recommendations``, ``/api/episodes/{id}/also-played`` and
``/api/recs/models`` through Django's test client (blender and lake reader: the
``serve_fakes`` stand-ins; tokens, permissions, cache and database: real)."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from recs_synthetic import make_dataset
from rest_framework.test import APIClient
from serve_fakes import FakeHybrid, install

from podsight.accounts.models import SCOPE_EVENTS_WRITE, SCOPE_STAFF
from podsight.accounts.services import create_token, create_user
from podsight.recs import lifecycle, serving

pytestmark = pytest.mark.django_db


@pytest.fixture
def home(tmp_path: Path, monkeypatch, fresh_caches) -> Path:
    monkeypatch.setenv("PODSIGHT_HOME", str(tmp_path))
    monkeypatch.delenv("PODSIGHT_CACHE_URL", raising=False)
    monkeypatch.setattr(serving.impressions, "background", False)
    return tmp_path


@pytest.fixture
def lake(home, monkeypatch):
    return install(monkeypatch, make_dataset())


def _client(*scopes: str, user=None) -> APIClient:
    client = APIClient()
    _, key = create_token(f"t-{uuid.uuid4().hex[:6]}", list(scopes), user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


@pytest.fixture
def trained(lake):
    FakeHybrid.ndcg = 0.3
    return lifecycle.train(["fake"])


def test_before_any_training_the_answer_says_to_train(lake):
    staff = _client(SCOPE_STAFF)
    response = staff.get("/api/users/u001/recommendations")
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "no_model" and "podsight recs train" in error["message"]
    models = APIClient().get("/api/recs/models")
    assert models.status_code == 200 and models.json()["results"] == []


def test_a_user_reads_their_own_staff_any_and_others_are_refused(trained):
    u001 = create_user("u001", "pw-u001-123456")
    own = _client(SCOPE_EVENTS_WRITE, user=u001)
    response = own.get("/api/users/u001/recommendations?n=5")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["user_id"] == "u001" and body["model_version"] == trained.version
    assert body["cached"] is True and len(body["results"]) == 5
    item = body["results"][0]
    assert item["episode"].isdigit() and item["title"] and item["show_title"]
    assert item["sources"] == ["popular"] and item["reason"]
    refused = own.get("/api/users/u002/recommendations")
    assert refused.status_code == 403
    assert "staff" in refused.json()["error"]["message"]
    assert _client(SCOPE_EVENTS_WRITE).get("/api/users/u002/recommendations").status_code == 403
    assert APIClient().get("/api/users/u002/recommendations").status_code == 401
    staff = _client(SCOPE_STAFF)
    other = staff.get("/api/users/u002/recommendations?n=3&kind=shows&language=de")
    assert other.status_code == 200
    shows = other.json()["results"]
    assert len(shows) == 3 and all(s["language"] == "de" and s["episodes"] for s in shows)


def test_parameters_are_checked(trained):
    staff = _client(SCOPE_STAFF)
    for query in ("n=0", "n=101", "n=", "kind=podcasts", "language=english!", "language="):
        response = staff.get(f"/api/users/u001/recommendations?{query}")
        assert response.status_code == 400, query
    assert len(staff.get("/api/users/u001/recommendations?n=100").json()["results"]) == 100
    too_long = staff.get(f"/api/users/{'x' * 151}/recommendations")
    assert too_long.status_code == 400 and "150" in too_long.json()["error"]["message"]


def test_also_played_answers_from_the_serving_version(trained):
    from podsight.catalog.models import Channel, Episode

    channel = Channel.objects.create(title="Show")
    known = Episode.objects.create(pk=1003, channel=channel, title="A played one")
    stranger = Episode.objects.create(pk=99_999, channel=channel, title="Never played")
    body = APIClient().get(f"/api/episodes/{known.pk}/also-played?n=4").json()
    assert body["in_model"] is True and body["model_version"] == trained.version
    assert 0 < len(body["results"]) <= 4
    assert "1003" not in [r["episode"] for r in body["results"]]
    none = APIClient().get(f"/api/episodes/{stranger.pk}/also-played").json()
    assert none["in_model"] is False and none["results"] == []
    assert APIClient().get("/api/episodes/123456789/also-played").status_code == 404


def test_models_lists_versions_with_offline_and_online_metrics(trained):
    staff = _client(SCOPE_STAFF)
    staff.get("/api/users/u001/recommendations")
    body = APIClient().get("/api/recs/models").json()
    (model,) = body["results"]
    assert model["version"] == trained.version and model["status"] == "serving"
    assert model["metrics"]["hybrid"]["ndcg@10"] == pytest.approx(0.3)
    assert model["params"]["weights"] == {"fake": 1.0}
    assert model["data"]["users"] == 60
    assert model["online"]["impressions"] == 1
    assert body["promote_tolerance"] == pytest.approx(0.01)


def test_missing_model_files_answer_503_saying_to_retrain_or_roll_back(trained, home):
    import shutil

    from podsight.recs.models import CachedRecommendations

    shutil.rmtree(home / "models" / trained.version)
    serving.forget_loaded()
    CachedRecommendations.objects.all().delete()
    response = _client(SCOPE_STAFF).get("/api/users/u001/recommendations")
    assert response.status_code == 503, response.content
    assert "podsight recs train" in response.json()["error"]["message"]
