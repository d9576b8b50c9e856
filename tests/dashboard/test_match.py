"""The Match review page: the needs_review queue, a link side by side with its reasons,
confirm / reject / force with a reason, the link's history, re-run matching."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from dashboard_stub import StubClient

from podsight.dashboard.client import ApiCallError
from podsight.dashboard.views.match import actor_label

# Real answers of the API on the demo catalog (`podsight demo load --listeners 0`), copied
# from GET /api/links?status=needs_review&entity=episode&page_size=2, the first link's
# detail and history, a channel link's detail, a scored episode link's detail, and the
# answers of a confirm (with the history after it) and a force. Partner lists are cut to
# two records each.
ANSWERS = json.loads(Path(__file__).with_name("match_answers.json").read_text())
QUEUE = ANSWERS["queue"]
FIRST, SECOND = (item["id"] for item in QUEUE["results"])  # episode:3445, episode:3446
FIRST_ID = QUEUE["results"][0]["record"]["id"]
PARTNER_ID = ANSWERS["detail"]["partners"][0]["record_id"]
JOB = {
    "id": 7,
    "step": "match",
    "params": {"full": False},
    "status": "queued",
    "progress": {"label": "", "done": 0, "total": None},
    "summary": "",
    "error": "",
    "created_at": "2026-12-06T13:50:00Z",
    "started_at": None,
    "finished_at": None,
}


def _detail_of(record_id: int) -> dict:
    """The first link's detail as the API gives it for ``record_id`` (same shape)."""
    detail = copy.deepcopy(ANSWERS["detail"])
    detail["id"] = f"episode:{record_id}"
    detail["record"]["record_id"] = record_id
    return detail


class Catalog:
    """The stub's links: a decision takes the link out of the queue, as the API does."""

    def __init__(self) -> None:
        self.decided: set[str] = set()

    def queue(self, params, _json):
        page = copy.deepcopy(QUEUE)
        page["results"] = [i for i in page["results"] if i["id"] not in self.decided]
        return page

    def decide(self, link: str):
        def answer(_params, _json):
            self.decided.add(link)
            return ANSWERS["confirmed"]

        return answer


def _stub(catalog: Catalog | None = None) -> StubClient:
    catalog = catalog or Catalog()
    stub = StubClient(staff=True, username="ops")
    stub.on("GET", "/api/links", catalog.queue)
    stub.on("GET", f"/api/links/episode/{FIRST_ID}", ANSWERS["detail"])
    second = QUEUE["results"][1]["record"]["id"]
    stub.on("GET", f"/api/links/episode/{second}", _detail_of(second))
    stub.on("GET", r"/api/links/episode/\d+/history", ANSWERS["history"])
    stub.on("POST", r"/api/links/episode/\d+/confirm", catalog.decide(FIRST))
    stub.on("POST", r"/api/links/episode/\d+/reject", catalog.decide(FIRST))
    stub.on("POST", "/api/links/force", ANSWERS["forced"])
    stub.on("POST", "/api/jobs", JOB)
    stub.on("GET", r"/api/jobs/\d+", JOB)
    return stub


def _frames(at):
    return [t.value for t in at.table]


