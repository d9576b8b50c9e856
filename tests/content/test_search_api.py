"""``GET /api/search`` in process (APIClient) and, with ``podsight search``, for real: the
command and a live server on a home prepared in a subprocess."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from passage_helpers import ENGINE, make_episode, store_segments
from rest_framework.test import APIClient

from podsight.content import index as search_index
from podsight.content.index import update_index
from podsight.content.passages import build_passages
from podsight.content.search import search
from podsight.content.segments import Segment
from support import free_port, user_env, wait_until_serving

HERE = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent

BREAD = [
    Segment(i * 5.0, i * 5.0 + 5, "Host", f"Thanks for tuning in, part {i}.") for i in range(24)
]
BREAD[3] = Segment(15.0, 20.0, "Guest", "Sourdough rises with wild yeast from a starter.")


@pytest.fixture
def catalog(monkeypatch, tmp_path, db):
    monkeypatch.setenv("PODSIGHT_HOME", str(tmp_path))
    search_index.reset_snapshots()
    engine = make_episode(
        "Engines", channel_title="Motors", published_at=datetime(2024, 5, 1, tzinfo=UTC)
    )
    store_segments(engine, ENGINE)
    bread = make_episode(
        "Baking",
        channel_title="Kitchen",
        language="fr",
        published_at=datetime(2023, 1, 1, tzinfo=UTC),
    )
    store_segments(bread, BREAD)
    make_episode(
        "Notes only",
        notes="Knitting a scarf with circular needles.",
        published_at=datetime(2020, 1, 1, tzinfo=UTC),
    )
    build_passages()
    update_index()
    return {"engine": engine, "bread": bread}


def test_search_answers_episodes_with_timed_passages_and_links(catalog):
    response = APIClient().get("/api/search", {"q": "how do diesel motors ignite without sparks"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["index"] == "exact" and body["method"] == "hybrid"
    top = body["results"][0]
    assert top["episode_id"] == catalog["engine"].pk
    assert top["channel_title"] == "Motors" and top["published_at"].startswith("2024-05-01")
    passage = top["passages"][0]
    assert passage["start_s"] <= 70.0 <= passage["end_s"] and passage["kind"] == "transcript"
    assert top["link"] == f"{catalog['engine'].enclosure_url}#t={int(passage['start_s'])}"
    notes = APIClient().get("/api/search", {"q": "knitting a scarf"}).json()["results"][0]
    assert notes["passages"][0]["kind"] == "notes" and notes["passages"][0]["start_s"] is None


def test_filters(catalog):
    client = APIClient()
    ids = lambda **q: [r["episode_id"] for r in client.get("/api/search", q).json()["results"]]  # noqa: E731
    assert ids(q="sourdough", language="fr") == [catalog["bread"].pk]
    assert catalog["bread"].pk not in ids(q="sourdough", language="en")
    assert ids(q="sourdough", channel=catalog["engine"].channel_id) == [catalog["engine"].pk]
    assert ids(q="sourdough", published_after="2024-01-01T00:00:00Z") == [catalog["engine"].pk]
    assert len(ids(q="sourdough", limit=1)) == 1


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({}, "q"),
        ({"q": ""}, "q"),
        ({"q": "   "}, "q"),
        ({"q": "x" * 501}, "q"),
        ({"q": "a", "limit": "0"}, "limit"),
        ({"q": "a", "limit": "51"}, "limit"),
        ({"q": "a", "channel": "abc"}, "channel"),
        ({"q": "a", "channel": "0"}, "channel"),
        ({"q": "a", "language": "not a tag"}, "language"),
        ({"q": "a", "published_after": "yesterday"}, "published_after"),
        ({"q": "a", "published_after": ""}, "published_after"),
    ],
)
def test_bad_parameters_are_400s_naming_the_parameter(catalog, query, field):
    response = APIClient().get("/api/search", query)
    assert response.status_code == 400, response.content
    body = response.json()["error"]
    assert field in body["details"], body


def test_a_missing_index_of_a_large_catalog_is_a_503_asking_for_content_analyze(
    catalog, tmp_path, monkeypatch
):
    monkeypatch.setenv("PODSIGHT_ANN_MIN", "3")  # fewer than the catalog's passages
    (tmp_path / "index" / "manifest.json").unlink()
    search_index.reset_snapshots()
    response = APIClient().get("/api/search", {"q": "sourdough"})
    assert response.status_code == 503, response.content
    error = response.json()["error"]
    assert error["code"] == "unavailable" and "podsight content analyze" in error["message"]
    monkeypatch.delenv("PODSIGHT_ANN_MIN")  # a small catalog: built inline, answered
    response = APIClient().get("/api/search", {"q": "sourdough"})
    assert response.status_code == 200 and response.json()["results"], response.content


def test_search_is_in_the_openapi_document(db):
    schema = APIClient().get("/api/schema", {"format": "json"}).json()
    operation = schema["paths"]["/api/search"]["get"]
    params = {p["name"]: p for p in operation["parameters"]}
    assert params["q"]["required"] is True
    assert {"channel", "language", "published_after", "limit"} <= set(params)
    assert {"200", "400"} <= set(operation["responses"])


# --- for real: a prepared home, the command, a live server ---------------------------------

PREPARE = textwrap.dedent(
    """
    import sys
    sys.path.insert(0, {here!r})
    from podsight.bootstrap import ensure_database
    ensure_database()
    from passage_helpers import ENGINE, make_episode, store_segments
    from podsight.content.passages import build_passages
    from podsight.content.index import update_index
    store_segments(make_episode("Engines", channel_title="Motors"), ENGINE)
    print(build_passages())
    print(update_index())
    """
)


def _env(home: Path) -> dict[str, str]:
    return user_env(home)


@pytest.mark.network
def test_the_command_and_a_live_server_answer_from_a_prepared_home(tmp_path):
    home = tmp_path / "home"
    env = _env(home)
    prepared = subprocess.run(
        [sys.executable, "-c", PREPARE.format(here=str(HERE))],
        env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert prepared.returncode == 0, prepared.stderr
    ran = subprocess.run(
        [str(BIN / "podsight"), "search", "diesel", "ignition", "--limit", "3"],
        env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert "Traceback" not in ran.stdout + ran.stderr
    assert "1. Engines" in ran.stdout and "Motors" in ran.stdout
    assert "compression" in ran.stdout  # the excerpt shown is where the query's words are
    # The best passage holds the answer said at 70 s: its time and deep link show.
    link = next(line.strip() for line in ran.stdout.splitlines() if "#t=" in line)
    start = int(link.rsplit("#t=", 1)[1])
    assert 10 <= start <= 70 and f"{start // 60}:{start % 60:02d}" in ran.stdout
    bad = subprocess.run(
        [str(BIN / "podsight"), "search", "diesel", "--published-after", "soon"],
        env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert bad.returncode == 2 and bad.stderr.startswith("error:"), bad.stderr

    port = free_port()
    server = subprocess.Popen(
        [str(BIN / "podsight"), "serve", "--port", str(port)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True,
    )  # fmt: skip
    try:
        wait_until_serving(f"http://127.0.0.1:{port}/healthz", server, timeout=60)
        response = httpx.get(
            f"http://127.0.0.1:{port}/api/search", params={"q": "diesel ignition"}, timeout=60
        )
        assert response.status_code == 200, response.text
        (result,) = response.json()["results"]
        assert result["title"] == "Engines" and "#t=" in result["link"]
        assert httpx.get(f"http://127.0.0.1:{port}/api/search", timeout=30).status_code == 400
    finally:
        os.killpg(server.pid, signal.SIGINT)
        server.communicate(timeout=30)


def test_ad_reads_are_told_apart_and_rank_below_content_unless_the_query_names_the_sponsor(
    monkeypatch, tmp_path, db
):
    from podsight.content.analyze import analyze_episodes

    monkeypatch.setenv("PODSIGHT_HOME", str(tmp_path))
    search_index.reset_snapshots()
    ad = (
        "This episode is brought to you by Slumberwell. Slumberwell mattresses adapt their "
        "firmness to how you sleep. Go to slumberwell.com/podcast and use code REST20 for "
        "20% off your first mattress."
    )
    talk = [Segment(i * 50.0, i * 50.0 + 50, "Host", f"We talk about rivers, part {i}.")
            for i in range(1, 6)]  # fmt: skip
    sponsored = make_episode("Rivers", channel_title="Geography")
    store_segments(sponsored, [Segment(0.0, 50.0, "Host", ad), *talk])
    sleep = make_episode("Sleep science", channel_title="Health")
    store_segments(
        sleep,
        [
            Segment(0.0, 50.0, "Guest", "A bed that is too hard or too soft wakes you up at "
                    "night; choose one that suits how you lie, on your side or on your back."),
            *talk,
        ],
    )  # fmt: skip
    analyze_episodes()

    report = search("which mattress firmness suits how you sleep", limit=5)
    assert [r.episode_id for r in report.results][:2] == [sleep.pk, sponsored.pk]
    ad_passage = next(p for p in report.results[1].passages if p.passage_no == 0)
    assert ad_passage.sponsor == "Slumberwell"
    assert all(p.sponsor is None for p in report.results[0].passages)

    named = search("Slumberwell mattress code", limit=5)
    assert named.results[0].episode_id == sponsored.pk
    assert named.results[0].passages[0].sponsor == "Slumberwell"
