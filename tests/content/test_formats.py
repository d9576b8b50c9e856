"""Transcript formats: detection, recovery from broken documents, exports that read back,
and parsers that never crash on arbitrary input (hypothesis)."""

from __future__ import annotations

import json
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from podsight.content.formats import (
    TranscriptFormatError,
    detect_format,
    format_timestamp,
    parse_timestamp,
    parse_transcript,
    primary_language,
    to_srt,
    to_txt,
    to_vtt,
)
from podsight.content.segments import Segment, Transcript
from podsight.errors import InputError

VTT = "WEBVTT\n\n00:00:01.000 --> 00:00:02.500\n<v Ann>Hello &amp; welcome\n\n"


# --- detection ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("media_type", "url", "expected"),
    [
        ("text/vtt", None, "vtt"),
        ("application/x-subrip", None, "srt"),
        ("application/json; charset=utf-8", "https://x.test/a.srt", "json"),
        ("text/html", None, "html"),
        (None, "https://x.test/t/episode.srt?sig=1", "srt"),
        ("application/octet-stream", "https://x.test/a.vtt", "vtt"),
        ("text/plain", "https://x.test/a.md", "markdown"),
        ("text/plain", None, "text"),
        (None, "https://x.test/transcript", "text"),
    ],
)
def test_format_from_type_then_extension(media_type, url, expected) -> None:
    assert detect_format("Some words.", media_type=media_type, url=url) == (expected, [])


@pytest.mark.parametrize(
    ("doc", "expected"),
    [
        (VTT, "vtt"),
        ("1\n00:00:01,000 --> 00:00:02,000\nhi\n", "srt"),
        ("00:01.000 --> 00:02.000\nhi\n", "vtt"),
        ('{"version": "1.0.0", "segments": []}', "json"),
        ("<cite>A:</cite><time>0:01</time><p>hi</p>", "html"),
        ("**Ann:** Hello.\n\n**Bo:** Hi.", "markdown"),
        ("[Music] Hello there.", "text"),
    ],
)
def test_format_from_content(doc: str, expected: str) -> None:
    assert detect_format(doc) == (expected, [])


def test_content_that_plainly_is_another_format_wins_with_a_warning() -> None:
    parsed = parse_transcript(VTT, media_type="text/plain", url="https://x.test/a.txt")
    assert parsed.format == "vtt"
    assert parsed.segments == [Segment(1.0, 2.5, "Ann", "Hello & welcome")]
    parsed = parse_transcript(VTT, media_type="application/x-subrip")
    assert parsed.format == "vtt" and "content is vtt" in parsed.warnings[0]


# --- VTT ----------------------------------------------------------------------------------


def test_vtt_recovers_a_broken_document() -> None:
    doc = (
        "\ufeffWEBVTT - a title\r\n\r\n"
        "STYLE\r\n::cue { color: red }\r\n\r\n"
        "intro\r\n00:00.000 --> 00:01.000 line:0 position:10%\r\n<v.loud Bo Li>One <b>two</b>\r\n"
        "00:01,000 --> 00:02,000\r\n<c.x>Three</c> <00:01.500>four\r\n\r\n"  # no blank line
        "00:03.000 --> 00:02.000\r\nends before it starts\r\n\r\n"
        "00:99.000 --> 01:00.000\r\nno such second\r\n\r\n"
        "NOTE a comment\r\nspanning lines\r\n\r\n"
        "3\r\n00:04.000 --> 00:05.000\r\n&lt;laughs&gt; &nbsp;five\r\n"
    )
    parsed = parse_transcript(doc.encode("utf-8"))
    assert parsed.format == "vtt"
    assert parsed.segments == [
        Segment(0.0, 1.0, "Bo Li", "One two"),
        Segment(1.0, 2.0, "", "Three four"),
        Segment(4.0, 5.0, "", "<laughs> five"),
    ]
    text = " ".join(parsed.warnings)
    assert "no blank line" in text and "ends before it starts" in text
    assert "cannot read the cue timing" in text and "decimal commas" in text


