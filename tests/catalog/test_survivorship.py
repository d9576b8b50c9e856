"""Survivorship rules: which linked record each canonical episode field comes from.

Pure tests of ``survive()`` with records shaped like the normalisers' output, a
property test over generated clusters, and one database test through
``refresh_episodes`` and the episode API (detail and metrics).
"""

from __future__ import annotations

import random
import statistics
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from rest_framework.test import APIClient

from podsight.catalog.models import Channel, Episode
from podsight.catalog.services import episode_values_for, refresh_episodes
from podsight.catalog.survivorship import EPISODE_RULES, SOURCE_PRIORITY, survive
from podsight.lake.metrics import MetricSnapshot, record_metrics
from podsight.sources.models import LinkMethod, SourceChannel, SourceEpisode
from podsight.sources.store import OWN_IDENTITY, content_hash

# --- records as the normalisers write them -------------------------------------------


def rss(guid: str = "hl-2024-03-04", **data: Any) -> tuple[str, str, dict[str, Any]]:
    base = {
        "guid": guid,
        "title": "Dr. Sara Mednick: How to Nap & Sleep Better | Huberman Lab Podcast",
        "description_html": "<p>In this episode…</p>",
        "description_text": "In this episode…",
        "published_at": "2024-03-04T08:00:00+00:00",
        "duration_s": 7425,  # with dynamically inserted ads
        "enclosure_url": "https://traffic.megaphone.fm/SCIM1234.mp3",
        "enclosure_type": "audio/mpeg",
        "enclosure_length": 118800000,
        "episode_number": 163,
        "episode_type": "full",
        "explicit": False,
        "link": "https://www.hubermanlab.com/episode/sara-mednick",
    }
    return ("rss", guid, {**base, **data})


def spotify(external_id: str = "4rOoJ6Egrf8K2IrywzwOMk", **data: Any):
    base = {
        "title": "Dr. Sara Mednick: How to Nap & Sleep Better",
        "description_text": "In this episode…",
        "published_at": "2024-03-04T00:00:00+00:00",  # release_date "2024-03-04"
        "published_precision": "day",
        "duration_s": 7380,
        "explicit": False,
        "link": f"https://open.spotify.com/episode/{external_id}",
        "kind": "episode",
    }
    return ("spotify", external_id, {**base, **data})


def youtube(external_id: str = "dQw4w9WgXcQ", **data: Any):
    base = {
        "title": "Dr. Sara Mednick: How to Nap & Sleep Better | Huberman Lab Podcast",
        "description_text": "In this episode…",
        "published_at": "2024-03-04T13:00:11+00:00",
        "duration_s": 7290,  # no ads in the video
        "link": f"https://www.youtube.com/watch?v={external_id}",
        "kind": "episode",
    }
    return ("youtube", external_id, {**base, **data})


def _pick(records, field: str) -> tuple[Any, str | None]:
    values, origins = survive(records, EPISODE_RULES)
    return values.get(field), origins.get(field)


# --- published_at ----------------------------------------------------------------------


def test_rss_spotify_youtube_cluster():
    records = [youtube(), spotify(), rss()]
    values, origins = survive(records, EPISODE_RULES)
    # Spotify's midnight is a day, not an earlier moment: the feed's 08:00 is the release.
    assert values["published_at"] == "2024-03-04T08:00:00+00:00"
    assert origins["published_at"] == "rss:hl-2024-03-04"
    assert values["duration_s"] == 7425 and origins["duration_s"] == "rss:hl-2024-03-04"
    # Everything else by priority: the feed's own statements.
    for field in ("title", "enclosure_url", "episode_number", "description_text", "link"):
        assert origins[field] == "rss:hl-2024-03-04", field
    assert values["title"].endswith("| Huberman Lab Podcast")


def test_day_precision_loses_to_a_precise_time_within_36_hours_only():
    # 10:00 in California on the 5th is 18:00 UTC; Spotify says the 5th.
    late_evening = rss(published_at="2024-03-05T10:00:00-08:00")
    day = spotify(published_at="2024-03-05T00:00:00+00:00")
    assert _pick([day, late_evening], "published_at")[1].startswith("rss:")
    just_inside = rss(published_at="2024-03-06T11:59:59+00:00")
    assert _pick([day, just_inside], "published_at")[1].startswith("rss:")
    # More than 36 hours later: Spotify really had it first (an early exclusive).
    days_later = rss(published_at="2024-03-08T09:00:00+00:00")
    value, origin = _pick([day, days_later], "published_at")
    assert (value, origin) == ("2024-03-05T00:00:00+00:00", "spotify:4rOoJ6Egrf8K2IrywzwOMk")
    # A precise time before the coarse midnight is simply earlier.
    before = rss(published_at="2024-03-04T22:00:00+00:00")
    assert _pick([day, before], "published_at")[1].startswith("rss:")


