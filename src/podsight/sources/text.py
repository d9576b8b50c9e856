"""Value normalisers shared by every source: HTML, dates, durations, flags, integers,
GUIDs, languages.

Every function accepts whatever a real feed or API carries and returns ``None`` (or an
empty string for the HTML helpers) instead of raising.
"""

from __future__ import annotations

import html
import math
import re
import uuid
import warnings
from datetime import UTC, datetime, timedelta, timezone
from email.utils import parsedate_tz
from functools import lru_cache
from typing import Any

import nh3
from dateutil import parser as _dateutil_parser

__all__ = [
    "HTML_RULES",
    "MAX_HTML_DEPTH",
    "PODCAST_GUID_NAMESPACE",
    "as_int",
    "cap_html_depth",
    "html_to_text",
    "normalise_language",
    "parse_date",
    "parse_duration",
    "parse_explicit",
    "parse_int",
    "podcast_guid_for_url",
    "sanitize_html",
]

PODCAST_GUID_NAMESPACE = uuid.UUID("ead4c236-bf58-58c6-a2c6-a6b28d128cb6")

# ---------------------------------------------------------------------------
# Dates

# Abbreviations seen in real feeds beyond the US ones email.utils already knows.
_TZ_OFFSETS_H: dict[str, float] = {
    "UT": 0,
    "UTC": 0,
    "GMT": 0,
    "Z": 0,
    "WET": 0,
    "BST": 1,
    "IST": 1,
    "WEST": 1,
    "CET": 1,
    "MET": 1,
    "CEST": 2,
    "MEST": 2,
    "EET": 2,
    "EEST": 3,
    "MSK": 3,
    "AST": -4,
    "ADT": -3,
    "EST": -5,
    "EDT": -4,
    "CST": -6,
    "CDT": -5,
    "MST": -7,
    "MDT": -6,
    "PST": -8,
    "PDT": -7,
    "AKST": -9,
    "AKDT": -8,
    "HST": -10,
    "JST": 9,
    "KST": 9,
    "HKT": 8,
    "SGT": 8,
    "AWST": 8,
    "ACST": 9.5,
    "ACDT": 10.5,
    "AEST": 10,
    "AEDT": 11,
    "NZST": 12,
    "NZDT": 13,
    "BRT": -3,
    "ART": -3,
}
_TZINFOS = {name: int(hours * 3600) for name, hours in _TZ_OFFSETS_H.items()}
_ODD_ZONE = re.compile(r"\b(?:GMT|UTC|UT)\s*([+-])\s*(\d{1,2})(?::?(\d{2}))?\s*$", re.I)
_MIN_YEAR, _MAX_YEAR = 1900, 2200


def _aware(dt: datetime) -> datetime | None:
    if not _MIN_YEAR <= dt.year <= _MAX_YEAR:
        return None
    return dt if dt.tzinfo is not None else dt.replace(tzinfo=UTC)


_EMAIL_ZONES = frozenset(
    {"UT", "UTC", "GMT", "Z", "AST", "ADT", "EST", "EDT", "CST", "CDT", "MST", "MDT", "PST", "PDT"}
)
_NUMERIC_ZONE = re.compile(r"^[+-]\d{4}$")


def _known_zone(text: str) -> bool:
    last = text.rsplit(None, 1)[-1]
    return last.upper() in _EMAIL_ZONES or bool(_NUMERIC_ZONE.match(last))


_MONTHS = {
    m: i
    for i, m in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1
    )
}
_ZONES: dict[str, timezone] = {
    name: timezone(timedelta(seconds=secs)) for name, secs in _TZINFOS.items()
}
_ZONES["UTC"] = _ZONES["GMT"] = _ZONES["Z"] = _ZONES["UT"] = UTC


def _zone(token: str) -> timezone | None:
    tz = _ZONES.get(token)
    if tz is None and len(token) == 5 and token[0] in "+-" and token[1:].isdecimal():
        minutes = int(token[1:3]) * 60 + int(token[3:])
        tz = timezone(timedelta(minutes=-minutes if token[0] == "-" else minutes))
        _ZONES[token] = tz
    return tz


def _rfc822(text: str) -> datetime | None:
    """The well-formed case ("Wed, 18 Mar 2020 09:52:39 -0000") without regexes."""
    parts = text.split()
    if len(parts) == 6:
        parts = parts[1:]
    if len(parts) != 5:
        return None
    day, mon, year, hms, zone = parts
    month = _MONTHS.get(mon[:3].lower())
    tz = _zone(zone.upper())
    if month is None or tz is None or not day.isdecimal() or len(year) != 4 or not year.isdecimal():
        return None
    clock = hms.split(":")
    if not 2 <= len(clock) <= 3 or not hms.replace(":", "").isdecimal():
        return None
    try:
        return _aware(
            datetime(
                int(year),
                month,
                int(day),
                int(clock[0]),
                int(clock[1]),
                int(clock[2]) if len(clock) == 3 else 0,
                tzinfo=tz,
            )
        )
    except ValueError:
        return None


