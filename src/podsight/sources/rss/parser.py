"""RSS 2.0 / RSS 1.0 / Atom podcast feed parser, tolerant of real-world breakage.

Native fast path first: ``_fastscan.c`` reads the UTF-8 bytes in one pass and keeps the
values this module's extraction reads; the same extraction then builds the records. It
reads a document only where it gives exactly what the lxml path gives (tested on the
whole corpus and on generated feeds): anything else (DTDs, other encodings, C1
characters, malformed markup, inline XHTML in a description, two repairs at once, ...) it
declines, and the lxml path parses the document.

lxml path: one strict, safe libxml2 parse of the raw bytes, then a single pass over the
children of the channel and of each item with a dict dispatch on namespace-normalised tag
names (cached). Only when the strict parse fails do the repair passes run (encoding,
leading junk, HTML entities, unbound prefixes, control characters), and only then, if
still needed, libxml2's recovery mode. Every repair is recorded in ``ParseResult.repairs``
(the fast path records the ones it reproduces: leading whitespace, HTML entities, an
unbound prefix, namespace case).
"""

from __future__ import annotations

import codecs
import hashlib
import html
import logging
import re
from collections.abc import Callable
from html.entities import html5 as _HTML5
from typing import Any
from urllib.parse import urljoin

from lxml import etree

from podsight.errors import InputError
from podsight.sources.rss.document import (
    Category,
    Chapters,
    Funding,
    ParsedChannel,
    ParsedEpisode,
    ParseResult,
    Person,
    Transcript,
)
from podsight.sources.text import _zone as _text_zone
from podsight.sources.text import (
    normalise_language,
    parse_date,
    parse_duration,
    parse_explicit,
    parse_int,
    podcast_guid_for_url,
)

__all__ = [
    "FAST_SCANNER",
    "SAFE_XML",
    "FeedParseError",
    "parse_date_fast",
    "parse_fast",
    "parse_feed",
]

_log = logging.getLogger(__name__)


class FeedParseError(InputError, ValueError):
    """The document is not a readable RSS/Atom feed (empty, HTML page, no channel/feed)."""


class _Decline(Exception):
    """The fast path met something only the lxml path reproduces exactly."""


try:
    from podsight.sources.rss import _fastscan
except ImportError:  # not compiled (no C compiler): the lxml path does everything
    _fastscan = None  # type: ignore[assignment]

FAST_SCANNER = _fastscan is not None  # whether parse_feed can take the native fast path


# An element as the fast path's scanner (_fastscan.c) hands it over: the normalised tag,
# attributes in lxml's "{uri}local" form, the stripped text of the subtree (value), child
# elements, whether it has child elements or comments (mixed); v: an item's kept values.
class _NoEl:  # the scanner's element type when it is not compiled: never instantiated
    pass


_El: Any = _fastscan.El if _fastscan is not None else _NoEl


# No entities, network, DTDs or huge trees: documents come from strangers.
SAFE_XML = dict(
    resolve_entities=False,
    no_network=True,
    huge_tree=False,
    load_dtd=False,
    remove_pis=True,
    collect_ids=False,
)
_STRICT = etree.XMLParser(**SAFE_XML)
_RECOVER = etree.XMLParser(recover=True, **SAFE_XML)

# ---------------------------------------------------------------------------
# Namespaces: canonical URI per conventional prefix, plus accepted aliases.

_CANONICAL_NS: dict[str, str] = {
    "itunes": "http://www.itunes.com/dtds/podcast-1.0.dtd",
    "podcast": "https://podcastindex.org/namespace/1.0",
    "content": "http://purl.org/rss/1.0/modules/content/",
    "atom": "http://www.w3.org/2005/Atom",
    "media": "http://search.yahoo.com/mrss/",
    "dc": "http://purl.org/dc/elements/1.1/",
    "psc": "http://podlove.org/simple-chapters",
    "googleplay": "http://www.google.com/schemas/play-podcasts/1.0",
    "yt": "http://www.youtube.com/xml/schemas/2015",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "sy": "http://purl.org/rss/1.0/modules/syndication/",
    "georss": "http://www.georss.org/georss",
    "fyyd": "https://fyyd.de/fyyd-ns/",
    "spotify": "http://www.spotify.com/ns/rss",
    "feedburner": "http://rssnamespace.org/feedburner/ext/1.0",
    "rawvoice": "http://www.rawvoice.com/rawvoiceRssModule/",
    "slash": "http://purl.org/rss/1.0/modules/slash/",
    "wfw": "http://wellformedweb.org/CommentAPI/",
    "cc": "http://web.resource.org/cc/",
}
# Lower-cased, trailing-slash-stripped URI → prefix ("" = plain RSS elements).
_NS_PREFIX: dict[str, str] = {uri.lower().rstrip("/"): p for p, uri in _CANONICAL_NS.items()}
_NS_PREFIX.update(
    {
        "http://itunes.com/dtds/podcast-1.0.dtd": "itunes",
        "https://www.itunes.com/dtds/podcast-1.0.dtd": "itunes",
        "http://podcastindex.org/namespace/1.0": "podcast",
        "https://github.com/podcastindex-org/podcast-namespace/blob/main/docs/1.0.md": "podcast",
        "http://github.com/podcastindex-org/podcast-namespace/blob/main/docs/1.0.md": "podcast",
        "http://purl.org/atom/ns#": "atom",  # Atom 0.3
        "https://www.w3.org/2005/atom": "atom",
        "http://video.search.yahoo.com/mrss": "media",
        "https://search.yahoo.com/mrss": "media",
        "http://purl.org/rss/1.0": "",  # RSS 1.0 elements share RSS 2.0 names
        "http://backend.userland.com/rss2": "",
        "http://my.netscape.com/rdf/simple/0.9": "",
    }
)
# Exact spellings that need no "namespace-case" repair note.
_EXACT_NS = frozenset(_CANONICAL_NS.values()) | {
    "http://purl.org/rss/1.0/modules/content",
    "http://search.yahoo.com/mrss",
    "http://purl.org/dc/elements/1.1",
    "https://github.com/Podcastindex-org/podcast-namespace/blob/main/docs/1.0.md",
    "http://purl.org/atom/ns#",
    "http://purl.org/rss/1.0/",
    "http://www.w3.org/XML/1998/namespace",
}