def test_spotify_dates_are_coarse_even_without_the_precision_flag():
    day = spotify(published_at="2024-03-05T00:00:00+00:00")
    del day[2]["published_precision"]
    assert (
        _pick([day, youtube(published_at="2024-03-05T16:00:00Z")], "published_at")[1]
        == "youtube:dQw4w9WgXcQ"
    )


def test_coarse_dates_only_earliest_wins_and_a_day_beats_its_month():
    a = spotify("a", published_at="2024-03-09T00:00:00+00:00")
    b = spotify("b", published_at="2024-03-05T00:00:00+00:00")
    assert _pick([a, b], "published_at") == ("2024-03-05T00:00:00+00:00", "spotify:b")
    month = spotify("m", published_at="2019-06-01T00:00:00+00:00", published_precision="month")
    day = spotify("d", published_at="2019-06-20T00:00:00+00:00")
    assert _pick([month, day], "published_at")[1] == "spotify:d"
    # …but a month-precision date before the day's month is earlier.
    may = spotify("m", published_at="2019-05-01T00:00:00+00:00", published_precision="month")
    assert _pick([may, day], "published_at")[1] == "spotify:m"


def test_clips_shorts_and_live_streams_are_not_the_release():
    records = [
        rss(),
        youtube("live1", kind="live", published_at="2024-03-03T17:00:00Z"),
        youtube("clip1", kind="clip", published_at="2024-03-02T09:00:00Z", duration_s=540),
        youtube("short1", kind="short", published_at="2024-03-01T09:00:00Z", duration_s=58),
    ]
    assert _pick(records, "published_at")[1] == "rss:hl-2024-03-04"
    # A clip standing alone still has its date.
    alone = [youtube("clip1", kind="clip", published_at="2024-03-02T09:00:00Z")]
    assert _pick(alone, "published_at") == ("2024-03-02T09:00:00Z", "youtube:clip1")


def test_youtube_premiere_uploaded_before_the_feed_counts_as_earliest():
    # Documented simplification: a precise upload time is taken at its word.
    premiere = youtube(published_at="2024-03-03T20:00:00+00:00")
    assert _pick([rss(), premiere], "published_at")[1] == "youtube:dQw4w9WgXcQ"


def test_trailers_and_bonus_items_are_releases():
    trailer = rss("t1", episode_type="trailer", published_at="2024-01-01T06:00:00+00:00")
    sp_trailer = spotify("t2", kind="trailer", published_at="2024-01-01T00:00:00+00:00")
    assert _pick([trailer, sp_trailer], "published_at")[1] == "rss:t1"


def test_unreadable_dates_are_skipped_and_naive_ones_read_as_utc():
    broken = rss(published_at="last Tuesday")
    naive = youtube(published_at="2024-03-04T13:00:11")
    assert _pick([broken, naive], "published_at")[1] == "youtube:dQw4w9WgXcQ"
    assert _pick([broken], "published_at") == (None, None)


# --- duration_s --------------------------------------------------------------------------


def test_longest_duration_is_the_full_content():
    records = [rss(duration_s=3580), spotify(duration_s=3600), youtube(duration_s=3725)]
    assert _pick(records, "duration_s") == (3725, "youtube:dQw4w9WgXcQ")


def test_live_stream_vod_and_compilations_are_ignored():
    vod = youtube("vod", duration_s=4 * 3600)  # a finished live stream is kind episode
    assert _pick([rss(duration_s=3600), spotify(duration_s=3590), vod], "duration_s") == (
        3600,
        "rss:hl-2024-03-04",
    )
    # Two values: the longer is dropped when over three times the shorter…
    assert _pick([rss(duration_s=3600), vod], "duration_s")[0] == 3600
    # …and kept when it is not.
    assert _pick([rss(duration_s=3600), youtube(duration_s=10_800)], "duration_s")[0] == 10_800


