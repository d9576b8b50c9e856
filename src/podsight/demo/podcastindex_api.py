"""A Podcast Index API replay backend, and the demo world as Podcast Index would present it.

:class:`PodcastIndexBackend` answers like ``https://api.podcastindex.org/api/1.0`` for the
calls podsight makes: ``podcasts/trending``, ``search/byterm``, ``podcasts/byfeedid``,
``podcasts/byfeedurl``, ``podcasts/byitunesid``, ``podcasts/byguid``,
``episodes/byfeedid`` (up to 200 comma-separated ids, ``since``, ``max``) and
``recent/episodes``, in the API's own shapes (``status``, ``feeds``/``feed``, ``items``,
``count``, ``query``, ``description``). Text fields are cut to 100 words unless the
request has ``fulltext``, as the real API does.

Every request must carry the API's signature headers (``X-Auth-Key``, ``X-Auth-Date``,
``Authorization`` = SHA-1 of key + secret + date, ``User-Agent``); a wrong hash or a date
more than 3 minutes off gets a 401 in the API's shape
(``{"status": "false", "description": …}``).

Data comes from recorded responses (:meth:`PodcastIndexBackend.from_spec` builds one from
the official OpenAPI spec's examples) or from the demo world
(:func:`build_podcastindex_backend`): every demo show as a Podcast Index feed whose ``url``
is its RSS feed URL, with an iTunes id for most (the one Apple lists), its podcast:guid,
its episodes with the RSS guid and enclosure URL (a few missing, as a crawler that has not
caught up), all deterministic from the world's seed.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import random
import re
import threading
import time
import zlib
from collections.abc import Callable, Iterable, Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

from podsight.demo.apiserver import ApiRequest, Reply
from podsight.demo.world import DEFAULT_BASE_URL, Episode, Show, World

__all__ = [
    "AUTH_WINDOW_S",
    "PI_CATEGORY_IDS",
    "PodcastIndexBackend",
    "build_podcastindex_backend",
    "podcastindex_demo_ids",
    "spec_example",
    "spec_examples",
]

AUTH_WINDOW_S = 180  # X-Auth-Date must be within 3 minutes of the server's clock
MAX_IDS = 200
MAX_RESULTS = 1000
DEFAULT_MAX = 10
TRUNCATE_WORDS = 100
# Podcast Index category ids (reference/podcastindex_categories.json) for the words the
# demo world's iTunes categories are made of: the index splits "Society & Culture" into
# "Society" and "Culture", "Natural Sciences" into "Natural", and so on.
PI_CATEGORY_IDS = {
    "Arts": 1,
    "Books": 2,
    "Food": 6,
    "Business": 9,
    "Entrepreneurship": 11,
    "Comedy": 16,
    "Education": 20,
    "Language": 23,
    "Learning": 24,
    "History": 28,
    "Health": 29,
    "Fitness": 30,
    "Mental": 33,
    "News": 55,
    "Politics": 59,
    "Science": 67,
    "Natural": 73,
    "Society": 77,
    "Culture": 78,
    "Documentary": 79,
    "Sports": 86,
    "Soccer": 96,
    "Technology": 102,
}
# Fields of a feed object each list endpoint returns (podcasts/trending is a short form).
_TRENDING_FIELDS = (
    "id",
    "url",
    "title",
    "description",
    "author",
    "image",
    "artwork",
    "newestItemPublishTime",
    "itunesId",
    "trendScore",
    "language",
    "categories",
)
_SEARCH_DROP = ("trendScore", "funding", "value", "chash", "itunesType", "newestItemPublishTime")
_FEED_DROP = ("trendScore", "newestItemPublishTime")
_RECENT_DROP = (
    "duration",
    "feedUrl",
    "podcastGuid",
    "feedDead",
    "feedDuplicateOf",
    "chaptersUrl",
    "transcriptUrl",
    "transcripts",
    "persons",
    "soundbite",
    "soundbites",
    "socialInteract",
    "value",
)


def _reply(status: int, body: Any) -> Reply:
    return Reply(status, body, cacheable=status == 200)


def _fail(status: int, description: str) -> Reply:
    return _reply(status, {"status": "false", "description": description})


def _truncate(text: Any, fulltext: bool) -> Any:
    if fulltext or not isinstance(text, str):
        return text
    words = text.split()
    return text if len(words) <= TRUNCATE_WORDS else " ".join(words[:TRUNCATE_WORDS])


def _int_param(query: Mapping[str, str], name: str, default: int | None) -> int | None | Reply:
    raw = (query.get(name) or "").strip()
    if not raw:
        return default
    if not raw.lstrip("-").isdigit():
        return _fail(400, f"Invalid parameter: {name}")
    return int(raw)


def _words(text: str) -> list[str]:
    return re.findall(r"\w+", text.casefold())


def _language_ok(language: str, wanted: list[str]) -> bool:
    """``lang=en,es,unknown``: prefixes match (``en`` takes ``en-us``); ``unknown``, none."""
    if not wanted:
        return True
    if not language:
        return "unknown" in wanted
    return any(language == lang or language.startswith(lang + "-") for lang in wanted)


class PodcastIndexBackend:
    """The Podcast Index endpoints podsight uses, over feeds and items held in API shape.

    ``feeds`` are full feed objects (as ``podcasts/byfeedid`` returns them, optionally with
    ``trendScore``); ``episodes`` are item objects (as ``episodes/byfeedid`` returns them,
    each with its ``feedId``).
    """

    def __init__(
        self,
        feeds: Iterable[Mapping[str, Any]],
        episodes: Iterable[Mapping[str, Any]],
        key: str = "demo",
        secret: str = "demo",
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.feeds = {int(f["id"]): dict(f) for f in feeds}
        self.episodes = sorted(
            (dict(e) for e in episodes),
            key=lambda e: (-(e.get("datePublished") or 0), -int(e["id"])),
        )
        self.key = key
        self.secret = secret
        self.clock = clock
        self.accepted = 0
        self.rejected: list[str] = []
        self._lock = threading.Lock()

    @classmethod
    def from_spec(cls, openapi_path: str | Path, **kwargs: Any) -> PodcastIndexBackend:
        """A backend holding the official spec's example feed and episode."""
        spec = json.loads(Path(openapi_path).read_text(encoding="utf-8"))
        feed = dict(spec_example(spec, "podcasts_byfeedid")["feed"])
        trending = spec_example(spec, "podcasts_trending")["feeds"][0]
        search = spec_example(spec, "search_byterm")["feeds"][0]
        if trending.get("id") == feed.get("id"):
            feed["trendScore"] = trending.get("trendScore")
            feed["newestItemPublishTime"] = trending.get("newestItemPublishTime")
        if search.get("id") == feed.get("id") and "newestItemPublishTime" not in feed:
            feed["newestItemPublishTime"] = search.get("newestItemPubdate")
        items = spec_example(spec, "episodes_byfeedid")["items"]
        return cls([feed], items, **kwargs)

    # -- auth -----------------------------------------------------------------------

    def check_auth(self, headers: Mapping[str, str]) -> Reply | None:
        """``None`` when the signature headers are right, else the API's refusal."""
        key = headers.get("x-auth-key", "")
        date = headers.get("x-auth-date", "")
        signature = headers.get("authorization", "")
        if not key or not signature:
            reason = "Authorization header value either not set or blank."
            with self._lock:
                self.rejected.append(reason)
            return _reply(401, reason)
        reason = ""
        if not headers.get("user-agent"):
            reason = "User-Agent header not set"
        elif not date.isdigit():
            reason = "X-Auth-Date header value is not a unix time"
        elif abs(self.clock() - int(date)) > AUTH_WINDOW_S:
            reason = "X-Auth-Date header value is not within 3 minutes of the current time"
        else:
            expected = hashlib.sha1(f"{self.key}{self.secret}{date}".encode()).hexdigest()
            if key != self.key or not hmac.compare_digest(signature, expected):
                reason = "Authorization header value doesn't match"
        if reason:
            with self._lock:
                self.rejected.append(reason)
            return _fail(401, reason)
        with self._lock:
            self.accepted += 1
        return None

    # -- routing --------------------------------------------------------------------

    def handle(self, request: ApiRequest) -> Reply:
        if request.method != "GET":
            return _fail(405, "Method not allowed")
        refused = self.check_auth(request.headers)
        if refused is not None:
            return refused
        path = request.path.strip("/")
        query = request.query
        fulltext = "fulltext" in query
        routes: dict[str, Callable[[Mapping[str, str], bool], Reply]] = {
            "podcasts/trending": self._trending,
            "search/byterm": self._search,
            "podcasts/byfeedid": self._by_feed_id,
            "podcasts/byfeedurl": self._by_feed_url,
            "podcasts/byitunesid": self._by_itunes_id,
            "podcasts/byguid": self._by_guid,
            "episodes/byfeedid": self._episodes,
            "recent/episodes": self._recent,
        }
        route = routes.get(path)
        if route is None:
            return _fail(404, f"Unknown endpoint {path}")
        return route(query, fulltext)

    # -- feeds ----------------------------------------------------------------------

    def _feed_view(self, feed: Mapping[str, Any], drop: Iterable[str], fulltext: bool):
        out = {k: v for k, v in feed.items() if k not in drop}
        out["description"] = _truncate(out.get("description"), fulltext)
        return out

    def _max(self, query: Mapping[str, str], default: int = DEFAULT_MAX) -> int | Reply:
        value = _int_param(query, "max", default)
        if isinstance(value, Reply):
            return value
        return min(max(value or default, 1), MAX_RESULTS)

    def _trending(self, query: Mapping[str, str], fulltext: bool) -> Reply:
        limit = self._max(query)
        since = _int_param(query, "since", None)
        for value in (limit, since):
            if isinstance(value, Reply):
                return value
        langs = [x.strip().lower() for x in (query.get("lang") or "").split(",") if x.strip()]
        cats = {x.strip().lower() for x in (query.get("cat") or "").split(",") if x.strip()}
        chosen = []
        for feed in self.feeds.values():
            if not feed.get("trendScore"):
                continue
            if since is not None and (feed.get("newestItemPublishTime") or 0) < since:
                continue
            if not _language_ok(str(feed.get("language") or "").lower(), langs):
                continue
            if cats:
                categories = feed.get("categories") or {}
                names = {str(n).lower() for n in categories.values()} | set(categories)
                if not cats & names:
                    continue
            chosen.append(feed)
        chosen.sort(key=lambda f: (-int(f["trendScore"]), int(f["id"])))
        feeds = [
            {k: v for k, v in self._feed_view(f, (), fulltext).items() if k in _TRENDING_FIELDS}
            for f in chosen[:limit]
        ]
        return _reply(
            200,
            {
                "status": "true",
                "feeds": feeds,
                "count": len(feeds),
                "max": limit,
                "since": since,
                "description": "Found matching feeds",
            },
        )

    def _search(self, query: Mapping[str, str], fulltext: bool) -> Reply:
        term = (query.get("q") or "").strip()
        if not term:
            return _fail(400, "Invalid parameters")
        limit = self._max(query)
        if isinstance(limit, Reply):
            return limit
        words = _words(term)
        found = []
        for feed in sorted(self.feeds.values(), key=lambda f: int(f["id"])):
            haystack = " ".join(
                str(feed.get(k) or "") for k in ("title", "author", "ownerName")
            ).casefold()
            if words and all(w in haystack for w in words):
                view = self._feed_view(feed, _SEARCH_DROP, fulltext)
                view["newestItemPubdate"] = feed.get("newestItemPublishTime")
                found.append(view)
        found = found[:limit]
        return _reply(
            200,
            {
                "status": "true",
                "feeds": found,
                "count": len(found),
                "query": term,
                "description": "Found matching feeds",
            },
        )

    def _one_feed(
        self, query: dict[str, str], feed: Mapping[str, Any] | None, fulltext: bool
    ) -> Reply:
        if feed is None:
            body = {"status": "true", "query": query, "feed": [], "description": "No feeds match"}
            return _reply(200, body)
        return _reply(
            200,
            {
                "status": "true",
                "query": query,
                "feed": self._feed_view(feed, _FEED_DROP, fulltext),
                "description": "Found matching feed",
            },
        )

    def _by_feed_id(self, query: Mapping[str, str], fulltext: bool) -> Reply:
        raw = (query.get("id") or "").strip()
        if not raw.isdigit():
            return _fail(400, "Invalid parameters")
        return self._one_feed({"id": raw}, self.feeds.get(int(raw)), fulltext)

    def _by_feed_url(self, query: Mapping[str, str], fulltext: bool) -> Reply:
        url = (query.get("url") or "").strip()
        if not url:
            return _fail(400, "Invalid parameters")
        feed = next(
            (f for f in self.feeds.values() if url in (f.get("url"), f.get("originalUrl"))),
            None,
        )
        return self._one_feed({"url": url}, feed, fulltext)

    def _by_itunes_id(self, query: Mapping[str, str], fulltext: bool) -> Reply:
        raw = (query.get("id") or "").strip().removeprefix("id")
        if not raw.isdigit():
            return _fail(400, "Invalid parameters")
        feed = next((f for f in self.feeds.values() if f.get("itunesId") == int(raw)), None)
        return self._one_feed({"id": raw}, feed, fulltext)

    def _by_guid(self, query: Mapping[str, str], fulltext: bool) -> Reply:
        guid = (query.get("guid") or "").strip().lower()
        if not guid:
            return _fail(400, "Invalid parameters")
        feed = next(
            (f for f in self.feeds.values() if str(f.get("podcastGuid") or "").lower() == guid),
            None,
        )
        return self._one_feed({"guid": guid, "id": guid}, feed, fulltext)

    # -- episodes -------------------------------------------------------------------

    def _item_view(self, item: Mapping[str, Any], fulltext: bool) -> dict[str, Any]:
        out = dict(item)
        out["description"] = _truncate(out.get("description"), fulltext)
        return out

    def _episodes(self, query: Mapping[str, str], fulltext: bool) -> Reply:
        raw = [part.strip() for part in (query.get("id") or "").split(",") if part.strip()]
        if not raw or not all(part.isdigit() for part in raw):
            return _fail(400, "Invalid parameters")
        if len(raw) > MAX_IDS:
            return _fail(400, f"Too many feed ids: at most {MAX_IDS} are allowed")
        limit = self._max(query)
        since = _int_param(query, "since", None)
        for value in (limit, since):
            if isinstance(value, Reply):
                return value
        wanted = {int(part) for part in raw}
        enclosure = (query.get("enclosure") or "").strip()
        items = [
            self._item_view(item, fulltext)
            for item in self.episodes
            if int(item.get("feedId") or 0) in wanted
            and (since is None or (item.get("datePublished") or 0) >= since)
            and (not enclosure or item.get("enclosureUrl") == enclosure)
        ][:limit]
        return _reply(
            200,
            {
                "status": "true",
                "items": items,
                "count": len(items),
                "query": raw[0] if len(raw) == 1 else raw,
                "description": "Found matching items" if items else "No items found",
            },
        )

    def _recent(self, query: Mapping[str, str], fulltext: bool) -> Reply:
        limit = self._max(query)
        if isinstance(limit, Reply):
            return limit
        items = []
        for item in self.episodes[:limit]:
            full = self._item_view(item, fulltext)
            view = {k: v for k, v in full.items() if k not in _RECENT_DROP}
            feed = self.feeds.get(int(item.get("feedId") or 0), {})
            view["feedTitle"] = feed.get("title", "")
            items.append(view)
        return _reply(
            200,
            {
                "status": "true",
                "items": items,
                "count": len(items),
                "max": limit,
                "description": f"Found {len(items)} items",
            },
        )


