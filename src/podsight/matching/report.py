"""Quality report: how many links per source pair, and how right they are against labels.

**Counts** (``podsight match --report``): for every pair of sources, how many canonical
channels/episodes hold records of both (matched), of only one of them, and how many of the
matched ones hold a link that needs review.

**Labels** (``--labels FILE``): a CSV with a header and one row per known pair of records::

    entity,left_source,left_id,right_source,right_id
    episode,rss,https://example.com/ep1.mp3,youtube,dQw4w9WgXcQ
    channel,spotify,4rOoJ6Egrf8K2IrywzwOMk,youtube,UC2D2CMWXMOVWx7giW1n3LIg
    episode,spotify,7a3Xa8J2n6nT5cQ3Yk2o1v,,

A row with an empty right side names a record known to match nothing. Optional columns
``left_show`` and ``right_show`` (the show record's external id) pin an episode id that
several feeds use; ``match`` (1/0, default 1) marks a known non-pair. The labelled records
are taken as a complete truth about themselves: the true pairs are the transitive closure
of the positive rows, and every predicted pair between labelled records that is not in it
is an error. Records nobody labelled are left out of precision and recall.
"""

from __future__ import annotations

import csv
import itertools
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from podsight.errors import InputError
from podsight.matching.models import Entity
from podsight.sources.models import LinkStatus, SourceChannel, SourceEpisode

if TYPE_CHECKING:  # services imports this module's neighbours; only the type is needed
    from podsight.matching.run import MatchReport

__all__ = [
    "CatalogSummary",
    "MatchRunReport",
    "Evaluation",
    "LabelError",
    "SourcePairCounts",
    "catalog_summary",
    "evaluate",
    "evaluate_labels",
    "pair_counts",
    "read_labels",
    "source_pair_counts",
    "true_groups",
    "resolve_labels",
]


class LabelError(InputError, ValueError):
    """The labels file cannot be read; the message says which line and why."""


@dataclass(frozen=True)
class SourcePairCounts:
    entity: str
    left: str
    right: str
    matched: int  # canonical rows holding records of both
    only_left: int
    only_right: int
    needs_review: int  # matched rows with a record whose link needs review


@dataclass(frozen=True)
class EntitySummary:
    entity: str
    canonical: int  # live canonical rows (not merged away)
    records: int  # per-source records linked to them
    cross_source: int  # canonical rows holding records of two or more sources
    by_method: dict[str, int]  # linked records per link method (key, fuzzy, manual)
    needs_review: int  # records whose link waits for a person


@dataclass(frozen=True)
class CatalogSummary:
    """What the catalog holds after a load: one line per entity for a person to read."""

    channels: EntitySummary
    episodes: EntitySummary

    def lines(self) -> list[str]:
        out = []
        for s in (self.channels, self.episodes):
            methods = ", ".join(f"{n:,} {m}" for m, n in sorted(s.by_method.items()) if n)
            out.append(
                f"{s.canonical:,} {s.entity}s ({s.cross_source:,} on several sources) from "
                f"{s.records:,} source records; links by method: {methods or 'none'}; "
                f"{s.needs_review:,} need review"
            )
        return out


def catalog_summary() -> CatalogSummary:
    from django.db.models import Count

    from podsight.catalog.models import Channel, Episode

    def summary(entity: str, canonical_model, record_model, fk: str) -> EntitySummary:
        linked = record_model.objects.filter(**{f"{fk}__isnull": False})
        by_method = dict(
            linked.values_list("link_method")
            .annotate(n=Count("pk"))
            .values_list("link_method", "n")
        )
        cross = (
            linked.values(fk).annotate(n=Count("source", distinct=True)).filter(n__gte=2).count()
        )
        return EntitySummary(
            entity=entity,
            canonical=canonical_model.objects.filter(merged_into__isnull=True).count(),
            records=sum(by_method.values()),
            cross_source=cross,
            by_method=by_method,
            needs_review=linked.filter(link_status=LinkStatus.NEEDS_REVIEW).count(),
        )

    return CatalogSummary(
        channels=summary("channel", Channel, SourceChannel, "channel"),
        episodes=summary("episode", Episode, SourceEpisode, "episode"),
    )


