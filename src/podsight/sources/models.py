"""Per-source records: what one source (RSS, Podcast Index, Apple, Spotify, YouTube) says.

Each record keeps the source's normalised fields (``data``), a content hash to
detect changes, and its link to a canonical channel/episode with the method and
confidence of that link. Records are never deleted when they disappear from the
source: ``vanished_at`` marks them.
"""

from __future__ import annotations

from django.db import models

from podsight.catalog.models import Channel, Episode

__all__ = [
    "Feed",
    "KeyKind",
    "LinkMethod",
    "LinkStatus",
    "Source",
    "SourceChannel",
    "SourceEpisode",
    "SourceKey",
    "SyncState",
    "CandidateKind",
    "CatalogCandidate",
]


class Source(models.TextChoices):
    RSS = "rss", "RSS/Atom feed"
    PODCASTINDEX = "podcastindex", "Podcast Index"
    APPLE = "apple", "Apple Podcasts"
    SPOTIFY = "spotify", "Spotify"
    YOUTUBE = "youtube", "YouTube"


class LinkMethod(models.TextChoices):
    KEY = "key", "shared strong key (or the record's own identity)"
    FUZZY = "fuzzy", "fuzzy match"
    MANUAL = "manual", "set by a person"


class LinkStatus(models.TextChoices):
    NONE = "", "not a matched link (own identity or strong key)"
    AUTO = "auto", "made by the matcher above the review band"
    NEEDS_REVIEW = "needs_review", "made by the matcher below the review band"
    CONFIRMED = "confirmed", "confirmed or set by a person"


class SourceRecord(models.Model):
    source = models.CharField(max_length=20, choices=Source.choices, db_index=True)
    external_id = models.TextField()
    url = models.TextField(blank=True, default="")
    data = models.JSONField(default=dict)
    content_hash = models.CharField(max_length=64)
    # When the content we hold was fetched (unchanged re-fetches do not touch the row).
    fetched_at = models.DateTimeField()
    first_seen_at = models.DateTimeField(auto_now_add=True)
    vanished_at = models.DateTimeField(null=True, blank=True)
    link_method = models.CharField(
        max_length=10, choices=LinkMethod.choices, blank=True, default=""
    )
    link_confidence = models.FloatField(null=True)
    link_explanation = models.TextField(blank=True, default="")
    link_status = models.CharField(
        max_length=16,
        choices=LinkStatus.choices,
        blank=True,
        default="",
        db_default="",  # raw bulk inserts (the dump import) need not name it
        db_index=True,
    )
    linked_at = models.DateTimeField(null=True)

    class Meta:
        abstract = True


class SourceChannel(SourceRecord):
    channel = models.ForeignKey(
        Channel, null=True, on_delete=models.SET_NULL, related_name="source_records"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["source", "external_id"], name="uniq_source_channel")
        ]
        ordering = ["id"]


class SourceEpisode(SourceRecord):
    source_channel = models.ForeignKey(
        SourceChannel, on_delete=models.CASCADE, related_name="episodes"
    )
    episode = models.ForeignKey(
        Episode, null=True, on_delete=models.SET_NULL, related_name="source_records"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["source_channel", "external_id"], name="uniq_source_episode"
            )
        ]
        ordering = ["id"]


class Feed(models.Model):
    """A place an RSS/Atom document is read from, with the state conditional GET needs."""

    url = models.TextField(unique=True)  # http(s) URL or file:// URI
    source_channel = models.OneToOneField(
        SourceChannel, null=True, blank=True, on_delete=models.SET_NULL, related_name="feed"
    )
    etag = models.TextField(blank=True, default="")
    last_modified = models.TextField(blank=True, default="")
    previous_urls = models.JSONField(default=list, blank=True)
    last_checked_at = models.DateTimeField(null=True)
    last_status = models.CharField(max_length=20, blank=True, default="")
    last_http_status = models.IntegerField(null=True)
    last_error = models.TextField(blank=True, default="")
    consecutive_failures = models.IntegerField(default=0)
    repairs = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]


class SyncState(models.Model):
    """How the last ``podsight sync`` of one API source went, kept for operators (the
    dashboard's Overview): connectors hold no state of their own between runs, and RSS
    keeps its per-feed state on :class:`Feed`. One row per source, replaced each run."""

    source = models.CharField(max_length=20, choices=Source.choices, unique=True)
    last_run_at = models.DateTimeField()
    status = models.CharField(max_length=10)  # SourceRun.status: ok, skipped, stopped, failed
    message = models.TextField(blank=True, default="")
    shows_ok = models.IntegerField(default=0)
    shows_failed = models.IntegerField(default=0)
    # The newest error of any run: kept when a later run succeeds, so it stays readable.
    last_error = models.TextField(blank=True, default="")
    last_error_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["source"]


class KeyKind(models.TextChoices):
    FEED_URL = "feed_url", "normalised feed URL"
    PODCAST_GUID = "podcast_guid", "podcast:guid"
    ITUNES_ID = "itunes_id", "iTunes / Apple collection id"
    PODCASTINDEX_ID = "podcastindex_id", "Podcast Index feed id"


class SourceKey(models.Model):
    """A strong key a source channel record carries (normalised, see ``sources.keys``).

    Two records sharing a key are the same show: the second links to the first's
    canonical channel with method ``key``. The index on (kind, value) makes that
    lookup one query, also for batches of a million dump rows.
    """

    kind = models.CharField(max_length=20, choices=KeyKind.choices)
    value = models.TextField()
    record = models.ForeignKey(SourceChannel, on_delete=models.CASCADE, related_name="keys")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["record", "kind", "value"], name="uniq_source_key")
        ]
        indexes = [models.Index(fields=["kind", "value"], name="source_key_lookup")]
        ordering = ["id"]


class CandidateKind(models.TextChoices):
    FEED = "feed", "a feed the catalog does not hold"
    EPISODE = "episode", "an episode the catalog does not hold, of a feed it may hold"


class CatalogCandidate(models.Model):
    """A feed or episode that listeners reported (gPodder subscriptions and episode
    actions) but the catalog does not hold yet: kept, counted, for ingestion to pick up
    (``podsight candidates``), rather than refused."""

    kind = models.CharField(max_length=10, choices=CandidateKind.choices)
    feed_url = models.TextField()
    episode_url = models.TextField(blank=True, default="")
    origin = models.CharField(max_length=40, help_text="Who reported it, e.g. gpodder.")
    mentions = models.IntegerField(default=0)
    first_seen_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "feed_url", "episode_url"], name="uniq_catalog_candidate"
            )
        ]
        ordering = ["-mentions", "id"]

    def __str__(self) -> str:
        return f"{self.kind} {self.episode_url or self.feed_url}"
