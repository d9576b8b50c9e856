"""The two embedders agree: int8 ONNX (the default) against the original fp32 model, on
real transcript passages (bench/embed.py measures the whole corpus and the speed)."""

from __future__ import annotations

import numpy as np
import pytest

from podsight.content.embed import EMBEDDING_DIM, embedder_name, get_embedder
from podsight.content.formats import parse_transcript
from podsight.content.passages import chunk_segments
from podsight.errors import ConfigurationError


def test_int8_and_fp32_agree_on_real_passages(test_data):
    pytest.importorskip("sentence_transformers", reason="the torch extra (make venv-ml)")
    path = test_data / "transcripts" / "twiml_whisper" / "twiml_500.vtt"
    texts = [p.text for p in chunk_segments(parse_transcript(path.read_bytes()).segments)][:24]
    texts.append("how do sparse mixture of experts models route tokens")  # a query
    int8 = get_embedder("int8").encode(texts)
    fp32 = get_embedder("fp32").encode(texts)
    for vectors in (int8, fp32):
        assert vectors.shape == (len(texts), EMBEDDING_DIM) and vectors.dtype == np.float32
        np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    cosines = np.sum(int8 * fp32, axis=1)
    assert cosines.min() >= 0.99, cosines.min()  # the bar for the int8 export


def test_the_embedder_setting(monkeypatch):
    monkeypatch.delenv("PODSIGHT_EMBEDDER", raising=False)
    assert embedder_name() == "int8"
    monkeypatch.setenv("PODSIGHT_EMBEDDER", "bf16")
    with pytest.raises(ConfigurationError, match="PODSIGHT_EMBEDDER"):
        embedder_name()
