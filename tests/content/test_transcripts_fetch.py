"""Fetching feeds' transcripts over HTTP from a local server serving the real corpus
files: the link chosen, conditional GET, new versions, failures recorded per episode, and
the command on a fresh home."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from xml.sax.saxutils import quoteattr

import pytest
from django.utils import timezone

from httpserver import Reply, RouteServer
from podsight import lake
from podsight.catalog.models import Episode
from podsight.content.formats import parse_transcript
from podsight.content.models import EpisodeTranscript
from podsight.content.transcripts import (
    ASR_RETRY_AFTER,
    fetch_transcripts,
    read_current_segments,
    read_segments,
    store_transcript,
)
from podsight.errors import ConfigurationError
from podsight.lake.tables import TRANSCRIPTS
from podsight.progress import SILENT
from podsight.sources.rss.ingest import ingest_feeds
from support import user_env

pytestmark = [pytest.mark.django_db, pytest.mark.network]


@dataclass
class Doc:
    """A document the server serves at ``path`` (``etag``: answers 304 to it)."""

    body: bytes
    content_type: str
    etag: str | None = None


class TranscriptHost:
    def __init__(self, server: RouteServer) -> None:
        self.server = server
        self.docs: dict[str, Doc] = {}

    def serve(self, path: str, doc: Doc) -> str:
        self.docs[path] = doc

        def answer(request) -> Reply:
            current = self.docs[path]
            headers = {"Content-Type": current.content_type}
            if current.etag:
                headers["ETag"] = current.etag
                if request.headers.get("If-None-Match") == current.etag:
                    return Reply(304, b"", headers)
            return Reply(200, current.body, headers)

        self.server.routes[path] = answer
        return self.server.url(path)

    def requested(self) -> list[str]:
        return [path for path, _headers in self.server.seen]

    def headers_for(self, path: str) -> list[dict[str, str]]:
        return [headers for seen, headers in self.server.seen if seen == path]


def _feed(episodes: list[tuple[str, list[dict[str, str]]]]) -> str:
    items = []
    for guid, links in episodes:
        tags = "".join(
            "<podcast:transcript " + " ".join(f"{k}={quoteattr(v)}" for k, v in link.items()) + "/>"
            for link in links
        )
        items.append(
            f"<item><title>Episode {guid}</title><guid>{guid}</guid>"
            "<pubDate>Mon, 02 Nov 2026 10:00:00 GMT</pubDate>"
            f'<enclosure url="https://example.org/{guid}.mp3" length="1" type="audio/mpeg"/>'
            f"{tags}</item>"
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0" '
        'xmlns:podcast="https://podcastindex.org/namespace/1.0"><channel>'
        "<title>Transcribed Show</title><link>https://example.org/</link>"
        "<description>Test show</description><language>en-us</language>"
        + "".join(items)
        + "</channel></rss>"
    )


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PODSIGHT_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("PODSIGHT_ALLOW_PRIVATE_URLS", "1")
    monkeypatch.setenv("PODSIGHT_TRANSCRIPT_MAX_BYTES", "150000")
    return tmp_path / "home"


@pytest.fixture
def host(local_server: RouteServer) -> TranscriptHost:
    return TranscriptHost(local_server)


@pytest.fixture
def corpus(test_data: Path) -> Path:
    return test_data / "transcripts"


def _ingest(tmp_path: Path, episodes: list[tuple[str, list[dict[str, str]]]]) -> dict[str, int]:
    feed = tmp_path / "feed.xml"
    feed.write_text(_feed(episodes), "utf-8")
    report = ingest_feeds([str(feed)])
    assert not report.all_failed
    return {e.guid: e.pk for e in Episode.objects.all()}


def _link(url: str, type_: str, language: str | None = None) -> dict[str, str]:
    link = {"url": url, "type": type_}
    if language:
        link["language"] = language
    return link


def test_the_catalog_transcripts_fetched_stored_and_kept_up_to_date(
    home: Path, tmp_path: Path, host: TranscriptHost, corpus: Path
) -> None:
    ns = corpus / "podcast-namespace"
    vtt = (ns / "example.vtt").read_bytes()
    srt = (ns / "example.srt").read_bytes()
    json_doc = (corpus / "format_edge_cases" / "podcast_search__test_transcript.json").read_bytes()
    html = (ns / "example.html").read_bytes()
    whisper_srt = (corpus / "twiml_whisper" / "twiml_100.srt").read_bytes()
    urls = {
        "vtt": host.serve("/a/t.vtt", Doc(vtt, "text/vtt", '"vtt-1"')),
        "srt": host.serve("/a/t.srt", Doc(srt, "application/x-subrip", '"srt-1"')),
        "json": host.serve("/a/t.json", Doc(json_doc, "application/json", '"json-1"')),
        "html": host.serve("/a/t.html", Doc(html, "text/html", '"html-1"')),
        "txt": host.serve("/a/t.txt", Doc(b"plain words", "text/plain")),
        # A server that says text/plain about an SRT, and no validators: hashed instead.
        "b-srt": host.serve("/b/transcript", Doc(whisper_srt, "text/plain")),
        "b-vtt": host.serve("/b/t.vtt", Doc(vtt, "text/vtt")),
        "json-only": host.serve("/c/t.json", Doc(json_doc, "application/json")),
        "html-only": host.serve("/d/page", Doc(html, "text/html")),
        "broken": host.serve("/e/t.vtt", Doc(b"WEBVTT\n\n00:xx --> 00:01\nno\n", "text/vtt")),
        "binary": host.serve("/e/t.json", Doc(b"\x00\x01\x02" * 100, "application/json")),
        "huge": host.serve("/f/t.vtt", Doc(b"WEBVTT\n\n" + b"x" * 200_000, "text/vtt")),
        "missing": host.server.url("/g/gone.vtt"),
    }
    ids = _ingest(
        tmp_path,
        [
            # Every format on offer: VTT wins.
            ("all", [_link(urls["txt"], "text/plain"), _link(urls["srt"], "application/srt"),
                     _link(urls["html"], "text/html"), _link(urls["json"], "application/json"),
                     _link(urls["vtt"], "text/vtt")]),
            # VTT in German, SRT in the show's English: the language wins over the format.
            ("lang", [_link(urls["b-vtt"], "text/vtt", "de"),
                      _link(urls["b-srt"], "application/x-subrip", "en")]),
            ("json", [_link(urls["json-only"], "application/json")]),
            ("html", [_link(urls["html-only"], "text/html")]),
            ("broken", [_link(urls["broken"], "text/vtt")]),
            ("binary", [_link(urls["binary"], "application/json")]),
            ("huge", [_link(urls["huge"], "text/vtt")]),
            ("missing", [_link(urls["missing"], "text/vtt")]),
            ("none", []),
        ],
    )  # fmt: skip

    first = fetch_transcripts(concurrency=4)
    assert (first.episodes, first.stored, first.failed, first.no_link) == (9, 4, 4, 1)
    assert first.formats == {"vtt": 1, "srt": 1, "json": 1, "html": 1}
    assert first.fetched == 4 + 2  # bodies that arrived: the broken and binary ones too
    assert not first.all_failed
    # Only the chosen link of each episode was fetched.
    requested = host.requested()
    assert sorted(requested) == sorted(
        ["/a/t.vtt", "/b/transcript", "/c/t.json", "/d/page", "/e/t.vtt", "/e/t.json",
         "/f/t.vtt", "/g/gone.vtt"]
    )  # fmt: skip

    def state(guid: str) -> EpisodeTranscript:
        return EpisodeTranscript.objects.get(episode_id=ids[guid])

    s = state("all")
    assert (s.status, s.source, s.format, s.version, s.url) == ("ok", "rss", "vtt", 1, urls["vtt"])
    assert (s.language, s.etag, s.mime_type, s.segments) == ("en-us", '"vtt-1"', "text/vtt", 7)
    assert s.content_sha256 == hashlib.sha256(vtt).hexdigest()
    assert s.duration_s == 25.35 and s.fetched_at and s.checked_at and s.error == ""
    assert read_segments(ids["all"]) == parse_transcript(vtt).segments
    lang = state("lang")
    assert (lang.format, lang.language, lang.url) == ("srt", "en", urls["b-srt"])
    assert len(read_segments(ids["lang"])) == whisper_srt.decode().count("-->")
    assert state("json").segments == 3 and state("html").segments == 10
    for guid, words in (
        ("broken", "no readable cue"),
        ("binary", "NUL"),
        ("huge", "the transcript is larger than the 150,000-byte limit (it declares"),
        ("huge", "raise PODSIGHT_TRANSCRIPT_MAX_BYTES"),
        ("missing", "404"),
        ("missing", "check the transcript URL; the transcript may have moved"),
    ):
        failed = state(guid)
        assert (failed.status, failed.version) == ("error", 0), guid
        assert words in failed.error, (guid, failed.error)
    assert state("none").status == "none"
    assert set(read_current_segments()) == {ids["all"], ids["lang"], ids["json"], ids["html"]}

    # Second run: nothing changed. Validators go out; 304s and equal hashes store nothing.
    host.server.seen.clear()
    second = fetch_transcripts(concurrency=4)
    assert (second.stored, second.unchanged, second.failed) == (0, 4, 4)
    assert second.not_modified == 1  # the VTT has an ETag; the other three are hashed
    assert host.headers_for("/a/t.vtt")[0]["if-none-match"] == '"vtt-1"'
    assert "if-none-match" not in host.headers_for("/b/transcript")[0]
    assert state("all").version == 1 and state("lang").version == 1

    # The VTT changes: version 2, and version 1 stays in the lake.
    changed = vtt.replace(b"In today's episode", b"In this week's episode")
    host.docs["/a/t.vtt"] = Doc(changed, "text/vtt", '"vtt-2"')
    third = fetch_transcripts(concurrency=4)
    assert (third.stored, third.unchanged) == (1, 3)
    assert state("all").version == 2 and state("all").etag == '"vtt-2"'
    assert read_segments(ids["all"])[0].text.startswith("In this week's episode")
    assert read_segments(ids["all"], version=1) == parse_transcript(vtt).segments
    versions = lake.query(
        "SELECT DISTINCT version FROM t WHERE episode_id = ? ORDER BY 1", [ids["all"]],
        t=TRANSCRIPTS,
    ).column("version").to_pylist()  # fmt: skip
    assert versions == [1, 2]

    # The same document at a new address (the feed's link changed): nothing new stored.
    moved = host.serve("/a/moved.vtt", Doc(changed, "text/vtt"))
    Episode.objects.filter(pk=ids["all"]).update(transcripts=[_link(moved, "text/vtt")])
    assert fetch_transcripts().stored == 0
    assert (state("all").version, state("all").url) == (2, moved)
    Episode.objects.filter(pk=ids["all"]).update(transcripts=[_link(urls["vtt"], "text/vtt")])

    # The server fails now: the stored version stays current, the error is said.
    host.docs["/a/t.vtt"] = Doc(b"WEBVTT\n\nnothing timed\n", "text/vtt", '"vtt-3"')
    fourth = fetch_transcripts(limit=1)  # the least recently checked first
    assert len(fourth.outcomes) == 1 and fourth.no_link == 1
    again = fetch_transcripts()
    assert again.failed == 5
    s = state("all")
    assert (s.status, s.version) == ("ok", 2) and "no readable cue" in s.error


def test_limit_moves_on_through_the_catalog(
    home: Path, tmp_path: Path, host: TranscriptHost
) -> None:
    body = b"WEBVTT\n\n00:01.000 --> 00:02.000\nhi\n"
    episodes = [(f"e{i}", [_link(host.serve(f"/{i}.vtt", Doc(body, "text/vtt")), "text/vtt")])
                for i in range(5)]  # fmt: skip
    ids = _ingest(tmp_path, episodes)
    seen: set[int] = set()
    for _ in range(3):
        report = fetch_transcripts(limit=2)
        assert len(report.outcomes) == 2
        seen |= {o.episode_id for o in report.outcomes}
    assert seen == set(ids.values())


def test_one_hostile_or_unreadable_document_never_stops_the_run(
    home: Path,
    tmp_path: Path,
    host: TranscriptHost,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    good = b"WEBVTT\n\n00:01.000 --> 00:02.000\nhi\n"
    deep = host.serve("/deep.json", Doc(b"[" * 100_000, "application/json"))
    bug = host.serve("/bug.vtt", Doc(good + b"\nbug\n", "text/vtt"))
    fine = host.serve("/fine.vtt", Doc(good, "text/vtt"))
    ids = _ingest(tmp_path, [
        ("deep", [_link(deep, "application/json")]),
        ("bug", [_link(bug, "text/vtt")]),
        ("fine", [_link(fine, "text/vtt")]),
    ])  # fmt: skip
    def parse(content: bytes, **kwargs):
        if content.endswith(b"bug\n"):
            raise IndexError("a parser bug")
        return parse_transcript(content, **kwargs)

    # The name content.transcripts reads its parser by: a bug in it, for one document.
    monkeypatch.setattr("podsight.content.transcripts.parse_transcript", parse)
    report = fetch_transcripts(concurrency=1)
    assert (report.stored, report.failed) == (1, 2)
    # Nor does a bug in the fetcher (which returns its errors, never raises them).
    from podsight.sources.rss.fetch import fetch_feed

    def fetch(client, request, **kwargs):
        if request.url == fine:
            raise KeyError("a fetcher bug")
        return fetch_feed(client, request, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr("podsight.content.transcripts.fetch_feed", fetch)
        fetched = fetch_transcripts(concurrency=1)
    assert fetched.failed == 3
    fine_state = EpisodeTranscript.objects.get(episode_id=ids["fine"])
    assert "KeyError" in fine_state.error and fine_state.version == 1  # still current
    deep_state = EpisodeTranscript.objects.get(episode_id=ids["deep"])
    assert deep_state.status == "error" and "nested too deeply" in deep_state.error
    bug_state = EpisodeTranscript.objects.get(episode_id=ids["bug"])
    assert bug_state.status == "error" and "IndexError: a parser bug" in bug_state.error
    assert any(r.exc_info and "bug.vtt" in r.getMessage() for r in caplog.records)
    assert read_segments(ids["fine"])[0].text == "hi"
    # Recorded, so the next run neither aborts nor stops on them first.
    again = fetch_transcripts(concurrency=1)
    assert (again.failed, again.unchanged) == (2, 1)


def test_a_document_another_run_stored_meanwhile_is_not_stored_twice(
    home: Path, tmp_path: Path, host: TranscriptHost, monkeypatch: pytest.MonkeyPatch
) -> None:
    body = b"WEBVTT\n\n00:01.000 --> 00:02.000\nhi\n"
    url = host.serve("/race.vtt", Doc(body, "text/vtt"))
    ids = _ingest(tmp_path, [("race", [_link(url, "text/vtt")])])

    def parse(content: bytes, **kwargs):
        transcript = parse_transcript(content, **kwargs)
        # A concurrent run fetched the same document and stored it after this run read the
        # episode's state (the unchanged check), before this run takes the write lock.
        store_transcript(
            ids["race"], transcript, source="rss", url=url,
            sha256=hashlib.sha256(content).hexdigest(),
        )  # fmt: skip
        return transcript

    monkeypatch.setattr("podsight.content.transcripts.parse_transcript", parse)
    report = fetch_transcripts()
    assert (report.stored, report.unchanged) == (0, 1)
    assert [(o.status, o.version) for o in report.outcomes] == [("unchanged", 1)]
    assert EpisodeTranscript.objects.get(episode_id=ids["race"]).version == 1
    assert lake.query("SELECT DISTINCT version FROM t", t=TRANSCRIPTS).num_rows == 1


def test_asr_without_the_speech_module_says_so(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A build without content/asr.py: the import fails as it would then.
    monkeypatch.setitem(sys.modules, "podsight.content.asr", None)
    with pytest.raises(ConfigurationError, match="without --asr"):
        fetch_transcripts(asr=True, progress=SILENT)


def test_asr_outcomes_are_stored_and_counted(home: Path, tmp_path: Path) -> None:
    from podsight.content.segments import Segment, Transcript

    ids = _ingest(tmp_path, [("speech", []), ("german", []), ("silent", [])])

    @dataclass
    class Outcome:
        status: str
        transcript: Transcript | None = None
        error: str = ""
        details: dict | None = None

    def transcribe(episode: Episode) -> Outcome:
        if episode.guid == "german":
            return Outcome("no_speech_model", error="no speech model for de")
        if episode.guid == "silent":
            return Outcome("none", error="the episode has no enclosure (audio) to transcribe")
        segments = [Segment(0.0, 1.5, "", "hello world")]
        details = {
            "model": "tiny.en",
            "audio_s": 30.0,
            "wall_s": 3.0,
            "url": "https://x.test/a.mp3",
        }
        return Outcome("ok", Transcript(segments, "asr", "en"), details=details)

    report = fetch_transcripts(asr=True, transcribe=transcribe)
    assert report.asr is not None
    assert (report.asr.attempted, report.asr.stored, report.asr.no_speech_model) == (3, 1, 1)
    assert (report.asr.no_audio, report.asr.failed, report.failed) == (1, 0, 0)
    assert (report.asr.audio_s, report.asr.elapsed_s, report.formats) == (30.0, 3.0, {"asr": 1})
    speech = EpisodeTranscript.objects.get(episode_id=ids["speech"])
    assert (speech.status, speech.source, speech.version) == ("ok", "asr", 1)
    assert speech.details["model"] == "tiny.en" and speech.url == "https://x.test/a.mp3"
    assert len(speech.content_sha256) == 64  # the transcript's own when the outcome has none
    german = EpisodeTranscript.objects.get(episode_id=ids["german"])
    assert (german.status, german.error) == ("no_speech_model", "no speech model for de")
    assert read_segments(ids["speech"]) == [Segment(0.0, 1.5, "", "hello world")]
    assert EpisodeTranscript.objects.get(episode_id=ids["silent"]).status == "none"
    # Speech is not done again: one transcribed, one without a speech model (the one
    # without audio is asked again: its feed may have one by now).
    again = fetch_transcripts(asr=True, transcribe=transcribe)
    assert again.asr is not None and again.asr.attempted == 1 and again.stored == 0


def test_an_episode_whose_recognition_raises_is_its_error_not_the_runs(
    home: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from podsight.content.segments import Segment, Transcript

    ids = _ingest(tmp_path, [("full-tmp", []), ("fine", [])])

    @dataclass
    class Outcome:
        status: str
        transcript: Transcript | None = None

    def transcribe(episode: Episode) -> Outcome:
        if episode.guid == "full-tmp":
            raise OSError(28, "No space left on device")
        return Outcome("ok", Transcript([Segment(0.0, 1.0, "", "hello")], "asr", "en"))

    report = fetch_transcripts(asr=True, transcribe=transcribe)
    assert report.asr is not None
    assert (report.asr.attempted, report.asr.stored, report.asr.failed) == (2, 1, 1)
    state = EpisodeTranscript.objects.get(episode_id=ids["full-tmp"])
    assert state.status == "error" and "No space left on device" in state.error
    assert any(r.exc_info and "speech recognition" in r.getMessage() for r in caplog.records)

    # The failed one is not downloaded again on every run: only once its enclosure
    # changes, or a week after it failed.
    again = fetch_transcripts(asr=True, transcribe=transcribe)
    assert again.asr is not None and again.asr.attempted == 0
    Episode.objects.filter(pk=ids["full-tmp"]).update(enclosure_url="https://example.org/b.mp3")
    moved = fetch_transcripts(asr=True, transcribe=transcribe)
    assert moved.asr is not None and moved.asr.attempted == 1
    assert fetch_transcripts(asr=True, transcribe=transcribe).asr.attempted == 0
    week = timezone.now() - ASR_RETRY_AFTER - timedelta(minutes=1)
    EpisodeTranscript.objects.filter(episode_id=ids["full-tmp"]).update(checked_at=week)

    def misconfigured(episode: Episode) -> Outcome:
        raise ConfigurationError("PODSIGHT_ASR_THREADS must be a whole number")

    with pytest.raises(ConfigurationError, match="ASR_THREADS"):
        fetch_transcripts(asr=True, transcribe=misconfigured)


def test_asr_leaves_a_feed_transcript_alone_when_the_link_is_gone(
    home: Path, tmp_path: Path
) -> None:
    from podsight.content.segments import Segment, Transcript

    ids = _ingest(tmp_path, [("dropped", [])])  # the feed links nothing (any more)
    feed = Transcript([Segment(0.0, 1.0, "Ann", "from the feed")], "vtt", "en")
    store_transcript(ids["dropped"], feed, source="rss", url="https://x.test/t.vtt", sha256="a")
    asked: list[int] = []

    def transcribe(episode: Episode):
        asked.append(episode.pk)
        raise AssertionError("an episode with a transcript was sent to speech recognition")

    report = fetch_transcripts(asr=True, transcribe=transcribe)
    assert asked == [] and report.asr is not None and report.asr.attempted == 0
    state = EpisodeTranscript.objects.get(episode_id=ids["dropped"])
    assert (state.source, state.version) == ("rss", 1)


def test_the_command_on_a_fresh_home(tmp_path: Path, host: TranscriptHost, corpus: Path) -> None:
    """`podsight ingest rss` then `podsight content transcripts`, as a user runs them."""
    vtt = (corpus / "podcast-namespace" / "example.vtt").read_bytes()
    url = host.serve("/show/1.vtt", Doc(vtt, "text/vtt", '"v1"'))
    feed = tmp_path / "feed.xml"
    feed.write_text(_feed([("one", [_link(url, "text/vtt")]), ("two", [])]), "utf-8")
    env = user_env(tmp_path / "home", PODSIGHT_ALLOW_PRIVATE_URLS="1")
    podsight = str(Path(sys.executable).parent / "podsight")

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [podsight, *args], env=env, capture_output=True, text=True, timeout=180
        )

    assert run("ingest", "rss", str(feed), "--no-progress").returncode == 0
    ran = run("content", "transcripts", "--no-progress")
    assert ran.returncode == 0, ran.stderr
    assert "2 episodes: 1 stored (1 vtt)" in ran.stdout and "1 without a link" in ran.stdout
    again = run("content", "transcripts", "--no-progress")
    assert "0 stored, 1 unchanged (1 not modified)" in again.stdout, again.stdout
    assert "Traceback" not in ran.stderr + again.stderr
    host.docs["/show/1.vtt"] = Doc(b"not a transcript at all \x00", "text/vtt", '"v2"')
    failing = run("content", "transcripts", "--no-progress")
    # Every transcript attempted failed (the one): exit 1, the reason shown.
    assert failing.returncode == 1 and "NUL" in failing.stdout + failing.stderr
