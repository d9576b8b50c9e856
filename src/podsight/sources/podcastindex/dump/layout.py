"""The dump file: the ``podcasts`` table's columns (:data:`DUMP_COLUMNS`), the columns
the import reads (:data:`READ_COLUMNS`), and opening a file checked to be that layout."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from podsight.errors import InputError

__all__ = [
    "DUMP_COLUMNS",
    "DUMP_SCHEMA",
    "DumpFormatError",
    "READ_COLUMNS",
    "dump_uri",
    "open_dump",
]

# The ``podcasts`` table of the public dump, in column order, with declared types.
DUMP_COLUMNS: tuple[tuple[str, str], ...] = (
    ("id", "INTEGER"),
    ("url", "TEXT"),
    ("title", "TEXT"),
    ("lastUpdate", "INTEGER"),
    ("link", "TEXT"),
    ("lastHttpStatus", "INTEGER"),
    ("dead", "INTEGER"),
    ("contentType", "TEXT"),
    ("itunesId", "INTEGER"),
    ("originalUrl", "TEXT"),
    ("itunesAuthor", "TEXT"),
    ("itunesOwnerName", "TEXT"),
    ("explicit", "INTEGER"),
    ("imageUrl", "TEXT"),
    ("itunesType", "TEXT"),
    ("generator", "TEXT"),
    ("newestItemPubdate", "INTEGER"),
    ("language", "TEXT"),
    ("oldestItemPubdate", "INTEGER"),
    ("episodeCount", "INTEGER"),
    ("popularityScore", "INTEGER"),
    ("priority", "INTEGER"),
    ("createdOn", "INTEGER"),
    ("updateFrequency", "INTEGER"),
    ("chash", "TEXT"),
    ("host", "TEXT"),
    ("newestEnclosureUrl", "TEXT"),
    ("podcastGuid", "TEXT"),
    ("description", "TEXT"),
    *((f"category{i}", "TEXT") for i in range(1, 11)),
    ("newestEnclosureDuration", "INTEGER"),
)
# Same columns, order and declared types as the public dump; constraints are left out so
# generated samples can hold NULLs anywhere, as the importer must tolerate.
DUMP_SCHEMA = (
    "CREATE TABLE podcasts (\n"
    + ",\n".join(
        f"  {name} {kind}{' PRIMARY KEY' if name == 'id' else ''}" for name, kind in DUMP_COLUMNS
    )
    + "\n)"
)
# Columns read. Crawler bookkeeping that changes without the feed changing (lastUpdate,
# priority, updateFrequency, chash) and host (part of the URL) are not.
READ_COLUMNS = (
    "id url title link lastHttpStatus dead contentType itunesId originalUrl itunesAuthor "
    "itunesOwnerName explicit imageUrl itunesType generator newestItemPubdate language "
    "oldestItemPubdate episodeCount popularityScore createdOn newestEnclosureUrl podcastGuid "
    "description category1 category2 category3 category4 category5 category6 category7 "
    "category8 category9 category10 newestEnclosureDuration"
).split()


class DumpFormatError(InputError, ValueError):
    """The file is not a Podcast Index dump (no ``podcasts`` table or columns missing)."""


def dump_uri(path: Path) -> str:
    return path.resolve().as_uri() + "?mode=ro"


def open_dump(path: Path) -> sqlite3.Connection:
    try:
        source = sqlite3.connect(dump_uri(path), uri=True)
        info = {r[1]: r for r in source.execute("PRAGMA table_info(podcasts)")}
        columns = set(info)
    except sqlite3.DatabaseError as exc:
        raise DumpFormatError(f"{path} is not a readable SQLite database ({exc})") from exc
    if not columns:
        source.close()
        raise DumpFormatError(f"{path} has no 'podcasts' table: not a Podcast Index dump")
    missing = [c for c in READ_COLUMNS if c not in columns]
    if missing:
        source.close()
        raise DumpFormatError(
            f"{path}: table 'podcasts' lacks column(s) {', '.join(missing)}; "
            "not the Podcast Index dump layout"
        )
    if not info["id"][5] or str(info["id"][2]).upper() != "INTEGER":
        source.close()  # rows are paged by id: it must be the table's integer key
        raise DumpFormatError(f"{path}: podcasts.id is not the INTEGER PRIMARY KEY")
    return source
