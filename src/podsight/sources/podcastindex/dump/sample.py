"""Sample dumps for tests, benchmarks and demos: seeded rows shaped like the public dump's,
breakage included (odd types, NULLs anywhere, bad URLs)."""

from __future__ import annotations

import random
import sqlite3
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from podsight.sources.podcastindex.dump.layout import DUMP_COLUMNS, DUMP_SCHEMA

__all__ = ["write_sample_dump"]


_WORDS = {
    "en": "the weekly show about news science history stories people life business money "
    "health faith music sports culture technology comedy interviews family love books film "
    "talk daily real true crime mind body world home startup design future hour".split(),
    "es": "el la de los podcast historias semanal noticias ciencia vida fútbol música cine "
    "conversaciones educación familia salud tecnología cultura".split(),
    "de": "der die das und über Geschichte Wissenschaft Gespräche Woche Fußball Musik Leben "
    "Technik Kultur Nachrichten Bücher Gesundheit".split(),
    "fr": "le la les des émission histoire société culture musique économie santé cinéma "
    "littérature débats quotidien".split(),
    "pt": "o a os de conversa notícias futebol música saúde ciência história fé vida".split(),
    "ja": "ポッドキャスト ニュース 音楽 歴史 科学 毎週 話 映画 英語 ラジオ".split(),
    "ru": "подкаст новости история музыка наука жизнь разговоры".split(),
}
_LANG_TAGS = {
    "en": ("en", "en-us", "en-US", "en-gb", "en_US", "English"),
    "es": ("es", "es-es", "es-MX", "es-419"),
    "de": ("de", "de-DE", "de-de"),
    "fr": ("fr", "fr-FR", "fr-ca"),
    "pt": ("pt", "pt-br", "pt-BR"),
    "ja": ("ja", "ja-JP"),
    "ru": ("ru", "ru-RU"),
}
_LANG_WEIGHTS = (("en", 62), ("es", 10), ("de", 7), ("fr", 6), ("pt", 8), ("ja", 4), ("ru", 3))
_PI_CATEGORIES = (
    "Arts Books Design Food Business Careers Entrepreneurship Investing Management Marketing "
    "Comedy Interviews Improv Education Courses How-To Language Learning Self-Improvement "
    "Fiction Drama History Health Fitness Medicine Mental Nutrition Kids Family Parenting "
    "Leisure Games Hobbies Music Commentary News Daily Entertainment Government Politics "
    "Christianity Religion Spirituality Science Astronomy Nature Physics Social Society "
    "Culture Documentary Personal Journals Philosophy Travel Relationships Sports Baseball "
    "Basketball Football Soccer Running Technology TV Film Reviews"
).split() + ["True Crime", "After-Shows"]
_GENERATORS = (
    "Anchor Podcasts",
    "Buzzsprout (https://www.buzzsprout.com)",
    "Libsyn WebEngine 2.0",
    "Spreaker (https://www.spreaker.com/)",
    "RSS.com",
    "PodBean.com",
    "Podcast Generator 3.2.9",
    "https://wordpress.org/?v=6.4.3",
    "Castos",
    "",
    "",
)
_CONTENT_TYPES = (
    "application/rss+xml",
    "application/rss+xml; charset=utf-8",
    "text/xml; charset=UTF-8",
    "application/xml",
    "text/xml",
    "",
)
_STATUSES = (200,) * 34 + (301, 302, 304, 404, 410, 500, 0, 906, 911)


def _feed_url(rng: random.Random, feed_id: int, slug: str) -> tuple[str, str]:
    token = f"{rng.getrandbits(48):012x}"
    choice = rng.randrange(12)
    url = (
        f"https://anchor.fm/s/{token[:8]}/podcast/rss",
        f"https://feeds.buzzsprout.com/{feed_id}.rss",
        f"https://feeds.megaphone.fm/{token[:3].upper()}{feed_id}",
        f"https://feeds.libsyn.com/{feed_id}/rss",
        f"https://rss.art19.com/{slug}-{feed_id}",
        f"https://feeds.simplecast.com/{token}{feed_id}",
        f"https://www.spreaker.com/show/{feed_id}/episodes/feed",
        f"https://feed.podbean.com/{slug}{feed_id}/feed.xml",
        f"http://{slug}{feed_id}.libsyn.com/rss",
        f"https://media.rss.com/{slug}-{feed_id}/feed.xml",
        f"https://feeds.soundcloud.com/users/soundcloud:users:{feed_id}/sounds.rss",
        f"https://www.omnycontent.com/d/playlist/{uuid.UUID(int=rng.getrandbits(128))}/"
        f"{feed_id}/podcast.rss",
    )[choice]
    return url, url.split("/")[2]


def _sentence(rng: random.Random, words: list[str], length: int) -> str:
    return " ".join(rng.choices(words, k=length))