# --- examples from the OpenAPI spec ---------------------------------------------------


def _resolve(spec: Mapping[str, Any], ref: str) -> Any:
    node: Any = spec
    for part in ref.removeprefix("#/").split("/"):
        node = node[part]
    return node


def _example(spec: Mapping[str, Any], schema: Mapping[str, Any], depth: int = 0) -> Any:
    if depth > 30:
        return None
    if "$ref" in schema:
        return _example(spec, _resolve(spec, schema["$ref"]), depth + 1)
    if "example" in schema:
        return schema["example"]
    if "oneOf" in schema:
        return _example(spec, schema["oneOf"][0], depth + 1)
    if "allOf" in schema:
        merged: dict[str, Any] = {}
        for part in schema["allOf"]:
            value = _example(spec, part, depth + 1)
            if isinstance(value, dict):
                merged.update(value)
        return merged
    if schema.get("type") == "object" or "properties" in schema:
        return {
            name: _example(spec, sub, depth + 1)
            for name, sub in (schema.get("properties") or {}).items()
        }
    if schema.get("type") == "array":
        return [_example(spec, schema.get("items") or {}, depth + 1)]
    return None


def spec_example(spec: Mapping[str, Any], response: str) -> Any:
    """The example body of ``components/responses/<response>``, built from field examples."""
    content = spec["components"]["responses"][response]["content"]["application/json"]
    if "example" in content:
        return content["example"]
    return _example(spec, content["schema"])


