"""Creating and revoking API tokens, creating users.

Invalid input and conflicts raise :class:`AccountError` (a ``ValueError``; for a token
name that does not exist, :class:`NoSuchToken`, a ``LookupError``) with a message that
says what to do instead. Keys and passwords are
never logged; log lines name a token by its name and prefix.
"""

from __future__ import annotations

import logging
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.utils import timezone

from podsight.accounts.models import KEY_PREFIX_LENGTH, ApiToken, key_digest, validate_scopes
from podsight.errors import InputError, NotFoundError

__all__ = [
    "USERNAME_PATTERN",
    "AccountError",
    "NoSuchToken",
    "TokenInfo",
    "UserInfo",
    "SESSION_PREFIX",
    "create_session_token",
    "create_token",
    "create_user",
    "find_user",
    "list_tokens",
    "revoke_token",
    "token_info",
]

log = logging.getLogger(__name__)

# What a gPodder URL can carry as a username (/api/2/devices/{username}.json …): the
# routes in gpodder/urls.py use this pattern, so any user created can sync.
USERNAME_PATTERN = r"[\w.@+-]+"
_USERNAME = re.compile(rf"{USERNAME_PATTERN}\Z")
USERNAME_MAX_LENGTH = 150  # Django's username column


class AccountError(InputError, ValueError):
    """A token or user cannot be created as asked; the message says what to change."""


class NoSuchToken(NotFoundError, LookupError):
    """No token has that name."""


@dataclass(frozen=True)
class TokenInfo:
    """What may be shown of a token: never its key (only its first characters)."""

    name: str
    prefix: str
    scopes: list[str]
    user: str | None
    created_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None


@dataclass(frozen=True)
class UserInfo:
    username: str
    staff: bool


def token_info(token: ApiToken) -> TokenInfo:
    return TokenInfo(
        name=token.name,
        prefix=token.prefix,
        scopes=list(token.scopes),
        user=token.user.get_username() if token.user else None,
        created_at=token.created_at,
        last_used_at=token.last_used_at,
        revoked_at=token.revoked_at,
    )


def list_tokens() -> list[TokenInfo]:
    """Every token, revoked ones included, in the table's order."""
    return [token_info(t) for t in ApiToken.objects.select_related("user")]


def find_user(username: str) -> AbstractBaseUser:
    """The user called ``username``; :class:`AccountError` (bad input: the name given)
    when there is none."""
    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        raise AccountError(
            f"no user named {username!r}; create it with `podsight users create USERNAME`"
        )
    return user


def create_token(
    name: str,
    scopes: Iterable[str],
    user: AbstractBaseUser | None = None,
    expires_at: datetime | None = None,
) -> tuple[ApiToken, str]:
    """A new token and its key. The key is returned once and cannot be recovered."""
    name = (name or "").strip()
    if not name:
        raise AccountError("a token needs a name: the client application it is for")
    try:
        scopes = validate_scopes(scopes)
    except ValueError as exc:
        raise AccountError(str(exc)) from exc
    if ApiToken.objects.filter(name=name).exists():
        raise AccountError(
            f"a token named {name!r} already exists; pick another name "
            "(or revoke the old token and create one under a new name)"
        )
    key = secrets.token_urlsafe(32)
    token = ApiToken(
        name=name,
        prefix=key[:KEY_PREFIX_LENGTH],
        digest=key_digest(key),
        scopes=scopes,
        user=user,
        expires_at=expires_at,
    )
    try:
        with transaction.atomic():
            token.save()
    except IntegrityError as exc:  # a concurrent create under the same name
        raise AccountError(f"a token named {name!r} already exists; pick another name") from exc
    log.info("created API token %r (%s…) scopes=%s", token.name, token.prefix, token.scopes)
    return token, key


def revoke_token(name: str) -> ApiToken:
    """Revoke the token called ``name``; revoking it again keeps the first revocation time."""
    token = ApiToken.objects.filter(name=name).first()
    if token is None:
        raise NoSuchToken(f"no token named {name!r}; `podsight tokens list` shows the names")
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        log.info("revoked API token %r (%s…)", token.name, token.prefix)
    return token


def create_user(username: str, password: str, staff: bool = False) -> AbstractBaseUser:
    """A Django user with ``password`` hashed by Django's password hasher."""
    User = get_user_model()  # noqa: N806 - Django's naming
    username = (username or "").strip()
    if not username:
        raise AccountError("a user needs a username")
    if not _USERNAME.match(username) or len(username) > USERNAME_MAX_LENGTH:
        raise AccountError(
            f"{username!r} cannot be a username: use up to {USERNAME_MAX_LENGTH} letters, "
            "digits and . @ + - _ (no spaces or slashes), so podcast apps can address it "
            "in gPodder URLs"
        )
    if not password:
        raise AccountError("a user needs a non-empty password")
    if User.objects.filter(username=username).exists():
        raise AccountError(f"a user named {username!r} already exists; choose another username")
    try:
        with transaction.atomic():
            user = User.objects.create_user(username=username, password=password, is_staff=staff)
    except IntegrityError as exc:
        raise AccountError(
            f"a user named {username!r} already exists; choose another username"
        ) from exc
    log.info("created user %r%s", user.get_username(), " (staff)" if staff else "")
    return user


# Sign-in tokens are named so (``session:<username>:<random>``): `tokens list` tells them
# apart from client applications' tokens, and expired ones are swept by name.
SESSION_PREFIX = "session:"


def create_session_token(user: AbstractBaseUser, ttl_s: float) -> tuple[ApiToken, str]:
    """A short-lived token acting for ``user`` (a dashboard sign-in): it expires after
    ``ttl_s`` seconds. Staff get the operator scopes (``staff``, ``links:review``); others
    none, so they reach only what is theirs. Tokens that expired over a day ago are
    deleted on the way (a revoked or expired sign-in is no history anyone needs)."""
    from datetime import timedelta

    from podsight.accounts.models import SCOPE_LINKS_REVIEW, SCOPE_STAFF

    now = timezone.now()
    ApiToken.objects.filter(
        name__startswith=SESSION_PREFIX, expires_at__lt=now - timedelta(days=1)
    ).delete()
    scopes = [SCOPE_STAFF, SCOPE_LINKS_REVIEW] if user.is_staff else []
    name = f"{SESSION_PREFIX}{user.get_username()}:{secrets.token_hex(6)}"
    return create_token(name, scopes, user=user, expires_at=now + timedelta(seconds=ttl_s))