def parse_date(text: str | None) -> datetime | None:
    """Parse an RSS (RFC 822, broken variants) or Atom (RFC 3339) date; always tz-aware."""
    if not text:
        return None
    text = text.strip()
    if not text or len(text) > 100:
        return None
    fast = _rfc822(text)
    if fast is not None:
        return fast
    # RFC 822 fast path; email.utils knows UT/GMT/Z and the US zone names.
    try:
        parts = parsedate_tz(text)
    except (TypeError, ValueError, IndexError):
        parts = None
    # parsedate_tz reports offset 0 for a missing or unknown zone: only trust it when the
    # zone token is numeric or one it knows.
    if parts is not None and parts[9] is not None and _known_zone(text):
        try:
            dt = datetime(*parts[:6], tzinfo=timezone(timedelta(seconds=parts[9])))  # type: ignore[misc]
            return _aware(dt)
        except (ValueError, OverflowError):
            pass
    if text[0].isdecimal():  # ISO 8601 / RFC 3339 (Atom), fromisoformat is C-fast
        try:
            return _aware(datetime.fromisoformat(text))
        except ValueError:
            pass
    m = _ODD_ZONE.search(text)
    if m:  # "GMT+2": POSIX would invert the sign; feeds mean the human reading
        sign = -1 if m.group(1) == "-" else 1
        offset = sign * (int(m.group(2)) * 3600 + int(m.group(3) or 0) * 60)
        hours, minutes = divmod(abs(offset) // 60, 60)
        text = f"{text[: m.start()].rstrip()} {'+' if offset >= 0 else '-'}{hours:02d}{minutes:02d}"
    if not any(c.isdecimal() for c in text):
        return None
    try:
        with warnings.catch_warnings():  # unknown zone names: we fall back to UTC ourselves
            warnings.simplefilter("ignore")
            dt = _dateutil_parser.parse(text, tzinfos=_TZINFOS)
    except (ValueError, OverflowError, TypeError, LookupError):
        dt = None
    except Exception:  # dateutil raises assorted internal errors on garbage
        dt = None
    if dt is None:
        # email.utils understood the structure but not the zone name: treat as UTC.
        if parts is not None:
            try:
                return _aware(datetime(*parts[:6]))  # type: ignore[misc]
            except (ValueError, OverflowError):
                return None
        return None
    try:
        return _aware(dt)
    except (ValueError, OverflowError):
        return None


# ---------------------------------------------------------------------------
# Durations

_HMS_UNITS = re.compile(
    r"^(?:(\d+(?:\.\d+)?)\s*h(?:ours?|rs?)?)?\s*,?\s*(?:(\d+(?:\.\d+)?)\s*m(?:in(?:ute)?s?)?)?\s*,?\s*"
    r"(?:(\d+(?:\.\d+)?)\s*s(?:ec(?:ond)?s?)?)?$",
    re.I,
)
_ISO_DURATION = re.compile(
    r"^P(?:(\d+(?:\.\d+)?)D)?(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?$",
    re.I,
)
_MAX_DURATION = 10 * 24 * 3600 * 365  # anything longer is garbage, not a podcast


def _finite_seconds(value: float) -> int | None:
    if not math.isfinite(value) or value < 0 or value > _MAX_DURATION:
        return None
    return int(value)


def parse_duration(text: str | None) -> int | None:
    """``itunes:duration`` in any real-world form → whole seconds; ``None`` if unreadable."""
    if not text:
        return None
    text = text.strip()
    if not text or len(text) > 40:
        return None
    if text.isdecimal():
        return _finite_seconds(int(text))
    if ":" in text:
        parts = text.split(":")
        if len(parts) > 3:
            return None
        total = 0.0
        try:
            for i, part in enumerate(parts):
                part = part.strip()
                # only the last field may carry a fraction; none may be negative
                if not part or (
                    not part.isdecimal() and not (i == len(parts) - 1 and _is_decimal(part))
                ):
                    return None
                total = total * 60 + float(part)
        except ValueError:
            return None
        return _finite_seconds(total)
    if _is_decimal(text):
        return _finite_seconds(float(text))
    m = _ISO_DURATION.match(text)
    if m and any(m.groups()):
        d, h, mi, s = (float(g) if g else 0.0 for g in m.groups())
        return _finite_seconds(d * 86400 + h * 3600 + mi * 60 + s)
    m = _HMS_UNITS.match(text)
    if m and any(m.groups()):
        h, mi, s = (float(g) if g else 0.0 for g in m.groups())
        return _finite_seconds(h * 3600 + mi * 60 + s)
    return None


def _is_decimal(text: str) -> bool:
    head, dot, tail = text.partition(".")
    return bool(dot) and head.isdecimal() and tail.isdecimal() or (not dot and text.isdecimal())


# ---------------------------------------------------------------------------
# Flags and numbers

_TRUE = frozenset({"yes", "true", "explicit", "1", "y"})
_FALSE = frozenset({"no", "false", "clean", "0", "n"})


def parse_explicit(text: str | None) -> bool | None:
    if not text:
        return None
    value = text.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    return None


def as_int(value: Any) -> int | None:
    """An integer from a JSON or database value: an int, a whole float, or ASCII digits
    with an optional sign; ``None`` for anything else. Booleans are not numbers here,
    though Python says they are; "1.5" or 2.5 is not an integer (a count, an id, a
    duration in ms never is), and "١٢" is not digits (``int()`` would read it)."""
    if value is None or value.__class__ is bool:
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else None  # NaN and inf are not integers
    if isinstance(value, str):
        text = value.strip()
        digits = text[1:] if text[:1] in "+-" else text
        if digits.isascii() and digits.isdigit():
            return int(text)
    return None


def parse_int(text: str | None) -> int | None:
    """A non-negative-or-negative integer, tolerating whitespace, '+', "12.0", "1,234"."""
    if not text:
        return None
    text = text.strip().replace(",", "")
    if not text or len(text) > 20:
        return None
    try:
        return int(text)
    except ValueError:
        pass
    try:
        value = float(text)
    except ValueError:
        return None
    return int(value) if math.isfinite(value) and value.is_integer() else None


# ---------------------------------------------------------------------------
# HTML

_BLOCK_BREAK = re.compile(
    r"<(?:br|/?(?:p|div|li|ul|ol|h[1-6]|blockquote|pre|tr|table|hr|section|article|header|footer))\b[^>]*>",
    re.I,
)
_TAG = re.compile(r"</?[A-Za-z][^>]*>|<![^>]*>")  # "a < b" is text, not a tag
_HIDDEN_HINT = re.compile(r"<(?:script|style|template|noscript|!--)", re.I)
_HIDDEN_OPEN = re.compile(r"<(script|style|template|noscript)\b|<!--", re.I)
_HIDDEN_CLOSE = {
    name: re.compile(rf"</{name}\s*>", re.I) for name in ("script", "style", "template", "noscript")
}
# Deeper elements than this are flattened (their tags dropped, their text kept) before
# nh3, whose work grows with the depth of every element: 100,000 nested <div> took 40 s.
# Real descriptions nest a few levels.
MAX_HTML_DEPTH = 100
_DEPTH_TAG = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9]*)[^>]*>")
# Elements that never stay open around their successors (void, or closed by a sibling):
# not counted, so sloppy <p> and <li> without end tags do not look deep.
_NOT_NESTING = frozenset(
    "area base br col embed hr img input link meta param source track wbr keygen "
    "p li dt dd option optgroup tr td th thead tbody tfoot rp rt".split()
)
_SPACE_RUN = re.compile(r"[ \f\v]{2,}")
_NEWLINE_RUN = re.compile(r"\n{2,}")


