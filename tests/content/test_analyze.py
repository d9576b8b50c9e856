"""``content.analyze`` end to end on real transcript text: passages and vectors, sponsors
(with a read repeated across the show), keywords, topics, chapters from the feed and
automatic ones, similar episodes both ways in time, incremental runs, the API fields, and
the command on a fresh home."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from analysis_corpus import seed_names, seed_text
from passage_helpers import make_episode, store_segments

from httpserver import Reply, RouteServer
from podsight.content.models import EpisodeAnalysis
from podsight.content.segments import Segment
from podsight.content.similar import similar_episodes
from podsight.pipeline import run_step
from support import user_env

pytestmark = [pytest.mark.django_db]

_SENTENCES = re.compile(r"(?<=[.?!])\s+")


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PODSIGHT_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("PODSIGHT_ALLOW_PRIVATE_URLS", "1")
    return tmp_path / "home"


def _segments(text: str, *, words: int = 1800, start: float = 0.0) -> list[Segment]:
    """The first ``words`` words of ``text`` as timed sentences (2.5 words a second)."""
    out, at, count = [], start, 0
    for sentence in _SENTENCES.split(" ".join(text.split())):
        length = len(sentence.split()) / 2.5
        out.append(Segment(at, at + length, "", sentence))
        at += length
        count += len(sentence.split())
        if count >= words:
            break
    return out


def _seed(test_data: Path, prefix: str) -> str:
    (name,) = [n for n in seed_names(test_data) if n.startswith(prefix)]
    return seed_text(test_data, name)


AD = (
    "Today's show is brought to you by Squarely. Squarely makes invoices simple for "
    "small farms, with templates, reminders and payments in one place. Thousands of "
    "growers already rely on it every single month to get paid on time. Go to "
    "squarely.com slash market and start your free trial today. That's squarely.com "
    "slash market."
)


@pytest.mark.network
def test_analyze_end_to_end(home: Path, test_data: Path, local_server: RouteServer):
    chapters_doc = (test_data / "chapters/podcast-namespace/example.json").read_bytes()
    local_server.routes["/chapters.json"] = lambda request: Reply(
        200, chapters_doc, {"Content-Type": "application/json+chapters"}
    )
    garden = _seed(test_data, "Sharing_the_lessons")
    baseball = _seed(test_data, "ANGELS_POSTCAST")
    show = make_episode("Growing for market 1", published_at=datetime(2025, 6, 1, tzinfo=UTC))
    first = show
    second = make_episode(
        "Growing for market 2", channel=first.channel, published_at=datetime(2025, 6, 8, tzinfo=UTC)
    )
    third = make_episode(
        "Growing for market 3",
        channel=first.channel,
        published_at=datetime(2025, 6, 15, tzinfo=UTC),
    )
    angels = make_episode("Angels postcast", channel_title="Locked On Angels")
    notes = make_episode(
        "Pitching in extra innings",
        channel=angels.channel,
        notes="The Angels beat the Red Sox in extra innings at Fenway Park; the bullpen held.",
    )
    angels.chapters = {"url": local_server.url("/chapters.json"), "type": None, "inline": []}
    angels.save()
    # The same (made-up) ad read in the first two garden episodes: repeated across the show.
    ad = _segments(AD, words=200)
    body = _segments(garden, words=1500, start=ad[-1].end_s)
    store_segments(first, [*ad, *body])
    store_segments(
        second,
        [*_segments(AD, words=200), *_segments(garden[9000:], words=1500, start=ad[-1].end_s)],
    )
    store_segments(third, _segments(garden[20000:], words=1500))
    store_segments(angels, _segments(baseball, words=2600))

    report = run_step("content.analyze")
    assert report.analysed == 5 and report.unchanged == 0 and report.notes_only == 1
    assert report.chapters_feed == 1 and report.chapters_auto >= 3
    assert report.transcript_hours > 0.5 and report.seconds_per_transcript_hour
    assert report.index_report is not None and report.index_report.passages > 0
    assert str(report).startswith("5 episodes analysed (1 from show notes only")

    rows = {a.episode_id: a for a in EpisodeAnalysis.objects.all()}
    # Ad reads: the repeated read in both garden episodes, the real ones in the Angels show.
    for pk in (first.pk, second.pk):
        (read,) = [s for s in rows[pk].sponsors if s["name"] == "Squarely"]
        assert read["repeated"] and read["start_s"] == 0.0 and read["url"] == "squarely.com"
    names = {s["name"] for s in rows[angels.pk].sponsors}
    assert {"Supply House", "Monarch Money"} <= names, names
    monarch = next(s for s in rows[angels.pk].sponsors if s["name"] == "Monarch Money")
    assert monarch["start_s"] > 60 and monarch["end_s"] > monarch["start_s"]
    # Ad reads stay out of keywords.
    assert not any("squarely" in k["keyword"] for k in rows[first.pk].keywords)
    assert not any("monarch" in k["keyword"] for k in rows[angels.pk].keywords)
    # Topics and chapters.
    assert rows[first.pk].topics[0]["topic"] == "Garden"
    assert "Baseball" in [t["topic"] for t in rows[angels.pk].topics]
    assert rows[angels.pk].chapters_source == "feed" and len(rows[angels.pk].chapters) == 9
    assert rows[first.pk].chapters_source == "auto" and rows[first.pk].chapters[0]["title"]
    assert rows[notes.pk].notes_only and rows[notes.pk].chapters == []
    assert rows[notes.pk].sponsors == [] and rows[notes.pk].transcript_version == 0

    # Similar: both directions in time, the show's own episodes nearest.
    similar = similar_episodes(second.pk, k=3)
    assert {s.episode_id for s in similar[:2]} == {first.pk, third.pk}
    relation = {s.episode_id: s.relation for s in similar}
    assert relation[first.pk] == "earlier" and relation[third.pk] == "later"
    assert "Garden" in next(s for s in similar if s.episode_id == first.pk).shared_topics
    assert second.pk not in {s.episode_id for s in similar}

    # Incremental: nothing changed, nothing analysed; a new transcript version is.
    again = run_step("content.analyze")
    assert again.analysed == 0 and again.unchanged == 5
    store_segments(third, _segments(garden[30000:], words=1200))
    third_run = run_step("content.analyze")
    assert third_run.analysed == 1 and third_run.unchanged == 4
    assert EpisodeAnalysis.objects.get(episode_id=third.pk).transcript_version == 2
    assert run_step("content.analyze", episode_ids=[first.pk], force=True).analysed == 1

    # The chapters document fails now: the publisher's chapters fetched before are kept.
    local_server.routes["/chapters.json"] = lambda request: Reply(503, b"", {})
    down = run_step("content.analyze", episode_ids=[angels.pk], force=True)
    assert down.analysed == 1 and "kept" in down.chapter_errors[0]
    kept = EpisodeAnalysis.objects.get(episode_id=angels.pk)
    assert kept.chapters_source == "feed" and len(kept.chapters) == 9

    # A merged-away episode is no longer offered as similar.
    third.refresh_from_db()
    first.merged_into = second
    first.save()
    assert first.pk not in {s.episode_id for s in similar_episodes(second.pk, k=3)}


@pytest.mark.network
def test_the_api_fields_and_similar(home: Path, test_data: Path, client):
    garden = _seed(test_data, "Sharing_the_lessons")
    a = make_episode("One", published_at=datetime(2025, 1, 1, tzinfo=UTC))
    b = make_episode("Two", channel=a.channel, published_at=datetime(2025, 2, 1, tzinfo=UTC))
    a.chapters = {"url": None, "type": None, "inline": [[0, "Start", None], [60, "Later", None]]}
    a.save()
    store_segments(a, _segments(AD + " " + garden, words=700))
    store_segments(b, _segments(garden[5000:], words=700))
    # Before analysis: empty fields, similar says so.
    detail = client.get(f"/api/episodes/{a.pk}").json()
    assert detail["keywords"] == [] and detail["analysis"] is None and detail["chapters"] == []
    assert detail["chapters_feed"]["inline"][1] == [60, "Later", None]
    assert client.get(f"/api/episodes/{a.pk}/similar").json() == {
        "episode": a.pk, "analyzed": False, "results": [],
    }  # fmt: skip
    run_step("content.analyze")
    detail = client.get(f"/api/episodes/{a.pk}").json()
    assert detail["keywords"] and detail["topics"][0]["topic"] == "Garden"
    assert detail["chapters_source"] == "feed"
    assert [c["title"] for c in detail["chapters"]] == ["Start", "Later"]
    assert detail["sponsors"][0]["name"] == "Squarely"
    assert detail["analysis"]["passages"] > 3 and detail["analysis"]["transcript_version"] == 1
    content = client.get(f"/api/episodes/{a.pk}/analysis").json()
    assert content == {k: detail[k] for k in content}  # the detail's facts, the same
    similar = client.get(f"/api/episodes/{a.pk}/similar?k=5").json()
    assert similar["analyzed"] and [r["id"] for r in similar["results"]] == [b.pk]
    assert similar["results"][0]["relation"] == "later" and similar["results"][0]["score"] > 0.3
    assert "Garden" in similar["results"][0]["shared_topics"]
    assert client.get(f"/api/episodes/{a.pk}/similar?k=0").status_code == 400
    assert client.get(f"/api/episodes/{a.pk}/similar?k=51").status_code == 400
    assert client.get("/api/episodes/999999/similar").status_code == 404
    schema = client.get("/api/schema?format=json").json()
    assert "/api/episodes/{id}/similar" in schema["paths"]


@pytest.mark.network
def test_the_command_on_a_fresh_home(tmp_path: Path, test_data: Path, local_server: RouteServer):
    """`podsight ingest rss`, `content transcripts`, then `content analyze`, as a user runs
    them: a feed linking real transcripts (a TWIML WebVTT, a seed transcript as text)."""
    vtt = (test_data / "transcripts/twiml_whisper/twiml_500.vtt").read_bytes()
    text = _seed(test_data, "ANGELS_POSTCAST").encode()
    local_server.routes["/500.vtt"] = lambda request: Reply(200, vtt, {"Content-Type": "text/vtt"})
    local_server.routes["/angels.txt"] = lambda request: Reply(
        200, text, {"Content-Type": "text/plain"}
    )
    items = "".join(
        f"<item><title>Episode {guid}</title><guid>{guid}</guid>"
        f"<pubDate>Mon, 0{n} Nov 2026 10:00:00 GMT</pubDate>"
        f'<enclosure url="https://example.org/{guid}.mp3" length="1" type="audio/mpeg"/>'
        f'<podcast:transcript url="{local_server.url(path)}" type="{kind}"/></item>'
        for n, (guid, path, kind) in enumerate(
            [("ml", "/500.vtt", "text/vtt"), ("angels", "/angels.txt", "text/plain")], start=2
        )
    )
    feed = tmp_path / "feed.xml"
    feed.write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0" '
        'xmlns:podcast="https://podcastindex.org/namespace/1.0"><channel><title>Mixed</title>'
        "<link>https://example.org/</link><description>d</description>"
        f"<language>en-us</language>{items}</channel></rss>",
        "utf-8",
    )
    env = user_env(tmp_path / "home", PODSIGHT_ALLOW_PRIVATE_URLS="1")
    podsight = str(Path(sys.executable).parent / "podsight")

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([podsight, *args], env=env, capture_output=True, text=True,
                              timeout=600)  # fmt: skip

    assert run("ingest", "rss", str(feed), "--no-progress").returncode == 0
    assert run("content", "transcripts", "--no-progress").returncode == 0
    ran = run("content", "analyze", "--no-progress")
    assert ran.returncode == 0, ran.stderr
    assert "2 episodes analysed" in ran.stdout, ran.stdout
    assert re.search(r"[1-9]\d* sponsor segments in 1 episodes", ran.stdout), ran.stdout
    assert "s per transcript hour" in ran.stdout and "Traceback" not in ran.stderr
    again = run("content", "analyze", "--no-progress")
    assert "0 episodes analysed" in again.stdout and "2 unchanged" in again.stdout, again.stdout
    detail = json.loads(
        subprocess.run(
            [sys.executable, "-c", _DETAIL], env=env, capture_output=True, text=True, timeout=120
        ).stdout
    )
    assert detail["Episode ml"] == "Technology", detail


# The topics of each episode, read back through the API in a process of its own.
_DETAIL = """
import json
from podsight.bootstrap import setup_django
setup_django()
from django.test import Client
client = Client(HTTP_HOST="localhost")
out = {}
for e in client.get("/api/episodes").json()["results"]:
    detail = client.get(f"/api/episodes/{e['id']}").json()
    out[e["title"]] = detail["topics"][0]["topic"] if detail["topics"] else None