_KEEP = 0  # dispatch marker: remember the first such element, read its text only if used
_CACHE_LIMIT = 20_000
_TAGS: dict[Any, str] = {}  # raw lxml tag → normalised key, e.g. "itunes:duration"; "" = ignore


def _norm(tag: Any) -> str:
    if not isinstance(tag, str):  # comments, entities
        key = ""
    elif tag[0] == "{":
        uri, _, local = tag[1:].partition("}")
        prefix = _NS_PREFIX.get(uri)
        if prefix is None:
            prefix = _NS_PREFIX.get(uri.lower().rstrip("/"))
        if prefix is None:
            key = tag
        else:
            key = f"{prefix}:{local.lower()}" if prefix else local.lower()
    else:
        key = tag.lower()  # includes "itunes:author" left unbound by recovery mode
    if len(_TAGS) > _CACHE_LIMIT:
        _TAGS.clear()
    _TAGS[tag] = key
    return key


# ---------------------------------------------------------------------------
# Text helpers


def _entity_char(node: Any) -> str:
    name = node.text[1:-1] if node.text else ""
    return _HTML5.get(name + ";", "")


def _join_text(el: Any) -> str:
    parts = [el.text or ""]
    for child in el:
        if isinstance(child, etree._Entity):
            parts.append(_entity_char(child))
        elif isinstance(child.tag, str):
            parts.append(_join_text(child))
        parts.append(child.tail or "")
    return "".join(parts)


def _text(el: Any) -> str | None:
    cls = el.__class__
    if cls is str or cls is _El:  # the fast path's values: already stripped
        return el if cls is str else el.value
    t = _join_text(el) if len(el) else el.text
    if t:
        t = t.strip()
        return t or None
    return None


def _markup(el: Any) -> str | None:
    """Inner markup: text for CDATA/escaped HTML; serialised children for inline XHTML."""
    cls = el.__class__
    if cls is str:
        return el
    if cls is _El:
        if el.mixed:  # child elements or comments: serialising them is lxml's job
            raise _Decline
        return el.value
    if not len(el):
        t = el.text
    else:
        parts = [el.text or ""]
        for child in el:
            if isinstance(child, etree._Entity):
                parts.append(_entity_char(child) + (child.tail or ""))
            elif isinstance(child.tag, str):
                parts.append(etree.tostring(child, encoding=str, with_tail=True))
            else:
                parts.append(child.tail or "")
        t = "".join(parts)
        # Atom type="xhtml" wraps content in <div xmlns=...>: drop the namespace noise.
        t = t.replace(' xmlns="http://www.w3.org/1999/xhtml"', "")
    if t:
        t = t.strip()
        return t or None
    return None


_ENTITY_REF = re.compile(r"&(?:#\d+|#x[0-9a-f]+|[a-z][a-z0-9]*);", re.I)


def _clean_title(t: str | None) -> str | None:
    if t and "&" in t and _ENTITY_REF.search(t):  # double-escaped titles are common
        t = html.unescape(t).strip() or None
    return t


_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")


def _url(value: str | None, base: str | None) -> str | None:
    if not value:
        return None
    value = value.strip()
    if not value:
        return None
    if base and not value.startswith(("http://", "https://")) and not _SCHEME.match(value):
        return urljoin(base, value)
    return value


def _npt(value: str | None) -> float | None:
    """Normal Play Time ("01:02:03.400", "62", "59.12") → seconds."""
    if not value:
        return None
    total = 0.0
    try:
        for part in value.strip().split(":"):
            total = total * 60 + float(part)
    except ValueError:
        return None
    return total if total >= 0 else None


def _person(el: Any) -> Person | None:
    name = _text(el)
    if not name:
        return None
    get = el.get
    return Person(
        name=name,
        role=(get("role") or "host").strip().lower(),  # spec defaults
        group=(get("group") or "cast").strip().lower(),
        href=get("href") or None,
        img=get("img") or None,
    )


def _atom_rel(el: Any) -> str:
    return (el.get("rel") or "alternate").strip().lower()


# ---------------------------------------------------------------------------
# Items: one pass collects raw values into a dict, then a small finalisation.

_ITEM_TEXT = frozenset(
    {
        "title",
        "itunes:title",
        "atom:title",
        "media:title",
        "guid",
        "atom:id",
        "link",
        "pubdate",
        "atom:published",
        "atom:updated",
        "atom:issued",
        "atom:modified",
        "dc:date",
        "itunes:duration",
        "itunes:episode",
        "podcast:episode",
        "itunes:season",
        "podcast:season",
        "itunes:episodetype",
        "itunes:explicit",
    }
    - {"guid"}
)
_DESCRIPTION_ORDER = (  # preference order: the fullest HTML first
    "content:encoded",
    "description",
    "atom:content",
    "atom:summary",
    "itunes:summary",
    "media:description",
)
_ITEM_HTML = frozenset(_DESCRIPTION_ORDER)
_TITLE_ORDER = ("title", "atom:title", "itunes:title", "media:title")
_DATE_ORDER = (
    "pubdate",
    "atom:published",
    "atom:issued",
    "dc:date",
    "atom:updated",
    "atom:modified",
)


def _item_guid(v: dict[str, Any], el: Any) -> None:
    if "guid" not in v:
        v["guid"] = _text(el)
        if (el.get("isPermaLink") or "true").strip().lower() != "false":
            v["_permalink"] = True


def _item_enclosure(v: dict[str, Any], el: Any) -> None:
    if "enclosure" not in v and el.get("url"):
        v["enclosure"] = (el.get("url"), el.get("type"), el.get("length"))


def _item_media_content(v: dict[str, Any], el: Any) -> None:
    if "media:content" not in v and el.get("url"):
        medium = (el.get("medium") or "").lower()
        if medium == "image":
            v.setdefault("media:thumbnail", el.get("url"))
            return
        v["media:content"] = (el.get("url"), el.get("type"), el.get("fileSize"), el.get("duration"))


def _item_media_group(v: dict[str, Any], el: Any) -> None:
    _collect(v, el, _ITEM_DISPATCH)


