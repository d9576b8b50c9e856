"""The lake is one place: every Delta table is defined in lake_tables.py (read as
lake/tables.py) and written through lake/, and lake/ imports no app of podsight (the apps
import it)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pyarrow as pa

import podsight
from podsight.lake.tables import PODCASTINDEX_FEEDS, TABLES

SRC = Path(podsight.__file__).parent
LAKE = SRC / "lake"
# What lake/ may import of podsight: itself, the table definitions, the settings (where
# the lake lives) and the error root (its QualityError, NotFoundError...: infrastructure,
# no app).
ALLOWED = re.compile(r"^podsight\.(lake(\..+)?|lake_tables|conf|errors|locks)$")


def _podsight_imports(path: Path) -> set[str]:
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "podsight":
                out |= {f"podsight.{alias.name}" for alias in node.names}
            elif node.module.startswith("podsight."):
                out.add(node.module)
        elif isinstance(node, ast.Import):
            out |= {a.name for a in node.names if a.name.startswith("podsight.")}
    return out


def test_the_lake_imports_no_app():
    found = {
        f"{path.relative_to(SRC)}: {module}"
        for path in LAKE.rglob("*.py")
        for module in _podsight_imports(path)
        if not ALLOWED.match(module)
    }
    assert not found, sorted(found)


def test_the_table_definitions_need_only_pyarrow():
    # The Spark engine (spark_jobs/) imports lake_tables in a venv without Django, duckdb
    # or the rest of podsight's dependencies.
    tree = ast.parse((SRC / "lake_tables.py").read_text())
    imported = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    imported |= {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    assert imported <= {"__future__", "dataclasses", "pyarrow"}, imported


def test_delta_tables_are_written_only_through_the_lake():
    # delta-rs' writers; ``lake.merge(`` is the lake's own.
    writes = re.compile(r"write_deltalake|CommitProperties|(?<!lake)\.merge\(|\.create\(")
    found = []
    for path in SRC.rglob("*.py"):
        text = path.read_text()
        if LAKE in path.parents or "deltalake" not in text:
            continue
        for number, line in enumerate(text.splitlines(), 1):
            if writes.search(line):
                found.append(f"{path.relative_to(SRC)}:{number}: {line.strip()}")
    assert not found, found


def test_every_table_has_a_unique_name_and_its_partitions_and_key_in_its_schema():
    assert set(TABLES) == {
        "api_payloads",
        "source_metrics",
        "events",
        "engagement_daily",
        "podcastindex_feeds",
        "transcripts",
        "passages",
    }
    for name, table in TABLES.items():
        assert table.name == name
        assert set(table.partition_by) <= set(table.schema.names), name
        assert set(table.key) <= set(table.schema.names), name


def test_the_dump_columns_in_the_lake_are_typed_as_the_dump_declares_them():
    from podsight.sources.podcastindex.dump.layout import DUMP_COLUMNS, READ_COLUMNS

    declared = dict(DUMP_COLUMNS)
    names = PODCASTINDEX_FEEDS.schema.names
    assert names[: len(READ_COLUMNS)] == list(READ_COLUMNS)
    for column in READ_COLUMNS:
        # itunesId is declared INTEGER but holds "" and stray text: kept as text.
        text = declared[column] == "TEXT" or column == "itunesId"
        expected = pa.string() if text else pa.int64()
        assert PODCASTINDEX_FEEDS.schema.field(column).type == expected, column
