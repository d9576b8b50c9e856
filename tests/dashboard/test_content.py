"""The Content page against StubClient: the search (its parameters, results with passage
buttons that open the moment), the episode page (transcript at the moment, chapters,
keywords, topics, sponsors, similar episodes) and its empty states.

The stub answers (content_answers.py) are the real endpoints' answers on the demo data,
shortened: the shapes are the API's."""

from __future__ import annotations

import copy

import pytest
from content_answers import ANALYSIS, CHANNELS, EPISODE, SEARCH, SIMILAR, TRANSCRIPT
from dashboard_stub import StubClient
from streamlit.testing.v1 import AppTest

from podsight.dashboard.client import ApiCallError
from podsight.dashboard.views.content import clock


def _page_script() -> None:
    import streamlit as st

    from podsight.dashboard.views import page

    page("content").module.render(st.session_state["podsight_client"])


def _run(client: StubClient, **query: str) -> AppTest:
    at = AppTest.from_function(_page_script, default_timeout=10)
    at.session_state["podsight_client"] = client
    for name, value in query.items():
        at.query_params[name] = value
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _client(staff: bool = True, **answers) -> StubClient:
    client = StubClient(staff=staff)
    client.on("GET", "/api/channels", answers.get("channels", CHANNELS))
    client.on("GET", "/api/search", answers.get("search", SEARCH))
    client.on("GET", rf"/api/episodes/{EPISODE}/analysis", answers.get("analysis", ANALYSIS))
    client.on("GET", rf"/api/episodes/{EPISODE}/transcript", answers.get("transcript", TRANSCRIPT))
    client.on("GET", rf"/api/episodes/{EPISODE}/similar", answers.get("similar", SIMILAR))
    return client


def _text(at: AppTest) -> str:
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption]
    parts += [i.value for i in at.info] + [b.label for b in at.button]
    return "\n".join(parts)


def test_clock():
    assert [clock(None), clock(0), clock(75.9), clock(3725)] == ["", "0:00", "1:15", "1:02:05"]


# --- search ----------------------------------------------------------------------------------

QUERY = "every clue is on the page before the reveal"
MOMENT = 2534  # the first result's best passage starts at 2534.83 s
TRANSCRIPT_PATH = rf"/api/episodes/{EPISODE}/transcript"


def test_without_a_query_it_asks_for_one_and_searches_nothing():
    client = _client()
    at = _run(client)
    assert at.title[0].value == "Content"
    assert "press **Search**" in at.info[0].value
    assert client.called("GET", "/api/search") == []
    # The show filter lists the catalog's shows by title.
    assert client.called("GET", "/api/channels") == [
        ({"ordering": "title", "page_size": 200}, None)
    ]
    assert at.selectbox(key="content-channel").options == [
        "Every show", "All About Burnout", "Alles über Taktik",
    ]  # fmt: skip


def test_the_form_puts_the_search_in_the_url_and_calls_the_api_with_its_filters():
    client = _client()
    at = _run(client)
    at.text_input(key="content-q").input(QUERY)
    at.selectbox(key="content-channel").select(2)
    at.text_input(key="content-lang").input("de")
    at.date_input(key="content-after").set_value("2026-01-31")
    at.number_input(key="content-limit").set_value(5)
    at.button[0].click().run()  # the form's submit
    assert not at.exception, [e.value for e in at.exception]
    assert dict(at.query_params) == {
        "q": QUERY, "channel": "2", "language": "de",
        "published_after": "2026-01-31T00:00:00Z", "limit": "5",
    }  # fmt: skip
    assert client.called("GET", "/api/search")[-1] == (
        {
            "q": QUERY, "channel": 2, "language": "de",
            "published_after": "2026-01-31T00:00:00Z", "limit": 5,
        },
        None,
    )  # fmt: skip
    # The URL alone gives the same search (a kept or shared link).
    again = _client()
    _run(again, **dict(at.query_params))
    assert again.called("GET", "/api/search") == client.called("GET", "/api/search")[-1:]


