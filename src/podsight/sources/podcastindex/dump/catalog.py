"""Writing the catalog's few rows (Django): dump rows sharing a strong key with a record in
a canonical channel become or refresh ``podcastindex`` source records linked to it."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from podsight.sources.keys import KEY_LABELS, KEY_ORDER
from podsight.sources.podcastindex.dump.layout import READ_COLUMNS
from podsight.sources.podcastindex.dump.report import DumpImportReport
from podsight.sources.podcastindex.dump.rows import Batch, Prepared, prepare_rows
from podsight.sources.podcastindex.normalize import SOURCE

__all__ = ["CatalogWriter", "Linker", "PRELOAD_KEYS", "store_catalog_rows"]

# Up to this many keys of already-linked records are held in memory for linking; past it
# each batch asks the database instead.
PRELOAD_KEYS = 300_000


# Lake column holding each key kind's value (as channel_keys spells it, once cast to text).
_KEY_COLUMNS = {
    "podcast_guid": "guid_key",
    "podcastindex_id": "id",
    "itunes_id": "itunes_key",
    "feed_url": "feed_key",
}


class Linker:
    """Finds, for a row's keys, a record that already has a canonical channel."""

    def __init__(self, connection: Any) -> None:
        self.connection = connection
        self.preloaded: dict[tuple[str, str], tuple[int | None, str, str, int]] | None = None
        self.survivors: dict[int, int | None] = {}
        self.known_ids: pa.Array | None = None  # podcastindex records the catalog holds
        self._values: dict[str, pa.Array] = {}
        self._values_size = -1
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM sources_sourcekey k JOIN sources_sourcechannel r "
                "ON r.id = k.record_id WHERE r.channel_id IS NOT NULL"
            )
            count = cursor.fetchone()[0]
            cursor.execute("SELECT count(*) FROM sources_sourcechannel WHERE source = %s", [SOURCE])
            known = cursor.fetchone()[0]
        if count <= PRELOAD_KEYS:
            self.preloaded = {}
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT k.kind, k.value, r.id, r.source, r.external_id, r.channel_id "
                    "FROM sources_sourcekey k JOIN sources_sourcechannel r "
                    "ON r.id = k.record_id WHERE r.channel_id IS NOT NULL ORDER BY r.id"
                )
                for kind, value, record_id, source, external_id, channel_id in cursor:
                    self.preloaded.setdefault(
                        (kind, value), (record_id, source, external_id, channel_id)
                    )
        if known <= PRELOAD_KEYS:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT external_id FROM sources_sourcechannel WHERE source = %s", [SOURCE]
                )
                self.known_ids = pa.array([row[0] for row in cursor], pa.string())

    @staticmethod
    def _values_by_kind(found: dict[tuple[str, str], Any]) -> dict[str, pa.Array]:
        values: dict[str, list[str]] = {kind: [] for kind in _KEY_COLUMNS}
        for kind, value in found:
            if kind in values:
                values[kind].append(value)
        return {kind: pa.array(v, pa.string()) for kind, v in values.items()}

    def candidates(self, rows: pa.Table, writer: CatalogWriter) -> pa.Array:
        """Rows the catalog cares about: sharing a key with a linked record, or known."""
        columns = {
            kind: pc.cast(rows.column(column), pa.string()) for kind, column in _KEY_COLUMNS.items()
        }
        if self.preloaded is not None:
            if len(self.preloaded) != self._values_size:  # links made since: their keys too
                self._values = self._values_by_kind(self.preloaded)
                self._values_size = len(self.preloaded)
            values = self._values
        else:
            wanted = {
                (kind, value)
                for kind, column in columns.items()
                for value in column.to_pylist()
                if value
            }
            values = self._values_by_kind(self.batch_map(wanted))
        mask = pa.array([False] * rows.num_rows)
        for kind, column in columns.items():
            if len(values[kind]):
                hit = pc.fill_null(pc.is_in(column, value_set=values[kind]), False)
                mask = pc.or_(mask, hit)
        ids = columns["podcastindex_id"]
        known = self.known_ids
        if known is None:
            known = pa.array(list(writer.existing(ids.to_pylist())), pa.string())
        if len(known):
            mask = pc.or_(mask, pc.is_in(ids, value_set=known))
        return mask

    def batch_map(
        self, wanted: set[tuple[str, str]]
    ) -> dict[tuple[str, str], tuple[int | None, str, str, int]]:
        if self.preloaded is not None:
            return self.preloaded
        found: dict[tuple[str, str], tuple[int | None, str, str, int]] = {}
        by_kind: dict[str, list[str]] = {}
        for kind, value in wanted:
            by_kind.setdefault(kind, []).append(value)
        with self.connection.cursor() as cursor:
            for kind, values in by_kind.items():
                cursor.execute(
                    "SELECT k.value, r.id, r.source, r.external_id, r.channel_id "
                    "FROM sources_sourcekey k JOIN sources_sourcechannel r "
                    f"ON r.id = k.record_id WHERE k.kind = %s AND k.value {_in(self.connection)} "
                    "AND r.channel_id IS NOT NULL ORDER BY r.id",
                    [kind, _in_param(self.connection, values)],
                )
                for value, record_id, source, external_id, channel_id in cursor.fetchall():
                    found.setdefault((kind, value), (record_id, source, external_id, channel_id))
        return found

    def survivor(self, channel_id: int) -> int | None:
        """The channel a merged-away channel now lives on."""
        if channel_id in self.survivors:
            return self.survivors[channel_id]
        from podsight.catalog.models import Channel

        seen: set[int] = set()
        current: int | None = channel_id
        while current is not None and current not in seen:
            seen.add(current)
            rows = list(Channel.objects.filter(pk=current).values_list("merged_into_id", flat=True))
            if not rows:  # deleted meanwhile: nothing to join
                current = None
            elif rows[0] is None:
                break
            else:
                current = rows[0]
        self.survivors[channel_id] = current
        return current


