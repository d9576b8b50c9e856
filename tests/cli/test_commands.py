"""Every command of the ``podsight`` binary, run as a user runs it.

The commands are found by walking the Typer app, so a new command cannot be left out:
:data:`CASES` must give it harmless arguments and the exit code it documents, or
``test_every_command_has_a_case`` fails. Each case runs in a subprocess on a fresh
``PODSIGHT_HOME`` with no ``DJANGO_SETTINGS_MODULE`` (see ``conftest.py``).
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
import typer.main

from podsight.cli.main import app
from support import free_port

from .conftest import (
    assert_clean,
    assert_error_line,
    run,
    start,
    user_env,
)

pytestmark = pytest.mark.network

FEED = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd">
<channel><title>Harmless Test Show</title><link>https://example.org/</link>
<description>A show for the command tests.</description><language>en</language>
<item><title>Episode one</title><guid>ep-1</guid><pubDate>Mon, 02 Nov 2026 10:00:00 GMT</pubDate>
<enclosure url="https://example.org/1.mp3" length="1000" type="audio/mpeg"/>
<itunes:duration>12:34</itunes:duration></item>
</channel></rss>
"""


def _commands() -> list[tuple[str, ...]]:
    def walk(command, path: tuple[str, ...]) -> Iterator[tuple[str, ...]]:
        children = getattr(command, "commands", None)
        if children:
            for name, child in sorted(children.items()):
                yield from walk(child, (*path, name))
        else:
            yield path

    return list(walk(typer.main.get_command(app), ()))


@dataclass
class Case:
    """``args`` may hold ``{tmp}`` and ``{port}``; ``prepare(tmp)`` writes the files they
    name; ``serve``: a long-running command, ready when ``serve`` (a URL) answers, then
    stopped with Ctrl-C."""

    args: list[str]
    code: int = 0
    prepare: Callable[[Path], None] | None = None
    serve: str | None = None
    env: dict[str, str] = field(default_factory=dict)
    expect: str = ""  # printed on success
    seeded: bool = False  # on a copy of a home with the demo world loaded


def _feed_file(tmp: Path) -> None:
    (tmp / "feeds").mkdir(exist_ok=True)
    (tmp / "feeds" / "show.xml").write_text(FEED, "utf-8")


def _sources_file(tmp: Path) -> None:
    # Spotify without credentials is skipped: nothing is called, nothing fails.
    (tmp / "shows.toml").write_text('[[shows]]\nname = "A show"\nspotify_id = "abc"\n', "utf-8")


def _dump(tmp: Path) -> None:
    from podsight.sources.podcastindex.dump.sample import write_sample_dump

    write_sample_dump(tmp / "podcastindex_feeds.db", 50, seed=3)


def _labels(tmp: Path) -> None:
    header = "entity,left_source,left_id,right_source,right_id,match\n"
    (tmp / "labels.csv").write_text(header, "utf-8")


# APIs that are unreachable at once, so discovering fails fast instead of waiting on DNS.
_OFFLINE = {
    "PODSIGHT_ITUNES_API_URL": "http://127.0.0.1:9",
    "PODSIGHT_PODCASTINDEX_API_URL": "http://127.0.0.1:9",
    "PODSIGHT_API_MAX_ATTEMPTS": "1",
    "PODSIGHT_ALLOW_PRIVATE_URLS": "1",
}


def _interactions(tmp: Path) -> None:
    (tmp / "train.csv").write_text(
        "user_id,item_id,weight\na,x,1\na,y,2\nb,x,1\nb,z,1\nc,y,1\n", "utf-8"
    )
    (tmp / "users.txt").write_text("a\nnewcomer\n", "utf-8")