def test_a_search_url_shows_episodes_with_their_passages_and_moment_buttons():
    client = _client()
    at = _run(client, q=QUERY)
    assert client.called("GET", "/api/search") == [({"q": QUERY}, None)]
    text = _text(at)
    assert f"2 episodes for {QUERY!r} (hybrid search over 1,966 passages)" in text
    assert r"**E58 \| Literary fiction\: what nobody tells you**" in text
    assert at.button(key=f"content-moment-{EPISODE}-3").label == "Open at 42:14"
    assert r"The best crime novels play fair\: every clue is on the page before the reveal" in text
    # The ad read is marked, the notes passage says so, and Markdown in text stays text.
    assert at.button(key=f"content-moment-{EPISODE}-0").label == "Open at 0:04"
    assert r"ad read\: Brightmug" in text
    assert at.button(key="content-moment-655-0").label == "Open (no time)"
    assert "from the show notes" in text
    assert r"This week\: \$8 of \*sponsorware\*" in text
    link = SEARCH["results"][0]["passages"][0]["link"]
    assert link.endswith("#t=2534") and f"[audio]({link})" in text


def test_a_passage_opens_the_episode_at_its_moment():
    client = _client()
    at = _run(client, q=QUERY)
    at.button(key=f"content-moment-{EPISODE}-3").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert dict(at.query_params) == {"q": QUERY, "episode": str(EPISODE), "t": str(MOMENT)}
    # The transcript is asked from a little before the moment.
    assert client.called("GET", TRANSCRIPT_PATH) == [({"at": MOMENT - 20, "page_size": 100}, None)]
    assert at.title[0].value == ANALYSIS["title"]
    # Back to the same search.
    at.button(key="content-back").click().run()
    assert dict(at.query_params) == {"q": QUERY}
    assert at.title[0].value == "Content"


def test_nothing_indexed_says_what_to_run():
    empty = {"query": "x", "method": "hybrid", "results": [], "passages_indexed": 0, "index": None}
    at = _run(_client(search=empty), q="x")
    assert "`podsight content analyze`" in at.info[0].value


def test_no_match_says_so():
    none = {"query": "zzz", "method": "hybrid", "results": [], "passages_indexed": 1966,
            "index": "exact"}  # fmt: skip
    at = _run(_client(search=none), q="zzz")
    assert "No episode matches 'zzz' among 1,966 passages" in at.info[0].value


def test_a_search_error_is_shown_not_raised():
    client = _client()
    client.on("GET", "/api/search", ApiCallError(503, "unavailable", "The index is being built."))
    at = _run(client, q="x")
    assert "The index is being built." in at.error[0].value


# --- the episode page -----------------------------------------------------------------------


def test_the_episode_page_at_a_moment():
    client = _client()
    at = _run(client, episode=str(EPISODE), t=str(MOMENT))
    assert client.called("GET", rf"/api/episodes/{EPISODE}/analysis") == [({}, None)]
    assert client.called("GET", TRANSCRIPT_PATH) == [({"at": MOMENT - 20, "page_size": 100}, None)]
    assert client.called("GET", rf"/api/episodes/{EPISODE}/similar") == [({"k": 8}, None)]
    # The audio plays from the moment; a link to the file at that time too.
    audio = at.get("audio")[0].proto
    enclosure = ANALYSIS["enclosure_url"]
    assert audio.url == enclosure and audio.start_time == MOMENT
    text = _text(at)
    assert f"[the audio file at 42:14]({enclosure}#t={MOMENT})" in text
    # The transcript: the page's place, and the segment spoken at the moment highlighted
    # (it starts at 2534.83 s, within the moment's whole second).
    assert "Segments 11–14 of 22 (rss, vtt, version 1)" in text
    highlighted = [m.value for m in at.markdown if m.value.startswith(":orange-background[")]
    assert highlighted == [
        r":orange-background[`42:14` **Daniel Murphy:** Now for a different side of the "
        r"story\.]"
    ]
    assert r"`25:25` **Daniel Murphy:** And we're back\." in text
    # Chapters (each a button to its start), keywords, topics, sponsors, similar.
    assert "4 chapters, from the feed" in text
    assert at.button(key="content-chapter-2").label == "42:14 Fair clues"
    assert "**Keywords:** literary fiction, story, side, play fair, set in leeds" in text
    assert "**Topics:** Books (Arts), Arts" in text
    sponsors = at.dataframe[0].value
    assert list(sponsors["sponsor"]) == ["Brightmug", "Brightmug"]
    assert list(sponsors["code"]) == ["THE10", "THE10"]
    assert list(sponsors["from"]) == ["0:04", "24:36"] and list(sponsors["to"]) == ["0:30", "25:26"]
    assert at.button(key="content-similar-712").label == "E59 | The future of literary fiction"
    assert any("0.99 similar, later" in c.value for c in at.caption)


