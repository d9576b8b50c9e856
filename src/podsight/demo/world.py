"""Deterministic demo world: shows, hosts and episodes built from a seed.

The world is the single source of truth for the demo. Renderers (RSS today; Podcast Index,
Apple, Spotify and YouTube records later) only *present* it, so every representation of a show
agrees on the facts while differing in format. Everything derives from ``random.Random(seed)``
and the fixed ``EPOCH``: the same seed always yields the same world, byte for byte.
"""

from __future__ import annotations

import math
import random
import re
import unicodedata
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

__all__ = [
    "BREAKAGES",
    "BREAK_BAD_DATE",
    "BREAK_LATIN1",
    "BREAK_NOT_A_FEED",
    "BREAK_PREAMBLE",
    "BREAK_TRUNCATED",
    "BREAK_UNBOUND_PREFIX",
    "BREAK_UNDEFINED_ENTITY",
    "CATEGORIES",
    "DEFAULT_BASE_URL",
    "EPOCH",
    "MALFORMED_BREAKAGES",
    "PODCAST_NS",
    "PODCAST_NS_LEGACY",
    "Episode",
    "FeedStyle",
    "Funding",
    "Person",
    "Show",
    "Sponsor",
    "Transcript",
    "World",
    "build_world",
    "language_topics",
    "podcast_guid_for",
]

# "Now" of the demo world; all dates are derived from it, never from the wall clock.
EPOCH = datetime(2025, 3, 1, 6, 0, tzinfo=UTC)
DEFAULT_BASE_URL = "https://demo.podsight.invalid"
PODCAST_NS = "https://podcastindex.org/namespace/1.0"
PODCAST_NS_LEGACY = "https://github.com/Podcastindex-org/podcast-namespace/blob/main/docs/1.0.md"
# Namespace for podcast:guid (uuid5 of the feed URL without scheme), per the Podcasting 2.0 spec.
_PODCAST_GUID_NS = uuid.UUID("ead4c236-bf58-58c6-a2c6-a6b28d128cb6")

# Breakage kinds seen in real feeds. The first five make the document not well-formed XML.
BREAK_NOT_A_FEED = "not_a_feed"  # feed URL serves an HTML error page
BREAK_TRUNCATED = "truncated"  # transfer cut off mid-document
BREAK_PREAMBLE = "preamble"  # PHP warning printed before the XML declaration
BREAK_UNDEFINED_ENTITY = "undefined_entity"  # &nbsp; / &hellip; without a DTD
BREAK_UNBOUND_PREFIX = "unbound_prefix"  # podcast: elements without xmlns:podcast
BREAK_LATIN1 = "latin1"  # declared ISO-8859-1 with Latin-1 bytes (well-formed)
BREAK_BAD_DATE = "bad_date"  # RFC 822 dates in sloppy variants (well-formed)
BREAKAGES = (
    BREAK_NOT_A_FEED,
    BREAK_TRUNCATED,
    BREAK_PREAMBLE,
    BREAK_UNDEFINED_ENTITY,
    BREAK_UNBOUND_PREFIX,
    BREAK_LATIN1,
    BREAK_BAD_DATE,
)
MALFORMED_BREAKAGES = frozenset(BREAKAGES[:5])

# Real iTunes categories (with subcategory where the topic lives in one).
CATEGORIES: dict[str, tuple[str, ...]] = {
    "tech": ("Technology",),
    "technews": ("News", "Tech News"),
    "politics": ("News", "Politics"),
    "doc": ("Society & Culture", "Documentary"),
    "entre": ("Business", "Entrepreneurship"),
    "natsci": ("Science", "Natural Sciences"),
    "mental": ("Health & Fitness", "Mental Health"),
    "comedy": ("Comedy",),
    "soccer": ("Sports", "Soccer"),
    "history": ("History",),
    "books": ("Arts", "Books"),
    "food": ("Arts", "Food"),
    "langlearn": ("Education", "Language Learning"),
}


@dataclass(frozen=True, slots=True)
class _Lang:
    tags: tuple[str, ...]  # language tags as real feeds spell them
    first: tuple[str, ...]
    last: tuple[str, ...]
    topics: dict[str, tuple[str, ...]]  # category key -> topic phrases
    show_titles: tuple[str, ...]  # {topic} / {Topic} / {host}
    ep_titles: tuple[str, ...]  # {topic} {Topic} {year}; guest-free
    ep_titles_guest: tuple[str, ...]  # additionally {guest}
    show_desc: str  # {topic} {hosts}; non-ASCII on purpose (Latin-1 breakage needs it)
    ep_intro: str  # {host} {topic}
    ep_intro_guest: str  # {host} {guest} {topic}
    ep_body: str  # {topic} {year}
    links: str
    notes: str
    funding: str
    trailer: str
    bonus: str  # {topic}


