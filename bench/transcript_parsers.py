"""podsight's transcript parsers against webvtt-py and srt, on the corpus and on broken
documents: which documents each reads, and how many cues (bench/README.md).

First podsight's own speed over every transcript of the corpus (``.venv/bin/python
bench/transcript_parsers.py`` is enough for that). webvtt-py and srt are not podsight
dependencies: for the comparison, install them into a scratch environment that can import
podsight (``pip install webvtt-py srt`` there) and run it from there.
"""

from __future__ import annotations

import io
import os
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path

from podsight.content.formats import parse_transcript

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("PODSIGHT_TEST_DATA") or ROOT.parent / "shared" / "data") / "transcripts"

BROKEN_VTT = {
    "BOM and CRLF": "\ufeffWEBVTT\r\n\r\n00:00.000 --> 00:01.000\r\nhi\r\n",
    "no WEBVTT header": "00:00:01.000 --> 00:00:02.000\nhi\n",
    "missing blank line": "WEBVTT\n\n00:01.000 --> 00:02.000\none\n00:02.000 --> 00:03.000\ntwo\n",
    "one bad timing": "WEBVTT\n\n00:xx.000 --> 00:01.000\nbad\n\n00:01.000 --> 00:02.000\ngood\n",
    "decimal commas": "WEBVTT\n\n00:00:01,000 --> 00:00:02,000\nhi\n",
    "ends before start": "WEBVTT\n\n00:03.000 --> 00:02.000\nback\n\n00:04.000 --> 00:05.000\nok\n",
}
BROKEN_SRT = {
    "missing blank line": (
        "1\n00:00:01,000 --> 00:00:02,000\none\n2\n00:00:02,000 --> 00:00:03,000\ntwo\n"
    ),
    "one bad timing": (
        "1\n00:00:0x,000 --> 00:00:01,000\nbad\n\n2\n00:00:01,000 --> 00:00:02,000\ngood\n"
    ),
    "no index": "00:00:01,000 --> 00:00:02,000\nhi\n",
    "dot decimals": "1\n00:00:01.000 --> 00:00:02.000\nhi\n",
    "BOM and CRLF": "\ufeff1\r\n00:00:01,000 --> 00:00:02,000\r\nhi\r\n",
}


def _webvtt(text: str) -> list[tuple]:
    import webvtt

    captions = webvtt.from_buffer(io.StringIO(text))
    return [(c.start_in_seconds, c.end_in_seconds, c.voice, c.text) for c in captions]


def _srt(text: str) -> list[tuple]:
    import srt

    return [(s.start.total_seconds(), s.end.total_seconds(), s.content) for s in srt.parse(text)]


def _ours(fmt: str) -> Callable[[str], list[tuple]]:
    def parse(text: str) -> list[tuple]:
        t = parse_transcript(text, format=fmt)
        return [(s.start_s, s.end_s, s.speaker, s.text) for s in t.segments]

    return parse


def _cues(parse: Callable[[str], list[tuple]], text: str) -> str:
    try:
        return f"{len(parse(text))} cues"
    except Exception as exc:  # noqa: BLE001 - what each library does is the measurement
        return f"refused ({type(exc).__name__})"


def throughput(reps: int = 5) -> None:
    """podsight's own parse speed over every corpus transcript and the second seed's."""
    seeds = DATA.parent / "seeds" / "podcast-recommendation-platform" / "history" / "transcripts"
    files = sorted(p for p in DATA.glob("*/*") if p.is_file()) + sorted(seeds.glob("*"))
    blobs = [(p.name, p.read_bytes()) for p in files]
    size = sum(len(b) for _n, b in blobs)
    best = float("inf")
    segments = 0
    for _ in range(reps):
        started = time.perf_counter()
        segments = sum(len(parse_transcript(b, url=n).segments) for n, b in blobs)
        best = min(best, time.perf_counter() - started)
    print(
        f"podsight: {len(blobs)} documents, {size / 1e6:.2f} MB, {segments} segments in "
        f"{best:.3f} s (best of {reps}): {size / 1e6 / best:.1f} MB/s, {segments / best:,.0f} "
        "segments/s"
    )


def main() -> None:
    throughput()
    try:
        import srt  # noqa: F401
        import webvtt  # noqa: F401
    except ImportError:
        sys.exit("for the comparison, install webvtt-py and srt (see the module docstring)")
    rows = []
    for suffix, library, theirs in (("vtt", "webvtt-py", _webvtt), ("srt", "srt", _srt)):
        for path in sorted(DATA.glob(f"*/*.{suffix}")):
            text = path.read_text("utf-8")
            source = len(re.findall(r"-->", text))
            rows.append(
                (path.name, source, library, _cues(theirs, text), _cues(_ours(suffix), text))
            )
    for cases, library, theirs, fmt in (
        (BROKEN_VTT, "webvtt-py", _webvtt, "vtt"),
        (BROKEN_SRT, "srt", _srt, "srt"),
    ):
        for name, text in cases.items():
            rows.append(
                (f"{fmt}: {name}", "", library, _cues(theirs, text), _cues(_ours(fmt), text))
            )
    print(f"{'document':45} {'cues':>5}  {'library':10} {'library read':28} podsight")
    for name, source, library, theirs_out, ours_out in rows:
        print(f"{name:45} {source!s:>5}  {library:10} {theirs_out:28} {ours_out}")
    edge = (DATA / "format_edge_cases" / "podcast_search__test_transcript.vtt").read_text("utf-8")
    print("webvtt-py times of the last edge-case cue:", _webvtt(edge)[-1][:2], "(01:02:09.001)")
    buzz = (DATA / "podcast-namespace" / "example.vtt").read_text("utf-8")
    print("webvtt-py text with an entity:", repr(_webvtt(buzz)[2][3]))


if __name__ == "__main__":
    main()
