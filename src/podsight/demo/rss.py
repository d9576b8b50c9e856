"""Render demo shows as RSS 2.0 documents, the way real hosting platforms write them.

Output is built as text (not via an XML library) because several deliberate breakages —
bytes before the declaration, undefined entities, unbound prefixes, truncation — cannot be
produced by a serializer. Attribute order and formatting are fixed so output is byte-stable.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from pathlib import Path
from xml.sax.saxutils import escape

from podsight.demo.world import (
    BREAK_BAD_DATE,
    BREAK_LATIN1,
    BREAK_NOT_A_FEED,
    BREAK_PREAMBLE,
    BREAK_TRUNCATED,
    BREAK_UNBOUND_PREFIX,
    BREAK_UNDEFINED_ENTITY,
    DEFAULT_BASE_URL,
    Episode,
    Show,
    World,
)

__all__ = ["format_duration", "format_rfc822", "render_rss", "write_rss_feeds"]

_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_FULL_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_FULL_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
_PHP_WARNING = (
    b"<br />\n<b>Warning</b>:  Cannot modify header information - headers already sent by "
    b"(output started at /var/www/html/wp-content/plugins/podcast-feed/functions.php:212) in "
    b"<b>/var/www/html/wp-includes/feed-rss2.php</b> on line <b>8</b><br />\n"
)
_ERROR_PAGE = """<!DOCTYPE html>
<html lang="en">
<head><title>503 Service Temporarily Unavailable</title></head>
<body>
<h1>Service Temporarily Unavailable</h1>
<p>The server is temporarily unable to service your request due to maintenance downtime or
capacity problems. Please try again later.</p>
<hr>
<address>Apache/2.4.57 (Debian) Server at {host} Port 443</address>
</body>
</html>
"""


def format_rfc822(dt: datetime, offset_min: int = 0, label: str = "+0000") -> str:
    """RFC 822 date in the publisher's local zone; locale-independent (no strftime %a/%b)."""
    local = dt.astimezone(timezone(timedelta(minutes=offset_min)))
    return (
        f"{_DAYS[local.weekday()]}, {local.day:02d} {_MONTHS[local.month - 1]} {local.year} "
        f"{local:%H:%M:%S} {label}"
    )


def _broken_rfc822(dt: datetime, variant: int) -> str:
    """Sloppy dates real CMSs emit: unpadded + named zone, missing seconds, full names."""
    if variant == 0:
        pst = dt.astimezone(timezone(timedelta(hours=-8)))
        return (
            f"{_DAYS[pst.weekday()]}, {pst.day} {_MONTHS[pst.month - 1]} {pst.year} "
            f"{pst.hour}:{pst:%M:%S} PST"
        )
    if variant == 1:
        return (
            f"{_DAYS[dt.weekday()]}, {dt.day:02d} {_MONTHS[dt.month - 1]} {dt.year} "
            f"{dt:%H:%M} +0000"
        )  # no seconds
    return (
        f"{_FULL_DAYS[dt.weekday()]}, {dt.day:02d} {_FULL_MONTHS[dt.month - 1]} {dt.year} "
        f"{dt:%H:%M:%S} GMT"
    )


def format_duration(seconds: int, style: str) -> str:
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    if style == "seconds":
        return str(seconds)
    if style == "ms":  # minutes may exceed 59, as some hosts write it
        return f"{h * 60 + m:02d}:{s:02d}"
    if style == "mixed" and h == 0:
        return f"{m:02d}:{s:02d}"
    return f"{h:02d}:{m:02d}:{s:02d}" if style == "hms" else f"{h}:{m:02d}:{s:02d}"


def _a(value: str | int) -> str:
    return '"' + escape(str(value), {'"': "&quot;"}) + '"'


def _explicit(flag: bool, style: str) -> str:
    if style == "yesno":
        return "yes" if flag else "no"
    if style == "yesclean":
        return "yes" if flag else "clean"
    return "true" if flag else "false"


