"""A Spotify Web API replay backend, and the demo world as Spotify would present it.

:class:`SpotifyBackend` answers like ``https://api.spotify.com/v1`` for the calls
podsight makes: ``GET /shows/{id}`` (the full show object with its first page of
episodes embedded), ``GET /shows/{id}/episodes`` (offset/limit paging with real
``href``/``next``/``previous`` URLs), ``GET /episodes/{id}`` and ``GET /search``.
Errors come in Spotify's shape (``{"error": {"status", "message"}}``): 401 for a
bearer token the accounts backend did not issue (or expired), 404 for unknown ids,
400 for bad parameters. :class:`SpotifyAccountsBackend` is
``https://accounts.spotify.com``'s ``POST /api/token`` for the client-credentials grant.

Data is held in the API's own shapes: from recorded real responses, from the first
seed project's Huberman Lab export (:meth:`SpotifyBackend.from_seed`), or rendered
from the demo world (:func:`build_spotify_backends`). The demo rendering differs from
the RSS feeds the way Spotify really does (titles with affixes, date-only release
dates, ad-inserted durations, missing and Spotify-only episodes), deterministically
from the world's seed.
"""

from __future__ import annotations

import base64
import hashlib
import json
import random
import re
import secrets
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import timedelta, timezone
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from podsight.demo.apiserver import MOUNTS, ApiRequest, Reply
from podsight.demo.world import Show, World
from podsight.sources.text import html_to_text

__all__ = [
    "SpotifyAccountsBackend",
    "SpotifyBackend",
    "base62_id",
    "build_spotify_backends",
    "spotify_demo_ids",
]

_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_ID = re.compile(r"^[0-9A-Za-z]{22}$")
_MARKET = re.compile(r"^[A-Z]{2}$")
_SEARCH_TYPES = frozenset({"album", "artist", "playlist", "track", "show", "episode", "audiobook"})
_PUBLIC_API = "https://api.spotify.com/v1"
# Markets a show is available in (a real subset; the full list has ~180).
MARKETS = (
    "AD AE AR AT AU BE BG BH BO BR CA CH CL CO CR CY CZ DE DK DO DZ EC EE EG ES FI FR GB GR GT "
    "HK HN HU ID IE IL IN IS IT JO JP KW LB LI LT LU LV MA MC MT MX MY NI NL NO NZ OM PA PE PH "
    "PL PS PT PY QA RO SA SE SG SK SV TH TN TR TW UA US UY VN ZA"
).split()


def base62_id(key: str, length: int = 22) -> str:
    """A deterministic Spotify-style base62 id from ``key``."""
    number = int.from_bytes(hashlib.sha256(key.encode()).digest(), "big")
    chars = []
    for _ in range(length):
        number, digit = divmod(number, 62)
        chars.append(_BASE62[digit])
    return "".join(chars)


def _error(status: int, message: str, **headers: str) -> Reply:
    reply = Reply.error(status, message)
    reply.headers.update(headers)
    return reply


# --- accounts ------------------------------------------------------------------------


