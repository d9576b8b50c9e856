"""``import_dump``: the import run, in three threads (reader, this one, lake writer);
see the package docstring."""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa

from podsight.progress import SILENT, Progress
from podsight.sources.podcastindex.dump.catalog import CatalogWriter, Linker, store_catalog_rows
from podsight.sources.podcastindex.dump.checkpoint import (
    checkpoint_path,
    forget_other_versions,
    read_checkpoint,
    write_checkpoint,
)
from podsight.sources.podcastindex.dump.lake_writer import LakeIndex, LakeWriter
from podsight.sources.podcastindex.dump.layout import open_dump
from podsight.sources.podcastindex.dump.reader import Prefetch, derive, read_arrow
from podsight.sources.podcastindex.dump.report import DumpImportReport

__all__ = ["import_dump"]

log = logging.getLogger(__name__)

_MAX_EXAMPLES = 20


def import_dump(
    path: Path,
    *,
    batch_size: int = 25_000,
    progress: Progress = SILENT,
    resume: bool = True,
) -> DumpImportReport:
    """Import the Podcast Index dump at ``path``; see the package docstring. The caller
    renders the report (the CLI prints it); it is logged here."""
    import duckdb
    from django.db import connection, transaction

    from podsight.directory.index import LakeIndexer

    path = Path(path)
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    if not path.is_file():
        raise FileNotFoundError(f"no dump at {path}")
    started = time.perf_counter()
    now = datetime.now(UTC)
    report = DumpImportReport(path=str(path))
    checkpoint = checkpoint_path(path)
    forget_other_versions(path, checkpoint)
    after_id = 0
    if resume:
        resumed = read_checkpoint(checkpoint, path)
        if resumed is not None:
            after_id = report.resumed_from = resumed
    source = open_dump(path)
    try:
        max_id = source.execute("SELECT max(id) FROM podcasts").fetchone()[0] or 0
    finally:
        source.close()

    index = LakeIndex()
    linker = Linker(connection)
    writer = CatalogWriter(connection, now)
    duck = duckdb.connect()

    def stored(last_id: int) -> None:  # runs in the lake writer's thread
        report.last_id = last_id
        write_checkpoint(checkpoint, path, last_id, report)

    # The directory index first catches up with the lake (or is built, for a lake imported
    # before it existed); then it takes each batch the lake writer stores.
    try:
        directory = LakeIndexer(progress=progress)
    except BaseException:
        duck.close()
        raise
    report.index_action = directory.sync.action
    reader = Prefetch(read_arrow(path, after_id, batch_size))
    lake_writer = LakeWriter(stored, directory.upsert)
    failed = True
    try:
        # Counted in percent of the ids: ids have gaps, so "n of max id" would mislead.
        with progress.task("podcastindex dump %", total=100) as bar:
            bar.update(completed=_percent(after_id, max_id))
            for table in reader:
                rows, skips = derive(table, duck, now)
                new, changed, unchanged = index.split(rows)
                store_catalog_rows(rows, writer, linker, report, transaction)
                last_id = table.column("id")[-1].as_py()
                lake_writer.put(new, changed, last_id)
                report.batches += 1
                report.rows_read += table.num_rows
                report.new += new.num_rows
                report.updated += changed.num_rows
                report.unchanged += unchanged
                _count_skips(report, skips)
                elapsed = time.perf_counter() - started
                bar.update(
                    completed=_percent(last_id, max_id),
                    item=f"{report.rows_read:,} rows · "
                    f"{report.rows_read / elapsed if elapsed else 0:,.0f} rows/s",
                )
            lake_writer.finish()
        failed = False
        report.finished = True
        checkpoint.unlink(missing_ok=True)
    finally:
        reader.close()
        try:
            if failed:
                try:  # batches already handed over are in the catalog: store them too
                    lake_writer.finish()
                except RuntimeError:
                    pass
        finally:
            report.indexed = directory.written
            # Commits what the index took: every row of it is in the lake already.
            directory.close()
            duck.close()
        report.elapsed_s = time.perf_counter() - started
    log.info(
        "podcastindex dump %s: %d rows in %.1f s, new %d, updated %d, unchanged %d, "
        "linked %d, refreshed %d, skipped %d",
        path,
        report.rows_read,
        report.elapsed_s,
        report.new,
        report.updated,
        report.unchanged,
        report.linked,
        report.refreshed,
        report.skipped,
    )
    return report


def _percent(done_id: int, max_id: int) -> int:
    return 100 * min(done_id, max_id) // max(max_id, 1)


def _count_skips(report: DumpImportReport, skips: pa.Table) -> None:
    if not skips.num_rows:
        return
    report.skipped += skips.num_rows
    for feed_id, reason in zip(
        skips.column("id").to_pylist(), skips.column("reason").to_pylist(), strict=True
    ):
        report.skip_reasons[reason] += 1
        if len(report.skipped_examples) < _MAX_EXAMPLES:
            report.skipped_examples.append((feed_id, reason))
