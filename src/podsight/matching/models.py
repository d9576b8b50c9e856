"""What matching remembers: each run, every link change, and people's overrides.

A *link* is a source record's attachment to a canonical channel or episode (the record's
``channel``/``episode`` with ``link_method``, ``link_confidence``, ``link_explanation`` and
``link_status``). Links are never rewritten silently: every change appends a
:class:`LinkEvent`, so a record's history (which canonical row it joined, when, why and
who said so) stays readable after it moves.

:class:`LinkOverride` holds a person's decision. Overrides persist and every later run
applies them before scoring anything: a rejected pair is never linked again, a forced
pair always is, a confirmed link is never reconsidered.
"""

from __future__ import annotations

from django.db import models

__all__ = ["Entity", "LinkEvent", "LinkOverride", "MatchRun", "OverrideAction"]


class Entity(models.TextChoices):
    CHANNEL = "channel", "channel"
    EPISODE = "episode", "episode"


class OverrideAction(models.TextChoices):
    CONFIRM = "confirm", "the link is right"
    REJECT = "reject", "the two records are not the same"
    FORCE = "force", "the two records are the same"


class MatchRun(models.Model):
    """One ``podsight match``; the start of the last finished run is the incremental mark."""

    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True)
    full = models.BooleanField(default=False)
    report = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["id"]


class LinkEvent(models.Model):
    """A record moved between canonical rows (or its link's status changed)."""

    entity = models.CharField(max_length=10, choices=Entity.choices)
    # SourceChannel or SourceEpisode id, per ``entity`` (records are never deleted).
    record_id = models.BigIntegerField()
    from_canonical = models.BigIntegerField(null=True)
    to_canonical = models.BigIntegerField(null=True)
    method = models.CharField(max_length=10, blank=True, default="")
    status = models.CharField(max_length=16, blank=True, default="")
    confidence = models.FloatField(null=True)
    explanation = models.TextField(blank=True, default="")
    actor = models.CharField(max_length=100, default="matcher")
    at = models.DateTimeField()

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["entity", "record_id"], name="link_event_record")]


class LinkOverride(models.Model):
    """A person's decision about two records (``confirm``: about one record's link)."""

    entity = models.CharField(max_length=10, choices=Entity.choices)
    action = models.CharField(max_length=10, choices=OverrideAction.choices)
    record_id = models.BigIntegerField()
    other_record_id = models.BigIntegerField(null=True)
    reason = models.TextField(blank=True, default="")
    actor = models.CharField(max_length=100)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["entity", "action"], name="link_override_kind")]