def _memberships(entity: str) -> Iterator[tuple[int, str, str]]:
    """(canonical id, source, link status) of every linked record."""
    if entity == Entity.CHANNEL:
        rows = SourceChannel.objects.filter(channel__isnull=False).values_list(
            "channel_id", "source", "link_status"
        )
    else:
        rows = SourceEpisode.objects.filter(episode__isnull=False).values_list(
            "episode_id", "source", "link_status"
        )
    yield from rows.iterator(chunk_size=20_000)


def source_pair_counts(entity: str) -> list[SourcePairCounts]:
    sources_of: dict[int, set[str]] = defaultdict(set)
    review: set[int] = set()
    for canonical, source, status in _memberships(entity):
        sources_of[canonical].add(source)
        if status == LinkStatus.NEEDS_REVIEW:
            review.add(canonical)
    present = sorted({s for sources in sources_of.values() for s in sources})
    out = []
    for left, right in itertools.combinations(present, 2):
        matched = only_left = only_right = needs_review = 0
        for canonical, sources in sources_of.items():
            has_left, has_right = left in sources, right in sources
            if has_left and has_right:
                matched += 1
                needs_review += canonical in review
            elif has_left:
                only_left += 1
            elif has_right:
                only_right += 1
        out.append(
            SourcePairCounts(entity, left, right, matched, only_left, only_right, needs_review)
        )
    return out


@dataclass(frozen=True)
class LabelledRecord:
    source: str
    external_id: str
    show: str = ""

    def __str__(self) -> str:
        return f"{self.source}:{self.external_id}"


@dataclass
class Labels:
    entity: str
    records: set[LabelledRecord] = field(default_factory=set)
    positive: list[tuple[LabelledRecord, LabelledRecord]] = field(default_factory=list)


def read_labels(path: str | Path) -> dict[str, Labels]:
    """entity → labels, from the CSV described in the module docstring."""
    out = {e: Labels(e) for e in (Entity.CHANNEL, Entity.EPISODE)}
    try:
        handle = Path(path).open(newline="", encoding="utf-8")
    except OSError as exc:
        raise LabelError(f"cannot read labels file {path}: {exc.strerror}") from exc
    with handle:
        reader = csv.DictReader(handle)
        needed = {"entity", "left_source", "left_id", "right_source", "right_id"}
        missing = needed - set(reader.fieldnames or [])
        if missing:
            raise LabelError(
                f"{path}: the header lacks {', '.join(sorted(missing))}; expected "
                "entity,left_source,left_id,right_source,right_id[,match,left_show,right_show]"
            )
        for line, row in enumerate(reader, start=2):
            entity = (row["entity"] or "").strip()
            if entity not in out:
                raise LabelError(f"{path}:{line}: entity must be channel or episode")
            if not row["left_source"] or not row["left_id"]:
                raise LabelError(f"{path}:{line}: left_source and left_id are required")
            left = LabelledRecord(row["left_source"], row["left_id"], row.get("left_show") or "")
            labels = out[entity]
            labels.records.add(left)
            if not row["right_source"] and not row["right_id"]:
                continue
            right = LabelledRecord(
                row["right_source"], row["right_id"], row.get("right_show") or ""
            )
            labels.records.add(right)
            match = (row.get("match") or "1").strip()
            if match not in ("0", "1"):
                raise LabelError(f"{path}:{line}: match must be 1 or 0, not {match!r}")
            if match == "1":
                labels.positive.append((left, right))
    return out