CASES: dict[tuple[str, ...], list[Case]] = {
    ("content", "analyze"): [
        Case(["content", "analyze", "--no-progress"], expect="0 episodes analysed"),
        Case(["content", "analyze", "--engine", "gpu", "--no-progress"], code=2),
    ],
    ("content", "transcripts"): [
        Case(["content", "transcripts", "--no-progress"], expect="0 episodes"),
    ],
    ("demo", "apis"): [
        Case(
            ["demo", "apis", "--port", "{port}"],
            serve="http://127.0.0.1:{port}/itunes/search?term=history",
        )
    ],
    ("demo", "labels"): [Case(["demo", "labels", "{tmp}/labels.csv", "--shows", "2"])],
    ("demo", "load"): [
        Case(
            ["demo", "load", "--shows", "2", "--listeners", "0", "--no-progress"],
            expect="need review",
        )
    ],
    ("discover", "search"): [
        # Nothing reachable and no Podcast Index key: nothing found, which is a failed run.
        Case(["discover", "search", "history"], code=1, env=_OFFLINE)
    ],
    ("discover", "trending"): [
        Case(["discover", "trending", "--sources", "{tmp}/shows.toml"], code=1, env=_OFFLINE)
    ],
    # Nothing imported on a fresh home: one error line saying to import the dump.
    ("directory", "add"): [Case(["directory", "add", "920666"], code=1)],
    ("directory", "reindex"): [Case(["directory", "reindex"], code=1)],
    ("directory", "search"): [Case(["directory", "search", "true", "crime"], code=1)],
    ("events", "consume"): [Case(["events", "consume", "--once"], expect="consumed")],
    ("events", "engagement"): [
        Case(["events", "engagement"], expect="the lake has no events yet"),
        # Spark asked for where there is none: one error line saying how to get it.
        Case(
            ["events", "engagement", "--engine", "spark"], code=2,
            env={"PODSIGHT_SPARK_PYTHON": "/nonexistent/python"},
        ),  # fmt: skip
        Case(["events", "engagement", "--engine", "gpu"], code=2),
    ],
    ("import", "podcastindex"): [
        Case(
            ["import", "podcastindex", "{tmp}/podcastindex_feeds.db", "--no-progress"],
            prepare=_dump,
        ),
    ],  # fmt: skip
    ("ingest", "rss"): [
        Case(["ingest", "rss", "{tmp}/feeds", "--no-progress"], prepare=_feed_file, expect="1 new")
    ],
    # A fresh home's lake is empty: one error line naming the tables (the full round trip:
    # test_lake_commands.py).
    ("lake", "history"): [
        Case(["lake", "history", "events"], code=2),
        Case(["lake", "history", "source_metrics"], seeded=True, expect="WRITE"),
    ],
    ("lake", "restore"): [Case(["lake", "restore", "nothing", "--version", "0"], code=2)],
    ("db", "backup"): [Case(["db", "backup", "{tmp}/podsight.backup"], expect="backed up")],
    ("db", "restore"): [Case(["db", "restore", "{tmp}/no-such.backup"], code=2)],
    ("links", "confirm"): [Case(["links", "confirm", "channel", "999"], code=1)],
    ("links", "force"): [Case(["links", "force", "episode", "1", "2"], code=1)],
    ("links", "list"): [Case(["links", "list"]), Case(["links", "list"], seeded=True)],
    ("links", "reject"): [Case(["links", "reject", "channel", "spotify:nothing"], code=1)],
    ("match",): [
        Case(["match", "--no-progress"]),
        Case(
            ["match", "--report", "--labels", "{tmp}/labels.csv", "--no-progress"],
            prepare=_labels,
            seeded=True,
            expect="links per source pair",
        ),
    ],  # fmt: skip
    ("migrate",): [Case(["migrate"], expect="current")],
    # The files of a dataset not where --data-dir says: one line saying where to get them.
    ("pipeline", "run"): [
        Case(["pipeline", "run", "--only", "match", "--no-progress"], expect="succeeded"),
    ],
    ("pipeline", "runs"): [Case(["pipeline", "runs"], expect="no pipeline run yet")],
    # Long-running: tests/pipeline/test_schedule.py runs it and stops it with SIGTERM.
    ("pipeline", "schedule"): [Case(["pipeline", "schedule", "--every", "0s"], code=2)],
    ("recs", "evaluate"): [
        Case(["recs", "evaluate", "--dataset", "movielens-100k", "--data-dir", "{tmp}"], code=2)
    ],
    # A training file that is not there (the full run: tests/recs/test_evaluate.py).
    ("recs", "offline"): [
        Case(
            [
                "recs",
                "offline",
                "--train",
                "{tmp}/nothing.csv",
                "--users",
                "{tmp}/users.txt",
                "--out",
                "{tmp}/recs.csv",
                "--no-progress",
            ],
            code=2,
            prepare=_interactions,
        )
    ],  # fmt: skip
    # A fresh home has no model: listing says to train; acting on one is one error line.
    ("recs", "ab"): [
        Case(["recs", "ab", "20990101-000000-abcd", "--share", "0.2", "--no-progress"], code=1),
        Case(["recs", "ab", "--stop", "--no-progress"], code=1),
    ],
    ("recs", "models"): [Case(["recs", "models"], expect="no model trained yet")],
    ("recs", "promote"): [Case(["recs", "promote", "20990101-000000-abcd"], code=1)],
    ("recs", "rollback"): [Case(["recs", "rollback", "--no-progress"], code=1)],
    ("recs", "train"): [
        Case(["recs", "train", "--no-progress"], code=1),
        Case(["recs", "train", "--engine", "gpu", "--no-progress"], code=2),
    ],
    ("replay",): [Case(["replay", "--no-progress"], expect="replayed 0 payloads")],
    # A fresh home has nothing indexed: an empty answer saying what to run, exit 0.
    ("search",): [Case(["search", "machine", "learning"], expect="no episode matches")],
    ("dashboard",): [
        Case(["dashboard", "--port", "{port}"], serve="http://127.0.0.1:{port}/_stcore/health"),
    ],
    ("serve",): [
        Case(["serve", "--port", "{port}"], serve="http://127.0.0.1:{port}/healthz"),
        Case(
            ["serve", "--port", "{port}", "--workers", "2"], serve="http://127.0.0.1:{port}/healthz"
        ),
    ],  # fmt: skip
    ("simulate", "listeners"): [
        Case(
            [
                "simulate",
                "listeners",
                "--direct",
                "--users",
                "50",
                "--events",
                "200",
                "--speedup",
                "0",
                "--tastes",
                "{tmp}/tastes.json",
                "--no-progress",
            ],
            seeded=True,
            expect="simulated",
        ),
    ],  # fmt: skip
    ("sync",): [
        Case(["sync", "--sources", "{tmp}/shows.toml", "--no-progress"], prepare=_sources_file)
    ],  # fmt: skip
    ("tokens", "create"): [Case(["tokens", "create", "my-app"])],
    ("tokens", "list"): [Case(["tokens", "list"])],
    ("tokens", "revoke"): [Case(["tokens", "revoke", "never-made"], code=1)],
    ("users", "create"): [
        Case(["users", "create", "alice"], env={"PODSIGHT_USER_PASSWORD": "correct horse"})
    ],
}


