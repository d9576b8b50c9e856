"""Transcript documents in, :class:`~podsight.content.segments.Transcript` out, and back.

Read (:func:`parse_transcript`): WebVTT, SRT, Podcasting 2.0 JSON, HTML (Buzzsprout's
``<cite>``/``<time>``/``<p>``), Markdown (Changelog's ``**Speaker:**`` paragraphs) and plain
text. The format comes from the declared media type, then the URL's extension, then the
content itself; a document whose content plainly is another format (a ``.txt`` URL serving
``WEBVTT``) is read as what it is, with a warning.

What each format gives (docs/content.md, "Transcripts", has the full rules):

- **vtt**: one segment per cue; ``<v Name>`` / ``<v.class Name>`` is the speaker; cue
  settings, ``NOTE``/``STYLE``/``REGION`` blocks, class and timestamp tags are dropped,
  entities decoded; times with or without hours.
- **srt**: one segment per cue; a ``Name:`` at a cue's start (Buzzsprout) names the
  speaker of that cue and of the cues after it, until the next name.
- **json**: one segment per element of ``segments``; a missing ``endTime`` is the next
  segment's ``startTime``; the last segment's stays ``None`` (nothing says when it ends).
  A JSON document that is a string is plain text (the second seed's transcripts).
- **html**: one segment per ``<p>``, speaker from the last ``<cite>``, start from the
  ``<time>`` inside it (taken out of its text), else the last one before it; no end times.
- **markdown**: one segment per paragraph; ``**Name:**`` names the speaker until the next
  name; ``\\[mm:ss\\]`` timestamps start a segment (one inside a paragraph splits it);
  a paragraph holding only ``**Break**: \\[23:37\\]`` is a segment ``[Break]`` with no
  speaker.
- **text**: one segment per paragraph (blank-line separated), else per line, else (one
  line only) per run of text between double spaces, which is how Whisper joins its
  segments; ``Name:`` prefixes as in SRT; no times.

Malformed documents are read as far as they can be: a byte-order mark, CRLF or CR line
ends, a missing ``WEBVTT`` header, missing blank lines between cues, comma decimal marks in
VTT, a declared charset that is wrong; a cue whose timing cannot be read, or ends before it
starts, is skipped. Each such repair is one line in ``Transcript.warnings``. A document with
nothing readable raises :class:`TranscriptFormatError`.

Write: :func:`to_vtt`, :func:`to_srt`, :func:`to_txt` (each reads back to the same
segments, which tests check). VTT and SRT need times: a segment without one takes its
neighbours' (start: the previous end; end: the next start), and a transcript with no
times at all cannot be written as VTT or SRT (:class:`TranscriptFormatError`).

Hand-written rather than webvtt-py and srt: both refuse a whole document for one bad cue,
neither reads speakers in SRT, and the other four formats need parsers of their own anyway
(docs/content.md gives the comparison).
"""

from __future__ import annotations

import codecs
import copy
import html
import json
import math
import re
from collections.abc import Iterable, Sequence
from urllib.parse import urlsplit

from podsight.content.segments import Segment, Transcript
from podsight.errors import InputError

__all__ = [
    "FORMATS",
    "MEDIA_TYPES",
    "TranscriptFormatError",
    "decode_document",
    "detect_format",
    "format_from_media_type",
    "format_from_url",
    "format_timestamp",
    "media_type_of",
    "parse_html",
    "parse_json",
    "parse_markdown",
    "parse_srt",
    "parse_text",
    "parse_timestamp",
    "parse_transcript",
    "parse_vtt",
    "primary_language",
    "sniff_format",
    "to_srt",
    "to_txt",
    "to_vtt",
]

FORMATS = ("vtt", "json", "srt", "html", "markdown", "text")

