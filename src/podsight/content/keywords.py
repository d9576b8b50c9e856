"""Keywords of an episode: YAKE over its passages (ad reads left out), in its language.

YAKE (Campos et al., 2020) scores candidate phrases of one to three words by statistics of
the text alone (position, frequency, spread, casing, context), so it needs no model and
works in every language it has a stop-word list for; for other languages it runs without
stop words. Spoken transcripts are full of fillers ("yeah", "gonna", "you know") that the
written-text lists lack: they are added for English.

A keyword's ``score`` is YAKE's: **lower is more relevant**. Results are deterministic: the
same text and language give the same list in the same order.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import cache
from pathlib import Path

from podsight.content.segments import Passage

__all__ = [
    "DEFAULT_TOP",
    "Keyword",
    "episode_keywords",
    "extract_keywords",
    "yake_language",
]

DEFAULT_TOP = 12
# YAKE's cost grows with the text; the first words of a long episode carry its themes and
# keep one episode's keywords to well under a second.
MAX_WORDS = 12_000
# ISO 639-1 → the name of YAKE's stop-word list where they differ.
_YAKE_CODES = {"cs": "cz"}
_FILLERS = frozenset(
    """yeah yes yep okay ok oh uh um hmm gonna wanna gotta kinda sorta like just really
    actually basically literally right know mean think thing things stuff lot lots guys guy
    gonna got get getting go going say said says talk talking pretty little bit kind sort
    way maybe probably definitely obviously totally absolutely course sure well want good
    great cool awesome today speaker laughter laughs music time times people back show shows
    episode episodes podcast podcasts make put hey feel feeling listen listening interesting
    work day days year years man big remember important point start started called""".split()
)


class Keyword(dict):
    """``{"keyword": str, "score": float}`` (a dict, as stored and served)."""


@cache
def _stopwords(code: str) -> frozenset[str]:
    import yake

    folder = Path(yake.__file__).parent / "core" / "StopwordsList"
    path = folder / f"stopwords_{code}.txt"
    if not path.is_file():
        path = folder / "stopwords_noLang.txt"
    words = frozenset(
        w.strip().lower()
        for w in path.read_text(encoding="utf-8", errors="replace").splitlines()
        if w.strip()
    )
    return words | _FILLERS if code == "en" else words


def yake_language(language: str) -> str:
    """YAKE's stop-word list for a language tag ("en-US" → "en"; "" → "noLang")."""
    code = (language or "").strip().lower().replace("_", "-").split("-")[0]
    if not code:
        return "noLang"
    return _YAKE_CODES.get(code, code)


def extract_keywords(text: str, language: str = "en", *, top: int = DEFAULT_TOP) -> list[Keyword]:
    """The ``top`` keywords of ``text``, most relevant first."""
    import yake

    words = text.split()
    if not words:
        return []
    code = yake_language(language)
    extractor = yake.KeywordExtractor(
        lan=code if code != "noLang" else "en",
        n=3,
        dedup_lim=0.7,
        top=top * 3,  # fillers and near-duplicates are dropped below
        stopwords=set(_stopwords(code)),
    )
    found = extractor.extract_keywords(" ".join(words[:MAX_WORDS]))
    out: list[Keyword] = []
    kept: list[set[str]] = []
    stop = _stopwords(code)
    for phrase, score in sorted(found, key=lambda item: (item[1], item[0].lower())):
        key = phrase.lower()
        tokens = {t.removesuffix("s") for t in key.split()}
        if all(t in stop or t.isdigit() or len(t) < 3 for t in key.split()):
            continue
        # "models" after "model", "learning" after "deep learning": nothing new.
        if any(tokens <= other for other in kept):
            continue
        kept.append(tokens)
        out.append(Keyword(keyword=key, score=round(float(score), 6)))
        if len(out) == top:
            break
    return out


def episode_keywords(
    passages: Sequence[Passage],
    language: str = "en",
    *,
    skip: Iterable[int] = (),
    top: int = DEFAULT_TOP,
) -> list[Keyword]:
    """Keywords of an episode's passages, leaving out the ``passage_no`` in ``skip``
    (its ad reads)."""
    skipped = set(skip)
    text = "\n".join(p.text for p in passages if p.passage_no not in skipped)
    return extract_keywords(text, language, top=top)
