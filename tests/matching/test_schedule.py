"""Channels whose titles cannot be compared, paired by their schedules."""

from __future__ import annotations

import random
from collections import Counter
from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.matching.test_matching import START, _show, add_episode

from podsight.matching.episodes import EpisodeView
from podsight.matching.run import run_match
from podsight.matching.schedule import SCHEDULE_REASON, align_schedules
from podsight.sources.models import LinkStatus, SourceChannel, SourceEpisode

HOUR = 3600


def views(schedule, source, first_key, numbers=None):
    """(day, duration) pairs → views with titles that share nothing."""
    return [
        EpisodeView(
            key=first_key + i,
            cores=(f"{source} title {first_key + i}",),
            published_s=(START + timedelta(days=day)).timestamp(),
            duration_s=duration,
            numbers=frozenset({numbers[i]}) if numbers else frozenset(),
            sources=frozenset({source}),
        )
        for i, (day, duration) in enumerate(schedule)
    ]


def weekly(count, rng, start_day=0.0):
    return [(start_day + 7 * i, rng.randint(2400, 4500)) for i in range(count)]


def uploaded(schedule, rng, shift_h=3, ad_s=120):
    """The video side: a steady shift in time, a steady cut in length, some jitter."""
    return [
        (day + (shift_h + rng.uniform(-0.5, 1.5)) / 24, duration - ad_s + rng.randint(-15, 15))
        for day, duration in schedule
    ]


def test_a_translated_channel_lines_up_episode_by_episode():
    rng = random.Random(1)
    feed = weekly(20, rng)
    left, right = views(feed, "rss", 0), views(uploaded(feed, rng), "youtube", 1000)

    alignment = align_schedules(left, right, comparable=20)

    assert alignment is not None and alignment.aligned
    assert sorted((p.left, p.right) for p in alignment.pairs) == [(i, 1000 + i) for i in range(20)]
    assert abs(alignment.duration_offset_s - 120) <= 15
    assert all(p.probability >= 0.9 for p in alignment.pairs)
    assert "titles not compared" in alignment.pairs[0].explanation


def test_an_unrelated_show_on_the_same_weekday_does_not_line_up():
    rng = random.Random(2)
    feed = weekly(20, rng)
    other = [(day + 0.1, rng.randint(40, 75) * 60) for day, _ in weekly(20, rng)]
    left, right = views(feed, "rss", 0), views(other, "youtube", 1000)

    alignment = align_schedules(left, right, comparable=20)

    assert alignment is None or not alignment.aligned


def test_identical_daily_episodes_never_align_on_their_schedule_alone():
    # Every episode 30:00 at the same hour: any day's upload fits any day's release.
    feed = [(i, 1800) for i in range(40)]
    other = [(i + 0.1, 1800) for i in range(40)]

    alignment = align_schedules(views(feed, "rss", 0), views(other, "youtube", 1000), 40)

    assert alignment is not None and not alignment.aligned
    assert alignment.chance > 1e-6


def test_conflicting_episode_numbers_are_never_paired():
    rng = random.Random(3)
    feed = weekly(12, rng)
    left = views(feed, "rss", 0, numbers=list(range(1, 13)))
    right = views(uploaded(feed, rng), "youtube", 1000, numbers=list(range(2, 14)))

    alignment = align_schedules(left, right, comparable=12)

    assert alignment is None or not alignment.pairs


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**32),
    count=st.integers(10, 60),
    spacing=st.sampled_from([1.0, 2.0, 3.5, 7.0]),
    shift_h=st.integers(-6, 12),
    ad_s=st.integers(-60, 240),
)
def test_an_upload_of_every_episode_pairs_each_with_its_own(seed, count, spacing, shift_h, ad_s):
    rng = random.Random(seed)
    feed = [(spacing * i, rng.randint(10, 90) * 60 + rng.randint(0, 59)) for i in range(count)]
    left = views(feed, "rss", 0)
    right = views(uploaded(feed, rng, shift_h, ad_s), "youtube", 1000)

    alignment = align_schedules(left, right, comparable=count)

    assert alignment is not None and alignment.aligned
    assert all(p.right == 1000 + p.left for p in alignment.pairs)


def test_a_busy_channel_of_similar_lengths_does_not_line_up_by_chance():
    # A daily 9–11 minute show against an unrelated channel posting a dozen 9–11 minute
    # videos a day: some video always sits near each release with about the right length.
    rng = random.Random(6)
    feed = [(i + 0.5, rng.randint(540, 660)) for i in range(100)]
    busy = [(i + k / 12, rng.randint(540, 660)) for i in range(100) for k in range(12)]

    alignment = align_schedules(views(feed, "rss", 0), views(busy, "youtube", 10_000), 100)

    assert alignment is not None and not alignment.aligned


