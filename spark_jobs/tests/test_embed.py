"""content.embed: the local engine's embedder through mapInPandas, rows kept, vectors equal."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from deltalake import DeltaTable, write_deltalake
from podsight_spark import registry
from podsight_spark.errors import JobError

from podsight.content.embed import Int8Embedder
from podsight.lake_tables import EMBEDDING_DIM, PASSAGES

TEXTS = [
    "The history of the Roman empire and its fall.",
    "How to bake sourdough bread at home with a starter.",
    "Interest rates, inflation and what central banks do next.",
    "",
    "A long conversation about neural networks and language models, "
    "going through attention, transformers and how they are trained. " * 8,
]


def _passages() -> pa.Table:
    n = len(TEXTS)
    at = datetime(2026, 1, 1, tzinfo=UTC)
    return pa.table({
        "episode_id": list(range(1, n + 1)), "version": [1] * n, "passage_no": list(range(n)),
        "kind": ["transcript"] * n, "start_s": [0.0] * n, "end_s": [30.0] * n,
        "speakers": [["A"]] * n, "text": TEXTS, "embedder": [None] * n,
        "vector": [None] * n, "created_at": [at] * n,
    }, schema=PASSAGES.schema)


def test_embed_a_passages_table_into_the_lake_schema(spark, tmp_path):
    src = str(tmp_path / "passages_in")
    write_deltalake(src, _passages())
    out = str(tmp_path / "passages_out")
    result = registry.run("content.embed", {"input": src, "output": out, "embedder": "int8"},
                          spark=spark)
    assert result["rows_written"] == len(TEXTS)
    assert result["embedder"] == "all-MiniLM-L6-v2/int8" and result["table_version"] == 0
    # The Delta schema of a passages table the local engine writes (delta-rs stores
    # large_string as string and a fixed-size list as a list).
    reference = str(tmp_path / "reference")
    write_deltalake(reference, PASSAGES.schema.empty_table())
    assert DeltaTable(out).schema().to_json() == DeltaTable(reference).schema().to_json()
    table = DeltaTable(out).to_pyarrow_table()
    table = table.sort_by("passage_no")
    vectors = np.array(table.column("vector").to_pylist(), dtype=np.float32)
    assert vectors.shape == (len(TEXTS), EMBEDDING_DIM)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    # The local engine's embedder on the same texts: the same vectors (batches of other
    # shapes pad differently: float noise only).
    local = Int8Embedder(threads=1).encode(TEXTS)
    np.testing.assert_allclose(vectors, local, atol=1e-5)
    assert table.column("text").to_pylist() == TEXTS
    assert set(table.column("embedder").to_pylist()) == {"all-MiniLM-L6-v2/int8"}


def test_embed_any_parquet_with_a_text_column(spark, tmp_path):
    src = tmp_path / "in.parquet"
    pq.write_table(pa.table({"id": [7, 8], "body": TEXTS[:2]}), src)
    out = tmp_path / "out" / "vectors.parquet"
    result = registry.run("content.embed", {
        "input": str(src), "output": str(out), "output_format": "parquet",
        "text_column": "body"}, spark=spark)
    assert result["rows_written"] == 2 and result["table_version"] is None
    table = pq.read_table(out).sort_by("id")
    assert table.column_names == ["id", "body", "embedder", "vector"]
    assert table.schema.field("vector").type == pa.list_(pa.float32(), EMBEDDING_DIM)
    np.testing.assert_allclose(np.array(table.column("vector").to_pylist()),
                               Int8Embedder(threads=1).encode(TEXTS[:2]), atol=1e-5)


def test_embed_says_what_is_wrong(spark, tmp_path):
    with pytest.raises(JobError, match="no input at"):
        registry.run("content.embed", {"input": str(tmp_path / "nope"), "output": "x"},
                     spark=spark)
    src = tmp_path / "in.parquet"
    pq.write_table(pa.table({"id": [1]}), src)
    with pytest.raises(JobError, match="no column 'text'.*set text_column"):
        registry.run("content.embed", {"input": str(src), "output": "x"}, spark=spark)