_LANGS: dict[str, _Lang] = {
    "en": _Lang(
        ("en", "en-us", "en-US", "en-GB"),
        ("James", "Olivia", "Priya", "Marcus", "Hannah", "Daniel", "Aisha", "Tom", "Grace"),
        ("Carter", "Nguyen", "Okafor", "Bennett", "Hughes", "Patel", "Murphy", "Reyes", "Walsh"),
        {
            "tech": ("open source", "cloud computing", "developer tools", "cybersecurity", "AI"),
            "technews": ("gadgets", "big tech", "startup funding"),
            "politics": ("elections", "local government", "policy"),
            "doc": ("small towns", "forgotten inventors", "city life"),
            "entre": ("bootstrapping", "first hires", "pricing", "fundraising"),
            "natsci": ("birds", "oceans", "fungi", "climate"),
            "mental": ("burnout", "sleep", "anxiety", "mindfulness"),
            "comedy": ("bad movies", "awkward dates", "office life"),
            "soccer": ("Premier League", "transfer rumours", "tactics", "women's football"),
            "history": ("Roman Empire", "Cold War", "medieval Europe", "ancient Egypt"),
            "books": ("science fiction", "literary fiction", "poetry", "crime novels"),
            "food": ("sourdough", "street food", "home cooking"),
            "langlearn": ("Spanish grammar", "English idioms", "pronunciation"),
        },
        (
            "The {Topic} Show",
            "{Topic} Weekly",
            "{Topic} Today",
            "Talking {Topic}",
            "{host}'s {Topic} Hour",
            "All About {Topic}",
            "The {Topic} Podcast",
            "{Topic} Unpacked",
            "Notes on {Topic}",
        ),
        (
            "{Topic}: what nobody tells you",
            "Why {topic} matters more than ever",
            "Ask us anything about {topic}",
            "{Topic} in {year}",
            "The future of {topic}",
            "Five myths about {topic}",
            "How we got {topic} wrong",
            "A beginner's guide to {topic}",
        ),
        ("{guest} on {topic}", "Interview: {guest}", "{guest} explains {topic}"),
        "A show about {topic} for curious people — fresh episodes, honest conversations and "
        "no jargon. Hosted by {hosts}.",
        "This week {host} digs into {topic}.",
        "{host} talks with {guest} about {topic}.",
        "We look at where {topic} came from, what changed in {year} and what comes next.",
        "Links",
        "Show notes",
        "Support the show",
        "Trailer",
        "Bonus: {topic}",
    ),
    "es": _Lang(
        ("es", "es-ES", "es-mx"),
        ("Lucía", "Javier", "Carmen", "Diego", "Sofía", "Andrés", "Marta", "Pablo"),
        ("García", "Fernández", "López", "Martínez", "Ruiz", "Navarro", "Ortega", "Castillo"),
        {
            "tech": ("software libre", "inteligencia artificial", "ciberseguridad"),
            "entre": ("emprendimiento", "finanzas personales"),
            "soccer": ("LaLiga", "fútbol femenino", "táctica"),
            "history": ("la Guerra Civil", "el Imperio romano"),
            "books": ("novela negra", "poesía"),
            "mental": ("salud mental", "ansiedad"),
            "langlearn": ("inglés para hispanohablantes",),
        },
        ("Hablemos de {topic}", "{Topic} al día", "El podcast de {topic}", "Café y {topic}"),
        (
            "¿Por qué importa {topic}?",
            "Todo sobre {topic} en {year}",
            "Mitos sobre {topic}",
            "El futuro de {topic}",
        ),
        ("{guest} nos habla de {topic}", "Entrevista con {guest}"),
        "Un podcast semanal sobre {topic}, con conversaciones y análisis. Presentan {hosts}.",
        "Esta semana {host} analiza {topic}.",
        "{host} conversa con {guest} sobre {topic}.",
        "Repasamos de dónde viene {topic}, qué cambió en {year} y qué viene después.",
        "Enlaces",
        "Notas del episodio",
        "Apoya el programa",
        "Tráiler",
        "Extra: {topic}",
    ),
    "de": _Lang(
        ("de", "de-DE"),
        ("Lena", "Jonas", "Katrin", "Matthias", "Sophie", "Felix", "Anna", "Tobias"),
        ("Müller", "Schneider", "Wagner", "Becker", "Hoffmann", "Schäfer", "Krause", "Vogel"),
        {
            "tech": ("Open Source", "Datenschutz", "künstliche Intelligenz"),
            "natsci": ("Astronomie", "Biologie", "Klimaforschung"),
            "history": ("Weimarer Republik", "Mittelalter"),
            "entre": ("Gründung", "Mittelstand"),
            "soccer": ("Bundesliga", "Taktik"),
            "doc": ("Kleinstädte",),
        },
        ("{Topic} kompakt", "Alles über {topic}", "Zeitreise: {Topic}", "{Topic} – der Podcast"),
        (
            "Warum {topic} wichtig ist",
            "{Topic} im Jahr {year}",
            "Fünf Mythen über {topic}",
            "Die Zukunft: {topic}",
        ),
        ("{guest} über {topic}", "Im Gespräch mit {guest}"),
        "Der Podcast über {topic} – jede Woche neu, mit Gästen und Hintergründen. Mit {hosts}.",
        "Diese Woche schaut sich {host} {topic} genauer an.",
        "{host} spricht mit {guest} über {topic}.",
        "Woher kommt {topic}, was hat sich {year} geändert und wie geht es weiter?",
        "Links",
        "Shownotes",
        "Unterstütze den Podcast",
        "Trailer",
        "Bonusfolge: {topic}",
    ),
    "fr": _Lang(
        ("fr", "fr-FR", "fr-ca"),
        ("Camille", "Julien", "Élodie", "Thomas", "Inès", "Mathieu", "Chloé", "Nicolas"),
        ("Martin", "Bernard", "Dubois", "Lefèvre", "Moreau", "Laurent", "Girard", "Roux"),
        {
            "books": ("la littérature", "la bande dessinée", "la poésie"),
            "history": ("la Révolution française", "le Moyen Âge"),
            "comedy": ("la vie de bureau",),
            "doc": ("la vie en ville",),
            "natsci": ("les océans", "l'astronomie"),
            "tech": ("l'intelligence artificielle", "le logiciel libre"),
            "food": ("la cuisine de saison",),
        },
        ("Parlons de {topic}", "{Topic}, le podcast", "Les carnets : {topic}"),
        (
            "Pourquoi {topic} compte",
            "{Topic} en {year}",
            "Cinq idées reçues sur {topic}",
            "L'avenir de {topic}",
        ),
        ("{guest} nous parle de {topic}", "Rencontre avec {guest}"),
        "Un podcast sur {topic} : épisodes réguliers, invités et débats. Animé par {hosts}.",
        "Cette semaine, {host} explore {topic}.",
        "{host} reçoit {guest} pour parler de {topic}.",
        "D'où vient {topic}, qu'est-ce qui a changé en {year} et que nous réserve la suite ?",
        "Liens",
        "Notes de l'épisode",
        "Soutenez le podcast",
        "Bande-annonce",
        "Bonus : {topic}",
    ),
    "pt": _Lang(
        ("pt-BR", "pt-br", "pt"),
        ("Ana", "João", "Beatriz", "Rafael", "Camila", "Lucas", "Mariana", "Thiago"),
        ("Silva", "Santos", "Oliveira", "Souza", "Costa", "Pereira", "Almeida", "Ferreira"),
        {
            "soccer": ("Brasileirão", "futebol feminino", "tática"),
            "mental": ("saúde mental", "ansiedade"),
            "entre": ("empreendedorismo", "startups"),
            "books": ("literatura brasileira", "poesia"),
            "technews": ("tecnologia", "celulares"),
        },
        ("Falando de {topic}", "{Topic} em Pauta", "Café com {topic}"),
        (
            "Por que {topic} importa",
            "{Topic} em {year}",
            "Cinco mitos sobre {topic}",
            "O futuro de {topic}",
        ),
        ("{guest} fala sobre {topic}", "Entrevista: {guest}"),
        "Um podcast sobre {topic}, com convidados e análises toda semana. Apresentação: {hosts}.",
        "Nesta semana, {host} fala sobre {topic}.",
        "{host} conversa com {guest} sobre {topic}.",
        "De onde vem {topic}, o que mudou em {year} e o que vem por aí.",
        "Links",
        "Notas do episódio",
        "Apoie o podcast",
        "Trailer",
        "Bônus: {topic}",
    ),
    "sv": _Lang(
        ("sv", "sv-SE"),
        ("Elin", "Erik", "Maja", "Oskar", "Sara", "Johan", "Linnea", "Anders"),
        ("Andersson", "Johansson", "Lindqvist", "Berg", "Nyström", "Holm", "Sjöberg", "Ekström"),
        {
            "natsci": ("fåglar", "skogen", "klimatet"),
            "history": ("vikingatiden", "stormaktstiden"),
            "tech": ("öppen källkod", "programmering"),
            "doc": ("småstäder",),
            "langlearn": ("svenska för nybörjare",),
        },
        ("{Topic} – podden", "Allt om {topic}", "Podden om {topic}"),
        (
            "Därför spelar {topic} roll",
            "{Topic} år {year}",
            "Fem myter om {topic}",
            "Framtiden för {topic}",
        ),
        ("{guest} om {topic}", "Samtal med {guest}"),
        "En podd om {topic}, med samtal och fördjupning varje vecka. Med {hosts}.",
        "Den här veckan tittar {host} närmare på {topic}.",
        "{host} pratar med {guest} om {topic}.",
        "Var kommer {topic} ifrån, vad hände {year} och vad händer sedan?",
        "Länkar",
        "Avsnittsanteckningar",
        "Stöd podden",
        "Trailer",
        "Bonus: {topic}",
    ),
}
_NETWORKS = (
    "Northwind Audio",
    "Estudio Faro",
    "Funkhaus Nord",
    "Studio Lumière",
    "Rádio Aurora",
    "Fyren Media",
)
_GENERATORS = (
    "Buzzsprout (https://www.buzzsprout.com)",
    "Libsyn WebEngine 2.0",
    "Castopod v1.10.5",
    "Podbean",
    "Ghost 5.82",
    "Anchor Podcasts",
)
_WORDPRESS = "https://wordpress.org/?v=6.4.3"
_MEDIA_PREFIXES = (
    "https://cdn.demo-hosting.invalid/audio",
    "https://media.podhost.invalid",
    "https://dts.demo-tracker.invalid/redirect.mp3/cdn.demo-hosting.invalid/audio",
)
_TRANSCRIPT_TYPES = (
    ("text/vtt", "vtt"),
    ("application/x-subrip", "srt"),
    ("application/json", "json"),
    ("text/html", "html"),
)
_NUMBERING = ("", "#{n}: ", "Ep. {n} – ", "{n}. ", "E{n} | ")