def test_the_queue_and_the_first_link_side_by_side_with_its_reasons(run_page):
    stub = _stub()
    at = run_page("match", stub)
    assert at.title[0].value == "Match review"
    assert stub.called("GET", "/api/links") == [({"status": "needs_review", "page_size": 50}, None)]
    queue, side, *_ = _frames(at)
    assert list(queue["link"]) == [FIRST, SECOND]
    assert "youtube: Ask us anything about oceans" in queue["record"].iloc[0]
    assert queue["matched with"].iloc[0] == "rss: Pourquoi l'astronomie compte (+1 more)"
    assert queue["linked at (UTC)"].iloc[0] == "2026-12-06 13:40"
    assert at.selectbox(key="match:selected").value == FIRST
    assert "more on the next page" in at.markdown[0].value

    # Side by side: the record under review, then its partners, field by field.
    assert list(side.columns) == [
        "field",
        "compare",
        f"youtube #{FIRST_ID} (under review)",
        f"rss #{PARTNER_ID} (matched with)",
        f"apple #{ANSWERS['detail']['partners'][1]['record_id']} (matched with)",
    ]
    by_field = side.set_index("field")
    assert by_field.loc["title", f"youtube #{FIRST_ID} (under review)"] == (
        "Ask us anything about oceans"
    )
    assert by_field.loc["title", f"rss #{PARTNER_ID} (matched with)"] == (
        "Pourquoi l'astronomie compte"
    )
    assert by_field.loc["title", "compare"] == "differs"
    assert by_field.loc["channel", "compare"] == "same"
    assert by_field.loc["link status", f"youtube #{FIRST_ID} (under review)"] == "needs_review"
    # Rows in the API's order of fields, after the link's own.
    assert list(by_field.index) == [
        "external id", "url", "link method", "link status", "link confidence",
        *(f.replace("_", " ") for f in ANSWERS["detail"]["fields"]),
    ]  # fmt: skip
    assert "duration s" in by_field.index and "guid" in by_field.index
    # Long addresses wrap (zero-width breaks in the shown text) and still link in full.
    apple = ANSWERS["detail"]["partners"][1]
    url = by_field.loc["url", f"apple #{apple['record_id']} (matched with)"]
    assert url.endswith(f"]({apple['url']})") and "/\u200b" in url

    text = " ".join(m.value for m in at.markdown)
    assert "titles not compared" in text
    assert "**Score: +3.5 bits → p 0.9194**" in text
    assert f"In episode {ANSWERS['detail']['canonical_id']}" in at.caption[1].value
    assert stub.called("GET", f"/api/links/episode/{FIRST_ID}/history")
    assert len(stub.calls) == 3, stub.calls  # queue, detail, history: nothing else on load


def test_scored_reasons_show_each_features_bits_and_a_chart(run_page):
    stub = _stub().on("GET", f"/api/links/episode/{FIRST_ID}", ANSWERS["scored_detail"])
    at = run_page("match", stub)
    text = " ".join(m.value for m in at.markdown)
    assert "- title 0.95: :green[+6.0 bits]" in text
    assert "- descriptions 1.00 alike: :green[+3.0 bits]" in text
    assert at.get("arrow_vega_lite_chart") or at.get("vega_lite_chart")


def test_a_channel_link_compares_episode_counts_and_feeds(run_page):
    detail = ANSWERS["channel_detail"]
    queue = {"results": [], "next_cursor": None}
    channel_item = {
        "id": detail["id"],
        "entity": "channel",
        "record": {"id": detail["record"]["record_id"], "source": detail["record"]["source"],
                   "external_id": detail["record"]["external_id"],
                   "title": detail["record"]["fields"]["title"], "url": detail["record"]["url"]},
        "canonical_id": detail["canonical_id"], "status": detail["status"],
        "method": detail["method"], "confidence": detail["confidence"],
        "explanation": detail["explanation"], "linked_at": detail["linked_at"], "partners": [],
    }  # fmt: skip
    queue["results"] = [channel_item]
    stub = _stub().on("GET", "/api/links", queue)
    stub.on("GET", rf"/api/links/channel/{detail['record']['record_id']}", detail)
    stub.on("GET", r"/api/links/channel/\d+/history", {**ANSWERS["history"], "events": [],
                                                       "overrides": []})  # fmt: skip
    at = run_page("match", stub)
    side = _frames(at)[1].set_index("field")
    assert {"episodes", "first published at", "last published at", "language"} <= set(side.index)
    assert "episodes pair up" in " ".join(m.value for m in at.markdown)
    assert "No link event yet" in at.caption[-1].value