def spec_examples(openapi_path: str | Path) -> dict[str, Any]:
    """Endpoint (``"podcasts/trending"``…) → the spec's example response for it."""
    spec = json.loads(Path(openapi_path).read_text(encoding="utf-8"))
    names = {
        "podcasts/trending": "podcasts_trending",
        "search/byterm": "search_byterm",
        "podcasts/byfeedid": "podcasts_byfeedid",
        "podcasts/byfeedurl": "podcasts_byfeedurl",
        "podcasts/byitunesid": "podcasts_byitunesid",
        "podcasts/byguid": "podcasts_byguid",
        "episodes/byfeedid": "episodes_byfeedid",
        "recent/episodes": "recent_episodes",
    }
    return {endpoint: spec_example(spec, name) for endpoint, name in names.items()}


# --- the demo world -------------------------------------------------------------------


def _epoch(when: Any) -> int:
    return int(when.timestamp())


def _pretty(when: Any) -> str:
    """``January 01, 2019 9:30pm``, the index's ``datePublishedPretty`` (locale-independent)."""
    months = ("January", "February", "March", "April", "May", "June", "July", "August",
              "September", "October", "November", "December")  # fmt: skip
    hour = when.hour % 12 or 12
    half = "am" if when.hour < 12 else "pm"
    return f"{months[when.month - 1]} {when.day:02d}, {when.year} {hour}:{when.minute:02d}{half}"