# Media types as feeds and servers give them (podcast:transcript's ``type`` attribute and
# Content-Type), lower case, without parameters.
MEDIA_TYPES: dict[str, str] = {
    "text/vtt": "vtt",
    "text/webvtt": "vtt",
    "application/x-subrip": "srt",
    "application/srt": "srt",
    "application/x-srt": "srt",
    "text/srt": "srt",
    "text/x-srt": "srt",
    "text/x-subrip": "srt",
    "application/json": "json",
    "text/json": "json",
    "application/transcript+json": "json",
    "text/html": "html",
    "application/xhtml+xml": "html",
    "text/markdown": "markdown",
    "text/x-markdown": "markdown",
    "text/plain": "text",
}
# What each format is served as when we serve it.
_MEDIA_TYPE_OF = {
    "vtt": "text/vtt",
    "srt": "application/x-subrip",
    "json": "application/json",
    "html": "text/html",
    "markdown": "text/markdown",
    "text": "text/plain",
}
_EXTENSIONS = {
    ".vtt": "vtt",
    ".webvtt": "vtt",
    ".srt": "srt",
    ".json": "json",
    ".html": "html",
    ".htm": "html",
    ".md": "markdown",
    ".markdown": "markdown",
    ".txt": "text",
    ".text": "text",
}
# Said by many servers about any file: they tell nothing about the format.
_GENERIC_TYPES = frozenset(
    {"application/octet-stream", "binary/octet-stream", "application/x-download", ""}
)
_MAX_WARNINGS = 50


class TranscriptFormatError(InputError):
    """A transcript document that cannot be read (or a transcript that cannot be written
    in the format asked for); the message says what is wrong with it."""

    code = "invalid_transcript"


class _Warnings(list):
    """At most :data:`_MAX_WARNINGS` lines, then one line counting the rest."""

    dropped = 0

    def add(self, message: str) -> None:
        if len(self) < _MAX_WARNINGS:
            self.append(message)
        else:
            self.dropped += 1

    def lines(self) -> list[str]:
        more = [f"... and {self.dropped} more warnings"] if self.dropped else []
        return [*self, *more]


# --- decoding ---------------------------------------------------------------------------

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


def decode_document(data: bytes | str, charset: str | None = None) -> tuple[str, list[str]]:
    """The document as text with ``\\n`` line ends and no byte-order mark, and the repairs.

    A byte-order mark wins; then UTF-8 if the bytes are valid UTF-8 (a server's charset is
    often wrong, UTF-8 rarely happens by accident); then the declared ``charset``; then
    windows-1252, which decodes any byte. Binary data (NUL bytes) is refused."""
    warnings: list[str] = []
    if isinstance(data, str):
        text = data
    else:
        text = _decode_bytes(data, charset, warnings)
    if text.startswith("\ufeff"):
        text = text[1:]
    if "\x00" in text:
        raise TranscriptFormatError(
            "the document holds NUL characters: it is binary data, not a transcript; check "
            "the transcript link (it may point at audio or an archive)"
        )
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text, warnings


def _decode_bytes(data: bytes, charset: str | None, warnings: list[str]) -> str:
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return data[len(bom) :].decode(encoding)
            except UnicodeDecodeError:
                warnings.append(f"invalid {encoding} after its byte-order mark; bad bytes replaced")
                return data[len(bom) :].decode(encoding, errors="replace")
    declared = _codec(charset)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        if declared and declared != "utf-8" and not text.isascii():
            warnings.append(f"declared charset {charset} but the content is UTF-8; read as UTF-8")
        return text
    if declared and declared != "utf-8":
        try:
            return data.decode(declared)
        except UnicodeDecodeError:
            pass
    said = f"declared {charset}, " if charset else ""
    warnings.append(f"{said}not valid UTF-8; read as windows-1252")
    return data.decode("cp1252", errors="replace")


def _codec(charset: str | None) -> str | None:
    if not charset:
        return None
    try:
        return codecs.lookup(charset.strip().strip("\"'")).name
    except LookupError:
        return None


# --- language tags ----------------------------------------------------------------------

# Spellings feeds use for English besides its ISO 639-1 code; what the speech model's
# English-only guard and link choice need to recognise.
_LANGUAGE_ALIASES = {"eng": "en", "english": "en"}


def primary_language(tag: str | None) -> str:
    """The primary subtag of a language tag, lower case: ``en-US``, ``EN_gb``, ``eng``,
    ``English`` → ``en``; ``de-DE`` → ``de``; "" when none is given. Used wherever two
    declared languages are compared (a transcript link's and its channel's; English or
    not for speech recognition)."""
    code = (tag or "").strip().lower().replace("_", "-").split("-", 1)[0].strip()
    return _LANGUAGE_ALIASES.get(code, code)