def test_confirm_posts_the_reason_and_the_queue_moves_on(run_page):
    stub = _stub()
    at = run_page("match", stub)
    at.text_input(key=f"match:reason:{FIRST}").input("same episode, schedule lines up")
    at.button(key="match:confirm").click().run()
    assert not at.exception
    assert stub.called("POST", rf"/api/links/episode/{FIRST_ID}/confirm") == [
        ({}, {"reason": "same episode, schedule lines up"})
    ]
    assert at.success[0].value == f"Confirmed {FIRST}."
    # The queue was read again: the confirmed link is gone and the next one is shown.
    # Read once before the click and once after the decision, never a stale time between.
    assert len(stub.called("GET", "/api/links")) == 2
    assert list(_frames(at)[0]["link"]) == [SECOND]
    assert at.selectbox(key="match:selected").value == SECOND


def test_confirm_without_a_reason_sends_an_empty_one(run_page):
    stub = _stub()
    at = run_page("match", stub)
    at.button(key="match:confirm").click().run()
    assert stub.called("POST", rf"/api/links/episode/{FIRST_ID}/confirm") == [({}, {"reason": ""})]


def test_reject_needs_a_reason_and_can_name_one_partner(run_page):
    stub = _stub()
    at = run_page("match", stub)
    at.button(key="match:reject").click().run()
    assert not stub.called("POST", r".*/reject")
    assert "Say why in Reason" in at.warning[0].value

    at.text_input(key=f"match:reason:{FIRST}").input("different guest")
    against = at.selectbox(key=f"match:against:{FIRST}")
    assert against.options[1] == f"rss #{PARTNER_ID}"
    against.select_index(1)
    at.button(key="match:reject").click().run()
    assert stub.called("POST", rf"/api/links/episode/{FIRST_ID}/reject") == [
        ({}, {"reason": "different guest", "other": PARTNER_ID})
    ]
    assert at.success[0].value == f"Rejected {FIRST}."


def test_reject_against_every_partner_sends_no_other(run_page):
    stub = _stub()
    at = run_page("match", stub)
    at.text_input(key=f"match:reason:{FIRST}").input("not this show")
    at.button(key="match:reject").click().run()
    assert stub.called("POST", rf"/api/links/episode/{FIRST_ID}/reject") == [
        ({}, {"reason": "not this show"})
    ]


@pytest.mark.parametrize(
    ("typed", "sent"), [("spotify:4rOoJ6Egrf8K2Iry", "spotify:4rOoJ6Egrf8K2Iry"), ("2883", 2883)]
)
def test_force_posts_both_records_and_the_reason(run_page, typed, sent):
    stub = _stub()
    at = run_page("match", stub)
    at.text_input(key=f"match:other:{FIRST}").input(typed)
    at.button(key="match:force").click().run()
    assert not stub.called("POST", "/api/links/force")  # no reason yet
    assert "say why" in at.warning[0].value
    at.text_input(key=f"match:reason:{FIRST}").input("same talk, re-uploaded")
    at.button(key="match:force").click().run()
    assert stub.called("POST", "/api/links/force") == [
        ({}, {"entity": "episode", "record": FIRST_ID, "other": sent,
              "reason": "same talk, re-uploaded"})
    ]  # fmt: skip
    assert at.success[0].value.startswith(f"Forced {FIRST} with {typed}")


def test_an_action_the_api_refuses_shows_its_message_and_keeps_the_link(run_page):
    refusal = ApiCallError(409, "not_a_match", "episode record 3445 is linked by a strong key")
    stub = _stub().on("POST", r"/api/links/episode/\d+/confirm", refusal)
    at = run_page("match", stub)
    at.button(key="match:confirm").click().run()
    assert not at.exception
    assert "linked by a strong key" in at.error[0].value
    assert at.selectbox(key="match:selected").value == FIRST


