"""Title text, episode scoring and assignment, and channel decisions on built catalogs."""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from podsight.catalog.models import Channel, Episode
from podsight.matching.episodes import EpisodeView, assign_one_to_one, candidate_pairs, score_pair
from podsight.matching.run import run_match
from podsight.matching.snapshot import Snapshot, channel_clusters
from podsight.matching.text import (
    DESCRIPTION_CHARS,
    DESCRIPTION_MIN_CHARS,
    core_descriptions,
    core_titles,
    episode_numbers,
    normalise_text,
    part_number,
    segments,
    unnumbered_title,
)
from podsight.sources.models import SourceChannel, SourceEpisode

START = datetime(2024, 1, 1, 12, tzinfo=UTC)


def test_core_titles_drop_show_affixes_series_labels_and_recurring_segments():
    youtube = [f"Topic number {i} and more | The Big Show Podcast" for i in range(8)]
    youtube.append("Why Sleep Matters – Clip")
    cores = core_titles(youtube, ["The Big Show"])
    assert cores[0] == "topic number 0 and more"
    spotify = core_titles(["GUEST SERIES | Dr. Paul Conti: Mental Health"], ["Huberman Lab"])
    assert spotify == ["dr paul conti mental health"]
    assert core_titles(["Huberman Lab | Huberman Lab"], ["Huberman Lab"]) == [
        "huberman lab huberman lab"
    ]  # nothing but decorations: kept whole


def test_text_normalisation_and_numbers():
    assert normalise_text("Brain’s “Reward” & Drive!") == "brains reward and drive"
    assert episode_numbers("AMA #8: Sleep") == {8}
    assert episode_numbers("Ep. 123 – Guest") == {123}
    assert episode_numbers("Episode 7: x, E45") == {7, 45}
    assert part_number("The Story (Part 2)") == 2 and part_number("Part Two") == 2
    assert part_number("No parts") is None


def test_core_titles_leave_numbering_to_the_numbers_feature():
    rss = core_titles(["Ep. 84 – Marcus Walsh explains ancient Egypt | Egypt Hour"], ["Egypt Hour"])
    youtube = core_titles(["Marcus Walsh explains ancient Egypt #84 | Egypt Hour"], ["Egypt Hour"])
    assert rss == youtube == ["marcus walsh explains ancient egypt"]
    assert core_titles(["E58 | Empreendedorismo em 2024"]) == ["empreendedorismo em 2024"]
    # Numbers that are part of the title stay; a title that is only numbering stays whole.
    assert core_titles(["Apollo 11 and after", "Top 10 ideas", "Episode 12"]) == [
        "apollo 11 and after",
        "top 10 ideas",
        "episode 12",
    ]


def test_ads_make_a_short_episode_much_shorter_on_video_without_costing_the_link():
    # Real shape from the demo world: 300 s of RSS audio with three minutes of dynamic ads,
    # a 118 s video of the same episode.
    audio = view(1, "Olivia Hughes explains developer tools", duration=300, source="rss")
    video = view(2, "Olivia Hughes explains developer tools", 1.0, duration=118, source="youtube")
    clip = view(3, "Olivia Hughes explains developer tools", 1.5, duration=118, kind="clip")
    score = score_pair(audio, video)
    assert score.probability >= 0.99, score.explanation
    assert "3 min (61%) apart (+1.5)" in score.explanation
    chosen = assign_one_to_one([score_pair(audio, clip), score])
    assert [(p.left, p.right) for p in chosen] == [(1, 2)]  # the clip never links


def test_a_networks_name_neither_ranks_nor_links_its_shows():
    from podsight.matching.channels import Cluster, NameIndex

    def cluster(pk, title, author="Northwind Audio", sources=("rss",)):
        return Cluster(pk, frozenset(sources), [title, author], [], [f"x:{pk}"])

    network = [cluster(pk, f"Show number {pk}") for pk in range(1, 30)]
    own = cluster(30, "Garden Hour")
    spotify = cluster(31, "Garden Hour", sources=("spotify",))
    index = NameIndex([*network, own, spotify])
    ranked = index.candidates(spotify)
    assert ranked[0] == (1.0, own)
    assert all(similarity < 0.6 for similarity, other in ranked[1:])


@given(st.text(max_size=60))
def test_normalise_text_is_idempotent(text):
    once = normalise_text(text)
    assert normalise_text(once) == once


@given(st.text(alphabet=st.characters(max_codepoint=127), max_size=60))
def test_normalise_text_treats_ascii_as_the_unicode_path_does(text):
    # ASCII skips NFKC and the quote table: the result must not depend on that.
    unicode_path = unicodedata.normalize("NFKC", text).casefold()
    unicode_path = unicode_path.replace("&", " and ").replace("'", "")
    assert normalise_text(text) == " ".join(re.sub(r"[^\w]+", " ", unicode_path).split())
    assert normalise_text(text + "é")[:-1].rstrip() == normalise_text(text).rstrip()