def test_every_command_has_a_case() -> None:
    missing = [" ".join(c) for c in _commands() if c not in CASES]
    assert not missing, f"give these commands harmless arguments in CASES: {missing}"
    stale = [" ".join(c) for c in CASES if c not in _commands()]
    assert not stale, f"CASES names commands that no longer exist: {stale}"


@pytest.mark.parametrize("command", _commands(), ids=" ".join)
def test_help(command: tuple[str, ...], home: Path) -> None:
    ran = run([*command, "--help"], user_env(home))
    assert_clean(ran)
    assert ran.code == 0, str(ran)
    assert "Usage" in ran.out


_ALL = [
    pytest.param(command, i, id=" ".join(command) + (f" #{i + 1}" if i else ""))
    for command in _commands()
    for i in range(len(CASES.get(command, ())))
]


@pytest.mark.database
@pytest.mark.parametrize(("command", "index"), _ALL)
def test_command_runs(command: tuple[str, ...], index: int, home: Path, tmp_path: Path,
                      request: pytest.FixtureRequest, database: str | None) -> None:  # fmt: skip
    case = CASES[command][index]
    if case.seeded:
        home = request.getfixturevalue("seeded_home")
    if case.prepare:
        case.prepare(tmp_path)
    port = str(free_port())
    args = [a.format(tmp=tmp_path, port=port) for a in case.args]
    env = user_env(home, **case.env)
    if case.serve:
        service = start(args, env, ready=case.serve.format(port=port))
        ran = service.stop()
    else:
        ran = run(args, env)
    assert_clean(ran)
    assert ran.code == case.code, str(ran)
    assert "outlived its leader" not in ran.err, str(ran)
    if database:  # the PostgreSQL pass: the commands used it, not a SQLite file
        assert not (home / "podsight.sqlite3").exists()
    if case.code:  # an expected failure says so in exactly one line
        assert len([x for x in ran.err.splitlines() if x.startswith("error:")]) == 1, str(ran)
    if case.expect:
        assert case.expect in ran.text, str(ran)


