"""The demo episodes' transcript and chapters documents, and the server that hosts them.

Each episode gets a *script* (:func:`episode_script`): what its hosts, guest and sponsors
say, in the show's language (phrases from ``talk.py``), with times spread over the
episode's duration. The script is drawn from a random stream of its own (seed, show,
episode), so the same world always says the same words and the world's other facts do
not move. Every transcript format the feed lists renders the same script
(:func:`render_transcript`: WebVTT with voice tags, SRT, Podcasting 2.0 JSON, HTML in
Buzzsprout's style, plain text); the chapters document (:func:`render_chapters`) starts a
chapter where the talk turns to a new block.

A script is a few dozen sentences however long the episode: enough to search and analyse,
little enough that the whole demo is analysed in a short time. Ad reads repeat word for
word across a show's episodes, as real host-read ads do.

:class:`HostingBackend` serves the documents under ``/hosting`` on the demo's API server,
with content types, ``ETag``/``Last-Modified`` and 304 answers; :func:`host_documents`
points the world's document links there for a local load.
"""

from __future__ import annotations

import email.utils
import json
import random
import re
import textwrap
from dataclasses import dataclass
from datetime import datetime
from html import escape as html_escape

from podsight.demo.apiserver import ApiRequest, Reply
from podsight.demo.talk import TALK, Talk
from podsight.demo.world import Episode, Show, World, language_topics

__all__ = [
    "CHAPTERS_BASE",
    "CONTENT_TYPES",
    "HOSTING_PREFIX",
    "TRANSCRIPTS_BASE",
    "Chapter",
    "Fact",
    "HostingBackend",
    "Line",
    "Script",
    "category_of",
    "episode_script",
    "host_documents",
    "render_chapters",
    "render_transcript",
]

# Where the world's links point (the hosts do not exist) and where the demo server
# serves the same paths.
TRANSCRIPTS_BASE = "https://transcripts.demo-hosting.invalid"
CHAPTERS_BASE = "https://cdn.demo-hosting.invalid/chapters"
HOSTING_PREFIX = "/hosting"
CONTENT_TYPES = {
    "vtt": "text/vtt; charset=utf-8",
    "srt": "application/x-subrip; charset=utf-8",
    "json": "application/json; charset=utf-8",
    "html": "text/html; charset=utf-8",
    "txt": "text/plain; charset=utf-8",
    "chapters": "application/json+chapters; charset=utf-8",
}
_WORDS_PER_S = 2.6  # conversational speech


@dataclass(frozen=True, slots=True)
class Line:
    """One sentence of the script: who says it, when, and what. ``turn`` numbers the
    speaker turns (consecutive lines of one turn share it); ``kind`` is "talk" or "ad"."""

    start_s: float
    end_s: float
    speaker: str
    text: str
    turn: int
    kind: str = "talk"


@dataclass(frozen=True, slots=True)
class Chapter:
    start_s: float
    title: str
    block: str = ""  # the talk block's title ("" for the intro)


@dataclass(frozen=True, slots=True)
class Fact:
    """One block as an episode says it: the block's title, its two statements filled with
    the episode's values (``place``, ``n``, ``year``), and those values."""

    title: str
    first: str
    second: str
    values: dict[str, str]


@dataclass(frozen=True, slots=True)
class Script:
    """An episode's words. ``facts`` are its blocks in order (what a benchmark asks
    about); ``sponsors`` the ad reads' brand names in order."""

    lines: tuple[Line, ...]
    chapters: tuple[Chapter, ...]
    topic: str
    language: str
    facts: tuple[Fact, ...]
    sponsors: tuple[str, ...]


def category_of(show: Show) -> str | None:
    """The world category a show's topics come from (``None`` for a language without
    phrases)."""
    topics = language_topics(show.language)
    return next((k for k, listed in topics.items() if list(listed) == show.topics), None)


def _episode_topic(show: Show, episode: Episode, rng: random.Random) -> str:
    lowered = episode.title.lower()
    found = next(
        (t for t in sorted(show.topics, key=len, reverse=True) if t.lower() in lowered), None
    )
    return found or rng.choice(show.topics)