@given(st.text(alphabet="ab Ep.#12|/–-—'&é", max_size=30))
def test_a_title_of_one_segment_is_its_own_core(title):
    # core_titles reuses the segment's normal form for a title that has one.
    if len(segments(title)) <= 1:
        expected = unnumbered_title(title) or normalise_text(title)
        assert core_titles([title]) == [expected]


def view(key, title, day=0.0, duration=3600, kind="episode", source="spotify", numbers=()):
    return EpisodeView(
        key=key,
        cores=(normalise_text(title),),
        published_s=(START + timedelta(days=day)).timestamp(),
        duration_s=duration,
        numbers=frozenset(numbers),
        kind=kind,
        sources=frozenset({source}),
    )


def test_a_trailer_cannot_take_the_full_episodes_link():
    full = view(1, "The Launch Episode", source="spotify")
    upload = view(2, "The Launch Episode", day=0.3, duration=3720, source="youtube")
    trailer = view(3, "The Launch Episode", day=0.1, duration=55, kind="trailer", source="youtube")
    scores = [score_pair(full, upload), score_pair(full, trailer)]
    assert scores[1].probability < 0.01 and "episode vs trailer" in scores[1].explanation
    chosen = assign_one_to_one(scores)
    assert [(p.left, p.right) for p in chosen] == [(1, 2)]


def test_numbers_and_time_decide_between_near_identical_titles():
    a = view(1, "Q&A #41: listener questions", numbers={41})
    b = view(2, "Q&A #41: listener questions", day=0.2, source="youtube", numbers={41})
    c = view(3, "Q&A #42: listener questions", day=7, source="youtube", numbers={42})
    assert score_pair(a, b).probability > 0.99
    assert score_pair(a, c).probability < 0.5  # same title but for the number: not linked


def test_blocking_compares_only_episodes_published_within_the_window():
    left = [view(i, f"e{i}", day=i * 30) for i in range(10)]
    right = [view(100 + i, f"e{i}", day=i * 30 + 1, source="youtube") for i in range(10)]
    pairs = list(candidate_pairs(left, right))
    assert sorted((a.key, b.key) for a, b in pairs) == [(i, 100 + i) for i in range(10)]


def add_episode(record, external_id, title, day, duration):
    """An episode record on its own canonical episode in the record's channel."""
    published = START + timedelta(days=day)
    episode = Episode.objects.create(
        channel_id=record.channel_id, title=title, published_at=published, duration_s=duration
    )
    return SourceEpisode.objects.create(
        source=record.source,
        external_id=external_id,
        source_channel=record,
        episode=episode,
        data={
            "title": title,
            "published_at": published.isoformat(),
            "duration_s": duration,
            "kind": "episode",
        },
        content_hash="x",
        fetched_at=START,
        link_method="key",
        link_confidence=1.0,
    )


def _show(source, external_id, title, episodes, author="", description=""):
    channel = Channel.objects.create(title=title)
    data = {"title": title, "author": author, "description_text": description}
    record = SourceChannel.objects.create(
        source=source,
        external_id=external_id,
        data=data,
        content_hash="x",
        fetched_at=START,
        channel=channel,
        link_method="key",
        link_confidence=1.0,
    )
    for n, (episode_title, day, duration) in enumerate(episodes):
        add_episode(record, f"{external_id}-{n}", episode_title, day, duration)
    return record


TOPICS = ["sleep", "focus", "stress", "light", "cold", "heat", "fasting", "music"]


@pytest.mark.django_db
def test_a_decoy_show_with_a_near_identical_name_is_not_merged():
    real = [(f"How {t} shapes the brain", 7 * i, 3600 + 60 * i) for i, t in enumerate(TOPICS)]
    _show("spotify", "sp-real", "Brain Talk", real, author="Dana Cole")
    _show(
        "youtube",
        "yt-real",
        "Dana Cole",
        [(f"{t} | Brain Talk Podcast", d + 0.4, s + 20) for t, d, s in real],
        description="The official channel of the Brain Talk podcast.",
    )
    decoy = [(f"Brain teaser number {i}", 7 * i + 1, 900) for i in range(8)]
    _show("youtube", "yt-decoy", "Brain Talks", decoy)

    report = run_match()

    assert report.channels_linked == 1
    real_sp = SourceChannel.objects.get(external_id="sp-real")
    assert SourceChannel.objects.get(external_id="yt-real").channel_id == real_sp.channel_id
    assert SourceChannel.objects.get(external_id="yt-decoy").channel_id != real_sp.channel_id
    assert report.episodes_linked == len(TOPICS)


