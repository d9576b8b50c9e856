"""An iTunes Search API replay backend, and the demo world as Apple Podcasts lists it.

:class:`AppleBackend` answers ``GET /search`` and ``GET /lookup`` the way
``https://itunes.apple.com`` does: ``{"resultCount": n, "results": [...]}`` served as
``text/javascript``; a lookup with ``entity=podcastEpisode`` returns each podcast
followed by its newest episodes (``limit``, default 50, at most 200); unknown ids give
an empty result, not a 404; bad parameters give a 400 with ``errorMessage``.

:func:`build_apple_backend` renders the demo world: most shows, each with ``feedUrl``
the show's RSS URL (as :func:`podsight.demo.rss.write_rss_feeds` serves it), episodes
with ``episodeGuid`` the RSS ``<guid>`` and ``episodeUrl`` the enclosure URL.
"""

from __future__ import annotations

import hashlib
import random
import re
from collections.abc import Iterable, Mapping
from typing import Any

from podsight.demo.apiserver import ApiRequest, Reply
from podsight.demo.world import DEFAULT_BASE_URL, Episode, Show, World
from podsight.sources.text import html_to_text

__all__ = ["AppleBackend", "apple_demo_ids", "build_apple_backend"]

CONTENT_TYPE = "text/javascript; charset=utf-8"
LOOKUP_DEFAULT_LIMIT = 50
MAX_LIMIT = 200
SEARCH_DEFAULT_LIMIT = 50
_COUNTRY = re.compile(r"^[A-Za-z]{2}$")
# Apple's podcast genre ids.
GENRE_IDS = {
    "Podcasts": "26",
    "Arts": "1301",
    "Books": "1482",
    "Food": "1306",
    "Business": "1321",
    "Entrepreneurship": "1493",
    "Comedy": "1303",
    "Education": "1304",
    "Language Learning": "1498",
    "Health & Fitness": "1512",
    "Mental Health": "1517",
    "History": "1487",
    "News": "1489",
    "Politics": "1527",
    "Tech News": "1448",
    "Science": "1533",
    "Natural Sciences": "1538",
    "Society & Culture": "1324",
    "Documentary": "1543",
    "Sports": "1545",
    "Soccer": "1546",
    "Technology": "1318",
}


def _reply(status: int, body: Any) -> Reply:
    return Reply(status, body, headers={"Content-Type": CONTENT_TYPE})


def _bad(key: str, query: Mapping[str, str]) -> Reply:
    return _reply(
        400,
        {"errorMessage": f"Invalid value(s) for key(s): [{key}]", "queryParameters": dict(query)},
    )


class AppleBackend:
    """iTunes ``/search`` and ``/lookup`` over podcasts held in Apple's result shapes.

    ``collections`` maps a collection id to its podcast result; ``episodes`` maps it to
    its episode results, newest first.
    """

    def __init__(
        self,
        collections: Mapping[int, Mapping[str, Any]],
        episodes: Mapping[int, Iterable[Mapping[str, Any]]] | None = None,
    ) -> None:
        self.collections = {int(k): dict(v) for k, v in collections.items()}
        self.episodes = {int(k): [dict(e) for e in v] for k, v in (episodes or {}).items()}

    def handle(self, request: ApiRequest) -> Reply:
        if request.method != "GET":
            return _reply(405, {"errorMessage": "Method not allowed"})
        path = request.path.rstrip("/")
        if path == "/search":
            return self._search(request.query)
        if path == "/lookup":
            return self._lookup(request.query)
        return Reply(
            404,
            b"<html><body><h1>Not Found</h1></body></html>",
            headers={"Content-Type": "text/html"},
        )

    @staticmethod
    def _limit(query: Mapping[str, str], default: int) -> int | None:
        raw = query.get("limit")
        if raw is None or raw == "":
            return default
        try:
            value = int(raw)
        except ValueError:
            return None
        return min(max(value, 1), MAX_LIMIT)

    def _search(self, query: Mapping[str, str]) -> Reply:
        term = (query.get("term") or "").strip()
        if not term:
            return _bad("term", query)
        country = query.get("country", "US")
        if not _COUNTRY.match(country):
            return _bad("country", query)
        limit = self._limit(query, SEARCH_DEFAULT_LIMIT)
        if limit is None:
            return _bad("limit", query)
        media = query.get("media", "all")
        entity = query.get("entity") or ("podcast" if media == "podcast" else "")
        words = _words(term)
        results: list[dict[str, Any]] = []
        if media in ("podcast", "all") and entity in ("podcast", ""):
            results = [
                c
                for c in self.collections.values()
                if _matches(words, c.get("collectionName"), c.get("artistName"))
            ]
        elif media in ("podcast", "all") and entity == "podcastEpisode":
            results = [
                e
                for eps in self.episodes.values()
                for e in eps
                if _matches(words, e.get("trackName"), e.get("collectionName"))
            ]
        results = results[:limit]
        return _reply(200, {"resultCount": len(results), "results": results})

    def _lookup(self, query: Mapping[str, str]) -> Reply:
        raw_ids = [i.strip() for i in (query.get("id") or "").split(",") if i.strip()]
        if not raw_ids or not all(i.isdecimal() for i in raw_ids):
            return _bad("id", query)
        country = query.get("country", "US")
        if not _COUNTRY.match(country):
            return _bad("country", query)
        limit = self._limit(query, LOOKUP_DEFAULT_LIMIT)
        if limit is None:
            return _bad("limit", query)
        entity = query.get("entity", "")
        results: list[dict[str, Any]] = []
        for raw in raw_ids:
            collection = self.collections.get(int(raw))
            if collection is None:
                continue  # iTunes leaves unknown ids out
            results.append(collection)
            if entity == "podcastEpisode":
                results.extend(self.episodes.get(int(raw), [])[:limit])
        return _reply(200, {"resultCount": len(results), "results": results})


