"""What the database holds for recommendations.

A trained model version lives in ``$PODSIGHT_HOME/models/<version>/`` (the models' files,
the blend weights, the catalog facts it was fitted with, ``manifest.json``); its row here
says what it is, how it measured and whether it serves. Recommendation lists are
precomputed per user into :class:`CachedRecommendations` (or Redis, when
``PODSIGHT_CACHE_URL`` names one); every list served is logged as an :class:`Impression`
so that each version gets an online play-through rate.
"""

from __future__ import annotations

from django.db import models

__all__ = ["CachedRecommendations", "Impression", "ModelStatus", "ModelVersion"]


class ModelStatus(models.TextChoices):
    CANDIDATE = "candidate", "trained, not serving"
    SERVING = "serving", "serving"
    CHALLENGER = "challenger", "serving a share of users (A/B)"
    RETIRED = "retired", "served before"
    REJECTED = "rejected", "failed the promotion gate"


class ModelVersion(models.Model):
    version = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField()
    status = models.CharField(
        max_length=12, choices=ModelStatus.choices, default=ModelStatus.CANDIDATE
    )
    # The share of users (by hash) a challenger serves; the serving version serves the rest.
    share = models.FloatField(default=0.0)
    promoted_at = models.DateTimeField(null=True, blank=True)
    retired_at = models.DateTimeField(null=True, blank=True)
    path = models.TextField()  # its directory
    params = models.JSONField(default=dict)  # models, their parameters, blend weights
    data_version = models.BigIntegerField(null=True, blank=True)  # engagement_daily's
    data = models.JSONField(default=dict)  # users, items, interactions, time span
    metrics = models.JSONField(default=dict)  # offline, on the validation split
    note = models.TextField(blank=True, default="")  # why rejected, who promoted

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"model {self.version} ({self.status})"


class CachedRecommendations(models.Model):
    user_id = models.CharField(max_length=150, unique=True)
    model_version = models.CharField(max_length=64)
    computed_at = models.DateTimeField()
    # [{"episode", "score", "sources", "reason", "show", "language"}, ...] best first.
    items = models.JSONField(default=list)

    class Meta:
        ordering = ["user_id"]

    def __str__(self) -> str:
        return f"recommendations for {self.user_id} ({self.model_version})"


class Impression(models.Model):
    user_id = models.CharField(max_length=150)
    model_version = models.CharField(max_length=64)
    served_at = models.DateTimeField(db_index=True)
    episodes = models.JSONField(default=list)  # canonical episode ids, as served

    class Meta:
        ordering = ["-served_at", "-id"]
        indexes = [models.Index(fields=["model_version", "served_at"])]

    def __str__(self) -> str:
        return f"{len(self.episodes)} recommendations to {self.user_id} ({self.model_version})"
