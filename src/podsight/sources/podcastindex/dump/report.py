"""What one import run did: :class:`DumpImportReport` (the CLI renders it)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from podsight.lake.tables import PODCASTINDEX_FEEDS

__all__ = ["DumpImportReport"]


@dataclass
class DumpImportReport:
    """What one ``import_dump`` run did (a resumed run counts only its own rows).

    ``new``/``updated``/``unchanged`` count rows of the lake table; ``linked`` counts
    rows that joined a canonical channel this run and ``refreshed`` catalog records
    rewritten because their dump row changed.
    """

    path: str
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    linked: int = 0
    refreshed: int = 0
    skipped: int = 0
    skip_reasons: Counter = field(default_factory=Counter)
    skipped_examples: list[tuple[Any, str]] = field(default_factory=list)
    rows_read: int = 0
    batches: int = 0
    resumed_from: int | None = None
    last_id: int | None = None
    finished: bool = False
    elapsed_s: float = 0.0
    indexed: int = 0  # rows (re)indexed in the directory index during the batches
    index_action: str = ""  # what the index did before the batches (IndexSync.action)

    @property
    def rows_per_s(self) -> float:
        return self.rows_read / self.elapsed_s if self.elapsed_s > 0 else 0.0

    def counts(self) -> dict[str, int]:
        return {
            "new": self.new,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "linked": self.linked,
            "refreshed": self.refreshed,
            "skipped": self.skipped,
            "rows_read": self.rows_read,
        }

    def __str__(self) -> str:
        lines = [
            f"Podcast Index dump {self.path}: "
            + ("finished" if self.finished else f"stopped after id {self.last_id}"),
            f"  rows read {self.rows_read:,} in {self.elapsed_s:.1f} s "
            f"({self.rows_per_s:,.0f} rows/s)"
            + (f", resumed after id {self.resumed_from}" if self.resumed_from else ""),
            f"  lake table {PODCASTINDEX_FEEDS.name}: new {self.new:,} · "
            f"updated {self.updated:,} · "
            f"unchanged {self.unchanged:,} · skipped {self.skipped:,}",
            f"  catalog: linked to a channel {self.linked:,} · refreshed {self.refreshed:,}",
            f"  directory index: {self.indexed:,} rows indexed"
            + (
                f" (index {self.index_action} before the import)"
                if self.index_action in ("rebuilt", "caught_up")
                else ""
            ),
        ]
        for reason, count in self.skip_reasons.most_common():
            lines.append(f"  skipped {count:,}: {reason}")
        return "\n".join(lines)
