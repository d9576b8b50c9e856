"""The dashboard in a real browser: Playwright driving Debian's chromium against a live
``podsight serve`` and ``podsight dashboard`` (real subprocesses, free ports) on a demo home.

Signs in through the form as a staff user, opens every page, checks that none shows an
error and that each shows its key data, saves a full-page screenshot of each under
``test-artifacts/`` and records how long each page took to load after sign-in
(``test-artifacts/timings.json``, and the test output; the target is 1 s). Then acts:
confirms a link waiting for review and sees the change through the API; searches the
transcripts and opens a passage. Then signs in as a listener without staff rights, who is
not offered Match review and is refused another listener's recommendations.

"Loaded" is exact, not a sleep: the browser's websocket says when Streamlit's run of the
page finished (``script_finished``), then the page has no running status widget, no stale
element left from the previous run, and every chart drawn.

Needs ``/usr/bin/chromium`` (``apt-get install chromium``; ``playwright install`` cannot
download here): skipped without it locally, a failure under ``CI=true``, where ``.ci/run``
installs it. Not marked ``database``/``django_db``/``clock``: it runs once, in the SQLite
pass of ``make test``.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from podsight.dashboard.views import PAGES, Page
from podsight.dashboard.views import page as page_of
from podsight.sources.podcastindex.dump.sample import write_sample_dump
from support import free_port, user_env, wait_until_serving

pytestmark = pytest.mark.network

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = Path("/usr/bin/chromium")
BIN = Path(sys.executable).parent

# A small demo, for speed (≈45 s to load): 2 shows (77 episodes, 41 with transcripts), one
# channel link left for review, 8 simulated listeners sim4-00001…08 with a history and a
# recommender trained on them.
DEMO = ["--seed", "4", "--shows", "2", "--listeners", "8"]
STAFF = ("e2e-staff", "staff password for the browser test")
LISTENER = ("sim4-00001", "listener password for the browser test")  # has a history
OTHER_LISTENER = "sim4-00002"

LOAD_TARGET_SECONDS = 1.0
# Far above the target: a page that takes longer is stuck, not slow (the machine running
# the suite may be busy; the timings file says how each page did against the target).
LOAD_LIMIT_SECONDS = 20.0


@dataclass(frozen=True)
class Shows:
    """What a page must show on this demo, for one kind of user: ``texts`` in its main
    area, at least ``charts`` charts drawn, and none of the ``not_headings``."""

    texts: tuple[str, ...] = ()
    charts: int = 0
    not_headings: tuple[str, ...] = ()


# Each page's key data on this demo, for staff and for the listener (the page owners'
# notes in COORDINATION.md "e2e checks per page"); a page not listed shows its title.
STAFF_SEES: dict[str, Shows] = {
    "overview": Shows(
        texts=(
            "Channels",
            "Episodes",
            "Serving model NDCG@10",
            "Links needing review",
            "YouTube quota used today",
            "Records by source",
            "Sources: last sync and last error",
        ),
        charts=2,
    ),  # fmt: skip
    "listening": Shows(
        texts=(
            "Live",
            "Active users",
            "Engagement per day",
            "Completion and skips per show",
            "Finished (≥ 90 %)",
        ),
        charts=2,
    ),  # fmt: skip
}
STAFF_SEES |= {
    "match": Shows(
        texts=(
            "1 link to review",
            "Why the matcher linked them",
            "The records, field by field",
            "Confirm link",
            "Reject link",
            "History",
        ),
    ),  # fmt: skip
    "directory": Shows(texts=("Type some words and press Search.",)),
    "catalog": Shows(texts=("Shows", "Episodes", "What is said", "Open a show")),
    "recommendations": Shows(
        texts=("Recommended", "History", "Try it: a new listener", "Model versions"), charts=1
    ),
}
LISTENER_SEES: dict[str, Shows] = {
    "overview": Shows(
        texts=("Channels", "Episodes", "are for staff"), not_headings=("Links needing review",)
    ),
    "recommendations": Shows(
        texts=(
            f"Your listening and what podsight recommends you, {LISTENER[0]}.",
            "Recommended",
            "History",
        ),
    ),  # fmt: skip
    "listening": Shows(
        texts=(f"Your own listening ({LISTENER[0]})", "Your latest events"),
        not_headings=("Live",),
    ),
}


def _chromium_or_skip() -> None:
    if CHROMIUM.exists():
        return
    reason = f"{CHROMIUM} is missing: install Debian's chromium (`apt-get install chromium`)"
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true: {reason}; .ci/run installs it")
    pytest.skip(reason)


# -- the live servers --------------------------------------------------------------------------


def _podsight(args: list[str], env: dict[str, str], timeout: float = 600) -> str:
    done = subprocess.run(
        [BIN / "podsight", *args], env=env, capture_output=True, text=True, timeout=timeout
    )
    said = f"$ podsight {' '.join(args)} → exit {done.returncode}\n{done.stdout}\n{done.stderr}"
    assert done.returncode == 0 and "Traceback" not in said, said
    return done.stdout


def _start(args: list[str], env: dict[str, str], log: Path, ready: str) -> subprocess.Popen:
    with log.open("w") as out:  # a file, not a pipe nobody reads
        process = subprocess.Popen(
            [BIN / "podsight", *args], env=env, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    try:
        wait_until_serving(ready, process, timeout=60)
    except AssertionError as exc:
        _stop(process)
        raise AssertionError(f"podsight {' '.join(args)}: {exc}\n{log.read_text()}") from None
    return process


def _stop(process: subprocess.Popen, log: Path | None = None) -> None:
    """Ctrl-C to the whole group (Streamlit runs in a child of `podsight dashboard`); how
    long it took is added to ``log``."""
    started = time.monotonic()
    try:
        os.killpg(process.pid, signal.SIGINT)
        process.wait(timeout=20)
        said = f"stopped {time.monotonic() - started:.1f} s after Ctrl-C"
    except subprocess.TimeoutExpired:
        said = "still running 20 s after Ctrl-C: killed"
    except ProcessLookupError:
        return
    try:
        os.killpg(process.pid, signal.SIGKILL)  # anything of the group left behind
    except ProcessLookupError:
        pass
    process.wait(timeout=10)
    if log is not None:
        with log.open("a") as out:
            out.write(f"\n[test_browser] {said}\n")


@dataclass
class Live:
    api: str
    dashboard: str
    env: dict[str, str]
    logs: Path
    demo_seconds: float
    token: str = ""  # the staff user's, for reading the API beside the browser

    def get(self, path: str, **params) -> dict:
        """GET on the API as the staff user; the answer's JSON."""
        answer = httpx.get(
            self.api + path, params=params, headers={"Authorization": f"Token {self.token}"},
            timeout=30,
        )  # fmt: skip
        assert answer.status_code == 200, f"GET {path}: {answer.status_code} {answer.text}"
        return answer.json()


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    _chromium_or_skip()  # before the demo load: no minute spent on a test that skips
    root = tmp_path_factory.mktemp("browser")
    env = user_env(root / "home")
    started = time.monotonic()
    _podsight(["demo", "load", *DEMO, "--no-progress"], env)
    demo_seconds = time.monotonic() - started
    # A Podcast Index dump imported, for the Directory page to search.
    dump = write_sample_dump(root / "podcastindex_feeds.db", 300, seed=3)
    _podsight(["import", "podcastindex", str(dump), "--no-progress"], env)
    for (name, password), staff in ((STAFF, True), (LISTENER, False)):
        args = ["users", "create", name] + (["--staff"] if staff else [])
        _podsight(args, {**env, "PODSIGHT_USER_PASSWORD": password}, timeout=60)
    api_port, dashboard_port = free_port(), free_port()
    api = f"http://127.0.0.1:{api_port}"
    dashboard = f"http://127.0.0.1:{dashboard_port}"
    server = _start(["serve", "--port", str(api_port)], env, root / "serve.log", f"{api}/healthz")
    try:
        app = _start(
            ["dashboard", "--port", str(dashboard_port), "--api", api], env,
            root / "dashboard.log", f"{dashboard}/_stcore/health",
        )  # fmt: skip
        try:
            signed = httpx.post(
                f"{api}/api/auth/token", json={"username": STAFF[0], "password": STAFF[1]}
            )
            assert signed.status_code == 201, signed.text
            yield Live(api, dashboard, env, root, demo_seconds, signed.json()["token"])
        finally:
            _stop(app, root / "dashboard.log")
    finally:
        _stop(server, root / "serve.log")
    for log in ("serve.log", "dashboard.log"):  # what the servers said, kept with the shots
        ARTIFACTS.mkdir(exist_ok=True)
        (ARTIFACTS / log).write_text((root / log).read_text("utf-8", "replace"), "utf-8")