def _collapse(text: str) -> str:
    """Collapse runs of spaces within lines, drop blank lines (str.split is C-fast)."""
    if "\n" not in text and "\r" not in text:
        return " ".join(text.split())
    lines = (" ".join(line.split()) for line in text.splitlines())
    return "\n".join(line for line in lines if line)


# Names what sanitize_html and html_to_text make of markup: a stored item whose source is
# unchanged keeps what was derived from it, until this changes (new rules, another nh3).
HTML_RULES = f"podsight-html-1/nh3-{nh3.__version__}"

_CLEANER = nh3.Cleaner()  # built once: nh3.clean() rebuilds its allow-lists on every call


def _split_at_last_tag(markup: str) -> tuple[str, str]:
    """(markup up to its last ">", the rest). No tag ends in the rest, and the tag
    patterns would scan all of it again for every "<" there (quadratic on "<a<a<a…")."""
    end = markup.rfind(">") + 1
    return markup[:end], markup[end:]


def _strip_tags(markup: str, replacement: str) -> str:
    head, tail = _split_at_last_tag(markup)
    return _TAG.sub(replacement, head) + tail


def cap_html_depth(markup: str) -> str:
    """Drop the tags of elements nested deeper than :data:`MAX_HTML_DEPTH`, keeping their
    text; one linear pass. Unclosed elements count as open, so this errs on the deep side."""
    head, tail = _split_at_last_tag(markup)
    pieces: list[str] = []
    keep_from, depth = 0, 0
    for m in _DEPTH_TAG.finditer(head):
        if m.group(2).lower() in _NOT_NESTING:
            continue
        if m.group(1):
            depth = max(depth - 1, 0)
            deep = depth >= MAX_HTML_DEPTH
        else:
            deep = depth >= MAX_HTML_DEPTH
            depth += 1
        if deep:
            pieces.append(head[keep_from : m.start()])
            keep_from = m.end()
    if not pieces:
        return markup
    pieces.append(head[keep_from:])
    pieces.append(tail)
    return "".join(pieces)