def _item_thumbnail(v: dict[str, Any], el: Any) -> None:
    if "media:thumbnail" not in v and el.get("url"):
        v["media:thumbnail"] = el.get("url")


def _item_itunes_image(v: dict[str, Any], el: Any) -> None:
    if "itunes:image" not in v:
        v["itunes:image"] = el.get("href") or el.get("url") or _text(el)


def _item_atom_link(v: dict[str, Any], el: Any) -> None:
    href = el.get("href")
    if not href:
        return
    rel = _atom_rel(el)
    if rel == "enclosure":
        if "enclosure" not in v:
            v["enclosure"] = (href, el.get("type"), el.get("length"))
    elif rel == "alternate":
        if "atom:link" not in v:
            v["atom:link"] = href


def _item_transcript(v: dict[str, Any], el: Any) -> None:
    url = el.get("url")
    if url:
        v.setdefault("transcripts", []).append(
            Transcript(
                url=url.strip(), type=el.get("type"), language=el.get("language"), rel=el.get("rel")
            )
        )


def _item_chapters(v: dict[str, Any], el: Any) -> None:
    if "chapters" not in v and el.get("url"):
        v["chapters"] = (el.get("url").strip(), el.get("type"))


def _item_psc(v: dict[str, Any], el: Any) -> None:
    if "psc" in v:  # Podlove: only the first chapter list counts
        return
    chapters = []
    for ch in el:
        if ch.__class__ is _El and ch.tag != "psc:chapter":
            raise _Decline  # the lxml path's answer depends on its tag cache here
        if _TAGS.get(ch.tag) or _norm(ch.tag) == "psc:chapter":
            start = _npt(ch.get("start"))
            if start is not None:
                chapters.append((start, (ch.get("title") or "").strip(), ch.get("href") or None))
    v["psc"] = tuple(chapters)


def _item_person(v: dict[str, Any], el: Any) -> None:
    p = _person(el)
    if p is not None:
        v.setdefault("persons", []).append(p)


_ITEM_SPECIAL: dict[str, Callable[[dict[str, Any], Any], None]] = {
    "guid": _item_guid,
    "enclosure": _item_enclosure,
    "media:content": _item_media_content,
    "media:group": _item_media_group,
    "media:thumbnail": _item_thumbnail,
    "itunes:image": _item_itunes_image,
    "atom:link": _item_atom_link,
    "podcast:transcript": _item_transcript,
    "podcast:chapters": _item_chapters,
    "psc:chapters": _item_psc,
    "podcast:person": _item_person,
}
_ITEM_DISPATCH: dict[str, Any] = dict.fromkeys(_ITEM_TEXT | _ITEM_HTML, _KEEP) | _ITEM_SPECIAL


_DISPATCH_CACHES: dict[int, dict[Any, Any]] = {}


def _collect(v: dict[str, Any], parent: Any, dispatch: dict[str, Any]) -> None:
    # One dict lookup per child: raw lxml tag → handler, cached per dispatch table.
    cache = _DISPATCH_CACHES.get(id(dispatch))
    if cache is None:
        cache = _DISPATCH_CACHES[id(dispatch)] = {}
    for child in parent:
        tag = child.tag
        try:
            handler = cache[tag]
        except KeyError:
            key = _TAGS.get(tag)
            if key is None:
                key = _norm(tag)
            if len(cache) > _CACHE_LIMIT:  # hostile feeds with endless unique tag names
                cache.clear()
            handler = cache[tag] = (key, dispatch.get(key))
        if handler[1] is None:
            continue
        if handler[1] is _KEEP:
            if handler[0] not in v:
                v[handler[0]] = child
        else:
            handler[1](v, child)


def _t(v: dict[str, Any], key: str) -> str | None:
    el = v.get(key)
    return None if el is None else _text(el)


def _first_text(
    v: dict[str, Any], keys: tuple[str, ...], read: Callable[[Any], str | None] | None = None
) -> str | None:
    """The first non-empty value among ``keys``, read with ``read`` (default: plain text)."""
    read = read or _text
    for k in keys:
        el = v.get(k)
        if el is not None:
            t = read(el)
            if t:
                return t
    return None


def _first_value(v: dict[str, Any], keys: tuple[str, ...]) -> str | None:
    """:func:`_first_text` for the fast path, whose text values are stripped or None."""
    for k in keys:
        x = v.get(k)
        if x:
            return x
    return None


def _first_markup(v: dict[str, Any], keys: tuple[str, ...]) -> str | None:
    return _first_text(v, keys, _markup)


def _episode(el: Any, base: str | None, guid_base: str | None = None) -> ParsedEpisode:
    if el.__class__ is _El:  # the fast path's item: its values are collected already
        return _episode_fast(el.v, base, guid_base)
    v: dict[str, Any] = {}
    _collect(v, el, _ITEM_DISPATCH)
    date_raw = _first_text(v, _DATE_ORDER)
    return _assemble_episode(
        v,
        lambda key: _t(v, key),
        guid=v.get("guid") or _t(v, "atom:id"),
        title=_clean_title(_first_text(v, _TITLE_ORDER)),
        date_raw=date_raw,
        published_at=parse_date(date_raw) if date_raw else None,
        description=_first_markup(v, _DESCRIPTION_ORDER),
        read_duration=parse_duration,
        base=base,
        guid_base=guid_base,
    )


def _episode_fast(v: dict[str, Any], base: str | None, guid_base: str | None) -> ParsedEpisode:
    """:func:`_episode` for the fast path: the values the scanner kept (text values already
    stripped strings or None; guid, enclosure and itunes:image done; the other handlers'
    elements left in "@specials")."""
    specials = v.pop("@specials", None)
    if specials:
        for s in specials:
            _ITEM_SPECIAL[s.tag](v, s)
    get = v.get
    description = None
    for k in _DESCRIPTION_ORDER:  # the scanner kept only the one to use, if any
        x = get(k)
        if x is not None:
            if x.__class__ is not str:  # child elements or comments: lxml serialises those
                raise _Decline
            description = x
            break
    date_raw = _first_value(v, _DATE_ORDER)
    return _assemble_episode(
        v,
        get,
        guid=get("guid") or get("atom:id"),
        title=_clean_title(_first_value(v, _TITLE_ORDER)),
        date_raw=date_raw,
        published_at=parse_date_fast(date_raw),
        description=description,
        read_duration=_duration_fast,
        base=base,
        guid_base=guid_base,
    )


