"""Sync state of the gPodder API: devices, subscriptions and episode actions per user.

This is what podcast apps read back (``since`` a timestamp); every change is also sent
to the event log as listening events, where history and engagement live.

The models moved here from ``events``; their tables keep the names they had there
(``db_table``), so existing databases needed no data migration (gpodder/0001 and
events/0002 change Django's state only).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

__all__ = ["Device", "EpisodeAction", "Subscription"]


class DeviceType(models.TextChoices):
    DESKTOP = "desktop"
    LAPTOP = "laptop"
    MOBILE = "mobile"
    SERVER = "server"
    OTHER = "other"


class Device(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="devices"
    )
    uid = models.CharField(max_length=100, help_text="The device id the app chose.")
    caption = models.CharField(max_length=200, blank=True, default="")
    type = models.CharField(max_length=10, choices=DeviceType.choices, default=DeviceType.OTHER)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "events_device"
        constraints = [models.UniqueConstraint(fields=["user", "uid"], name="uniq_user_device")]
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.user_id}/{self.uid}"


class Subscription(models.Model):
    """A device's current state for one podcast URL; ``changed_at`` answers ``since``."""

    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="subscriptions")
    url = models.TextField()
    subscribed = models.BooleanField()
    changed_at = models.DateTimeField(db_index=True)

    class Meta:
        db_table = "events_subscription"
        constraints = [
            models.UniqueConstraint(fields=["device", "url"], name="uniq_device_subscription")
        ]
        ordering = ["id"]


class EpisodeAction(models.Model):
    """One uploaded episode action, as the app sent it (podcast and episode are URLs).

    ``key`` identifies the action by what the app sent (see ``gpodder.services.action_key``): an
    app that uploads the same action again does not store it twice."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="episode_actions"
    )
    device = models.ForeignKey(Device, null=True, blank=True, on_delete=models.SET_NULL)
    podcast = models.TextField()
    episode = models.TextField()
    guid = models.TextField(blank=True, default="")
    action = models.CharField(max_length=10)
    timestamp = models.DateTimeField(help_text="When it happened, by the app's clock.")
    started = models.IntegerField(null=True)
    position = models.IntegerField(null=True)
    total = models.IntegerField(null=True)
    uploaded_at = models.DateTimeField(db_index=True, help_text="What `since` compares.")
    key = models.UUIDField(help_text="Identity of the action as sent; repeats are stored once.")

    class Meta:
        db_table = "events_episodeaction"
        ordering = ["uploaded_at", "id"]
        indexes = [models.Index(fields=["user", "uploaded_at"], name="episode_action_since")]
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="uniq_user_episode_action")
        ]
