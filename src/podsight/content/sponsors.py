"""Sponsor segments: the passages of an episode that are ad reads, who they advertise, when.

A passage is an ad read when its cues add up to :data:`AD_SCORE` or more:

- **strong cues** (2 each): "brought to you by", "sponsored by", "support for this show
  comes from", "thanks to our sponsor", "today's sponsor", "use code", "promo code",
  "N% off", "free trial", a promo URL ("example.com/podcast", "example.com slash show",
  "go to example.com");
- **weak cues** (1 each): a web address that is not a platform every show names for itself
  (Patreon, YouTube, …), "sign up today", "free shipping", "limited time", "terms apply", …;
- **repetition** (1.5): the passage is a near-duplicate of a passage of another episode of
  the same show (the same read, week after week). Intros and outros repeat too, so
  repetition alone never makes an ad: it needs one more cue.

A passage next to an ad read that names the same sponsor again continues the read (long
reads span two passages), unless more than ``READ_GAP_S`` lies between them (a pre-roll and
a mid-roll are two reads, even where the transcript's gaps make their passages neighbours).
The sponsor is named where the text names it ("brought to you by Acme",
"acme.com/podcast"), with the promo code when one is read out. Segments keep the passages'
times (``None`` where the transcript has none).

Everything here is pure: :func:`detect_sponsors` takes passages, and the show's other
passages for repetition (:func:`repeated_passages`); the analysis step decides what to load.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from podsight.content.segments import Passage

__all__ = [
    "AD_SCORE",
    "READ_GAP_S",
    "REPEAT_COSINE",
    "PassageVerdict",
    "SponsorSegment",
    "detect_sponsors",
    "judge_passage",
    "repeated_passages",
    "sponsor_passage_nos",
]

AD_SCORE = 2.0
# Cosine of two passage vectors above which they are the same read in other words.
REPEAT_COSINE = 0.9
# Share of the smaller passage's word 5-grams found in the other: the same read verbatim.
REPEAT_SHINGLES = 0.3
_REPEAT_WEIGHT = 1.5

_STRONG: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (name, re.compile(pattern, re.IGNORECASE))
    for name, pattern in (
        ("brought to you by", r"\bbrought to you (?:exclusively |in part |today )?by\b"),
        ("sponsored by", r"(?<!not )\bsponsored (?:in part |exclusively )?by\b"),
        ("support comes from", r"\bsupport (?:for (?:this|the) (?:show|podcast|episode) )?"
         r"(?:comes|is provided) from\b"),
        ("thanks to our sponsor", r"\bthanks? (?:you )?to (?:our|today'?s|this week'?s) "
         r"sponsors?\b"),
        ("today's sponsor", r"\b(?:today'?s|this week'?s|this episode'?s) sponsors?\b"),
        ("our sponsor", r"\b(?:our|their) (?:friends|partners?|sponsors?) (?:over )?(?:at|from)\b|"
         r"\b(?:from|by|thanks to|is|it's) our (?:\w+ )?sponsors?\b|\bfor sponsoring (?:this|the|"
         r"our) (?:show|podcast|episode)\b"),
        ("made possible by", r"\b(?:show|podcast|episode|segment) (?:is|was) made possible "
         r"(?:by|through|with)\b"),
        ("use code", r"\b(?:use|using|enter|with|redeem) (?:the |that |this )?"
         r"(?:promo |offer |discount |coupon )?code\b"),
        ("promo code", r"\b(?:promo|offer|discount|coupon) code\b"),
        ("% off", r"(?:\d+ ?%|\b(?:\w+ )?percent|\bhalf) off\b"),
        ("free trial", r"\bfree trial\b"),
        # The same cues in the other languages of the catalog (es, pt, de, fr, sv): an ad
        # read says who presents the episode, a code to use, and a discount.
        ("sponsored by", r"\b(?:patrocinad[oa]s? por|presentad[oa] por|ofrecid[oa] por|"
         r"oferecid[oa] por|apresentad[oa] por|präsentiert von|gesponsert von|"
         r"unterstützt von|offerte? par|sponsorisée? par|présentée? par|parrainée? par|"
         r"presenteras av|sponsras av|sponsrat av)\b"),
        ("use code", r"\b(?:usa|usad|usando|utiliza) el código\b|\bcódigo (?:de descuento|"
         r"promocional|de desconto)\b|\b(?:use|usem|usando) o (?:código|cupom)\b|"
         r"\bcupom de desconto\b|\b(?:nutzt|nutze|nutzen sie|verwendet|gebt) (?:den|unseren) "
         r"(?:gutschein|rabatt)?code\b|\b(?:gutschein|rabatt)code\b|\b(?:utilisez|utilise|"
         r"entrez) le code\b|\bcode promo\b|\banvänd (?:rabatt)?koden\b|\brabattkod"),
        ("% off", r"(?:%|\bpor ciento|\bpor cento|\bprozent|\bpour cent|\bprocents?)\s+"
         r"(?:de\s+)?(?:descuento|desconto|rabatt|réduction|remise)\b"),
    )
)  # fmt: skip

_WEAK: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (name, re.compile(pattern, re.IGNORECASE))
    for name, pattern in (
        ("sign up", r"\bsign up (?:today|now|at|for free)\b"),
        ("free shipping", r"\bfree shipping\b"),
        ("limited time", r"\blimited[- ]time\b"),
        ("terms apply", r"\b(?:terms|restrictions|conditions) (?:and conditions )?apply\b"),
        ("first order", r"\byour first (?:order|purchase|month|year|box)\b"),
        ("download the app", r"\bdownload the (?:\w+ )?app\b"),
        ("money-back guarantee", r"\bmoney[- ]back guarantee\b"),
        ("exclusive offer", r"\b(?:exclusive|special) (?:offer|deal|discount)s?\b"),
        ("disclaimer", r"\b(?:not available (?:everywhere|in all)|subject to (?:\w+ )?(?:approval|"
         r"review|change)|void where prohibited|eligibility varies|requires a compatible|"
         r"gambling problem|must be (?:21|18)|21 and over|see (?:\w+ ){0,3}for details)\b"),
        ("free estimate", r"\bfree (?:estimate|consultation|quote|sample|assessment)s?\b"),
        ("phone number", r"\b(?:call|text)(?: us)?(?: at)? (?:1[ -]?)?\(?\d{3}\)?[ -]?\d{3}[ -]?"
         r"\d{4}\b"),
        ("official partner", r"\bofficial (?:\w+ ){0,3}(?:partner|provider|sponsor|sunglasses|"
         r"beer|drink)\b"),
        ("listeners get", r"\b(?:listeners|you) (?:can )?(?:get|save)\b.{0,40}\b(?:off|free)\b"),
    )
)  # fmt: skip

# A web address read out to be visited: "example.com/podcast", "example.com slash show",
# "go to example.com". Each reading counts (a read says its address twice), at most twice.
# Country domains of the catalog's languages, and "example" (RFC 2606, the demo's brands).
_TLDS = "es|mx|ar|pt|br|de|at|ch|fr|be|se|eu|uk|example"
_PROMO_URL = re.compile(
    r"\b(?:(?:go|head)(?: on)?(?: over)? to|visit|check out|learn more at|more (?:info|"
    r"information|details) at|online at)\s*@?\s*(?:the |www\.)?(?:[a-z]+ ){0,2}[a-z0-9][a-z0-9-]*"
    r"(?:\.| dot )(?:com|net|org|io|co|ai|app|shop|" + _TLDS + r")\b|"
    r"\b[a-z0-9][a-z0-9-]*(?:\.| dot )"
    r"(?:com|net|org|io|co|fm|ai|app|shop|" + _TLDS + r")(?:/| slash )[a-z0-9]",
    re.IGNORECASE,
)
_DOMAIN = re.compile(
    r"\b((?:www\.)?([a-z0-9][a-z0-9-]*)(?:\.| dot )"
    r"(?:com|net|org|io|co|fm|ai|app|shop|" + _TLDS + r"))\b",
    re.IGNORECASE,
)
_LAST_WORD = re.compile(r"(?<![\w.])([a-z]{3,}) $")  # a lower-case word right before
_NOT_IN_ADDRESS = frozenset(
    "the and our your their visit check out over head go going more info information "
    "website site online email details today now just also then see find at dot com "
    # the same small words in the catalog's other languages ("visita", "geht auf", "sur")
    "visita visite entra acesse auf unter geht besucht sur rendez till och sidan para".split()
)
# Platforms a show names for itself (support us, follow us, write to us): never a sponsor.
_OWN_PLATFORMS = frozenset(
    "patreon substack youtube gmail yahoo hotmail outlook twitter x facebook instagram tiktok "
    "apple spotify google amazon linktr linkedin discord twitch reddit github buymeacoffee "
    "ko-fi kofi venmo paypal cashapp soundcloud anchor libsyn buzzsprout podbean iheart "
    "iheartradio megaphone simplecast acast art19 podtrac".split()
)

# Words that end a sponsor's name in "brought to you by NAME, ...".
_NAME_STOP = frozenset(
    "and or but who which that where whose with for from to at on in is are was were the "
    "proud your you our we get go visit makes make helps help the official a an if so because "
    "now today plus also by when this that's its it's as us me them based located offering "
    "who's here there".split()
)
_NAME_AFTER = re.compile(
    r"\b(?:brought to you (?:exclusively |in part |today )?by|sponsored (?:in part |exclusively )?"
    r"by|support (?:for (?:this|the) (?:show|podcast|episode) )?(?:comes|is provided) from|"
    r"thanks? (?:you )?to (?:our|today'?s)"
    r" sponsors?,?|(?:today'?s|this week'?s|this episode'?s) sponsor (?:is|,)|our (?:friends|"
    r"partners?|sponsors?) (?:over )?(?:at|from)|(?:and|also|plus) (?:by|from)|"
    r"patrocinad[oa]s? por|ofrecid[oa] por|oferecid[oa] por|präsentiert von|gesponsert von|"
    r"offerte? par|sponsorisée? par|presenteras av|sponsras av)\s+"
    r"(?:(?:the|our) (?:\w+ )?(?:folks|people|team|friends) (?:at|over at|from) )?"
    r"([^.,;:!?\n]{1,60})",
    re.IGNORECASE,
)
_CODE = re.compile(
    r"\b(?:use|using|enter|with|redeem) (?:the |that |this )?(?:promo |offer |discount |coupon )?"
    r"code,? "
    r"([A-Za-z0-9]{2,20}(?: [A-Z0-9]{2,10})?)",
    re.IGNORECASE,
)
# The other languages name the code after its word; only an upper-case code counts there.
_CODE_INTL = re.compile(
    r"\b(?i:código|cupom|code|koden|rabattkoden?)\s+([A-Z0-9]{3,20})\b"
)
_CODE_STOP = frozenset("at for and to when on the in".split())
_WORD = re.compile(r"[\w']+")


@dataclass(frozen=True, slots=True)
class PassageVerdict:
    """Why a passage is (or is not) an ad read: its score, the cues found, the sponsor."""

    score: float
    cues: tuple[str, ...]
    names: tuple[str, ...] = ()  # sponsors the text names, in order
    url: str = ""
    code: str = ""

    @property
    def is_ad(self) -> bool:
        return self.score >= AD_SCORE


@dataclass(slots=True)
class SponsorSegment:
    """One ad read: consecutive ad passages about one sponsor (``name`` "" when unnamed)."""

    name: str
    start_s: float | None
    end_s: float | None
    passage_nos: list[int]
    cues: list[str] = field(default_factory=list)
    url: str = ""
    code: str = ""
    repeated: bool = False  # also read in another episode of the show
    text: str = ""  # the first words of the read

    def as_json(self) -> dict:
        return {
            "name": self.name,
            "start_s": self.start_s,
            "end_s": self.end_s,
            "passages": list(self.passage_nos),
            "cues": list(self.cues),
            "url": self.url,
            "code": self.code,
            "repeated": self.repeated,
            "text": self.text,
        }


def _squash(text: str) -> str:
    # Accents folded first: "Fjällkaffe" is read out as fjallkaffe.se.
    folded = unicodedata.normalize("NFKD", text.lower())
    return re.sub(r"[^a-z0-9]", "", folded)


def _clean_name(raw: str) -> str:
    words: list[str] = []
    for word in raw.removeprefix("the ").removeprefix("The ").split():
        bare = word.strip("'\"()[]")
        if not bare or bare.lower() in _NAME_STOP or len(words) >= 4:
            break
        words.append(bare)
    name = " ".join(words)
    if name and name == name.lower():  # speech recognisers write brands in lower case
        name = " ".join(w[:1].upper() + w[1:] for w in words)
    return name


def _domains(text: str) -> list[tuple[str, str]]:
    """(address, label) of every web address but the shows' own platforms."""
    out = []
    for match in _DOMAIN.finditer(text):
        label = match.group(2).lower()
        address = match.group(1).lower().removeprefix("www.").replace(" dot ", ".")
        # Speech recognisers split a brand's address: "simply safe.com" is simplysafe.com.
        before = _LAST_WORD.search(text, 0, match.start())
        if before is not None and before.group(1) not in _NOT_IN_ADDRESS:
            label = before.group(1) + label
            address = before.group(1) + address
        if label not in _OWN_PLATFORMS:
            out.append((address, label))
    return out


