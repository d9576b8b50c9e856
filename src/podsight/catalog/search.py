"""Full-text search over titles and descriptions: SQLite FTS5 or PostgreSQL tsvector.

The index definitions live in migration 0002 (FTS5 tables kept in step by
triggers on SQLite; GIN expression indexes on PostgreSQL). The expression below
must stay identical to the indexed one for PostgreSQL to use the index.
"""

from __future__ import annotations

import re

from django.db import connection
from django.db.models import QuerySet

__all__ = ["PG_DOCUMENT", "fulltext_filter", "fts5_query"]

# ``{p}`` is "" in the index definition and "<table>." in queries.
PG_DOCUMENT = (
    "to_tsvector('simple', coalesce({p}title, '') || ' ' || coalesce({p}description_text, ''))"
)

_WORD = re.compile(r"\w+", re.UNICODE)


def fts5_query(text: str) -> str:
    """User text → an FTS5 query: every word must match, the last one as a prefix."""
    words = _WORD.findall(text)
    if not words:
        return ""
    quoted = [f'"{w}"' for w in words]
    quoted[-1] += "*"
    return " ".join(quoted)


def fulltext_filter(queryset: QuerySet, text: str) -> QuerySet:
    table = queryset.model._meta.db_table
    if connection.vendor == "postgresql":
        document = PG_DOCUMENT.format(p=f"{table}.")
        return queryset.extra(
            where=[f"{document} @@ websearch_to_tsquery('simple', %s)"], params=[text]
        )
    query = fts5_query(text)
    if not query:
        return queryset.none()
    return queryset.extra(
        where=[f"{table}.id IN (SELECT rowid FROM {table}_fts WHERE {table}_fts MATCH %s)"],
        params=[query],
    )
