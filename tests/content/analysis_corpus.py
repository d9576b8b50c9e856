"""Real transcripts of the shared corpus as passages, for the analysis tests.

The seed's machine transcripts are plain text (a JSON string, or the bare text) without
times; the TWIML WebVTT files have times. Passages here are cut the way the chunker does
it, roughly (about 130 words, about 45 s of speech, on sentence ends), so the analysis
modules are tested on real text without depending on the chunker's exact cuts.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path

from podsight.content.segments import Passage

__all__ = [
    "SEED_TRANSCRIPTS",
    "changelog_text",
    "seed_names",
    "seed_text",
    "text_passages",
    "timed_passages",
    "vtt_cues",
]

SEED_TRANSCRIPTS = Path("seeds/podcast-recommendation-platform/history/transcripts")
_SENTENCE = re.compile(r"(?<=[.?!])\s+")
_CUE = re.compile(r"(\d+:)?(\d+):(\d+\.\d+) --> (\d+:)?(\d+):(\d+\.\d+)")


def seed_text(test_data: Path, name: str) -> str:
    raw = (test_data / SEED_TRANSCRIPTS / name).read_text(encoding="utf-8")
    try:
        value = json.loads(raw)
    except json.JSONDecodeError:  # some files are the bare text
        return raw
    return value if isinstance(value, str) else raw


def seed_names(test_data: Path) -> list[str]:
    return sorted(p.name for p in (test_data / SEED_TRANSCRIPTS).glob("*.json"))


def text_passages(episode_id: int, text: str, *, words: int = 130) -> list[Passage]:
    """Untimed passages of about ``words`` words, ending on a sentence end."""
    out: list[Passage] = []
    current: list[str] = []
    count = 0
    for sentence in _SENTENCE.split(" ".join(text.split())):
        current.append(sentence)
        count += len(sentence.split())
        if count >= words:
            out.append(Passage(episode_id, 1, len(out), None, None, " ".join(current)))
            current, count = [], 0
    if current:
        out.append(Passage(episode_id, 1, len(out), None, None, " ".join(current)))
    return out


def _seconds(hours: str | None, minutes: str, seconds: str) -> float:
    return int((hours or "0:")[:-1]) * 3600 + int(minutes) * 60 + float(seconds)


def vtt_cues(path: Path) -> list[tuple[float, float, str]]:
    cues: list[tuple[float, float, str]] = []
    lines = path.read_text(encoding="utf-8").splitlines()
    for i, line in enumerate(lines):
        if (m := _CUE.match(line.strip())) is not None:
            text = []
            for follow in lines[i + 1 :]:
                if not follow.strip():
                    break
                text.append(follow.strip())
            start = _seconds(m.group(1), m.group(2), m.group(3))
            end = _seconds(m.group(4), m.group(5), m.group(6))
            cues.append((start, end, " ".join(text)))
    return cues


def timed_passages(episode_id: int, path: Path, *, seconds: float = 45.0) -> list[Passage]:
    """Passages of about ``seconds`` from a WebVTT file, cut at cue ends after a sentence end."""
    out: list[Passage] = []
    current: list[tuple[float, float, str]] = []
    for cue in vtt_cues(path):
        current.append(cue)
        long_enough = cue[1] - current[0][0] >= seconds
        if long_enough and (
            cue[2].rstrip().endswith((".", "?", "!")) or cue[1] - current[0][0] >= 60
        ):
            text = " ".join(c[2] for c in current)
            out.append(Passage(episode_id, 1, len(out), current[0][0], cue[1], text))
            current = []
    if current:
        text = " ".join(c[2] for c in current)
        out.append(Passage(episode_id, 1, len(out), current[0][0], current[-1][1], text))
    return out


@cache
def changelog_text(path: Path) -> str:
    """A Changelog Markdown transcript as plain text: speaker labels and escapes dropped."""
    text = path.read_text(encoding="utf-8")
    text = re.sub(r"\*\*[^*]+:\*\*", " ", text)
    text = re.sub(r"\\\[[^\]]*\\\]|\*\*Break\*\*:?", " ", text)
    return text