def test_history_shows_peoples_decisions_and_the_link_events(run_page):
    stub = _stub().on("GET", r"/api/links/episode/\d+/history", ANSWERS["history_after"])
    at = run_page("match", stub)
    decisions, events = _frames(at)[2:4]
    assert list(decisions["who"]) == ["ops (signed in)"]
    assert list(decisions["decision"]) == ["confirm"]
    assert list(decisions["reason"]) == ["same episode: the schedule lines up"]
    assert list(events["who"]) == ["ops (signed in)", "matcher"]
    assert list(events["explanation"])[0] == "confirmed by a person"


def test_selecting_another_link_reads_its_detail(run_page):
    stub = _stub()
    at = run_page("match", stub)
    at.selectbox(key="match:selected").select(SECOND).run()
    second = QUEUE["results"][1]["record"]["id"]
    assert stub.called("GET", f"/api/links/episode/{second}")
    assert at.subheader[0].value == f"Episode record {second}"


def test_filters_go_to_the_queue_and_paging_sends_the_cursor(run_page):
    stub = _stub()
    at = run_page("match", stub)
    at.selectbox(key="match:entity").select("Episodes").run()
    at.selectbox(key="match:source").select("youtube").run()
    assert stub.called("GET", "/api/links")[-1][0] == {
        "status": "needs_review", "entity": "episode", "source": "youtube", "page_size": 50,
    }  # fmt: skip
    at.button(key="match:next").click().run()
    assert stub.called("GET", "/api/links")[-1][0]["cursor"] == QUEUE["next_cursor"]
    at.button(key="match:first").click().run()
    assert "cursor" not in stub.called("GET", "/api/links")[-1][0]


def test_an_empty_queue_says_so_and_matching_can_be_run_again(run_page):
    stub = _stub().on("GET", "/api/links", {"results": [], "next_cursor": None})
    at = run_page("match", stub)
    assert at.success[0].value == "No link needs review."
    at.checkbox(key="match:full").check().run()
    at.button(key="job-button:match-run").click().run()
    assert stub.called("POST", "/api/jobs") == [({}, {"step": "match", "params": {"full": True}})]


def test_re_run_matching_starts_the_match_step_as_a_job(run_page):
    stub = _stub()
    at = run_page("match", stub)
    at.button(key="job-button:match-run").click().run()
    assert stub.called("POST", "/api/jobs") == [({}, {"step": "match", "params": {"full": False}})]


def test_non_staff_are_told_it_is_for_staff_and_nothing_is_called(run_page):
    stub = StubClient(staff=False, username="ann")
    at = run_page("match", stub)
    assert "for staff" in at.warning[0].value
    assert stub.calls == []


def test_an_unreachable_api_is_a_message_not_a_traceback(run_page):
    stub = StubClient().on("GET", "/api/links", ApiCallError(503, "unavailable", "Down."))
    at = run_page("match", stub)
    assert "Down." in at.error[0].value


def test_actor_labels_name_people_not_token_names():
    assert actor_label("token:session:ops:65831c4e4539") == "ops (signed in)"
    assert actor_label("token:reviewer") == "API token reviewer"
    assert actor_label("matcher") == "matcher"
    assert actor_label("cli") == "cli"


def test_a_history_the_api_refuses_shows_its_message_beside_the_link(run_page):
    refusal = ApiCallError(403, "missing_scope", "This API token lacks the scope links:review.")
    stub = _stub().on("GET", r"/api/links/episode/\d+/history", refusal)
    at = run_page("match", stub)
    assert "lacks the scope links:review" in at.warning[0].value
    assert at.subheader[0].value == f"Episode record {FIRST_ID}"  # the link itself is shown


def test_a_link_gone_since_the_queue_was_read_shows_the_apis_message(run_page):
    gone = ApiCallError(404, "not_found", f"no episode record with id {FIRST_ID}")
    stub = _stub().on("GET", f"/api/links/episode/{FIRST_ID}", gone)
    at = run_page("match", stub)
    assert f"no episode record with id {FIRST_ID}" in at.error[0].value
    assert not at.subheader
