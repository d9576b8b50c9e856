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
from podsight.accounts.services import SESSION_PREFIX

__all__ = [
    "LAST_USED_RESOLUTION",
    "ApiTokenAuthentication",
    "HasScope",
    "TokenClient",
    "require_own_or_staff",
]

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


_LOOKUP: dict[str, tuple[str, list, list, list]] = {}


def _converted(fields, alias: str, connection) -> list:
    """Each field's attname and the converters Django applies to its column's value."""
    out = []
    for f in fields:
        col = f.get_col(alias)
        out.append(
            (
                f.attname,
                col,
                connection.ops.get_db_converters(col) + col.get_db_converters(connection),
            )
        )
    return out


def _token_by_digest(digest: str) -> ApiToken | None:
    """The token with ``digest`` and its user, in one statement written once per process.

    The same row as ``ApiToken.objects.select_related("user").filter(digest=…).first()``,
    but that queryset is rebuilt and compiled on every request: ~0.6 ms of CPU, the most
    expensive part of an authenticated cached read (docs/recs.md "Measured"); this is
    ~0.05 ms. Values go through Django's converters and models are built with
    ``Model.from_db``, so they are what the ORM would give."""
    from django.contrib.auth import get_user_model
    from django.db import connections, router

    db = router.db_for_read(ApiToken)
    connection = connections[db]
    found = _LOOKUP.get(db)
    if found is None:
        user_model = get_user_model()
        quote = connection.ops.quote_name
        t_table, u_table = ApiToken._meta.db_table, user_model._meta.db_table
        t_fields = _converted(ApiToken._meta.concrete_fields, t_table, connection)
        u_fields = _converted(user_model._meta.concrete_fields, u_table, connection)
        columns = [f"{quote(t_table)}.{quote(c.target.column)}" for _, c, _ in t_fields]
        columns += [f"{quote(u_table)}.{quote(c.target.column)}" for _, c, _ in u_fields]
        user_fk = ApiToken._meta.get_field("user")
        sql = (
            f"SELECT {', '.join(columns)} FROM {quote(t_table)} LEFT OUTER JOIN "
            f"{quote(u_table)} ON {quote(t_table)}.{quote(user_fk.column)} = "
            f"{quote(u_table)}.{quote(user_model._meta.pk.column)} "
            f"WHERE {quote(t_table)}.{quote(ApiToken._meta.get_field('digest').column)} = %s"
        )
        found = _LOOKUP[db] = (sql, t_fields, u_fields, [user_model])
    sql, t_fields, u_fields, (user_model,) = found
    with connection.cursor() as cursor:
        cursor.execute(sql, [digest])
        row = cursor.fetchone()
    if row is None:
        return None
    values = []
    for value, (_, col, converters) in zip(row, [*t_fields, *u_fields], strict=True):
        for convert in converters:
            value = convert(value, col, connection)
        values.append(value)
    n = len(t_fields)
    token = ApiToken.from_db(db, [name for name, _, _ in t_fields], values[:n])
    user_values = values[n:]
    user = None
    if (
        user_values[[name for name, _, _ in u_fields].index(user_model._meta.pk.attname)]
        is not None
    ):
        user = user_model.from_db(db, [name for name, _, _ in u_fields], user_values)
    token.user = user
    return token


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
        token = _token_by_digest(digest)
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
        if token.is_expired():
            raise exceptions.AuthenticationFailed(
                f"This sign-in ({token.prefix}…) expired at "
                f"{token.expires_at.isoformat(timespec='seconds')}; sign in again.",
                code="token_expired",
            )
        user = token.user
        if user is not None and not user.is_active:
            raise exceptions.AuthenticationFailed(
                "The user this API token acts for is inactive.", code="user_inactive"
            )
        if user is not None and token.scopes and token.name.startswith(SESSION_PREFIX):
            # A sign-in's scopes follow the user's staff flag now, not at sign-in: a
            # demoted user loses the operator scopes at once, not when the token expires.
            token.scopes = list(token.scopes) if user.is_staff else []
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


def require_own_or_staff(request, user_id: str, what: str):
    """The rule for one listener's data (history, recommendations): a token tied to
    ``user_id`` reads it, a token with the staff scope reads anyone's; ``what`` names the
    data in the refusal. Returns the token."""
    from podsight.accounts.models import SCOPE_STAFF, ApiToken

    token = request.auth
    if not isinstance(token, ApiToken):
        raise exceptions.NotAuthenticated(NO_CREDENTIALS)
    own = token.user is not None and token.user.get_username() == user_id
    if not own and not token.has_scope(SCOPE_STAFF):
        raise exceptions.PermissionDenied(
            f"A token reads the {what} of the user it acts for; another user's "
            "needs the staff scope."
        )
    return token
