"""Review and overrides, incremental runs and id stability, on small built catalogs."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient
from tests.matching.test_matching import TOPICS, _show, add_episode

from podsight.accounts.services import create_token
from podsight.catalog.models import Episode
from podsight.matching.models import LinkEvent, LinkOverride
from podsight.matching.review import LinkError, confirm_link, force_link, reject_link
from podsight.matching.run import run_match
from podsight.sources.models import SourceChannel, SourceEpisode

pytestmark = pytest.mark.django_db

REAL = [(f"How {t} shapes the brain", 7 * i, 3600 + 60 * i) for i, t in enumerate(TOPICS)]


def _pair_of_shows():
    spotify = _show("spotify", "sp", "Brain Talk", REAL, author="Dana Cole")
    youtube = _show(
        "youtube", "yt", "Dana Cole", [(f"{t} | Brain Talk", d + 0.3, s + 20) for t, d, s in REAL]
    )
    return spotify, youtube


def _episode_record(external_id: str) -> SourceEpisode:
    return SourceEpisode.objects.get(external_id=external_id)


def test_a_rejected_link_stays_apart_and_a_forced_one_stays_together_on_every_rerun():
    _pair_of_shows()
    run_match()
    youtube = _episode_record("yt-2")
    spotify = _episode_record("sp-2")
    assert youtube.episode_id == spotify.episode_id and youtube.link_method == "fuzzy"
    shared = youtube.episode_id

    back_in = reject_link("episode", youtube.pk, actor="test", reason="different guest")
    youtube.refresh_from_db()
    assert youtube.episode_id == back_in != shared
    assert Episode.objects.get(pk=back_in).merged_into_id is None  # its old row, revived
    history = list(LinkEvent.objects.filter(entity="episode", record_id=youtube.pk))
    assert [(e.from_canonical, e.to_canonical) for e in history] == [
        (back_in, shared),
        (shared, back_in),
    ]

    for _ in range(2):
        run_match(full=True)
        youtube.refresh_from_db()
        assert youtube.episode_id == back_in, "a full re-run must not undo a rejection"

    # Force two episodes the matcher would never pair (different topics, weeks apart).
    other = _episode_record("yt-5")
    survivor = force_link("episode", spotify.pk, other.pk, actor="test")
    run_match(full=True)
    other.refresh_from_db()
    spotify.refresh_from_db()
    assert other.episode_id == spotify.episode_id == survivor
    assert other.link_method == "manual" or spotify.link_method == "manual"
    assert LinkOverride.objects.filter(action="force").count() == 1


def test_confirm_marks_the_link_and_only_matched_links_can_be_confirmed():
    _pair_of_shows()
    run_match()
    youtube = _episode_record("yt-1")
    confirm_link("episode", youtube.pk, actor="test")
    youtube.refresh_from_db()
    assert youtube.link_status == "confirmed"
    run_match(full=True)
    youtube.refresh_from_db()
    assert youtube.link_status == "confirmed"
    spotify = _episode_record("sp-1")  # the survivor's own record: linked by identity
    with pytest.raises(LinkError) as error:
        confirm_link("episode", spotify.pk, actor="test")
    assert error.value.code == "not_a_match"


def test_an_incremental_run_scores_only_pairs_with_new_records_and_keeps_ids():
    spotify, youtube = _pair_of_shows()
    first = run_match()
    assert first.full and first.episodes_linked == len(TOPICS)
    before = dict(SourceEpisode.objects.values_list("pk", "episode_id"))
    linked_at = dict(SourceEpisode.objects.values_list("pk", "linked_at"))

    idle = run_match()
    assert not idle.full
    assert (idle.episode_pairs_compared, idle.channels_compared) == (0, 0)

    day = 7 * len(TOPICS)
    spotify.refresh_from_db()
    youtube.refresh_from_db()
    new_sp = add_episode(spotify, "sp-new", "Why naps restore the brain", day, 2400)
    new_yt = add_episode(youtube, "yt-new", "Why naps restore the brain | Brain Talk", day, 2410)
    second = run_match()

    assert second.episodes_linked == 1
    new_sp.refresh_from_db()
    new_yt.refresh_from_db()
    assert new_sp.episode_id == new_yt.episode_id
    # Old episodes already hold a Spotify and a YouTube record, so only new×new is left.
    assert second.episode_pairs_compared == 1
    after = dict(SourceEpisode.objects.values_list("pk", "episode_id"))
    assert {pk: after[pk] for pk in before} == before, "canonical ids of old links churned"
    now_linked = dict(SourceEpisode.objects.values_list("pk", "linked_at"))
    assert {pk: now_linked[pk] for pk in linked_at} == linked_at
    # A new YouTube record alone is scored against every Spotify episode in its window
    # that still lacks a YouTube record, and nothing else.
    lonely = add_episode(spotify, "sp-lonely", "Cold water and the brain", day + 20, 1800)
    add_episode(spotify, "sp-lonely-2", "Heat and the brain", day + 27, 1900)
    third = run_match()
    assert (third.episode_pairs_compared, third.episodes_linked) == (0, 0)
    add_episode(youtube, "yt-late", "Cold water and the brain | Brain Talk", day + 21, 1810)
    fourth = run_match()
    assert (fourth.episode_pairs_compared, fourth.episodes_linked) == (2, 1)
    assert _episode_record("yt-late").episode_id == lonely.episode_id


def test_merged_ids_keep_answering_with_the_survivor():
    _pair_of_shows()
    run_match()
    youtube_channel = SourceChannel.objects.get(external_id="yt")
    merged = Episode.objects.filter(merged_into__isnull=False).first()
    api = APIClient()
    body = api.get(f"/api/episodes/{merged.pk}").json()
    assert body["id"] == merged.merged_into_id
    sources = {s["source"]: s for s in body["sources"]}
    assert sources["youtube"]["method"] == "fuzzy"
    assert sources["youtube"]["status"] in ("auto", "needs_review")
    assert 0.95 <= sources["youtube"]["confidence"] <= 1
    assert "title" in sources["youtube"]["explanation"]
    assert body["field_sources"]["title"].startswith("spotify:")
    channel = api.get(f"/api/channels/{youtube_channel.channel_id}").json()
    assert {s["source"] for s in channel["sources"]} == {"spotify", "youtube"}


def test_links_api_lists_needs_review_and_actions_need_a_review_token():
    spotify, youtube = _pair_of_shows()
    run_match()
    # Make one link a borderline one by the matcher's own band.
    flagged = _episode_record("yt-3")
    SourceEpisode.objects.filter(pk=flagged.pk).update(link_status="needs_review")
    api = APIClient()
    listing = api.get("/api/links", {"status": "needs_review"}).json()
    assert [item["id"] for item in listing["results"]] == [f"episode:{flagged.pk}"]
    item = listing["results"][0]
    assert item["partners"][0]["source"] == "spotify" and item["explanation"]

    url = f"/api/links/episode/{flagged.pk}/confirm"
    assert api.post(url).status_code == 401
    assert api.post(url).json()["error"]["code"] == "not_authenticated"
    _token, events_key = create_token("events-app", ["events:write"])
    api.credentials(HTTP_AUTHORIZATION=f"Token {events_key}")
    denied = api.post(url)
    assert denied.status_code == 403 and denied.json()["error"]["code"] == "missing_scope"

    _token, key = create_token("reviewer", ["links:review"])
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert api.post(url, {"reason": "same talk"}, format="json").json()["status"] == "confirmed"
    assert api.get("/api/links", {"status": "needs_review"}).json()["results"] == []
    assert LinkOverride.objects.get(action="confirm").actor == "token:reviewer"

    rejected = api.post(f"/api/links/episode/{_episode_record('yt-4').pk}/reject")
    assert rejected.status_code == 200
    assert rejected.json()["method"] == "key" and rejected.json()["partners"] == []
    own = api.post(f"/api/links/episode/{_episode_record('sp-4').pk}/reject")
    assert own.status_code == 409 and own.json()["error"]["code"] == "not_a_match"
    assert api.post("/api/links/episode/999999/confirm").status_code == 404
    assert api.post(f"/api/links/episode/{flagged.pk}/approve").status_code == 404
    bad = api.get("/api/links", {"status": "maybe"})
    assert bad.status_code == 400 and "status" in bad.json()["error"]["details"]

    forced = api.post(
        "/api/links/force",
        {"entity": "episode", "record": "youtube:yt-4", "other": "spotify:sp-4"},
        format="json",
    )
    assert forced.status_code == 200
    assert _episode_record("yt-4").episode_id == _episode_record("sp-4").episode_id
    run_match(full=True)
    assert _episode_record("yt-4").episode_id == _episode_record("sp-4").episode_id


def test_borderline_links_are_made_but_need_review():
    spotify, youtube = _pair_of_shows()
    day = 7 * len(TOPICS) + 7
    # Titles 0.88 alike, 11 hours and 3% apart: p ≈ 0.96, above 0.95 but below 0.99.
    add_episode(spotify, "sp-whales", "How whales feed the deep sea", day, 3000)
    add_episode(youtube, "yt-whales", "How whales feed the deep ocean floor", day + 11 / 24, 3100)
    report = run_match()
    flagged = _episode_record("yt-whales")
    assert flagged.episode_id == _episode_record("sp-whales").episode_id
    assert flagged.link_status == "needs_review"
    assert 0.95 <= flagged.link_confidence < 0.99
    assert report.needs_review == 1
    assert _episode_record("yt-1").link_status == "auto"


def test_rejecting_a_channel_link_takes_its_episodes_along():
    spotify, youtube = _pair_of_shows()
    run_match()
    youtube.refresh_from_db()
    spotify.refresh_from_db()
    assert youtube.channel_id == spotify.channel_id
    back = reject_link("channel", youtube.pk, actor="test")
    youtube.refresh_from_db()
    assert youtube.channel_id == back != spotify.channel_id
    for record in SourceEpisode.objects.filter(source_channel=youtube):
        assert record.episode.channel_id == back
        assert not record.episode.source_records.exclude(source="youtube").exists()
    run_match(full=True)
    youtube.refresh_from_db()
    assert youtube.channel_id == back


def test_a_record_moves_to_a_clearly_better_match_that_arrives_later_with_history_kept():
    spotify, youtube = _pair_of_shows()
    day = 7 * len(TOPICS) + 30
    near = add_episode(spotify, "sp-near", "Sleep, light and the brain", day, 3600)
    upload = add_episode(youtube, "yt-live", "Sleep, light and the brain (live)", day + 2.1, 3700)
    assert run_match().episodes_linked == len(TOPICS) + 1
    upload.refresh_from_db()
    near.refresh_from_db()
    # The only candidate in its window: linked, in the review band.
    assert upload.episode_id == near.episode_id and upload.link_status == "needs_review"
    first_link = upload.episode_id
    born_on = LinkEvent.objects.get(record_id=upload.pk).from_canonical

    spotify.refresh_from_db()
    late = add_episode(spotify, "sp-live", "Sleep, light and the brain (live)", day + 2, 3700)
    second = run_match()

    assert not second.full and second.episodes_relinked == 1
    upload.refresh_from_db()
    assert upload.episode_id == late.episode_id
    assert upload.link_status == "auto" and "re-linked from episode" in upload.link_explanation
    moves = list(
        LinkEvent.objects.filter(record_id=upload.pk, entity="episode")
        .order_by("id")
        .values_list("from_canonical", "to_canonical")
    )
    assert moves == [(born_on, first_link), (first_link, late.episode_id)]
    # The upload's own former id now answers with the episode it belongs to.
    assert Episode.objects.get(pk=born_on).merged_into_id == late.episode_id
    assert list(Episode.objects.get(pk=first_link).source_records.all()) == [near]
    # A re-run moves nothing back and forth.
    third = run_match(full=True)
    assert third.episodes_relinked == 0
    upload.refresh_from_db()
    assert upload.episode_id == late.episode_id


def test_a_near_tie_or_a_confirmed_link_never_moves():
    spotify, youtube = _pair_of_shows()
    day = 7 * len(TOPICS) + 30
    add_episode(spotify, "sp-a", "Listener questions", day, 3600)
    upload = add_episode(youtube, "yt-a", "Listener questions", day + 0.2, 3600)
    run_match()
    upload.refresh_from_db()
    linked_to = upload.episode_id
    spotify.refresh_from_db()
    add_episode(spotify, "sp-reupload", "Listener questions", day + 0.3, 3600)  # as good
    assert run_match().episodes_relinked == 0
    upload.refresh_from_db()
    assert upload.episode_id == linked_to


def test_a_confirmed_link_is_not_moved_by_a_better_scoring_newcomer():
    spotify, youtube = _pair_of_shows()
    day = 7 * len(TOPICS) + 30
    add_episode(spotify, "sp-near", "Sleep, light and the brain", day, 3600)
    upload = add_episode(youtube, "yt-live", "Sleep, light and the brain (live)", day + 2.1, 3700)
    run_match()
    confirm_link("episode", upload.pk, actor="ana")
    upload.refresh_from_db()
    confirmed_on = upload.episode_id
    spotify.refresh_from_db()
    add_episode(spotify, "sp-live", "Sleep, light and the brain (live)", day + 2, 3700)
    assert run_match().episodes_relinked == 0
    upload.refresh_from_db()
    assert upload.episode_id == confirmed_on