class SpotifyAccountsBackend:
    """``POST /api/token`` (client credentials, HTTP Basic client auth); issues tokens."""

    def __init__(
        self,
        client_id: str = "demo",
        client_secret: str = "demo",
        *,
        expires_in: int = 3600,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        self.expires_in = expires_in
        self.clock = clock
        self.issued: list[str] = []
        self._expiry: dict[str, float] = {}
        self._lock = threading.Lock()

    @property
    def tokens_issued(self) -> int:
        return len(self.issued)

    def expire_tokens(self) -> None:
        """Expire every token issued so far (the API then answers 401)."""
        with self._lock:
            for token in self._expiry:
                self._expiry[token] = float("-inf")

    def check(self, token: str | None) -> str | None:
        """``None`` when ``token`` is valid, else the API's reason for refusing it."""
        if not token:
            return "No token provided"
        with self._lock:
            expiry = self._expiry.get(token)
        if expiry is None:
            return "Invalid access token"
        if self.clock() >= expiry:
            return "The access token expired"
        return None

    def handle(self, request: ApiRequest) -> Reply:
        if request.path.rstrip("/") != "/api/token":
            return Reply(404, {"error": "not_found", "error_description": "Not found"})
        if request.method != "POST":
            return Reply(405, {"error": "invalid_request", "error_description": "Use POST"})
        form = request.form()
        client_id, client_secret = self._client(request.headers.get("authorization", ""), form)
        if client_id is None:
            return _oauth_error("invalid_client", "Invalid client")
        if client_id != self.client_id:
            return _oauth_error("invalid_client", "Invalid client")
        if client_secret != self.client_secret:
            return _oauth_error("invalid_client", "Invalid client secret")
        grant = form.get("grant_type")
        if not grant:
            return _oauth_error("unsupported_grant_type", "grant_type parameter is missing")
        if grant != "client_credentials":
            return _oauth_error("unsupported_grant_type", "grant_type must be client_credentials")
        token = "BQ" + secrets.token_urlsafe(75)
        with self._lock:
            self.issued.append(token)
            self._expiry[token] = self.clock() + self.expires_in
        body = {"access_token": token, "token_type": "Bearer", "expires_in": self.expires_in}
        return Reply(200, body, headers={"Cache-Control": "no-store"}, cacheable=False)

    @staticmethod
    def _client(header: str, form: Mapping[str, str]) -> tuple[str | None, str | None]:
        scheme, _, value = header.partition(" ")
        if scheme.lower() == "basic" and value:
            try:
                decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
            except (ValueError, UnicodeDecodeError):
                return None, None
            client_id, sep, client_secret = decoded.partition(":")
            return (client_id, client_secret) if sep else (None, None)
        if form.get("client_id"):  # Spotify also accepts the credentials in the body
            return form["client_id"], form.get("client_secret")
        return None, None


def _oauth_error(error: str, description: str) -> Reply:
    return Reply(400, {"error": error, "error_description": description}, cacheable=False)


# --- web API -------------------------------------------------------------------------


class SpotifyBackend:
    """``/v1/shows/{id}``, ``/v1/shows/{id}/episodes``, ``/v1/episodes/{id}``, ``/v1/search``.

    ``shows`` maps a show id to its show object (without ``episodes``); ``episodes``
    maps a show id to its simplified episode objects, newest first, as the API lists them.
    """

    def __init__(
        self,
        shows: Mapping[str, Mapping[str, Any]],
        episodes: Mapping[str, Iterable[Mapping[str, Any]]],
        client_id: str = "demo",
        client_secret: str = "demo",
        *,
        accounts: SpotifyAccountsBackend | None = None,
    ) -> None:
        self.shows = {
            sid: {k: v for k, v in s.items() if k != "episodes"} for sid, s in shows.items()
        }
        self.episodes = {
            sid: [{k: v for k, v in e.items() if k != "show"} for e in eps if e is not None]
            for sid, eps in episodes.items()
        }
        for sid in self.shows:
            self.episodes.setdefault(sid, [])
        self.accounts = accounts or SpotifyAccountsBackend(client_id, client_secret)
        self.mount = MOUNTS["spotify"][0]
        self._episode_index = {
            e["id"]: sid for sid, eps in self.episodes.items() for e in eps if e.get("id")
        }

    # -- seed export ------------------------------------------------------------------

    @classmethod
    def from_seed(cls, path: str | Path, **kwargs: Any) -> SpotifyBackend:
        """The first seed project's export (``spotify_show.json`` + ``spotify_episode.json``,
        rows flattened from a database) as real API objects.

        Every API field the export has is kept with its value (ids, names, descriptions,
        durations, release dates, ``total_episodes``…); flattened values are restored to
        their API types (``"en"`` → ``["en"]``, ``0``/``1`` → booleans, comma lists →
        lists). ``external_urls`` and ``uri`` follow from the id as on the real API; the
        export has no images, so ``images`` is empty. Database columns (``show_id``,
        ``episode_ids``, ``synctimestamp``) are used for grouping and order, not served.
        """
        folder = Path(path)
        show_rows = json.loads((folder / "spotify_show.json").read_text(encoding="utf-8"))
        episode_rows = json.loads((folder / "spotify_episode.json").read_text(encoding="utf-8"))
        shows: dict[str, dict[str, Any]] = {}
        episodes: dict[str, list[dict[str, Any]]] = {}
        by_id = {row["id"]: row for row in episode_rows}
        for row in show_rows:
            show = _seed_show(row)
            shows[show["id"]] = show
            order = [i for i in _split(row.get("episode_ids")) if i in by_id]
            rest = [r["id"] for r in episode_rows if r.get("show_id") == show["id"]]
            ids = order + [i for i in rest if i not in order]
            if not order:  # the API lists newest first
                ids.sort(key=lambda i: by_id[i].get("release_date") or "", reverse=True)
            episodes[show["id"]] = [_seed_episode(by_id[i]) for i in ids]
        return cls(shows, episodes, **kwargs)

    # -- dispatch ---------------------------------------------------------------------

    def handle(self, request: ApiRequest) -> Reply:
        refusal = self.accounts.check(_bearer(request.headers.get("authorization", "")))
        if refusal is not None:
            return _error(
                401,
                refusal,
                **{
                    "WWW-Authenticate": f'Bearer realm="spotify", error="invalid_token", '
                    f'error_description="{refusal}"'
                },
            )
        if request.method != "GET":
            return _error(405, "Method not allowed")
        parts = [p for p in request.path.split("/") if p]
        market = request.query.get("market")
        if market is not None and market != "from_token" and not _MARKET.match(market):
            return _error(400, "Invalid market code")
        base = self._base(request)
        if len(parts) == 2 and parts[0] == "shows":
            return self._show(parts[1], market, base)
        if len(parts) == 3 and parts[0] == "shows" and parts[2] == "episodes":
            return self._show_episodes(parts[1], request.query, market, base)
        if len(parts) == 2 and parts[0] == "episodes":
            return self._episode(parts[1], market)
        if parts == ["search"]:
            return self._search(request.query, base)
        return _error(404, "Service not found")

    def _base(self, request: ApiRequest) -> str:
        host = request.headers.get("host")
        return f"http://{host}{self.mount}" if host else _PUBLIC_API

    def _find_show(self, show_id: str, market: str | None) -> dict[str, Any] | Reply:
        if not _ID.match(show_id):
            return _error(400, "Invalid base62 id")
        show = self.shows.get(show_id)
        if show is None:
            return _error(404, "Resource not found")
        available = show.get("available_markets")
        if market and market != "from_token" and available and market not in available:
            return _error(404, "Resource not found")
        return show

    def _show(self, show_id: str, market: str | None, base: str) -> Reply:
        show = self._find_show(show_id, market)
        if isinstance(show, Reply):
            return show
        page = self._page(f"{base}/shows/{show_id}/episodes", self.episodes[show_id], 0, 50, {})
        return Reply(200, {**show, "episodes": page})

    def _show_episodes(
        self, show_id: str, query: Mapping[str, str], market: str | None, base: str
    ) -> Reply:
        show = self._find_show(show_id, market)
        if isinstance(show, Reply):
            return show
        paging = _paging_params(query, default_limit=20, max_limit=50, max_offset=None)
        if isinstance(paging, Reply):
            return paging
        offset, limit = paging
        extra = {"market": market} if market else {}
        url = f"{base}/shows/{show_id}/episodes"
        return Reply(200, self._page(url, self.episodes[show_id], offset, limit, extra))

    def _episode(self, episode_id: str, market: str | None) -> Reply:
        if not _ID.match(episode_id):
            return _error(400, "Invalid base62 id")
        show_id = self._episode_index.get(episode_id)
        if show_id is None:
            return _error(404, "Resource not found")
        show = self._find_show(show_id, market)
        if isinstance(show, Reply):
            return show
        episode = next(e for e in self.episodes[show_id] if e.get("id") == episode_id)
        return Reply(200, {**episode, "show": show})

    def _search(self, query: Mapping[str, str], base: str) -> Reply:
        q = (query.get("q") or "").strip()
        if not q:
            return _error(400, "No search query")
        types = [t for t in (query.get("type") or "").split(",") if t]
        if not types:
            return _error(400, "Missing parameter type")
        bad = [t for t in types if t not in _SEARCH_TYPES]
        if bad:
            return _error(400, f"Bad search type field {bad[0]}")
        paging = _paging_params(query, default_limit=5, max_limit=50, max_offset=1000)
        if isinstance(paging, Reply):
            return paging
        offset, limit = paging
        market = query.get("market")
        extra = {"type": query["type"], **({"market": market} if market else {})}
        words = _words(q)
        body: dict[str, Any] = {}
        url = f"{base}/search"
        if "show" in types:
            hits = [
                s
                for s in self.shows.values()
                if _matches(words, s.get("name"), s.get("publisher")) and _available(s, market)
            ]
            body["shows"] = self._page(url, hits, offset, limit, extra, query_name=q)
        if "episode" in types:
            hits = [
                e
                for sid, eps in self.episodes.items()
                if _available(self.shows.get(sid, {}), market)
                for e in eps
                if _matches(words, e.get("name"))
            ]
            body["episodes"] = self._page(url, hits, offset, limit, extra, query_name=q)
        for kind in types:  # other kinds exist on Spotify, not in this backend
            if kind not in ("show", "episode"):
                body[kind + "s"] = self._page(url, [], offset, limit, extra, query_name=q)
        return Reply(200, body)

    @staticmethod
    def _page(
        url: str,
        items: list[Any],
        offset: int,
        limit: int,
        extra: Mapping[str, str],
        *,
        query_name: str | None = None,
    ) -> dict[str, Any]:
        def link(at: int) -> str:
            params: dict[str, Any] = {"query": query_name} if query_name is not None else {}
            params.update(extra)
            params.update(offset=at, limit=limit)
            return f"{url}?{urlencode(params)}"

        total = len(items)
        return {
            "href": link(offset),
            "items": items[offset : offset + limit],
            "limit": limit,
            "next": link(offset + limit) if offset + limit < total else None,
            "offset": offset,
            "previous": link(max(0, offset - limit)) if offset > 0 else None,
            "total": total,
        }


def _bearer(header: str) -> str | None:
    scheme, _, value = header.partition(" ")
    return value.strip() or None if scheme.lower() == "bearer" else None


def _paging_params(
    query: Mapping[str, str], *, default_limit: int, max_limit: int, max_offset: int | None
) -> tuple[int, int] | Reply:
    try:
        limit = int(query.get("limit", default_limit))
    except ValueError:
        return _error(400, "Invalid limit")
    if not 0 < limit <= max_limit:
        return _error(400, "Invalid limit")
    try:
        offset = int(query.get("offset", 0))
    except ValueError:
        return _error(400, "Invalid offset")
    if offset < 0 or (max_offset is not None and offset > max_offset):
        return _error(400, "Invalid offset")
    return offset, limit


def _words(text: str) -> list[str]:
    return re.findall(r"\w+", text.casefold())


def _matches(words: list[str], *fields: Any) -> bool:
    """Every query word starts a word of one of the fields (Spotify matches prefixes)."""
    haystack = [w for f in fields if isinstance(f, str) for w in _words(f)]
    return all(any(h.startswith(w) for h in haystack) for w in words)


def _available(show: Mapping[str, Any], market: str | None) -> bool:
    markets = show.get("available_markets")
    return not (market and market != "from_token" and markets and market not in markets)


# --- the seed export -----------------------------------------------------------------


def _split(value: Any) -> list[str]:
    if isinstance(value, list):
        return [str(v) for v in value]
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    return []


def _flag(value: Any) -> Any:
    return bool(value) if isinstance(value, int) and not isinstance(value, bool) else value


def _seed_show(row: Mapping[str, Any]) -> dict[str, Any]:
    show_id = row["id"]
    show: dict[str, Any] = {}
    for key, value in row.items():
        if key in ("episode_ids", "synctimestamp", "show_id"):
            continue
        if key in ("available_markets", "languages"):
            value = _split(value)
        elif key == "copyrights":
            value = value if isinstance(value, list) else []
        elif key in ("explicit", "is_externally_hosted"):
            value = _flag(value)
        show[key] = value
    show.setdefault("external_urls", {"spotify": f"https://open.spotify.com/show/{show_id}"})
    show.setdefault("href", f"{_PUBLIC_API}/shows/{show_id}")
    show.setdefault("images", [])
    show.setdefault("type", "show")
    show.setdefault("uri", f"spotify:show:{show_id}")
    return show


def _seed_episode(row: Mapping[str, Any]) -> dict[str, Any]:
    episode_id = row["id"]
    episode: dict[str, Any] = {}
    for key, value in row.items():
        if key in ("show_id", "synctimestamp"):
            continue
        if key == "languages":
            value = _split(value)
        elif key in ("explicit", "is_externally_hosted", "is_playable"):
            value = _flag(value)
        episode[key] = value
    languages = episode.get("languages") or []
    if languages:
        episode.setdefault("language", languages[0])  # the API's deprecated single value
    episode.setdefault(
        "external_urls", {"spotify": f"https://open.spotify.com/episode/{episode_id}"}
    )
    episode.setdefault("href", f"{_PUBLIC_API}/episodes/{episode_id}")
    episode.setdefault("images", [])
    episode.setdefault("type", "episode")
    episode.setdefault("uri", f"spotify:episode:{episode_id}")
    return episode


# --- the demo world ------------------------------------------------------------------

# Numbering prefixes the world writes (see world._NUMBERING), which Spotify titles may drop.
_NUMBER_PREFIX = re.compile(r"^(?:#\d+: |Ep\. \d+ – |\d+\. |E\d+ \| )")
_SERIES_PREFIXES = ("GUEST SERIES | ", "ENCORE | ", "Best of: ", "REPLAY: ")
_EXTRA_TITLES = (
    "Listener questions, answered",
    "Behind the scenes",
    "Live from the studio",
    "A message from the team",
    "Spotify Q&A special",
)
_TITLE_STYLES = ("same", "show_suffix", "drop_numbers", "add_numbers", "series_prefix")
_TITLE_WEIGHTS = (45, 15, 15, 10, 15)


def _spotify_shows(world: World) -> list[tuple[Show, str]]:
    """The shows Spotify has (most, not all), each with its Spotify show id."""
    rng = random.Random(f"{world.seed}-spotify")
    n = len(world.shows)
    missing_count = max(1, round(n * 0.15)) if n > 1 else 0
    missing = {s.slug for s in rng.sample(world.shows, missing_count)}
    return [
        (show, base62_id(f"{world.seed}-spotify-show-{show.slug}"))
        for show in world.shows
        if show.slug not in missing
    ]


def spotify_demo_ids(world: World) -> dict[str, str]:
    """Show slug → Spotify show id (22-char base62), for the shows Spotify has."""
    return {show.slug: show_id for show, show_id in _spotify_shows(world)}


def _images(key: str) -> list[dict[str, Any]]:
    digest = hashlib.sha1(key.encode()).hexdigest()[:24]
    return [
        {
            "height": size,
            "url": f"https://i.scdn.co/image/ab6765630000{code}{digest}",
            "width": size,
        }
        for size, code in ((640, "ba8a"), (300, "5f1f"), (64, "f68d"))
    ]


def _spotify_language(tag: str) -> str:
    base, _, region = tag.partition("-")
    return f"{base.lower()}-{region.upper()}" if region else base.lower()


def _plain(description_html: str) -> str:
    return " ".join(html_to_text(description_html).split())


def _demo_show(world: World, show: Show, show_id: str, rng: random.Random) -> dict[str, Any]:
    name = show.title + (" (Podcast)" if rng.random() < 0.1 else "")
    return {
        "available_markets": list(MARKETS),
        "copyrights": [],
        "description": _plain(show.description_html),
        "html_description": show.description_html,
        "explicit": show.explicit,
        "external_urls": {"spotify": f"https://open.spotify.com/show/{show_id}"},
        "href": f"{_PUBLIC_API}/shows/{show_id}",
        "id": show_id,
        "images": _images(f"{world.seed}-{show.slug}"),
        "is_externally_hosted": False,
        "languages": [_spotify_language(show.language_tag)],
        "media_type": "audio",
        "name": name,
        "publisher": show.author,
        "type": "show",
        "uri": f"spotify:show:{show_id}",
    }


def _episode_object(
    episode_id: str,
    name: str,
    description_html: str,
    release_date: str,
    duration_ms: int,
    explicit: bool,
    images: list[dict[str, Any]],
    language: str,
) -> dict[str, Any]:
    preview = hashlib.sha1(episode_id.encode()).hexdigest()
    return {
        "audio_preview_url": f"https://podz-content.spotifycdn.com/audio/clips/{preview}/clip.mp3",
        "description": _plain(description_html),
        "duration_ms": duration_ms,
        "explicit": explicit,
        "external_urls": {"spotify": f"https://open.spotify.com/episode/{episode_id}"},
        "href": f"{_PUBLIC_API}/episodes/{episode_id}",
        "html_description": description_html,
        "id": episode_id,
        "images": images,
        "is_externally_hosted": False,
        "is_playable": True,
        "language": language,
        "languages": [language],
        "name": name,
        "release_date": release_date,
        "release_date_precision": "day",
        "type": "episode",
        "uri": f"spotify:episode:{episode_id}",
    }


def _demo_episodes(
    world: World, show: Show, show_obj: Mapping[str, Any], rng: random.Random
) -> list[dict[str, Any]]:
    style = rng.choices(_TITLE_STYLES, weights=_TITLE_WEIGHTS)[0]
    series_prefix = rng.choice(_SERIES_PREFIXES)
    # Spotify shows the day in the publisher's zone; some hosts' ingest runs a day late.
    zone = timezone(timedelta(minutes=show.style.tz_offset_min))
    language = show_obj["languages"][0]
    images = show_obj["images"]
    latest = show.episodes[-1].index if show.episodes else -1
    out: list[tuple[str, int, dict[str, Any]]] = []
    full_no = 0
    for ep in show.episodes:
        if ep.episode_type == "full":
            full_no += 1
        if ep.index != latest and rng.random() < 0.05:
            continue  # not (yet) on Spotify
        title = ep.title
        if style == "show_suffix":
            title = f"{title} | {show.title}"
        elif style == "drop_numbers":
            title = _NUMBER_PREFIX.sub("", title)
        elif style == "add_numbers" and ep.episode_type == "full" and not ep.episode:
            title = f"Episode {full_no}: {title}"
        elif style == "series_prefix" and ep.episode_type == "full" and rng.random() < 0.2:
            title = series_prefix + title
        day = ep.published.astimezone(zone).date()
        if rng.random() < 0.05:
            day += timedelta(days=1)
        duration_ms = ep.duration_s * 1000 + rng.randint(0, 999)
        change = rng.random()
        if change < 0.25:  # dynamically inserted ads
            duration_ms += rng.randint(30, 180) * 1000
        elif change < 0.33:  # intro or silence trimmed
            duration_ms = max(1000, duration_ms - rng.randint(5, 45) * 1000)
        episode_id = base62_id(f"{world.seed}-spotify-episode-{show.slug}-{ep.index}")
        obj = _episode_object(
            episode_id,
            title,
            ep.description_html,
            day.isoformat(),
            duration_ms,
            ep.explicit,
            images,
            language,
        )
        out.append((day.isoformat(), ep.index * 10, obj))
    if show.episodes and rng.random() < 0.35:  # Spotify-only extras
        for n in range(rng.choice((1, 1, 2))):
            anchor = rng.choice(show.episodes)
            day = (anchor.published + timedelta(days=rng.randint(1, 3))).astimezone(zone).date()
            episode_id = base62_id(f"{world.seed}-spotify-extra-{show.slug}-{n}")
            title = rng.choice(_EXTRA_TITLES)
            obj = _episode_object(
                episode_id,
                title,
                f"<p>{title}. Only on Spotify.</p>",
                day.isoformat(),
                rng.randint(600, 2400) * 1000 + rng.randint(0, 999),
                show.explicit,
                images,
                language,
            )
            out.append((day.isoformat(), anchor.index * 10 + 5, obj))
    out.sort(key=lambda item: (item[0], item[1]), reverse=True)  # newest first
    return [obj for _, _, obj in out]


def build_spotify_backends(
    world: World, *, client_id: str = "demo", client_secret: str = "demo"
) -> tuple[SpotifyBackend, SpotifyAccountsBackend]:
    """The demo world as Spotify presents it, and the accounts service issuing its tokens."""
    shows: dict[str, dict[str, Any]] = {}
    episodes: dict[str, list[dict[str, Any]]] = {}
    for show, show_id in _spotify_shows(world):
        rng = random.Random(f"{world.seed}-spotify-{show.slug}")
        show_obj = _demo_show(world, show, show_id, rng)
        episodes[show_id] = _demo_episodes(world, show, show_obj, rng)
        show_obj["total_episodes"] = len(episodes[show_id])
        shows[show_id] = show_obj
    accounts = SpotifyAccountsBackend(client_id, client_secret)
    return SpotifyBackend(shows, episodes, accounts=accounts), accounts
