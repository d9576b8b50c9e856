"""A lake table's versions and going back to one (Delta time travel, through delta-rs).

Every write to a Delta table is a new version; the files an older version reads stay
until a vacuum removes them (podsight never vacuums). :func:`restore` makes the table's
content that of an older version *as a new version*: nothing is lost, and a restore can
itself be undone by restoring the version before it.

podsight keeps bookkeeping in commit metadata (``podsight.*`` keys: the events
consumer's log position, the position the engagement table covers). A restore commit
carries those keys as they stood at the version restored, so the consumer resumes from
there: the events the restore took out of the table are read from the log again.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pyarrow.dataset as ds
from deltalake import CommitProperties, DeltaTable

from podsight import lake, locks
from podsight.errors import InputError, NotFoundError, StorageError
from podsight.lake.tables import ENGAGEMENT_DAILY, EVENTS, PASSAGES, TABLES, TRANSCRIPTS

__all__ = [
    "EPISODE_TABLES",
    "LakeHistory",
    "LakeRestored",
    "LakeVersion",
    "NoSuchTable",
    "NoSuchVersion",
    "RESTORED_FROM",
    "history",
    "restore",
]

# Commit metadata podsight writes and reads back (see the module docstring).
_OURS = "podsight."
RESTORED_FROM = "podsight.restored_from"
# The events consumer's lock (events/consumer.py): a restore of the tables it writes
# must not interleave with its commits.
_CONSUMER_LOCK = ".consumer.lock"
_CONSUMER_TABLES = {EVENTS.name, ENGAGEMENT_DAILY.name}
# Tables whose per-episode work the database records as done (content.transcripts,
# content.analyze): rows a restore takes out must be made again.
EPISODE_TABLES = {PASSAGES.name, TRANSCRIPTS.name}


class NoSuchTable(NotFoundError, LookupError):
    """No lake table by that name, or it holds no data yet (exit 2: the name is wrong)."""

    exit_code = 2


class NoSuchVersion(NotFoundError, LookupError):
    """The table has no such version (exit 2: the number is wrong)."""

    exit_code = 2


@dataclass(frozen=True)
class LakeVersion:
    """One commit: its version, time, operation, rows it added (appends and merges) and
    podsight's metadata."""

    version: int
    timestamp: datetime
    operation: str
    rows_added: int | None
    rows_removed: int | None
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class LakeHistory:
    """A table's versions, newest first (at most the ``limit`` asked for)."""

    table: str
    path: str
    current: int
    versions: list[LakeVersion]


@dataclass(frozen=True)
class LakeRestored:
    """A restore done: ``restored``'s content is now ``version`` (``previous`` was
    current before it)."""

    table: str
    restored: int
    previous: int
    version: int
    files_removed: int
    files_restored: int
    # passages / transcripts: the episodes whose rows the restore took out (the database
    # records them as done: the restore step marks them to be done again).
    episodes_removed: tuple[int, ...] = ()
    redo: str = ""


def _table(name: str) -> DeltaTable:
    if name not in TABLES:
        raise NoSuchTable(f"no lake table named {name!r}; the lake's tables: {_listing()}")
    if not lake.exists(name):
        raise NoSuchTable(
            f"lake table {name} holds no data yet in {lake.table_path(name)}; tables with "
            f"data: {_listing()}"
        )
    return DeltaTable(str(lake.table_path(name)))


def _listing() -> str:
    made = [n for n in TABLES if lake.exists(n)]
    others = [n for n in TABLES if n not in made]
    text = ", ".join(made) if made else "none yet"
    if others:
        text += f" (no data yet: {', '.join(others)})"
    return text


