"""``podsight replay``: normalise and store the kept API payloads again, without any API call.

Useful after a normaliser or the linking rules changed: the lake's ``api_payloads``
table holds every fresh response, oldest first, so replaying ends in the newest state.
Metric snapshots are not appended again (they were recorded when observed).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from podsight.errors import UsageError
from podsight.progress import SILENT, Progress
from podsight.sources.connector import CONNECTORS, normalizer_for
from podsight.sources.http import ApiError
from podsight.sources.payloads import iter_payloads, payload_count
from podsight.sources.store import StoreReport, store_normalized

__all__ = ["ReplayReport", "replay_payloads"]


@dataclass
class ReplayReport:
    payloads: int = 0
    skipped: int = 0
    errors: list[str] = field(default_factory=list)
    store: StoreReport = field(default_factory=StoreReport)


def replay_payloads(source: str | None = None, *, progress: Progress = SILENT) -> ReplayReport:
    if source is not None and source not in CONNECTORS:
        raise UsageError(
            f"no API payloads are kept for source {source!r}; use one of "
            f"{', '.join(sorted(CONNECTORS))} (RSS feeds are re-read by `podsight ingest rss`)"
        )
    report = ReplayReport()
    total = payload_count(source)
    with progress.task("replay", total=total) as task:
        for payload in iter_payloads(source):
            task.advance()
            if payload.status != 200 or payload.source not in CONNECTORS:
                report.skipped += 1
                continue
            try:
                body = json.loads(payload.body)
                normalized = normalizer_for(payload.source)(payload.endpoint, payload.params, body)
            except (ValueError, ApiError) as exc:
                report.errors.append(
                    f"{payload.source} {payload.endpoint} @ {payload.fetched_at}: {exc}"
                )
                continue
            report.store.add(store_normalized(normalized, fetched_at=payload.fetched_at))
            report.payloads += 1
    return report
