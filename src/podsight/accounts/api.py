"""Signing in over the REST API, for the dashboard and any other interactive client.

``POST /api/auth/token`` takes a podsight username and password and answers a token that
acts for that user and expires after ``PODSIGHT_SESSION_TTL`` (staff get the ``staff`` and
``links:review`` scopes, others none: they reach their own listening and
recommendations). ``DELETE /api/auth/token`` signs the presented token out (revokes it);
``GET /api/auth/me`` says who a token acts for. Wrong passwords count towards the same
lockout as gPodder logins (:mod:`podsight.accounts.throttle`).
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import authenticate
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, serializers
from rest_framework.authentication import BaseAuthentication
from rest_framework.response import Response
from rest_framework.views import APIView

from podsight.accounts import throttle
from podsight.accounts.auth import NO_CREDENTIALS, ApiTokenAuthentication
from podsight.accounts.models import ApiToken
from podsight.accounts.services import create_session_token
from podsight.api.schema import error_response
from podsight.security import client_address

__all__ = ["MeView", "TokenView", "caller"]


class _Credentials(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=4096, trim_whitespace=False)


class CallerSerializer(serializers.Serializer):
    username = serializers.CharField(allow_null=True, help_text="null: a client token.")
    staff = serializers.BooleanField(help_text="May see everyone's data and act.")
    scopes = serializers.ListField(child=serializers.CharField())
    expires_at = serializers.DateTimeField(allow_null=True, help_text="null: never.")


class _SignedIn(CallerSerializer):
    token = serializers.CharField(
        help_text="Send it as `Authorization: Token <token>`; shown once."
    )


def caller(token: ApiToken) -> dict:
    """Who ``token`` acts for, as :class:`CallerSerializer` describes."""
    from podsight.accounts.models import SCOPE_STAFF

    user = token.user
    return {
        "username": user.get_username() if user is not None else None,
        "staff": token.has_scope(SCOPE_STAFF),
        "scopes": list(token.scopes or []),
        "expires_at": token.expires_at,
    }


class _SigningIn(BaseAuthentication):
    """No credentials are read when signing in (a stale token in the header must not
    refuse it); a wrong password is still a 401 with its ``WWW-Authenticate``."""

    def authenticate(self, request):
        return None

    def authenticate_header(self, request) -> str:
        return ApiTokenAuthentication.keyword


def _token(request) -> ApiToken:
    if not isinstance(request.auth, ApiToken):
        raise exceptions.NotAuthenticated(NO_CREDENTIALS)
    return request.auth


class TokenView(APIView):
    authentication_classes = [ApiTokenAuthentication]

    def get_authenticators(self):
        # Signing in needs no token (a stale one in the header must not refuse it).
        if getattr(self, "request", None) is not None and self.request.method == "POST":
            return [_SigningIn()]
        return super().get_authenticators()

    @extend_schema(
        summary="Sign in: a short-lived token for a podsight user",
        request=_Credentials,
        responses={
            201: _SignedIn,
            401: error_response("`invalid_credentials`: wrong username or password."),
            429: error_response(
                "`throttled`: too many failed sign-ins for the account or the client."
            ),
        },
        auth=[],
    )
    def post(self, request):
        body = _Credentials(data=request.data)
        body.is_valid(raise_exception=True)
        username, password = body.validated_data["username"], body.validated_data["password"]
        # Counted before the password is hashed: that CPU is what guessing spends.
        attempt = throttle.begin(username, client_address(request))
        with throttle.password_check():
            user = authenticate(request._request, username=username, password=password)
        if user is None or not user.is_active:
            attempt.failed()
            raise exceptions.AuthenticationFailed(
                "Wrong username or password. Accounts are made with `podsight users create`.",
                code="invalid_credentials",
            )
        attempt.succeeded()
        token, key = create_session_token(user, settings.SESSION_TOKEN_TTL_S)
        return Response({**caller(token), "token": key}, status=201)

    @extend_schema(
        summary="Sign out: revoke the token sent",
        request=None,
        responses={204: None},
    )
    def delete(self, request):
        token = _token(request)
        if token.revoked_at is None:
            token.revoked_at = timezone.now()
            token.save(update_fields=["revoked_at"])
        return Response(status=204)


class MeView(APIView):
    authentication_classes = [ApiTokenAuthentication]

    @extend_schema(summary="Who the token sent acts for", responses={200: CallerSerializer})
    def get(self, request):
        return Response(caller(_token(request)))