def test_vtt_without_header_is_read_with_a_warning() -> None:
    parsed = parse_transcript("00:00:01.000 --> 00:00:02.000\nhi\n", format="vtt")
    assert parsed.segments == [Segment(1.0, 2.0, "", "hi")]
    assert parsed.warnings == ["no WEBVTT header; read as WebVTT anyway"]


def test_a_cue_right_under_the_header_or_a_note() -> None:
    doc = "WEBVTT\n00:01.000 --> 00:02.000\nfirst\n\nNOTE x\n00:02.000 --> 00:03.000\nsecond\n"
    parsed = parse_transcript(doc)
    assert [s.text for s in parsed.segments] == ["first", "second"]
    assert len(parsed.warnings) == 2


def test_two_voices_in_one_cue() -> None:
    parsed = parse_transcript("WEBVTT\n\n00:01.000 --> 00:02.000\n<v A>yes</v> <v B>no\n")
    assert parsed.segments == [Segment(1.0, 2.0, "A", "yes B: no")]


@pytest.mark.parametrize(
    "doc",
    [
        "WEBVTT\n\nNOTE only a note\n",
        "WEBVTT\n\n00:xx.000 --> 00:01.000\ntext\n",
        "   \n\n",
        b"\x00\x01\x02binary",
        "1\n00:00:01,000 --> 00:00:00,500\nends first\n",
    ],
)
def test_unreadable_documents_raise_an_input_error(doc) -> None:
    with pytest.raises(TranscriptFormatError) as caught:
        parse_transcript(doc, format="srt" if isinstance(doc, str) and doc[:1] == "1" else None)
    assert isinstance(caught.value, InputError)
    assert str(caught.value)


@pytest.mark.parametrize(
    ("doc", "fmt"),
    [
        (b"[" * 100_000, None),
        (b'{"segments": ' + b"[" * 100_000, None),
        (b"[" * 100_000 + b"]" * 100_000, "json"),
    ],
)
def test_json_nested_past_the_stack_is_an_input_error(doc: bytes, fmt: str | None) -> None:
    # json.loads raises RecursionError on these, which no caller expects from a parser.
    with pytest.raises(TranscriptFormatError, match="nested too deeply"):
        parse_transcript(doc, format=fmt, media_type="application/json" if fmt else None)


# --- SRT ----------------------------------------------------------------------------------


def test_srt_speakers_carry_until_the_next_name() -> None:
    doc = (
        "1\n00:00:00,179 --> 00:00:02,399\nTravis: When you first get\nstarted\n\n"
        "2\n00:00:02,400 --> 00:00:04,799\n<i>almost</i> guaranteed\n\n"
        "3\n00:00:05,000 --> 00:00:06,000\nSarah: Creating good audio\n\n"
    )
    parsed = parse_transcript(doc)
    assert parsed.format == "srt"
    assert parsed.segments == [
        Segment(0.179, 2.399, "Travis", "When you first get started"),
        Segment(2.4, 4.799, "Travis", "almost guaranteed"),
        Segment(5.0, 6.0, "Sarah", "Creating good audio"),
    ]


def test_a_lone_colon_is_not_a_speaker() -> None:
    doc = (
        "1\n00:00:01,000 --> 00:00:02,000\nwelcome back\n\n"
        "2\n00:00:02,000 --> 00:00:03,000\nNote: this is text\n\n"
    )
    assert [s.speaker for s in parse_transcript(doc).segments] == ["", ""]