def _assemble_episode(
    v: dict[str, Any],
    text: Callable[[str], str | None],
    *,
    guid: str | None,
    title: str | None,
    date_raw: str | None,
    published_at: Any,
    description: str | None,
    read_duration: Callable[[str | None], int | None],
    base: str | None,
    guid_base: str | None,
) -> ParsedEpisode:
    """The steps both paths share, on an item's collected values ``v``; ``text(key)`` reads
    one as stripped text (each path keeps its values in its own form)."""
    enc = v.get("enclosure")
    enc_url = enc_type = None
    enc_len: int | None = None
    duration = read_duration(text("itunes:duration"))
    if enc is None and (mc := v.get("media:content")) is not None:
        enc = mc[:3]
        if duration is None and mc[3]:
            duration = read_duration(mc[3])
    if enc is not None:
        enc_url = _url(enc[0], base)
        enc_type = (enc[1] or "").strip().lower() or None
        enc_len = parse_int(enc[2])
        if enc_len is not None and enc_len <= 0:
            enc_len = None

    link = text("link") or v.get("atom:link")
    if not link and guid and v.get("_permalink"):
        # RSS: a guid is a permalink unless isPermaLink="false"; trust a relative one only
        # when the feed declares xml:base, many guids are opaque ids without the attribute.
        if guid.startswith(("http://", "https://")):
            link = guid
        elif guid_base and not _SCHEME.match(guid):
            link = urljoin(guid_base, guid)

    if guid:
        identity = guid
    elif enc_url:
        identity = enc_url
    else:
        digest = hashlib.sha1(f"{title or ''}\x00{date_raw or ''}".encode()).hexdigest()
        identity = f"title+date:{digest}"

    chapters = None
    ch, psc = v.get("chapters"), v.get("psc")
    if ch or psc:
        chapters = Chapters(url=ch[0] if ch else None, type=ch[1] if ch else None, inline=psc or ())

    episode_type = text("itunes:episodetype")
    if episode_type:
        episode_type = episode_type.lower()
        if episode_type not in ("full", "trailer", "bonus"):
            episode_type = None

    return ParsedEpisode(
        identity=identity,
        guid=guid,
        title=title,
        description_markup=description,
        published_at=published_at,
        duration_s=duration,
        enclosure_url=enc_url,
        enclosure_type=enc_type,
        enclosure_length=enc_len,
        episode_number=parse_int(text("itunes:episode") or text("podcast:episode")),
        season_number=parse_int(text("itunes:season") or text("podcast:season")),
        episode_type=episode_type,
        explicit=parse_explicit(text("itunes:explicit")),
        image_url=_url(v.get("itunes:image") or v.get("media:thumbnail"), base),
        link=_url(link, base),
        transcripts=v.get("transcripts") or [],
        chapters=chapters,
        persons=v.get("persons") or [],
    )


# ---------------------------------------------------------------------------
# Channel

_CHANNEL_TEXT = frozenset(
    {
        "title",
        "atom:title",
        "link",
        "language",
        "dc:language",
        "itunes:author",
        "managingeditor",
        "dc:creator",
        "googleplay:author",
        "itunes:explicit",
        "itunes:type",
        "podcast:guid",
        "itunes:new-feed-url",
        "atom:logo",
        "atom:icon",
        "atom:id",
    }
)
_CHANNEL_HTML = frozenset(
    {
        "content:encoded",
        "description",
        "itunes:summary",
        "atom:subtitle",
        "itunes:subtitle",
        "media:description",
    }
)


def _ch_item(v: dict[str, Any], el: Any) -> None:
    v["_items"].append(el)


def _ch_image(v: dict[str, Any], el: Any) -> None:
    if "image" not in v:
        for child in el:
            if (_TAGS.get(child.tag) or _norm(child.tag)) == "url":
                v["image"] = _text(child)
                break


def _ch_itunes_image(v: dict[str, Any], el: Any) -> None:
    if not v.get("itunes:image"):
        v["itunes:image"] = el.get("href") or el.get("url") or _text(el)


def _ch_googleplay_image(v: dict[str, Any], el: Any) -> None:
    v.setdefault("googleplay:image", el.get("href"))


def _ch_owner(v: dict[str, Any], el: Any) -> None:
    for child in el:
        key = _TAGS.get(child.tag) or _norm(child.tag)
        if key in ("itunes:name", "itunes:email") and not v.get(key):
            v[key] = _text(child)


def _categories(el: Any, prefix: tuple[str, ...], out: list[tuple[str, ...]]) -> None:
    name = (el.get("text") or "").strip()
    path = prefix + (name,) if name else prefix  # a nameless level: keep its subcategories
    subs = [c for c in el if (_TAGS.get(c.tag) or _norm(c.tag)) == "itunes:category"]
    before = len(out)
    for sub in subs:
        _categories(sub, path, out)
    if len(out) == before and path:  # a leaf (or only empty subcategories)
        out.append(path)


def _ch_itunes_category(v: dict[str, Any], el: Any) -> None:
    _categories(el, (), v.setdefault("_itunes_cats", []))


def _ch_category(v: dict[str, Any], el: Any) -> None:
    t = _text(el)
    if t:
        v.setdefault("_cats", []).append((t,))


def _ch_atom_link(v: dict[str, Any], el: Any) -> None:
    href = el.get("href")
    if not href:
        return
    rel = _atom_rel(el)
    if rel == "self":
        v.setdefault("_self", href.strip())
    elif rel == "alternate":
        v.setdefault("_alternate", href.strip())
    elif rel == "payment":
        v.setdefault("_funding", []).append(
            Funding(url=href.strip(), text=(el.get("title") or "").strip() or None)
        )


def _ch_funding(v: dict[str, Any], el: Any) -> None:
    url = el.get("url")
    if url:
        v.setdefault("_funding", []).append(Funding(url=url.strip(), text=_text(el)))


def _ch_person(v: dict[str, Any], el: Any) -> None:
    p = _person(el)
    if p is not None:
        v.setdefault("_persons", []).append(p)