def _words(text: str) -> list[str]:
    return re.findall(r"\w+", text.casefold())


def _matches(words: list[str], *fields: Any) -> bool:
    haystack = [w for f in fields if isinstance(f, str) for w in _words(f)]
    return all(any(h.startswith(w) for h in haystack) for w in words)


# --- the demo world ------------------------------------------------------------------


def _number(key: str, low: int, span: int) -> int:
    return low + int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big") % span


def _apple_shows(world: World) -> list[tuple[Show, int]]:
    """The shows Apple lists (most, not all), each with its collection id."""
    rng = random.Random(f"{world.seed}-apple")
    n = len(world.shows)
    missing_count = max(1, round(n * 0.1)) if n > 2 else 0
    missing = {s.slug for s in rng.sample(world.shows, missing_count)}
    out: list[tuple[Show, int]] = []
    used: set[int] = set()
    for show in world.shows:
        if show.slug in missing:
            continue
        salt = 0
        while True:
            cid = _number(f"{world.seed}-apple-{show.slug}-{salt}", 1_000_000_000, 700_000_000)
            if cid not in used:
                break
            salt += 1
        used.add(cid)
        out.append((show, cid))
    return out


def apple_demo_ids(world: World) -> dict[str, str]:
    """Show slug → Apple collection id (as a string), for the shows Apple lists."""
    return {show.slug: str(cid) for show, cid in _apple_shows(world)}


def _artwork(key: str) -> dict[str, str]:
    digest = hashlib.sha1(key.encode()).hexdigest()
    base = (
        f"https://is1-ssl.mzstatic.com/image/thumb/Podcasts126/v4/{digest[:2]}/{digest[2:4]}/"
        f"{digest[4:6]}/{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-"
        f"{digest[20:32]}/mza_{int(digest[:15], 16)}.jpg"
    )
    return {f"artworkUrl{size}": f"{base}/{size}x{size}bb.jpg" for size in (30, 60, 100, 160, 600)}


def _slug_url(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.casefold()).strip("-") or "podcast"


def _iso(ep: Episode) -> str:
    return ep.published.strftime("%Y-%m-%dT%H:%M:%SZ")


def _demo_collection(
    show: Show, cid: int, feed_url: str, art: Mapping[str, str], track_count: int
) -> dict[str, Any]:
    genres = [name for path in show.categories for name in reversed(path)]
    genres = list(dict.fromkeys(genres))  # deepest first, as Apple lists them
    names = [genres[0], "Podcasts", *genres[1:]] if genres else ["Podcasts"]
    view = f"https://podcasts.apple.com/us/podcast/{_slug_url(show.title)}/id{cid}?uo=4"
    explicitness = "explicit" if show.explicit else "notExplicit"
    latest = max((e.published for e in show.episodes), default=show.last_build)
    return {
        "wrapperType": "track",
        "kind": "podcast",
        "collectionId": cid,
        "trackId": cid,
        "artistName": show.author,
        "collectionName": show.title,
        "trackName": show.title,
        "collectionCensoredName": show.title,
        "trackCensoredName": show.title,
        "collectionViewUrl": view,
        "feedUrl": feed_url,
        "trackViewUrl": view,
        "artworkUrl30": art["artworkUrl30"],
        "artworkUrl60": art["artworkUrl60"],
        "artworkUrl100": art["artworkUrl100"],
        "collectionPrice": 0.0,
        "trackPrice": 0.0,
        "collectionHdPrice": 0,
        "releaseDate": latest.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "collectionExplicitness": explicitness,
        "trackExplicitness": explicitness,
        "trackCount": track_count,
        "country": "USA",
        "currency": "USD",
        "primaryGenreName": names[0],
        "contentAdvisoryRating": "Explicit" if show.explicit else "Clean",
        "artworkUrl600": art["artworkUrl600"],
        "genreIds": [GENRE_IDS.get(n, "26") for n in names],
        "genres": names,
    }