def test_an_opening_word_with_a_colon_is_not_a_speaker() -> None:
    srt = (
        "1\n00:00:01,000 --> 00:00:02,000\nToday: we talk about cats\n\n"
        "2\n00:00:02,000 --> 00:00:03,000\nand why they purr\n\n"
        "3\n00:00:03,000 --> 00:00:04,000\nall day long\n\n"
    )
    parsed = parse_transcript(srt)
    assert [s.speaker for s in parsed.segments] == ["", "", ""]
    assert parsed.segments[0].text == "Today: we talk about cats"
    text = parse_transcript("Today: we talk about cats\n\nwhy they purr\n\nand sleep")
    assert [s.speaker for s in text.segments] == ["", "", ""]
    # A name that comes back is a speaker, and so is a one-paragraph document's.
    again = parse_transcript("Ann: one\n\ntwo\n\nthree\n\nAnn: four")
    assert [s.speaker for s in again.segments] == ["Ann"] * 4
    assert parse_transcript("Speaker A: all of it").segments[0].speaker == "Speaker A"
    solo = parse_transcript("Lucas Santos: one\n\ntwo\n\nthree")  # a host named once
    assert [s.speaker for s in solo.segments] == ["Lucas Santos"] * 3


def test_srt_missing_blank_lines_and_bad_timing() -> None:
    doc = (
        "1\n00:00:01,000 --> 00:00:02,000\nfirst\n"
        "2\n00:00:02,000 --> 00:00:03,000\nsecond\n\n"
        "3\n00:00:0x,000 --> 00:00:04,000\nbroken\n\n"
        "4\n00:00:04,000 --> 00:00:05,000\nfourth"
    )
    parsed = parse_transcript(doc)
    assert [s.text for s in parsed.segments] == ["first", "second", "fourth"]
    assert len(parsed.warnings) == 2


# --- JSON, HTML, Markdown, text -------------------------------------------------------------


def test_json_variants() -> None:
    doc = {
        "version": "1.0.0",
        "segments": [
            {"speaker": "A", "startTime": "1.5", "body": "one"},
            {"startTime": 2, "endTime": 1, "body": "two"},
            {"startTime": 3, "body": ""},
            "junk",
            {"startTime": 4, "body": "four"},
        ],
    }
    parsed = parse_transcript(json.dumps(doc))
    assert parsed.segments == [
        Segment(1.5, 2.0, "A", "one"),
        Segment(2.0, 4.0, "", "two"),  # its end came before its start: inferred instead
        Segment(4.0, None, "", "four"),
    ]
    assert len(parsed.warnings) == 2
    with pytest.raises(TranscriptFormatError, match="segments"):
        parse_transcript('{"version": "1.0.0"}')
    with pytest.raises(TranscriptFormatError, match="not valid JSON"):
        parse_transcript('{"segments": [', media_type="application/json")
    assert parse_transcript('"Hello there.  General Kenobi."').segments == [
        Segment(None, None, "", "Hello there."),
        Segment(None, None, "", "General Kenobi."),
    ]


def test_html_with_script_and_without_paragraphs() -> None:
    doc = (
        "<html><head><title>t</title><script>alert(1)</script></head><body>"
        "<cite>Ann:</cite><time>1:02:03</time><p>Hi &eacute;t&eacute;</p>"
        "<p>More</p><cite>Bo:</cite><time>x</time><p>Yo</p></body></html>"
    )
    parsed = parse_transcript(doc)
    assert parsed.segments == [
        Segment(3723.0, None, "Ann", "Hi été"),
        Segment(None, None, "Ann", "More"),
        Segment(None, None, "Bo", "Yo"),
    ]
    assert parsed.warnings == ["<time>x</time> is not a time; ignored"]
    bare = parse_transcript("<div>Line one<br>\n\nLine two</div>", media_type="text/html")
    assert bare.format == "html" and [s.text for s in bare.segments] == ["Line one", "Line two"]