def _ch_author(v: dict[str, Any], el: Any) -> None:  # atom:author/atom:name
    if "atom:author" not in v:
        for child in el:
            if (_TAGS.get(child.tag) or _norm(child.tag)) == "atom:name":
                v["atom:author"] = _text(child)
                break


def _ch_redirect(v: dict[str, Any], el: Any) -> None:  # old <redirect><newLocation>
    for child in el:
        if (_TAGS.get(child.tag) or _norm(child.tag)) == "newlocation":
            v.setdefault("newlocation", _text(child))


def _ch_thumbnail(v: dict[str, Any], el: Any) -> None:
    v.setdefault("media:thumbnail", el.get("url"))


_CHANNEL_SPECIAL: dict[str, Callable[[dict[str, Any], Any], None]] = {
    "item": _ch_item,
    "atom:entry": _ch_item,
    "image": _ch_image,
    "itunes:image": _ch_itunes_image,
    "googleplay:image": _ch_googleplay_image,
    "itunes:owner": _ch_owner,
    "itunes:category": _ch_itunes_category,
    "category": _ch_category,
    "atom:link": _ch_atom_link,
    "podcast:funding": _ch_funding,
    "podcast:person": _ch_person,
    "atom:author": _ch_author,
    "redirect": _ch_redirect,
    "media:thumbnail": _ch_thumbnail,
}
_CHANNEL_DISPATCH: dict[str, Any] = (
    dict.fromkeys(_CHANNEL_TEXT | _CHANNEL_HTML, _KEEP) | _CHANNEL_SPECIAL
)


def _sv(v: dict[str, Any], *keys: str, markup: bool = False) -> str | None:
    """First non-empty value among keys: a string from a handler or a kept element's text."""
    for k in keys:
        x = v.get(k)
        if x is not None and not isinstance(x, str):
            x = _markup(x) if markup else _text(x)
        if x:
            return x
    return None


def _channel_description(v: dict[str, Any]) -> str | None:
    encoded = _sv(v, "content:encoded", markup=True)
    if encoded:
        return encoded
    desc = _sv(v, "description", "atom:subtitle", markup=True)
    summary = _sv(v, "itunes:summary", markup=True)
    if desc and summary and len(summary) > len(desc) and summary.startswith(desc.rstrip(". …")):
        return summary  # description truncated by the host, the summary has it all
    return desc or summary or _sv(v, "itunes:subtitle", "media:description", markup=True)


def _dedupe_categories(paths: list[tuple[str, ...]]) -> list[Category]:
    seen: dict[tuple[str, ...], None] = {}
    for p in paths:
        seen.setdefault(p, None)
    # drop a path implied by a longer one (Business + Business/Business News)
    keep = [p for p in seen if not any(len(o) > len(p) and o[: len(p)] == p for o in seen)]
    return [Category(path=p) for p in keep]


def _build(
    root: Any, root_key: str, url: str | None, *, recovered: bool = False
) -> tuple[ParsedChannel, list[ParsedEpisode], str]:
    if root_key == "atom:feed":
        fmt, channel_el = "atom", root
    else:
        fmt = "rss"
        channel_el = None
        if root_key == "channel":
            channel_el = root
        else:
            for child in root:
                if (_TAGS.get(child.tag) or _norm(child.tag)) == "channel":
                    channel_el = child
                    break
        if channel_el is None:  # <channel> start tag missing: children sit on the root
            channel_el = root

    v: dict[str, Any] = {"_items": []}
    _collect(v, channel_el, _CHANNEL_DISPATCH)
    if channel_el is not root:  # RSS 1.0 items are siblings of the channel; broken RSS 2 too
        _collect(v, root, _CHANNEL_DISPATCH)  # the channel's own values, seen first, win

    if recovered:  # unclosed elements may have swallowed items: look at every depth
        v["_items"] = [
            el
            for el in root.iter()
            if (_TAGS.get(el.tag) or _norm(el.tag)) in ("item", "atom:entry")
        ]

    self_url = v.get("_self")
    base = url or self_url
    xml_base = root.get("{http://www.w3.org/XML/1998/namespace}base")
    if xml_base:
        base = urljoin(base or "", xml_base.strip())
    guid = _sv(v, "podcast:guid")
    computed = False
    if not guid and (url or self_url):
        guid, computed = podcast_guid_for_url(url or self_url or ""), True

    language = _sv(v, "language", "dc:language")
    if not language and fmt == "atom":
        language = root.get("{http://www.w3.org/XML/1998/namespace}lang")
    itunes_type = (_sv(v, "itunes:type") or "").lower() or None
    if itunes_type not in (None, "episodic", "serial"):
        itunes_type = None

    channel = ParsedChannel(
        title=_clean_title(_sv(v, "title", "atom:title")),
        description_markup=_channel_description(v),
        link=_url(_sv(v, "link", "_alternate"), base),
        language=normalise_language(language),
        author=_sv(
            v, "itunes:author", "managingeditor", "dc:creator", "atom:author", "googleplay:author"
        ),
        owner_name=v.get("itunes:name"),
        owner_email=v.get("itunes:email"),
        image_url=_url(
            _sv(
                v,
                "itunes:image",
                "image",
                "media:thumbnail",
                "atom:logo",
                "atom:icon",
                "googleplay:image",
            ),
            base,
        ),
        categories=_dedupe_categories(v.get("_itunes_cats", []) + v.get("_cats", [])),
        explicit=parse_explicit(_sv(v, "itunes:explicit")),
        itunes_type=itunes_type,
        podcast_guid=guid,
        podcast_guid_computed=computed,
        self_url=self_url,
        new_feed_url=_sv(v, "itunes:new-feed-url", "newlocation"),
        funding=v.get("_funding") or [],
        persons=v.get("_persons") or [],
    )
    return channel, _episodes(v["_items"], base, base if xml_base else None), fmt


def _episodes(items: list[Any], base: str | None, guid_base: str | None) -> list[ParsedEpisode]:
    # No HTML work here: sanitising and plain text happen when an item is stored.
    if items and items[0].__class__ is _El:  # all from the fast path's scanner
        return [_episode_fast(item.v, base, guid_base) for item in items]
    return [_episode(item, base, guid_base) for item in items]


