"""GET /api/episodes/{id}/transcript (pages of segments, exports) and the `transcript`
field of GET /api/episodes/{id}."""

from __future__ import annotations

from pathlib import Path

import pytest
from rest_framework.test import APIClient

from podsight.catalog.models import Channel, Episode
from podsight.content.formats import parse_transcript
from podsight.content.models import EpisodeTranscript
from podsight.content.segments import Segment, Transcript
from podsight.content.transcripts import store_transcript

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> APIClient:
    monkeypatch.setenv("PODSIGHT_HOME", str(tmp_path))
    return APIClient(raise_request_exception=False)


@pytest.fixture
def channel() -> Channel:
    return Channel.objects.create(title="Show", language="en")


def _episode(channel: Channel, **fields) -> Episode:
    return Episode.objects.create(channel=channel, title="Ep", **fields)


@pytest.fixture
def whisper(channel: Channel, test_data: Path) -> tuple[Episode, Transcript]:
    path = test_data / "transcripts" / "twiml_whisper" / "twiml_100.vtt"
    transcript = parse_transcript(path.read_bytes(), language="en")
    episode = _episode(channel, transcripts=[{"url": "https://x.test/t.vtt", "type": "text/vtt"}])
    store_transcript(episode.pk, transcript, source="rss", url="https://x.test/t.vtt", sha256="a")
    return episode, transcript


def _error(response, status: int, code: str) -> str:
    assert response.status_code == status, response.content[:300]
    body = response.json()["error"]
    assert body["code"] == code, body
    return body["message"]


def test_segments_page_by_page(api: APIClient, whisper) -> None:
    episode, transcript = whisper
    url = f"/api/episodes/{episode.pk}/transcript?page_size=200"
    got: list[dict] = []
    pages = 0
    while url:
        response = api.get(url)
        assert response.status_code == 200, response.content[:300]
        page = response.json()
        assert (page["episode"], page["version"], page["format"]) == (episode.pk, 1, "vtt")
        assert (page["source"], page["language"], page["segments"]) == ("rss", "en", 462)
        assert page["page_size"] == 200 and len(page["results"]) <= 200
        got += page["results"]
        url = page["next"]
        pages += 1
    assert pages == 3
    assert got == [
        {"start_s": s.start_s, "end_s": s.end_s, "speaker": s.speaker, "text": s.text}
        for s in transcript.segments
    ]


def test_a_page_keeps_its_version_while_a_new_one_arrives(api: APIClient, whisper) -> None:
    episode, transcript = whisper
    first = api.get(f"/api/episodes/{episode.pk}/transcript?page_size=2").json()
    store_transcript(
        episode.pk, Transcript([Segment(0.0, 1.0, "", "new")], "vtt"), source="rss", url="u",
        sha256="b",
    )  # fmt: skip
    following = api.get(first["next"]).json()
    assert following["version"] == 1
    assert following["results"][0]["text"] == transcript.segments[2].text
    assert api.get(f"/api/episodes/{episode.pk}/transcript").json()["version"] == 2
    # An earlier version on purpose, as segments or as a document.
    old = api.get(f"/api/episodes/{episode.pk}/transcript?version=1&page_size=1").json()
    assert old["version"] == 1 and old["results"][0]["text"] == transcript.segments[0].text
    assert api.get(old["next"]).json()["results"][0]["text"] == transcript.segments[1].text
    vtt = api.get(f"/api/episodes/{episode.pk}/transcript?version=1&format=vtt")
    assert vtt.status_code == 200 and b"Hello and welcome" in vtt.content
    assert "version 3" in _error(
        api.get(f"/api/episodes/{episode.pk}/transcript?version=3"), 404, "not_found"
    )
    response = api.get(old["next"].replace("version=1", "version=2"))  # a version-1 cursor
    assert "another version" in _error(response, 400, "invalid_cursor")


