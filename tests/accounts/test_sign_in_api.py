"""Signing in over the API (``/api/auth/token``, ``/api/auth/me``): what the dashboard and
any interactive client use instead of a hand-made token."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone
from rest_framework.test import APIClient

from podsight.accounts.models import SCOPE_LINKS_REVIEW, SCOPE_STAFF, ApiToken
from podsight.accounts.services import create_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def users():
    create_user("ann", "a long listener password")
    create_user("ops", "a long operator password", staff=True)


def sign_in(username: str, password: str, client: APIClient | None = None):
    return (client or APIClient()).post(
        "/api/auth/token", {"username": username, "password": password}, format="json"
    )


def test_a_listener_gets_a_token_acting_for_them_with_no_scopes(users):
    answer = sign_in("ann", "a long listener password")
    assert answer.status_code == 201, answer.content
    body = answer.json()
    assert body["username"] == "ann" and body["staff"] is False and body["scopes"] == []
    client = APIClient(headers={"Authorization": f"Token {body['token']}"})
    me = client.get("/api/auth/me").json()
    assert me["username"] == "ann" and me["expires_at"] == body["expires_at"]
    # their own history, not anyone else's
    assert client.get("/api/users/ann/history").status_code != 403
    assert client.get("/api/users/bob/history").status_code == 403


def test_staff_get_the_operator_scopes(users):
    body = sign_in("ops", "a long operator password").json()
    assert body["staff"] is True
    assert set(body["scopes"]) == {SCOPE_STAFF, SCOPE_LINKS_REVIEW}


def test_a_wrong_password_is_refused_and_counted(users, settings):
    settings.LOGIN_MAX_FAILURES = 2
    for _ in range(2):
        answer = sign_in("ann", "wrong")
        assert answer.status_code == 401
        assert answer.json()["error"]["code"] == "invalid_credentials"
    locked = sign_in("ann", "a long listener password")
    assert locked.status_code == 429 and locked.headers["Retry-After"]


def test_the_token_expires(users, settings):
    settings.SESSION_TOKEN_TTL_S = 60
    key = sign_in("ann", "a long listener password").json()["token"]
    client = APIClient(headers={"Authorization": f"Token {key}"})
    assert client.get("/api/auth/me").status_code == 200
    with time_machine.travel(timezone.now() + timedelta(seconds=61)):
        answer = client.get("/api/auth/me")
    assert answer.status_code == 401
    assert answer.json()["error"]["code"] == "token_expired"
    assert "sign in again" in answer.json()["error"]["message"]


def test_signing_out_revokes_the_token(users):
    key = sign_in("ann", "a long listener password").json()["token"]
    client = APIClient(headers={"Authorization": f"Token {key}"})
    assert client.delete("/api/auth/token").status_code == 204
    answer = client.get("/api/auth/me")
    assert answer.status_code == 401 and answer.json()["error"]["code"] == "token_revoked"


def test_a_stale_token_in_the_header_does_not_block_signing_in(users):
    client = APIClient(headers={"Authorization": "Token not-a-real-key"})
    assert sign_in("ann", "a long listener password", client).status_code == 201


def test_expired_sign_ins_are_swept(users):
    sign_in("ann", "a long listener password")
    ApiToken.objects.update(expires_at=timezone.now() - timedelta(days=2))
    sign_in("ann", "a long listener password")
    assert ApiToken.objects.count() == 1


def test_signing_in_needs_both_fields():
    answer = APIClient().post("/api/auth/token", {"username": "ann"}, format="json")
    assert answer.status_code == 400
    assert "password" in answer.json()["error"]["details"]


def test_a_demoted_user_loses_the_operator_scopes_at_once(users):
    from django.contrib.auth import get_user_model

    key = sign_in("ops", "a long operator password").json()["token"]
    client = APIClient(headers={"Authorization": f"Token {key}"})
    assert client.get("/api/auth/me").json()["staff"] is True
    get_user_model().objects.filter(username="ops").update(is_staff=False)
    me = client.get("/api/auth/me").json()
    assert me["staff"] is False and me["scopes"] == []
    assert client.get("/api/users/ann/history").status_code == 403
