"""The Directory page: search the Podcast Index directory; staff add a show."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from dashboard_stub import StubClient

from podsight.dashboard.client import ApiCallError
from podsight.directory.service import AddResult
from podsight.jobs.api import JobSerializer
from podsight.jobs.models import Job
from podsight.jobs.services import summarize

# The API's answers, in the shape of directory/api.py's DirectoryPageSerializer and of
# jobs/api.py's JobSerializer for the directory.add job (its summary and report made by
# the jobs service from the step's real AddResult).
FEED = {
    "podcastindex_id": 920666,
    "title": "History of Rome",
    "author": "Mike Duncan",
    "url": "https://feeds.example.org/historyofrome.xml",
    "language": "en",
    "categories": ["History", "Education"],
    "episode_count": 189,
    "popularity": 21,
    "dead": False,
    "channel": None,
    "score": 42.5,
}
IN_CATALOG = {**FEED, "podcastindex_id": 75075, "title": "Rome in Ruins", "channel": 12}
NEXT = "http://127.0.0.1:8000/api/directory?q=rome&page_size=25&cursor=abc.DEF"
PAGE = {"results": [FEED, IN_CATALOG], "next": NEXT, "page_size": 25}
LAST_PAGE = {"results": [{**FEED, "podcastindex_id": 1, "title": "Roman Roads"}], "next": None,
             "page_size": 25}  # fmt: skip
ADDED = AddResult(
    podcastindex_id=920666,
    title="History of Rome",
    feed_url="https://feeds.example.org/historyofrome.xml",
    record_id=4410,
    channel=31,
    sources_file=Path("/srv/podsight/sources.toml"),
    added_to_sources=True,
    feed_status="new",
    episodes=189,
)
FEED_FAILED = replace(ADDED, feed_status="failed", feed_error="HTTP 404 Not Found", episodes=0)
START = {"step": "directory.add", "params": {"podcastindex_id": 920666}}


def job(status: str = "queued", result: AddResult | None = None, **fields: Any) -> dict:
    """The directory.add job as ``POST /api/jobs`` / ``GET /api/jobs/{id}`` answer it."""
    if result is not None:
        summary, failure = summarize("directory.add", result)
        fields |= {"summary": summary, "report": result.as_dict(), "error": failure or ""}
    row = Job(id=7, step="directory.add", params=START["params"], status=status,
              created_by="ops", created_at=datetime(2026, 12, 6, 15, 0, tzinfo=UTC),
              **fields)  # fmt: skip
    return JobSerializer(row).data


def _search(at, q: str, language: str = "", category: str = ""):
    inputs = {t.label: t for t in at.text_input}
    inputs["Search"].input(q)
    inputs["Language"].input(language)
    inputs["Category"].input(category)
    [b for b in at.button if b.label == "Search"][0].click()
    return at.run()


def _stub(staff: bool = True) -> StubClient:
    stub = StubClient(staff=staff, username="ops" if staff else "ann")

    def answer(params, _json):
        return LAST_PAGE if params.get("cursor") == "abc.DEF" else PAGE

    return stub.on("GET", "/api/directory", answer)


def test_before_a_search_it_asks_for_words_and_calls_nothing(run_page):
    stub = _stub()
    at = run_page("directory", stub)
    assert at.title[0].value == "Directory"
    assert stub.calls == []
    assert "Type some words" in at.caption[-1].value


def test_search_sends_the_words_and_filters_and_lists_feeds(run_page):
    stub = _stub()
    at = _search(run_page("directory", stub), " rome ", "en", "History")
    assert stub.called("GET", "/api/directory") == [
        ({"q": "rome", "language": "en", "category": "History", "page_size": 25}, None)
    ]
    text = " ".join(m.value for m in at.markdown)
    assert "**History of Rome** — Mike Duncan" in text
    assert "In the catalog" in text and "channel 12" in text
    captions = " ".join(c.value for c in at.caption)
    assert "189 episodes" in captions and "popularity 21/30" in captions
    # One Add button: the feed already in the catalog has none.
    assert [b.key for b in at.button if b.label == "Add"] == ["job-button:directory-add:920666"]


def test_empty_filters_are_left_out_and_next_page_sends_the_cursor(run_page):
    stub = _stub()
    at = _search(run_page("directory", stub), "rome")
    assert stub.called("GET", "/api/directory")[0][0] == {"q": "rome", "page_size": 25}
    at.button(key="directory:next").click().run()
    assert stub.called("GET", "/api/directory")[-1][0] == {
        "q": "rome",
        "page_size": 25,
        "cursor": "abc.DEF",
    }
    assert "**Roman Roads**" in " ".join(m.value for m in at.markdown)
    assert not [b for b in at.button if b.key == "directory:next"]
    at.button(key="directory:first").click().run()
    assert "cursor" not in stub.called("GET", "/api/directory")[-1][0]


def _in_catalog(stub: StubClient, channel: int = 31) -> None:
    """The directory's answers once the job has put the feed in the catalog."""
    page = {**PAGE, "results": [{**FEED, "channel": channel}, IN_CATALOG]}
    stub.on("GET", "/api/directory", page)