def judge_passage(text: str, *, repeated: bool = False) -> PassageVerdict:
    """The ad-read cues of one passage's text (``repeated``: read in another episode too)."""
    cues: list[str] = []
    score = 0.0
    for name, pattern in _STRONG:
        if pattern.search(text):
            cues.append(name)
            score += 2
    weak = [name for name, pattern in _WEAK if pattern.search(text)]
    domains = _domains(text)
    promo_urls = [
        m.group(0)
        for m in _PROMO_URL.finditer(text)
        if _domains(m.group(0).replace(" slash", "/").replace("@", " "))
    ]
    if promo_urls:
        weak += ["promo url"] * min(2, len(promo_urls))
    elif domains:
        weak.append("web address")
    cues += weak
    score += len(weak)
    if repeated:
        cues.append("repeated in another episode")
        score += _REPEAT_WEIGHT
    names: list[str] = []
    for match in _NAME_AFTER.finditer(text):
        name = _clean_name(match.group(1))
        if name and _squash(name) not in {_squash(n) for n in names}:
            names.append(name)
    url = ""
    if domains:
        squashed = [_squash(n) for n in names]
        # The address that spells a named sponsor; without a name, the first one read out.
        url = next(
            (d for d, label in domains if any(s and (s in label or label in s) for s in squashed)),
            "" if names else domains[0][0],
        )
    code = ""
    if (found := _CODE.search(text)) is not None:
        words = [w for w in found.group(1).split() if w.lower() not in _CODE_STOP]
        code = " ".join(words[:1]).upper() if words else ""
    if not code and (found := _CODE_INTL.search(text)) is not None:
        code = found.group(1)
    return PassageVerdict(score=score, cues=tuple(cues), names=tuple(names), url=url, code=code)