print(json.dumps(out))
"""


# --- fast runs on made-up passages (no model, no lake): what a run writes, and when ------


class _Embedder:
    name = "test/unit"


def _passages(pk: int, direction: int, version: int = 0) -> list:
    import numpy as np

    from podsight.content.segments import Passage

    out = []
    for n in range(4):
        v = np.zeros(384, dtype=np.float32)
        v[direction], v[10 + n] = 1.0, 0.3
        text = f"Compost heaps warm the soil of market gardens in spring, part {n}."
        out.append(Passage(pk, version, n, n * 40.0, n * 40.0 + 40, text,
                           vector=v / np.linalg.norm(v)))  # fmt: skip
    return out


@pytest.fixture
def fake_run(home: Path, monkeypatch: pytest.MonkeyPatch):
    """``analyze_episodes`` with passages made here: no embedding, no lake, no index."""
    from podsight.content import analyze, embed

    made: dict[int, list] = {}
    monkeypatch.setattr(embed, "get_embedder", lambda name=None: _Embedder())
    monkeypatch.setattr(analyze, "_build_passages", lambda ids, progress, engine: None)
    monkeypatch.setattr(analyze, "_update_index", lambda progress: None)
    monkeypatch.setattr(analyze, "episode_topics", lambda passages, skip=(): [])
    monkeypatch.setattr(
        analyze,
        "load_passages",
        lambda pairs, name: {pk: made[pk] for pk, _ in pairs if pk in made},
    )
    return made


def test_a_failed_index_update_or_a_lost_vector_is_not_a_done_analysis(
    fake_run: dict, monkeypatch: pytest.MonkeyPatch
):
    from podsight.content import analyze
    from podsight.content.similar import vectors_path
    from podsight.errors import StorageError

    a = make_episode("One", published_at=datetime(2025, 1, 1, tzinfo=UTC))
    b = make_episode("Two", channel=a.channel, published_at=datetime(2025, 2, 1, tzinfo=UTC))
    fake_run.update({a.pk: _passages(a.pk, 0), b.pk: _passages(b.pk, 1)})

    def broken(progress):
        raise StorageError("the index is broken")

    monkeypatch.setattr(analyze, "_update_index", broken)
    with pytest.raises(StorageError):
        analyze.analyze_episodes()
    # The analyses are stored, and so are the vectors they stand for.
    assert EpisodeAnalysis.objects.count() == 2
    assert [s.episode_id for s in similar_episodes(a.pk)] == [b.pk]

    monkeypatch.setattr(analyze, "_update_index", lambda progress: None)
    assert analyze.analyze_episodes().unchanged == 2
    # The vectors are gone (a run that died before writing them): analysed again.
    vectors_path().unlink()
    again = analyze.analyze_episodes()
    assert again.analysed == 2 and again.unchanged == 0
    assert [s.episode_id for s in similar_episodes(b.pk)] == [a.pk]
    # A damaged file: every episode's vector is written again, not a crash.
    vectors_path().write_bytes(b"PK\x03\x04 not a zip")
    assert analyze.analyze_episodes().analysed == 2
    assert [s.episode_id for s in similar_episodes(a.pk)] == [b.pk]


def test_older_episodes_analysed_again_keep_their_show_language(
    fake_run: dict, monkeypatch: pytest.MonkeyPatch
):
    """The show pass's older episodes (their ad reads changed) are analysed in the show's
    language, like the new ones, not in English."""
    from podsight.content import analyze

    old = make_episode("Ancien", language="fr", published_at=datetime(2025, 1, 1, tzinfo=UTC))
    new = make_episode("Nouveau", channel=old.channel,
                       published_at=datetime(2025, 2, 1, tzinfo=UTC))  # fmt: skip
    fake_run.update({old.pk: _passages(old.pk, 0), new.pk: _passages(new.pk, 1)})
    assert analyze.analyze_episodes(episode_ids=[old.pk]).analysed == 1

    def show_pass(todo, name, report):
        extra = [(old.pk, old.channel_id, old.published_at, None, fake_run[old.pk])]
        return {}, extra

    languages = {}
    real = analyze.analyze_episode

    def recording(passages, **kwargs):
        languages[passages[0].episode_id] = kwargs.get("language")
        return real(passages, **kwargs)

    monkeypatch.setattr(analyze, "_show_pass", show_pass)
    monkeypatch.setattr(analyze, "analyze_episode", recording)
    report = analyze.analyze_episodes()
    assert report.analysed == 1 and report.reanalysed_for_repeats == 1
    assert languages == {new.pk: "fr", old.pk: "fr"}


def test_restoring_passages_makes_the_next_run_analyse_the_episodes_it_took_out(
    fake_run: dict,
):
    """The documented recovery (restore, fix, run again) redoes the episodes whose
    passages the restore took out, although the database recorded them as done."""
    from podsight import lake
    from podsight.content import analyze
    from podsight.content.passages import passages_to_table
    from podsight.lake.tables import PASSAGES

    a = make_episode("One", published_at=datetime(2025, 1, 1, tzinfo=UTC))
    b = make_episode("Two", channel=a.channel, published_at=datetime(2025, 2, 1, tzinfo=UTC))
    fake_run.update({a.pk: _passages(a.pk, 0), b.pk: _passages(b.pk, 1)})
    lake.append(PASSAGES, passages_to_table(fake_run[a.pk], _Embedder.name))  # version 0
    lake.append(PASSAGES, passages_to_table(fake_run[b.pk], _Embedder.name))  # 1: "bad"
    assert analyze.analyze_episodes().analysed == 2
    assert analyze.analyze_episodes().unchanged == 2

    done = run_step("lake.restore", table="passages", version=0)
    assert done.episodes_removed == (b.pk,)
    assert "1 episode(s) lost their passages" in done.redo and "content analyze" in done.redo
    again = analyze.analyze_episodes()
    assert again.analysed == 1 and again.unchanged == 1
    assert EpisodeAnalysis.objects.get(episode_id=b.pk).embedder == _Embedder.name


def test_restoring_transcripts_makes_the_next_fetch_store_the_episodes_it_took_out(home):
    from passage_helpers import ENGINE

    from podsight.content.models import EpisodeTranscript
    from podsight.content.segments import Transcript
    from podsight.content.transcripts import StoreItem, read_segments, store_transcripts

    a = make_episode("One")
    b = make_episode("Two", channel=a.channel)
    assert store_segments(a, ENGINE) == 1  # lake version 0
    item = StoreItem(b.pk, Transcript(list(ENGINE), "vtt", "en"), "rss", "https://x/b.vtt",
                     "sha-b", etag='"b1"')  # fmt: skip
    assert store_transcripts([item]) == [1]  # lake version 1: taken out below
    assert store_transcripts([item], skip_unchanged=True) == [0]  # unchanged: not stored

    done = run_step("lake.restore", table="transcripts", version=0)
    assert done.episodes_removed == (b.pk,)
    assert "1 episode(s) lost their transcript" in done.redo
    assert read_segments(b.pk) == [] and len(read_segments(a.pk)) == len(ENGINE)
    state = EpisodeTranscript.objects.get(episode_id=b.pk)
    assert state.etag == "" and state.content_sha256 == ""  # the next fetch downloads it
    # The same document fetched again is stored again, as the next version.
    assert store_transcripts([item], skip_unchanged=True) == [2]
    assert len(read_segments(b.pk)) == len(ENGINE)
    assert EpisodeTranscript.objects.get(episode_id=a.pk).version == 1  # untouched
