"""Title text as matching sees it: normalised, without show-name affixes, with numbers.

Platforms decorate the same episode title differently: YouTube appends the show
(``… | Huberman Lab Podcast``), Spotify prefixes a series (``GUEST SERIES | …``), quotes
turn typographic, ``&`` becomes ``and``. :func:`core_titles` removes the decorations of one
source channel's titles, learned from those titles themselves: a segment (between ``|``,
``//`` or `` – ``/`` — `` separators) is an affix when it names the show or the channel, is
a generic label, or recurs in many of the channel's titles.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence

__all__ = [
    "core_descriptions",
    "core_titles",
    "episode_numbers",
    "normalise_text",
    "part_number",
    "segments",
    "DESCRIPTION_CHARS",
    "DESCRIPTION_MIN_CHARS",
    "unnumbered_title",
]

_QUOTES = str.maketrans({"‘": "'", "’": "'", "‚": "'", "“": '"', "”": '"', "„": '"', "´": "'"})
_NON_WORD = re.compile(r"[^\w]+", re.UNICODE)
_SEPARATORS = re.compile(r"\s*(?:\||//|\s[–—]\s)\s*")
# Labels that say what kind of upload or series an episode is, not what it is about.
_GENERIC = {
    "podcast",
    "full episode",
    "full podcast",
    "official podcast",
    "guest series",
    "audio",
    "video",
    "video podcast",
    "official video",
    "new episode",
    "bonus",
    "bonus episode",
    "rerun",
    "encore",
    "replay",
}
_NUMBER_FORMS = re.compile(
    r"(?:#|\bep(?:isode)?\.?\s*|\be(?=\d)|\bno\.\s*)(\d{1,5})\b", re.IGNORECASE
)
_PART = re.compile(r"\bpart\s*(\d{1,2}|one|two|three|four|five)\b", re.IGNORECASE)
_PART_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5}
# A segment recurring in this share of a channel's titles is that channel's decoration.
RECURRING_SHARE = 0.3


def normalise_text(text: str | None) -> str:
    """Lower-case words separated by single spaces: quotes, ``&``, punctuation unified."""
    if not text:
        return ""
    if text.isascii():
        # NFKC and the quote table leave ASCII as it is, and casefold is lower there:
        # most titles take this path, at a third of the cost.
        text = text.lower()
    else:
        text = unicodedata.normalize("NFKC", text).translate(_QUOTES).casefold()
    text = text.replace("&", " and ").replace("'", "")
    return " ".join(_NON_WORD.sub(" ", text).split())


def segments(title: str | None) -> list[str]:
    """A title's parts between separators (``|``, ``//``, spaced dashes)."""
    if not title:
        return []
    return [part for part in _SEPARATORS.split(title.strip()) if part.strip()]


def episode_numbers(title: str | None) -> frozenset[int]:
    """Numbers written as ``#123``, ``Ep. 123``, ``Episode 123``, ``E123`` or ``No. 123``."""
    if not title:
        return frozenset()
    return frozenset(int(n) for n in _NUMBER_FORMS.findall(title))


def part_number(title: str | None) -> int | None:
    """``(Part 2)``, ``Part Two`` → 2."""
    if not title:
        return None
    found = _PART.search(title)
    if not found:
        return None
    value = found.group(1).lower()
    return _PART_WORDS.get(value) or int(value)


def _names_the_show(segment: str, names: Sequence[str]) -> bool:
    words = set(segment.split())
    for name in names:
        name_words = set(name.split())
        # "huberman lab guest series" contains "huberman lab"; "andrew huberman" alone
        # covers all of its own words.
        if name_words and (name_words <= words or words <= name_words):
            return True
    return False


def core_titles(titles: Sequence[str | None], names: Iterable[str | None] = ()) -> list[str]:
    """Each title normalised without the decorations of this channel (see module doc).

    ``titles`` are all episode titles of one source channel; ``names`` the show's and the
    channel's names. A title made only of decorations is kept whole.
    """
    normal_names = [n for n in (normalise_text(x) for x in names) if n]
    # A segment that is only numbering ("Ep. 84 – …") goes; a title that is, stays.
    split = [[unnumbered_title(s) for s in segments(t)] for t in titles]
    counts = Counter(s for parts in split if len(parts) > 1 for s in set(parts))
    recurring = {
        s for s, n in counts.items() if len(titles) >= 5 and n >= RECURRING_SHARE * len(titles)
    }
    cores = []
    for title, parts in zip(titles, split, strict=True):
        # A title of one segment is that segment (separators and spaces around it are
        # not words): no need to normalise it again.
        whole = parts[0] if len(parts) == 1 else unnumbered_title(title)
        core = whole or normalise_text(title)
        if len(parts) > 1:
            kept = [
                p
                for p in parts
                if p
                and p not in _GENERIC
                and p not in recurring
                and not _names_the_show(p, normal_names)
            ]
            if kept:
                core = " ".join(kept)
        cores.append(core)
    return cores


def unnumbered_title(text: str | None) -> str:
    """Normalised text without numbering ("Ep. 84", "#84", "E84"): one platform numbers
    titles and another doesn't, and the numbers are compared on their own
    (:func:`episode_numbers`)."""
    return normalise_text(_NUMBER_FORMS.sub(" ", text or ""))


# What of a description is compared: its opening, once the channel's boilerplate is gone.
DESCRIPTION_CHARS = 300
# Shorter than this ("New episode!", "Full episode") an opening tells episodes apart badly.
DESCRIPTION_MIN_CHARS = 80


def core_descriptions(descriptions: Sequence[str | None]) -> list[str]:
    """Each description's opening, lower-cased, without the lines this channel repeats
    (links, sponsors, "Subscribe to …" footers): ``descriptions`` are all of one source
    channel's episode descriptions. Empty when what is left is too short to tell."""
    split = [
        [line.strip() for line in (d or "").splitlines() if line.strip()] for d in descriptions
    ]
    counts = Counter(line for lines in split for line in set(lines))
    recurring = {
        line
        for line, n in counts.items()
        if len(descriptions) >= 5 and n >= RECURRING_SHARE * len(descriptions)
    }
    cores = []
    for lines in split:
        kept = " ".join(line for line in lines if line not in recurring)
        core = " ".join(kept.casefold().split())[:DESCRIPTION_CHARS]
        cores.append(core if len(core) >= DESCRIPTION_MIN_CHARS else "")
    return cores