# ---------------------------------------------------------------------------
# Bytes → tree, with repairs only on failure

_ROOT_KEYS = frozenset({"rss", "rdf:rdf", "atom:feed", "channel", "feed"})
_EXACT_STRIPPED = frozenset(u.rstrip("/") for u in _EXACT_NS)


def _is_case_variant(uri: str) -> bool:
    bare = uri.rstrip("/")
    return bare not in _EXACT_STRIPPED and bare not in _NS_PREFIX and bare.lower() in _NS_PREFIX


_XML_DECL = re.compile(r"^\s*<\?xml[^>]*\?>")
_DECL_START = re.compile(r"<\?xml[\s?]")
_ROOT_START = re.compile(r"<(?:[\w.-]+:)?(?:rss|feed|RDF|channel)[\s>/]")
_DECLARED_ENC = re.compile(rb"^\s*<\?xml[^>]{0,200}?encoding\s*=\s*[\"']([A-Za-z0-9._:-]+)")
_C1_CHARS = re.compile("[\x80-\x9f]")
_C1_TABLE = {c: bytes([c]).decode("cp1252", "ignore") or chr(c) for c in range(0x80, 0xA0)}
_C1_UTF8 = re.compile(rb"\xc2[\x80-\x9f]")
_C1_BYTES = re.compile(rb"[\x80-\x9f]")
_C1_REF = re.compile(r"&#(?:(1[2-5][0-9])|[xX]([89][0-9a-fA-F]));")
_C1_REF_BYTES = re.compile(rb"&#(?:1[2-5][0-9]|[xX][89][0-9a-fA-F]);")


def _c1_ref(m: re.Match[str]) -> str:
    code = int(m.group(1)) if m.group(1) else int(m.group(2), 16)
    if not 0x80 <= code <= 0x9F:
        return m.group(0)
    return f"&#{ord(_C1_TABLE[code][0])};"


_LATIN1_NAMES = frozenset({"iso-8859-1", "iso8859-1", "latin-1", "latin1", "us-ascii", "ascii"})
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
# Only ampersands that are not XML's own entities or character references.
_BAD_AMP = re.compile(
    r"&(?!(?:amp|lt|gt|quot|apos|#[0-9]+|#[xX][0-9a-fA-F]+);)(?:([A-Za-z][A-Za-z0-9]{0,31});)?"
)
_PREFIX_USE = re.compile(
    r"</?([A-Za-z_][\w.-]*):[A-Za-z_]|\s([A-Za-z_][\w.-]*):[A-Za-z_][\w.-]*\s*=\s*[\"']"
)
_PREFIX_DECL = re.compile(r"xmlns:([A-Za-z_][\w.-]*)\s*=")
_FIRST_ELEMENT = re.compile(
    r"<!--.*?-->|<\?.*?\?>|<!DOCTYPE[^>\[]*(?:\[.*?\])?\s*>|<([A-Za-z_][\w.:-]*)", re.S
)
_BOMS = (
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
)
_SNIFF = (  # "<?" or "<r" without a BOM
    (b"\x00\x00\x00<", "utf-32-be"),
    (b"<\x00\x00\x00", "utf-32-le"),
    (b"\x00<\x00", "utf-16-be"),
    (b"<\x00", "utf-16-le"),
)
# WHATWG: labels that mean windows-1252 in practice.
_AS_CP1252 = frozenset(
    {"iso-8859-1", "iso8859-1", "latin-1", "latin1", "us-ascii", "ascii", "l1", "cp819"}
)


def _codec(name: str | None) -> str | None:
    if not name:
        return None
    name = name.strip().strip("\"'").lower()
    if name in _AS_CP1252:
        return "cp1252"
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def _decode(data: bytes, http_charset: str | None) -> tuple[str, str, bool]:
    """Bytes → text; returns (text, codec, whether the guess overrode the document)."""
    for bom, enc in _BOMS:
        if data.startswith(bom):
            try:
                return data[len(bom) :].decode(enc), enc, False
            except UnicodeDecodeError:
                return data[len(bom) :].decode(enc, "replace"), enc, True
    head = data[:4]
    for sig, enc in _SNIFF:
        if head.startswith(sig):
            try:
                return data.decode(enc), enc, False
            except UnicodeDecodeError:
                return data.decode(enc, "replace"), enc, True
    m = _DECLARED_ENC.match(data[:1024].lstrip())
    declared = _codec(m.group(1).decode("ascii")) if m else None
    if declared and declared.startswith("utf-16"):  # 8-bit bytes can't be UTF-16: the label lies
        declared = "utf-8"
    candidates = [c for c in (declared, _codec(http_charset), "utf-8") if c]
    for i, enc in enumerate(candidates):
        try:
            text = data.decode(enc)
        except (UnicodeDecodeError, LookupError):
            continue
        return text, enc, i > 0 or enc != (declared or "utf-8")
    try:
        from charset_normalizer import from_bytes

        best = from_bytes(data).best()
        if best is not None and best.encoding:
            return str(best), best.encoding, True
    except Exception:  # detector failure: fall through to a lossless 8-bit decode
        pass
    try:
        return data.decode("cp1252"), "cp1252", True
    except UnicodeDecodeError:
        return data.decode("latin-1"), "latin-1", True


def _fix_entity(m: re.Match[str]) -> str:
    name = m.group(1)
    if name is None:
        return "&amp;"  # a bare ampersand
    char = _HTML5.get(name + ";")
    if char is not None:
        return "".join(f"&#{ord(c)};" for c in char)
    return f"&amp;{name};"  # unknown: keep it visible as text


def _fix_entities(text: str) -> str:
    """Map HTML named entities to character references, escape stray '&'; CDATA untouched."""
    if "<![CDATA[" not in text:
        return _BAD_AMP.sub(_fix_entity, text)
    head, *sections = text.split("<![CDATA[")
    out = [_BAD_AMP.sub(_fix_entity, head)]
    for section in sections:
        cdata, end, rest = section.partition("]]>")
        out.append("<![CDATA[" + cdata + end + _BAD_AMP.sub(_fix_entity, rest))
    return "".join(out)