def _sponsor_name(verdict: PassageVerdict) -> str:
    if verdict.names:
        return verdict.names[0]
    if verdict.url:
        return verdict.url.split(".")[0].capitalize() if "." in verdict.url else verdict.url
    return ""


def _mentions(text: str, name: str) -> int:
    key = _squash(name)
    return _squash(text).count(key) if len(key) >= 4 else 0


# Passages further apart than this are not one read, whatever their numbers: a transcript
# with gaps (cues minutes apart) has neighbouring passages that are not neighbours in time,
# and a pre-roll and a mid-roll of the same sponsor are two reads.
READ_GAP_S = 30.0


def _contiguous(before: Passage, after: Passage) -> bool:
    """Whether ``after`` follows ``before`` without a gap (untimed passages: yes)."""
    if before.end_s is None or after.start_s is None:
        return True
    return after.start_s - before.end_s <= READ_GAP_S


def detect_sponsors(
    passages: Sequence[Passage], *, repeated: Iterable[int] = ()
) -> list[SponsorSegment]:
    """The ad reads among one episode's ``passages`` (in order), merged into segments.

    ``repeated`` holds the ``passage_no`` of passages read in other episodes of the show
    too (:func:`repeated_passages`)."""
    repeated_set = set(repeated)
    verdicts = [judge_passage(p.text, repeated=p.passage_no in repeated_set) for p in passages]
    flagged = [v.is_ad for v in verdicts]
    names = [_sponsor_name(v) for v in verdicts]
    # A read continues into a neighbour that names its sponsor again: twice, or once beside
    # another cue. Only sponsors named outright, and one passage on each side (no chains):
    # a web address's label ("coffee" of "ratio coffee.com") is too common a word.
    for i in [i for i, v in enumerate(verdicts) if v.is_ad and v.names]:
        for j in (i - 1, i + 1):
            if not 0 <= j < len(passages) or flagged[j]:
                continue
            first, second = sorted((i, j))
            if not _contiguous(passages[first], passages[second]):
                continue
            name = verdicts[i].names[-1 if j > i else 0]
            mentions = _mentions(passages[j].text, name)
            if mentions >= 2 or (mentions and verdicts[j].score > 0):
                flagged[j] = True
                names[j] = name
                verdicts[j] = PassageVerdict(
                    verdicts[j].score,
                    (*verdicts[j].cues, f"continues the {name} read"),
                    verdicts[j].names,
                    verdicts[j].url,
                    verdicts[j].code,
                )
    segments: list[SponsorSegment] = []
    for i, passage in enumerate(passages):
        if not flagged[i]:
            continue
        verdict = verdicts[i]
        last = segments[-1] if segments else None
        adjacent = (
            last is not None
            and last.passage_nos[-1] == passage.passage_no - 1
            and i > 0
            and _contiguous(passages[i - 1], passage)
        )
        same = last is not None and (
            not names[i] or not last.name or _squash(names[i]) == _squash(last.name)
        )
        if adjacent and same:
            last.passage_nos.append(passage.passage_no)
            last.end_s = passage.end_s if passage.end_s is not None else last.end_s
            last.name = last.name or names[i]
            last.url = last.url or verdict.url
            last.code = last.code or verdict.code
            last.repeated = last.repeated or passage.passage_no in repeated_set
            last.cues += [c for c in verdict.cues if c not in last.cues]
            continue
        segments.append(
            SponsorSegment(
                name=names[i],
                start_s=passage.start_s,
                end_s=passage.end_s,
                passage_nos=[passage.passage_no],
                cues=list(verdict.cues),
                url=verdict.url,
                code=verdict.code,
                repeated=passage.passage_no in repeated_set,
                text=" ".join(passage.text.split()[:40]),
            )
        )
        # Further sponsors named in the same passage ("… and by Kettering Health").
        for extra in verdict.names[1:]:
            segments.append(
                SponsorSegment(
                    name=extra,
                    start_s=passage.start_s,
                    end_s=passage.end_s,
                    passage_nos=[passage.passage_no],
                    cues=list(verdict.cues),
                    text=segments[-1].text,
                )
            )
    return segments


