"""Delta tables in and out of Spark through delta-rs.

Spark's own Delta reader (delta-spark) needs jars that cannot be fetched here, so a
table is read as delta-rs lists its current files (``DeltaTable.file_uris()``, the log
already applied: removed files are not among them) with ``spark.read.parquet``, and
written back by delta-rs from Arrow (``write_deltalake``), with the lake schema the
local engine writes (:mod:`podsight.lake_tables`). Paths may be local or object-store
URIs (``s3://...``) with delta-rs ``storage_options`` (docs/scale-out.md).
"""

from __future__ import annotations

import pyarrow as pa
from deltalake import CommitProperties, DeltaTable, write_deltalake

from podsight.lake_tables import LakeTable
from podsight_spark.errors import JobError

__all__ = [
    "arrow_to_spark_schema",
    "read_table",
    "spark_uri",
    "table_version",
    "to_arrow",
    "write_table",
]


def _spark_type(t: pa.DataType):
    from pyspark.sql import types as T

    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return T.StringType()
    if pa.types.is_int64(t):
        return T.LongType()
    if pa.types.is_int32(t):
        return T.IntegerType()
    if pa.types.is_float64(t):
        return T.DoubleType()
    if pa.types.is_float32(t):
        return T.FloatType()
    if pa.types.is_boolean(t):
        return T.BooleanType()
    if pa.types.is_date32(t):
        return T.DateType()
    if pa.types.is_timestamp(t):
        return T.TimestampType() if t.tz else T.TimestampNTZType()
    if pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t):
        return T.ArrayType(_spark_type(t.value_type), True)
    raise TypeError(f"no Spark type for Arrow {t}")


def arrow_to_spark_schema(schema: pa.Schema):
    from pyspark.sql import types as T

    return T.StructType([T.StructField(f.name, _spark_type(f.type), True) for f in schema])


def _open(path: str, storage_options: dict[str, str] | None) -> DeltaTable | None:
    if not DeltaTable.is_deltatable(path, storage_options=storage_options):
        return None
    return DeltaTable(path, storage_options=storage_options)


def spark_uri(uri: str) -> str:
    """delta-rs names S3 objects ``s3://``; Hadoop's S3 connector is ``s3a://``."""
    return "s3a://" + uri[len("s3://"):] if uri.startswith("s3://") else uri


def table_version(path: str, storage_options: dict[str, str] | None = None) -> int | None:
    dt = _open(path, storage_options)
    return None if dt is None else dt.version()


def read_table(
    spark,
    path: str,
    table: LakeTable,
    *,
    storage_options: dict[str, str] | None = None,
    required: bool = True,
):
    """The table's current rows as a DataFrame with ``table``'s columns and types; an
    empty one when the table has no files (or, ``required=False``, does not exist)."""
    from pyspark.sql import functions as F

    dt = _open(path, storage_options)
    if dt is None:
        if required:
            raise JobError(f"no Delta table {table.name!r} at {path}: write it first")
        uris: list[str] = []
    else:
        uris = dt.file_uris()
    schema = arrow_to_spark_schema(table.schema)
    if not uris:
        return spark.createDataFrame([], schema)
    # basePath: partition columns (date=2026-12-01/) come back from the file paths.
    df = spark.read.option("basePath", spark_uri(dt.table_uri)).parquet(*map(spark_uri, uris))
    missing = [f.name for f in schema if f.name not in df.columns]
    if missing:
        raise JobError(
            f"the Delta table at {path} has no column(s) {', '.join(missing)}: it is not "
            f"podsight's {table.name!r} table (podsight.lake_tables)"
        )
    return df.select([F.col(f.name).cast(f.dataType).alias(f.name) for f in schema])


def to_arrow(df, table: LakeTable) -> pa.Table:
    """The DataFrame as Arrow with exactly ``table``'s schema (column order and types)."""
    got = df.select(table.schema.names).toArrow()
    return got.cast(table.schema)


def write_table(
    path: str,
    rows: pa.Table,
    table: LakeTable,
    *,
    mode: str = "overwrite",
    storage_options: dict[str, str] | None = None,
    metadata: dict[str, str] | None = None,
) -> int:
    """Write ``rows`` as the local engine does (``podsight.lake``: partitioned by the
    table's columns; ``merge`` matches on its key, replacing matched rows) and return
    the table's new version."""
    rows = rows.select(table.schema.names).cast(table.schema)
    commit = CommitProperties(custom_metadata=metadata) if metadata else None
    existing = _open(path, storage_options)
    if mode == "merge" and existing is not None:
        if not table.key:
            raise JobError(f"{table.name} has no key to merge on; write it with mode overwrite")
        predicate = " AND ".join(f"t.{k} = s.{k}" for k in table.key)
        (
            existing.merge(
                rows,
                predicate=predicate,
                source_alias="s",
                target_alias="t",
                commit_properties=commit,
            )
            .when_matched_update_all()
            .when_not_matched_insert_all()
            .execute()
        )
    elif mode in ("merge", "overwrite"):
        write_deltalake(
            path,
            rows,
            mode="overwrite" if existing is not None else "append",
            partition_by=list(table.partition_by) or None,
            storage_options=storage_options,
            commit_properties=commit,
        )
    else:
        raise JobError(f"write mode must be overwrite or merge, not {mode!r}")
    version = table_version(path, storage_options)
    assert version is not None
    return version
