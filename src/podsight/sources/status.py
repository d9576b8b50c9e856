"""What an operator wants to know of the sources at a glance (``GET /api/stats/overview``):
records per source and how many are linked across sources, links waiting for a person,
when each source was last synced and its last error, and the YouTube quota used today.

RSS keeps its state per feed (:class:`~podsight.sources.models.Feed`); the API sources
keep theirs per source (:class:`~podsight.sources.models.SyncState`, written by
``podsight sync``). A source synced some other way (the Podcast Index dump, ``directory
add``) has no sync row: its last sync is when its newest record was fetched.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.db.models import Count, Exists, Max, OuterRef

from podsight import conf
from podsight.sources.models import (
    Feed,
    LinkStatus,
    Source,
    SourceChannel,
    SourceEpisode,
    SyncState,
)
from podsight.sources.rss.ingest import record_external_id

__all__ = ["links_needing_review", "records_by_source", "sync_status", "youtube_quota"]


def _iso(when: datetime | None) -> str | None:
    return when.astimezone(UTC).isoformat() if when else None


def _linked_counts(model, fk: str) -> dict[str, tuple[int, int]]:
    """source → (records, records whose canonical row holds a record of another source),
    of the records still present at their source."""
    others = model.objects.filter(**{fk: OuterRef(fk)}).exclude(source=OuterRef("source"))
    rows = (
        model.objects.filter(vanished_at__isnull=True)
        .annotate(cross=Exists(others))
        .values_list("source", "cross")
        .annotate(n=Count("pk"))
        .order_by()
    )
    out: dict[str, list[int]] = {}
    for source, cross, n in rows:
        entry = out.setdefault(source, [0, 0])
        entry[0] += n
        if cross:
            entry[1] += n
    return {s: (total, linked) for s, (total, linked) in out.items()}


def records_by_source() -> list[dict[str, Any]]:
    """Per source, in survivorship order: channel and episode records (not vanished) and
    how many of them are linked to a record of another source (``*_linked``)."""
    channels = _linked_counts(SourceChannel, "channel")
    episodes = _linked_counts(SourceEpisode, "episode")
    out = []
    for source in Source.values:
        c_total, c_linked = channels.get(source, (0, 0))
        e_total, e_linked = episodes.get(source, (0, 0))
        out.append(
            {
                "source": source,
                "label": Source(source).label,
                "channels": c_total,
                "channels_linked": c_linked,
                "episodes": e_total,
                "episodes_linked": e_linked,
            }
        )
    return out


def links_needing_review() -> dict[str, int]:
    return {
        "channels": SourceChannel.objects.filter(link_status=LinkStatus.NEEDS_REVIEW).count(),
        "episodes": SourceEpisode.objects.filter(link_status=LinkStatus.NEEDS_REVIEW).count(),
    }


def _rss_status() -> dict[str, Any]:
    feeds = Feed.objects.aggregate(n=Count("pk"), last=Max("last_checked_at"))
    failing = Feed.objects.exclude(last_error="").filter(consecutive_failures__gt=0).count()
    newest_error = (
        Feed.objects.exclude(last_error="")
        .order_by("-last_checked_at", "-id")
        .values_list("url", "last_error", "last_checked_at")
        .first()
    )
    error = ""
    if newest_error:
        # A local file's path is nobody's business: name it as its record does.
        url, text, _ = newest_error
        public = record_external_id(url)
        error = f"{public}: {text.replace(url, public)}"
    status = None
    if feeds["last"]:
        status = "failed" if failing == feeds["n"] else ("partial" if failing else "ok")
    return {
        "source": Source.RSS.value,
        "last_sync_at": _iso(feeds["last"]),
        "status": status,
        "message": f"{feeds['n']:,} feeds, {failing:,} failing" if feeds["n"] else "",
        "last_error": error,
        "last_error_at": _iso(newest_error[2]) if newest_error else None,
    }


def sync_status() -> list[dict[str, Any]]:
    """Per source: ``last_sync_at``, ``status`` (ok, partial, skipped, stopped, failed;
    None when never synced), ``message``, ``last_error`` and ``last_error_at``."""
    states = {s.source: s for s in SyncState.objects.all()}
    fetched = dict(
        SourceChannel.objects.values_list("source")
        .annotate(last=Max("fetched_at"))
        .values_list("source", "last")
        .order_by()
    )
    out = [_rss_status()]
    for source in Source.values:
        if source == Source.RSS:
            continue
        state = states.get(source)
        if state is None:
            last = fetched.get(source)
            out.append(
                {
                    "source": source,
                    "last_sync_at": _iso(last),
                    "status": None,
                    "message": "records stored, no `podsight sync` run recorded" if last else "",
                    "last_error": "",
                    "last_error_at": None,
                }
            )
            continue
        status = state.status
        if status == "ok" and state.shows_failed:
            status = "partial"
        out.append(
            {
                "source": source,
                "last_sync_at": _iso(state.last_run_at),
                "status": status,
                "message": state.message
                or f"{state.shows_ok:,} shows synced, {state.shows_failed:,} failed",
                "last_error": state.last_error,
                "last_error_at": _iso(state.last_error_at),
            }
        )
    return out


def youtube_quota(now: datetime | None = None) -> dict[str, Any]:
    """Units of the YouTube Data API quota used in the current quota day (Pacific time)
    by podsight's own count, against the budget; ``error`` when the setting is wrong."""
    from podsight.sources.youtube.quota import QuotaLedger

    try:
        ledger = QuotaLedger.from_env(clock=(lambda: now) if now else None)
    except conf.SettingError as exc:
        return {"used": None, "budget": None, "day": None, "resets_at": None,
                "exhausted": False, "error": str(exc)}  # fmt: skip
    return {
        "used": ledger.used_today,
        "budget": ledger.budget,
        "day": ledger.today.isoformat(),
        "resets_at": _iso(ledger.resets_at),
        "exhausted": ledger.exhausted_today,
        "error": "",
    }