# --- choosing the format ----------------------------------------------------------------


def media_type_of(fmt: str) -> str:
    """The media type a document of ``fmt`` is served as (``vtt`` → ``text/vtt``)."""
    return _MEDIA_TYPE_OF[fmt]


def format_from_media_type(media_type: str | None) -> str | None:
    """The format a media type names (parameters ignored), or None (unknown or generic)."""
    if not media_type:
        return None
    base = media_type.split(";", 1)[0].strip().lower()
    if base in _GENERIC_TYPES:
        return None
    if base in MEDIA_TYPES:
        return MEDIA_TYPES[base]
    if base.endswith("+json"):
        return "json"
    return None


def format_from_url(url: str | None) -> str | None:
    """The format the URL's file extension names, or None."""
    if not url:
        return None
    try:
        path = urlsplit(url).path.lower()
    except ValueError:
        return None
    dot = path.rfind(".")
    if dot < 0 or "/" in path[dot:]:
        return None
    return _EXTENSIONS.get(path[dot:])


_TIME = r"(?:\d+:)?\d{1,2}:\d{1,2}(?:[.,]\d+)?"
_TIMING = re.compile(rf"^\s*({_TIME})\s*-->\s*({_TIME})(?:[ \t]+(.*))?\s*$")
_SRT_START = re.compile(rf"^\s*\d+\s*\n\s*{_TIME}\s*-->", re.M)
_MD_SPEAKER = re.compile(r"^\*\*[^*\n]{1,80}?(?::\*\*|\*\*:)", re.M)


def sniff_format(text: str) -> str:
    """The format the content looks like (always one of :data:`FORMATS`)."""
    head = text.lstrip()[:4096]
    if head.startswith("WEBVTT"):
        return "vtt"
    if head[:1] in '{["' and head:
        try:
            json.loads(text)
        except RecursionError:
            return "json"  # nested deeper than Python's stack: its parser refuses it
        except ValueError:
            if head[:1] == "{":
                return "json"  # broken JSON is still JSON: its parser says what is wrong
        else:
            return "json"
    low = head.lower()
    if head.startswith("<") or "<cite" in low or "<p>" in low or "<html" in low:
        return "html"
    if _SRT_START.search(head):
        return "srt"
    if any(_TIMING.match(line) for line in head.split("\n")[:40]):
        # Timed cues without a WEBVTT header: VTT uses '.', SRT ','.
        return "vtt" if "." in head.split("-->", 1)[0][-8:] else "srt"
    if _MD_SPEAKER.search(head):
        return "markdown"
    return "text"


# Formats whose content says so unmistakably: they win over a declared type that
# disagrees (servers say text/plain about everything).
_UNMISTAKABLE = frozenset({"vtt", "json", "srt"})


def detect_format(
    text: str, *, media_type: str | None = None, url: str | None = None
) -> tuple[str, list[str]]:
    """The format to read ``text`` as: the media type's, else the URL extension's, else
    what the content looks like; and a warning when the content overrides them."""
    declared = format_from_media_type(media_type)
    how = f"served as {media_type}" if declared else ""
    if declared is None or declared == "text":
        by_url = format_from_url(url)
        if by_url is not None and (declared is None or by_url != "text"):
            declared, how = by_url, f"named {url}"
    sniffed = sniff_format(text)
    if declared is None:
        return sniffed, []
    if sniffed != declared and sniffed in _UNMISTAKABLE:
        return sniffed, [f"{how} but the content is {sniffed}; read as {sniffed}"]
    return declared, []


