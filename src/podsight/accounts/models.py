"""API tokens: a key given once to a client application, of which only a digest is kept.

A token carries scopes (what it may do) and optionally a user (who it acts for).
Revoked tokens stay, with ``revoked_at``, so listings show what existed and when it
stopped working.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from django.conf import settings
from django.db import models

__all__ = [
    "KEY_PREFIX_LENGTH",
    "SCOPES",
    "SCOPE_EVENTS_WRITE",
    "SCOPE_LINKS_REVIEW",
    "SCOPE_STAFF",
    "ApiToken",
    "CacheEntry",
    "key_digest",
    "validate_scopes",
]

SCOPE_EVENTS_WRITE = "events:write"
SCOPE_LINKS_REVIEW = "links:review"
SCOPE_STAFF = "staff"
SCOPES: dict[str, str] = {
    SCOPE_EVENTS_WRITE: "send listening events",
    SCOPE_LINKS_REVIEW: "confirm or reject links proposed by matching",
    SCOPE_STAFF: "operator endpoints",
}

KEY_PREFIX_LENGTH = 8


def key_digest(key: str) -> str:
    """SHA-256 hex digest of a token key: what is stored and looked up instead of the key."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def validate_scopes(scopes: Iterable[str]) -> list[str]:
    """The scopes without duplicates, in the order given; ``ValueError`` naming the valid
    ones when any is unknown."""
    if isinstance(scopes, str):
        scopes = [scopes]
    out: list[str] = []
    for scope in scopes:
        if scope not in SCOPES:
            raise ValueError(f"unknown scope {scope!r}; valid scopes are: {', '.join(SCOPES)}")
        if scope not in out:
            out.append(scope)
    return out


class ApiToken(models.Model):
    name = models.CharField(
        max_length=100, unique=True, help_text="Human label of the client application."
    )
    prefix = models.CharField(
        max_length=KEY_PREFIX_LENGTH,
        db_index=True,
        help_text="First characters of the key, shown in listings to tell keys apart.",
    )
    digest = models.CharField(
        max_length=64, unique=True, help_text="SHA-256 hex of the key; the key is not stored."
    )
    scopes = models.JSONField(default=list, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="api_tokens",
        help_text="When set, requests with this token authenticate as this user.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="Sign-in tokens (POST /api/auth/token) stop working then; null: never.",
    )

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None

    def is_expired(self, now=None) -> bool:
        from django.utils import timezone

        return self.expires_at is not None and self.expires_at <= (now or timezone.now())

    def has_scope(self, scope: str) -> bool:
        return scope in (self.scopes or [])

    def save(self, *args, **kwargs) -> None:
        self.scopes = validate_scopes(self.scopes or [])
        super().save(*args, **kwargs)


class CacheEntry(models.Model):
    """The table of Django's database cache (``settings.CACHES``; it holds the failed-login
    counters). The cache reads and writes it with SQL of its own; as a model it is created
    by ``migrate`` like every other table, on any database."""

    cache_key = models.CharField(max_length=255, primary_key=True)
    value = models.TextField()
    expires = models.DateTimeField(db_index=True)

    class Meta:
        db_table = "podsight_cache"
