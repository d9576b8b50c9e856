"""Resuming: after each stored batch the last imported id is written under
``$PODSIGHT_HOME/state/``, keyed by the dump file's resolved path, size and mtime."""

from __future__ import annotations

import hashlib
import json
import os
from datetime import UTC, datetime
from pathlib import Path

from podsight import conf
from podsight.sources.podcastindex.dump.report import DumpImportReport

__all__ = [
    "CHECKPOINT_PREFIX",
    "checkpoint_path",
    "forget_other_versions",
    "read_checkpoint",
    "write_checkpoint",
]

CHECKPOINT_PREFIX = "podcastindex-dump-"


def _identity(path: Path) -> tuple[str, int, int]:
    resolved = path.resolve()
    stat = resolved.stat()
    return str(resolved), stat.st_size, stat.st_mtime_ns


def checkpoint_path(path: Path) -> Path:
    """Where the import of this dump file (path + size + mtime) keeps its progress."""
    resolved, size, mtime = _identity(path)
    digest = hashlib.sha1(f"{resolved}|{size}|{mtime}".encode()).hexdigest()[:16]
    return conf.podsight_home() / "state" / f"{CHECKPOINT_PREFIX}{digest}.json"


def read_checkpoint(target: Path, path: Path) -> int | None:
    try:
        state = json.loads(target.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    resolved, size, mtime = _identity(path)
    if (state.get("dump"), state.get("size"), state.get("mtime_ns")) != (resolved, size, mtime):
        return None
    last = state.get("last_id")
    return last if isinstance(last, int) else None


def write_checkpoint(target: Path, path: Path, last_id: int, report: DumpImportReport) -> None:
    resolved, size, mtime = _identity(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    state = {
        "dump": resolved,
        "size": size,
        "mtime_ns": mtime,
        "last_id": last_id,
        "updated_at": datetime.now(UTC).isoformat(),
        "run": report.counts(),
    }
    scratch = target.with_suffix(".tmp")
    scratch.write_text(json.dumps(state, indent=1), encoding="utf-8")
    os.replace(scratch, target)


def forget_other_versions(path: Path, keep: Path) -> None:
    """Checkpoints of older versions of the same dump file can never resume: drop them."""
    resolved = str(path.resolve())
    for candidate in keep.parent.glob(f"{CHECKPOINT_PREFIX}*.json"):
        if candidate == keep:
            continue
        try:
            if json.loads(candidate.read_text(encoding="utf-8")).get("dump") == resolved:
                candidate.unlink()
        except (OSError, ValueError):
            continue
