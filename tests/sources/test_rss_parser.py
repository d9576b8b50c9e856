"""Field extraction on real feeds from the corpus (no Django)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from podsight.sources.rss.document import Category, Funding, Person, Transcript
from podsight.sources.rss.parser import parse_feed
from podsight.sources.text import podcast_guid_for_url


def _parse(rss_corpus: Path, rel: str, **kwargs: str):
    return parse_feed((rss_corpus / rel).read_bytes(), **kwargs)


def test_podcasting20_spec_example(rss_corpus: Path) -> None:
    r = _parse(rss_corpus, "podcasting20_spec/example.xml")
    ch = r.channel
    assert (r.format, r.repairs, r.complete) == ("rss", [], True)
    assert ch.title == "Podcasting 2.0 Namespace Example"
    assert ch.podcast_guid == "y0ur-gu1d-g035-h3r3" and not ch.podcast_guid_computed
    assert ch.language == "en-us" and ch.explicit is False and ch.itunes_type == "episodic"
    assert (ch.owner_name, ch.owner_email) == ("John Doe", "johndoe@example.com")
    assert ch.image_url == "https://example.com/images/pci_avatar-massive.jpg"
    assert (
        Category(("News", "Tech News")) in ch.categories
        and Category(("Technology",)) in ch.categories
    )
    assert ch.funding == [Funding("https://example.com/donate", "Support the show!")]
    ep = r.episodes[0]
    assert ep.identity == ep.guid == "https://example.com/ep0003"
    assert ep.published_at == datetime(2020, 10, 9, 4, 30, 38, tzinfo=UTC)
    assert (ep.episode_number, ep.season_number, ep.explicit) == (3, 1, False)
    assert (ep.enclosure_url, ep.enclosure_type, ep.enclosure_length) == (
        "https://example.com/file-03.mp3",
        "audio/mpeg",
        43200000,
    )
    # every transcript is kept, with its attributes
    assert ep.transcripts == [
        Transcript("https://example.com/ep3/transcript.txt", "text/plain"),
        Transcript("https://example.com/episode1/transcript.vtt", "text/vtt", "es", "captions"),
    ]
    assert ep.chapters is not None and ep.chapters.url == "https://example.com/ep3_chapters.json"
    assert (
        Person(
            "Adam Curry",
            "host",
            "cast",
            "https://www.podchaser.com/creators/adam-curry-107ZzmWE5f",
            "https://example.com/images/adamcurry.jpg",
        )
        in ep.persons
    )
    assert ep.description_text and ep.description_text.startswith(
        "A look into the future of podcasting"
    )


def test_themnshow_podcast_namespace(rss_corpus: Path) -> None:
    r = _parse(rss_corpus, "partytime/themnshow.xml")
    ch = r.channel
    assert (
        ch.title == "The Mike Neumann Show"
        and ch.podcast_guid == "7a2d292c-8656-5fcf-88d2-31b10e54d7c7"
    )
    assert ch.funding[0].url == "https://www.buymeacoffee.com/mikeneumann"
    assert ch.persons[0].name == "Mike Neumann" and ch.persons[0].role == "host"
    assert len(r.episodes) == 54
    ep = r.episodes[0]
    assert ep.episode_number == 54 and ep.transcripts[0].type == "application/x-subrip"
    assert ep.chapters is not None and ep.chapters.type == "application/json+chapters"
    assert ep.persons[0].role == "guest"
    assert sum(len(e.transcripts) for e in r.episodes) >= 40
    assert sum(e.duration_s is not None for e in r.episodes) >= 50


def test_antennapod_transcripts_and_funding(rss_corpus: Path) -> None:
    r = _parse(rss_corpus, "antennapod/feed-rss-testPodcastIndexTranscript.xml")
    assert [t.type for t in r.episodes[0].transcripts] == ["application/json", "application/srt"]
    funding = _parse(rss_corpus, "antennapod/feed-rss-testMultipleFundingTags.xml").channel.funding
    assert [f.url for f in funding] == [f"https://example.com/funding{i}" for i in (1, 2, 3)]
    assert [f.text for f in funding] == ["Text 1", "Text 2", None]


def test_nested_itunes_categories(rss_corpus: Path) -> None:
    ch = _parse(rss_corpus, "podcast-feed-parser/bc-sample.xml").channel
    # "Business" alone is implied by Business > Business News and not repeated
    assert ch.categories == [
        Category(("Business", "Business News")),
        Category(("Government & Organizations",)),
    ]


def test_atom_feed(rss_corpus: Path) -> None:
    r = _parse(rss_corpus, "antennapod/feed-atom-testAtomBasic.xml")
    assert r.format == "atom" and r.channel.title == "title"
    assert (
        r.channel.link == "http://example.com"
        and r.channel.description_text == "This is the description"
    )
    assert r.channel.image_url == "http://example.com/picture"
    assert len(r.episodes) == 10
    ep = r.episodes[1]
    assert ep.guid == "http://example.com/item-1" and ep.link == "http://example.com/items/1"
    assert (ep.enclosure_url, ep.enclosure_type, ep.enclosure_length) == (
        "http://example.com/media-1",
        "audio/mp3",
        1048576,
    )
    assert ep.published_at == datetime(1970, 1, 1, 0, 1, tzinfo=UTC)


def test_youtube_atom(rss_corpus: Path) -> None:
    r = _parse(rss_corpus, "feedjira/youtube_atom.xml")
    assert (
        r.format == "atom" and r.channel.title == "Google" and r.channel.author == "Google Author"
    )
    assert r.channel.self_url == "http://www.youtube.com/feeds/videos.xml?user=google"
    # no podcast:guid: computed from the self link
    assert (
        r.channel.podcast_guid == podcast_guid_for_url(r.channel.self_url)
        and r.channel.podcast_guid_computed
    )
    ep = r.episodes[0]
    assert (
        ep.identity == "yt:video:5shykyfmb28"
        and ep.link == "http://www.youtube.com/watch?v=5shykyfmb28"
    )
    assert ep.image_url == "https://i2.ytimg.com/vi/5shykyfmb28/hqdefault.jpg"
    assert ep.description_text and ep.description_text.startswith(
        "A question is the most powerful force"
    )


def test_computed_guid_prefers_url_argument(rss_corpus: Path) -> None:
    ch = _parse(
        rss_corpus,
        "podcast-feed-parser/bc-sample.xml",
        url="https://allthingschemical.libsyn.com/rss",
    ).channel
    assert (
        ch.podcast_guid == podcast_guid_for_url("allthingschemical.libsyn.com/rss")
        and ch.podcast_guid_computed
    )


def test_both_podcast_namespace_uris(rss_corpus: Path) -> None:
    # partytime/launched.xml declares the GitHub URI, themnshow the podcastindex.org one
    launched = _parse(rss_corpus, "partytime/launched.xml")
    assert (
        launched.episodes[0].persons and launched.episodes[0].persons[0].name == "Charlie Chapman"
    )
    body = (rss_corpus / "partytime/themnshow.xml").read_bytes()
    for uri in (
        b"https://github.com/Podcastindex-org/podcast-namespace/blob/main/docs/1.0.md",
        b"https://PodcastIndex.org/namespace/1.0/",
    ):
        r = parse_feed(body.replace(b"https://podcastindex.org/namespace/1.0", uri))
        assert r.channel.podcast_guid == "7a2d292c-8656-5fcf-88d2-31b10e54d7c7"
        assert r.episodes[0].transcripts and r.episodes[0].persons


def test_podlove_inline_chapters(rss_corpus: Path) -> None:
    ep = _parse(rss_corpus, "feedjira/CRE.xml").episodes[0]
    assert ep.chapters is not None and ep.chapters.url is None
    assert ep.chapters.inline[:2] == (
        (26.407, "Neil DeGrasse Tyson on Science", "https://example.com"),
        (50.0, "Int NTP example", None),
    )


def test_media_content_fallback_enclosure(rss_corpus: Path) -> None:
    ep = _parse(rss_corpus, "antennapod/feed-rss-testMediaContentMime.xml").episodes[0]
    assert (
        ep.enclosure_url == "https://www.example.com/file.mp4" and ep.identity == ep.enclosure_url
    )


def test_identity_is_stable_without_guid_or_enclosure(rss_corpus: Path) -> None:
    body = (rss_corpus / "antennapod/feed-rss-testPodcastIndexTranscript.xml").read_bytes()
    first, second = parse_feed(body).episodes[0].identity, parse_feed(body).episodes[0].identity
    assert first == second and first.startswith("title+date:")


@pytest.mark.parametrize(
    ("rel", "title", "count"),
    [
        ("podcast-feed-parser/the-daily.xml", "The Daily", 845),
        ("rss-parser/giantbomb-podcast.xml", "Giant Bombcast", 730),
        ("podcast-feed-parser/planet-money.xml", "Planet Money", 355),
    ],
)
def test_big_real_shows(rss_corpus: Path, rel: str, title: str, count: int) -> None:
    r = _parse(rss_corpus, rel)
    assert r.channel.title == title and len(r.episodes) == count and r.complete
    assert len({e.identity for e in r.episodes}) == count
    assert all(e.published_at is not None and e.published_at.tzinfo for e in r.episodes)
    assert sum(e.enclosure_url is not None for e in r.episodes) == count