def _pi_categories(show: Show) -> dict[str, str]:
    out: dict[int, str] = {}
    for path in show.categories:
        for name in path:
            for word in re.split(r"\s*&\s*|\s+", name):
                if word in PI_CATEGORY_IDS:
                    out.setdefault(PI_CATEGORY_IDS[word], word)
    return {str(k): v for k, v in sorted(out.items())}


def _pi_shows(world: World, rng: random.Random | None = None) -> list[tuple[Show, int]]:
    """Every demo show with its Podcast Index feed id (the index lists all public feeds)."""
    rng = rng or random.Random(f"{world.seed}-podcastindex")
    used: set[int] = set()
    out = []
    for show in world.shows:
        feed_id = rng.randint(200_000, 7_400_000)
        while feed_id in used:
            feed_id = rng.randint(200_000, 7_400_000)
        used.add(feed_id)
        out.append((show, feed_id))
    return out


def podcastindex_demo_ids(world: World) -> dict[str, str]:
    """Show slug → Podcast Index feed id (as a string)."""
    return {show.slug: str(feed_id) for show, feed_id in _pi_shows(world)}


def _demo_item(
    show: Show, ep: Episode, item_id: int, feed: Mapping[str, Any], rng: random.Random
) -> dict[str, Any]:
    published = _epoch(ep.published)
    item: dict[str, Any] = {
        "id": item_id,
        "title": ep.title,
        "link": ep.link or "",
        "description": ep.description_html,
        # The index keys items without a <guid> by their enclosure URL.
        "guid": ep.guid if ep.guid is not None else ep.enclosure_url,
        "datePublished": published,
        "datePublishedPretty": _pretty(ep.published),
        "dateCrawled": published + rng.randint(120, 7200),
        "enclosureUrl": ep.enclosure_url,
        "enclosureType": ep.enclosure_type,
        "enclosureLength": ep.enclosure_length,
        # Unknown durations are 0 in the index (the feed's value could not be read).
        "duration": 0 if rng.random() < 0.04 else ep.duration_s,
        "explicit": 1 if ep.explicit else 0,
        "episode": ep.episode,
        "episodeType": ep.episode_type,
        "season": ep.season or 0,
        "image": ep.image_url or "",
        "feedItunesId": feed.get("itunesId"),
        "feedUrl": feed["url"],
        "feedImage": feed.get("image", ""),
        "feedId": feed["id"],
        "podcastGuid": feed.get("podcastGuid", ""),
        "feedLanguage": feed.get("language", ""),
        "feedDead": feed.get("dead", 0),
        "feedDuplicateOf": None,
        "chaptersUrl": ep.chapters_url,
        "transcriptUrl": ep.transcripts[0].url if ep.transcripts else None,
    }
    if ep.transcripts:
        item["transcripts"] = [{"url": t.url, "type": t.mime_type} for t in ep.transcripts]
    if ep.persons:
        item["persons"] = [
            {
                "id": zlib.crc32(p.name.encode()),
                "name": p.name,
                "role": p.role,
                "group": "cast",
                "href": p.href or "",
                "img": p.img or "",
            }
            for p in ep.persons
        ]
    return item


