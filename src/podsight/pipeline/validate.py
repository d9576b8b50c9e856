"""Each pipeline step's data-quality gate: what the step wrote, checked before anything
downstream reads it (:mod:`podsight.lake.quality` holds the checks and the lake tables'
rules; this module adds the database's and the model's, which need the apps).

The steps in :mod:`podsight.pipeline.steps` take :func:`before` (the lake tables'
versions, the time) when they start and call the ``check_*`` of their work at the end;
a failed check raises :class:`~podsight.errors.QualityError`, so the step fails and the
runner blocks its dependents. The passed checks ride on the step's report as
``report.quality``.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from podsight import lake
from podsight.lake import quality
from podsight.lake.quality import Check, QualityReport
from podsight.lake.tables import (
    API_PAYLOADS,
    ENGAGEMENT_DAILY,
    EVENTS,
    PASSAGES,
    SOURCE_METRICS,
    TRANSCRIPTS,
    LakeTable,
)

logger = logging.getLogger("podsight.quality")

__all__ = [
    "NAN_MEANS_UNKNOWN",
    "Before",
    "before",
    "check_analyze",
    "check_consume",
    "check_engagement_step",
    "check_match",
    "check_model",
    "check_sync",
    "check_transcripts",
]


@dataclass(frozen=True)
class Before:
    """What a step's checks compare with: each lake table's version its gate last passed
    at (``versions``: the checks cover everything written since, so a failure holds until
    the data is fixed), the versions when the step began (``current``: for row counts of
    this run), the start time; ``checked``: the versions when the checks began, recorded
    as passed when they pass."""

    versions: dict[str, int | None]
    started: datetime
    clock: float
    current: dict[str, int | None] = field(default_factory=dict)
    checked: dict[str, int | None] = field(default_factory=dict)


def before(*tables: LakeTable) -> Before:
    """Taken when a step starts: ``tables``' (the lake tables it writes) last passed
    versions and current ones."""
    current = quality.versions(*tables)
    passed = {t.name: quality.passed_version(t) for t in tables}
    return Before(passed, datetime.now(UTC), time.monotonic(), current)


def _finish(step: str, start: Before, checks: Iterable[Check], report: Any) -> Any:
    gathered = QualityReport(step, list(checks), dict(start.versions))
    gathered.seconds = round(time.monotonic() - start.clock, 3)
    logger.info("%s: %s", step, gathered.summary())  # the log file: what each gate cost
    gathered.raise_if_failed()
    quality.record_passed(start.checked)
    return quality.attach(report, gathered)


def _timed(start: Before) -> Before:
    """``start`` with the clock reset (the checks' own time, not the step's) and the
    tables' versions as the checks begin."""
    checked = {name: lake.version(name) for name in start.versions}
    return Before(start.versions, start.started, time.monotonic(), start.current, checked)


# --------------------------------------------------------------------------- events


def check_consume(start: Before, report: Any) -> Any:
    """``events.consume``: ``events`` and ``engagement_daily`` as written by the run."""
    start = _timed(start)
    checks = quality.check_events(
        start.versions.get(EVENTS.name), written_rows=report.events_written,
        run_started=start.current.get(EVENTS.name, start.versions.get(EVENTS.name)),
    )  # fmt: skip
    checks += quality.check_engagement(start.versions.get(ENGAGEMENT_DAILY.name))
    return _finish("events.consume", start, checks, report)


def check_engagement_step(start: Before, report: Any, step: str = "events.engagement") -> Any:
    """``engagement_daily`` recomputed in batch (the ``events.engagement`` step, on either
    engine): the table's checks, and (it replaces the table) as many rows in it as the
    recomputation reports."""
    start = _timed(start)
    checks = quality.check_engagement(start.versions.get(ENGAGEMENT_DAILY.name))
    if not getattr(report, "skipped", None) and lake.exists(ENGAGEMENT_DAILY):
        found = lake.query("SELECT count(*) AS n FROM g", g=ENGAGEMENT_DAILY.name)
        checks.append(
            quality.count_check(
                ENGAGEMENT_DAILY.name, "rows in the table equal rows recomputed",
                int(found.column("n")[0].as_py()), int(report.rows),
            )
        )  # fmt: skip
    return _finish(step, start, checks, report)


# --------------------------------------------------------------------------- sources