def _in(connection: Any) -> str:
    if connection.vendor == "sqlite":
        return "IN (SELECT value FROM json_each(%s))"
    return "= ANY(%s)"


def _in_param(connection: Any, values: list[str]) -> Any:
    return json.dumps(values) if connection.vendor == "sqlite" else list(values)


class CatalogWriter:
    def __init__(self, connection: Any, now: datetime) -> None:
        self.connection = connection
        self.vendor = connection.vendor
        self.now = connection.ops.adapt_datetimefield_value(now)
        data = "CAST(%s AS jsonb)" if self.vendor == "postgresql" else "%s"
        self.insert_sql = (
            "INSERT INTO sources_sourcechannel (source, external_id, url, data, content_hash, "
            "fetched_at, first_seen_at, link_method, link_confidence, link_explanation, "
            f"linked_at, channel_id) VALUES (%s, %s, %s, {data}, %s, %s, %s, %s, %s, %s, %s, %s) "
            "ON CONFLICT (source, external_id) DO UPDATE SET url = excluded.url, "
            "data = excluded.data, content_hash = excluded.content_hash, "
            "fetched_at = excluded.fetched_at, vanished_at = NULL"
        )
        self.update_sql = (
            f"UPDATE sources_sourcechannel SET url = %s, data = {data}, content_hash = %s, "
            "fetched_at = %s, vanished_at = NULL WHERE id = %s"
        )
        self.link_sql = (
            "UPDATE sources_sourcechannel SET channel_id = %s, link_method = %s, "
            "link_confidence = %s, link_explanation = %s, linked_at = %s "
            "WHERE id = %s AND channel_id IS NULL"
        )
        self.key_sql = (
            "INSERT INTO sources_sourcekey (kind, value, record_id) VALUES (%s, %s, %s) "
            "ON CONFLICT DO NOTHING"
        )

    def executemany(self, sql: str, rows: list[Sequence[Any]]) -> None:
        if not rows:
            return
        if self.vendor == "sqlite":
            # The DB-API connection directly: Django's wrapper costs ~2 µs a row here.
            self.connection.connection.executemany(sql.replace("%s", "?"), rows)
        else:
            with self.connection.cursor() as cursor:
                cursor.executemany(sql, rows)

    def fetch(self, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        with self.connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()

    def existing(self, external_ids: list[str]) -> dict[str, tuple[int, str, int | None, bool]]:
        if not external_ids:
            return {}
        rows = self.fetch(
            "SELECT external_id, id, content_hash, channel_id, vanished_at "
            f"FROM sources_sourcechannel WHERE source = %s AND external_id {_in(self.connection)}",
            [SOURCE, _in_param(self.connection, external_ids)],
        )
        return {row[0]: (row[1], row[2], row[3], row[4] is not None) for row in rows}

    def ids_of(self, external_ids: list[str]) -> dict[str, int]:
        if not external_ids:
            return {}
        rows = self.fetch(
            "SELECT external_id, id FROM sources_sourcechannel "
            f"WHERE source = %s AND external_id {_in(self.connection)}",
            [SOURCE, _in_param(self.connection, external_ids)],
        )
        return dict(rows)

    def delete_keys(self, record_ids: list[int]) -> None:
        if not record_ids:
            return
        with self.connection.cursor() as cursor:
            if self.vendor == "sqlite":
                cursor.execute(
                    "DELETE FROM sources_sourcekey WHERE record_id IN "
                    "(SELECT value FROM json_each(%s))",
                    [json.dumps(record_ids)],
                )
            else:
                cursor.execute(
                    "DELETE FROM sources_sourcekey WHERE record_id = ANY(%s)", [record_ids]
                )


def _store_batch(
    batch: Batch, writer: CatalogWriter, linker: Linker, report: DumpImportReport
) -> set[int]:
    """Write the catalog's rows of one batch (inside the caller's transaction).

    Rows the catalog holds are refreshed when their content changed; unlinked ones and
    new rows are linked when they share a key with a linked record; new rows that link
    to nothing are not written (they are in the lake). Returns the channels touched.
    """
    existing = writer.existing([row[0] for row in batch.rows])
    new_rows: list[Prepared] = []
    changed: list[tuple[Prepared, int]] = []
    unlinked: dict[str, int | None] = {}  # external id → record id (None: new)
    for row in batch.rows:
        known = existing.get(row[0])
        if known is None:
            new_rows.append(row)
            unlinked[row[0]] = None
            continue
        pk, digest, channel_id, vanished = known
        if digest != row[3] or vanished:
            changed.append((row, pk))
        if channel_id is None:
            unlinked[row[0]] = pk

    links = _find_links(batch, unlinked, linker) if unlinked else {}
    new_rows = [row for row in new_rows if row[0] in links]
    touched_channels: set[int] = set()
    link_method, confidence, now = "key", 1.0, writer.now

    writer.executemany(
        writer.insert_sql,
        [
            (SOURCE, ext, url, blob, digest, now, now, *_link_fields(links.get(ext), now))
            for ext, url, blob, digest, _keys in new_rows
        ],
    )
    writer.executemany(
        writer.update_sql,
        [(url, blob, digest, now, pk) for (_e, url, blob, digest, _k), pk in changed],
    )
    linked_existing = [
        (channel, link_method, confidence, why, now, unlinked[ext])
        for ext, (channel, why) in links.items()
        if unlinked.get(ext) is not None
    ]
    writer.executemany(writer.link_sql, linked_existing)

    new_ids = writer.ids_of([row[0] for row in new_rows])
    writer.delete_keys([pk for _row, pk in changed])
    key_rows = [(k, v, new_ids[row[0]]) for row in new_rows for k, v in row[4]]
    key_rows += [(k, v, pk) for row, pk in changed for k, v in row[4]]
    writer.executemany(writer.key_sql, key_rows)

    touched_channels.update(channel for channel, _why in links.values())
    for row, _pk in changed:
        channel_id = existing[row[0]][2]
        if channel_id is not None:
            touched_channels.add(channel_id)

    report.linked += len(links)
    report.refreshed += len(changed)
    return touched_channels


def _link_fields(link: tuple[int, str] | None, now: Any) -> tuple[Any, ...]:
    if link is None:
        return ("", None, "", None, None)
    channel, why = link
    return ("key", 1.0, why, now, channel)


def _find_links(
    batch: Batch, unlinked: dict[str, int | None], linker: Linker
) -> dict[str, tuple[int, str]]:
    """External id → (channel id, explanation) for unlinked rows sharing a key."""
    candidates = [row for row in batch.rows if row[0] in unlinked]
    wanted = {key for row in candidates for key in row[4]}
    known = linker.batch_map(wanted)
    links: dict[str, tuple[int, str]] = {}
    for external_id, _url, _blob, _digest, keys in candidates:
        own = unlinked[external_id]
        for kind in KEY_ORDER:
            hit = None
            for key_kind, value in keys:
                if key_kind != kind:
                    continue
                found = known.get((kind, value))
                if found is None:
                    continue
                itself = (own is not None and found[0] == own) or (
                    found[1] == SOURCE and found[2] == external_id
                )
                if not itself:
                    hit = (value, found)
                    break
            if hit is None:
                continue
            value, (_record, source, other, channel_id) = hit
            channel = linker.survivor(channel_id)
            if channel is None:
                continue
            why = f"shares {KEY_LABELS[kind]} {value} with {source}:{other}"
            links[external_id] = (channel, why)
            # Later rows sharing a key with this one join the same channel.
            for key in keys:
                known.setdefault(key, (own, SOURCE, external_id, channel))
            break
    return links


def _refresh_channels(channel_ids: set[int]) -> None:
    if not channel_ids:
        return
    from podsight.catalog.models import Channel
    from podsight.catalog.services import apply_channel_values

    for channel in Channel.objects.filter(pk__in=channel_ids).prefetch_related("source_records"):
        apply_channel_values(channel, list(channel.source_records.all()))


def store_catalog_rows(
    rows: pa.Table,
    writer: CatalogWriter,
    linker: Linker,
    report: DumpImportReport,
    transaction: Any,
) -> None:
    """Write the rows of one batch the catalog cares about, one transaction."""
    done = pa.array([False] * rows.num_rows)
    with transaction.atomic():
        touched: set[int] = set()
        # Rows that link make their keys linked: rows sharing one of those (another feed
        # with the same iTunes id, say) join in the next round.
        while True:
            candidates = pc.and_(linker.candidates(rows, writer), pc.invert(done))
            if not pc.any(candidates).as_py():
                break
            batch = prepare_rows(_row_tuples(rows.filter(candidates)))
            touched |= _store_batch(batch, writer, linker, report)
            done = pc.or_(done, candidates)
        _refresh_channels(touched)


def _row_tuples(rows: pa.Table) -> list[tuple[Any, ...]]:
    """Rows as tuples in :data:`READ_COLUMNS` order, for :func:`prepare_row`."""
    columns = [rows.column(name).to_pylist() for name in READ_COLUMNS]
    return list(zip(*columns, strict=True))