def _demo_feed(
    world: World,
    show: Show,
    feed_id: int,
    itunes_id: int | None,
    feed_url: str,
    episodes: list[Episode],
    rng: random.Random,
) -> dict[str, Any]:
    newest = max((e.published for e in episodes), default=show.last_build)
    crawled = _epoch(world.epoch - timedelta(minutes=rng.randint(5, 600)))
    broken = "not_a_feed" in show.breakage
    feed: dict[str, Any] = {
        "id": feed_id,
        "podcastGuid": show.podcast_guid,
        "title": show.title,
        "url": feed_url,
        # A few feeds were first submitted under their old http:// address.
        "originalUrl": feed_url.replace("https://", "http://", 1)
        if rng.random() < 0.2
        else feed_url,
        "link": show.link,
        "description": show.description_html,
        "author": show.author,
        "ownerName": show.owner_name,
        "image": show.image_url,
        "artwork": show.image_url,
        "lastUpdateTime": _epoch(show.last_build),
        "lastCrawlTime": crawled,
        "lastParseTime": crawled + 2,
        "lastGoodHttpStatusTime": crawled - (86_400 * 9 if broken else 0),
        "lastHttpStatus": 503 if broken else 200,
        "contentType": "text/html" if broken else "application/rss+xml; charset=utf-8",
        "itunesId": itunes_id,
        "itunesType": show.show_type,
        "generator": show.style.generator,
        "language": show.language_tag,
        "explicit": show.explicit,
        "type": 0,
        "medium": "podcast",
        "dead": 0,
        "chash": hashlib.md5(f"{world.seed}-{show.slug}".encode()).hexdigest(),
        "episodeCount": len(episodes),
        "crawlErrors": rng.randint(3, 40) if broken else 0,
        "parseErrors": rng.randint(1, 9) if broken else 0,
        "categories": _pi_categories(show),
        "locked": 0,
        "imageUrlHash": zlib.crc32(show.image_url.encode()),
        "newestItemPublishTime": _epoch(newest),
    }
    if show.funding is not None:
        feed["funding"] = {"url": show.funding.url, "message": show.funding.text}
    # Trending: recently active shows, ranked by a score derived from cadence and chance.
    days_quiet = (world.epoch - newest).days
    if days_quiet <= 30:
        base = {"daily": 6, "weekly": 4, "biweekly": 2}.get(show.cadence, 1)
        feed["trendScore"] = max(1, base + rng.randint(0, 4) - days_quiet // 10)
    return feed


def build_podcastindex_backend(
    world: World,
    *,
    key: str = "demo",
    secret: str = "demo",
    base_url: str = DEFAULT_BASE_URL,
    clock: Callable[[], float] = time.time,
) -> PodcastIndexBackend:
    """The demo world as Podcast Index lists it (see the module docstring).

    ``base_url`` must be the one the RSS feeds are served under, so ``url`` is the feed
    URL podsight ingests. iTunes ids are the ones Apple lists, except for a few shows the
    index has not matched to Apple yet.
    """
    from podsight.demo.apple_api import apple_demo_ids

    apple = apple_demo_ids(world)
    rng = random.Random(f"{world.seed}-podcastindex")
    shows = _pi_shows(world, rng)  # same draws as podcastindex_demo_ids, then item ids
    feeds: list[dict[str, Any]] = []
    pending: list[tuple[Show, Episode, dict[str, Any]]] = []
    for show, feed_id in shows:
        srng = random.Random(f"{world.seed}-podcastindex-{show.slug}")
        itunes = apple.get(show.slug)
        itunes_id = int(itunes) if itunes and srng.random() >= 0.1 else None
        listed = list(show.episodes)
        if len(listed) > 3:
            # Not crawled yet: sometimes the newest episode; now and then one in between.
            if srng.random() < 0.25:
                listed = listed[:-1]
            listed = [e for e in listed if srng.random() >= 0.03 or e is listed[-1]]
        feed = _demo_feed(world, show, feed_id, itunes_id, show.feed_url(base_url), listed, srng)
        feeds.append(feed)
        pending.extend((show, ep, feed) for ep in listed)
    # Item ids grow with crawl time, so with publication time across the whole index.
    pending.sort(key=lambda entry: (entry[1].published, entry[2]["id"], entry[1].index))
    next_id = rng.randint(20_000_000_000, 30_000_000_000)
    items = []
    for show, ep, feed in pending:
        next_id += rng.randint(1, 50_000)
        irng = random.Random(f"{world.seed}-podcastindex-{show.slug}-{ep.index}")
        items.append(_demo_item(show, ep, next_id, feed, irng))
    return PodcastIndexBackend(feeds, items, key=key, secret=secret, clock=clock)
