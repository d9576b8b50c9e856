"""Benchmark: end-to-end analysis time per transcript hour, on the real transcripts.

Usage: ``.venv/bin/python bench/analysis.py [--seed-transcripts N] [--embedder int8|fp32]``

On a fresh ``PODSIGHT_HOME`` (SQLite, a temporary directory) one show per corpus folder
gets one episode per real transcript: the TWIML WebVTT files (Whisper, with times), the
Changelog Markdown transcripts (no times: measured at the chunker's 150 words a minute)
and the first ``N`` of the second seed's machine transcripts (plain text, default 20).
Each is parsed (``content.formats``) and stored (``content.transcripts.store_transcript``)
before the clock starts; then one ``content.analyze`` run does it all: passages and
embeddings, sponsor segments (with the show pass), keywords, topics, chapters, the search
index and the episode vectors. It prints the transcript hours, the run's seconds per
phase and in all, and seconds per transcript hour; then a second run (nothing changed:
the incremental path) and its seconds.

The embedder is the configured one (``PODSIGHT_EMBEDDER``, default int8) unless
``--embedder`` says otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

__all__ = ["main"]


def _corpus() -> Path:
    return Path(os.environ.get("PODSIGHT_TEST_DATA") or ROOT.parent / "shared" / "data")


def _documents(corpus: Path, seeds: int) -> dict[str, list[Path]]:
    seed_dir = corpus / "seeds/podcast-recommendation-platform/history/transcripts"
    return {
        "TWIML (WebVTT)": sorted((corpus / "transcripts/twiml_whisper").glob("*.vtt")),
        "Changelog (Markdown)": sorted((corpus / "transcripts/changelog").glob("*.md")),
        "seed machine transcripts (text)": sorted(seed_dir.glob("*.json"))[:seeds],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed-transcripts", type=int, default=20)
    parser.add_argument("--embedder", choices=["int8", "fp32"], default=None)
    args = parser.parse_args(argv)
    corpus = _corpus()
    if not corpus.is_dir():
        print(f"no corpus at {corpus}: set PODSIGHT_TEST_DATA", file=sys.stderr)
        return 2
    home = Path(tempfile.mkdtemp(prefix="podsight-bench-analysis-"))
    os.environ["PODSIGHT_HOME"] = str(home)
    os.environ.pop("DATABASE_URL", None)
    if args.embedder:
        os.environ["PODSIGHT_EMBEDDER"] = args.embedder

    from podsight.bootstrap import ensure_database

    ensure_database()
    from podsight.catalog.models import Channel, Episode
    from podsight.content.formats import parse_transcript
    from podsight.content.transcripts import store_transcript
    from podsight.pipeline import run_step

    count = 0
    for show, paths in _documents(corpus, args.seed_transcripts).items():
        channel = Channel.objects.create(title=show, language="en")
        for path in paths:
            raw = path.read_bytes()
            if path.suffix == ".json":  # the seed's: a JSON string of plain text, or bare text
                text = raw.decode("utf-8", "replace")
                try:
                    value = json.loads(text)
                except ValueError:
                    value = text
                text = value if isinstance(value, str) else text
                transcript = parse_transcript(text, format="text", language="en")
            else:
                transcript = parse_transcript(raw, url=path.name, language="en")
            episode = Episode.objects.create(channel=channel, title=path.stem, guid=path.name)
            store_transcript(episode.pk, transcript, source="rss", url=str(path), sha256=path.name)
            count += 1

    started = time.perf_counter()
    report = run_step("content.analyze")
    wall = time.perf_counter() - started
    again_started = time.perf_counter()
    again = run_step("content.analyze")
    again_wall = time.perf_counter() - again_started

    print(
        f"# analysis benchmark: {platform.machine()}, {os.cpu_count()} cores, "
        f"load {os.getloadavg()[0]:.1f}, Python {platform.python_version()}, {report.embedder}"
    )
    passages = report.passages_report
    print(
        f"{count} episodes, {report.analysed} analysed, {passages.passages if passages else 0} "
        f"passages, {report.transcript_hours:.2f} transcript hours"
    )
    print(f"{'phase':<10} {'seconds':>9} {'s/transcript h':>15} {'share':>7}")
    for name, seconds in report.timings.items():
        per_hour = seconds / report.transcript_hours if report.transcript_hours else 0.0
        print(f"{name:<10} {seconds:>9.2f} {per_hour:>15.1f} {seconds / wall:>6.0%}")
    print(
        f"{'total':<10} {wall:>9.2f} {wall / report.transcript_hours:>15.1f}   (wall, incl. "
        "database writes)"
    )
    print(
        f"sponsor segments {report.sponsor_segments} in {report.sponsored_episodes} episodes; "
        f"chapters auto {report.chapters_auto}, feed {report.chapters_feed}"
    )
    print(f"second run (nothing changed): {again.analysed} analysed in {again_wall:.2f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