def parse_transcript(
    data: bytes | str,
    *,
    media_type: str | None = None,
    url: str | None = None,
    charset: str | None = None,
    format: str | None = None,  # noqa: A002 - the word the API and the docs use
    language: str = "",
) -> Transcript:
    """Read a transcript document of any supported format (``format`` forces one)."""
    text, warnings = decode_document(data, charset)
    if not text.strip():
        raise TranscriptFormatError("the transcript document is empty")
    if format is not None and format not in _PARSERS:
        raise TranscriptFormatError(f"unknown transcript format {format!r}; use one of {FORMATS}")
    if format is None:
        format, more = detect_format(text, media_type=media_type, url=url)
        warnings += more
        try:
            transcript = _PARSERS[format](text)
        except TranscriptFormatError as exc:
            # Declared one thing, plainly another (plain text named .json): read what it is.
            sniffed = sniff_format(text)
            if sniffed == format:
                raise
            transcript = _PARSERS[sniffed](text)
            warnings.append(f"not readable as {format} ({exc}); read as {sniffed}")
    else:
        transcript = _PARSERS[format](text)
    transcript.warnings[:0] = warnings
    transcript.language = language or transcript.language
    return transcript


# --- timestamps -------------------------------------------------------------------------


def parse_timestamp(value: str) -> float | None:
    """Seconds from ``[h:]m:s[.frac]`` (``,`` also as decimal mark); None when it is not a
    time. Seconds must be under 60, and minutes too when hours are given (``75:00`` without
    hours is 75 minutes, as some tools write it)."""
    parts = value.strip().replace(",", ".").split(":")
    if not 2 <= len(parts) <= 3:
        return None
    whole, _, fraction = parts[-1].partition(".")
    if not all(p.isdigit() and p.isascii() for p in [*parts[:-1], whole]):
        return None
    if fraction and not (fraction.isdigit() and fraction.isascii()):
        return None
    seconds = float(parts[-1])
    minutes = int(parts[-2])
    hours = int(parts[0]) if len(parts) == 3 else 0
    if seconds >= 60 or (len(parts) == 3 and minutes >= 60):
        return None
    return round(hours * 3600 + minutes * 60 + seconds, 3)


def format_timestamp(seconds: float, *, decimal: str = ".") -> str:
    """``HH:MM:SS.mmm`` (``decimal=","`` for SRT), rounded to the millisecond."""
    millis = max(0, int(round(seconds * 1000)))
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, ms = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{decimal}{ms:03d}"


# --- cue documents: VTT and SRT ---------------------------------------------------------

_TAG = re.compile(r"<[^>\n]*>")
_VOICE = re.compile(r"<v(?:\.[^\s>]*)?(?:[ \t]+([^>\n]*))?>")
_SPACES = re.compile(r"\s+")
# "Travis: When you first get" — one to four capitalised words, then a colon and text.
_LABEL = re.compile(r"^([A-Z][\w.'\-]*(?: [A-Z0-9][\w.'\-]*){0,3}):\s+(\S.*)$", re.S)
_ASS_TAG = re.compile(r"\{\\[^}]*\}")


def _clean(text: str) -> str:
    return _SPACES.sub(" ", text).strip()


def _cue_blocks(text: str, kind: str, warnings: _Warnings) -> list[tuple[int, list[str]]]:
    """Lines grouped into cues: (line number of the timing line, [timing, text...]).

    Blocks are separated by blank lines; a timing line inside a block starts a new cue
    anyway (a missing blank line), taking the line before it as its identifier when that
    line is a number. Blocks without a timing line are skipped (VTT's NOTE, STYLE and
    REGION blocks silently; anything else with a warning)."""
    lines = text.split("\n")
    cues: list[tuple[int, list[str]]] = []
    block: list[tuple[int, str]] = []

    def close() -> None:
        if not block:
            return
        first = block[0][1].strip()
        if kind == "vtt" and (
            re.match(r"^(NOTE|STYLE|REGION)(\s|$)", first) or first.startswith("WEBVTT")
        ):
            # The header or a comment; a cue right under it (no blank line) is still read.
            timed = next((i for i, (_n, line) in enumerate(block) if _TIMING.match(line)), None)
            if timed is None:
                block.clear()
                return
            warnings.add(f"line {block[timed][0]}: no blank line before this cue; read anyway")
            del block[:timed]
        current: tuple[int, list[str]] | None = None
        for i, (number, line) in enumerate(block):
            if _TIMING.match(line) or ("-->" in line and current is None):
                if current is not None:
                    previous = current[1]
                    if len(previous) > 1 and previous[-1].strip().isdigit():
                        previous.pop()  # the next cue's identifier
                    warnings.add(f"line {number}: no blank line before this cue; read anyway")
                current = (number, [line])
                cues.append(current)
            elif current is not None:
                current[1].append(line)
            elif i + 1 < len(block):
                continue  # an identifier before the timing line
            else:
                warnings.add(f"line {block[0][0]}: text without a cue timing; skipped")
        block.clear()

    for number, line in enumerate(lines, start=1):
        if line.strip():
            block.append((number, line))
        else:
            close()
    close()
    return cues


