"""The Directory page: search the Podcast Index directory; staff add a show."""

from __future__ import annotations

from dashboard_stub import StubClient

from podsight.dashboard.client import ApiCallError

# The API's answers, in the shape of directory/api.py's serializers (DirectoryPageSerializer,
# DirectoryAddSerializer).
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
ADDED = {
    "podcastindex_id": 920666,
    "title": "History of Rome",
    "url": "https://feeds.example.org/historyofrome.xml",
    "channel": 31,
    "record": 4410,
    "added_to_sources": True,
    "feed": {"status": "new", "error": "", "episodes": 189},
}


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
    assert [b.key for b in at.button if b.label == "Add"] == ["add:920666"]


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


def test_staff_add_posts_to_the_feeds_add_endpoint_and_shows_the_result(run_page):
    stub = _stub().on("POST", r"/api/directory/\d+/add", ADDED)
    at = _search(run_page("directory", stub), "rome")
    at.button(key="add:920666").click().run()
    assert not at.exception
    assert stub.called("POST", "/api/directory/920666/add") == [({}, None)]
    assert "In the catalog as channel 31" in at.success[0].value
    assert "189 episodes" in at.success[0].value
    # The next run knows it is in the catalog: no Add button for it any more.
    at.run()
    assert not [b for b in at.button if b.label == "Add"]


def test_an_add_the_api_refuses_shows_its_message(run_page):
    refusal = ApiCallError(404, "not_found", "No feed 920666 in the imported dump.")
    stub = _stub().on("POST", r"/api/directory/\d+/add", refusal)
    at = _search(run_page("directory", stub), "rome")
    at.button(key="add:920666").click().run()
    assert not at.exception
    assert "No feed 920666 in the imported dump." in at.error[0].value


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