def episode_script(world: World, show: Show, episode: Episode) -> Script:
    """The episode's script, the same for the same world every time."""
    rng = random.Random(f"{world.seed}/{show.slug}/{episode.index}/script")
    talk = TALK[show.language]
    category = category_of(show)
    blocks = talk.blocks.get(category or "", ()) or next(iter(talk.blocks.values()))
    topic = _episode_topic(show, episode, rng)
    host = show.hosts[0].name
    cohosts = [h.name for h in show.hosts[1:3]]
    guest = next((p.name for p in episode.persons if p.role == "guest"), None)
    say = _Says(show, topic, guest)
    turns: list[tuple[str, list[str], str]] = []  # speaker, sentences, kind

    def add(speaker: str, text: str, kind: str = "talk") -> None:
        if turns and turns[-1][0] == speaker and turns[-1][2] == kind:
            turns[-1][1].append(text)
        else:
            turns.append((speaker, [text], kind))

    marks: list[tuple[int, str, str]] = [(0, talk.intro_chapter, "")]  # sentence no., title
    add(host, say(talk.welcome, host=host))
    for name in cohosts:
        add(name, say(talk.cohost, host=name))
    ads = _ad_reads(talk, show)
    if ads:
        add(host, ads[0][1], "ad")
    if guest:
        add(host, say(talk.guest_intro))
        add(guest, say(talk.guest_hello, host=host))
    elif not cohosts:
        add(host, say(talk.solo_intro))
    n_blocks = 3 if episode.duration_s >= 25 * 60 and len(blocks) >= 3 else min(2, len(blocks))
    chosen = rng.sample(blocks, n_blocks)
    facts: list[Fact] = []
    speakers = [guest] if guest else (cohosts or [host])
    for i, block in enumerate(chosen):
        if i == 1 and ads:  # the mid-roll: the last sponsor (the only one, or the second)
            add(host, talk.ad_break)
            add(host, ads[-1][1], "ad")
            add(host, talk.ad_back)
        values = {
            "place": rng.choice(talk.places),
            "n": str(rng.randint(3, 95)),
            "year": str(episode.published.year - rng.randint(2, 12)),
        }
        first, second = say(block.first, **values), say(block.second, **values)
        facts.append(Fact(block.title, first, second, values))
        marks.append((sum(len(t[1]) for t in turns), block.title, block.title))
        expert = speakers[i % len(speakers)]
        if guest:
            add(host, say(rng.choice(talk.lead_ins)))
        else:
            add(host, say(rng.choice(talk.transitions)))
        add(expert, first)
        if expert != host:
            add(host, rng.choice(talk.reactions))
        add(expert, second)
        add(rng.choice((host, expert)), say(rng.choice(talk.musings)))
    closing = sum(len(t[1]) for t in turns)
    if guest:
        add(host, say(talk.guest_bye))
    add(host, say(talk.outro))
    starts = [at for at, _title, _block in marks] + [closing]
    lines = _timed(turns, episode.duration_s, rng, starts)
    chapters = tuple(  # marks count sentences: a chapter opens on its lead-in sentence
        Chapter(0.0 if at == 0 else lines[at].start_s, title, block) for at, title, block in marks
    )
    return Script(
        lines=tuple(lines),
        chapters=chapters,
        topic=topic,
        language=show.language,
        facts=tuple(facts),
        sponsors=tuple(name for name, _text in ads),
    )


class _Says:
    """Fills a phrase's slots with the episode's names."""

    def __init__(self, show: Show, topic: str, guest: str | None) -> None:
        self.base = {"show": show.title, "topic": topic, "guest": guest or ""}
        self.language = show.language

    def __call__(self, phrase: str, **extra: str) -> str:
        text = phrase.format(**{**self.base, **extra})
        if self.language == "fr":  # a topic with its article after "de"/"à": du, des, au, aux
            for wrong, right in _FRENCH_CONTRACTIONS:
                text = re.sub(wrong, right, text)
        return text[:1].upper() + text[1:]


_FRENCH_CONTRACTIONS = (
    (r"\bde le\b", "du"),
    (r"\bde les\b", "des"),
    (r"\bà le\b", "au"),
    (r"\bà les\b", "aux"),
)


def _ad_reads(talk: Talk, show: Show) -> list[tuple[str, str]]:
    reads = []
    for sponsor in show.sponsors:
        pitch = talk.pitches[sponsor.kind].format(brand=sponsor.name)
        text = talk.ad.format(
            brand=sponsor.name, pitch=pitch, domain=sponsor.domain, code=sponsor.code,
            n=sponsor.percent,
        )  # fmt: skip
        reads.append((sponsor.name, text))
    return reads