def test_an_earlier_version_says_what_it_is_itself(api: APIClient, whisper) -> None:
    episode, _transcript = whisper
    store_transcript(
        episode.pk, Transcript([Segment(0.0, 1.0, "", "spoken")], "asr", "en-us"),
        source="asr", url="https://x.test/a.mp3", sha256="b",
    )  # fmt: skip
    base = f"/api/episodes/{episode.pk}/transcript"
    old = api.get(f"{base}?version=1&page_size=1").json()
    assert (old["source"], old["format"], old["language"], old["segments"]) == (
        "rss", "vtt", "en", 462
    )  # fmt: skip
    assert api.get(old["next"]).json()["segments"] == 462  # its cursor too
    new = api.get(base).json()
    assert (new["version"], new["source"], new["format"], new["language"], new["segments"]) == (
        2, "asr", "asr", "en-us", 1
    )  # fmt: skip


@pytest.mark.parametrize(
    ("fmt", "content_type", "start"),
    [("vtt", "text/vtt", "WEBVTT"), ("srt", "application/x-subrip", "1\n00:00:00,000 --> "),
     ("txt", "text/plain", "Hello and welcome")],
)  # fmt: skip
def test_exports(api: APIClient, whisper, fmt: str, content_type: str, start: str) -> None:
    episode, transcript = whisper
    response = api.get(f"/api/episodes/{episode.pk}/transcript?format={fmt}")
    assert response.status_code == 200
    assert response["Content-Type"] == f"{content_type}; charset=utf-8"
    body = response.content.decode("utf-8")
    assert body.startswith(start)
    back = parse_transcript(body, format="text" if fmt == "txt" else fmt)
    assert [s.text for s in back.segments] == [s.text for s in transcript.segments]


def test_a_transcript_without_times_exports_only_as_text(api: APIClient, channel) -> None:
    episode = _episode(channel)
    store_transcript(episode.pk, parse_transcript("one\ntwo\n"), source="rss", url="u", sha256="a")
    for fmt in ("vtt", "srt"):
        message = _error(
            api.get(f"/api/episodes/{episode.pk}/transcript?format={fmt}"), 409, "no_times"
        )
        assert "txt" in message
    assert api.get(f"/api/episodes/{episode.pk}/transcript?format=txt").content == b"one\n\ntwo\n"


def test_no_transcript_is_404_saying_why(api: APIClient, channel) -> None:
    assert "No episode with id 999999" in _error(
        api.get("/api/episodes/999999/transcript"), 404, "not_found"
    )
    linked = _episode(channel, transcripts=[{"url": "https://x.test/t.vtt"}])
    assert "content transcripts" in _error(
        api.get(f"/api/episodes/{linked.pk}/transcript"), 404, "not_found"
    )
    EpisodeTranscript.objects.create(episode=linked, status="error", error="HTTP 404 at x")
    assert "HTTP 404 at x" in _error(
        api.get(f"/api/episodes/{linked.pk}/transcript"), 404, "not_found"
    )
    bare = _episode(channel)
    assert "links none" in _error(api.get(f"/api/episodes/{bare.pk}/transcript"), 404, "not_found")


@pytest.mark.parametrize(
    "query",
    [
        "format=pdf",
        "format=",
        "page_size=0",
        "page_size=501",
        "cursor=",
        "cursor=forged",
        "version=0",
        "version=",
        "version=x",
        "at=-1",
        "at=1.5",
        "at=",
        "at=10000001",
    ],
)
def test_bad_parameters_are_400(api: APIClient, whisper, query: str) -> None:
    episode, _ = whisper
    response = api.get(f"/api/episodes/{episode.pk}/transcript?{query}")
    assert response.status_code == 400, response.content[:300]


