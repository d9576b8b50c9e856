"""`make run`'s search, over real sockets: `podsight demo load` fetches the demo episodes'
transcripts from the demo server and analyses them; `podsight serve` then answers
/api/search with passages from the demo shows, in English and in the other languages,
and /api/episodes/{id}/similar.

Real CLI subprocesses on a fresh PODSIGHT_HOME with the default SQLite database. Nine
shows: the smallest demo world whose well-formed feeds carry transcripts in four
languages (English, French, German, Swedish).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from podsight.demo import MALFORMED_BREAKAGES, build_world
from podsight.demo.documents import episode_script
from support import free_port, wait_until_serving

BIN = Path(sys.executable).parent
SHOWS = 9


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory):
    home = tmp_path_factory.mktemp("home")
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "PODSIGHT_FEEDS")}
    env["PODSIGHT_HOME"] = str(home)
    command = [BIN / "podsight", "demo", "load", "--shows", str(SHOWS), "--no-apis",
               "--listeners", "0", "--no-progress"]  # fmt: skip
    first = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    assert first.returncode == 0, first.stdout + first.stderr
    again = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    assert again.returncode == 0, again.stdout + again.stderr
    port = free_port()
    server = subprocess.Popen(
        [BIN / "podsight", "serve", "--port", str(port)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        base = f"http://127.0.0.1:{port}"
        wait_until_serving(f"{base}/healthz", server, timeout=30)
        yield base, first.stdout, again.stdout
    finally:
        server.terminate()
        server.wait(timeout=10)


def _episodes_with_transcripts(language: str):
    world = build_world(shows=SHOWS)
    for show in world.shows:
        if show.language == language and not MALFORMED_BREAKAGES & set(show.breakage):
            for ep in show.episodes:
                if ep.transcripts:
                    yield world, show, ep


def test_load_fetches_the_transcripts_and_a_second_load_revalidates(served) -> None:
    _base, first, again = served
    # The pipeline's table: content.transcripts' one-line summary.
    stored = re.search(r"(\d+) episodes: (\d+) transcripts stored, .*, 0 failed", first)
    assert stored, first
    # Every linked transcript of the well-formed feeds (a truncated one adds its first items).
    linked = sum(1 for lang in ("en", "fr", "de", "sv") for _ in _episodes_with_transcripts(lang))
    assert int(stored[2]) >= linked, first
    # Nothing changed. When the demo server had the same address both times (its stable
    # port was free: other jobs on the machine may hold it), the links are the same and
    # it answers the second load's conditional requests with 304s.
    assert f"0 transcripts stored, {stored[2]} unchanged (" in again, again
    served_on = [re.search(r"chapters served on (\S+)", out)[1] for out in (first, again)]
    if served_on[0] == served_on[1]:
        assert f"{stored[2]} unchanged ({stored[2]} not modified)" in again, again
    assert "content.analyze" in first and "episodes analysed" in first, first


@pytest.mark.parametrize("language", ["en", "fr", "de", "sv"])
def test_search_answers_with_passages_of_the_demo_shows(served, language: str) -> None:
    base = served[0]
    world, show, ep = list(_episodes_with_transcripts(language))[-1]
    script = episode_script(world, show, ep)
    fact = script.facts[-1]
    said = next(line for line in script.lines if line.text == fact.second)
    answer = httpx.get(f"{base}/api/search", params={"q": fact.second}, timeout=60)
    assert answer.status_code == 200, answer.text
    results = answer.json()["results"]
    titles = [r["title"] for r in results]
    assert ep.title in titles[:5], (fact.second, titles)
    hit = results[titles.index(ep.title)]
    assert hit["language"].startswith(language)
    passage = hit["passages"][0]
    assert passage["text"] and passage["score"] > 0
    assert 0 <= passage["start_s"] < passage["end_s"] <= ep.duration_s
    # The best passage holds the sentence, and its deep link goes to where it is said.
    assert fact.second in passage["text"], hit["passages"]
    assert passage["start_s"] <= said.start_s < passage["end_s"]
    assert hit["link"] == f"{ep.enclosure_url}#t={int(passage['start_s'])}", hit
    # Its similar episodes: the show's others first, with the reasons.
    similar = httpx.get(f"{base}/api/episodes/{hit['episode_id']}/similar", timeout=30)
    assert similar.status_code == 200, similar.text
    body = similar.json()
    assert body["analyzed"] and body["results"], body
    best = body["results"][0]
    assert best["channel"] == hit["channel_id"] and best["score"] > 0, body
    assert best["shared_keywords"] or best["shared_topics"], body
    detail = httpx.get(f"{base}/api/episodes/{hit['episode_id']}", timeout=30).json()
    assert detail["transcript"]["status"] == "ok" and detail["transcript"]["source"] == "rss"