def check_sync(start: Before, report: Any) -> Any:
    """``sources.sync``: the lake's metrics and payloads written, and the source records
    the run touched have their keys (source, external id)."""
    from django.db.models import Q

    from podsight.sources.models import SourceChannel, SourceEpisode

    start = _timed(start)
    checks = quality.check_source_metrics(start.versions.get(SOURCE_METRICS.name))
    checks += quality.check_api_payloads(start.versions.get(API_PAYLOADS.name))
    touched = Q(fetched_at__gte=start.started) | Q(first_seen_at__gte=start.started)
    for model, table in ((SourceChannel, "source channel records"),
                         (SourceEpisode, "source episode records")):  # fmt: skip
        rows = model.objects.filter(touched)
        checks.append(
            quality.check_queryset(
                table, "source and external id present",
                rows.filter(Q(external_id="") | Q(source="")), of=rows,
                show=("pk", "source", "external_id"),
            )
        )  # fmt: skip
    episodes = SourceEpisode.objects.filter(touched)
    checks.append(
        quality.check_queryset(
            "source episode records", "same source as their show's record",
            episodes.exclude(source=_ref("source_channel__source")), of=episodes,
            show=("pk", "source", "source_channel__source"),
        )
    )  # fmt: skip
    return _finish("sources.sync", start, checks, report)


def _ref(name: str) -> Any:
    from django.db.models import F

    return F(name)


# --------------------------------------------------------------------------- matching


def check_match(start: Before, report: Any) -> Any:
    """``match``: no record linked to a canonical that is gone (merged into another),
    none marked linked without one, and one canonical per record: an episode record's
    episode is in the channel its show's record is linked to."""
    from django.db.models import F, Q

    from podsight.sources.models import LinkStatus, SourceChannel, SourceEpisode

    start = _timed(start)
    linked = [LinkStatus.AUTO, LinkStatus.NEEDS_REVIEW, LinkStatus.CONFIRMED]
    channels = SourceChannel.objects.all()
    episodes = SourceEpisode.objects.all()
    checks = [
        quality.check_queryset(
            "source channel records", "linked channel exists (not merged away)",
            channels.filter(channel__merged_into__isnull=False), of=channels,
            show=("pk", "source", "external_id", "channel_id"),
        ),
        quality.check_queryset(
            "source episode records", "linked episode exists (not merged away)",
            episodes.filter(episode__merged_into__isnull=False), of=episodes,
            show=("pk", "source", "external_id", "episode_id"),
        ),
        quality.check_queryset(
            "source channel records", "a matched link has its channel",
            channels.filter(link_status__in=linked, channel__isnull=True), of=channels,
            show=("pk", "source", "external_id", "link_status"),
        ),
        quality.check_queryset(
            "source episode records", "a matched link has its episode",
            episodes.filter(link_status__in=linked, episode__isnull=True), of=episodes,
            show=("pk", "source", "external_id", "link_status"),
        ),
        quality.check_queryset(
            "source episode records", "episode in its show record's channel",
            episodes.filter(episode__isnull=False, source_channel__channel__isnull=False)
            .exclude(episode__channel_id=F("source_channel__channel_id"))
            .filter(~Q(source_channel__channel__merged_into__isnull=False)),
            of=episodes,
            show=("pk", "external_id", "episode__channel_id", "source_channel__channel_id"),
        ),
    ]  # fmt: skip
    return _finish("match", start, checks, report)


# --------------------------------------------------------------------------- content


def check_transcripts(start: Before, report: Any) -> Any:
    """``content.transcripts``: the segments written, and each transcript stored this
    run has segments."""
    from podsight.content.models import EpisodeTranscript, TranscriptStatus

    start = _timed(start)
    checks = quality.check_transcripts(start.versions.get(TRANSCRIPTS.name))
    stored = EpisodeTranscript.objects.filter(
        status=TranscriptStatus.OK, fetched_at__gte=start.started
    )
    checks.append(
        quality.check_queryset(
            "episode transcripts", "a stored transcript has a version and segments",
            stored.filter(_q(version=0) | _q(segments=0)), of=stored,
            show=("episode_id", "version", "segments"),
        )
    )  # fmt: skip
    return _finish("content.transcripts", start, checks, report)


def _q(**kwargs: Any) -> Any:
    from django.db.models import Q

    return Q(**kwargs)


def check_analyze(start: Before, report: Any) -> Any:
    """``content.analyze``: the passages and vectors written, and each analysis of this
    run names its embedder when it has passages."""
    from podsight.content.models import EpisodeAnalysis

    start = _timed(start)
    checks = quality.check_passages(start.versions.get(PASSAGES.name))
    analysed = EpisodeAnalysis.objects.filter(analyzed_at__gte=start.started)
    checks.append(
        quality.check_queryset(
            "episode analyses", "passages come with their embedder",
            analysed.filter(passages__gt=0, embedder=""), of=analysed,
            show=("episode_id", "passages"),
        )
    )  # fmt: skip
    return _finish("content.analyze", start, checks, report)


# --------------------------------------------------------------------------- recommendations

# Validation metrics that are shares: in [0, 1]. (Intra-list similarity is a cosine.)
_SHARES = ("ndcg@", "p@", "r@", "coverage")


# Arrays of a model whose NaN says "not known" (recs.core: an episode with no publication
# date, a history entry with no time, a listener who never rated).
NAN_MEANS_UNKNOWN = frozenset({"item_published", "times", "rating"})