def _timing(number: int, line: str, warnings: _Warnings) -> tuple[float, float] | None:
    match = _TIMING.match(line)
    start = end = None
    if match:
        start, end = parse_timestamp(match.group(1)), parse_timestamp(match.group(2))
    if start is None or end is None:
        warnings.add(f"line {number}: cannot read the cue timing {line.strip()[:60]!r}; skipped")
        return None
    if end < start:
        warnings.add(f"line {number}: the cue ends before it starts; skipped")
        return None
    return start, end


def _vtt_text(lines: Sequence[str]) -> tuple[str, str]:
    """(speaker, text) of a VTT cue: the first voice names the speaker; a later, other
    voice in the same cue is kept in the text as ``Name: …``."""
    speaker = ""
    parts: list[str] = []
    for line in lines:
        pieces: list[str] = []
        at = 0
        for match in _VOICE.finditer(line):
            pieces.append(line[at : match.start()])
            name = html.unescape(_clean(match.group(1) or ""))
            if name and not speaker:
                speaker = name
            elif name and name != speaker:
                pieces.append(f" {name}: ")
            at = match.end()
        pieces.append(line[at:])
        parts.append(html.unescape(_TAG.sub("", "".join(pieces))))
    return speaker, _clean(" ".join(parts))


def parse_vtt(text: str) -> Transcript:
    """WebVTT: one segment per cue (see the module docstring)."""
    warnings = _Warnings()
    if not text.lstrip().startswith("WEBVTT"):
        warnings.add("no WEBVTT header; read as WebVTT anyway")
    segments: list[Segment] = []
    comma_seen = False
    for number, lines in _cue_blocks(text, "vtt", warnings):
        times = _timing(number, lines[0], warnings)
        if times is None:
            continue
        if not comma_seen and "," in lines[0].split("-->")[0]:
            comma_seen = True
            warnings.add(f"line {number}: SRT-style decimal commas in VTT timings; read anyway")
        speaker, body = _vtt_text(lines[1:])
        if not body:
            continue  # an empty cue carries nothing to read or search
        segments.append(Segment(times[0], times[1], speaker, body))
    if not segments:
        raise TranscriptFormatError(_nothing("WebVTT", warnings))
    return Transcript(segments, "vtt", warnings=warnings.lines())


def _nothing(kind: str, warnings: Iterable[str]) -> str:
    first = next(iter(warnings), "")
    why = f" ({first})" if first else ""
    return f"no readable cue in this {kind} document{why}; check that the link is a transcript"


class _Labels:
    """Speaker prefixes (``Name: text``) in SRT and plain text. Prefixes count when some
    name prefixes two segments; or prefixes start at least half the segments (two of them,
    unless the document is one segment: a diarised "Speaker A: ..." monologue); or the
    first segment starts with a name of two or more words (a one-host Buzzsprout document
    names its host once: "Lucas Santos: Bem-vindos ..."). So a lone "Note: ..." or an
    opening "Today: we talk about cats" in a transcript without speakers stays text."""

    def __init__(self, texts: Sequence[str]) -> None:
        found = [m.group(1) for t in texts if (m := _LABEL.match(t))]
        repeated = len(found) != len(set(found))
        enough = len(found) >= 2 or len(texts) == 1
        opening = bool(texts) and (m := _LABEL.match(texts[0])) is not None
        full_name = opening and " " in m.group(1)
        self.active = repeated or full_name or (enough and 2 * len(found) >= len(texts))
        self.current = ""

    def split(self, text: str) -> tuple[str, str]:
        if self.active and (match := _LABEL.match(text)):
            self.current = match.group(1)
            return self.current, match.group(2)
        return self.current, text