class _Writer:
    def __init__(self, show: Show) -> None:
        self.show = show
        self.lines: list[str] = []
        # Latin-1 feeds never use CDATA: characters outside Latin-1 must become char refs.
        self.cdata = show.style.cdata and not {BREAK_LATIN1, BREAK_UNDEFINED_ENTITY} & set(
            show.breakage
        )

    def el(self, depth: int, tag: str, text: str | int, **attrs: str | int | None) -> None:
        self.lines.append(f"{'  ' * depth}<{tag}{self._attrs(attrs)}>{escape(str(text))}</{tag}>")

    def empty(self, depth: int, tag: str, **attrs: str | int | None) -> None:
        self.lines.append(f"{'  ' * depth}<{tag}{self._attrs(attrs)}/>")

    def html(self, depth: int, tag: str, html: str, suffix: str = "") -> None:
        body = f"<![CDATA[{html}]]>" if self.cdata else escape(html)
        self.lines.append(f"{'  ' * depth}<{tag}>{body}{suffix}</{tag}>")

    @staticmethod
    def _attrs(attrs: dict[str, str | int | None]) -> str:
        return "".join(f" {k}={_a(v)}" for k, v in attrs.items() if v is not None)


def _rss_open(show: Show) -> str:
    ns = [
        ("itunes", "http://www.itunes.com/dtds/podcast-1.0.dtd"),
        ("atom", "http://www.w3.org/2005/Atom"),
        ("content", "http://purl.org/rss/1.0/modules/content/"),
    ]
    if show.style.podcast_ns and BREAK_UNBOUND_PREFIX not in show.breakage:
        ns.append(("podcast", show.style.podcast_ns))
    return '<rss version="2.0"' + "".join(f" xmlns:{p}={_a(u)}" for p, u in ns) + ">"


def _channel(w: _Writer, show: Show, base_url: str) -> None:
    st = show.style
    entity = BREAK_UNDEFINED_ENTITY in show.breakage
    w.el(2, "title", show.title)
    w.el(2, "link", show.link)
    w.empty(2, "atom:link", href=show.feed_url(base_url), rel="self", type="application/rss+xml")
    # Hand-rolled templates paste HTML entities into plain text; XML knows only five.
    w.html(2, "description", show.description_html, "&nbsp;" if entity else "")
    w.el(2, "language", show.language_tag)
    w.el(2, "copyright", show.copyright)
    w.el(2, "lastBuildDate", format_rfc822(show.last_build, st.tz_offset_min, st.tz_label))
    w.el(2, "generator", st.generator)
    w.el(2, "itunes:author", show.author)
    w.lines.append("    <itunes:owner>")
    w.el(3, "itunes:name", show.owner_name)
    w.el(3, "itunes:email", show.owner_email)
    w.lines.append("    </itunes:owner>")
    w.empty(2, "itunes:image", href=show.image_url)
    w.lines.append("    <image>")
    w.el(3, "url", show.image_url)
    w.el(3, "title", show.title)
    w.el(3, "link", show.link)
    w.lines.append("    </image>")
    for path in show.categories:
        if len(path) == 1:
            w.empty(2, "itunes:category", text=path[0])
        else:
            w.lines.append(f"    <itunes:category text={_a(path[0])}>")
            w.empty(3, "itunes:category", text=path[1])
            w.lines.append("    </itunes:category>")
    w.el(2, "itunes:explicit", _explicit(show.explicit, st.explicit_format))
    w.el(2, "itunes:type", show.show_type)
    if st.podcast_ns:
        if show.declares_podcast_guid:
            w.el(2, "podcast:guid", show.podcast_guid)
        if show.funding:
            w.el(2, "podcast:funding", show.funding.text, url=show.funding.url)
        for h in show.hosts:
            w.el(2, "podcast:person", h.name, role=h.role, href=h.href, img=h.img)
    episodes = list(reversed(show.episodes)) if st.newest_first else show.episodes
    for ep in episodes:
        _item(w, show, ep)