def _spanish_and_english(rng, count=12):
    topics = ["sueño", "memoria", "estrés", "luz", "frío", "calor", "ayuno", "música"]
    feed, video = [], []
    for i in range(count):
        day, duration = 7 * i, rng.randint(40, 75) * 60 + rng.randint(0, 59)
        topic = topics[i % len(topics)]
        feed.append((f"Cómo el {topic} cambia el cerebro, parte {i + 1}", day, duration))
        video.append((f"Why your brain needs a break {i}", day + 0.15, duration - 90))
    return feed, video


@pytest.mark.django_db
def test_a_channel_titled_in_another_language_is_linked_for_review():
    rng = random.Random(4)
    feed, video = _spanish_and_english(rng)
    _show("rss", "rss-es", "Cerebro Abierto", feed, author="Lucía Marín")
    _show("youtube", "yt-en", "Cerebro Abierto", video)
    # A decoy of the same name publishing on the same weekday, a few hours later, with
    # lengths of its own, stays apart.
    decoy = [(f"Decoy episode {i}", 7 * i + 0.2, rng.randint(2400, 4500)) for i in range(12)]
    _show("youtube", "yt-decoy", "Cerebro Abierto (Official)", decoy)

    report = run_match()

    feed_record = SourceChannel.objects.get(external_id="rss-es")
    video_record = SourceChannel.objects.get(external_id="yt-en")
    assert video_record.channel_id == feed_record.channel_id
    assert video_record.link_status == LinkStatus.NEEDS_REVIEW
    assert "titles do not pair up" in video_record.link_explanation
    decoy_record = SourceChannel.objects.get(external_id="yt-decoy")
    assert decoy_record.channel_id != feed_record.channel_id
    assert report.episodes_linked == len(feed)
    for n in range(len(feed)):
        rss = SourceEpisode.objects.get(external_id=f"rss-es-{n}")
        youtube = SourceEpisode.objects.get(external_id=f"yt-en-{n}")
        assert youtube.episode_id == rss.episode_id
        assert youtube.link_status == LinkStatus.NEEDS_REVIEW


@pytest.mark.django_db
def test_new_episodes_of_a_channel_linked_by_schedule_pair_up_on_the_next_run():
    rng = random.Random(5)
    feed, video = _spanish_and_english(rng)
    rss = _show("rss", "rss-es", "Cerebro Abierto", feed, author="Lucía Marín")
    youtube = _show("youtube", "yt-en", "Cerebro Abierto", video)
    run_match()
    before = dict(SourceEpisode.objects.values_list("pk", "episode_id"))
    assert run_match().episodes_linked == 0  # nothing new: nothing paired again

    rss.refresh_from_db()
    youtube.refresh_from_db()
    day = 7 * len(feed)
    new_rss = add_episode(rss, "rss-new", "Dormir bien, parte final", day, 3333)
    new_video = add_episode(youtube, "yt-new", "The last word on sleep", day + 0.15, 3243)
    # An upload a day later that keeps neither offset stays alone.
    stray = add_episode(youtube, "yt-stray", "Live reaction stream", day + 1, 5400)
    report = run_match()

    assert not report.full and report.episodes_linked == 1
    new_rss.refresh_from_db()
    new_video.refresh_from_db()
    stray.refresh_from_db()
    assert new_video.episode_id == new_rss.episode_id
    assert new_video.link_status == LinkStatus.NEEDS_REVIEW
    assert new_video.link_explanation.startswith(SCHEDULE_REASON)
    assert stray.episode_id != new_rss.episode_id
    after = dict(SourceEpisode.objects.values_list("pk", "episode_id"))
    assert {pk: after[pk] for pk in before} == before, "canonical ids of old links churned"


@pytest.mark.django_db
def test_a_new_episode_on_three_platforms_gathers_all_three_records():
    rng = random.Random(7)
    feed, video = _spanish_and_english(rng)
    rss = _show("rss", "rss-es", "Cerebro Abierto", feed, author="Lucía Marín")
    spotify = _show("spotify", "sp-es", "Cerebro Abierto", [(t, d + 0.05, s) for t, d, s in feed])
    youtube = _show("youtube", "yt-en", "Cerebro Abierto", video)
    run_match()
    for record in (rss, spotify, youtube):
        record.refresh_from_db()
    assert rss.channel_id == spotify.channel_id == youtube.channel_id

    day = 7 * len(feed)
    add_episode(rss, "rss-new", "Dormir bien, parte final", day, 3333)
    add_episode(spotify, "sp-new", "Dormir bien, parte final", day + 0.05, 3333)
    add_episode(youtube, "yt-new", "The last word on sleep", day + 0.15, 3243)
    run_match()

    new = {SourceEpisode.objects.get(external_id=x).episode_id for x in ("rss-new", "sp-new")}
    assert new == {SourceEpisode.objects.get(external_id="yt-new").episode_id}
    per_episode = Counter(SourceEpisode.objects.values_list("episode_id", "source"))
    assert max(per_episode.values()) == 1, "an episode holds two records of one platform"
