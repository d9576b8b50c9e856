"""A job: one run of a registered step started through the API, and how far it got."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone

__all__ = ["ACTIVE", "FINISHED", "Job", "JobStatus"]


class JobStatus(models.TextChoices):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    # The server process that ran it stopped (restart, crash) before it finished.
    INTERRUPTED = "interrupted"


ACTIVE = (JobStatus.QUEUED, JobStatus.RUNNING)
FINISHED = (JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.INTERRUPTED)


class Job(models.Model):
    step = models.CharField(max_length=64)
    params = models.JSONField(default=dict)
    status = models.CharField(max_length=16, choices=JobStatus.choices, default=JobStatus.QUEUED)
    progress_label = models.CharField(max_length=200, blank=True)
    progress_item = models.CharField(max_length=200, blank=True)
    progress_done = models.BigIntegerField(default=0)
    progress_total = models.BigIntegerField(null=True)
    # The step's notes (skipped sources, failed shows): [{"level": "WARNING", "message": …}].
    notes = models.JSONField(default=list)
    summary = models.TextField(blank=True)
    report = models.JSONField(null=True)
    error = models.TextField(blank=True)
    # Who started it: the user's name, or "token:<name>" for a token tied to no user.
    created_by = models.CharField(max_length=200, blank=True)
    # The process that runs it ("host:pid:start"), so that a later process can tell a job
    # whose runner died (interrupted) from one a live sibling process runs.
    runner = models.CharField(max_length=300, blank=True)
    # Written every few seconds while it runs: how other hosts tell a dead runner.
    heartbeat_at = models.DateTimeField(null=True)
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True)
    finished_at = models.DateTimeField(null=True)

    class Meta:
        indexes = [
            models.Index(fields=["-created_at", "-id"], name="jobs_newest"),
            models.Index(fields=["status", "-created_at"], name="jobs_by_status"),
        ]
        constraints = [
            # One job of a step at a time, also across server processes (services.start).
            models.UniqueConstraint(
                fields=["step"],
                condition=Q(status__in=["queued", "running"]),
                name="jobs_one_active_per_step",
            )
        ]

    def __str__(self) -> str:
        return f"job {self.pk} {self.step} ({self.status})"