def parse_srt(text: str) -> Transcript:
    """SRT: one segment per cue; ``Name:`` prefixes name speakers (module docstring)."""
    warnings = _Warnings()
    cues: list[tuple[float, float, str]] = []
    for number, lines in _cue_blocks(text, "srt", warnings):
        times = _timing(number, lines[0], warnings)
        if times is None:
            continue
        body = _clean(" ".join(_ASS_TAG.sub("", _TAG.sub("", line)) for line in lines[1:]))
        if body:
            cues.append((times[0], times[1], body))
    if not cues:
        raise TranscriptFormatError(_nothing("SRT", warnings))
    labels = _Labels([body for _s, _e, body in cues])
    segments = [Segment(s, e, *labels.split(body)) for s, e, body in cues]
    return Transcript(segments, "srt", warnings=warnings.lines())


# --- JSON -------------------------------------------------------------------------------


def _seconds(value: object) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        stripped = value.strip()
        if ":" in stripped:
            return parse_timestamp(stripped)
        try:
            number = float(stripped)
        except ValueError:
            return None
    else:
        return None
    return number if math.isfinite(number) and number >= 0 else None


def parse_json(text: str) -> Transcript:
    """Podcasting 2.0 JSON (``{"version", "segments": [{"speaker", "startTime", "endTime",
    "body"}]}``); a bare list of segments; or a JSON string, read as plain text."""
    try:
        document = json.loads(text)
    except ValueError as exc:
        raise TranscriptFormatError(f"the JSON transcript is not valid JSON ({exc})") from None
    except RecursionError:
        # b"[" * 100000: json recurses once per level and runs out of stack.
        raise TranscriptFormatError(
            "the JSON transcript is nested too deeply to read; it is not a transcript"
        ) from None
    if isinstance(document, str):
        return parse_text(document)
    warnings = _Warnings()
    if isinstance(document, list):
        items = document
        warnings.add("a bare list of segments, without the version/segments object")
    elif isinstance(document, dict) and isinstance(document.get("segments"), list):
        items = document["segments"]
    else:
        raise TranscriptFormatError(
            "the JSON transcript has no `segments` list (Podcasting 2.0 JSON transcripts are "
            '{"version": "1.0.0", "segments": [{"startTime", "endTime", "body", ...}]})'
        )
    rows: list[tuple[float | None, float | None, str, str]] = []
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            warnings.add(f"segment {index}: not an object; skipped")
            continue
        body = item.get("body", item.get("text"))
        if not isinstance(body, str | int | float) or isinstance(body, bool):
            warnings.add(f"segment {index}: no body; skipped")
            continue
        body = _clean(str(body))
        if not body:
            continue
        start, end = _seconds(item.get("startTime")), _seconds(item.get("endTime"))
        if item.get("startTime") is not None and start is None:
            warnings.add(f"segment {index}: startTime {item.get('startTime')!r} is not a time")
        if end is not None and start is not None and end < start:
            warnings.add(f"segment {index}: endTime before startTime; end dropped")
            end = None
        speaker = item.get("speaker")
        rows.append((start, end, _clean(speaker) if isinstance(speaker, str) else "", body))
    if not rows:
        raise TranscriptFormatError("the JSON transcript's `segments` list holds no text")
    segments = []
    for i, (start, end, speaker, body) in enumerate(rows):
        if end is None and i + 1 < len(rows):
            following = rows[i + 1][0]
            if following is not None and (start is None or following >= start):
                end = following  # the spec lets endTime out: the next segment's start ends it
        segments.append(Segment(start, end, speaker, body))
    return Transcript(segments, "json", warnings=warnings.lines())


# --- HTML -------------------------------------------------------------------------------