@dataclass(slots=True)
class Person:
    name: str
    role: str  # "host" | "guest"
    href: str | None = None
    img: str | None = None


@dataclass(slots=True)
class Transcript:
    url: str
    mime_type: str
    language: str
    rel: str | None = None  # "captions" for timed formats on some hosts


@dataclass(frozen=True, slots=True)
class Sponsor:
    """An (invented) advertiser of a show: its ad reads name it, its promo URL
    (``<domain>/podcast``) and the show's discount code."""

    name: str
    kind: str  # what it sells (talk.BRANDS), for the pitch in the show's language
    domain: str
    code: str
    percent: int


@dataclass(slots=True)
class Funding:
    url: str
    text: str


@dataclass(slots=True)
class FeedStyle:
    """How this show's hosting platform writes its feed (presentation, not facts)."""

    podcast_ns: str | None  # None: the feed does not use Podcasting 2.0 at all
    generator: str
    duration_format: str  # "hms" (01:02:03), "ms" (62:03), "seconds", "mixed" (H:MM:SS / MM:SS)
    explicit_format: str  # "truefalse" | "yesno" | "yesclean"
    cdata: bool  # HTML descriptions in CDATA vs entity-escaped
    content_encoded: bool
    newest_first: bool
    tz_offset_min: int  # publisher's local offset used in pubDate
    tz_label: str  # "+0000", "GMT", "-0500", ...
    item_hosts: bool  # repeat hosts as item-level podcast:person


