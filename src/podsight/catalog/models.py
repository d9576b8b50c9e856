"""Canonical channels and episodes.

A canonical row is a *cluster* of per-source records (``podsight.sources.models``).
Until matching links records together, every source record stands as its own
cluster of one. When clusters merge, the merged-away row keeps its id and points
at the survivor through ``merged_into``, so old ids keep resolving.

Canonical fields are derived from the linked records by survivorship rules
(``podsight.catalog.survivorship``); ``field_sources`` names the record each
field came from.
"""

from __future__ import annotations

from django.db import models

__all__ = ["Channel", "ChannelCategory", "Episode"]


class ClusterQuerySet(models.QuerySet):
    def alive(self):
        return self.filter(merged_into__isnull=True)


class Channel(models.Model):
    title = models.TextField(blank=True, default="")
    description_html = models.TextField(blank=True, default="")
    description_text = models.TextField(blank=True, default="")
    link = models.TextField(blank=True, default="")
    language = models.CharField(max_length=35, blank=True, default="", db_index=True)
    author = models.TextField(blank=True, default="")
    owner_name = models.TextField(blank=True, default="")
    owner_email = models.TextField(blank=True, default="")
    image_url = models.TextField(blank=True, default="")
    explicit = models.BooleanField(null=True)
    itunes_type = models.CharField(max_length=16, blank=True, default="")
    podcast_guid = models.CharField(max_length=64, blank=True, default="", db_index=True)
    funding = models.JSONField(default=list, blank=True)
    persons = models.JSONField(default=list, blank=True)
    field_sources = models.JSONField(default=dict, blank=True)
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="merged_from"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ClusterQuerySet.as_manager()

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.title or f"channel {self.pk}"


class ChannelCategory(models.Model):
    """One iTunes category of a channel; nested ones keep their parent (``path``: "A > B")."""

    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="categories")
    name = models.CharField(max_length=200, db_index=True)
    parent = models.CharField(max_length=200, blank=True, default="")
    path = models.CharField(max_length=500)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["channel", "path"], name="uniq_channel_category_path")
        ]
        ordering = ["id"]


class Episode(models.Model):
    channel = models.ForeignKey(Channel, on_delete=models.PROTECT, related_name="episodes")
    guid = models.TextField(blank=True, default="")
    title = models.TextField(blank=True, default="")
    description_html = models.TextField(blank=True, default="")
    description_text = models.TextField(blank=True, default="")
    published_at = models.DateTimeField(null=True, db_index=True)
    duration_s = models.IntegerField(null=True, db_index=True)
    enclosure_url = models.TextField(blank=True, default="")
    enclosure_type = models.CharField(max_length=100, blank=True, default="")
    enclosure_length = models.BigIntegerField(null=True)
    episode_number = models.IntegerField(null=True)
    season_number = models.IntegerField(null=True)
    episode_type = models.CharField(max_length=16, blank=True, default="")
    explicit = models.BooleanField(null=True)
    image_url = models.TextField(blank=True, default="")
    link = models.TextField(blank=True, default="")
    transcripts = models.JSONField(default=list, blank=True)
    has_transcript = models.BooleanField(default=False, db_index=True)
    chapters = models.JSONField(null=True, blank=True)
    persons = models.JSONField(default=list, blank=True)
    # False once every linked source record has vanished from its source.
    available = models.BooleanField(default=True)
    field_sources = models.JSONField(default=dict, blank=True)
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="merged_from"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ClusterQuerySet.as_manager()

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["channel", "published_at"], name="episode_channel_pub")]

    def __str__(self) -> str:
        return self.title or f"episode {self.pk}"