def test_staff_add_starts_the_directory_add_job_and_follows_it_without_waiting(run_page):
    stub = _stub().on("POST", "/api/jobs", job("queued"))
    stub.on("GET", "/api/jobs/7", job("running", progress_label="reading the feed",
                                      progress_done=40, progress_total=189))  # fmt: skip
    at = _search(run_page("directory", stub), "rome")
    at.button(key="job-button:directory-add:920666").click().run()
    assert not at.exception
    # Started as a job, never the synchronous add endpoint.
    assert stub.called("POST", "/api/jobs") == [({}, START)]
    assert not stub.called("POST", r"/api/directory/.*")
    assert [p.proto.text for p in at.get("progress")] == ["reading the feed: 40 of 189"]

    stub.on("GET", "/api/jobs/7", job("succeeded", ADDED, progress_label="reading the feed",
                                      progress_done=189, progress_total=189))  # fmt: skip
    _in_catalog(stub)
    at.run()
    assert not at.exception
    assert [s.value for s in at.success] == [
        "History of Rome: added to the sources file; its feed new, 189 episodes"
    ]
    assert "channel 31" in " ".join(m.value for m in at.markdown)
    # In the catalog now: its button stays only to keep the outcome in view, disabled.
    [added] = [b for b in at.button if b.key == "job-button:directory-add:920666"]
    assert added.label == "Added" and added.disabled
    assert not [b for b in at.button if b.label == "Add"]
    assert len(stub.called("POST", "/api/jobs")) == 1


def test_a_feed_that_fails_to_read_shows_the_jobs_error(run_page):
    stub = _stub().on("POST", "/api/jobs", job("queued"))
    stub.on("GET", "/api/jobs/7", job("failed", FEED_FAILED))
    at = _search(run_page("directory", stub), "rome")
    at.button(key="job-button:directory-add:920666").click().run()
    assert len(at.error) == 1
    _in_catalog(stub)  # the channel exists, only its feed failed: the error stays in view
    at.run()
    assert not at.exception
    assert [e.value for e in at.error] == [
        "directory.add failed: History of Rome was added, but its feed failed: HTTP 404 Not Found"
    ]


def test_an_add_the_api_refuses_shows_its_message(run_page):
    refusal = ApiCallError(400, "invalid", "The request is not valid.",
                           details={"params.podcastindex_id": ["must be at least 1"]})  # fmt: skip
    stub = _stub().on("POST", "/api/jobs", refusal)
    at = _search(run_page("directory", stub), "rome")
    at.button(key="job-button:directory-add:920666").click().run()
    assert not at.exception
    assert [e.value for e in at.error] == ["The request is not valid. (400 invalid)"]
    assert not stub.called("GET", r"/api/jobs/.*")


def test_an_add_while_another_runs_follows_that_job(run_page):
    running = ApiCallError(409, "job_running", "a directory.add job is running (job 7)",
                           details={"job": 7})  # fmt: skip
    stub = _stub().on("POST", "/api/jobs", running)
    stub.on("GET", "/api/jobs/7", job("running"))
    at = _search(run_page("directory", stub), "rome")
    at.button(key="job-button:directory-add:920666").click().run()
    assert not at.exception and not at.error
    assert "already running" in at.info[0].value
    assert [p.proto.text for p in at.get("progress")] == ["directory.add: running…"]


def test_non_staff_can_search_but_get_no_add_button(run_page):
    stub = _stub(staff=False)
    at = _search(run_page("directory", stub), "rome")
    assert "for staff" in at.caption[0].value
    assert stub.called("GET", "/api/directory")
    assert not [b for b in at.button if b.label == "Add"]
    assert not stub.called("POST", r".*")


def test_no_dump_imported_says_what_to_run_not_an_error(run_page):
    message = (
        "no Podcast Index dump has been imported: run `podsight import podcastindex FILE` "
        "with the Podcast Index dump first"
    )
    stub = StubClient().on("GET", "/api/directory", ApiCallError(503, "directory_unavailable",
                                                                 message))  # fmt: skip
    at = _search(run_page("directory", stub), "rome")
    assert not at.error
    assert "podsight import podcastindex" in at.info[0].value


def test_no_results_say_so(run_page):
    stub = StubClient().on("GET", "/api/directory", {"results": [], "next": None, "page_size": 25})
    at = _search(run_page("directory", stub), "zzzz")
    assert "No feed in the directory matches" in at.info[0].value
