"""Full-text indexes over title + description_text of channels and episodes.

SQLite: external-content FTS5 tables kept in step by triggers.
PostgreSQL: GIN indexes on the same tsvector expression that catalog.search queries.
"""

from django.db import migrations

from podsight.catalog.search import PG_DOCUMENT

TABLES = ("catalog_channel", "catalog_episode")


def _sqlite_statements(table: str) -> list[str]:
    fts = f"{table}_fts"
    return [
        f"CREATE VIRTUAL TABLE {fts} USING fts5(title, description_text, content='{table}', "
        "content_rowid='id', tokenize='unicode61 remove_diacritics 2')",
        f"CREATE TRIGGER {fts}_ai AFTER INSERT ON {table} BEGIN "
        f"INSERT INTO {fts}(rowid, title, description_text) VALUES (new.id, new.title, new.description_text); END",
        f"CREATE TRIGGER {fts}_ad AFTER DELETE ON {table} BEGIN "
        f"INSERT INTO {fts}({fts}, rowid, title, description_text) "
        f"VALUES ('delete', old.id, old.title, old.description_text); END",
        f"CREATE TRIGGER {fts}_au AFTER UPDATE OF title, description_text ON {table} BEGIN "
        f"INSERT INTO {fts}({fts}, rowid, title, description_text) "
        f"VALUES ('delete', old.id, old.title, old.description_text); "
        f"INSERT INTO {fts}(rowid, title, description_text) VALUES (new.id, new.title, new.description_text); END",
        f"INSERT INTO {fts}({fts}) VALUES ('rebuild')",
    ]


def create(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for table in TABLES:
        if vendor == "sqlite":
            for sql in _sqlite_statements(table):
                schema_editor.execute(sql)
        elif vendor == "postgresql":
            schema_editor.execute(
                f"CREATE INDEX {table}_fts ON {table} USING GIN (({PG_DOCUMENT.format(p='')}))"
            )


def drop(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for table in TABLES:
        if vendor == "sqlite":
            for suffix in ("_ai", "_ad", "_au"):
                schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_fts{suffix}")
            schema_editor.execute(f"DROP TABLE IF EXISTS {table}_fts")
        elif vendor == "postgresql":
            schema_editor.execute(f"DROP INDEX IF EXISTS {table}_fts")


class Migration(migrations.Migration):
    dependencies = [("catalog", "0001_initial")]
    operations = [migrations.RunPython(create, drop)]