def parse_html(text: str) -> Transcript:
    """HTML: ``<cite>`` speakers, ``<time>`` starts, ``<p>`` text (module docstring)."""
    import lxml.html
    from lxml import etree

    try:
        root = lxml.html.document_fromstring(text)
    except (etree.ParserError, ValueError) as exc:
        raise TranscriptFormatError(f"the HTML transcript cannot be read ({exc})") from None
    for bad in root.xpath("//script|//style|//head"):
        bad.drop_tree()
    warnings = _Warnings()
    segments: list[Segment] = []
    speaker, start = "", None
    paragraphs = 0

    def stamp(el: etree._Element) -> float | None:
        content = _clean(el.text_content())
        value = parse_timestamp(el.get("datetime") or content)
        if value is None and content:
            warnings.add(f"<time>{content[:20]}</time> is not a time; ignored")
        return value

    inside: set[etree._Element] = set()  # a <p>'s own cite/time, already taken with it
    for el in root.iter("cite", "time", "p"):
        if el in inside:
            continue
        if el.tag == "cite":
            speaker = _clean(el.text_content()).rstrip(":").strip()
        elif el.tag == "time":
            start = stamp(el)
        else:
            paragraphs += 1
            # A cite/time inside the paragraph is its own ("<p><time>0:10</time> Hi</p>"):
            # it wins over one before it and is not part of the text.
            own = [e for e in el.iter("cite", "time") if e is not el]
            if own:
                inside.update(own)
                for e in own:
                    if e.tag == "cite":
                        speaker = _clean(e.text_content()).rstrip(":").strip()
                    elif (value := stamp(e)) is not None or start is None:
                        start = value
                bare = copy.deepcopy(el)
                for e in list(bare.iter("cite", "time")):
                    e.drop_tree()  # keeps the text after it
                content = _clean(bare.text_content())
            else:
                content = _clean(el.text_content())
            if content:
                segments.append(Segment(start, None, speaker, content))
            start = None  # a time before a paragraph belongs to that paragraph only
    if paragraphs == 0:
        body = root.find("body")
        plain = (body if body is not None else root).text_content()
        if plain.strip():
            transcript = parse_text(plain)
            transcript.format = "html"
            transcript.warnings.insert(0, "HTML without <p> paragraphs; read as its text")
            return transcript
    if not segments:
        raise TranscriptFormatError("the HTML transcript holds no text")
    return Transcript(segments, "html", warnings=warnings.lines())


# --- Markdown ---------------------------------------------------------------------------

# **Name:** or **Name**: at a paragraph's start.
_MD_LABEL = re.compile(r"^\*\*([^*\n]{1,80}?)(?::\*\*|\*\*:)\s*")
# \[12:34\], \[01:02:03.45\] (Changelog escapes its brackets), or [12:34].
_MD_TIME = re.compile(r"\\?\[((?:\d+:)?\d{1,2}:\d{2}(?:\.\d+)?)\\?\]")
_MD_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!|>~])")
_MD_LINK = re.compile(r"\[([^\]\n]*)\]\([^)\n]*\)")
_MD_STRONG = re.compile(r"\*\*(?=\S)(.+?)(?<=\S)\*\*")


def _md_inline(text: str) -> str:
    text = _MD_LINK.sub(r"\1", text)
    text = _MD_STRONG.sub(r"\1", text)
    return _clean(_MD_ESCAPE.sub(r"\1", text))


def parse_markdown(text: str) -> Transcript:
    """Changelog-style Markdown (module docstring)."""
    warnings = _Warnings()
    segments: list[Segment] = []
    speaker = ""
    carried: float | None = None  # a timestamp that ended a paragraph starts the next one
    for block in re.split(r"\n\s*\n", text):
        block = block.strip()
        if not block or block.startswith("#") or re.fullmatch(r"[-*_]{3,}", block):
            continue  # headings and rules are not speech
        label = _MD_LABEL.match(block)
        body = block[label.end() :] if label else block
        pieces = _MD_TIME.split(body)  # text, time, text, time, ..., text
        texts = [_md_inline(p) for p in pieces[0::2]]
        times = [parse_timestamp(t) for t in pieces[1::2]]
        if label and not any(texts):
            # "**Break**: \[23:37\]": a marker, not a speaker.
            segments.append(Segment(times[0] if times else None, None, "", f"[{label.group(1)}]"))
            continue
        if label:
            speaker = _clean(label.group(1))
        starts = [carried, *times]
        carried = None
        for i, piece in enumerate(texts):
            if piece:
                segments.append(Segment(starts[i], None, speaker, piece))
            elif i + 1 < len(starts) and starts[i + 1] is None:
                starts[i + 1] = starts[i]
            elif i == len(texts) - 1:
                carried = starts[i]
    if not segments:
        raise TranscriptFormatError("the Markdown transcript holds no text")
    return Transcript(segments, "markdown", warnings=warnings.lines())