def _version(commit: dict[str, Any]) -> LakeVersion:
    metrics = commit.get("operationMetrics") or {}
    added = metrics.get("num_added_rows", metrics.get("num_target_rows_inserted"))
    if commit.get("operation") == "MERGE":
        added = metrics.get("num_target_rows_inserted")
    removed = metrics.get("num_target_rows_deleted", metrics.get("num_deleted_rows"))
    return LakeVersion(
        version=int(commit["version"]),
        timestamp=datetime.fromtimestamp(commit["timestamp"] / 1000, UTC),
        operation=str(commit.get("operation", "")),
        rows_added=None if added is None else int(added),
        rows_removed=None if removed is None else int(removed),
        metadata={k: str(v) for k, v in commit.items() if k.startswith(_OURS)},
    )


def history(table: str, *, limit: int | None = 20) -> LakeHistory:
    """The newest ``limit`` versions of ``table`` (None: all)."""
    if limit is not None and limit < 1:
        raise InputError(f"limit must be at least 1, not {limit}")
    dt = _table(table)
    commits = dt.history(limit)
    return LakeHistory(
        table, str(lake.table_path(table)), dt.version(), [_version(c) for c in commits]
    )


def _metadata_at(dt: DeltaTable, version: int) -> dict[str, str]:
    """podsight's commit metadata as it stood at ``version``: each key's latest value
    at or before it."""
    found: dict[str, str] = {}
    for commit in dt.history():  # newest first
        if commit["version"] > version:
            continue
        for key, value in commit.items():
            if key.startswith(_OURS) and key != RESTORED_FROM and key not in found:
                found[key] = str(value)
    return found


@contextmanager
def _consumer_held(table: str) -> Iterator[None]:
    if table not in _CONSUMER_TABLES:
        yield
        return
    def busy(holder: str) -> StorageError:
        who = f" ({holder})" if holder else ""
        return StorageError(
            f"`podsight events consume` is running{who} and writes {table}: stop it, then "
            "restore (it resumes from the restored position when started again)"
        )

    with locks.held(lake.table_path(_CONSUMER_LOCK), busy):
        yield


def restore(table: str, version: int) -> LakeRestored:
    """Make ``table``'s content that of ``version``, as a new version."""
    dt = _table(table)
    current = dt.version()
    oldest = min(int(c["version"]) for c in dt.history())
    if not oldest <= version <= current:
        raise NoSuchVersion(
            f"lake table {table} has versions {oldest} to {current}, not {version}; "
            f"see `podsight lake history {table}`"
        )
    if version == current:
        raise InputError(
            f"lake table {table} is at version {version} already; restore an older one "
            f"(see `podsight lake history {table}`)"
        )
    with lake.io_lock, _consumer_held(table):
        dt = DeltaTable(str(lake.table_path(table)))
        previous = dt.version()
        metadata = {**_metadata_at(dt, version), RESTORED_FROM: str(version)}
        episodes = _episodes_taken_out(table, version, dt)
        try:
            metrics = dt.restore(
                version, commit_properties=CommitProperties(custom_metadata=metadata)
            )
        except Exception as exc:  # delta-rs raises its own DeltaError / OSError kinds
            raise StorageError(
                f"cannot restore lake table {table} to version {version} "
                f"({type(exc).__name__}: {exc}); its files may have been vacuumed: "
                f"copy the lake back from a backup (docs/operations.md)"
            ) from exc
        after = DeltaTable(str(lake.table_path(table))).version()
    return LakeRestored(
        table=table,
        restored=version,
        previous=previous,
        version=after,
        files_removed=int(metrics.get("numRemovedFile", 0)),
        files_restored=int(metrics.get("numRestoredFile", 0)),
        episodes_removed=episodes,
    )


def _episodes_taken_out(table: str, version: int, now: DeltaTable) -> tuple[int, ...]:
    """The episodes with rows in the files a restore to ``version`` takes out (those the
    table has now that ``version`` did not): for the tables whose work the database
    records per episode."""
    if table not in EPISODE_TABLES:
        return ()
    full, added = lake.fragments_added_since(table, version, at=now)
    if not added:
        return ()
    rows = ds.FileSystemDataset(added, full.schema, full.format, full.filesystem).to_table(
        columns=["episode_id"]
    )
    return tuple(sorted({e for e in rows.column("episode_id").to_pylist() if e is not None}))
