"""Tokens and users through the services: what is stored, what is refused."""

from __future__ import annotations

import hashlib
import logging

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import identify_hasher

from podsight.accounts.models import (
    SCOPE_EVENTS_WRITE,
    SCOPE_LINKS_REVIEW,
    SCOPE_STAFF,
    ApiToken,
    validate_scopes,
)
from podsight.accounts.services import create_token, create_user, revoke_token

pytestmark = pytest.mark.django_db


def test_only_the_digest_of_the_key_is_stored(caplog):
    caplog.set_level(logging.DEBUG)
    token, key = create_token("player-app", [SCOPE_EVENTS_WRITE])
    assert len(key) >= 40
    row = ApiToken.objects.filter(pk=token.pk).values().get()
    assert row["digest"] == hashlib.sha256(key.encode()).hexdigest()
    assert row["prefix"] == key[:8]
    assert row["scopes"] == ["events:write"]
    assert all(key not in str(value) for value in row.values())
    assert key not in caplog.text
    assert "player-app" in caplog.text  # the log line exists, names the token, not its key


def test_each_token_gets_its_own_key():
    _, first = create_token("a", [SCOPE_EVENTS_WRITE])
    _, second = create_token("b", [SCOPE_EVENTS_WRITE])
    assert first != second
    assert ApiToken.objects.values("digest").distinct().count() == 2


def test_unknown_scopes_are_refused_with_the_valid_ones_listed():
    with pytest.raises(ValueError) as info:
        create_token("app", [SCOPE_EVENTS_WRITE, "events:read"])
    message = str(info.value)
    assert "'events:read'" in message
    assert all(s in message for s in (SCOPE_EVENTS_WRITE, SCOPE_LINKS_REVIEW, SCOPE_STAFF))
    assert not ApiToken.objects.exists()
    # The model refuses them too, whoever saves it.
    token, _ = create_token("app", [SCOPE_STAFF])
    token.scopes = ["root"]
    with pytest.raises(ValueError, match="unknown scope 'root'"):
        token.save()


def test_validate_scopes_keeps_order_and_drops_repeats():
    assert validate_scopes(["staff", "events:write", "staff"]) == ["staff", "events:write"]
    assert validate_scopes("links:review") == ["links:review"]


def test_token_names_are_unique_and_not_blank():
    create_token("app", [SCOPE_EVENTS_WRITE])
    with pytest.raises(ValueError, match="already exists"):
        create_token("app", [SCOPE_LINKS_REVIEW])
    with pytest.raises(ValueError, match="needs a name"):
        create_token("  ", [SCOPE_LINKS_REVIEW])
    assert ApiToken.objects.count() == 1


def test_revoke_sets_revoked_at_once_and_unknown_names_are_reported():
    token, _ = create_token("app", [SCOPE_EVENTS_WRITE])
    assert token.revoked_at is None
    revoked = revoke_token("app")
    assert revoked.revoked_at is not None
    again = revoke_token("app")
    assert again.revoked_at == revoked.revoked_at
    with pytest.raises(LookupError, match="no token named 'other'"):
        revoke_token("other")


def test_create_user_hashes_the_password():
    user = create_user("ada", "correct horse battery", staff=True)
    stored = get_user_model().objects.get(username="ada")
    assert stored.is_staff and not stored.is_superuser and stored.is_active
    assert "correct horse battery" not in stored.password
    identify_hasher(stored.password)  # a Django hash, else ValueError
    assert stored.check_password("correct horse battery")
    assert not stored.check_password("wrong")
    assert user.pk == stored.pk
    assert not create_user("bob", "pw").is_staff


def test_create_user_refuses_an_existing_username_and_empty_input():
    create_user("ada", "pw1")
    with pytest.raises(ValueError, match="'ada' already exists"):
        create_user("ada", "pw2")
    with pytest.raises(ValueError, match="password"):
        create_user("eve", "")
    assert get_user_model().objects.get(username="ada").check_password("pw1")
    assert not get_user_model().objects.filter(username="eve").exists()


def test_deleting_the_user_deletes_its_tokens():
    user = create_user("ada", "pw")
    create_token("ada-app", [SCOPE_LINKS_REVIEW], user=user)
    user.delete()
    assert not ApiToken.objects.exists()
