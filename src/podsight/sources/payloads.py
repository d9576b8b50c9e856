"""Raw API responses, kept so normalisation and matching can be replayed offline.

Lake table ``api_payloads`` (:data:`~podsight.lake.tables.API_PAYLOADS`, partitioned by
source): one row per fresh response a connector received (answers served from the HTTP
cache are already stored). The URL is stored with secrets redacted; request headers are
not stored.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator

import pyarrow as pa

from podsight import lake
from podsight.lake.tables import API_PAYLOADS
from podsight.sources.http import Payload

__all__ = ["iter_payloads", "payload_count", "record_payloads"]


def record_payloads(payloads: Iterable[Payload]) -> int:
    rows = list(payloads)
    if not rows:
        return 0
    table = pa.table(
        {
            "source": [p.source for p in rows],
            "endpoint": [p.endpoint for p in rows],
            "params": [json.dumps(p.params, sort_keys=True, default=str) for p in rows],
            "url": [p.url for p in rows],
            "status": [p.status for p in rows],
            "fetched_at": [p.fetched_at for p in rows],
            "body": [p.body for p in rows],
        },
        schema=API_PAYLOADS.schema,
    )
    lake.append(API_PAYLOADS, table)
    return len(rows)


def payload_count(source: str | None = None) -> int:
    if not lake.exists(API_PAYLOADS):
        return 0
    where, params = ("WHERE source = ?", [source]) if source else ("", [])
    return int(
        lake.query(f"SELECT count(*) AS n FROM p {where}", params, p=API_PAYLOADS)["n"][0].as_py()
    )


def iter_payloads(source: str | None = None, *, batch_rows: int = 500) -> Iterator[Payload]:
    """Stored payloads oldest first (so replay ends with the newest state), streamed."""
    if not lake.exists(API_PAYLOADS):
        return
    import duckdb
    from deltalake import DeltaTable

    con = duckdb.connect()
    try:
        con.register("p", DeltaTable(str(lake.table_path(API_PAYLOADS))).to_pyarrow_dataset())
        where, params = ("WHERE source = ?", [source]) if source else ("", [])
        reader = con.sql(
            "SELECT source, endpoint, params, url, status, fetched_at, body FROM p "
            f"{where} ORDER BY fetched_at, source, endpoint",
            params=params or None,
        ).to_arrow_reader(batch_rows)
        for batch in reader:
            for row in batch.to_pylist():
                yield Payload(
                    source=row["source"],
                    endpoint=row["endpoint"],
                    params=json.loads(row["params"]),
                    url=row["url"],
                    status=row["status"],
                    fetched_at=row["fetched_at"],
                    body=row["body"],
                )
    finally:
        con.close()
