"""A job: one run of a registered step started through the API, and how far it got; a
pipeline run: one pass of the local runner over the graph (:mod:`podsight.pipeline.runner`)
and one row per node it ran or did not run."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone

__all__ = [
    "ACTIVE",
    "FINISHED",
    "Job",
    "JobStatus",
    "NodeStatus",
    "PipelineRun",
    "PipelineStepRun",
    "RunStatus",
]


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


class RunStatus(models.TextChoices):
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    # At least one node failed (its dependents are blocked; the others ran).
    FAILED = "failed"
    # The process stopped (killed, SIGTERM, Ctrl-C) before the run finished.
    INTERRUPTED = "interrupted"


class NodeStatus(models.TextChoices):
    PENDING = "pending"  # not reached (yet, or ever: the run was interrupted)
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    SKIPPED = "skipped"  # its condition does not hold here (no dump configured…)
    BLOCKED = "blocked"  # a node it needs failed or was blocked
    INTERRUPTED = "interrupted"


class PipelineRun(models.Model):
    status = models.CharField(max_length=16, choices=RunStatus.choices, default=RunStatus.RUNNING)
    # Who started it: cli, schedule, airflow, api…
    trigger = models.CharField(max_length=32)
    cadences = models.JSONField(default=list)
    only = models.JSONField(default=list)
    start_from = models.CharField(max_length=64, blank=True)
    engine = models.CharField(max_length=16, blank=True)
    # The process running it (``host:pid:start``, as a job's), to tell a dead one.
    runner = models.CharField(max_length=300, blank=True)
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True)
    seconds = models.FloatField(null=True)
    error = models.TextField(blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["-started_at", "-id"], name="pipeline_runs_newest"),
            models.Index(fields=["status"], name="pipeline_runs_by_status"),
        ]

    def __str__(self) -> str:
        return f"pipeline run {self.pk} ({self.status})"


class PipelineStepRun(models.Model):
    run = models.ForeignKey(PipelineRun, on_delete=models.CASCADE, related_name="steps")
    # The order the runner takes the nodes in (the graph's dependency order).
    position = models.PositiveIntegerField()
    node = models.CharField(max_length=64)
    step = models.CharField(max_length=64)
    status = models.CharField(max_length=16, choices=NodeStatus.choices, default=NodeStatus.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    started_at = models.DateTimeField(null=True)
    finished_at = models.DateTimeField(null=True)
    seconds = models.FloatField(null=True)
    summary = models.TextField(blank=True)
    report = models.JSONField(null=True)
    # Why it failed, or why it was skipped or blocked.
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["run", "position"]
        constraints = [
            models.UniqueConstraint(fields=["run", "node"], name="pipeline_step_once_per_run")
        ]

    def __str__(self) -> str:
        return f"{self.node} in pipeline run {self.run_id} ({self.status})"