def _clean(markup: str) -> str:
    if "<" not in markup:  # no tags: entities and text are already safe HTML
        return markup
    if markup.count("<") > MAX_HTML_DEPTH:  # fewer tags cannot nest that deep
        markup = cap_html_depth(markup)
    try:
        return _CLEANER.clean(markup).strip()
    except Exception:  # nh3 only fails on pathological input: keep the text, escaped
        return html.escape(_collapse(html.unescape(_strip_tags(markup, " "))))


def _drop_hidden(markup: str) -> str:
    """Script, style, template and noscript elements and comments replaced by a space.

    As ``re.sub(r"<(script|…)\\b.*?</\\1\\s*>|<!--.*?-->", " ")`` did, but linear: the
    regex scanned to the end again for every opener without a closer (a 200 KB run of
    "<!--" took a minute). An opener whose closer is missing has none after it either, so
    each kind is given up after its first miss."""
    pieces: list[str] = []
    keep_from = pos = 0
    missing: set[str] = set()
    while (m := _HIDDEN_OPEN.search(markup, pos)) is not None:
        kind = (m.group(1) or "!--").lower()
        end = -1
        if kind not in missing:
            if kind == "!--":
                end = markup.find("-->", m.end())
                end = end + 3 if end >= 0 else -1
            elif (close := _HIDDEN_CLOSE[kind].search(markup, m.end())) is not None:
                end = close.end()
        if end < 0:
            missing.add(kind)
            pos = m.end()
            continue
        pieces.append(markup[keep_from : m.start()])
        pieces.append(" ")
        keep_from = pos = end
    if not pieces:
        return markup
    pieces.append(markup[keep_from:])
    return "".join(pieces)


def _markup_to_text(markup: str) -> str:
    """Plain text from any HTML; no sanitiser needed as nothing is rendered."""
    if "<" not in markup:  # plain text: its own line breaks are meaningful
        return _collapse(html.unescape(markup) if "&" in markup else markup)
    if _HIDDEN_HINT.search(markup):
        markup = _drop_hidden(markup)
    # HTML: source whitespace is insignificant, only block elements break lines.
    markup = markup.replace("\n", " ").replace("\r", " ").replace("\t", " ")
    head, tail = _split_at_last_tag(markup)
    # Again after the breaks: they took ">"s away (a last "<p>" after a run of "<a").
    text = _strip_tags(_BLOCK_BREAK.sub("\n", head), "") + tail
    if "&" in text:
        text = html.unescape(text).replace("\xa0", " ")
    if "  " in text:
        text = _SPACE_RUN.sub(" ", text)
    text = text.replace(" \n", "\n").replace("\n ", "\n")
    if "\n\n" in text:
        text = _NEWLINE_RUN.sub("\n", text)
    return text.strip()


@lru_cache(maxsize=8192)
def sanitize_html(markup: str | None) -> str:
    """Safe HTML: formatting tags and links kept; scripts, styles, handlers dropped."""
    if not markup:
        return ""
    return _clean(markup.strip())


@lru_cache(maxsize=8192)
def html_to_text(markup: str | None) -> str:
    """Plain text: tags removed, entities unescaped, paragraphs/breaks kept as newlines."""
    if not markup:
        return ""
    return _markup_to_text(markup)


# ---------------------------------------------------------------------------
# Identifiers and languages


def podcast_guid_for_url(feed_url: str) -> str:
    """Podcasting 2.0 ``podcast:guid``: UUIDv5 of the URL without scheme and trailing slashes."""
    url = feed_url.strip()
    url = re.sub(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", "", url)
    url = url.rstrip("/")
    return str(uuid.uuid5(PODCAST_GUID_NAMESPACE, url))


_LANG = re.compile(r"^[a-z]{2,3}(?:-[a-z0-9]{1,8})*$")


def normalise_language(text: str | None) -> str | None:
    """'en_US' / 'EN-us ' / 'en-US,fr' → 'en-us'; garbage → None."""
    if not text:
        return None
    value = text.strip().lower().replace("_", "-").split(",")[0].split(";")[0].strip()
    return value if _LANG.match(value) else None
