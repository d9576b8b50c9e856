"""Every real transcript of the shared corpus parses, with the segments its source holds.

Counts and times are taken from the files independently of the parser: cues by their
``-->`` lines, SRT speakers by their ``Name:`` lines, HTML paragraphs by ``<p>``, Markdown
paragraphs by blank lines and its ``\\[mm:ss\\]`` stamps, plain text by its lines.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from podsight.content.formats import parse_timestamp, parse_transcript, to_srt, to_vtt

TIMING = re.compile(r"^\s*(\S+)\s*-->\s*(\S+)", re.M)


def _cue_times(text: str) -> list[tuple[float, float]]:
    out = []
    for start, end in TIMING.findall(text):
        out.append((_seconds(start), _seconds(end)))
    return out


def _seconds(stamp: str) -> float:
    parts = [float(p) for p in stamp.replace(",", ".").split(":")]
    while len(parts) < 3:
        parts.insert(0, 0.0)
    return round(parts[0] * 3600 + parts[1] * 60 + parts[2], 3)


def _files(root: Path, pattern: str) -> list[Path]:
    found = sorted(root.glob(pattern))
    assert found, f"nothing matches {pattern} under {root}"
    return found


@pytest.fixture(scope="module")
def transcripts(test_data: Path) -> Path:
    return test_data / "transcripts"


@pytest.mark.parametrize("suffix", ["vtt", "srt"])
def test_every_cue_file_parses_to_its_cues(transcripts: Path, suffix: str) -> None:
    for path in _files(transcripts, f"*/*.{suffix}"):
        text = path.read_text("utf-8")
        cues = _cue_times(text)
        parsed = parse_transcript(path.read_bytes(), url=path.name)
        assert parsed.format == suffix, path.name
        assert parsed.warnings == [], (path.name, parsed.warnings)
        assert len(parsed.segments) == len(cues), path.name
        got = [(s.start_s, s.end_s) for s in parsed.segments]
        assert got == cues, path.name  # every time, so first and last too
        assert all(s.text for s in parsed.segments)


def test_vtt_edge_cases(transcripts: Path) -> None:
    parsed = parse_transcript(
        (transcripts / "format_edge_cases" / "podcast_search__test_transcript.vtt").read_bytes()
    )
    assert [(s.speaker, s.text) for s in parsed.segments] == [
        ("", "Text line 1"),
        ("Speaker1", "Text line 2"),
        ("Speaker2", "Text line 3"),
        ("Speaker3", "Text line 4"),  # <v.loud Speaker3>
        ("", "Text line 5"),  # <c.yellow...> stripped, cue settings ignored
        ("", "Multi Line 1 Multi Line 2"),
    ]
    assert parsed.segments[3].start_s == 65.0  # 01:05.000, no hours
    assert parsed.segments[-1].start_s == 3729.001


def test_buzzsprout_vtt_voices_and_entities(transcripts: Path) -> None:
    parsed = parse_transcript((transcripts / "podcast-namespace" / "example.vtt").read_bytes())
    speakers = [s.speaker for s in parsed.segments]
    assert speakers == ["Sarah"] * 5 + ["Gillian"] * 2
    assert "Podcasting Q&A" in parsed.segments[2].text  # &amp; decoded


def test_buzzsprout_srt_speakers_match_its_html(transcripts: Path) -> None:
    folder = transcripts / "podcast-namespace"
    srt_text = (folder / "example.srt").read_text("utf-8")
    html_text = (folder / "example.html").read_text("utf-8")
    srt = parse_transcript(srt_text, url="example.srt")
    html = parse_transcript(html_text, url="example.html")
    # Speaker turns: "Name:" lines in the SRT, <cite> in the HTML (the same episode).
    labels = re.findall(r"^([A-Z][a-z]+): ", srt_text, re.M)
    cites = re.findall(r"<cite>([^<:]+):</cite>", html_text)
    assert labels == cites and len(labels) == 10
    turns = [
        s.speaker
        for i, s in enumerate(srt.segments)
        if i == 0 or s.speaker != srt.segments[i - 1].speaker
    ]
    assert turns == labels
    assert not any(re.match(r"[A-Z][a-z]+: ", s.text) for s in srt.segments)
    assert [s.speaker for s in html.segments] == cites
    times = [parse_timestamp(t) for t in re.findall(r"<time>([^<]+)</time>", html_text)]
    assert [s.start_s for s in html.segments] == times
    assert html.segments[1].start_s == 53.0 and html.segments[0].text.startswith("When you first")
    assert "it's" in html.segments[0].text  # &#39; decoded
    # Both hold the same words.
    words = lambda segs: re.sub(r"\W+", " ", " ".join(s.text for s in segs)).split()  # noqa: E731
    assert len(words(srt.segments)) == pytest.approx(len(words(html.segments)), rel=0.02)


@pytest.mark.parametrize(
    "name",
    [
        "example.json",
        "podcast_search__test_transcript.json",
        "podcast_search__test_transcript_speaker_no_end.json",
    ],
)
def test_json_segments(transcripts: Path, name: str) -> None:
    path = next(transcripts.glob(f"*/{name}"))
    source = json.loads(path.read_text("utf-8"))["segments"]
    parsed = parse_transcript(path.read_bytes(), media_type="application/json")
    assert parsed.format == "json"
    assert len(parsed.segments) == len(source)
    for i, (seg, raw) in enumerate(zip(parsed.segments, source, strict=True)):
        assert seg.start_s == raw["startTime"]
        assert seg.text == raw["body"]
        assert seg.speaker == raw.get("speaker", "")
        if "endTime" in raw:
            assert seg.end_s == raw["endTime"]
        elif i + 1 < len(source):
            assert seg.end_s == source[i + 1]["startTime"]  # inferred from the next start
        else:
            assert seg.end_s is None  # nothing says when the last one ends


def test_whisper_text_lines_are_the_vtt_cues(transcripts: Path) -> None:
    for path in _files(transcripts, "twiml_whisper/*.txt"):
        lines = [line.strip() for line in path.read_text("utf-8").splitlines() if line.strip()]
        parsed = parse_transcript(path.read_bytes(), url=path.name)
        assert parsed.format == "text"
        assert [s.text for s in parsed.segments] == [" ".join(line.split()) for line in lines]
        vtt = parse_transcript(path.with_suffix(".vtt").read_bytes())
        assert [s.text for s in parsed.segments] == [s.text for s in vtt.segments]
        assert all(s.start_s is None and s.end_s is None for s in parsed.segments)


# \[12:34\] or \[01:02:03.45\], Changelog's escaped timestamps.
MD_TIME = re.compile(r"\\\[(\d+:\d{2}(?::\d{2})?(?:\.\d+)?)\\\]")


def test_changelog_markdown(transcripts: Path) -> None:
    for path in _files(transcripts, "changelog/*.md"):
        text = path.read_text("utf-8")
        paragraphs = [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()]
        # A paragraph holding only a stamp is when the next one starts, not a segment.
        paragraphs = [p for p in paragraphs if not MD_TIME.fullmatch(p)]
        # A stamp with words on both sides splits its paragraph in two.
        splits = 0
        for p in paragraphs:
            body = re.sub(r"^\*\*[^*]+(?::\*\*|\*\*:)\s*", "", p)
            for m in MD_TIME.finditer(body):
                if body[: m.start()].strip() and body[m.end() :].strip():
                    splits += 1
        parsed = parse_transcript(path.read_bytes(), url=path.name)
        assert parsed.format == "markdown", path.name
        assert len(parsed.segments) == len(paragraphs) + splits, path.name
        stamps = [parse_timestamp(t) for t in MD_TIME.findall(text)]
        starts = [s.start_s for s in parsed.segments if s.start_s is not None]
        assert starts == stamps, path.name  # every stamp, in order: first and last too
        # "**Break**: \[23:37\]", "**Song:** \[06:29\]": markers, not speakers.
        marker = re.compile(r"^\*\*(\w+)(?::\*\*|\*\*:) *\\\[[\d:.]+\\\]$", re.M)
        markers = marker.findall(text)
        names = set(re.findall(r"^\*\*([^*]+?):\*\* ", marker.sub("", text), re.M))
        assert {s.speaker for s in parsed.segments} - {""} == names, path.name
        assert parsed.segments[0].speaker  # the first paragraph names its speaker
        assert [s.text for s in parsed.segments if not s.speaker] == [f"[{m}]" for m in markers]
        assert not any("\\[" in s.text or "**" in s.text for s in parsed.segments)


def test_second_seed_machine_transcripts(test_data: Path) -> None:
    folder = test_data / "seeds" / "podcast-recommendation-platform" / "history" / "transcripts"
    paths = _files(folder, "*")
    assert len(paths) == 67
    for path in paths:
        raw = path.read_bytes()
        if path.suffix == ".txt":  # one is a text file: the same kind of text, not in JSON
            parsed = parse_transcript(raw, url=path.name)
            pieces = [p for p in re.split(r"\s{2,}", raw.decode("utf-8").strip()) if p]
            assert len(parsed.segments) == len(pieces)
            continue
        parsed = parse_transcript(raw, url=path.name, media_type="application/json")
        assert parsed.format == "text", path.name
        try:
            text = json.loads(raw)
        except ValueError:
            # Some are served as .json but hold diarised text: "Speaker A: ...\n\n".
            text = raw.decode("utf-8")
            turns = [p for p in re.split(r"\n\s*\n", text.strip()) if p.strip()]
            assert len(parsed.segments) == len(turns), path.name
            assert [s.speaker for s in parsed.segments] == [
                re.match(r"(Speaker \w+):", t).group(1) for t in turns
            ], path.name
            assert parsed.warnings, path.name  # said that it is not JSON
            continue
        assert isinstance(text, str)
        # Whisper joins its segments with a space before each: double spaces are the cuts.
        pieces = [p for p in re.split(r"\s{2,}", text.strip()) if p.strip()]
        assert len(parsed.segments) == len(pieces), path.name
        assert parsed.segments[0].text == " ".join(pieces[0].split())
        assert parsed.segments[-1].text == " ".join(pieces[-1].split())
        assert " ".join(s.text for s in parsed.segments) == " ".join(text.split())


@pytest.mark.parametrize("suffix", ["vtt", "srt"])
def test_real_cue_files_survive_export(transcripts: Path, suffix: str) -> None:
    for path in _files(transcripts, f"*/*.{suffix}"):
        parsed = parse_transcript(path.read_bytes(), url=path.name)
        again = parse_transcript(to_vtt(parsed), format="vtt")
        assert again.segments == parsed.segments, path.name
        again = parse_transcript(to_srt(parsed), format="srt")
        assert [(s.start_s, s.end_s) for s in again.segments] == [
            (s.start_s, s.end_s) for s in parsed.segments
        ]
        if len({bool(s.speaker) for s in parsed.segments}) == 1:
            assert again.segments == parsed.segments, path.name
        else:
            # SRT cannot say "no speaker" after a named one: names carry on (docs/content.md).
            assert all(
                a.text.endswith(p.text)
                for a, p in zip(again.segments, parsed.segments, strict=True)
            )