def write_sample_dump(path: Path, rows: int, seed: int = 0, *, first_id: int = 1) -> Path:
    """Write a synthetic dump with the real ``podcasts`` layout and its quirks.

    ``rows`` feeds with ids from ``first_id`` upwards (with gaps, as deleted feeds leave):
    non-ASCII titles and descriptions of 300–1000 characters (a third of them HTML),
    ``itunesId`` as an integer, ``""``, stray text or NULL, NULLs and empty strings in
    other columns, dead feeds and made-up 9xx statuses. Same ``seed``, same file.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        path.unlink()
    rng = random.Random(seed)
    db = sqlite3.connect(path)
    db.execute("PRAGMA journal_mode = OFF")
    db.execute("PRAGMA synchronous = OFF")
    db.execute(DUMP_SCHEMA)
    names = [name for name, _ in DUMP_COLUMNS]
    insert = f"INSERT INTO podcasts ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})"
    langs = [code for code, weight in _LANG_WEIGHTS for _ in range(weight)]
    vocab = {code: words + _WORDS["en"][:8] for code, words in _WORDS.items()}
    # A pool of description bodies; each row's description starts with its own title and
    # id, so no two are equal (the HTML caches cannot make an import look faster).
    pool: dict[str, list[tuple[str, bool]]] = {}
    for code, words in vocab.items():
        bodies = []
        for _ in range(200):
            text = _sentence(rng, words, rng.randint(50, 160))
            if rng.random() < 0.35:
                half = len(text) // 2
                text = (
                    f"<p>{text[:half]}</p>\n<p><strong>{words[0]}</strong> {text[half:]} "
                    f'<a href="https://example.com/{rng.getrandbits(24)}">link</a> &amp; more'
                    "<br/></p>"
                )
                bodies.append((text, True))
            else:
                bodies.append((text.replace(" ", "\n", 1) if rng.random() < 0.2 else text, False))
        pool[code] = bodies
    base = int(datetime(2025, 3, 1, tzinfo=UTC).timestamp())
    feed_id = first_id - 1
    chunk: list[tuple[Any, ...]] = []
    for _ in range(rows):
        feed_id += 1 if rng.random() < 0.8 else rng.randint(2, 5)
        code = rng.choice(langs)
        words = vocab[code]
        title = _sentence(rng, words, rng.randint(2, 6)).title()
        slug = "".join(ch for ch in title.lower() if ch.isascii() and ch.isalnum())[:20] or "show"
        url, host = _feed_url(rng, feed_id, slug)
        body, _html = rng.choice(pool[code])
        description = f"{title} #{feed_id}. {body}"
        while len(description) < 300:
            description += " " + rng.choice(pool[code])[0]
        description = description[:1000]
        r = rng.random()
        itunes: Any = (
            rng.randint(100_000_000, 1_790_000_000)
            if r < 0.55
            else ""
            if r < 0.90
            else rng.choice(("id1234567", "null", "N/A", "0"))
            if r < 0.92
            else None
        )
        newest = base - int(rng.expovariate(1 / (86400 * 120)))
        oldest = newest - rng.randint(0, 86400 * 3000)
        category_count = rng.choice((0, 1, 1, 2, 2, 2, 3, 3, 4, 5))
        categories = rng.sample(_PI_CATEGORIES, category_count)
        categories += [None if rng.random() < 0.02 else ""] * (10 - category_count)
        author = _sentence(rng, _WORDS["en"], 2).title() if rng.random() < 0.8 else ""
        chunk.append(
            (
                feed_id,
                url,
                title if rng.random() > 0.005 else "",
                newest + rng.randint(0, 86400 * 30),
                f"https://{host}/{slug}" if rng.random() < 0.85 else "",
                rng.choice(_STATUSES),
                1 if rng.random() < 0.02 else 0,
                rng.choice(_CONTENT_TYPES),
                itunes,
                url if rng.random() < 0.9 else url.replace("https://", "http://", 1),
                author,
                author if rng.random() < 0.6 else "",
                rng.choice((0, 0, 0, 1, None)) if rng.random() < 0.98 else None,
                f"https://{host}/art/{feed_id}.jpg" if rng.random() < 0.95 else "",
                rng.choice(("episodic", "episodic", "serial", "", "Episodic")),
                rng.choice(_GENERATORS),
                newest if rng.random() > 0.03 else 0,
                rng.choice(_LANG_TAGS[code]) if rng.random() > 0.03 else "",
                oldest if rng.random() > 0.01 else None,
                min(5000, int(rng.expovariate(1 / 80))),
                0 if rng.random() < 0.7 else rng.randint(1, 29),
                rng.randint(-1, 5),
                base - rng.randint(0, 86400 * 2500),
                rng.randint(0, 9),
                f"{rng.getrandbits(128):032x}",
                host,
                f"https://{host}/audio/{feed_id}/latest.mp3" if rng.random() < 0.9 else "",
                str(uuid.UUID(int=rng.getrandbits(128), version=5)) if rng.random() < 0.85 else "",
                description if rng.random() > 0.04 else (None if rng.random() < 0.5 else ""),
                *categories,
                rng.randint(60, 7200) if rng.random() < 0.9 else rng.choice((0, None)),
            )
        )
        if len(chunk) >= 10_000:
            db.executemany(insert, chunk)
            chunk.clear()
    if chunk:
        db.executemany(insert, chunk)
    db.commit()
    db.close()
    return path