# --- plain text -------------------------------------------------------------------------


def parse_text(text: str) -> Transcript:
    """Plain text: paragraphs, else lines, else double-space runs (module docstring)."""
    stripped = text.strip()
    if not stripped:
        raise TranscriptFormatError("the transcript document is empty")
    blocks = [b for b in re.split(r"\n[ \t]*\n", stripped) if b.strip()]
    if len(blocks) > 1:
        pieces = blocks
    elif "\n" in stripped:
        pieces = stripped.split("\n")
    else:
        pieces = re.split(r"\s{2,}", stripped)
    texts = [t for t in (_clean(p) for p in pieces) if t]
    labels = _Labels(texts)
    segments = [Segment(None, None, *labels.split(t)) for t in texts]
    return Transcript(segments, "text")


_PARSERS = {
    "vtt": parse_vtt,
    "srt": parse_srt,
    "json": parse_json,
    "html": parse_html,
    "markdown": parse_markdown,
    "text": parse_text,
}


# --- writing ----------------------------------------------------------------------------


def _timed(transcript: Transcript, fmt: str) -> list[tuple[float, float, Segment]]:
    segments = transcript.segments
    if not any(s.start_s is not None or s.end_s is not None for s in segments):
        raise TranscriptFormatError(
            f"this transcript has no times (it was read from {transcript.format}), so it "
            f"cannot be written as {fmt}; ask for the txt format instead"
        )
    out: list[tuple[float, float, Segment]] = []
    previous = 0.0
    for i, seg in enumerate(segments):
        start = seg.start_s if seg.start_s is not None else previous
        end = seg.end_s
        if end is None:
            following = next((s.start_s for s in segments[i + 1 :] if s.start_s is not None), None)
            end = following if following is not None and following >= start else start
        end = max(end, start)
        out.append((start, end, seg))
        previous = end
    return out


def _one_line(text: str) -> str:
    return _clean(text)


def to_vtt(transcript: Transcript) -> str:
    """The transcript as WebVTT, speakers as ``<v Name>`` voice tags."""
    lines = ["WEBVTT", ""]
    for start, end, seg in _timed(transcript, "vtt"):
        body = html.escape(_one_line(seg.text), quote=False)
        if seg.speaker:
            name = html.escape(_one_line(seg.speaker), quote=False)
            body = f"<v {name}>{body}"
        lines += [f"{format_timestamp(start)} --> {format_timestamp(end)}", body, ""]
    return "\n".join(lines)


def to_srt(transcript: Transcript) -> str:
    """The transcript as SRT; a speaker is written as ``Name:`` on each of its cues (once
    per change, as Buzzsprout does, would leave a one-speaker transcript's single name to
    read as text: :func:`parse_srt` takes names that repeat)."""
    lines: list[str] = []
    for number, (start, end, seg) in enumerate(_timed(transcript, "srt"), start=1):
        body = _one_line(seg.text)
        if seg.speaker:
            body = f"{_one_line(seg.speaker)}: {body}"
        lines += [
            str(number),
            f"{format_timestamp(start, decimal=',')} --> {format_timestamp(end, decimal=',')}",
            body,
            "",
        ]
    return "\n".join(lines)


def to_txt(transcript: Transcript) -> str:
    """The transcript as plain text: one paragraph per segment, ``Name:`` before each of a
    speaker's paragraphs (as in :func:`to_srt`); no times."""
    paragraphs: list[str] = []
    for seg in transcript.segments:
        body = _one_line(seg.text)
        if seg.speaker:
            body = f"{_one_line(seg.speaker)}: {body}"
        paragraphs.append(body)
    return "\n\n".join(paragraphs) + "\n"