def _timed(
    turns: list[tuple[str, list[str], str]],
    duration_s: int,
    rng: random.Random,
    parts: list[int],
) -> list[Line]:
    """Time the sentences at a speaking pace and spread the episode's parts (``parts``:
    the sentence numbers where the intro, each block and the closing words start) over its
    duration: the intro after the theme music, the closing words before the last seconds,
    the blocks in between. The stretches between parts are what the script leaves out; a
    sentence keeps a natural length, so passages cut from it are sentences, not words."""
    flat = [(turn, speaker, sentence, kind) for turn, (speaker, sentences, kind) in
            enumerate(turns) for sentence in sentences]  # fmt: skip
    lengths = [
        len(sentence.split()) / _WORDS_PER_S * (rng.uniform(1.0, 1.3) if kind == "talk" else 1)
        for *_, sentence, kind in flat
    ]
    pauses = [rng.uniform(0.2, 0.8) for _ in flat]
    lead_in = rng.uniform(2.0, 15.0)  # the theme music before the first word
    outro_s = rng.uniform(3.0, 20.0)  # and after the last
    spoken = sum(lengths) + sum(pauses)
    free = duration_s - lead_in - outro_s - spoken
    if free < 0:  # a short episode: faster speech, no gaps
        scale = (duration_s - lead_in - outro_s) / spoken
        lengths = [x * scale for x in lengths]
        pauses = [x * scale for x in pauses]
        free = 0.0
    weights = [rng.uniform(0.7, 1.3) for _ in parts[1:]]
    gaps = {at: free * w / sum(weights) for at, w in zip(parts[1:], weights, strict=True)}
    lines: list[Line] = []
    t = lead_in
    for i, ((turn, speaker, sentence, kind), length, pause) in enumerate(
        zip(flat, lengths, pauses, strict=True)
    ):
        t += gaps.get(i, 0.0)
        lines.append(Line(round(t, 3), round(t + length, 3), speaker, sentence, turn, kind))
        t += length + pause
    return lines


# --- renderers -----------------------------------------------------------------------------


def _clock(seconds: float, sep: str) -> str:
    ms = int(round(seconds * 1000))
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{sep}{ms:03d}"