@dataclass(slots=True)
class Episode:
    index: int  # 0-based chronological position within the show
    title: str
    description_html: str
    published: datetime  # aware, UTC
    duration_s: int
    enclosure_url: str
    enclosure_length: int
    enclosure_type: str
    guid: str | None  # None: item has no <guid>; identity comes from the enclosure URL
    guid_is_permalink: bool
    link: str | None
    episode_type: str  # "full" | "trailer" | "bonus"
    episode: int | None
    season: int | None
    explicit: bool
    image_url: str | None = None
    chapters_url: str | None = None
    transcripts: list[Transcript] = field(default_factory=list)
    persons: list[Person] = field(default_factory=list)


@dataclass(slots=True)
class Show:
    id: int
    slug: str
    title: str
    description_html: str
    language: str  # base code: en, es, de, fr, pt, sv
    language_tag: str  # as written in <language>
    author: str
    owner_name: str
    owner_email: str
    image_url: str
    link: str
    categories: list[tuple[str, ...]]
    topics: list[str]
    hosts: list[Person]
    explicit: bool
    show_type: str  # "episodic" | "serial"
    cadence: str  # "daily" | "weekly" | "biweekly"
    podcast_guid: str  # canonical guid (computed from the original feed URL)
    declares_podcast_guid: bool  # False: podsight has to compute it
    copyright: str
    bitrate_kbps: int
    last_build: datetime
    style: FeedStyle
    funding: Funding | None = None
    episodes: list[Episode] = field(default_factory=list)
    breakage: list[str] = field(default_factory=list)
    sponsors: list[Sponsor] = field(default_factory=list)

    @property
    def feed_filename(self) -> str:
        return f"{self.slug}.xml"

    def feed_url(self, base_url: str = DEFAULT_BASE_URL) -> str:
        return f"{base_url.rstrip('/')}/feeds/{self.feed_filename}"


