"""The README's "Using it" examples, run as written from a shell.

The block is run by bash, line by line, in a folder holding the files it names (feeds,
a sources file, a Podcast Index dump, a labels file) and a ``.venv`` link to this
virtualenv, on a fresh ``PODSIGHT_HOME``. The user's environment carries source
credentials: here those of the local demo APIs, as ``podsight demo apis`` prints them.
The ``serve`` line runs in the background, as in its own terminal; only its port is
changed, to a free one.
"""

from __future__ import annotations

import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from httpserver import static_server
from support import free_port

from .conftest import user_env
from .test_commands import FEED

pytestmark = pytest.mark.network

ROOT = Path(__file__).resolve().parents[2]
# The README's one feed URL, served here instead (no test may need the internet).
README_FEED_URL = "https://feeds.example.org/show.xml"


def readme_examples() -> list[str]:
    text = (ROOT / "README.md").read_text("utf-8")
    section = text[text.index("## Using it") :]
    block = re.search(r"```sh\n(.*?)```", section, re.S)
    assert block, "README's 'Using it' section has no ```sh block"
    return [line for line in block.group(1).splitlines() if line.strip()]


def _script(lines: list[str], port: int, feed_url: str) -> str:
    """The block as a bash script; what changes: the port, the feed URL, and curl asked to
    fail on an HTTP error (as written it exits 0 on a 500)."""
    out = ["set -euo pipefail", "trap 'kill $(jobs -p) 2>/dev/null || true' EXIT"]
    for number, line in enumerate(lines, start=1):
        line = line.replace("127.0.0.1:8000", f"127.0.0.1:{port}")
        line = line.replace("--port 8000", f"--port {port}")
        line = line.replace(README_FEED_URL, feed_url)
        line = re.sub(r"^curl ", "curl -fsS ", line)
        out.append(f"echo '>>> line {number}' >&2")
        if re.match(r"\.venv/bin/podsight serve\b", line):
            out.append(f"{line.split('#', 1)[0]} &")
            healthz = f"curl -fsS http://127.0.0.1:{port}/healthz >/dev/null"
            out.append(f"for _ in $(seq 1 150); do {healthz} 2>/dev/null && break; sleep 0.2; done")
            out.append(healthz)  # still not serving: the script stops here
        else:
            out.append(line)
    out.append("echo '>>> done' >&2")
    return "\n".join(out) + "\n"


def _workspace(tmp: Path) -> None:
    from podsight.demo import build_world, write_rss_feeds
    from podsight.sources.podcastindex.dump.sample import write_sample_dump

    (tmp / ".venv").symlink_to(Path(sys.prefix))
    feeds = tmp / "feeds"
    write_rss_feeds(build_world(seed=5, shows=3), feeds)
    (tmp / "one.xml").write_text(FEED, "utf-8")
    (tmp / "www").mkdir()
    (tmp / "www" / "show.xml").write_text(FEED.replace("Harmless Test Show", "Served Show"))
    dump = write_sample_dump(tmp / "podcastindex_feeds.db", 200, seed=5)
    # The feed `directory add 920666` names; its URL refuses at once (nothing on port 9).
    with sqlite3.connect(dump) as db:
        db.execute(
            "UPDATE podcasts SET id = 920666, url = 'http://127.0.0.1:9/feed.xml' "
            "WHERE id = (SELECT min(id) FROM podcasts)"
        )
    db.close()
    (tmp / "labels.csv").write_text("entity,left_source,left_id,right_source,right_id,match\n")
    # `recs offline`'s input, as an external harness would hand it over.
    rows = [f"u{u},i{(u * 7 + k) % 30},{1 + k % 3}" for u in range(20) for k in range(6)]
    (tmp / "train.csv").write_text("user_id,item_id,weight\n" + "\n".join(rows) + "\n")
    (tmp / "users.txt").write_text("u1\nu2\nnewcomer\n")


# Not `database`: the README's reader runs on the default SQLite, as this test does; every
# one of its commands also runs on PostgreSQL in tests/cli/test_commands.py (its rerun
# here cost minutes of CI for no command not already checked there).
def test_readme_examples_run_as_written(tmp_path: Path) -> None:
    from podsight.demo import build_world
    from podsight.demo.apis import (
        DEMO_CREDENTIALS,
        DEMO_RATE_LIMITS,
        build_demo_api_server,
        demo_show_specs,
    )

    lines = readme_examples()
    assert any("simulate listeners" in line and "--token" in line for line in lines)
    _workspace(tmp_path)
    world = build_world(seed=42, shows=3)
    (tmp_path / "shows.toml").write_text(
        "".join("\n" + s.to_toml() for s in demo_show_specs(world)).lstrip(), "utf-8"
    )
    port = free_port()
    www = static_server(tmp_path / "www")
    feed_url = www.url("/show.xml")
    assert README_FEED_URL in "\n".join(lines)
    with www, build_demo_api_server(world) as apis:
        env = user_env(
            tmp_path / "home",
            **apis.env(), **DEMO_CREDENTIALS, **DEMO_RATE_LIMITS,
            PODSIGHT_ALLOW_PRIVATE_URLS="1",  # the demo APIs and their feeds are on loopback
            PODSIGHT_USER_PASSWORD="correct horse battery staple",
        )  # fmt: skip
        done = subprocess.run(
            ["bash", "-c", _script(lines, port, feed_url)], cwd=tmp_path, env=env,
            capture_output=True, text=True, timeout=600,
        )  # fmt: skip
    said = f"exit {done.returncode}\n--- stdout\n{done.stdout}\n--- stderr\n{done.stderr}"
    assert "Traceback" not in said and "failed unexpectedly" not in said, said
    assert done.returncode == 0, said
    assert ">>> done" in done.stderr, said
    assert '"results"' in done.stdout, said  # the curl line's answer
    assert "simulated:" in done.stdout, said
    assert "Served Show" in done.stdout, said  # the URL form of `ingest rss` was read
    written = (tmp_path / "recs.csv").read_text("utf-8").splitlines()
    assert written[0] == "user_id,rank,item_id,score"
    assert {line.split(",")[0] for line in written[1:]} == {"u1", "u2", "newcomer"}