def test_clips_shorts_and_trailers_never_supply_a_full_episode_length():
    records = [
        spotify(duration_s=3600),
        youtube("short1", kind="short", duration_s=58),
        youtube("clip1", kind="clip", duration_s=9000),
        youtube("trailer1", kind="trailer", duration_s=3700),
    ]
    assert _pick(records, "duration_s") == (3600, "spotify:4rOoJ6Egrf8K2IrywzwOMk")


def test_a_trailer_episode_gets_the_trailer_length():
    records = [
        rss("t1", episode_type="trailer", duration_s=124),
        spotify("t2", kind="trailer", duration_s=120),
        youtube("s", kind="short", duration_s=59),
    ]
    assert _pick(records, "duration_s") == (124, "rss:t1")
    assert _pick([youtube("s", kind="short", duration_s=59)], "duration_s") == (59, "youtube:s")


def test_zero_is_unknown_and_ties_go_to_priority():
    assert _pick([rss(duration_s=0), spotify(duration_s=3600)], "duration_s")[0] == 3600
    assert _pick([rss(duration_s=0)], "duration_s") == (0, "rss:hl-2024-03-04")
    tie = [youtube(duration_s=3600), spotify(duration_s=3600), rss(duration_s=3600)]
    assert _pick(tie, "duration_s")[1] == "rss:hl-2024-03-04"


def test_unknown_rule_is_an_error():
    with pytest.raises(ValueError, match="unknown survivorship rule"):
        survive([rss()], {"title": "newest"})


# --- properties ------------------------------------------------------------------------

_KINDS = ["episode", "trailer", "bonus", "clip", "short", "live"]
_T0 = datetime(2020, 1, 1, tzinfo=UTC)


def _kind(data: dict[str, Any]) -> str:
    if "kind" in data:
        return data["kind"]
    return (
        data.get("episode_type") if data.get("episode_type") in ("trailer", "bonus") else "episode"
    )


@st.composite
def _record(draw, index: int) -> tuple[str, str, dict[str, Any]]:
    source = draw(st.sampled_from(SOURCE_PRIORITY))
    data: dict[str, Any] = {"title": draw(st.text(max_size=5))}
    if source == "rss":
        episode_type = draw(st.sampled_from([None, "full", "trailer", "bonus"]))
        if episode_type:
            data["episode_type"] = episode_type
    elif draw(st.booleans()) or source != "podcastindex":
        data["kind"] = draw(st.sampled_from(_KINDS))
    if draw(st.booleans()):
        moment = _T0 + timedelta(minutes=draw(st.integers(0, 60 * 24 * 20)))
        if source == "spotify":  # a calendar date at midnight UTC
            moment = moment.replace(hour=0, minute=0)
            data["published_precision"] = "day"
        data["published_at"] = moment.isoformat()
    if draw(st.booleans()):
        data["duration_s"] = draw(st.integers(0, 20_000))
    return (source, f"{source}-{index}", data)


_clusters = st.integers(1, 6).flatmap(lambda n: st.tuples(*(_record(i) for i in range(n))))