def test_html_time_and_cite_inside_a_paragraph_are_its_own() -> None:
    doc = (
        "<html><body><cite>Ann:</cite><time>0:05</time><p>Before</p>"
        "<p><time datetime='0:10'>0:10</time> Hello <b>there</b></p>"
        "<p><cite>Bo:</cite> <time>1:00</time>Hi back</p>"
        "<p>No stamp</p></body></html>"
    )
    assert parse_transcript(doc).segments == [
        Segment(5.0, None, "Ann", "Before"),
        Segment(10.0, None, "Ann", "Hello there"),
        Segment(60.0, None, "Bo", "Hi back"),
        Segment(None, None, "Bo", "No stamp"),
    ]


def test_markdown_stamps_split_and_carry() -> None:
    doc = (
        "# Episode 1\n\n"
        "**Ann:** \\[00:10\\] Hello. \\[00:20\\] Later on. \\[00:30\\]\n\n"
        "Continued, no stamp.\n\n"
        "**Break**: \\[01:00\\]\n\n"
        "**Bo:** See [the docs](https://x.test) and **this**; \\*bleep\\*\n"
    )
    parsed = parse_transcript(doc, media_type="text/markdown")
    assert parsed.segments == [
        Segment(10.0, None, "Ann", "Hello."),
        Segment(20.0, None, "Ann", "Later on."),
        Segment(30.0, None, "Ann", "Continued, no stamp."),
        Segment(60.0, None, "", "[Break]"),
        Segment(None, None, "Bo", "See the docs and this; *bleep*"),
    ]


def test_text_paragraphs_lines_and_speakers() -> None:
    assert [s.text for s in parse_transcript("a\nb\n\n").segments] == ["a", "b"]
    paragraphs = parse_transcript("Speaker A: one\ntwo\n\nSpeaker B: three\n\nfour")
    assert [(s.speaker, s.text) for s in paragraphs.segments] == [
        ("Speaker A", "one two"),
        ("Speaker B", "three"),
        ("Speaker B", "four"),
    ]


# --- charsets -----------------------------------------------------------------------------


def test_charsets() -> None:
    doc = "WEBVTT\n\n00:01.000 --> 00:02.000\nçà et là\n"
    assert parse_transcript(doc.encode("utf-16")).segments[0].text == "çà et là"  # BOM
    wrong = parse_transcript(doc.encode("utf-8"), charset="iso-8859-1")
    assert wrong.segments[0].text == "çà et là"
    assert "content is UTF-8" in wrong.warnings[0]
    latin = parse_transcript(doc.encode("latin-1"), charset="latin-1")
    assert latin.segments[0].text == "çà et là" and latin.warnings == []
    guessed = parse_transcript(doc.encode("cp1252"))
    assert guessed.segments[0].text == "çà et là"
    assert "windows-1252" in guessed.warnings[0]


# --- times --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tag", "code"),
    [("en-US", "en"), ("EN_gb", "en"), ("eng", "en"), (" English ", "en"), ("de-DE", "de"),
     ("pt_BR", "pt"), ("", ""), (None, ""), ("  ", "")],
)  # fmt: skip
def test_primary_language(tag: str | None, code: str) -> None:
    assert primary_language(tag) == code


@pytest.mark.parametrize(
    ("raw", "seconds"),
    [("01:02.5", 62.5), ("1:02:03,004", 3723.004), ("0:53", 53.0), ("00:60.000", None),
     ("61:00", 3660.0), ("1:61:00", None), ("1:2:3:4", None), ("-1:00", None), ("ab:cd", None)],
)  # fmt: skip
def test_timestamps(raw: str, seconds: float | None) -> None:
    assert parse_timestamp(raw) == seconds


def test_export_without_times() -> None:
    untimed = Transcript([Segment(None, None, "", "hello")], "text")
    with pytest.raises(TranscriptFormatError, match="txt"):
        to_vtt(untimed)
    assert to_txt(untimed) == "hello\n"
    partly = Transcript([Segment(1.0, None, "", "a"), Segment(None, None, "", "b"),
                         Segment(5.0, 6.0, "", "c")], "json")  # fmt: skip
    assert [(s.start_s, s.end_s) for s in parse_transcript(to_vtt(partly)).segments] == [
        (1.0, 5.0), (5.0, 5.0), (5.0, 6.0)
    ]  # fmt: skip


