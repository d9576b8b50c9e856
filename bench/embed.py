"""Benchmark: passage embeddings, fp32 (sentence-transformers on PyTorch) vs int8 (ONNX).

Usage: ``.venv/bin/python bench/embed.py [--passages N] [--threads 2] [--rounds 2]``

Cuts the real transcripts of ``$PODSIGHT_TEST_DATA/transcripts`` (Changelog Markdown,
TWIML VTT, Buzzsprout SRT; default ``../shared/data``) into passages with
``content.passages.chunk_segments`` (what search embeds), takes the first ``N`` (default:
all), and embeds them with both implementations of ``content.embed``, each limited to
``threads`` threads (2: this machine's cores). It prints passages/s (best of ``rounds``,
interleaved, after a warm-up batch), the load average (other work on the machine slows
both), and the agreement between the two: the cosine between the fp32 and int8 vector of each
passage (min, 1st percentile, mean), and of the labelled search questions
(``bench/data/search_queries.json``). ``embed.py`` picks int8 by default when it agrees
to ≥ 0.99 and is faster (issue 17).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

__all__ = ["main", "real_passages"]

FILES = (
    "changelog/go-time-300.md",
    "changelog/js-party-300.md",
    "changelog/practical-ai-300.md",
    "changelog/ship-it-100.md",
    "changelog/the-changelog-600.md",
    "twiml_whisper/twiml_100.vtt",
    "twiml_whisper/twiml_500.vtt",
    "podcast-namespace/example.srt",
)


def real_passages(test_data: Path) -> list[str]:
    """The passage texts of the corpus transcripts, file by file."""
    from podsight.content.formats import parse_transcript
    from podsight.content.passages import chunk_segments

    texts = []
    for name in FILES:
        path = test_data / "transcripts" / name
        segments = parse_transcript(path.read_bytes(), url=name).segments
        texts.extend(p.text for p in chunk_segments(segments))
    return texts


def _rates(embedders: list, texts: list[str], rounds: int) -> list[tuple[float, np.ndarray]]:
    """Best passages/s of each embedder, rounds interleaved (int8, fp32, int8, …) so that
    a change in the machine's load during the run weighs on both alike."""
    for embedder in embedders:
        embedder.encode(texts[:32])  # warm-up: first-call allocations, lazy initialisation
    best = [float("inf")] * len(embedders)
    vectors: list[np.ndarray] = [np.zeros(0)] * len(embedders)
    for _ in range(rounds):
        for i, embedder in enumerate(embedders):
            started = time.perf_counter()
            vectors[i] = embedder.encode(texts)
            best[i] = min(best[i], time.perf_counter() - started)
    return [(len(texts) / b, v) for b, v in zip(best, vectors, strict=True)]


def _cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.sum(a * b, axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--passages", type=int, default=0, help="0: all")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args(argv)

    test_data = Path(
        os.environ.get("PODSIGHT_TEST_DATA") or ROOT.parent / "shared" / "data"
    ).resolve()
    texts = real_passages(test_data)
    if args.passages:
        texts = texts[: args.passages]
    questions = [
        q["question"]
        for q in json.loads((ROOT / "bench/data/search_queries.json").read_text())["queries"]
    ]
    import torch

    from podsight.content.embed import Fp32Embedder, Int8Embedder

    torch.set_num_threads(args.threads)
    words = sum(len(t.split()) for t in texts) / len(texts)
    print(
        f"# {len(texts)} passages of the corpus transcripts ({words:.0f} words on average), "
        f"{args.threads} threads, best of {args.rounds}; load before: {os.getloadavg()[0]:.1f}",
        flush=True,
    )
    int8 = Int8Embedder(threads=args.threads)
    fp32 = Fp32Embedder()
    (int8_rate, int8_vectors), (fp32_rate, fp32_vectors) = _rates([int8, fp32], texts, args.rounds)
    load_after = os.getloadavg()[0]
    agree = _cosines(int8_vectors, fp32_vectors)
    asked = _cosines(int8.encode(questions), fp32.encode(questions))
    print(f"# load after: {load_after:.1f}\n| embedder | passages/s |\n|---|---|")
    print(f"| {fp32.name} (sentence-transformers, torch {torch.__version__}) | {fp32_rate:.1f} |")
    print(f"| {int8.name} (onnxruntime) | {int8_rate:.1f} |")
    print(
        f"# int8 is {int8_rate / fp32_rate:.2f}x fp32. Cosine int8 vs fp32 over "
        f"{len(texts)} passages: min {agree.min():.4f}, 1st percentile "
        f"{np.percentile(agree, 1):.4f}, mean {agree.mean():.4f}; over {len(questions)} "
        f"questions: min {asked.min():.4f}, mean {asked.mean():.4f}"
    )
    verdict = agree.min() >= 0.99 and int8_rate > fp32_rate
    print(f"# default by the issue's rule (agreement >= 0.99 and faster): "
          f"{'int8' if verdict else 'fp32'}")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