# --- Expected failures: one `error: …` line, the documented exit code ------------------


def test_import_of_a_file_that_is_not_sqlite(home: Path, tmp_path: Path) -> None:
    bogus = tmp_path / "feeds.db"
    bogus.write_text("id,title\n1,not a database\n")
    ran = run(["import", "podcastindex", str(bogus), "--no-progress"], user_env(home))
    assert_error_line(ran, 2, "not a readable SQLite database")


def test_import_of_sqlite_without_a_podcasts_table(home: Path, tmp_path: Path) -> None:
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as db:
        db.execute("CREATE TABLE episodes (id INTEGER PRIMARY KEY)")
    ran = run(["import", "podcastindex", str(other), "--no-progress"], user_env(home))
    assert_error_line(ran, 2, "no 'podcasts' table")


def test_import_of_a_missing_file(home: Path, tmp_path: Path) -> None:
    ran = run(["import", "podcastindex", str(tmp_path / "nope.db")], user_env(home))
    assert_error_line(ran, 2, "is not a file")


def test_serve_on_a_port_in_use(home: Path) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        for workers in ("1", "2"):
            ran = run(["serve", "--port", str(port), "--workers", workers], user_env(home),
                      timeout=60)  # fmt: skip
            assert_error_line(ran, 1, f"port {port}", "in use", "--port")


@pytest.mark.parametrize("host", ["999.1.1.1", "no such host.invalid", "-"])
def test_serve_on_an_invalid_host(home: Path, host: str) -> None:
    ran = run(["serve", "--host", host, "--port", str(free_port())], user_env(home), timeout=60)
    assert_error_line(ran, 2, "--host")


def test_serve_on_an_address_not_of_this_machine(home: Path) -> None:
    ran = run(["serve", "--host", "192.0.2.1", "--port", str(free_port())], user_env(home))
    assert ran.code in (1, 2), str(ran)
    assert_error_line(ran, ran.code, "192.0.2.1")


@pytest.mark.parametrize("make", ["under-a-file", "a-file"])
def test_unusable_home(tmp_path: Path, make: str) -> None:
    blocker = tmp_path / "blocker"
    blocker.write_text("a file, not a folder")
    home = blocker / "home" if make == "under-a-file" else blocker
    ran = run(["tokens", "list"], user_env(home))
    assert_error_line(ran, 2, "PODSIGHT_HOME", "set PODSIGHT_HOME")


def test_a_bad_log_level_setting(home: Path) -> None:
    ran = run(["tokens", "list"], user_env(home, PODSIGHT_LOG_LEVEL="LOUD"))
    assert_error_line(ran, 2, "PODSIGHT_LOG_LEVEL")


def test_replay_of_an_unknown_source(home: Path) -> None:
    ran = run(["replay", "--source", "bogus"], user_env(home))
    assert_error_line(ran, 2, "'bogus'", "podcastindex")