# -- the browser -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser(live: Live):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM))
        try:
            yield launched
        finally:
            launched.close()


def _finished_statuses() -> set[int]:
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    status = ForwardMsg.ScriptFinishedStatus
    return {status.Value("FINISHED_SUCCESSFULLY"), status.Value("FINISHED_WITH_COMPILE_ERROR")}


# Settled: nothing running, nothing stale from the previous run, every chart drawn.
_SETTLED_JS = """() => {
  if (document.querySelector('[data-testid="stStatusWidget"]')) return false;
  if (document.querySelector('[data-stale="true"]')) return false;
  if (document.querySelector('[data-testid="stSkeleton"]')) return false;
  for (const chart of document.querySelectorAll('.vega-embed')) {
    if (!chart.querySelector('canvas, svg')) return false;
  }
  return true;
}"""


# The tallest scrolling area: Streamlit's main area scrolls inside the window.
_CONTENT_HEIGHT_JS = """() => Math.max(document.documentElement.scrollHeight,
  ...[...document.querySelectorAll('[data-testid="stMain"], [data-testid="stAppViewContainer"]')]
  .map(e => e.scrollHeight))"""


@dataclass
class Dashboard:
    """One browser tab on the dashboard, with Streamlit's runs counted off its websocket."""

    page: object  # playwright Page
    base: str
    runs: int = 0
    errors: list[str] = field(default_factory=list)
    elsewhere: list[str] = field(default_factory=list)  # requests to any other server

    def __post_init__(self) -> None:
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        finished = _finished_statuses()

        def on_frame(payload) -> None:
            if isinstance(payload, str):
                return
            try:
                message = ForwardMsg.FromString(bytes(payload))
            except Exception as exc:  # noqa: BLE001 - said by the test, not lost in a callback
                self.errors.append(f"undecodable websocket frame: {exc!r}")
                return
            if message.WhichOneof("type") == "script_finished":
                if message.script_finished in finished:
                    self.runs += 1

        def on_request(request) -> None:
            # The browser talks to the dashboard only (the API is called by Streamlit's
            # server); no CDN, nothing fetched from anywhere else.
            # An episode's audio comes from where its feed says: that is the content, not
            # an asset of the page.
            url = request.url
            if request.resource_type == "media":
                return
            if not url.startswith((self.base + "/", "data:", "blob:", "about:")):
                self.elsewhere.append(url)

        self.page.on("websocket", lambda ws: ws.on("framereceived", on_frame))
        self.page.on("pageerror", lambda exc: self.errors.append(f"page error: {exc}"))
        self.page.on("request", on_request)

    def settle(self, runs_before: int, timeout: float = LOAD_LIMIT_SECONDS) -> float:
        """Wait until a run started after ``runs_before`` finished and the page settled;
        seconds since this was called."""
        started = time.monotonic()
        deadline = started + timeout
        while self.runs <= runs_before:  # frames are delivered while Playwright waits
            assert time.monotonic() < deadline, f"no Streamlit run finished in {timeout} s"
            self.page.wait_for_timeout(10)
        left = max(deadline - time.monotonic(), 0.1)
        self.page.wait_for_function(_SETTLED_JS, timeout=left * 1000, polling=20)
        assert not self.errors, self.errors
        assert not self.elsewhere, f"requests to other servers: {self.elsewhere}"
        return time.monotonic() - started

    def act(self, action, timeout: float = LOAD_LIMIT_SECONDS) -> float:
        """Do ``action`` (a click…) and wait until the run it starts has settled; seconds."""
        before = self.runs
        started = time.monotonic()
        action()
        self.settle(before, timeout)
        return time.monotonic() - started

    def sign_in(self, username: str, password: str, path: str = "/") -> None:
        """Sign in through the form, opened at ``path`` (a page's address: it opens next)."""
        before = self.runs
        self.page.goto(self.base + path)
        self.settle(before, timeout=60)  # the first load fetches Streamlit's own scripts
        self.page.get_by_label("Username").fill(username)
        self.page.get_by_label("Password", exact=True).fill(password)
        self.act(lambda: self.page.get_by_role("button", name="Sign in").click(), timeout=60)
        self.page.locator('[data-testid="stSidebarNav"]').wait_for(timeout=10_000)

    def nav_titles(self) -> list[str]:
        links = self.page.locator(
            'a[data-testid="stSidebarNavLink"] [data-testid="stMarkdownContainer"]'
        )
        return [t.strip() for t in links.all_inner_texts()]

    def open(self, page: Page) -> float:
        """Open ``page`` from the sidebar (a new URL would start a new, signed-out session);
        seconds until it settled."""
        link = self.page.locator(f'a[data-testid="stSidebarNavLink"]:has-text("{page.title}")')
        seconds = self.act(lambda: link.first.click())
        path = "/" if page is PAGES[0] else f"/{page.slug}"
        assert self.page.url.split("?")[0] == self.base + path, (page.slug, self.page.url)
        return seconds

    @property
    def main(self):
        return self.page.locator('[data-testid="stMain"]')

    def alerts(self, kind: str) -> list[str]:
        """The texts of the page's ``kind`` alerts (Error, Warning, Info, Success)."""
        return self.main.locator(f'[data-testid="stAlertContent{kind}"]').all_inner_texts()

    def main_text(self) -> str:
        return self.main.inner_text()

    def headings(self) -> list[str]:
        return [t.strip() for t in self.main.locator("h1, h2, h3").all_inner_texts()]

    def assert_no_error(self, where: str) -> None:
        for testid in ("stException", "stAlertContentError"):
            shown = self.page.locator(f'[data-testid="{testid}"]')
            assert shown.count() == 0, f"{where}: {testid}: {shown.all_inner_texts()}"

    def assert_shows(self, page: Page, shows: Shows, who: str) -> None:
        """No error, the page's title, and its key data."""
        where = f"{page.title} ({who})"
        self.assert_no_error(where)
        headings = self.headings()
        # TODO(e2e): exactly page.title once every page has landed (placeholders: the slug)
        assert headings and headings[0].lower() in (page.title.lower(), page.slug), (
            where, headings,
        )  # fmt: skip
        text = self.main_text()
        for expected in shows.texts:
            assert expected in text, f"{where} does not show {expected!r}:\n{text}"
        charts = self.main.locator('[data-testid="stVegaLiteChart"]').count()
        assert charts >= shows.charts, f"{where}: {charts} chart(s), expected {shows.charts}"
        for absent in shows.not_headings:
            assert absent not in headings, f"{where} shows {absent!r}: {headings}"

    def screenshot(self, name: str) -> Path:
        """The whole page: the window made as tall as the page's content for the shot (the
        main area scrolls inside the window, so Playwright's full_page alone would cut it)."""
        ARTIFACTS.mkdir(exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        size = self.page.viewport_size
        height = self.page.evaluate(_CONTENT_HEIGHT_JS)
        self.page.set_viewport_size({"width": size["width"], "height": max(height, size["height"])})
        try:
            self.page.wait_for_function(_SETTLED_JS, timeout=10_000)  # charts redrawn at the size
            self.page.screenshot(path=str(path), full_page=True)
        finally:
            self.page.set_viewport_size(size)
        return path


@pytest.fixture
def tab(browser, live: Live) -> Iterator[Dashboard]:
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    try:
        yield Dashboard(context.new_page(), live.dashboard)
    finally:
        context.close()


def _report(capsys: pytest.CaptureFixture, line: str) -> None:
    """A line in the test output, also under -q and when the test passes."""
    with capsys.disabled():
        print(f"\n{line}")


# -- the tests ---------------------------------------------------------------------------------


def test_staff_opens_every_page(tab: Dashboard, live: Live, capsys: pytest.CaptureFixture):
    tab.sign_in(*STAFF)
    assert tab.nav_titles() == [p.title for p in PAGES], tab.nav_titles()
    timings: dict[str, float] = {}
    for page in (*PAGES[1:], PAGES[0]):  # Overview, the landing page, opened again last
        timings[page.slug] = round(tab.open(page), 3)
        tab.assert_shows(page, STAFF_SEES.get(page.slug, Shows()), "staff")
        tab.screenshot(f"staff-{page.slug}")
    ARTIFACTS.mkdir(exist_ok=True)
    slowest = max(timings, key=timings.get)
    (ARTIFACTS / "timings.json").write_text(
        json.dumps(
            {"unit": "seconds from the sidebar click until the page settled (signed in, staff)",
             "target": LOAD_TARGET_SECONDS, "pages": timings, "slowest": slowest,
             "demo_load": [*DEMO, round(live.demo_seconds, 1)]},
            indent=2,
        ) + "\n", "utf-8",
    )  # fmt: skip
    _report(
        capsys,
        "page load after sign-in (s): "
        + ", ".join(f"{slug} {s:.2f}" for slug, s in timings.items())
        + f"; slowest {slowest} {timings[slowest]:.2f} (target {LOAD_TARGET_SECONDS:.0f}); "
        f"demo load {live.demo_seconds:.0f} s",
    )
    assert timings[slowest] < LOAD_LIMIT_SECONDS, timings


def test_listener_without_staff_rights(tab: Dashboard, live: Live):
    tab.sign_in(*LISTENER)
    offered = tab.nav_titles()
    assert offered == [p.title for p in PAGES if not p.staff], offered  # no Match review
    sidebar = tab.page.locator('[data-testid="stSidebar"]').inner_text()
    assert re.search(rf"Signed in as\s+{LISTENER[0]}\s", sidebar), sidebar
    assert "(staff)" not in sidebar, sidebar
    for page in (*PAGES[1:], PAGES[0]):
        if page.staff:
            continue
        tab.open(page)
        tab.assert_shows(page, LISTENER_SEES.get(page.slug, Shows()), LISTENER[0])
        tab.screenshot(f"listener-{page.slug}")


def test_staff_confirms_a_link_and_the_api_sees_it(tab: Dashboard, live: Live):
    waiting = live.get("/api/links", status="needs_review")["results"]
    assert waiting, "the demo left no link for review: pick another --seed for DEMO"
    link = waiting[0]["id"]  # e.g. "channel:17", the one the page selects first
    tab.sign_in(*STAFF)
    tab.open(page_of("match"))
    tab.assert_no_error("Match review")
    assert link in tab.main_text(), tab.main_text()
    reason = tab.main.get_by_label("Reason", exact=True)
    reason.fill("checked in the browser test")
    tab.act(lambda: reason.press("Enter"))  # a text input outside a form commits so (a run)
    tab.act(lambda: tab.main.get_by_role("button", name="Confirm link").click())
    tab.assert_no_error("Match review, confirmed")
    assert any(f"Confirmed {link}" in said for said in tab.alerts("Success")), tab.main_text()
    tab.screenshot("staff-match-confirmed")
    # Through the API: no longer waiting, and confirmed by a person.
    still = [x["id"] for x in live.get("/api/links", status="needs_review")["results"]]
    assert link not in still, still
    confirmed = [x["id"] for x in live.get("/api/links", status="confirmed")["results"]]
    assert link in confirmed, confirmed


# Words of an ad read: search ranks those passages below content ones.
_AD_READ = re.compile(r"brought to you|sponsor|promo|code|percent|%", re.I)


def _said_in_an_episode(live: Live) -> str:
    """A sentence spoken in one of the demo's transcripts (read through the API)."""
    for episode in live.get("/api/episodes", has_transcript="true", page_size=10)["results"]:
        segments = live.get(f"/api/episodes/{episode['id']}/transcript")["results"]
        sentences = [
            s["text"] for s in segments
            if len(s["text"].split()) >= 6 and not _AD_READ.search(s["text"])
        ]  # fmt: skip
        if sentences:
            return sentences[len(sentences) // 2]
    raise AssertionError("no transcript of the demo has a sentence of six words")


def test_search_what_is_said_and_open_a_passage(tab: Dashboard, live: Live):
    said = _said_in_an_episode(live)
    tab.sign_in(*STAFF)
    tab.open(page_of("content"))
    tab.page.get_by_label("Search what is said").fill(said)
    tab.act(lambda: tab.main.get_by_role("button", name="Search", exact=True).click())
    tab.assert_no_error("Content, searched")
    assert "q=" in tab.page.url, tab.page.url
    moments = tab.main.locator("[class*='st-key-content-moment-'] button")
    assert moments.count() >= 1, f"no passage found for {said!r}:\n{tab.main_text()}"
    assert re.search(r"Open at \d+:\d\d", moments.first.inner_text()), moments.first.inner_text()
    tab.screenshot("staff-content-results")
    tab.act(lambda: moments.first.click())
    tab.assert_no_error("Content, a passage opened")
    assert re.search(r"[?&]episode=\d+", tab.page.url) and "t=" in tab.page.url, tab.page.url
    moment = tab.main.locator(".st-key-content-moment")  # the highlighted segment
    assert moment.count() == 1 and moment.inner_text().strip(), tab.main_text()
    assert tab.main.locator("audio").count() == 1
    headings = tab.headings()
    for expected in ("Transcript", "Similar episodes"):
        assert expected in headings, headings
    tab.screenshot("staff-content-passage")


def _directory_word(live: Live) -> tuple[str, str]:
    """A word of a feed title in the imported dump, and the title the API ranks first for it."""
    for word in ("culture", "history", "music", "news", "science", "story", "talk", "the"):
        found = live.get("/api/directory", q=word, page_size=5)["results"]
        if found:
            return word, found[0]["title"]
    raise AssertionError("the imported sample dump answers none of the words tried")


@pytest.mark.parametrize("who", ["staff", "listener"])
def test_directory_search(tab: Dashboard, live: Live, who: str):
    word, first = _directory_word(live)
    tab.sign_in(*(STAFF if who == "staff" else LISTENER))
    tab.open(page_of("directory"))
    tab.page.get_by_label("Search", exact=True).fill(word)
    tab.act(lambda: tab.main.get_by_role("button", name="Search", exact=True).click())
    tab.assert_no_error(f"Directory, searched ({who})")
    assert first in tab.main_text(), f"{first!r} not listed for {word!r}:\n{tab.main_text()}"
    adds = tab.main.get_by_role("button", name="Add", exact=True).count()
    assert (adds > 0) if who == "staff" else (adds == 0), f"{who}: {adds} Add button(s)"
    tab.screenshot(f"{who}-directory-results")


def test_listener_is_refused_another_listeners_recommendations(tab: Dashboard, live: Live):
    # A kept link to another listener's page: the API refuses, the page says why.
    tab.sign_in(*LISTENER, path=f"/recommendations?user={OTHER_LISTENER}")
    assert tab.page.url.startswith(f"{tab.base}/recommendations"), tab.page.url
    tab.assert_no_error("Recommendations of another listener")
    warnings = tab.alerts("Warning")
    assert any("staff" in said for said in warnings), tab.main_text()
    assert (
        OTHER_LISTENER
        not in tab.main.locator('[data-testid="stCaptionContainer"]').all_inner_texts()
    )
    tab.screenshot("listener-recommendations-refused")
    # Match review is not offered, and its address does not open it either.
    tab.sign_in(*LISTENER, path="/match")
    assert "Match review" not in tab.headings(), tab.headings()


def test_catalog_opens_a_show(tab: Dashboard, live: Live):
    channels = live.get("/api/channels", page_size=10)["results"]
    show = max(channels, key=lambda c: len(c["sources"]))  # the one with the most records
    tab.sign_in(*STAFF)
    tab.open(page_of("catalog"))
    tab.main.get_by_label("Open a show").click()
    option = tab.page.get_by_role("option", name=f"{show['title']} (#{show['id']})")
    tab.act(lambda: option.click())
    tab.act(lambda: tab.main.get_by_role("button", name="Open show").click())
    tab.assert_no_error("Catalog, a show")
    assert re.search(rf"[?&]channel={show['id']}\b", tab.page.url), tab.page.url
    assert tab.headings()[0] == show["title"], tab.headings()
    text = tab.main_text()
    for expected in ("Source records", "Field sources", "Metrics", "Episodes",
                     "Why each record is linked"):  # fmt: skip
        assert expected in text, f"the show's page does not show {expected!r}:\n{text}"
    tab.screenshot("staff-catalog-show")
    tab.act(lambda: tab.main.get_by_role("tab", name="Metrics").click())
    tab.assert_no_error("Catalog, a show's metrics")
    charts = tab.main.locator('[data-testid="stVegaLiteChart"]').count()
    assert charts >= 1, tab.main_text()
    tab.screenshot("staff-catalog-show-metrics")