@given(records=_clusters, seed=st.integers(0, 1000))
def test_survive_properties(records, seed):
    records = list(records)
    values, origins = survive(records, EPISODE_RULES)
    by_label = {f"{s}:{x}": d for s, x, d in records}

    # field_sources names an existing record, holding exactly the value chosen.
    assert set(values) == set(origins)
    for field, label in origins.items():
        assert label in by_label and by_label[label][field] == values[field]

    # A priority field comes from the first record, in source priority order, that has it.
    ranked = sorted(records, key=lambda r: (SOURCE_PRIORITY.index(r[0]), r[1]))
    titled = [f"{s}:{x}" for s, x, d in ranked if d.get("title")]
    assert origins.get("title") == (titled[0] if titled else None)

    # Input order does not matter.
    shuffled = records[:]
    random.Random(seed).shuffle(shuffled)
    assert survive(shuffled, EPISODE_RULES) == (values, origins)

    dated = [d for _, _, d in records if "published_at" in d]
    releases = [d for d in dated if _kind(d) not in ("clip", "short", "live")]
    if dated:
        chosen = by_label[origins["published_at"]]
        assert values["published_at"] in {d["published_at"] for d in dated}
        if releases:
            assert _kind(chosen) not in ("clip", "short", "live")
            pool = releases
        else:
            pool = dated
        moment = datetime.fromisoformat(values["published_at"])
        moments = [(datetime.fromisoformat(d["published_at"]), d) for d in pool]
        precise = [m for m, d in moments if "published_precision" not in d]
        coarse = [m for m, d in moments if "published_precision" in d]
        if "published_precision" in chosen:
            # A coarse date wins only when no precise one falls before its day ends (+12 h).
            assert all(p > moment + timedelta(hours=36) for p in precise)
            assert moment == min(coarse)
        else:
            assert moment == min(precise)
            assert all(moment <= c + timedelta(hours=36) for c in coarse)
    else:
        assert "published_at" not in values

    timed = [d for _, _, d in records if "duration_s" in d]
    full = [d for d in timed if _kind(d) not in ("clip", "short", "trailer")]
    if timed:
        chosen = by_label[origins["duration_s"]]
        if full:
            assert _kind(chosen) not in ("clip", "short", "trailer")
        elif any(_kind(d) == "trailer" for d in timed):
            assert _kind(chosen) == "trailer"
        lengths = [d["duration_s"] for d in full if d["duration_s"] > 0]
        if lengths and max(lengths) <= 3 * min(lengths):
            assert values["duration_s"] == max(lengths)  # no outlier: simply the longest
        if len(lengths) >= 2 and values["duration_s"] > 0:
            others = lengths[:]
            others.remove(values["duration_s"])
            assert values["duration_s"] <= 3 * statistics.median(others)
    else:
        assert "duration_s" not in values


# --- through the database and the API ---------------------------------------------------

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


def _source_channel(channel: Channel, source: str, external_id: str, title: str):
    data = {"title": title}
    return SourceChannel.objects.create(
        source=source,
        external_id=external_id,
        data=data,
        content_hash=content_hash(data),
        fetched_at=NOW,
        channel=channel,
        link_method=LinkMethod.KEY,
        link_confidence=1.0,
        link_explanation=OWN_IDENTITY,
        linked_at=NOW,
    )


def _own_cluster(channel: Channel, source_channel: SourceChannel, record) -> SourceEpisode:
    """A source episode as the store leaves it: its own canonical episode (cluster of one)."""
    source, external_id, data = record
    row = SourceEpisode(
        source=source,
        external_id=external_id,
        source_channel=source_channel,
        url=data.get("link", ""),
        data=data,
        content_hash=content_hash(data),
        fetched_at=NOW,
        link_method=LinkMethod.KEY,
        link_confidence=1.0,
        link_explanation=OWN_IDENTITY,
        linked_at=NOW,
    )
    row.episode = Episode.objects.create(channel=channel, **episode_values_for([row]))
    row.save()
    return row