@pytest.mark.django_db
def test_a_channel_named_after_its_host_is_found_through_its_description():
    # No name word in common ("Grace Okafor" / "All About City Life", published by a
    # network), so only the description's mention makes the show a candidate.
    real = [(f"How {t} shapes cities", 7 * i, 3600 + 60 * i) for i, t in enumerate(TOPICS)]
    _show("rss", "rss-city", "All About City Life", real, author="Funkhaus Nord")
    _show(
        "youtube",
        "yt-grace",
        "Grace Okafor",
        [(t, d + 1.2, s - 150) for t, d, s in real],
        description="Welcome to the official All About City Life YouTube channel. New every week.",
    )

    report = run_match()

    assert report.channels_linked == 1 and report.episodes_linked == len(TOPICS)
    rss = SourceChannel.objects.get(external_id="rss-city")
    assert SourceChannel.objects.get(external_id="yt-grace").channel_id == rss.channel_id


@pytest.mark.django_db
def test_a_spotify_show_and_youtube_channel_that_find_each_other_first_still_find_the_feed():
    real = [(f"How {t} shapes the brain", 7 * i, 3600 + 60 * i) for i, t in enumerate(TOPICS)]
    # Created first, so matched first; its best partner is the YouTube channel, which
    # has all eight episodes where the feed keeps only the last five.
    _show("spotify", "sp-1", "Brain Talk", [(t, d + 0.2, s + 15) for t, d, s in real])
    _show("youtube", "yt-1", "Brain Talk", [(f"{t} | Brain Talk", d + 0.5, s) for t, d, s in real])
    _show("rss", "rss-1", "Brain Talk", real[3:], author="Dana Cole")

    report = run_match()

    assert report.channels_linked == 2
    channels = set(SourceChannel.objects.values_list("channel_id", flat=True))
    assert len(channels) == 1
    assert Episode.objects.filter(merged_into__isnull=True).count() == len(TOPICS)


@pytest.mark.django_db
def test_an_episode_on_three_platforms_gathers_all_three_records_in_one_run():
    real = [(f"How {t} shapes the brain", 7 * i, 3600 + 60 * i) for i, t in enumerate(TOPICS)]
    _show("apple", "ap-1", "Brain Talk", real, author="Dana Cole")
    _show("spotify", "sp-1", "Brain Talk", [(t, d + 0.2, s + 15) for t, d, s in real])
    _show("youtube", "yt-1", "Dana Cole", [(f"{t} | Brain Talk", d + 0.5, s) for t, d, s in real])

    first = run_match()

    assert first.channels_linked == 2
    assert first.episodes_linked == 2 * len(TOPICS)
    alive = Episode.objects.alive()
    assert alive.count() == len(TOPICS)
    for episode in alive:
        sources = sorted(episode.source_records.values_list("source", flat=True))
        assert sources == ["apple", "spotify", "youtube"], episode.title
    again = run_match()
    assert (again.channels_linked, again.episodes_linked) == (0, 0)


@pytest.mark.django_db
def test_moves_chained_in_one_batch_send_every_record_to_the_end_of_the_chain():
    from podsight.matching.writes import EpisodeMove, apply_episode_moves

    feed = _show("rss", "feed", "Brain Talk", [("Sleep and the brain", 0, 3600)])
    spotify = _show("spotify", "sp", "Brain Talk", [("Sleep and the brain", 0, 3600)])
    youtube = _show("youtube", "yt", "Brain Talk", [("Sleep and the brain", 0.2, 3580)])
    rss_id, spotify_id, youtube_id = (
        SourceEpisode.objects.get(source_channel=r).episode_id for r in (feed, spotify, youtube)
    )

    def move(survivor, merged, record):
        return EpisodeMove(survivor, merged, frozenset({record}), "fuzzy", 0.99, "test", "auto")

    youtube_record = SourceEpisode.objects.get(source_channel=youtube).pk
    spotify_record = SourceEpisode.objects.get(source_channel=spotify).pk
    apply_episode_moves(
        [
            move(spotify_id, youtube_id, youtube_record),  # first round: Spotify ~ YouTube
            move(rss_id, spotify_id, spotify_record),  # second: the feed's item ~ both
        ],
        now=START,
    )

    assert set(SourceEpisode.objects.values_list("episode_id", flat=True)) == {rss_id}
    merged_into = dict(Episode.objects.values_list("pk", "merged_into_id"))
    assert merged_into[youtube_id] == spotify_id and merged_into[spotify_id] == rss_id
    assert merged_into[rss_id] is None


