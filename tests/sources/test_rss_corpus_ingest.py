"""The whole real feed corpus goes through ingestion without a crash."""

from __future__ import annotations

from pathlib import Path

import pytest

from podsight.catalog.models import Channel, Episode
from podsight.sources.models import SourceChannel
from podsight.sources.rss.ingest import expand_locations, ingest_feeds, record_external_id

pytestmark = pytest.mark.django_db

# Real shows and how many items their document holds (counted independently, by element).
REAL_SHOWS = {
    "podcast-feed-parser/the-daily.xml": 845,
    "podcast-feed-parser/planet-money.xml": 355,
    "podcast-feed-parser/80000HoursPodcast.xml": 101,
    "podcast-feed-parser/podnews.xml": 100,
    "podcast-feed-parser/ruminant.xml": 100,
    "podcast-feed-parser/riordans_desk.xml": 42,
    "podcast-feed-parser/babesinbusiness.xml": 41,  # undefined HTML entities
    "podcast-feed-parser/start_podcast.xml": 11,
    "podcast-feed-parser/comintegrator.xml": 10,  # &ellip;
    "podcast-feed-parser/canal.xml": 8,  # PHP warnings before the XML declaration
    "podcast-feed-parser/enigma.xml": 7,
    "podcast-feed-parser/bc-sample.xml": 4,
    "podcast-feed-parser/bbc_minutes.xml": 1,
    "podcast-feed-parser/tvillingpodden.xml": 1,
    "partytime/sentimental-garbage.xml": 138,
    "partytime/1865.xml": 61,
    "partytime/dk-podcast.xml": 59,
    "partytime/pc20rss.xml": 56,
    "partytime/themnshow.xml": 54,
    "partytime/launched.xml": 36,
    "partytime/no-agenda.xml": 29,  # &gtgt;
    "partytime/changing-the-tide.xml": 15,
    "rss-parser/giantbomb-podcast.xml": 730,
    "rss-parser/itunes-missing-image.xml": 131,
    "rss-parser/encoding.xml": 40,  # ISO-8859-1
    "feedjira/CRE.xml": 30,
    "feedjira/youtube_atom.xml": 15,
}


def _file_id(path: Path) -> str:
    return record_external_id(path.resolve().as_uri())


def test_whole_corpus_ingests_and_every_real_show_yields_its_episodes(rss_corpus: Path):
    locations = expand_locations([str(rss_corpus)])
    assert len(locations) > 250
    report = ingest_feeds([str(rss_corpus)])
    assert len(report.outcomes) == len(locations)
    by_file = {Path(o.location).resolve(): o for o in report.outcomes}
    for name, items in REAL_SHOWS.items():
        outcome = by_file[(rss_corpus / name).resolve()]
        assert outcome.change == "new", (name, outcome.error)
        assert outcome.title, name
        assert outcome.episodes_total == items, (name, outcome.episodes_total)
        channel = Channel.objects.get(pk=outcome.channel_id)
        assert channel.title == outcome.title
        record = SourceChannel.objects.get(source="rss", external_id=_file_id(rss_corpus / name))
        assert record.channel_id == channel.pk
        assert record.episodes.count() == items, name
        # Copies of one feed (same self URL or podcast:guid) share a channel, so it can
        # hold more episodes than one file, never fewer.
        assert Episode.objects.filter(channel=channel).count() >= items, name
    # The corpus has a broken copy of one feed: linked by key to the good one, not a new show.
    good = SourceChannel.objects.get(
        external_id=_file_id(rss_corpus / "podcast-feed-parser/bc-sample.xml")
    )
    bad = SourceChannel.objects.get(
        external_id=_file_id(rss_corpus / "podcast-feed-parser/bc-sample-bad.xml")
    )
    assert good.channel_id == bad.channel_id
    assert "shares" in (good.link_explanation + bad.link_explanation)
    failures = [o for o in report.outcomes if o.failed]
    # Failures are documents with no feed in them at all; each says why.
    assert all(o.error for o in failures)
    assert len(failures) < len(report.outcomes) * 0.1, [(o.location, o.error) for o in failures]