@dataclass
class Evaluation:
    entity: str
    labelled: int
    unresolved: list[str]  # labelled records not in the catalog (or ambiguous)
    true_pairs: int
    predicted_pairs: int
    correct_pairs: int
    false_links: list[str]
    missed_links: list[str]

    @property
    def precision(self) -> float:
        return self.correct_pairs / self.predicted_pairs if self.predicted_pairs else 1.0

    @property
    def recall(self) -> float:
        return self.correct_pairs / self.true_pairs if self.true_pairs else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def resolve_labels(entity: str, records: Iterable[LabelledRecord]) -> tuple[dict, list[str]]:
    """Labelled record → (record id, canonical id); and the ones not found."""
    wanted = defaultdict(set)
    for record in records:
        wanted[record.source].add(record.external_id)
    found: dict[tuple[str, str], list[tuple[int, int | None, str]]] = defaultdict(list)
    for source, ids in wanted.items():
        ids = list(ids)
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            if entity == Entity.CHANNEL:
                rows = SourceChannel.objects.filter(source=source, external_id__in=chunk)
                values = rows.values_list("external_id", "pk", "channel_id", "external_id")
            else:
                rows = SourceEpisode.objects.filter(source=source, external_id__in=chunk)
                values = rows.values_list(
                    "external_id", "pk", "episode_id", "source_channel__external_id"
                )
            for external_id, pk, canonical, show in values:
                found[(source, external_id)].append((pk, canonical, show))
    resolved, unresolved = {}, []
    for record in records:
        candidates = found.get((record.source, record.external_id), [])
        if record.show:
            candidates = [c for c in candidates if c[2] == record.show]
        if len(candidates) != 1:
            why = "not in the catalog" if not candidates else "ambiguous: add a show column"
            unresolved.append(f"{record} ({why})")
            continue
        resolved[record] = (candidates[0][0], candidates[0][1])
    return resolved, unresolved


def true_groups(
    labels: Labels, records: Iterable[LabelledRecord]
) -> dict[LabelledRecord, LabelledRecord]:
    """Each of ``records`` → the representative of its true group: the transitive closure
    of the positive labels (union-find)."""
    parent = {r: r for r in records}

    def root(r: LabelledRecord) -> LabelledRecord:
        while parent[r] != r:
            parent[r] = parent[parent[r]]
            r = parent[r]
        return r

    for left, right in labels.positive:
        if left in parent and right in parent:
            parent[root(left)] = root(right)
    return {r: root(r) for r in parent}


def evaluate(
    labels: Labels, *, max_errors: int = 50, groups: dict[int, int] | None = None
) -> Evaluation:
    """Precision and recall of the catalog's links against ``labels``; ``groups`` (record
    id → group id, missing records alone) evaluates another method's grouping instead."""
    resolved, unresolved = resolve_labels(labels.entity, labels.records)
    if groups is not None:
        resolved = {r: (pk, groups.get(pk, -pk)) for r, (pk, _) in resolved.items()}
    root = true_groups(labels, resolved)
    truth_groups: dict[LabelledRecord, list[LabelledRecord]] = defaultdict(list)
    predicted_groups: dict[int | None, list[LabelledRecord]] = defaultdict(list)
    for record, (_pk, canonical) in resolved.items():
        truth_groups[root[record]].append(record)
        if canonical is not None:
            predicted_groups[canonical].append(record)

    def pairs(groups: Iterable[list[LabelledRecord]]) -> set[frozenset[LabelledRecord]]:
        return {
            frozenset(pair)
            for group in groups
            for pair in itertools.combinations(sorted(group, key=str), 2)
        }

    truth = pairs(truth_groups.values())
    predicted = pairs(predicted_groups.values())
    correct = truth & predicted

    def shown(pair: frozenset[LabelledRecord]) -> str:
        a, b = sorted(pair, key=str)
        return f"{a} ~ {b} (canonical {resolved[a][1]} / {resolved[b][1]})"

    return Evaluation(
        entity=labels.entity,
        labelled=len(labels.records),
        unresolved=sorted(unresolved),
        true_pairs=len(truth),
        predicted_pairs=len(predicted),
        correct_pairs=len(correct),
        false_links=sorted(shown(p) for p in predicted - truth)[:max_errors],
        missed_links=sorted(shown(p) for p in truth - predicted)[:max_errors],
    )


def pair_counts() -> dict[str, list[SourcePairCounts]]:
    """:func:`source_pair_counts` of channels, then episodes."""
    return {entity: source_pair_counts(entity) for entity in (Entity.CHANNEL, Entity.EPISODE)}


def evaluate_labels(label_sets: dict[str, Labels]) -> dict[str, Evaluation]:
    """:func:`evaluate` for each entity that has labelled records."""
    return {entity: evaluate(labels) for entity, labels in label_sets.items() if labels.records}


@dataclass
class MatchRunReport:
    """What ``podsight match`` (the ``match`` step) reports: the run; when asked, the link
    counts per source pair (``pair_counts``) and the evaluation against labels per entity
    (``evaluations``, empty without labels)."""

    run: MatchReport
    pair_counts: dict[str, list[SourcePairCounts]] | None = None
    evaluations: dict[str, Evaluation] = field(default_factory=dict)