def check_model(path: Path, items: Sequence[str], metrics: dict[str, Any], *,
                source: str = "lake") -> QualityReport:  # fmt: skip
    """A trained model's files before it may serve: every float array finite, every item
    a catalog episode (when the data came from the lake, whose items are catalog episode
    ids; another ``source``, a test's synthetic set, has ids of its own), validation
    metrics in [0, 1]. Raises :class:`QualityError`."""
    import numpy as np

    from podsight.catalog.models import Episode

    started = time.monotonic()
    table = f"model {Path(path).name}"
    arrays = 0
    bad: list[str] = []
    for file in sorted(Path(path).rglob("*.npz")) + sorted(Path(path).rglob("*.npy")):
        loaded = np.load(file, allow_pickle=False)
        named = loaded.items() if hasattr(loaded, "items") else [("", loaded)]
        for name, array in named:
            if array.dtype.kind in "fc":
                arrays += 1
                if name in NAN_MEANS_UNKNOWN:  # NaN is a value there; infinity is not
                    count = int(np.count_nonzero(np.isinf(array)))
                else:
                    count = int(array.size - np.count_nonzero(np.isfinite(array)))
                if count:
                    where = file.relative_to(path)
                    bad.append(f"{where}{':' + name if name else ''} ({count:,} values)")
    checks = [
        Check(table, "factor and weight arrays finite", len(bad), arrays, tuple(bad[:5])),
    ]
    if source == "lake":
        wanted = sorted({str(i) for i in items})
        ids = [int(i) for i in wanted if i.isdigit()]
        known: set[int] = set()
        for at in range(0, len(ids), 5_000):
            chunk = ids[at : at + 5_000]
            known.update(Episode.objects.filter(pk__in=chunk).values_list("pk", flat=True))
        unknown = [i for i in wanted if not i.isdigit() or int(i) not in known]
        checks.append(
            Check(
                table,
                "items are catalog episodes",
                len(unknown),
                len(wanted),
                tuple(f"item={i}" for i in unknown[:5]),
            )  # fmt: skip
        )
    out = [
        f"{model}.{name}={value}"
        for model, values in (metrics or {}).items()
        if isinstance(values, dict)
        for name, value in values.items()
        if name.startswith(_SHARES)
        and value is not None
        and not (isinstance(value, (int, float)) and math.isfinite(value) and 0 <= value <= 1)
    ]
    total = sum(
        1
        for values in (metrics or {}).values()
        if isinstance(values, dict)
        for name in values
        if name.startswith(_SHARES)
    )
    checks.append(Check(table, "validation metrics in [0, 1]", len(out), total, tuple(out[:5])))
    report = QualityReport("recs.train", checks)
    report.seconds = round(time.monotonic() - started, 3)
    logger.info("recs.train: %s", report.summary())
    if not report.ok:
        failed = "; ".join(str(c) for c in report.failures)
        from podsight.errors import QualityError

        causes = _model_causes(report.failures, bad)
        raise QualityError(
            f"data-quality check(s) failed after recs.train, so the model was not promoted: "
            f"{failed}. What to do: the files stay in {path} for a look (it serves no one); "
            f"fix the cause ({'; '.join(causes)}), then train again.",
            report=report,
        )
    return report


# Where a model's arrays come from (recs.blend.save_facts, the algorithms' files): the
# episode vectors from content.analyze's passages, per-item facts and follows from the
# catalog, everything else (the interactions, factors, weights) from engagement_daily.
_FROM_PASSAGES = ("item_vectors",)
_FROM_CATALOG = ("item_show", "item_published", "item_available", "follows", "unfollowed")
_ENGAGEMENT = "engagement_daily (`podsight lake history engagement_daily`)"


def _model_causes(failures: Sequence[Check], arrays: Sequence[str]) -> list[str]:
    """What each failed model check points at, named by the data it was built from."""
    causes: list[str] = []

    def add(text: str) -> None:
        if text not in causes:
            causes.append(text)

    for check in failures:
        if check.check.startswith("factor and weight arrays"):
            for array in arrays:
                if any(name in array for name in _FROM_PASSAGES):
                    add("the episode vectors, from content.analyze's passages "
                        "(`podsight lake history passages`)")  # fmt: skip
                elif any(name in array for name in _FROM_CATALOG):
                    add("the catalog's per-episode facts or follows (the database)")
                else:
                    add(_ENGAGEMENT)
        elif check.check.startswith("items are catalog episodes"):
            add("episodes the training data names that the catalog does not have: deleted or "
                "merged away since, or wrong ids in " + _ENGAGEMENT)  # fmt: skip
        else:
            add("the validation metrics are computed wrongly: podsight.recs.evaluate, not the "
                "data")  # fmt: skip
    return causes
