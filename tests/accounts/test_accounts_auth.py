"""Token authentication and scope permissions, through real requests to test-only views."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import path
from django.utils import timezone
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.test import APIClient
from rest_framework.views import APIView

from podsight.accounts.auth import ApiTokenAuthentication, HasScope, TokenClient
from podsight.accounts.models import (
    SCOPE_EVENTS_WRITE,
    SCOPE_LINKS_REVIEW,
    SCOPE_STAFF,
    ApiToken,
)
from podsight.accounts.services import create_token, create_user, revoke_token

pytestmark = pytest.mark.django_db
# Routes below replace the project's for the tests marked with this.
wired = pytest.mark.urls(__name__)


class WhoAmI(APIView):
    authentication_classes = [ApiTokenAuthentication]
    permission_classes = [HasScope.for_scope(SCOPE_EVENTS_WRITE)]

    def get(self, request):
        user = request.user
        return Response(
            {
                "token": request.auth.name,
                "username": None if isinstance(user, TokenClient) else user.get_username(),
                "client": user.client_name if isinstance(user, TokenClient) else None,
                "user_is_authenticated": user.is_authenticated,
            }
        )


class Review(APIView):
    authentication_classes = [ApiTokenAuthentication]
    permission_classes = [HasScope.for_scope(SCOPE_LINKS_REVIEW)]

    def get(self, request):
        return Response({"ok": True})


class StaffReview(HasScope):
    required_scopes = (SCOPE_STAFF, SCOPE_LINKS_REVIEW)


class StaffOnly(APIView):
    authentication_classes = [ApiTokenAuthentication]
    permission_classes = [StaffReview]

    def get(self, request):
        return Response({"ok": True})


class Optional(APIView):
    authentication_classes = [ApiTokenAuthentication]
    permission_classes = [AllowAny]

    def get(self, request):
        return Response({"token": request.auth.name if request.auth else None})


urlpatterns = [
    path("whoami", WhoAmI.as_view()),
    path("review", Review.as_view()),
    path("staff", StaffOnly.as_view()),
    path("optional", Optional.as_view()),
]


@pytest.fixture
def api() -> APIClient:
    return APIClient()


def _error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"status", "code", "message"}
    assert body["error"]["status"] == status
    assert body["error"]["code"] == code
    assert body["error"]["message"]
    return body["error"]


@wired
def test_a_valid_token_authenticates_as_its_client(api):
    _, key = create_token("player-app", [SCOPE_EVENTS_WRITE])
    response = api.get("/whoami", HTTP_AUTHORIZATION=f"Token {key}")
    assert response.status_code == 200, response.content
    assert response.json() == {
        "token": "player-app",
        "username": None,
        "client": "player-app",
        "user_is_authenticated": False,
    }


@wired
def test_bearer_scheme_and_any_case_are_accepted(api):
    _, key = create_token("player-app", [SCOPE_EVENTS_WRITE])
    assert api.get("/whoami", HTTP_AUTHORIZATION=f"Bearer {key}").status_code == 200
    assert api.get("/whoami", HTTP_AUTHORIZATION=f"token {key}").status_code == 200


@wired
def test_a_token_with_a_user_authenticates_as_that_user(api):
    ada = create_user("ada", "pw")
    _, key = create_token("ada-laptop", [SCOPE_EVENTS_WRITE], user=ada)
    body = api.get("/whoami", HTTP_AUTHORIZATION=f"Token {key}").json()
    assert body["username"] == "ada" and body["user_is_authenticated"] is True
    ada.is_active = False
    ada.save()
    response = api.get("/whoami", HTTP_AUTHORIZATION=f"Token {key}")
    assert "inactive" in _error(response, 401, "user_inactive")["message"]


@wired
def test_no_credentials_is_401_in_the_error_shape(api):
    response = api.get("/whoami")
    error = _error(response, 401, "not_authenticated")
    assert "Authorization: Token <key>" in error["message"]
    assert response["WWW-Authenticate"] == "Token"


@wired
def test_other_schemes_count_as_no_credentials(api):
    _, key = create_token("player-app", [SCOPE_EVENTS_WRITE])
    response = api.get("/whoami", HTTP_AUTHORIZATION=f"Basic {key}")
    _error(response, 401, "not_authenticated")
    # A view that does not require a token still answers, as anonymous.
    assert api.get("/optional", HTTP_AUTHORIZATION=f"Basic {key}").json() == {"token": None}
    assert api.get("/optional").json() == {"token": None}
    assert api.get("/optional", HTTP_AUTHORIZATION=f"Token {key}").json() == {"token": "player-app"}


@wired
def test_wrong_or_malformed_keys_are_401(api):
    _, key = create_token("player-app", [SCOPE_EVENTS_WRITE])
    for header in (
        f"Token {key[:-1]}",
        f"Token {key}x",
        f"Token {key[:8]}",  # the prefix is not the key
        f"Token {ApiToken.objects.get().digest}",  # nor is the digest
    ):
        response = api.get("/whoami", HTTP_AUTHORIZATION=header)
        assert "Invalid API token" in _error(response, 401, "invalid_token")["message"]
    for header in ("Token", f"Token {key} extra"):
        response = api.get("/whoami", HTTP_AUTHORIZATION=header)
        assert "Malformed" in _error(response, 401, "invalid_token")["message"]
    # A bad key fails even where a token is optional: it is a client error worth reporting.
    response = api.get("/optional", HTTP_AUTHORIZATION=f"Token {key[:-1]}")
    _error(response, 401, "invalid_token")


@wired
def test_a_revoked_token_is_refused_with_a_precise_message(api):
    token, key = create_token("player-app", [SCOPE_EVENTS_WRITE])
    assert api.get("/whoami", HTTP_AUTHORIZATION=f"Token {key}").status_code == 200
    revoke_token("player-app")
    response = api.get("/whoami", HTTP_AUTHORIZATION=f"Token {key}")
    error = _error(response, 401, "token_revoked")
    assert "revoked" in error["message"] and token.prefix in error["message"]
    assert key not in error["message"]
    response = api.get("/optional", HTTP_AUTHORIZATION=f"Token {key}")
    _error(response, 401, "token_revoked")


@wired
def test_a_token_without_the_scope_is_403_naming_it(api):
    _, key = create_token("player-app", [SCOPE_EVENTS_WRITE])
    response = api.get("/review", HTTP_AUTHORIZATION=f"Token {key}")
    error = _error(response, 403, "missing_scope")
    assert "links:review" in error["message"] and "events:write" in error["message"]
    _, reviewer = create_token("review-tool", [SCOPE_LINKS_REVIEW])
    assert api.get("/review", HTTP_AUTHORIZATION=f"Token {reviewer}").status_code == 200
    # Without any token the same view answers 401, not 403.
    _error(api.get("/review"), 401, "not_authenticated")


@wired
def test_a_subclass_can_require_several_scopes(api):
    _, reviewer = create_token("review-tool", [SCOPE_LINKS_REVIEW])
    response = api.get("/staff", HTTP_AUTHORIZATION=f"Token {reviewer}")
    error = _error(response, 403, "missing_scope")
    assert "staff" in error["message"] and "links:review" not in error["message"].split("(")[0]
    _, both = create_token("ops", [SCOPE_STAFF, SCOPE_LINKS_REVIEW])
    assert api.get("/staff", HTTP_AUTHORIZATION=f"Token {both}").status_code == 200


def test_for_scope_refuses_unknown_scopes():
    with pytest.raises(ValueError, match="valid scopes are"):
        HasScope.for_scope("links:reveiw")
    with pytest.raises(ValueError):
        HasScope.for_scope()
    assert HasScope.for_scope(SCOPE_STAFF).required_scopes == (SCOPE_STAFF,)


def _updates(queries) -> list[str]:
    return [q["sql"] for q in queries if q["sql"].lstrip().upper().startswith("UPDATE")]


@pytest.mark.clock
@wired
def test_last_used_at_is_written_at_most_once_a_minute(api):
    token, key = create_token("player-app", [SCOPE_EVENTS_WRITE])
    assert token.last_used_at is None
    with CaptureQueriesContext(connection) as first:
        assert api.get("/whoami", HTTP_AUTHORIZATION=f"Token {key}").status_code == 200
    assert len(_updates(first.captured_queries)) == 1
    token.refresh_from_db()
    used = token.last_used_at
    assert used is not None and timezone.now() - used < timedelta(seconds=30)

    with CaptureQueriesContext(connection) as again:
        for _ in range(3):
            assert api.get("/whoami", HTTP_AUTHORIZATION=f"Token {key}").status_code == 200
    assert _updates(again.captured_queries) == []
    token.refresh_from_db()
    assert token.last_used_at == used

    an_hour_ago = timezone.now() - timedelta(hours=1)
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=an_hour_ago)
    assert api.get("/whoami", HTTP_AUTHORIZATION=f"Token {key}").status_code == 200
    token.refresh_from_db()
    assert token.last_used_at > an_hour_ago + timedelta(minutes=59)


def test_existing_views_do_not_ask_for_tokens(api):
    # Token authentication is opt-in per view; the catalog stays open, header or not.
    assert api.get("/api/channels").status_code == 200
    assert api.get("/api/channels", HTTP_AUTHORIZATION="Token not-a-key").status_code == 200


def test_the_token_lookup_is_the_orms_row_without_building_a_query_per_request():
    from unittest import mock

    from django.db.models.sql.compiler import SQLCompiler

    user = create_user("lookup-user", "pw-lookup-123456")
    _, key = create_token("lookup", [SCOPE_STAFF, SCOPE_EVENTS_WRITE], user=user)
    _, bare_key = create_token("bare", [SCOPE_EVENTS_WRITE])
    auth = ApiTokenAuthentication()
    auth.authenticate_key(key)  # the first request writes last_used_at
    with mock.patch.object(SQLCompiler, "as_sql", autospec=True,
                           side_effect=SQLCompiler.as_sql) as compiled:  # fmt: skip
        found_user, token = auth.authenticate_key(key)
    assert compiled.call_count == 0  # one statement, written once per process
    orm = ApiToken.objects.select_related("user").get(pk=token.pk)
    for field in ApiToken._meta.concrete_fields:
        assert getattr(token, field.attname) == getattr(orm, field.attname), field.name
    assert token.last_used_at is not None and token.scopes == orm.scopes
    assert found_user.pk == user.pk and found_user.get_username() == "lookup-user"
    assert found_user.is_active and found_user.password == orm.user.password
    client, bare = auth.authenticate_key(bare_key)
    assert isinstance(client, TokenClient) and bare.user is None and bare.name == "bare"