def _bind_prefixes(text: str) -> tuple[str, bool]:
    declared = set(_PREFIX_DECL.findall(text))
    used = {a or b for a, b in _PREFIX_USE.findall(text)}
    missing = sorted(used - declared - {"xml", "xmlns"})
    if not missing:
        return text, False
    for m in _FIRST_ELEMENT.finditer(text):
        if m.group(1):
            decls = "".join(
                f' xmlns:{p}="{_CANONICAL_NS.get(p.lower(), "urn:x-podsight:unbound:" + p)}"'
                for p in missing
            )
            return text[: m.end()] + decls + text[m.end() :], True
    return text, False


def _prepare(data: bytes, http_charset: str | None, repairs: list[str]) -> str:
    """Decode and cut anything before the XML declaration / root element."""
    text, _enc, overridden = _decode(data, http_charset)
    if overridden:
        repairs.append("encoding")
    if text.startswith("\ufeff"):
        text = text[1:]
    head = text[:65536]
    m = _DECL_START.search(head)
    if m and m.start() > 0:
        repairs.append("leading-bytes" if head[: m.start()].strip() else "leading-whitespace")
        text = text[m.start() :]
    elif m is None:
        name = next((f.group(1) for f in _FIRST_ELEMENT.finditer(head) if f.group(1)), None)
        if name is None or name.rpartition(":")[2].lower() not in ("rss", "feed", "rdf", "channel"):
            r = _ROOT_START.search(head)
            if r is not None:
                repairs.append("leading-bytes")
                text = text[r.start() :]
    if _C1_CHARS.search(text) or _C1_REF.search(text):  # windows-1252 read as C1 controls
        text = _C1_REF.sub(_c1_ref, text.translate(_C1_TABLE))
        repairs.append("windows-1252")
    return _XML_DECL.sub("", text, count=1)  # parsed as UTF-8 from here on


def _fix_controls(text: str) -> str:
    return _CONTROL.sub("", text)


def _fix_prefixes(text: str) -> str:
    return _bind_prefixes(text)[0]


# libxml2 refuses elements nested deeper than 256 levels (huge_tree, which lifts that, also
# lifts the other limits that protect us); deeper content is cut out before that depth.
_MAX_DEPTH = 200
# Markup that is not an element (comments, CDATA, processing instructions, declarations),
# then start, end and empty-element tags; quoted attribute values may contain ">".
_MARKUP = re.compile(
    r"<!--.*?-->|<!\[CDATA\[.*?\]\]>|<\?.*?\?>|<!(?:[^>\"'\[]|\"[^\"]*\"|'[^']*'|\[.*?\])*>"
    r"|<(?P<close>/?)(?P<name>[^\s/>!?][^\s/>]*)(?:[^>\"']|\"[^\"]*\"|'[^']*')*?(?P<empty>/?)>",
    re.S,
)


def _prune_deep(text: str) -> str:
    """Drop every element nested deeper than :data:`_MAX_DEPTH`, with its content.

    Without this, libxml2's recovery stops at the first over-deep element, and every
    item after it is lost: 100,000 nested elements before the first ``<item>`` emptied a
    feed. Real feeds nest a few levels; the content cut here is not read at all, so the
    result counts as incomplete."""
    pieces: list[str] = []
    keep_from, depth = 0, 0
    cut_at: int | None = None
    for m in _MARKUP.finditer(text):
        if m.group("name") is None:
            continue
        if m.group("close"):
            depth = max(depth - 1, 0)
            if cut_at is not None and depth <= _MAX_DEPTH:
                pieces.append(text[keep_from:cut_at])
                keep_from, cut_at = m.end(), None
            continue
        if depth >= _MAX_DEPTH and cut_at is None:
            cut_at = m.start()
        if not m.group("empty"):
            depth += 1
        elif cut_at is not None and depth == _MAX_DEPTH:  # an empty element one too deep
            pieces.append(text[keep_from:cut_at])
            keep_from, cut_at = m.end(), None
    pieces.append(text[keep_from:cut_at])
    return "".join(pieces)


# (repair name, what libxml2 says when it is needed, the fix); each is tried at most once.
_TEXT_REPAIRS: tuple[tuple[str, tuple[str, ...], Callable[[str], str]], ...] = (
    ("unbound-prefix", ("Namespace prefix",), _fix_prefixes),
    ("html-entities", ("Entity", "EntityRef"), _fix_entities),
    ("control-chars", ("Char 0x", "invalid Char", "CharRef"), _fix_controls),
    ("deep-nesting", ("Excessive depth",), _prune_deep),
)
# Repairs that drop content: the document is then incomplete, as after recovery mode.
_LOSSY_REPAIRS = frozenset({"deep-nesting"})


def _parse_repaired(data: bytes, http_charset: str | None, repairs: list[str]) -> tuple[Any, bool]:
    """Repair passes driven by libxml2's error, then recovery mode; returns (root, complete)."""
    text = _prepare(data, http_charset, repairs)
    pending = list(_TEXT_REPAIRS)
    while True:
        raw = text.encode("utf-8", "replace")
        try:
            return etree.fromstring(raw, _STRICT), _LOSSY_REPAIRS.isdisjoint(repairs)
        except etree.XMLSyntaxError as exc:
            error = exc
        msg = str(error)
        step = next((r for r in pending if any(hint in msg for hint in r[1])), None)
        todo = [step] if step else pending  # unknown error: try every remaining fix once
        pending = [r for r in pending if r not in todo]
        changed = False
        for name, _hints, fix in todo:
            fixed = fix(text)
            if fixed != text:
                repairs.append(name)
                text, changed = fixed, True
        if not changed and not pending:
            break
    try:
        root = etree.fromstring(raw, _RECOVER)
    except etree.XMLSyntaxError:
        root = None
    if root is None:
        raise FeedParseError(f"not well-formed XML and nothing recoverable: {error}") from error
    repairs.append("recovered")
    return root, False


def _needs_charset(data: bytes, http_charset: str | None) -> bool:
    """Use the HTTP charset only when the document states no encoding of its own."""
    if not http_charset or _codec(http_charset) in (None, "utf-8"):
        return False
    if data[:2] in (b"\xfe\xff", b"\xff\xfe") or data[:3] == codecs.BOM_UTF8 or data[:1] == b"\x00":
        return False
    return _DECLARED_ENC.match(data[:1024].lstrip()) is None


