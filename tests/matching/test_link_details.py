"""``GET /api/links/{entity}/{id}`` (side by side, reasons) and ``…/history``, on links the
real matcher made."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient
from tests.matching.test_review import _pair_of_shows

from podsight.accounts.services import create_token
from podsight.matching.details import reasons
from podsight.matching.episodes import WEIGHTS
from podsight.matching.review import public_explanation
from podsight.matching.run import run_match
from podsight.sources.models import SourceChannel, SourceEpisode

pytestmark = pytest.mark.django_db


def _reviewer() -> APIClient:
    api = APIClient()
    _token, key = create_token("reviewer", ["links:review"])
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return api


def test_reasons_split_the_matchers_explanation_into_features_and_total():
    episode = "title 0.88 (+3.6); published 11 hours apart (+1.7); -0.4 bits → p 0.4311"
    assert reasons(episode) == [
        {"text": "title 0.88", "bits": 3.6, "total": False},
        {"text": "published 11 hours apart", "bits": 1.7, "total": False},
        {"text": "-0.4 bits → p 0.4311", "bits": -0.4, "total": True},
    ]
    channel = "youtube:yt ~ spotify:sp: 8 of 8 episodes pair up (overlap 1.00); names 0.52"
    assert [r["bits"] for r in reasons(channel)] == [None, None]
    assert reasons("") == []


def test_episode_detail_puts_both_records_side_by_side_with_the_scores_reasons():
    _pair_of_shows()
    run_match()
    youtube = SourceEpisode.objects.get(external_id="yt-3")
    spotify = SourceEpisode.objects.get(external_id="sp-3")
    assert youtube.link_method == "fuzzy"

    answer = APIClient().get(f"/api/links/episode/{youtube.pk}")
    assert answer.status_code == 200
    body = answer.json()
    assert body["id"] == f"episode:{youtube.pk}"
    assert body["canonical_id"] == youtube.episode_id == spotify.episode_id
    assert body["explanation"] == youtube.link_explanation
    features = [r for r in body["reasons"] if not r["total"]]
    assert features[0]["text"].startswith("title ") and features[0]["bits"] > 0
    assert any(r["text"].startswith("published ") for r in features)
    total = body["reasons"][-1]
    assert total["total"] and f"p {youtube.link_confidence:.4f}" in total["text"]
    # The features' bits and the prior add up to the total the matcher wrote.
    summed = WEIGHTS["prior"] + sum(r["bits"] for r in features)
    assert summed == pytest.approx(total["bits"], abs=0.3)

    record = body["record"]
    assert (record["record_id"], record["source"]) == (youtube.pk, "youtube")
    assert record["fields"]["title"] == "How light shapes the brain | Brain Talk"
    assert record["fields"]["channel"] == "Dana Cole"
    assert record["fields"]["duration_s"] == youtube.data["duration_s"]
    assert list(record["fields"])[:3] == ["title", "channel", "published_at"]
    [partner] = body["partners"]
    assert (partner["record_id"], partner["source"]) == (spotify.pk, "spotify")
    assert partner["fields"]["title"] == "How light shapes the brain"
    assert partner["method"] == "key" and partner["status"] == ""
    # Every field either record has, once, in the API's fixed order.
    assert body["fields"][:3] == ["title", "channel", "published_at"]
    assert set(body["fields"]) == set(record["fields"]) | set(partner["fields"])


def test_channel_detail_counts_episodes_and_dates_each_record():
    spotify, youtube = _pair_of_shows()
    run_match()
    youtube.refresh_from_db()
    body = APIClient().get(f"/api/links/channel/{youtube.pk}").json()
    assert body["method"] == "fuzzy" and body["confidence"] > 0.6
    assert "episodes pair up" in body["reasons"][0]["text"]
    fields = body["record"]["fields"]
    assert fields["title"] == "Dana Cole" and fields["episodes"] == 8
    assert fields["first_published_at"] < fields["last_published_at"]
    [partner] = body["partners"]
    assert partner["fields"]["author"] == "Dana Cole"
    assert partner["fields"]["title"] == "Brain Talk"


def test_detail_of_a_missing_record_or_entity_is_refused_in_the_one_error_shape():
    api = APIClient()
    missing = api.get("/api/links/episode/999999")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    huge = api.get(f"/api/links/episode/{2**70}")
    assert huge.status_code == 404
    bad = api.get("/api/links/show/1")
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "bad_entity"


def test_history_lists_the_moves_and_peoples_decisions_and_needs_a_review_token():
    _pair_of_shows()
    run_match()
    youtube = SourceEpisode.objects.get(external_id="yt-2")
    url = f"/api/links/episode/{youtube.pk}/history"
    assert APIClient().get(url).status_code == 401
    other = APIClient()
    _token, key = create_token("events-app", ["events:write"])
    other.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert other.get(url).json()["error"]["code"] == "missing_scope"

    api = _reviewer()
    first = api.get(url).json()
    assert first["record_id"] == youtube.pk and first["overrides"] == []
    [matched] = first["events"]
    assert matched["actor"] == "matcher" and matched["to_canonical"] == youtube.episode_id
    assert matched["method"] == "fuzzy" and matched["explanation"] == youtube.link_explanation

    confirmed = api.post(
        f"/api/links/episode/{youtube.pk}/confirm", {"reason": "same talk"}, format="json"
    )
    assert confirmed.status_code == 200
    spotify = SourceEpisode.objects.get(external_id="sp-2")
    api.post(
        f"/api/links/episode/{youtube.pk}/reject", {"reason": "a different guest"}, format="json"
    )
    later = api.get(url).json()
    assert [e["explanation"] for e in later["events"]][:2] == [
        "rejected",
        "confirmed by a person",
    ]
    assert [(o["action"], o["reason"], o["actor"]) for o in later["overrides"]] == [
        ("reject", "a different guest", "token:reviewer"),
        ("confirm", "same talk", "token:reviewer"),
    ]
    assert later["overrides"][0]["other_record_id"] == spotify.pk
    # The other record of a rejected pair sees the decision too.
    theirs = api.get(f"/api/links/episode/{spotify.pk}/history").json()
    assert [o["action"] for o in theirs["overrides"]] == ["reject"]
    assert api.get("/api/links/episode/999999/history").status_code == 404
    assert api.post(url).status_code == 405


def test_channel_history_of_a_key_linked_record_is_its_own_row_only():
    spotify, _youtube = _pair_of_shows()
    run_match()
    record = SourceChannel.objects.get(pk=spotify.pk)
    body = _reviewer().get(f"/api/links/channel/{record.pk}/history").json()
    assert body["events"] == [] and body["overrides"] == []
    detail = APIClient().get(f"/api/links/channel/{record.pk}").json()
    assert detail["method"] == "key" and detail["reasons"] == []
    assert [p["source"] for p in detail["partners"]] == ["youtube"]


def test_records_in_no_canonical_row_have_no_partners():
    spotify, youtube = _pair_of_shows()
    SourceChannel.objects.filter(pk__in=[spotify.pk, youtube.pk]).update(channel=None)
    body = APIClient().get(f"/api/links/channel/{youtube.pk}").json()
    assert body["canonical_id"] is None and body["partners"] == []
    assert body["fields"] == list(body["record"]["fields"])


def test_anonymous_callers_never_see_who_decided_a_link_though_reviewers_do():
    """The public explanation says "a reviewer"; the name is only in the history, which
    needs links:review. Rows written when explanations still named the actor too."""
    spotify, youtube = _pair_of_shows()
    run_match()
    name = "token:alice-decides"
    decider = APIClient()
    _token, key = create_token("alice-decides", ["links:review"])
    decider.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    forced, detached, old = (SourceEpisode.objects.get(external_id=f"yt-{n}") for n in (2, 3, 4))
    # A force after a reject (two different decisions), a plain reject.
    assert decider.post(f"/api/links/episode/{forced.pk}/reject").status_code == 200
    body = {"entity": "episode", "record": "youtube:yt-2", "other": "spotify:sp-2"}
    assert decider.post("/api/links/force", body, format="json").status_code == 200
    assert decider.post(f"/api/links/episode/{detached.pk}/reject").status_code == 200
    # Rows an older version wrote, with the name in the explanation.
    SourceEpisode.objects.filter(pk=old.pk).update(link_explanation=f"forced by {name}")
    SourceChannel.objects.filter(pk=youtube.pk).update(
        link_explanation=f"detached from channel {spotify.channel_id} by {name}"
    )

    anonymous = APIClient()
    pages = [anonymous.get("/api/links", {"page_size": 100})]
    for record in SourceEpisode.objects.all():
        pages.append(anonymous.get(f"/api/links/episode/{record.pk}"))
        pages.append(anonymous.get(f"/api/episodes/{record.episode_id}"))
    for record in SourceChannel.objects.all():
        pages.append(anonymous.get(f"/api/links/channel/{record.pk}"))
        pages.append(anonymous.get(f"/api/channels/{record.channel_id}"))
    assert {page.status_code for page in pages} == {200}
    text = " ".join(page.content.decode() for page in pages)
    assert "alice" not in text
    # What they do see says what happened, only not who.
    assert "forced by a reviewer" in text
    detached.refresh_from_db()
    assert detached.link_explanation.startswith("detached from episode ")
    assert detached.link_explanation.endswith(" by a reviewer")
    assert f"detached from channel {spotify.channel_id} by a reviewer" in text
    detail = anonymous.get(f"/api/links/episode/{old.pk}").json()
    assert detail["explanation"] == "forced by a reviewer"
    assert [r["text"] for r in detail["reasons"]] == ["forced by a reviewer"]

    history = decider.get(f"/api/links/episode/{detached.pk}/history").json()
    assert {e["actor"] for e in history["events"]} >= {name}
    assert [o["actor"] for o in history["overrides"]] == [name]


def test_only_a_persons_decision_loses_its_name():
    assert public_explanation("forced by cli") == "forced by a reviewer"
    assert public_explanation("detached from episode 7 by token:x; y") == (
        "detached from episode 7 by a reviewer"
    )
    matcher = "title 0.88 (+3.6); re-linked from episode 4 (p 0.9100 there)"
    assert public_explanation(matcher) == matcher
    assert public_explanation("") == ""