def sponsor_passage_nos(segments: Iterable[SponsorSegment]) -> set[int]:
    """Every passage an ad read covers: the ones topics, keywords and similarity skip."""
    return {n for s in segments for n in s.passage_nos}


def _shingles(text: str) -> set[int]:
    words = _WORD.findall(text.lower())
    return {hash(tuple(words[i : i + 5])) for i in range(max(0, len(words) - 4))}


def repeated_passages(
    episodes: Mapping[int, Sequence[Passage]], *, cosine: float = REPEAT_COSINE
) -> dict[int, set[int]]:
    """Per episode id, the ``passage_no`` of its passages that another episode of the same
    show repeats: vectors closer than ``cosine`` or, verbatim, a third of the word 5-grams
    shared. ``episodes`` are one show's episodes (the caller bounds how many: a read repeats
    week after week, so the recent ones suffice)."""
    keys: list[tuple[int, int]] = []
    texts: list[set[int]] = []
    vectors: list[np.ndarray | None] = []
    for episode_id, passages in episodes.items():
        for p in passages:
            if p.kind != "transcript":
                continue
            keys.append((episode_id, p.passage_no))
            texts.append(_shingles(p.text))
            vectors.append(p.vector)
    out: dict[int, set[int]] = {e: set() for e in episodes}
    if not keys:
        return out
    owners = np.array([k[0] for k in keys])
    other = owners[:, None] != owners[None, :]
    hit = np.zeros((len(keys), len(keys)), dtype=bool)
    if all(v is not None for v in vectors):
        matrix = np.stack(vectors).astype(np.float32)
        hit |= (matrix @ matrix.T) >= cosine
    # Verbatim reads: compare shingle sets only between passages of different episodes.
    index: dict[int, list[int]] = {}
    for i, shingles in enumerate(texts):
        for s in shingles:
            index.setdefault(s, []).append(i)
    for i, shingles in enumerate(texts):
        if not shingles:
            continue
        counts: dict[int, int] = {}
        for s in shingles:
            for j in index[s]:
                if j != i and owners[j] != owners[i]:
                    counts[j] = counts.get(j, 0) + 1
        for j, shared in counts.items():
            if shared / max(1, min(len(shingles), len(texts[j]))) >= REPEAT_SHINGLES:
                hit[i, j] = hit[j, i] = True
    hit &= other
    for i in np.flatnonzero(hit.any(axis=1)):
        out[keys[i][0]].add(keys[i][1])
    return out