def _has_c1(data: bytes, root: Any) -> bool:
    """C1 control characters in text: windows-1252 punctuation under a wrong label."""
    if _C1_REF_BYTES.search(data) is not None:  # "&#146;": HTML maps these to windows-1252 too
        return True
    encoding = (root.getroottree().docinfo.encoding or "utf-8").lower()
    if encoding in ("utf-8", "utf8"):
        return _C1_UTF8.search(data) is not None
    return encoding in _LATIN1_NAMES and _C1_BYTES.search(data) is not None


def _root_key(root: Any) -> str:
    return _TAGS.get(root.tag) or _norm(root.tag)


def _ns_prefix(uri: str) -> str | None:
    prefix = _NS_PREFIX.get(uri)
    return _NS_PREFIX.get(uri.lower().rstrip("/")) if prefix is None else prefix


# Handlers the scanner runs itself (same logic as _item_guid, _item_enclosure,
# _item_itunes_image), media:group it descends into, atom:link it defers with a flag.
_FAST_CODES = {
    "media:group": 4,
    "guid": 5,
    "enclosure": 6,
    "itunes:image": 7,
    "atom:link": 8,
}
if _fastscan is not None:
    _fastscan.configure(
        _ns_prefix,
        {  # the codes of _fastscan.c: which item elements it keeps and how
            key: _FAST_CODES.get(key, 3 if key in _ITEM_SPECIAL else 1) for key in _ITEM_DISPATCH
        }
        # description candidates by preference: only the one used is decoded
        | {key: 10 + rank for rank, key in enumerate(_DESCRIPTION_ORDER)},
        _HTML5,
        _text_zone,
        lambda p: _CANONICAL_NS.get(p.lower(), "urn:x-podsight:unbound:" + p),  # _bind_prefixes
    )


def parse_date_fast(text: str | None) -> Any:
    """parse_date, with the well-formed RFC 822 case read by the scanner module."""
    if not text:
        return None
    got = _fastscan.rfc822(text)
    return parse_date(text) if got is NotImplemented else got


def _duration_fast(text: str | None) -> int | None:
    """parse_duration, with N, M:S and H:M:S read by the scanner module."""
    if not text:
        return None
    got = _fastscan.duration(text)
    return parse_duration(text) if got is NotImplemented else got


_DECL_START_BYTES = re.compile(rb"<\?xml[\s?]")
_PREFIX_DECL_BYTES = re.compile(rb"xmlns:([A-Za-z_][\w.-]*)\s*=")


def parse_fast(data: bytes, url: str | None) -> ParseResult | None:
    """The native scanner's result, or ``None`` when it declines the document."""
    got = _fastscan.scan(data)
    if got is None:
        return None
    root, root_uris, leading_ws, html_entities, unbound = got
    key = root.tag
    if key not in _ROOT_KEYS or key == "feed":
        return None
    repairs = ["leading-whitespace"] if leading_ws else []
    if html_entities or unbound:
        # The repair path: one repair at a time (which comes first is libxml2's to say),
        # and it cuts at the first "<?xml": there must be none but ours.
        if html_entities and unbound:
            return None
        if data.lstrip()[:5] != b"<?xml" and _DECL_START_BYTES.search(data, 0, 4 * 65536):
            return None
        if unbound:  # bound on the root only if declared nowhere (_bind_prefixes' view)
            declared = set(_PREFIX_DECL_BYTES.findall(data))
            if any(p.encode() in declared for p in unbound):
                return None
            repairs.append("unbound-prefix")
        else:
            repairs.append("html-entities")
    if any(uri and _is_case_variant(uri) for uri in root_uris):
        repairs.append("namespace-case")
    try:
        channel, episodes, fmt = _build(root, key, url)
    except _Decline:
        return None
    return ParseResult(channel=channel, episodes=episodes, format=fmt, repairs=repairs)


def parse_feed(
    data: bytes, *, url: str | None = None, http_charset: str | None = None, fast: bool = True
) -> ParseResult:
    """Parse an RSS/Atom document. Raises :class:`FeedParseError` only when nothing is usable.

    The native scanner reads the documents it can read exactly as the lxml path would;
    it declines the rest (``fast=False`` skips it), which the lxml path then parses."""
    if not data or data.isspace():  # isspace: the same bytes as strip(), without a copy
        raise FeedParseError("empty document")
    if fast and _fastscan is not None and not _needs_charset(data, http_charset):
        try:
            result = parse_fast(data, url)
        except Exception:  # a bug in the fast path must not cost the feed: lxml reads it
            _log.exception("rss fast path failed; parsed with lxml instead")
            result = None
        if result is not None:
            return result
    repairs: list[str] = []
    complete = True
    root = None
    if not _needs_charset(data, http_charset):
        try:
            root = etree.fromstring(data, _STRICT)
        except etree.XMLSyntaxError:
            root = None
            if data[:1].isspace() and data.lstrip()[:5] == b"<?xml":  # common and cheap to fix
                try:
                    root = etree.fromstring(data.lstrip(), _STRICT)
                    repairs.append("leading-whitespace")
                except etree.XMLSyntaxError:
                    root = None
        if root is not None and _has_c1(data, root):
            root = None
            repairs.clear()  # take the decoding path, which maps them to windows-1252
    if root is None:
        root, complete = _parse_repaired(data, http_charset, repairs)
    key = _root_key(root)
    if key not in _ROOT_KEYS:
        raise FeedParseError(
            f"not an RSS/Atom feed: root element is <{etree.QName(root).localname}>"
        )
    for uri in root.nsmap.values():  # e.g. http://www.itunes.com/DTDs/Podcast-1.0.dtd
        if uri and _is_case_variant(uri):
            repairs.append("namespace-case")
            break
    if key == "feed":  # Atom without its namespace declaration
        for el in root.iter():
            if isinstance(el.tag, str) and el.tag[0] != "{":
                el.tag = "{http://www.w3.org/2005/Atom}" + el.tag
        key = "atom:feed"
        repairs.append("atom-namespace")
    channel, episodes, fmt = _build(root, key, url, recovered=not complete)
    return ParseResult(
        channel=channel, episodes=episodes, format=fmt, repairs=repairs, complete=complete
    )