# --- properties ---------------------------------------------------------------------------

_WORD = (
    st.text(
        st.characters(categories=("L", "N", "P", "S", "Zs"), exclude_characters="<>{}\\"),
        min_size=1,
        max_size=30,
    )
    .map(lambda t: " ".join(t.split()))
    .filter(bool)
)
_NAME = st.from_regex(r"[A-Z][a-z]{1,8}( [A-Z][a-z]{1,8})?", fullmatch=True)
_MS = st.integers(min_value=0, max_value=10 * 3600 * 1000)


@st.composite
def _transcripts(draw, with_speakers: bool | None = None) -> Transcript:
    count = draw(st.integers(min_value=1, max_value=12))
    named = draw(st.booleans()) if with_speakers is None else with_speakers
    segments = []
    for _ in range(count):
        start = draw(_MS)
        length = draw(st.integers(min_value=0, max_value=60_000))
        speaker = draw(_NAME) if named else ""
        text = draw(_WORD)
        segments.append(Segment(start / 1000, (start + length) / 1000, speaker, text))
    return Transcript(segments, "vtt")


# Up to four capitalised words and a colon: how SRT and text name a speaker.
_LOOKS_NAMED = re.compile(r"^[A-Z][\w.'\-]*(?: [A-Z0-9][\w.'\-]*){0,3}:\s")


def _readable_text(t: Transcript) -> bool:
    # Without speakers, a text that looks like "Name: …" would be read as one.
    return all(s.speaker or not _LOOKS_NAMED.match(s.text) for s in t.segments)


@given(_transcripts())
@settings(max_examples=200, deadline=None)
def test_vtt_round_trip(t: Transcript) -> None:
    assert parse_transcript(to_vtt(t)).segments == t.segments


@given(_transcripts())
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
def test_srt_and_txt_round_trip(t: Transcript) -> None:
    if not _readable_text(t):
        return
    assert parse_transcript(to_srt(t)).segments == t.segments
    back = parse_transcript(to_txt(t), format="text").segments
    assert [(s.speaker, s.text) for s in back] == [(s.speaker, s.text) for s in t.segments]


@given(st.binary(max_size=2000))
@settings(max_examples=300, deadline=None)
def test_bytes_never_crash(data: bytes) -> None:
    try:
        parsed = parse_transcript(data)
    except TranscriptFormatError:
        return
    assert parsed.format in ("vtt", "srt", "json", "html", "markdown", "text")


_DOCS = st.lists(
    st.one_of(
        st.sampled_from(
            [
                "WEBVTT",
                "",
                "NOTE x",
                "1",
                "-->",
                "<v A>",
                "</v>",
                "**A:**",
                "\\[00:10\\]",
                '{"segments": [',
                "<p>",
                "<cite>",
                "{",
                "}",
                "]",
                '"',
            ]
        ),  # fmt: skip
        st.builds(
            lambda a, b: f"{format_timestamp(a)} --> {format_timestamp(b)}",
            st.floats(0, 9999),
            st.floats(0, 9999),
        ),  # fmt: skip
        st.text(max_size=40),
    ),
    max_size=40,
).map("\n".join)


@pytest.mark.parametrize("fmt", [None, "vtt", "srt", "json", "html", "markdown", "text"])
@given(doc=_DOCS)
@settings(max_examples=150, deadline=None)
def test_documents_never_crash(fmt: str | None, doc: str) -> None:
    try:
        parsed = parse_transcript(doc, format=fmt)
    except TranscriptFormatError:
        return
    for seg in parsed.segments:
        assert seg.text
        if seg.start_s is not None and seg.end_s is not None:
            assert seg.end_s >= seg.start_s