def _short_clock(seconds: float) -> str:
    total = int(seconds)
    h, rest = divmod(total, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def _wrap(text: str) -> str:
    return "\n".join(textwrap.wrap(text, 64, break_long_words=False, break_on_hyphens=False))


def _vtt(script: Script) -> str:
    out = ["WEBVTT", ""]
    for line in script.lines:
        text = line.text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        cue = f"{_clock(line.start_s, '.')} --> {_clock(line.end_s, '.')}"
        out += [cue, f"<v {line.speaker}>{_wrap(text)}", ""]
    return "\n".join(out)


def _srt(script: Script) -> str:
    out: list[str] = []
    previous = -1
    for n, line in enumerate(script.lines, 1):
        # As hosts write it: the speaker's name opens each turn's first cue.
        text = f"{line.speaker}: {line.text}" if line.turn != previous else line.text
        previous = line.turn
        cue = f"{_clock(line.start_s, ',')} --> {_clock(line.end_s, ',')}"
        out += [str(n), cue, _wrap(text), ""]
    return "\n".join(out)


def _json(script: Script) -> str:
    segments = [
        {"speaker": line.speaker, "startTime": line.start_s, "endTime": line.end_s,
         "body": line.text}
        for line in script.lines
    ]  # fmt: skip
    return json.dumps({"version": "1.0.0", "segments": segments}, ensure_ascii=False, indent=2)


def _turns(script: Script) -> list[tuple[str, float, str]]:
    out: list[tuple[str, float, str]] = []
    previous = -1
    for line in script.lines:
        if line.turn != previous:
            out.append((line.speaker, line.start_s, line.text))
        else:
            speaker, start, text = out[-1]
            out[-1] = (speaker, start, f"{text} {line.text}")
        previous = line.turn
    return out


def _html(script: Script) -> str:
    parts = []
    for speaker, start, text in _turns(script):
        parts.append(
            f"<cite>{html_escape(speaker)}:</cite>\n<time>{_short_clock(start)}</time>\n"
            f"<p>{html_escape(text)}</p>\n"
        )
    return "\n".join(parts)


def _txt(script: Script) -> str:
    return "\n\n".join(f"{speaker}: {text}" for speaker, _start, text in _turns(script)) + "\n"


_RENDERERS = {"vtt": _vtt, "srt": _srt, "json": _json, "html": _html, "txt": _txt}


def render_transcript(script: Script, fmt: str) -> bytes:
    """The script as a transcript document in ``fmt`` (vtt, srt, json, html, txt)."""
    try:
        renderer = _RENDERERS[fmt]
    except KeyError:
        raise ValueError(
            f"no demo transcript format {fmt!r}; known: {sorted(_RENDERERS)}"
        ) from None
    return renderer(script).encode("utf-8")


def render_chapters(script: Script, *, show: Show, episode: Episode) -> bytes:
    """The script's chapters as a Podcasting 2.0 chapters document."""
    doc = {
        "version": "1.2.0",
        "title": episode.title,
        "podcastName": show.title,
        "chapters": [{"startTime": round(c.start_s, 1), "title": c.title} for c in script.chapters],
    }
    return json.dumps(doc, ensure_ascii=False, indent=2).encode("utf-8")


# --- hosting ------------------------------------------------------------------------------

_PATH = re.compile(r"^/(transcripts|chapters)/([^/]+)/([^/]+)\.([a-z]+)$")


def _local_path(url: str) -> str | None:
    for base, kind in ((TRANSCRIPTS_BASE, "transcripts"), (CHAPTERS_BASE, "chapters")):
        if url.startswith(base + "/"):
            return f"/{kind}/{url[len(base) + 1 :]}"
        marker = f"{HOSTING_PREFIX}/{kind}/"
        if marker in url:
            return f"/{kind}/{url.split(marker, 1)[1]}"
    return None


def host_documents(world: World, base_url: str) -> None:
    """Point the world's transcript and chapters links at ``base_url``'s hosting mount
    (the demo server), in place: the feeds written and the APIs served from this world
    then link to documents a local load can fetch."""
    root = base_url.rstrip("/") + HOSTING_PREFIX
    for show in world.shows:
        for ep in show.episodes:
            for t in ep.transcripts:
                path = _local_path(t.url)
                if path is not None:
                    t.url = root + path
            if ep.chapters_url and (path := _local_path(ep.chapters_url)) is not None:
                ep.chapters_url = root + path


class HostingBackend:
    """The podcast host's file server for the demo world's documents: exactly the
    transcript and chapters links the world lists, each with its content type, an
    ``ETag`` (added by the server) and the episode's publication time as
    ``Last-Modified`` (``If-Modified-Since`` answered with 304 here)."""

    def __init__(self, world: World) -> None:
        self.world = world
        self._index: dict[str, tuple[Show, Episode, str]] = {}
        self._scripts: dict[tuple[str, int], Script] = {}
        for show in world.shows:
            for ep in show.episodes:
                for t in ep.transcripts:
                    if (path := _local_path(t.url)) is not None:
                        self._index[path] = (show, ep, path.rsplit(".", 1)[1])
                if ep.chapters_url and (path := _local_path(ep.chapters_url)) is not None:
                    self._index[path] = (show, ep, "chapters")

    def paths(self) -> list[str]:
        return sorted(self._index)

    def script(self, show: Show, episode: Episode) -> Script:
        key = (show.slug, episode.index)
        if key not in self._scripts:
            self._scripts[key] = episode_script(self.world, show, episode)
        return self._scripts[key]

    def handle(self, request: ApiRequest) -> Reply:
        if request.method not in ("GET", "HEAD"):
            return Reply.error(405, "documents are read-only")
        found = self._index.get(request.path)
        if found is None or not _PATH.match(request.path):
            return Reply(404, b"not found\n", {"Content-Type": "text/plain"}, cacheable=False)
        show, episode, fmt = found
        modified = episode.published
        since = _parse_http_date(request.headers.get("if-modified-since"))
        if "if-none-match" not in request.headers and since is not None and since >= modified:
            return Reply(304, None, {"Last-Modified": _http_date(modified)}, cacheable=False)
        script = self.script(show, episode)
        if fmt == "chapters":
            body = render_chapters(script, show=show, episode=episode)
        else:
            body = render_transcript(script, fmt)
        headers = {"Content-Type": CONTENT_TYPES[fmt], "Last-Modified": _http_date(modified)}
        return Reply(200, body, headers)


def _http_date(moment: datetime) -> str:
    return email.utils.format_datetime(moment, usegmt=True)


def _parse_http_date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
