"""The state of each canonical episode's transcript and of its analysis.

The transcript's segments and its passages live in the lake, keyed by episode and
transcript ``version``; a changed transcript gets the next version and the old one stays.
These rows say which version is current, where it came from and what went wrong.
"""

from __future__ import annotations

from django.db import models

__all__ = ["EpisodeAnalysis", "EpisodeTranscript", "TranscriptSource", "TranscriptStatus"]


class TranscriptStatus(models.TextChoices):
    PENDING = "pending", "not fetched yet"
    OK = "ok", "transcript stored"
    ERROR = "error", "fetching or parsing failed (see error)"
    NONE = "none", "no transcript link and no speech recognition"
    NO_SPEECH_MODEL = "no_speech_model", "no speech model for the episode's language"


class TranscriptSource(models.TextChoices):
    RSS = "rss", "the feed's podcast:transcript"
    ASR = "asr", "speech recognition"


class EpisodeTranscript(models.Model):
    episode = models.OneToOneField(
        "catalog.Episode", on_delete=models.CASCADE, related_name="transcript_state"
    )
    status = models.CharField(
        max_length=20, choices=TranscriptStatus.choices, default=TranscriptStatus.PENDING
    )
    source = models.CharField(max_length=8, choices=TranscriptSource.choices, blank=True)
    url = models.TextField(blank=True, default="")  # the document, or the enclosure for asr
    mime_type = models.CharField(max_length=100, blank=True, default="")
    format = models.CharField(max_length=16, blank=True, default="")
    language = models.CharField(max_length=35, blank=True, default="")
    # 0 until a transcript is stored; each changed document gets the next version.
    version = models.PositiveIntegerField(default=0)
    content_sha256 = models.CharField(max_length=64, blank=True, default="")
    etag = models.TextField(blank=True, default="")
    last_modified = models.TextField(blank=True, default="")
    segments = models.PositiveIntegerField(default=0)
    duration_s = models.FloatField(null=True, blank=True)  # end of the last timed segment
    error = models.TextField(blank=True, default="")
    warnings = models.JSONField(default=list, blank=True)
    # Source-specific facts: the speech model, audio seconds, real-time factor, ...
    details = models.JSONField(default=dict, blank=True)
    fetched_at = models.DateTimeField(null=True, blank=True)  # last time content arrived
    checked_at = models.DateTimeField(null=True, blank=True)  # last attempt, changed or not
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["episode_id"]

    def __str__(self) -> str:
        return f"transcript of episode {self.episode_id}: {self.status} v{self.version}"


class EpisodeAnalysis(models.Model):
    """What ``content.analyze`` found for one episode, from one transcript version (0: the
    title and show notes only)."""

    episode = models.OneToOneField(
        "catalog.Episode", on_delete=models.CASCADE, related_name="analysis"
    )
    transcript_version = models.PositiveIntegerField(default=0)
    notes_only = models.BooleanField(default=False)
    passages = models.PositiveIntegerField(default=0)
    embedder = models.CharField(max_length=64, blank=True, default="")
    keywords = models.JSONField(default=list, blank=True)  # [{"keyword", "score"}]
    topics = models.JSONField(default=list, blank=True)  # [{"topic", "score"}]
    chapters = models.JSONField(default=list, blank=True)  # [{"start_s", "title", ...}]
    chapters_source = models.CharField(max_length=8, blank=True, default="")  # feed | auto
    sponsors = models.JSONField(default=list, blank=True)  # [{"name", "start_s", "end_s", ...}]
    analyzed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["episode_id"]