@dataclass(slots=True)
class World:
    seed: int
    epoch: datetime
    shows: list[Show]

    def show(self, slug: str) -> Show:
        return next(s for s in self.shows if s.slug == slug)

    @property
    def episodes(self) -> list[Episode]:
        return [e for s in self.shows for e in s.episodes]


def language_topics(code: str) -> dict[str, tuple[str, ...]]:
    """The topics shows in language ``code`` draw from, by category key (empty for a
    language the world has no shows in)."""
    lang = _LANGS.get(code)
    return dict(lang.topics) if lang else {}


def podcast_guid_for(feed_url: str) -> str:
    """podcast:guid as the spec defines it: uuid5 of the URL without scheme and trailing slash."""
    bare = re.sub(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", "", feed_url).rstrip("/")
    return str(uuid.uuid5(_PODCAST_GUID_NS, bare))


def _slugify(text: str) -> str:
    ascii_ = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_.lower()).strip("-")


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def english_title(show: Show, episode: Episode, rng: random.Random) -> str | None:
    """The episode's title as a channel that translates its titles into English writes it:
    an English title template with the same guest, or the same topic and year. ``None``
    for an English show, and for a title with neither (a trailer)."""
    if show.language == "en" or show.language not in _LANGS:
        return None
    lang, english = _LANGS[show.language], _LANGS["en"]
    key = next((k for k, topics in lang.topics.items() if list(topics) == show.topics), None)
    if key is None or key not in english.topics:
        return None
    lowered = episode.title.lower()
    topic = next(
        (t for t in sorted(show.topics, key=len, reverse=True) if t.lower() in lowered), None
    )
    guest = next((p.name for p in episode.persons if p.role == "guest"), None)
    if topic is None and guest is None:
        return None
    english_topics = english.topics[key]
    translated = english_topics[show.topics.index(topic or show.topics[0]) % len(english_topics)]
    if guest:
        return _fill(rng.choice(english.ep_titles_guest), topic=translated, guest=guest)
    return _fill(rng.choice(english.ep_titles), topic=translated, year=str(episode.published.year))


