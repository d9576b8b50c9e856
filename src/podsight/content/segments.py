"""The shapes every part of the content app passes around: a transcript's segments and
the passages cut from them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

__all__ = ["Passage", "Segment", "Transcript"]


@dataclass(frozen=True, slots=True)
class Segment:
    """One cue or turn of a transcript. Times are seconds from the start of the episode;
    ``None`` where the document gives none (plain text, a JSON segment without
    ``endTime``). ``speaker`` is "" when unknown."""

    start_s: float | None
    end_s: float | None
    speaker: str
    text: str


@dataclass(slots=True)
class Transcript:
    """A parsed transcript document: its segments in order, the format it was read as
    (``vtt``, ``srt``, ``json``, ``html``, ``markdown``, ``text``, ``asr``), and what was
    recovered on the way (one human-readable line per problem)."""

    segments: list[Segment]
    format: str
    language: str = ""
    warnings: list[str] = field(default_factory=list)


@dataclass(slots=True)
class Passage:
    """A stretch of about 30-60 s of one episode's transcript, cut on sentence or speaker
    boundaries, or (``kind == "notes"``) the episode's title and show notes when it has no
    transcript. ``version`` is the transcript version it was cut from (0 for notes)."""

    episode_id: int
    version: int
    passage_no: int
    start_s: float | None
    end_s: float | None
    text: str
    speakers: tuple[str, ...] = ()
    kind: str = "transcript"  # "transcript" | "notes"
    vector: np.ndarray | None = None  # float32, unit length, EMBEDDING_DIM values