@pytest.mark.django_db
def test_channel_merges_chained_in_one_batch_keep_each_step_in_the_history():
    from podsight.matching.models import LinkEvent
    from podsight.matching.writes import ChannelMerge, apply_channel_merges

    episodes = [("Sleep and the brain", 0, 3600)]
    feed = _show("rss", "feed", "Brain Talk", episodes)
    spotify = _show("spotify", "sp", "Brain Talk", episodes)
    youtube = _show("youtube", "yt", "Dana Cole", episodes)
    rss_c, spotify_c, youtube_c = (r.channel_id for r in (feed, spotify, youtube))

    apply_channel_merges(
        [
            ChannelMerge(spotify_c, youtube_c, "fuzzy", 0.9, "YouTube ~ Spotify", "auto"),
            ChannelMerge(rss_c, spotify_c, "fuzzy", 0.8, "Spotify ~ feed", "auto"),
        ],
        now=START,
    )

    assert set(SourceChannel.objects.values_list("channel_id", flat=True)) == {rss_c}
    assert set(Episode.objects.values_list("channel_id", flat=True)) == {rss_c}
    merged_into = dict(Channel.objects.values_list("pk", "merged_into_id"))
    assert merged_into == {rss_c: None, spotify_c: rss_c, youtube_c: spotify_c}
    steps = list(
        LinkEvent.objects.filter(record_id=youtube.pk, entity="channel")
        .order_by("id")
        .values_list("from_canonical", "to_canonical")
    )
    assert steps == [(youtube_c, spotify_c), (spotify_c, rss_c)]
    youtube.refresh_from_db()
    assert youtube.link_explanation == "YouTube ~ Spotify"
    assert Channel.objects.get(pk=rss_c).field_sources["title"] == "rss:feed"


@pytest.mark.django_db
def test_a_null_author_or_date_is_no_value_not_the_word_null():
    # SQLite answers a JSON null key with the text "null": it must not become a name
    # that every author-less channel shares, nor an episode's kind.
    channel = Channel.objects.create(title="Brain Talk")
    record = SourceChannel.objects.create(
        source="youtube",
        external_id="yt-null",
        data={"title": "Brain Talk", "author": None, "description_text": None},
        content_hash="x",
        fetched_at=START,
        channel=channel,
        link_method="key",
        link_confidence=1.0,
    )
    episode = Episode.objects.create(channel=channel, title="One")
    SourceEpisode.objects.create(
        source="youtube",
        external_id="v-null",
        source_channel=record,
        episode=episode,
        data={"title": "One", "published_at": None, "duration_s": None, "kind": None},
        content_hash="x",
        fetched_at=START,
        link_method="key",
        link_confidence=1.0,
    )
    (cluster,) = channel_clusters(None)
    assert cluster.names == ["Brain Talk"] and cluster.descriptions == []
    (view_,) = Snapshot(None).views(channel.pk, cluster.names)
    assert view_.published_s is None and view_.duration_s is None and view_.kind == "episode"


NOTES = (
    "In this episode Dana Cole talks with {guest} about how {topic} shapes the brain, "
    "what the newest studies found, and which habits make a difference day to day."
)
FOOTER = "Subscribe to Brain Talk: https://www.youtube.com/@braintalk?sub_confirmation=1"


def test_description_openings_lose_the_channels_boilerplate():
    guests = ["Ana Ruiz", "Ben Okafor", "Chen Wei", "Dara Singh", "Eli Novak", "Fay Moss"]
    described = [
        f"{NOTES.format(guest=g, topic=t)}\n\n{FOOTER}"
        for g, t in zip(guests, TOPICS[:6], strict=True)
    ] + ["New episode!", None]
    openings = core_descriptions(described)
    assert openings[0].startswith("in this episode dana cole talks with ana ruiz")
    assert all("subscribe" not in o for o in openings)
    assert openings[-2:] == ["", ""]  # too short to tell episodes apart, or none


@given(st.lists(st.one_of(st.none(), st.text(max_size=600)), max_size=12))
def test_description_openings_are_short_lower_case_and_one_per_description(descriptions):
    openings = core_descriptions(descriptions)
    assert len(openings) == len(descriptions)
    for opening in openings:
        assert opening == "" or DESCRIPTION_MIN_CHARS <= len(opening) <= DESCRIPTION_CHARS
        assert opening == opening.casefold() and "  " not in opening


def test_copied_show_notes_carry_a_loosely_titled_pair_but_not_a_far_one():
    notes = (NOTES.format(guest="Ana Ruiz", topic="sleep").casefold(),)
    feed = view(1, "Ana Ruiz on sleep, dreams and the brain")._replace(descriptions=notes)
    video = view(2, "Sleep explained: Ana Ruiz", day=0.3, duration=3700, source="youtube")
    assert score_pair(feed, video).probability < 0.95  # the titles alone are too far apart
    copied = video._replace(descriptions=notes)
    scored = score_pair(feed, copied)
    assert scored.probability >= 0.95 and "descriptions 1.00 alike" in scored.explanation
    unrelated = view(3, "Why we need cold water", day=0.3, source="youtube")
    assert score_pair(feed, unrelated._replace(descriptions=notes)).probability < 0.5
