"""Telling "the database is busy, try again" apart from other database errors.

SQLite answers ``database is locked`` when another process held the write lock past the
busy timeout; PostgreSQL cancels a statement for a lock timeout, a serialisation failure
or a deadlock, or refuses a connection when all are taken. None of these is a bug: the
same request succeeds later. The API answers them with 503 and ``Retry-After``
(:mod:`podsight.api.errors`), ingestion records them as the feed's failure.
"""

from __future__ import annotations

from django.db import OperationalError

__all__ = ["RETRY_AFTER_S", "is_database_busy"]

# What a client is told to wait; longer than one ingest chunk holds SQLite's write lock.
RETRY_AFTER_S = 5

# sqlite3 result codes (primary code in the low byte): SQLITE_BUSY, SQLITE_LOCKED.
_SQLITE_BUSY = {5, 6}
# PostgreSQL SQLSTATEs: lock_not_available, serialization_failure, deadlock_detected.
_PG_BUSY = {"55P03", "40001", "40P01"}
# All connection slots taken: psycopg refuses the connection before any statement, with
# no SQLSTATE attached, so the server's message is what tells it apart.
_PG_FULL = ("too many clients already", "remaining connection slots are reserved")


def is_database_busy(exc: BaseException) -> bool:
    """Whether ``exc`` (a Django or driver exception) means the database is busy."""
    for candidate in (exc, exc.__cause__):
        if candidate is None:
            continue
        code = getattr(candidate, "sqlite_errorcode", None)
        if isinstance(code, int) and code & 0xFF in _SQLITE_BUSY:
            return True
        if getattr(candidate, "sqlstate", None) in _PG_BUSY:
            return True
    if isinstance(exc, OperationalError):
        text = str(exc).lower()
        return any(m in text for m in _PG_FULL)
    return False
