"""Creating and revoking API tokens, creating users.

Invalid input and conflicts raise ``ValueError`` (``LookupError`` for a token name that
does not exist) with a message that says what to do instead. Keys and passwords are
never logged; log lines name a token by its name and prefix.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterable

from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.utils import timezone

from podsight.accounts.models import KEY_PREFIX_LENGTH, ApiToken, key_digest, validate_scopes

__all__ = ["create_token", "create_user", "revoke_token"]

log = logging.getLogger(__name__)


def create_token(
    name: str, scopes: Iterable[str], user: AbstractBaseUser | None = None
) -> tuple[ApiToken, str]:
    """A new token and its key. The key is returned once and cannot be recovered."""
    name = (name or "").strip()
    if not name:
        raise ValueError("a token needs a name: the client application it is for")
    scopes = validate_scopes(scopes)
    if ApiToken.objects.filter(name=name).exists():
        raise ValueError(
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
    )
    try:
        with transaction.atomic():
            token.save()
    except IntegrityError as exc:  # a concurrent create under the same name
        raise ValueError(f"a token named {name!r} already exists; pick another name") from exc
    log.info("created API token %r (%s…) scopes=%s", token.name, token.prefix, token.scopes)
    return token, key


def revoke_token(name: str) -> ApiToken:
    """Revoke the token called ``name``; revoking it again keeps the first revocation time."""
    token = ApiToken.objects.filter(name=name).first()
    if token is None:
        raise LookupError(f"no token named {name!r}; `podsight tokens list` shows the names")
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
        raise ValueError("a user needs a username")
    if not password:
        raise ValueError("a user needs a non-empty password")
    if User.objects.filter(username=username).exists():
        raise ValueError(f"a user named {username!r} already exists; choose another username")
    try:
        with transaction.atomic():
            user = User.objects.create_user(username=username, password=password, is_staff=staff)
    except IntegrityError as exc:
        raise ValueError(
            f"a user named {username!r} already exists; choose another username"
        ) from exc
    log.info("created user %r%s", user.get_username(), " (staff)" if staff else "")
    return user