def test_a_chapter_and_a_similar_episode_are_moments_too():
    client = _client()
    at = _run(client, episode=str(EPISODE))
    # Without a moment: from the first segment, nothing highlighted, no `at`.
    assert client.called("GET", TRANSCRIPT_PATH) == [({"page_size": 100}, None)]
    assert not [m for m in at.markdown if m.value.startswith(":orange-background[")]
    at.button(key="content-chapter-2").click().run()
    assert at.query_params["t"] == str(MOMENT)
    assert client.called("GET", TRANSCRIPT_PATH)[-1] == (
        {"at": MOMENT - 20, "page_size": 100},
        None,
    )
    at.button(key="content-similar-712").click().run()
    assert at.query_params["episode"] == "712" and "t" not in at.query_params


def test_transcript_pages_later_and_from_the_start():
    client = _client()
    at = _run(client, episode=str(EPISODE), t=str(MOMENT))
    at.button(key="content-transcript-next").click().run()
    cursor = "eyJlIjo3MTMsInYiOjEsInMiOjE0fQ:1xaCcw:2eKjoL_FQbrPZwhqBu3nd6uqOH7-2RTogd2RJo8faT8"
    assert client.called("GET", TRANSCRIPT_PATH)[-1] == ({"cursor": cursor, "page_size": 100}, None)
    at.button(key="content-transcript-start").click().run()
    assert client.called("GET", TRANSCRIPT_PATH)[-1] == ({"page_size": 100}, None)


@pytest.mark.parametrize(
    ("status", "error", "says"),
    [
        ("pending", "", "`podsight content transcripts`"),
        ("none", "", "`podsight content transcripts --asr`"),
        ("error", "HTTP 404 at http://x", "HTTP 404 at http://x"),
    ],
)
def test_no_transcript_says_why_and_asks_for_none(status, error, says):
    analysis = copy.deepcopy(ANALYSIS)
    analysis["transcript"] = {
        "status": status, "source": "", "language": "", "format": "", "version": 0,
        "segments": 0, "duration_s": None, "error": error, "checked_at": None,
    }  # fmt: skip
    client = _client(analysis=analysis)
    at = _run(client, episode=str(EPISODE))
    assert any(says in i.value for i in at.info), [i.value for i in at.info]
    assert client.called("GET", TRANSCRIPT_PATH) == []


def test_not_analysed_yet_says_which_command_and_staff_can_start_it():
    analysis = copy.deepcopy(ANALYSIS)
    analysis.update(keywords=[], topics=[], chapters=[], chapters_source="", sponsors=[],
                  analysis=None)  # fmt: skip
    client = _client(analysis=analysis)
    at = _run(client, episode=str(EPISODE))
    assert any("`podsight content analyze`" in i.value for i in at.info)
    assert client.called("GET", rf"/api/episodes/{EPISODE}/similar") == []
    button = at.button(key=f"job-button:content-analyze-{EPISODE}")
    assert button.label == "Analyse this episode"
    client.on("POST", "/api/jobs", {"id": 3, "step": "content.analyze", "status": "queued"})
    client.on(
        "GET",
        "/api/jobs/3",
        {
            "id": 3,
            "step": "content.analyze",
            "status": "queued",
            "progress": {"label": "", "done": 0, "total": None},
        },
    )
    button.click().run()
    assert client.called("POST", "/api/jobs") == [
        ({}, {"step": "content.analyze", "params": {"episode_ids": [EPISODE]}})
    ]
    # Not staff: the command, no button.
    at = _run(_client(staff=False, analysis=analysis), episode=str(EPISODE))
    assert not [b for b in at.button if b.key == f"job-button:content-analyze-{EPISODE}"]


def test_an_unknown_episode_shows_the_apis_message():
    client = _client()
    client.on(
        "GET",
        r"/api/episodes/999/analysis",
        ApiCallError(404, "not_found", "No episode with id 999."),
    )
    at = _run(client, episode="999")
    assert "No episode with id 999." in at.error[0].value
    assert at.button(key="content-back")


def test_a_hand_edited_url_falls_back_to_the_search():
    at = _run(_client(), episode="abc", t="x")
    assert at.title[0].value == "Content"
