"""Cursors are signed, and a decoded cursor is checked against the ordering field's type:
a forged or tampered cursor is a 400 ``invalid_cursor``, never a 500 (issue 15, section 5).

The forgeries are what a hostile client sent to a running server: base64 JSON that names
the right ordering but carries a value the database cannot compare (a word where a date
belongs, ``{}``, ``Infinity``, ``1e400``, an id beyond 64 bits)."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core import signing
from django.test import override_settings
from rest_framework.test import APIClient

from podsight.api import pagination
from podsight.sources.rss.ingest import ingest_feeds

pytestmark = pytest.mark.django_db

FEEDS = ["podcast-feed-parser/bc-sample.xml", "podcast-feed-parser/podnews.xml"]


@pytest.fixture
def api(rss_corpus: Path) -> APIClient:
    report = ingest_feeds([str(rss_corpus / f) for f in FEEDS])
    assert not any(o.failed for o in report.outcomes)
    # A tampered cursor must come back as a response, never as an exception.
    return APIClient(raise_request_exception=False)


def _unsigned(payload) -> str:
    """A cursor as the API handed them out before they were signed: base64 of JSON."""
    raw = payload if isinstance(payload, str) else json.dumps(payload)
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _cursor_of(next_link: str) -> str:
    return parse_qs(urlsplit(next_link).query)["cursor"][0]


def _invalid_cursor(response) -> dict:
    assert response.status_code == 400, (response.status_code, response.content[:300])
    error = response.json()["error"]
    assert error["status"] == 400 and error["code"] == "invalid_cursor", error
    assert error["message"] and error["details"]["cursor"]
    return error


# Each was a 500 when cursors were unsigned base64 JSON flowing into the filter.
TAMPERED = [
    ("published_at", {"o": "published_at", "v": "not a date", "i": 1}),
    ("-published_at", {"o": "-published_at", "v": {}, "i": 1}),
    ("-published_at", {"o": "-published_at", "v": [1, 2], "i": 1}),
    ("duration_s", '{"o": "duration_s", "v": Infinity, "i": 1}'),
    ("duration_s", '{"o": "duration_s", "v": 1e400, "i": 1}'),
    ("duration_s", {"o": "duration_s", "v": 2**70, "i": 1}),
    ("id", '{"o": "id", "v": 1, "i": 1e400}'),
    ("id", {"o": "id", "v": 1, "i": 2**70}),
    ("title", {"o": "title", "v": {"$gt": ""}, "i": 1}),
]


@pytest.mark.parametrize(("ordering", "payload"), TAMPERED)
def test_a_tampered_unsigned_cursor_is_400_invalid_cursor(api, ordering, payload):
    cursor = _unsigned(payload)
    _invalid_cursor(api.get("/api/episodes", {"ordering": ordering, "cursor": cursor}))


@pytest.mark.parametrize(
    ("ordering", "payload"), [(o, p) for o, p in TAMPERED if isinstance(p, dict)]
)
def test_a_tampered_signed_cursor_is_400_invalid_cursor(api, ordering, payload):
    """The same values signed with the server's key (the development key is public): the
    type checks behind the signature refuse them."""
    cursor = signing.dumps(payload, salt=pagination.CURSOR_SALT)
    _invalid_cursor(api.get("/api/episodes", {"ordering": ordering, "cursor": cursor}))


def test_signed_links_cursors_with_impossible_values_are_400(api):
    for payload in ([0, 2**70], [7, 1], [True, 1], [0, 0]):
        cursor = signing.dumps(payload, salt=pagination.CURSOR_SALT)
        _invalid_cursor(api.get("/api/links", {"cursor": cursor}))


@pytest.mark.parametrize(
    "cursor",
    ["garbage", "{}", _unsigned("{}"), _unsigned("[]"), _unsigned("null"), "e30:abc", "x" * 3000],
)
def test_garbage_cursors_are_400_invalid_cursor(api, cursor):
    _invalid_cursor(api.get("/api/channels", {"cursor": cursor}))
    _invalid_cursor(api.get("/api/links", {"cursor": cursor}))


def test_links_cursor_beyond_64_bits_is_400(api):
    _invalid_cursor(api.get("/api/links", {"cursor": _unsigned(f"0:{2**70}")}))
    _invalid_cursor(api.get("/api/links", {"cursor": _unsigned("7:1")}))


def test_a_cursor_of_another_ordering_is_400(api):
    first = api.get("/api/episodes", {"ordering": "title", "page_size": 2}).json()
    cursor = _cursor_of(first["next"])
    error = _invalid_cursor(api.get("/api/episodes", {"ordering": "-title", "cursor": cursor}))
    assert "ordering" in error["message"]


def test_a_correctly_signed_cursor_with_a_bad_value_is_still_400(api):
    """Defence in depth: whoever knows the signing key (the built-in development key is
    public) still cannot push a value of the wrong type into the query."""
    for ordering, value, pk in [
        ("published_at", "yesterday", 1),
        ("published_at", "2024-01-01T00:00:00", 1),  # no time zone
        ("duration_s", 1.5, 1),
        ("duration_s", True, 1),
        ("duration_s", 2**63, 1),
        ("title", 42, 1),
        ("id", None, 1),  # id is never null
        ("id", 1, 0),
        ("id", 1, "1"),
        # Well formed but impossible, or overflowing once made UTC: each was a 500.
        ("published_at", "2024-13-45T00:00:00+00:00", 1),
        ("published_at", "0001-01-01T00:00:00+01:00", 1),
        ("published_at", "9999-12-31T23:59:59-23:59", 1),
    ]:
        cursor = signing.dumps({"o": ordering, "v": value, "i": pk}, salt=pagination.CURSOR_SALT)
        _invalid_cursor(api.get("/api/episodes", {"ordering": ordering, "cursor": cursor}))


def test_a_cursor_signed_under_another_secret_key_is_400(api):
    with override_settings(SECRET_KEY="an-older-key-of-this-server"):
        old = api.get("/api/episodes", {"page_size": 2}).json()["next"]
    _invalid_cursor(api.get(old))


def test_a_cursor_with_one_character_changed_is_400(api):
    page = api.get("/api/episodes", {"page_size": 2}).json()
    cursor = _cursor_of(page["next"])
    flipped = cursor[:5] + ("A" if cursor[5] != "A" else "B") + cursor[6:]
    _invalid_cursor(api.get("/api/episodes", {"cursor": flipped}))


def test_genuine_cursors_walk_every_ordering_including_null_dates(api):
    total = api.get("/api/episodes", {"page_size": 500}).json()
    count = len(total["results"])
    for ordering in ("published_at", "-published_at", "duration_s", "-title", "id"):
        seen, url = [], f"/api/episodes?ordering={ordering}&page_size=9"
        while url:
            body = api.get(url).json()
            seen += [e["id"] for e in body["results"]]
            url = body["next"]
        assert len(seen) == len(set(seen)) == count, ordering
