"""Storing transcripts by version in the lake and reading the current one back."""

from __future__ import annotations

from pathlib import Path

import pytest

from podsight import lake
from podsight.catalog.models import Channel, Episode
from podsight.conf import SettingError
from podsight.content.models import EpisodeTranscript
from podsight.content.segments import Segment, Transcript
from podsight.content.transcripts import (
    TranscriptLink,
    choose_link,
    read_current_segments,
    read_segments,
    store_transcript,
    transcript_max_bytes,
)
from podsight.lake.tables import TRANSCRIPTS

pytestmark = pytest.mark.django_db


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PODSIGHT_HOME", str(tmp_path))
    return tmp_path


def _episode(title: str = "One") -> Episode:
    channel = Channel.objects.create(title="Show", language="en")
    return Episode.objects.create(channel=channel, title=title)


SEGMENTS = [
    Segment(0.0, 2.5, "Ann", "Hello there."),
    Segment(2.5, None, "", "No end."),
    Segment(None, None, "Bo", "No times."),
]


def test_versions_grow_and_old_ones_stay(home: Path) -> None:
    episode, other = _episode(), _episode("Two")
    first = Transcript(SEGMENTS, "json", language="en", warnings=["one repair"])
    assert read_segments(episode.pk) == []
    v1 = store_transcript(
        episode.pk, first, source="rss", url="https://x.test/t.json", sha256="a" * 64,
        mime_type="application/json", etag='"e1"',
    )  # fmt: skip
    assert v1 == 1
    state = EpisodeTranscript.objects.get(episode=episode)
    assert (state.status, state.source, state.version, state.segments) == ("ok", "rss", 1, 3)
    assert (state.format, state.language, state.etag, state.duration_s) == (
        "json",
        "en",
        '"e1"',
        2.5,
    )
    assert state.warnings == ["one repair"] and state.fetched_at is not None
    second = Transcript([Segment(1.0, 2.0, "", "Changed.")], "vtt")
    v2 = store_transcript(
        episode.pk, second, source="asr", url="https://x.test/a.mp3", sha256="b" * 64,
        details={"model": "tiny.en"},
    )  # fmt: skip
    assert v2 == 2
    store_transcript(other.pk, first, source="rss", url="u", sha256="c" * 64)
    assert read_segments(episode.pk) == second.segments
    assert read_segments(episode.pk, version=1) == SEGMENTS
    assert read_segments(other.pk) == SEGMENTS
    assert read_current_segments() == {episode.pk: second.segments, other.pk: SEGMENTS}
    assert read_current_segments([other.pk]) == {other.pk: SEGMENTS}
    state.refresh_from_db()
    assert (state.source, state.details, state.version) == ("asr", {"model": "tiny.en"}, 2)
    rows = lake.query(
        "SELECT version, count(*) AS n FROM t WHERE episode_id = ? GROUP BY 1 ORDER BY 1",
        [episode.pk],
        t=TRANSCRIPTS,
    ).to_pylist()
    assert rows == [{"version": 1, "n": 3}, {"version": 2, "n": 1}]


def test_a_version_the_database_missed_is_not_reused(home: Path) -> None:
    episode = _episode()
    store_transcript(episode.pk, Transcript(SEGMENTS, "json"), source="rss", url="u", sha256="a")
    # A run stopped after the lake write: the database never heard of version 1.
    EpisodeTranscript.objects.filter(episode=episode).delete()
    version = store_transcript(
        episode.pk, Transcript(SEGMENTS[:1], "json"), source="rss", url="u", sha256="b"
    )
    assert version == 2
    assert read_segments(episode.pk) == SEGMENTS[:1]


def test_source_must_be_known(home: Path) -> None:
    with pytest.raises(ValueError, match="source"):
        store_transcript(1, Transcript(SEGMENTS, "json"), source="ftp", url="u", sha256="a")


def _link(url: str, type_: str = "", language: str = "") -> TranscriptLink:
    return TranscriptLink(url, type_, language)


def test_choose_link_prefers_language_then_format() -> None:
    links = [
        _link("https://x.test/t.txt", "text/plain", "en"),
        _link("https://x.test/t.srt", "application/x-subrip", "en-US"),
        _link("https://x.test/t.vtt", "text/vtt", "de"),
        _link("https://x.test/t.json", "application/json"),
        _link("https://x.test/t.html", "text/html", "en"),
    ]
    assert choose_link(links, "en").url.endswith(".srt")  # en beats the better formats
    assert choose_link(links, "de").url.endswith(".vtt")
    assert choose_link(links, "fr").url.endswith(".json")  # no language beats another one
    assert choose_link(links, "").url.endswith(".vtt")  # no channel language: format alone
    assert choose_link([_link("https://x.test/x"), _link("https://x.test/y.vtt")]).url.endswith(
        "y.vtt"
    )
    assert choose_link([]) is None
    # One reading of language tags for link choice and the speech guard: 'eng' is English.
    spelled = [_link("https://x.test/a.vtt", "text/vtt", "de"),
               _link("https://x.test/b.srt", "application/x-subrip", "eng")]  # fmt: skip
    assert choose_link(spelled, "en_GB").url.endswith("b.srt")


def test_the_transcript_size_cap_reads_as_the_fetchers_caps(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PODSIGHT_TRANSCRIPT_MAX_BYTES", "2e6")
    assert transcript_max_bytes() == 2_000_000
    for bad in ("lots", "0", "-5"):
        monkeypatch.setenv("PODSIGHT_TRANSCRIPT_MAX_BYTES", bad)
        with pytest.raises(SettingError, match="PODSIGHT_TRANSCRIPT_MAX_BYTES"):
            transcript_max_bytes()
    monkeypatch.delenv("PODSIGHT_TRANSCRIPT_MAX_BYTES")
    assert transcript_max_bytes() == 10 * 1024 * 1024


@pytest.mark.django_db(transaction=True)
def test_two_writers_at_once_take_different_versions(home: Path) -> None:
    """The feed and speech paths (or two runs) storing one episode at the same moment."""
    import threading

    from django.db import connection

    episode = _episode()
    start = threading.Barrier(4)
    versions: list[int] = []
    errors: list[BaseException] = []

    def write(n: int) -> None:
        try:
            start.wait()
            t = Transcript([Segment(float(n), None, "", f"take {n}")], "json")
            versions.append(store_transcript(episode.pk, t, source="rss", url="u", sha256=str(n)))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=write, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    assert sorted(versions) == [1, 2, 3, 4]
    rows = lake.query(
        "SELECT version, count(*) AS n FROM t GROUP BY 1 ORDER BY 1", t=TRANSCRIPTS
    ).to_pylist()
    assert rows == [{"version": v, "n": 1} for v in (1, 2, 3, 4)]
