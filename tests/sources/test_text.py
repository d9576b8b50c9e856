"""Unit and property tests for the feed value normalisers (no Django, no corpus)."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from podsight.sources import text as text_module
from podsight.sources.text import (
    as_int,
    html_to_text,
    normalise_language,
    parse_date,
    parse_duration,
    parse_explicit,
    parse_int,
    podcast_guid_for_url,
    sanitize_html,
)

UTC = UTC


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Wed, 18 Mar 2020 09:52:39 -0000", datetime(2020, 3, 18, 9, 52, 39, tzinfo=UTC)),
        ("Tue, 05 Mar 2019 10:00:00 +0100", datetime(2019, 3, 5, 9, 0, tzinfo=UTC)),
        (
            "Tue, 5 Mar 2019 10:00 PST",
            datetime(2019, 3, 5, 18, 0, tzinfo=UTC),
        ),  # 1-digit day, no seconds
        (
            "Tuesday, 5 March 2019 10:00:00 EDT",
            datetime(2019, 3, 5, 14, 0, tzinfo=UTC),
        ),  # full names
        ("Tue, 05 Mar 2019 10:00:00 GMT+2", datetime(2019, 3, 5, 8, 0, tzinfo=UTC)),  # human sign
        ("Tue, 05 Mar 2019 10:00:00 CEST", datetime(2019, 3, 5, 8, 0, tzinfo=UTC)),
        ("Tue, 05 Mar 2019 10:00:00", datetime(2019, 3, 5, 10, 0, tzinfo=UTC)),  # naive → UTC
        (
            "Tue, 05 Mar 2019 10:00:00 XYZ",
            datetime(2019, 3, 5, 10, 0, tzinfo=UTC),
        ),  # unknown zone → UTC
        ("2019-03-05T10:00:00Z", datetime(2019, 3, 5, 10, 0, tzinfo=UTC)),
        ("2003-12-13T18:30:02.25+01:00", datetime(2003, 12, 13, 17, 30, 2, 250000, tzinfo=UTC)),
        ("2019-03-05", datetime(2019, 3, 5, tzinfo=UTC)),
    ],
)
def test_parse_date_variants(text: str, expected: datetime) -> None:
    assert parse_date(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "garbage",
        "Monday",
        "Di, 05 Mär 2019 10:00:00 +0100",
        "Mon, 31 Jun 2020 10:00:00 +0000",
        None,
    ],
)
def test_parse_date_garbage_is_none(text: str | None) -> None:
    assert parse_date(text) is None


@given(st.text(max_size=80))
@settings(max_examples=400)
def test_parse_date_never_raises_and_is_aware(text: str) -> None:
    value = parse_date(text)
    assert value is None or value.tzinfo is not None


@given(
    st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(2100, 1, 1)),
    st.integers(-12 * 60, 14 * 60),
)
def test_parse_date_round_trips_rfc822(moment: datetime, offset_min: int) -> None:
    from email.utils import format_datetime

    aware = moment.replace(microsecond=0, tzinfo=timezone(timedelta(minutes=offset_min)))
    assert parse_date(format_datetime(aware)) == aware


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("3600", 3600),
        ("3600.5", 3600),
        ("1:02:03", 3723),
        ("62:03", 3723),
        ("1:2:3", 3723),
        ("00:45", 45),
        ("01:02:03.400", 3723),
        ("1h 2m 3s", 3723),
        ("PT1H2M", 3720),
        ("  45 min", 2700),
        ("", None),
        ("abc", None),
        ("-5", None),
        ("-1:00", None),
        ("1:-5", None),
        ("1:2:3:4", None),
        ("nan", None),
        (None, None),
    ],
)
def test_parse_duration_forms(text: str | None, seconds: int | None) -> None:
    assert parse_duration(text) == seconds


@given(st.integers(0, 99), st.integers(0, 59), st.integers(0, 59), st.booleans())
def test_parse_duration_round_trips_hms(h: int, m: int, s: int, pad: bool) -> None:
    text = f"{h:02d}:{m:02d}:{s:02d}" if pad else f"{h}:{m}:{s}"
    assert parse_duration(text) == h * 3600 + m * 60 + s
    if h == 0:
        assert parse_duration(f"{m}:{s:02d}") == m * 60 + s


@given(st.text(max_size=40))
@settings(max_examples=500)
def test_parse_duration_never_raises_never_negative(text: str) -> None:
    value = parse_duration(text)
    assert value is None or (isinstance(value, int) and value >= 0)


@pytest.mark.parametrize(
    ("text", "flag"),
    [
        ("yes", True),
        ("True", True),
        (" explicit ", True),
        ("no", False),
        ("false", False),
        ("Clean", False),
        ("", None),
        ("maybe", None),
    ],
)
def test_parse_explicit(text: str, flag: bool | None) -> None:
    assert parse_explicit(text) is flag


def test_as_int() -> None:
    # JSON and dump values: the one integer reader of the API normalisers.
    assert as_int(7) == 7
    assert as_int(" 42 ") == 42
    assert as_int("-3") == -3 and as_int("+3") == 3
    assert as_int(12.0) == 12
    for value in (
        None,
        True,
        False,
        1.5,
        float("nan"),
        float("inf"),
        "",
        "1.5",
        "x",
        "\u0665",
        "\u00b2",
        [1],
    ):
        assert as_int(value) is None, value


def test_parse_int() -> None:
    assert parse_int(" 7 ") == 7
    assert parse_int("12.0") == 12
    assert parse_int("1,234") == 1234
    assert parse_int("1.5") is None
    assert parse_int("ten") is None
    assert parse_int(None) is None


def test_sanitize_keeps_formatting_and_links_drops_scripts() -> None:
    html = sanitize_html(
        '<p onclick="x()">Hi <b>there</b> <a href="https://e.com/x">link</a>'
        '<a href="javascript:alert(1)">bad</a><script>alert(1)</script><style>p{}</style></p>'
    )
    assert "<b>there</b>" in html and 'href="https://e.com/x"' in html
    assert (
        "script" not in html
        and "onclick" not in html
        and "javascript" not in html
        and "p{}" not in html
    )


def test_html_to_text() -> None:
    text = html_to_text(
        "<p>Hello&nbsp;<b>world</b>\n  again</p><p>x<br>y &amp; z</p><script>alert(1)</script>a < b"
    )
    assert text == "Hello world again\nx\ny & z\na < b"
    assert html_to_text("plain\n\n  text &amp; more") == "plain\ntext & more"


@given(st.text(max_size=300))
@settings(max_examples=300)
def test_html_helpers_never_raise_and_no_script_survives(text: str) -> None:
    for markup in (text, f"<script>{text}</script>", f"<p>{text}<script>evil()</script></p>"):
        clean = sanitize_html(markup)
        assert "<script" not in clean.lower()
        assert isinstance(html_to_text(markup), str)
    assert "evil()" not in html_to_text(f"<p>{text}</p><script>evil()</script>")


def test_podcast_guid_spec_example() -> None:
    expected = "9b024349-ccf0-5f69-a609-6b82873eab3c"
    assert podcast_guid_for_url("https://podnews.net/rss") == expected
    assert podcast_guid_for_url("http://podnews.net/rss/") == expected
    assert podcast_guid_for_url("podnews.net/rss") == expected


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("en_US", "en-us"),
        ("EN-us ", "en-us"),
        ("de", "de"),
        ("pt-BR,en", "pt-br"),
        ("", None),
        ("english!", None),
    ],
)
def test_normalise_language(text: str, lang: str | None) -> None:
    assert normalise_language(text) == lang


# The regexes html_to_text used before it was made linear: same results required.
_OLD_HIDDEN = re.compile(r"<(script|style|template|noscript)\b.*?</\1\s*>|<!--.*?-->", re.I | re.S)
_PIECES = [
    "<script>", "</script>", "<SCRIPT a='>'>", "</script >", "<style>", "</Style>", "<!--",
    "-->", "<scripts>", "<noscript>", "</noscript>", "<template>", "</template>", "x", " ",
    "<p>", "</p>", "<br/>", "<a", ">", "<", "<!x", "&amp;", "\n", "<div class=a>", "</div>",
    "<li>", "b", "&nbsp;",
]  # fmt: skip
_markup = st.lists(st.sampled_from(_PIECES), max_size=40).map("".join)


# The regexes html_to_text used before its one-pass rewrite (quadratic on unclosed
# <script> or <!--): the oracle the new code must agree with.
_OLD_HIDDEN_HINT = re.compile(r"<(?:script|style|template|noscript|!--)", re.I)
_OLD_BLOCK_BREAK = re.compile(
    r"<(?:br|/?(?:p|div|li|ul|ol|h[1-6]|blockquote|pre|tr|table|hr|section|article|header|footer))\b[^>]*>",
    re.I,
)
_OLD_TAG = re.compile(r"</?[A-Za-z][^>]*>|<![^>]*>")
_OLD_SPACE_RUN = re.compile(r"[ \f\v]{2,}")
_OLD_NEWLINE_RUN = re.compile(r"\n{2,}")


def _old_collapse(text: str) -> str:
    if "\n" not in text and "\r" not in text:
        return " ".join(text.split())
    lines = (" ".join(line.split()) for line in text.splitlines())
    return "\n".join(line for line in lines if line)


def _old_markup_to_text(markup: str) -> str:
    if "<" not in markup:
        return _old_collapse(html.unescape(markup) if "&" in markup else markup)
    if _OLD_HIDDEN_HINT.search(markup):
        markup = _OLD_HIDDEN.sub(" ", markup)
    markup = markup.replace("\n", " ").replace("\r", " ").replace("\t", " ")
    out = _OLD_TAG.sub("", _OLD_BLOCK_BREAK.sub("\n", markup))
    if "&" in out:
        out = html.unescape(out).replace("\xa0", " ")
    if "  " in out:
        out = _OLD_SPACE_RUN.sub(" ", out)
    out = out.replace(" \n", "\n").replace("\n ", "\n")
    if "\n\n" in out:
        out = _OLD_NEWLINE_RUN.sub("\n", out)
    return out.strip()


@settings(max_examples=400, deadline=None)
@given(_markup)
def test_linear_html_to_text_matches_the_regexes_it_replaced(markup: str) -> None:
    assert text_module.html_to_text(markup) == _old_markup_to_text(markup)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(_PIECES), max_size=60).map("".join))
def test_depth_cap_leaves_shallow_markup_alone(markup: str) -> None:
    if markup.count("<") <= text_module.MAX_HTML_DEPTH:
        assert text_module.cap_html_depth(markup) == markup


@pytest.mark.parametrize(
    "markup",
    [
        "<div>" * 100_000 + "x" + "</div>" * 100_000,
        "<span>" * 100_000 + "x",
        "<script>x" * 50_000,
        "<!--" * 100_000 + "<p>",
        "<a" * 100_000 + "<p>",
        "<!x" * 100_000 + "<p>",
        "<br" * 100_000,
    ],
    ids=["nested-div", "unclosed-span", "unclosed-script", "comments", "open-tags", "bangs", "br"],
)
def test_hostile_markup_costs_linear_time(markup: str) -> None:
    """Each took seconds to a minute (quadratic); generous bound for a loaded CI."""
    import time

    start = time.perf_counter()
    text_module.sanitize_html(markup)
    text_module.html_to_text(markup)
    assert time.perf_counter() - start < 3