def test_a_page_starts_at_a_moment(api: APIClient, whisper) -> None:
    """`at` opens the transcript where a search result's moment is spoken; `next` goes on
    from there without it."""
    episode, transcript = whisper
    segments = transcript.segments
    k = 100
    moment = int(segments[k].start_s) + 1  # inside segment k (cues are seconds long)
    assert segments[k].start_s <= moment < segments[k + 1].start_s
    page = api.get(f"/api/episodes/{episode.pk}/transcript?at={moment}&page_size=5").json()
    assert page["offset"] == k
    assert [r["text"] for r in page["results"]] == [s.text for s in segments[k : k + 5]]
    assert "at=" not in page["next"]
    following = api.get(page["next"]).json()
    assert following["offset"] == k + 5
    assert following["results"][0]["text"] == segments[k + 5].text
    assert api.get(f"/api/episodes/{episode.pk}/transcript?at=0").json()["offset"] == 0
    last = api.get(f"/api/episodes/{episode.pk}/transcript?at=10000000").json()
    assert last["offset"] == len(segments) - 1 and last["next"] is None
    both = api.get(f"{page['next']}&at=3")
    assert both.status_code == 400 and "cursor" in str(both.json()["error"])


def test_at_in_a_transcript_without_times_is_its_start(api: APIClient, channel) -> None:
    episode = _episode(channel)
    store_transcript(episode.pk, parse_transcript("one\ntwo\n"), source="rss", url="u", sha256="a")
    page = api.get(f"/api/episodes/{episode.pk}/transcript?at=90").json()
    assert page["offset"] == 0 and [r["text"] for r in page["results"]] == ["one", "two"]


def test_a_cursor_of_another_episode_is_refused(api: APIClient, whisper, channel) -> None:
    episode, transcript = whisper
    other = _episode(channel)
    store_transcript(other.pk, transcript, source="rss", url="u", sha256="a")
    following = api.get(f"/api/episodes/{episode.pk}/transcript?page_size=1").json()["next"]
    cursor = following.split("cursor=", 1)[1].split("&")[0]
    response = api.get(f"/api/episodes/{other.pk}/transcript?cursor={cursor}")
    assert "another episode" in _error(response, 400, "invalid_cursor")


def test_episode_detail_has_the_transcript_state(api: APIClient, whisper, channel) -> None:
    episode, _ = whisper
    detail = api.get(f"/api/episodes/{episode.pk}").json()
    state = detail["transcript"]
    assert {k: state[k] for k in ("status", "source", "language", "format", "version")} == {
        "status": "ok", "source": "rss", "language": "en", "format": "vtt", "version": 1,
    }  # fmt: skip
    assert state["segments"] == 462 and state["error"] == "" and state["checked_at"]
    pending = _episode(channel, transcripts=[{"url": "https://x.test/a.vtt"}])
    assert api.get(f"/api/episodes/{pending.pk}").json()["transcript"]["status"] == "pending"
    bare = _episode(channel)
    assert api.get(f"/api/episodes/{bare.pk}").json()["transcript"] == {
        "status": "none", "source": "", "language": "", "format": "", "version": 0,
        "segments": 0, "duration_s": None, "error": "", "checked_at": None,
    }  # fmt: skip


def test_the_document_describes_the_endpoint(api: APIClient) -> None:
    document = api.get("/api/schema?format=json").json()
    operation = document["paths"]["/api/episodes/{id}/transcript"]["get"]
    params = {p["name"]: p for p in operation["parameters"]}
    assert sorted(params["format"]["schema"]["enum"]) == ["json", "srt", "txt", "vtt"]
    assert {"cursor", "page_size", "at"} <= set(params)
    assert set(operation["responses"]["200"]["content"]) == {
        "application/json", "text/vtt", "application/x-subrip", "text/plain",
    }  # fmt: skip
    assert {"400", "404", "409"} <= set(operation["responses"])
    detail = document["paths"]["/api/episodes/{id}"]["get"]["responses"]["200"]
    ref = detail["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    assert "transcript" in document["components"]["schemas"][ref]["properties"]