def _demo_episode(
    show: Show,
    ep: Episode,
    cid: int,
    tid: int,
    feed_url: str,
    art: Mapping[str, str],
    rng: random.Random,
) -> dict[str, Any]:
    text = html_to_text(ep.description_html)
    ext = ep.enclosure_url.rsplit(".", 1)[-1].lower()
    slug = _slug_url(ep.title)[:60]
    genres = [
        {"name": name, "id": GENRE_IDS.get(name, "26")}
        for name in dict.fromkeys(n for path in show.categories for n in reversed(path))
    ][:1]
    result: dict[str, Any] = {
        "artworkUrl60": art["artworkUrl60"],
        "artworkUrl160": art["artworkUrl160"],
        "artworkUrl600": art["artworkUrl600"],
        "episodeContentType": "video" if ext in ("mp4", "m4v") else "audio",
        "episodeFileExtension": ext,
        "episodeUrl": ep.enclosure_url,
        "trackTimeMillis": ep.duration_s * 1000,
        "collectionViewUrl": f"https://podcasts.apple.com/us/podcast/{_slug_url(show.title)}"
        f"/id{cid}?uo=4",
        "previewUrl": ep.enclosure_url,
        "closedCaptioning": "none",
        "collectionId": cid,
        "collectionName": show.title,
        "contentAdvisoryRating": "Explicit" if ep.explicit else "Clean",
        "trackViewUrl": f"https://podcasts.apple.com/us/podcast/{slug}/id{cid}?i={tid}&uo=4",
        "trackId": tid,
        "trackName": ep.title,
        "releaseDate": _iso(ep),
        "shortDescription": text[:200].rsplit(" ", 1)[0] if rng.random() < 0.5 else "",
        "feedUrl": feed_url,
        "artistIds": [],
        "country": "USA",
        "description": text,
        "genres": genres,
        "kind": "podcast-episode",
        "wrapperType": "podcastEpisode",
    }
    if ep.guid is not None:  # Apple echoes the feed's <guid>; items without one have none
        result["episodeGuid"] = ep.guid
    return result


def build_apple_backend(world: World, *, base_url: str = DEFAULT_BASE_URL) -> AppleBackend:
    """The demo world as the iTunes Search API lists it.

    ``base_url`` must be the one the RSS feeds are served under, so ``feedUrl`` is the
    feed URL podsight ingests. A few shows keep an old ``http://`` feed URL, as Apple's
    catalog often does (the strong key ignores the scheme).
    """
    collections: dict[int, dict[str, Any]] = {}
    episodes: dict[int, list[dict[str, Any]]] = {}
    for show, cid in _apple_shows(world):
        rng = random.Random(f"{world.seed}-apple-{show.slug}")
        feed_url = show.feed_url(base_url)
        if feed_url.startswith("https://") and rng.random() < 0.1:
            feed_url = "http://" + feed_url.removeprefix("https://")
        art = _artwork(f"{world.seed}-{show.slug}")
        listed = sorted(show.episodes, key=lambda e: e.published, reverse=True)
        used: set[int] = set()
        results = []
        for ep in listed:
            salt = 0
            while True:
                tid = _number(
                    f"{world.seed}-apple-{show.slug}-{ep.index}-{salt}",
                    1_000_500_000_000,
                    200_000_000_000,
                )
                if tid not in used:
                    break
                salt += 1
            used.add(tid)
            results.append(_demo_episode(show, ep, cid, tid, feed_url, art, rng))
        collections[cid] = _demo_collection(show, cid, feed_url, art, len(results))
        episodes[cid] = results
    return AppleBackend(collections, episodes)