def shortened_title(title: str) -> str:
    """A title as a platform with little room shows it: the part before its first colon
    or dash when that part has two words, else its first two thirds."""
    for separator in (": ", " – ", " - ", " — "):
        head = title.split(separator, 1)[0]
        if head != title and sum(w.isalpha() and len(w) > 2 for w in head.split()) >= 2:
            return head  # says something: not "Ep. 2"
    words = title.split()
    return " ".join(words[: -(-2 * len(words) // 3)]) if len(words) > 4 else title


def _fill(template: str, **kw: str) -> str:
    # {Topic} is the topic with a capitalised first letter (for titles/sentence starts).
    kw.setdefault("Topic", _cap(kw.get("topic", "")))
    return template.format(**kw)


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _plan(rng: random.Random, n: int) -> tuple[list[str], dict[int, list[str]], int, int]:
    """Pre-assign features the tests rely on, so they hold for every seed, not just by luck."""
    others = ["es", "de", "fr", "pt", "sv"]
    rng.shuffle(others)
    n_foreign = max(1, round(n * 0.4)) if n > 1 else 0
    langs = ["en"] * (n - n_foreign) + [others[i % len(others)] for i in range(n_foreign)]
    rng.shuffle(langs)
    order = list(range(n))
    rng.shuffle(order)
    breakage: dict[int, list[str]] = {i: [] for i in range(n)}
    for kind in BREAKAGES[: min(len(BREAKAGES), n // 2)]:  # keep at least half the feeds clean
        for i in order:
            if not breakage[i] and (kind != BREAK_LATIN1 or langs[i] != "en"):
                breakage[i].append(kind)
                break
    clean = [i for i in order if not breakage[i]] or order
    guidless = clean[0]  # one show whose items carry no <guid> at all
    legacy_ns = clean[-1]  # one show on the old GitHub namespace URI (more are chosen randomly)
    return langs, breakage, guidless, legacy_ns


def build_world(seed: int = 42, shows: int = 24) -> World:
    """Build the demo world deterministically from ``seed``."""
    rng = random.Random(seed)
    langs, breakage, guidless, legacy_ns = _plan(rng, shows)
    used_slugs: set[str] = set()
    result: list[Show] = []
    for i in range(shows):
        srng = random.Random(rng.getrandbits(64))  # per-show stream: shows don't shift each other
        show = _build_show(
            srng,
            i + 1,
            langs[i],
            breakage[i],
            used_slugs,
            guidless=i == guidless,
            legacy_ns=i == legacy_ns,
        )
        result.append(show)
    for show in result:
        # A stream of its own, so the facts drawn above stay what they were before shows
        # had sponsors and plain-text transcripts.
        _add_sponsors_and_text(random.Random(f"{seed}/{show.slug}/extras"), show)
    return World(seed=seed, epoch=EPOCH, shows=result)


def _add_sponsors_and_text(rng: random.Random, show: Show) -> None:
    from podsight.demo.talk import BRANDS

    if rng.random() < 0.75:
        word = re.sub(r"[^A-Z]", "", _slugify(show.title).split("-")[0].upper())[:8] or "POD"
        for name, kind in rng.sample(BRANDS, rng.choice((1, 1, 2))):
            domain = re.sub(r"[^a-z]", "", name.lower()) + ".example"
            percent = rng.choice((10, 15, 20, 25))
            show.sponsors.append(Sponsor(name, kind, domain, f"{word}{percent}", percent))
    # Some hosts add a plain-text copy next to the timed formats.
    if any(e.transcripts for e in show.episodes) and rng.random() < 0.35:
        for ep in show.episodes:
            if ep.transcripts:
                url = ep.transcripts[0].url.rsplit(".", 1)[0] + ".txt"
                ep.transcripts.append(Transcript(url, "text/plain", show.language_tag))


def _person(rng: random.Random, lang: _Lang, role: str) -> Person:
    name = f"{rng.choice(lang.first)} {rng.choice(lang.last)}"
    slug = _slugify(name)
    href = f"https://people.demo.podsight.invalid/{slug}" if rng.random() < 0.6 else None
    img = f"https://img.demo-hosting.invalid/people/{slug}.jpg" if rng.random() < 0.4 else None
    return Person(name, role, href, img)


def _build_show(
    rng: random.Random,
    show_id: int,
    code: str,
    breakage: list[str],
    used_slugs: set[str],
    *,
    guidless: bool,
    legacy_ns: bool,
) -> Show:
    lang = _LANGS[code]
    cat_key = rng.choice(sorted(lang.topics))
    topic = rng.choice(lang.topics[cat_key])
    hosts = [_person(rng, lang, "host") for _ in range(rng.choice((1, 1, 2, 2, 3)))]
    # English show names are Title Cased; the other languages capitalise only the first word.
    topic_cap = " ".join(map(_cap, topic.split())) if code == "en" else _cap(topic)
    title = _fill(
        rng.choice(lang.show_titles), topic=topic, Topic=topic_cap, host=hosts[0].name.split()[0]
    )
    slug = base = _slugify(title)
    while slug in used_slugs:  # two shows may draw the same pattern+topic
        slug = f"{base}-{len(used_slugs)}"
    used_slugs.add(slug)
    categories = [CATEGORIES[cat_key]]
    if rng.random() < 0.3:
        extra = CATEGORIES[rng.choice(sorted(CATEGORIES))]
        if extra != categories[0]:
            categories.append(extra)
    host_names = ", ".join(h.name for h in hosts[:-1]) + (" & " if len(hosts) > 1 else "")
    host_names += hosts[-1].name
    author = rng.choice(_NETWORKS) if rng.random() < 0.3 else host_names
    uses_ns = BREAK_UNBOUND_PREFIX in breakage or legacy_ns or rng.random() < 0.8
    ns = None
    if uses_ns:  # both namespace URIs are in the wild; the GitHub one is older
        ns = PODCAST_NS_LEGACY if legacy_ns or rng.random() < 0.25 else PODCAST_NS
    tz_offset, tz_label = rng.choice(
        {
            "en": ((0, "+0000"), (0, "GMT"), (-300, "-0500"), (-480, "-0800")),
            "pt": ((-180, "-0300"),),
        }.get(code, ((60, "+0100"),))
    )
    cadence = rng.choice(("daily", "weekly", "weekly", "weekly", "biweekly"))
    style = FeedStyle(
        podcast_ns=ns,
        generator=_WORDPRESS if BREAK_PREAMBLE in breakage else rng.choice(_GENERATORS),
        duration_format=rng.choice(("hms", "hms", "ms", "seconds", "mixed")),
        explicit_format=rng.choice(("truefalse", "truefalse", "yesno", "yesclean")),
        cdata=rng.random() < 0.6,
        content_encoded=rng.random() < 0.4,
        newest_first=rng.random() < 0.9,
        tz_offset_min=tz_offset,
        tz_label=tz_label,
        item_hosts=rng.random() < 0.3,
    )
    link = f"https://{slug}.demo.podsight.invalid/"
    show = Show(
        id=show_id,
        slug=slug,
        title=title,
        description_html=f"<p>{_fill(lang.show_desc, topic=topic, hosts=host_names)}</p>",
        language=code,
        language_tag=rng.choice(lang.tags),
        author=author,
        owner_name=author,
        owner_email=f"podcast@{slug}.demo.podsight.invalid",
        image_url=f"https://img.demo-hosting.invalid/{slug}/cover-3000.jpg",
        link=link,
        categories=categories,
        topics=list(lang.topics[cat_key]),
        hosts=hosts,
        explicit=rng.random() < (0.6 if cat_key == "comedy" else 0.15),
        show_type="serial" if rng.random() < 0.2 else "episodic",
        cadence=cadence,
        podcast_guid=podcast_guid_for(f"{DEFAULT_BASE_URL}/feeds/{slug}.xml"),
        declares_podcast_guid=uses_ns and (BREAK_UNBOUND_PREFIX in breakage or rng.random() < 0.75),
        copyright=f"© {EPOCH.year} {author}",
        bitrate_kbps=rng.choice((64, 96, 128, 128, 192)),
        last_build=EPOCH,
        style=style,
        breakage=list(breakage),
    )
    if uses_ns and rng.random() < 0.35:
        show.funding = Funding(f"https://support.demo.podsight.invalid/{slug}", lang.funding)
    _add_episodes(rng, show, lang, guidless=guidless)
    show.last_build = min(
        EPOCH, max(e.published for e in show.episodes) + timedelta(minutes=rng.randint(1, 90))
    )
    return show


def _publish_times(rng: random.Random, show: Show, count: int) -> list[datetime]:
    """Walk back from the latest release by the cadence, with jitter and occasional hiatuses."""
    r = rng.random()
    # Most shows are active; some paused for a while and a few went dormant long ago.
    days_back = (
        rng.randint(0, 10) if r < 0.6 else rng.randint(10, 90) if r < 0.9 else rng.randint(200, 700)
    )
    local_hour = rng.randint(4, 17)
    t = (EPOCH - timedelta(days=days_back)).replace(hour=local_hour, minute=0)
    t -= timedelta(minutes=show.style.tz_offset_min)
    while t + timedelta(hours=2) > EPOCH:  # nothing is published after the world's "now"
        t -= timedelta(days=1)
    step = {"daily": 1, "weekly": 7, "biweekly": 14}[show.cadence]
    out: list[datetime] = []
    for _ in range(count):
        seconds = rng.randint(0, 59) if rng.random() < 0.3 else 0  # most CMSs publish on :00
        jitter = timedelta(minutes=rng.randint(-90, 90), seconds=seconds)
        out.append(t + jitter)
        t -= timedelta(days=step)
        if show.cadence == "daily" and t.weekday() >= 5:  # daily news skips weekends
            t -= timedelta(days=t.weekday() - 4)
        if rng.random() < 0.04:  # summer break, illness, ...
            t -= timedelta(weeks=rng.randint(3, 10))
    return sorted(out)


def _add_episodes(rng: random.Random, show: Show, lang: _Lang, *, guidless: bool) -> None:
    lo, hi = {"daily": (40, 120), "weekly": (8, 80), "biweekly": (8, 40)}[show.cadence]
    count = lo + int((hi - lo) * rng.random() ** 1.5)
    times = _publish_times(rng, show, count)
    daily = show.cadence == "daily"
    median_min = rng.choice((7, 12, 20) if daily else (20, 30, 45, 60, 75, 95, 130))
    sigma = rng.uniform(0.15, 0.45)
    serial = show.show_type == "serial"
    season_len = rng.randint(6, 12)
    numbered = serial or rng.random() < 0.7
    seasons = serial or rng.random() < 0.3
    numbering = rng.choice(_NUMBERING) if numbered else ""
    guid_style = "none" if guidless else rng.choice(("uuid", "uuid", "permalink", "tag", "numeric"))
    legacy_missing = rng.random() < 0.2  # old imported items lost their guids
    has_trailer = serial or rng.random() < 0.3
    bonus_rate = rng.choice((0.0, 0.0, 0.05, 0.1))
    guest_rate = rng.choice((0.0, 0.3, 0.6, 0.8))
    uses_ns = show.style.podcast_ns is not None
    share = rng.choice((0.3, 0.7, 1.0)) if uses_ns and rng.random() < 0.75 else 0.0
    formats = rng.sample(_TRANSCRIPT_TYPES, rng.randint(1, 3))
    captions_rel = rng.random() < 0.5
    chapters = uses_ns and rng.random() < 0.3
    ep_images = rng.random() < 0.3
    m4a = rng.random() < 0.15
    media = f"{rng.choice(_MEDIA_PREFIXES)}/{show.slug}"
    numeric_base = rng.randint(1_000_000, 9_000_000)
    first_year = times[0].year
    full_no = 0
    for idx, published in enumerate(times):
        kind = (
            "trailer"
            if has_trailer and idx == 0
            else ("bonus" if idx > 1 and rng.random() < bonus_rate else "full")
        )
        topic = rng.choice(show.topics)
        has_guest = kind == "full" and rng.random() < guest_rate
        guest = _person(rng, lang, "guest") if has_guest else None
        year = str(published.year)
        if kind == "trailer":
            title = f"{lang.trailer}: {show.title}" if rng.random() < 0.5 else lang.trailer
            duration = rng.randint(60, 240)  # trailers are the only sub-5-minute items
        else:
            if guest:
                title = _fill(rng.choice(lang.ep_titles_guest), topic=topic, guest=guest.name)
            else:
                title = _fill(rng.choice(lang.ep_titles), topic=topic, year=year)
            if kind == "bonus":
                title = _fill(lang.bonus, topic=title)
            scale = 0.5 if kind == "bonus" else 1.0
            duration = int(median_min * 60 * scale * math.exp(rng.gauss(0, sigma)))
            duration = min(10_800, max(300, duration))
        episode_no = season = None
        if kind == "full":
            full_no += 1
            if numbered:
                episode_no = (full_no - 1) % season_len + 1 if serial else full_no
                title = numbering.format(n=episode_no) + title
        if seasons:
            season = (
                (max(full_no, 1) - 1) // season_len + 1
                if serial
                else (published.year - first_year + 1)
            )
        key = f"{idx + 1:03d}-{_slugify(title)[:40].strip('-')}"
        ep_link = f"{show.link}episodes/{key}"
        guid: str | None = None
        if guid_style == "uuid":
            guid = _uuid(rng)
        elif guid_style == "permalink":
            guid = ep_link
        elif guid_style == "numeric":
            guid = str(numeric_base + idx)
        elif guid_style == "tag":
            guid = f"tag:{show.slug}.demo.podsight.invalid,{year}:episode:{idx + 1}"
        if legacy_missing and idx < count // 5 and rng.random() < 0.5:
            guid = None
        host = rng.choice(show.hosts).name
        intro = (
            _fill(lang.ep_intro_guest, host=host, guest=guest.name, topic=topic)
            if guest
            else _fill(lang.ep_intro, host=host, topic=topic)
        )
        notes_url = f"{show.link}notes/{key}"
        desc = (
            f"<p>{intro}</p>\n<p>{_fill(lang.ep_body, topic=topic, year=year)}</p>\n"
            f'<p>{lang.links}:</p>\n<ul><li><a href="{notes_url}">{lang.notes}</a></li>'
        )
        if guest and guest.href:
            desc += f'<li><a href="{guest.href}">{guest.name}</a></li>'
        desc += "</ul>"
        if show.funding:
            desc += f'\n<p><a href="{show.funding.url}">{show.funding.text}</a></p>'
        ext = "m4a" if m4a else "mp3"
        # ID3 tags/cover art add a few hundred KB on top of duration × bitrate.
        length = duration * show.bitrate_kbps * 125 + rng.randint(20_000, 400_000)
        ep = Episode(
            index=idx,
            title=title,
            description_html=desc,
            published=published,
            duration_s=duration,
            enclosure_url=f"{media}/{key}.{ext}",
            enclosure_length=length,
            enclosure_type="audio/x-m4a" if m4a else "audio/mpeg",
            guid=guid,
            guid_is_permalink=guid_style == "permalink" and guid is not None,
            link=ep_link if guid_style == "permalink" or rng.random() < 0.7 else None,
            episode_type=kind,
            episode=episode_no,
            season=season,
            explicit=show.explicit and rng.random() < 0.7 or rng.random() < 0.03,
            image_url=f"https://img.demo-hosting.invalid/{show.slug}/{key}.jpg"
            if ep_images
            else None,
        )
        if kind != "trailer" and idx >= count * (1 - share):  # transcripts since some date
            for mime, text_ext in formats:
                rel = "captions" if captions_rel and text_ext in ("vtt", "srt") else None
                url = f"https://transcripts.demo-hosting.invalid/{show.slug}/{key}.{text_ext}"
                ep.transcripts.append(Transcript(url, mime, show.language_tag, rel))
        if chapters and kind == "full":
            ep.chapters_url = f"https://cdn.demo-hosting.invalid/chapters/{show.slug}/{key}.json"
        if uses_ns:
            if show.style.item_hosts:
                ep.persons.extend(Person(h.name, "host", h.href, h.img) for h in show.hosts)
            if guest:
                ep.persons.append(guest)
        show.episodes.append(ep)