def _item(w: _Writer, show: Show, ep: Episode) -> None:
    st = show.style
    w.lines.append("    <item>")
    w.el(3, "title", ep.title)
    if ep.link:
        w.el(3, "link", ep.link)
    if ep.guid is not None:
        w.el(3, "guid", ep.guid, isPermaLink="true" if ep.guid_is_permalink else "false")
    if BREAK_BAD_DATE in show.breakage:
        w.el(3, "pubDate", _broken_rfc822(ep.published, show.id % 3))
    else:
        w.el(3, "pubDate", format_rfc822(ep.published, st.tz_offset_min, st.tz_label))
    if BREAK_UNDEFINED_ENTITY in show.breakage:
        # WordPress-style excerpt: "[&hellip;]" pasted after the escaped text.
        excerpt = re.sub(r"<[^>]+>", " ", ep.description_html)
        excerpt = " ".join(excerpt.split())[:140]
        w.lines.append(f"      <description>{escape(excerpt)} [&hellip;]</description>")
    else:
        w.html(3, "description", ep.description_html)
    if st.content_encoded:
        w.html(3, "content:encoded", ep.description_html)
    w.empty(
        3, "enclosure", url=ep.enclosure_url, length=ep.enclosure_length, type=ep.enclosure_type
    )
    w.el(3, "itunes:duration", format_duration(ep.duration_s, st.duration_format))
    if ep.season is not None:
        w.el(3, "itunes:season", ep.season)
    if ep.episode is not None:
        w.el(3, "itunes:episode", ep.episode)
    w.el(3, "itunes:episodeType", ep.episode_type)
    w.el(3, "itunes:explicit", _explicit(ep.explicit, st.explicit_format))
    if ep.image_url:
        w.empty(3, "itunes:image", href=ep.image_url)
    for t in ep.transcripts:
        w.empty(
            3, "podcast:transcript", url=t.url, type=t.mime_type, language=t.language, rel=t.rel
        )
    if ep.chapters_url:
        w.empty(3, "podcast:chapters", url=ep.chapters_url, type="application/json+chapters")
    for p in ep.persons:
        w.el(3, "podcast:person", p.name, role=p.role, href=p.href, img=p.img)
    w.lines.append("    </item>")


def render_rss(show: Show, *, base_url: str = DEFAULT_BASE_URL) -> bytes:
    """The bytes a feed fetch of ``show`` would return, including its recorded breakage."""
    if BREAK_NOT_A_FEED in show.breakage:
        host = show.feed_url(base_url).split("/")[2]
        return _ERROR_PAGE.format(host=host).encode("ascii")
    latin1 = BREAK_LATIN1 in show.breakage
    encoding = "ISO-8859-1" if latin1 else "UTF-8"
    w = _Writer(show)
    w.lines += [f'<?xml version="1.0" encoding="{encoding}"?>', _rss_open(show), "  <channel>"]
    _channel(w, show, base_url)
    w.lines += ["  </channel>", "</rss>", ""]
    data = "\n".join(w.lines).encode("iso-8859-1" if latin1 else "utf-8", "xmlcharrefreplace")
    if BREAK_PREAMBLE in show.breakage:
        data = _PHP_WARNING + data
    if BREAK_TRUNCATED in show.breakage:
        cut = len(data) * 3 // 5
        while data[cut] & 0xC0 == 0x80:  # cut on a character boundary, like a dropped TCP stream
            cut -= 1
        data = data[:cut]
    return data


def write_rss_feeds(world: World, out_dir: Path, *, base_url: str = DEFAULT_BASE_URL) -> list[Path]:
    """Write one file per show (``<slug>.xml``) into ``out_dir``; return the paths in show order."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths: list[Path] = []
    for show in world.shows:
        path = out_dir / show.feed_filename
        path.write_bytes(render_rss(show, base_url=base_url))
        paths.append(path)
    return paths
