"""``podsight replay``: normalise and store the kept API payloads again, without any API call.

Useful after a normaliser or the linking rules changed: the lake's ``api_payloads``
table holds every fresh response, oldest first, so replaying ends in the newest state.
Metric snapshots are not appended again (they were recorded when observed).
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from rich.console import Console

from podsight.errors import UsageError
from podsight.progress import step_progress
from podsight.sources.http import ApiError
from podsight.sources.payloads import iter_payloads, payload_count
from podsight.sources.records import Normalized
from podsight.sources.store import StoreReport, store_normalized

__all__ = ["NORMALIZERS", "ReplayReport", "normalizer_for", "replay_payloads"]

NORMALIZERS = {
    "podcastindex": "podsight.sources.podcastindex.normalize",
    "apple": "podsight.sources.apple.normalize",
    "spotify": "podsight.sources.spotify.normalize",
    "youtube": "podsight.sources.youtube.normalize",
}


def normalizer_for(source: str) -> Callable[[str, dict[str, Any], Any], Normalized]:
    try:
        module = importlib.import_module(NORMALIZERS[source])
    except KeyError:
        raise ValueError(f"no normaliser for source {source!r}") from None
    return module.normalize


@dataclass
class ReplayReport:
    payloads: int = 0
    skipped: int = 0
    errors: list[str] = field(default_factory=list)
    store: StoreReport = field(default_factory=StoreReport)


def replay_payloads(
    source: str | None = None, *, console: Console | None = None, progress: bool = True
) -> ReplayReport:
    if source is not None and source not in NORMALIZERS:
        raise UsageError(
            f"no API payloads are kept for source {source!r}; use one of "
            f"{', '.join(sorted(NORMALIZERS))} (RSS feeds are re-read by `podsight ingest rss`)"
        )
    console = console or Console(stderr=True)
    report = ReplayReport()
    total = payload_count(source)
    with step_progress("replay", console, enabled=progress) as bar:
        task = bar.add_task("", total=total)
        for payload in iter_payloads(source):
            bar.advance(task)
            if payload.status != 200 or payload.source not in NORMALIZERS:
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
