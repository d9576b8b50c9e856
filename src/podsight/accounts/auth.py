"""DRF authentication by API token, and a permission that requires token scopes.

Views opt in; nothing here is a project default::

    class ReviewView(APIView):
        authentication_classes = [ApiTokenAuthentication]
        permission_classes = [HasScope.for_scope(SCOPE_LINKS_REVIEW)]

Clients send ``Authorization: Token <key>`` (``Bearer <key>`` works too). A request
with a token tied to a user has ``request.user`` = that user; otherwise ``request.user``
is a :class:`TokenClient`, an anonymous user that knows its token. ``request.auth`` is
the :class:`~podsight.accounts.models.ApiToken` either way.

Failures answer in the API's error shape: 401 ``not_authenticated`` (no token),
``invalid_token``, ``token_revoked``, ``user_inactive``; 403 ``missing_scope``.
"""

from __future__ import annotations

import hmac
from datetime import timedelta

from django.contrib.auth.models import AnonymousUser
from django.db.models import Q
from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.permissions import BasePermission

from podsight.accounts.models import ApiToken, key_digest, validate_scopes

__all__ = ["LAST_USED_RESOLUTION", "ApiTokenAuthentication", "HasScope", "TokenClient"]

# last_used_at is written at most this often per token, not on every request.
LAST_USED_RESOLUTION = timedelta(minutes=1)

SCHEMES = ("token", "bearer")
NO_CREDENTIALS = "This endpoint needs an API token: send the header `Authorization: Token <key>`."


class TokenClient(AnonymousUser):
    """``request.user`` for a token that is not tied to a user: nobody is signed in, but the
    client application is known (``token``, ``client_name``)."""

    def __init__(self, token: ApiToken) -> None:
        self.token = token

    @property
    def client_name(self) -> str:
        return self.token.name

    def __str__(self) -> str:
        return f"token {self.token.name}"


def _touch(token: ApiToken) -> None:
    """Record use, at most once per ``LAST_USED_RESOLUTION``; the conditional update keeps
    concurrent requests from writing more than once."""
    now = timezone.now()
    stale = now - LAST_USED_RESOLUTION
    if token.last_used_at is not None and token.last_used_at > stale:
        return
    updated = (
        ApiToken.objects.filter(pk=token.pk)
        .filter(Q(last_used_at__isnull=True) | Q(last_used_at__lte=stale))
        .update(last_used_at=now)
    )
    if updated:
        token.last_used_at = now


class ApiTokenAuthentication(BaseAuthentication):
    """``Authorization: Token <key>`` or ``Bearer <key>`` → ``(user or TokenClient, ApiToken)``.

    Requests without such a header are left to other authenticators (or to the
    permissions, which answer 401)."""

    keyword = "Token"

    def authenticate(self, request):
        parts = get_authorization_header(request).split()
        if not parts or parts[0].decode("latin-1").lower() not in SCHEMES:
            return None
        scheme = parts[0].decode("latin-1")
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed(
                f"Malformed Authorization header: expected `{scheme} <key>` with the key "
                "as one word.",
                code="invalid_token",
            )
        try:
            key = parts[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed(
                "Invalid API token: a key is ASCII letters, digits, '-' and '_'.",
                code="invalid_token",
            ) from None
        return self.authenticate_key(key)

    def authenticate_key(self, key: str):
        digest = key_digest(key)
        token = ApiToken.objects.select_related("user").filter(digest=digest).first()
        if token is None or not hmac.compare_digest(token.digest, digest):
            raise exceptions.AuthenticationFailed(
                "Invalid API token: no token has this key. Check that the whole key was sent.",
                code="invalid_token",
            )
        if token.revoked_at is not None:
            raise exceptions.AuthenticationFailed(
                f"This API token ({token.prefix}…) was revoked at "
                f"{token.revoked_at.isoformat(timespec='seconds')}; ask for a new one.",
                code="token_revoked",
            )
        user = token.user
        if user is not None and not user.is_active:
            raise exceptions.AuthenticationFailed(
                "The user this API token acts for is inactive.", code="user_inactive"
            )
        _touch(token)
        return (user if user is not None else TokenClient(token), token)

    def authenticate_header(self, request) -> str:
        # Makes DRF answer 401 (with WWW-Authenticate) rather than 403 without credentials.
        return self.keyword


class HasScope(BasePermission):
    """Requires an API token holding every scope in ``required_scopes``.

    Use ``HasScope.for_scope("links:review")``, or subclass and set ``required_scopes``.
    No token: 401 ``not_authenticated``; a token without a scope: 403 ``missing_scope``."""

    required_scopes: tuple[str, ...] = ()

    @classmethod
    def for_scope(cls, *scopes: str) -> type[HasScope]:
        if not scopes:
            raise ValueError("HasScope.for_scope needs at least one scope")
        required = tuple(validate_scopes(scopes))
        return type(f"HasScope[{','.join(required)}]", (cls,), {"required_scopes": required})

    def has_permission(self, request, view) -> bool:
        token = request.auth
        if not isinstance(token, ApiToken):
            raise exceptions.NotAuthenticated(NO_CREDENTIALS)
        missing = [s for s in self.required_scopes if not token.has_scope(s)]
        if missing:
            granted = ", ".join(token.scopes) if token.scopes else "none"
            raise exceptions.PermissionDenied(
                f"This API token lacks the scope {', '.join(missing)} needed here "
                f"(it has: {granted}).",
                code="missing_scope",
            )
        return True


class ApiTokenScheme(OpenApiAuthenticationExtension):
    """Shows the token scheme in the OpenAPI document of views that use it."""

    target_class = "podsight.accounts.auth.ApiTokenAuthentication"
    name = "apiToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Token <key>` (or `Bearer <key>`); keys come from "
            "`podsight tokens create`.",
        }