@pytest.mark.parametrize("name", ["bad name/../", "a/b", "white space", "", "x" * 151])
def test_users_that_gpodder_urls_cannot_address_are_refused(home: Path, name: str) -> None:
    ran = run(["users", "create", name], user_env(home, PODSIGHT_USER_PASSWORD="pw"))
    assert_error_line(ran, 2, "username")
    listed = run(["tokens", "create", "t", "--user", name], user_env(home))
    assert listed.code == 2  # no such user was made


def test_an_input_error_is_one_line_with_the_option_named(home: Path) -> None:
    # parse_timespan raises an InputError; the command adds the option's name, the entry
    # prints it (no command catches ValueError any more).
    ran = run(["simulate", "listeners", "--direct", "--duration", "soon"], user_env(home))
    assert_error_line(ran, 2, "--duration 'soon' is not a duration")


def test_a_bad_setting_value_is_a_usage_error_not_a_bug(home: Path) -> None:
    ran = run(["ingest", "rss", "https://example.invalid/x.xml", "--no-progress"],
              user_env(home, PODSIGHT_FETCH_READ_TIMEOUT="abc"))  # fmt: skip
    assert_error_line(ran, 2, "PODSIGHT_FETCH_READ_TIMEOUT='abc' is not a number")


def test_a_token_for_a_user_that_does_not_exist(home: Path) -> None:
    ran = run(["tokens", "create", "t", "--user", "nobody"], user_env(home))
    assert_error_line(ran, 2, "no user named 'nobody'", "podsight users create")


def test_simulate_with_the_server_down_ends_with_its_duration(seeded_home: Path,
                                                              tmp_path: Path) -> None:  # fmt: skip
    down = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    ran = run(
        ["simulate", "listeners", "--url", down, "--token", "k", "--users", "200",
         "--rate", "20", "--duration", "4s", "--tastes", str(tmp_path / "t.json"),
         "--no-progress"],
        user_env(seeded_home), timeout=120,
    )  # fmt: skip
    assert_error_line(ran, 1, down, "running?")
    # 4 s of sending plus at most a moment for the last batch: not minutes of retries.
    assert ran.seconds < 4 + 15, str(ran)


def test_log_lines_go_to_the_file_and_with_verbose_to_the_console(home: Path) -> None:
    quiet = run(["tokens", "create", "quiet-app"], user_env(home))
    loud = run(["--verbose", "tokens", "create", "loud-app"], user_env(home))
    assert quiet.code == loud.code == 0, str(quiet) + str(loud)
    assert "created API token" not in quiet.err, str(quiet)
    assert "INFO" in loud.err and "created API token 'loud-app'" in loud.err, str(loud)
    log = (home / "logs" / "podsight.log").read_text()
    assert "created API token 'quiet-app'" in log and "created API token 'loud-app'" in log
    assert quiet.out.strip() not in log  # the key itself is never logged


@pytest.mark.database
def test_parallel_first_commands_on_a_fresh_home_share_one_schema(home: Path) -> None:
    """Four commands started at once on a new home: one applies the migrations while the
    others wait for it, and none trips over half-made tables."""
    import subprocess

    from .conftest import PODSIGHT

    env = user_env(home)
    started = time.monotonic()
    procs = [
        subprocess.Popen([PODSIGHT, "tokens", "create", f"app-{i}"], env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for i in range(4)
    ]  # fmt: skip
    for p in procs:
        _, err = p.communicate(timeout=120)
        assert p.returncode == 0 and "Traceback" not in err, err
    assert time.monotonic() - started < 120
    listed = run(["tokens", "list"], env)
    assert all(f"app-{i}" in listed.out for i in range(4)), str(listed)


def test_demo_apis_prints_the_settings_to_use(home: Path) -> None:
    port = free_port()
    search = f"http://127.0.0.1:{port}/itunes/search?term=history"
    service = start(["demo", "apis", "--port", str(port)], user_env(home), ready=search)
    try:
        assert httpx.get(search, timeout=5).json()["resultCount"] >= 0  # Apple's answer shape
    finally:
        ran = service.stop()
    assert_clean(ran)
    assert f"PODSIGHT_SPOTIFY_API_URL=http://127.0.0.1:{port}" in ran.out, str(ran)
