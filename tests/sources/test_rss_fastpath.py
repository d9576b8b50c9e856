"""The native fast path of ``parse_feed`` (``_fastscan.c``) against the lxml path.

Whatever it accepts, it must parse exactly as the lxml path does (the whole ParseResult:
every field, repairs, completeness); whatever it is unsure of, it declines. Never a
different answer.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from podsight.sources import text as text_module
from podsight.sources.rss import parser
from podsight.sources.rss.parser import FeedParseError, parse_feed

SKIP_SUFFIXES = {".json", ".xsd", ".md"}


def _lxml(data: bytes):
    try:
        return parse_feed(data, fast=False)
    except FeedParseError as exc:
        return ("error", str(exc))


def _fast(data: bytes):
    if not data or data.isspace():
        return None
    return parser.parse_fast(data, None)


def test_the_scanner_is_built() -> None:
    # make venv compiles it; without it the parser still works, only slower.
    assert parser.FAST_SCANNER


def test_equal_to_the_lxml_path_on_the_corpus(rss_corpus: Path) -> None:
    files = [
        p
        for p in sorted(rss_corpus.rglob("*"))
        if p.is_file() and p.suffix.lower() not in SKIP_SUFFIXES
    ]
    accepted, different = [], []
    for path in files:
        data = path.read_bytes()
        fast = _fast(data)
        if fast is None:
            continue
        accepted.append(path)
        if fast != _lxml(data):
            different.append(str(path.relative_to(rss_corpus)))
    print(f"fast path accepted {len(accepted)} of {len(files)} corpus files")
    assert different == []
    # Nearly all well-formed UTF-8 feeds; the rest are the breakage classes.
    assert len(accepted) >= 200


def test_declines_what_only_the_lxml_path_repairs() -> None:
    cases = {
        "doctype": b'<!DOCTYPE rss [<!ENTITY x "y">]>'
        b"<rss><channel><title>&x;</title></channel></rss>",
        "truncated": b"<rss><channel><title>T</title><item><title>A</title>",
        "two repairs": b"<rss><channel><itunes:author>A&nbsp;</itunes:author></channel></rss>",
        "prefix declared elsewhere": b"<rss><channel><itunes:author>A</itunes:author>"
        b'<item xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd"/></channel></rss>',
        "latin-1": '<?xml version="1.0" encoding="iso-8859-1"?><rss><channel><title>Café</title>'
        "</channel></rss>".encode("latin-1"),
        "windows-1252 refs": b"<rss><channel><title>it&#146;s</title></channel></rss>",
        "control char": b"<rss><channel><title>a\x01b</title></channel></rss>",
        "atom without namespace": b"<feed><title>T</title></feed>",
        "bad char ref": b"<rss><channel><title>&#0;</title></channel></rss>",
        "mismatched tag": b"<rss><channel><title>T</titel></channel></rss>",
        "prefix declared twice": b'<rss xmlns:a="urn:u" xmlns:a="urn:v"><channel/></rss>',
        "empty local name": b'<rss xmlns:a="urn:u"><channel a:="1"/></rss>',
        "declaration without version": b"<?xml?><rss><channel/></rss>",
        "declaration not first": b"<!-- c --><?xml version='1.0'?><rss><channel/></rss>",
        "xhtml description": b'<rss><channel><description>a <b xmlns="x">b</b></description>'
        b"</channel></rss>",
    }
    for name, data in cases.items():
        assert _fast(data) is None, name
        _lxml(data)  # the lxml path still answers


def test_repairs_it_does_reproduce() -> None:
    data = (
        b'\n <?xml version="1.0" encoding="utf-8"?>'
        b'<rss xmlns:itunes="http://www.itunes.com/DTDs/Podcast-1.0.dtd"><channel>'
        b"<title>Caf&eacute; &amp; more &bogus; & co</title>"
        b"<item><title>x &hellip;</title><guid>g1</guid></item></channel></rss>"
    )
    fast = _fast(data)
    assert fast is not None
    assert fast.repairs == ["leading-whitespace", "html-entities", "namespace-case"]
    assert fast == _lxml(data)
    data = b"<rss><channel><itunes:author>A</itunes:author><x:y x:z='1'/></channel></rss>"
    fast = _fast(data)
    assert fast is not None and fast.repairs == ["unbound-prefix"]
    assert fast == _lxml(data)


# ---------------------------------------------------------------------------
# Generated feeds: equal or declined, never different.

_CLEAN = (
    list("ab Z09.,;:/-_'\"\t\n\r")
    + ["é", "—", "\u00a0", "😀", "]", "]]", ">", "=", "#"]
    + ["&amp;", "&lt;", "&gt;", "&quot;", "&apos;", "&#65;", "&#x42;", "&#233;", "&#x1F600;"]
    + ["&nbsp;", "&eacute;", "&hellip;", "&bogus;", "& ", "&AMP;", "http://", "<!-- c -->"]
    + ["<![CDATA[<p>x & y</p>]]>", "<?pi x?>", "<![CDATA[ ]]>", "<![CDATA[\r\n]]>"]
)
# Mostly what the fast path reads; sometimes what it must decline.
_HOSTILE = [
    "<b>bold</b>",
    "<br/>",
    "\x01",
    "&#0;",
    "&#146;",
    "&#xZ;",
    "]]>",
    "<!---->",
    "<!-- a -- b -->",
]
_HOSTILE += [' xmlns="http://www.w3.org/1999/xhtml"', "<?xml x?>", "<!DOCTYPE x>", "\ufffe"]
_TEXT = st.lists(st.sampled_from(_CLEAN * 6 + _HOSTILE), max_size=8).map("".join)

_ATTR = st.lists(
    st.sampled_from(
        list("ab 09:/.-") + ["&amp;", "&#10;", "\t", "\n", "&nbsp;", "é", "false", "FALSE", "true"]
    ),
    max_size=5,
).map("".join)

_NS = {
    "itunes": [
        "http://www.itunes.com/dtds/podcast-1.0.dtd",
        "http://www.itunes.com/DTDs/Podcast-1.0.dtd",
    ],
    "podcast": ["https://podcastindex.org/namespace/1.0", "http://podcastindex.org/namespace/1.0"],
    "media": ["http://search.yahoo.com/mrss/"],
    "atom": ["http://www.w3.org/2005/Atom"],
    "content": ["http://purl.org/rss/1.0/modules/content/"],
    "psc": ["http://podlove.org/simple-chapters"],
    "dc": ["http://purl.org/dc/elements/1.1/"],
    "x": ["urn:example:other"],
}
_ITEM_TAGS = [
    "title",
    "TITLE",
    "description",
    "guid",
    "link",
    "pubDate",
    "enclosure",
    "itunes:duration",
    "itunes:image",
    "itunes:episode",
    "itunes:season",
    "itunes:episodeType",
    "itunes:explicit",
    "itunes:title",
    "itunes:summary",
    "content:encoded",
    "atom:link",
    "atom:id",
    "atom:title",
    "media:content",
    "media:group",
    "media:thumbnail",
    "media:description",
    "podcast:transcript",
    "podcast:chapters",
    "podcast:person",
    "psc:chapters",
    "psc:chapter",
    "dc:date",
    "x:thing",
    "unknown",
    "podcast:episode",
    "podcast:season",
]
_CHANNEL_TAGS = [
    "title",
    "description",
    "link",
    "language",
    "itunes:author",
    "itunes:owner",
    "itunes:name",
    "itunes:email",
    "itunes:image",
    "image",
    "url",
    "itunes:category",
    "category",
    "atom:link",
    "podcast:funding",
    "podcast:person",
    "podcast:guid",
    "itunes:type",
    "itunes:new-feed-url",
    "itunes:explicit",
    "itunes:summary",
    "content:encoded",
    "media:thumbnail",
    "x:thing",
]
_ATTR_NAMES = [
    "url",
    "href",
    "type",
    "length",
    "rel",
    "isPermaLink",
    "medium",
    "fileSize",
    "duration",
    "role",
    "group",
    "img",
    "text",
    "start",
    "title",
    "language",
    "xml:lang",
    "itunes:x",
]
_DATES = st.sampled_from(
    [
        "Wed, 18 Mar 2020 09:52:39 -0000",
        "18 Mar 2020 09:52 GMT",
        "Mon, 31 Feb 2020 10:00:00 +0100",
        "Tue, 01 Jan 2019 25:00:00 EST",
        "2020-03-18T09:52:39Z",
        "garbage",
        "Fri, 5 May 1899 1:2:3 Z",
        "Sat, 01 Jun 2024 23:59:59 PDT",
        "Sun, 02 Jun 2024 00:00 +05:30",
        "Mon, 03 Jun 2024 12:00:00 XYZ",
    ]
)
_DURATIONS = st.sampled_from(
    ["3600", "1:02:03", "62:03", "1:2:3:4", "1::2", " 45 ", "1.5", "PT1H", ""]
)


@st.composite
def _element(draw, tags, depth=0):
    tag = draw(st.sampled_from(tags))
    attrs = draw(
        st.lists(
            st.tuples(st.sampled_from(_ATTR_NAMES), _ATTR), max_size=3, unique_by=lambda a: a[0]
        )
    )
    attr_s = "".join(f' {k}="{v}"' for k, v in attrs)
    if draw(st.booleans()) and depth < 2:
        kids = draw(st.lists(_element(tags, depth + 1), max_size=3))
        body = draw(_TEXT) + "".join(kids) + draw(_TEXT)
    else:
        low = tag.lower()
        if low in ("pubdate", "dc:date"):
            body = draw(_DATES)
        elif low == "itunes:duration":
            body = draw(_DURATIONS)
        else:
            body = draw(_TEXT)
    if not body and draw(st.booleans()):
        return f"<{tag}{attr_s}/>"
    return f"<{tag}{attr_s}>{body}</{tag}>"


@st.composite
def _feed(draw) -> bytes:
    decls = []
    for prefix, uris in _NS.items():
        if draw(st.booleans()):
            decls.append(f' xmlns:{prefix}="{draw(st.sampled_from(uris))}"')
    items = draw(st.lists(st.lists(_element(_ITEM_TAGS), max_size=6), max_size=3))
    channel = draw(st.lists(_element(_CHANNEL_TAGS), max_size=5))
    item_s = "".join("<item>" + "".join(children) + "</item>" for children in items)
    lead = draw(st.sampled_from(["", "\n  ", '<?xml version="1.0" encoding="UTF-8"?>\n']))
    if lead.strip() == "" and draw(st.booleans()):
        lead += '<?xml version="1.0"?>'
    root = draw(st.sampled_from(["rss", "RSS"]))
    body = "".join(channel) + item_s
    doc = f'{lead}<{root}{"".join(decls)} version="2.0"><channel>{body}</channel></{root}>'
    return doc.encode()


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_feed())
def test_generated_feeds_equal_or_declined(data: bytes) -> None:
    fast = _fast(data)
    if fast is not None:
        assert fast == _lxml(data)


@pytest.mark.parametrize(
    "text",
    ["Wed, 18 Mar 2020 09:52:39 -0000", "18 Mar 2020 09:52 GMT", "Mon, 31 Feb 2020 10:00:00 +0100"],
)
def test_dates_read_in_c_equal_parse_date(text: str) -> None:
    assert parser.parse_date_fast(text) == text_module.parse_date(text)
