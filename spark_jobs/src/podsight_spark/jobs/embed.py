"""``content.embed``: passage embeddings through ``mapInPandas``, with the local engine's
own embedder (:mod:`podsight.content.embed`: all-MiniLM-L6-v2, int8 ONNX by default, or
fp32 on PyTorch where that venv has it), loaded once per Python worker.

Input: a Delta table (read through delta-rs) or Parquet file(s) with a text column.
Output: the input's rows with ``embedder`` and ``vector`` (384 float32, unit length) set,
written as a Delta table (``output_format=delta``, replacing it) or one Parquet file. When
the input has the ``passages`` table's columns the output has exactly its schema
(:mod:`podsight.lake_tables`), so it can be merged into the lake as it is.
"""

from __future__ import annotations

import os
from typing import Any

import pyarrow as pa

from podsight.lake_tables import EMBEDDING_DIM, PASSAGES, LakeTable
from podsight_spark import delta
from podsight_spark.errors import JobError
from podsight_spark.jobs._common import STORAGE_OPTIONS
from podsight_spark.registry import Param, job

_EMBEDDERS = ("int8", "fp32")
_loaded: dict[str, Any] = {}


def _embedder(name: str, threads: int):
    """The embedder, loaded once per Python worker process (Spark reuses workers)."""
    if name not in _loaded:
        from podsight.content.embed import EMBEDDERS

        cls = EMBEDDERS[name]
        # One ONNX thread per task: Spark already runs one task per core.
        _loaded[name] = cls(threads=threads) if name == "int8" else cls()
    return _loaded[name]


def _read_input(spark, path: str, storage_options):
    from deltalake import DeltaTable

    local = "://" not in path
    if local and not os.path.exists(path):
        raise JobError(f"content.embed: no input at {path} (a Delta table or Parquet file(s))")
    # delta-rs fails on a file path (it walks <path>/_delta_log): only a directory or an
    # object-store prefix can be a table.
    if (not local or os.path.isdir(path)) and DeltaTable.is_deltatable(
        path, storage_options=storage_options
    ):
        dt = DeltaTable(path, storage_options=storage_options)
        uris = dt.file_uris()
        if not uris:
            return None
        return spark.read.option("basePath", delta.spark_uri(dt.table_uri)).parquet(
            *map(delta.spark_uri, uris)
        )
    return spark.read.parquet(delta.spark_uri(path))


def embed_frame(df, *, text_column: str, embedder: str, threads: int):
    """``df`` with ``embedder`` and ``vector`` columns (replacing any there)."""
    from pyspark.sql import types as T

    keep = [c for c in df.columns if c not in ("embedder", "vector")]
    df = df.select(keep)
    schema = T.StructType(
        list(df.schema.fields)
        + [
            T.StructField("embedder", T.StringType(), False),
            T.StructField("vector", T.ArrayType(T.FloatType(), False), False),
        ]
    )

    def encode(batches):
        model = _embedder(embedder, threads)
        for frame in batches:
            texts = frame[text_column].fillna("").astype(str).tolist()
            vectors = model.encode(texts) if texts else []
            frame = frame.copy()
            frame["embedder"] = model.name
            frame["vector"] = list(vectors)
            yield frame

    return df.mapInPandas(encode, schema)


def _output_schema(columns: list[str], got: pa.Schema) -> tuple[pa.Schema, LakeTable | None]:
    if set(PASSAGES.schema.names) <= set(columns) | {"embedder", "vector"}:
        return PASSAGES.schema, PASSAGES
    fields = [got.field(c) for c in columns if c not in ("embedder", "vector")]
    fields += [
        pa.field("embedder", pa.string()),
        pa.field("vector", pa.list_(pa.float32(), EMBEDDING_DIM)),
    ]
    return pa.schema(fields), None


@job(
    "content.embed",
    params={
        "input": Param(str, help="passages: a Delta table or Parquet file(s) with a text column"),
        "output": Param(str, help="where the embedded rows go (Delta table or Parquet file)"),
        "output_format": Param(str, "delta", "delta (overwrite) or parquet (one file)",
                               choices=("delta", "parquet")),
        "text_column": Param(str, "text", "the column to embed"),
        "embedder": Param(str, None, "int8 or fp32 (default: PODSIGHT_EMBEDDER, else int8)",
                          choices=_EMBEDDERS),
        "threads": Param(int, 1, "ONNX threads per Spark task"),
        "storage_options": STORAGE_OPTIONS,
    },
)
def embed(
    spark,
    *,
    input: str,  # noqa: A002 - the job's parameter name
    output: str,
    output_format: str,
    text_column: str,
    embedder: str | None,
    threads: int,
    storage_options: dict[str, str] | None,
) -> dict[str, Any]:
    """Passage embeddings with the local engine's model, through mapInPandas."""
    from podsight.content.embed import embedder_name
    from podsight.errors import PodsightError

    try:
        name = embedder or embedder_name()
    except PodsightError as exc:
        raise JobError(f"content.embed: {exc}") from None
    df = _read_input(spark, input, storage_options)
    if df is None:
        raise JobError(f"content.embed: the Delta table at {input} has no rows")
    if text_column not in df.columns:
        raise JobError(
            f"content.embed: the input has no column {text_column!r} (it has "
            f"{', '.join(df.columns)}); set text_column"
        )
    embedded = embed_frame(df, text_column=text_column, embedder=name, threads=threads)
    rows = embedded.toArrow()
    schema, table = _output_schema(df.columns, rows.schema)
    rows = rows.select(schema.names).cast(schema)
    if output_format == "parquet":
        import pyarrow.parquet as pq
        from pyarrow import fs

        filesystem, where = fs.FileSystem.from_uri(output if "://" in output
                                                   else os.path.abspath(output))
        parent = where.rsplit("/", 1)[0]
        if parent:
            filesystem.create_dir(parent, recursive=True)
        pq.write_table(rows, where, filesystem=filesystem)
        version = None
    elif table is not None:
        version = delta.write_table(output, rows, table, storage_options=storage_options)
    else:
        from deltalake import write_deltalake

        write_deltalake(output, rows, mode="overwrite", storage_options=storage_options)
        version = delta.table_version(output, storage_options)
    return {
        "rows_written": rows.num_rows,
        "embedder": _embedder_label(name),
        "output": output,
        "table_version": version,
    }


def _embedder_label(name: str) -> str:
    from podsight.content.embed import EMBEDDERS

    return EMBEDDERS[name].name