@pytest.mark.django_db
def test_refresh_applies_the_rules_and_the_api_shows_where_each_field_came_from(
    tmp_path, monkeypatch
):
    monkeypatch.setenv("PODSIGHT_HOME", str(tmp_path))
    channel = Channel.objects.create(title="Huberman Lab")
    feed = _source_channel(channel, "rss", "https://feeds.megaphone.fm/hubermanlab", "Huberman Lab")
    show = _source_channel(channel, "spotify", "79CkJF3UJTHFV8Dse3Oy0P", "Huberman Lab")
    videos = _source_channel(channel, "youtube", "UC2D2CMWXMOVWx7giW1n3LIg", "Andrew Huberman")
    item = _own_cluster(channel, feed, rss(duration_s=7290))  # RSS enclosure without ads
    episode = _own_cluster(channel, show, spotify(duration_s=7380))
    video = _own_cluster(
        channel, videos, youtube(published_at="2024-03-04T16:00:00+00:00", duration_s=7410)
    )
    survivor = item.episode
    merged = [episode.episode, video.episode]

    # What `podsight match` does: link the records to the RSS episode, merge the others.
    links = {
        episode.pk: (0.9981, "spotify:4rOo… ~ rss:hl-2024-03-04: title 1.00; published 0.3 d"),
        video.pk: (0.9876, "youtube:dQw4… ~ rss:hl-2024-03-04: title 0.97; duration 1.6%"),
    }
    for pk, (confidence, explanation) in links.items():
        SourceEpisode.objects.filter(pk=pk).update(
            episode=survivor,
            link_method=LinkMethod.FUZZY,
            link_confidence=confidence,
            link_explanation=explanation,
            linked_at=NOW,
        )
    Episode.objects.filter(pk__in=[e.pk for e in merged]).update(merged_into=survivor)
    for record in (item, episode, video):
        record.refresh_from_db()
    assert refresh_episodes([survivor.pk]) == 1

    survivor.refresh_from_db()
    assert survivor.published_at == datetime(2024, 3, 4, 8, 0, tzinfo=UTC)
    assert survivor.duration_s == 7410  # the video's: the longest full-length one
    assert survivor.enclosure_url == "https://traffic.megaphone.fm/SCIM1234.mp3"
    rss_label, sp_label, yt_label = (f"{r.source}:{r.external_id}" for r in (item, episode, video))
    assert survivor.field_sources["published_at"] == rss_label
    assert survivor.field_sources["duration_s"] == yt_label
    assert survivor.field_sources["enclosure_url"] == rss_label

    # Spotify's day wins once the feed's item is dated more than 36 hours later.
    item.data = {**item.data, "published_at": "2024-03-06T09:00:00+00:00"}
    item.save()
    video.data = {**video.data, "published_at": "2024-03-07T09:00:00+00:00"}
    video.save()
    refresh_episodes([survivor.pk])
    survivor.refresh_from_db()
    assert survivor.published_at == datetime(2024, 3, 4, tzinfo=UTC)
    assert survivor.field_sources["published_at"] == sp_label

    api = APIClient()
    for pk in (survivor.pk, *(e.pk for e in merged)):  # merged ids answer with the survivor
        detail = api.get(f"/api/episodes/{pk}")
        assert detail.status_code == 200, detail.content
        body = detail.json()
        assert body["id"] == survivor.pk
    assert body["published_at"].startswith("2024-03-04T00:00:00")
    assert body["duration_s"] == 7410
    assert {k: body["field_sources"][k] for k in ("published_at", "duration_s", "title")} == {
        "published_at": sp_label,
        "duration_s": yt_label,
        "title": rss_label,
    }
    sources = {f"{s['source']}:{s['external_id']}": s for s in body["sources"]}
    assert set(sources) == {rss_label, sp_label, yt_label}
    assert set(body["field_sources"].values()) <= set(sources)
    assert (sources[rss_label]["method"], sources[rss_label]["confidence"]) == ("key", 1.0)
    assert sources[rss_label]["explanation"] == OWN_IDENTITY
    for record in (episode, video):
        label = f"{record.source}:{record.external_id}"
        confidence, explanation = links[record.pk]
        assert sources[label]["method"] == "fuzzy"
        assert sources[label]["confidence"] == confidence
        assert sources[label]["explanation"] == explanation
        assert sources[label]["data"]["duration_s"] == record.data["duration_s"]

    # Metrics of the linked YouTube video show up under the canonical episode.
    assert api.get(f"/api/episodes/{survivor.pk}/metrics").json() == {
        "episode": survivor.pk,
        "series": [],
    }
    t0 = datetime(2026, 11, 20, 6, 0, tzinfo=UTC)
    record_metrics(
        MetricSnapshot("youtube", "episode", video.external_id, metric, value, t0 + lag)
        for lag, counts in ((timedelta(0), (80_702, 2_911)), (timedelta(days=1), (95_118, 3_240)))
        for metric, value in zip(("views", "likes"), counts, strict=True)
    )
    metrics = api.get(f"/api/episodes/{merged[1].pk}/metrics?metric=views")
    assert metrics.status_code == 200, metrics.content
    body = metrics.json()
    assert body["episode"] == survivor.pk
    assert [(s["source"], s["external_id"], s["metric"]) for s in body["series"]] == [
        ("youtube", video.external_id, "views")
    ]
    points = body["series"][0]["points"]
    assert [p["value"] for p in points] == [80_702.0, 95_118.0]
    assert points[0]["observed_at"].startswith("2026-11-20T06:00:00")
    every = api.get(f"/api/episodes/{survivor.pk}/metrics").json()["series"]
    assert {s["metric"] for s in every} == {"views", "likes"}
    latest = {
        f"{s['source']}:{s['external_id']}": s["latest_metrics"]
        for s in api.get(f"/api/episodes/{survivor.pk}").json()["sources"]
    }
    assert latest[yt_label]["views"]["value"] == 95_118.0
    assert latest[rss_label] == {} and latest[sp_label] == {}
