"""How long the API's writes wait while a large feed is ingested (SQLite).

    .venv/bin/python bench/ingest_lock.py [--mb 60] [--src DIR]

Builds a feed of about ``--mb`` MB from The Daily's real items (repeated, each copy with
its own guid and enclosure URL), then on a fresh ``PODSIGHT_HOME`` (SQLite, default busy
timeout 30 s) starts a live server (waitress, the real WSGI stack) and
``podsight ingest rss`` of that feed, each in its own process. While the ingest runs,
this process sends short writes one after another, 0.25 s apart: a gPodder episode-action
upload and a ``POST /api/links/force``, alternately; and a thread of it takes SQLite's write
lock directly (``BEGIN IMMEDIATE; COMMIT``) every 50 ms, which measures the lock wait alone,
without HTTP, password hashing or CPU contention. It prints the ingest's duration and the
writes' latencies and statuses.

``--src DIR`` runs another checkout's code (e.g. ``git archive main src | tar -x -C /tmp/x``
then ``--src /tmp/x/src``) with this virtualenv: the before/after comparison.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import re
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(os.environ.get("PODSIGHT_TEST_DATA") or ROOT.parent / "shared" / "data")
PASSWORD = "correct horse battery staple"
CLI = "from podsight.cli.main import app; app()"
SERVER = textwrap.dedent(
    """
    from podsight.bootstrap import ensure_database
    ensure_database()
    from waitress import create_server
    from podsight.wsgi import application
    server = create_server(application, host="127.0.0.1", port=0, threads=4)
    print(server.effective_port, flush=True)
    server.run()
    """
)


def build_feed(path: Path, megabytes: float) -> int:
    source = (DATA / "rss_feeds" / "podcast-feed-parser" / "the-daily.xml").read_bytes()
    items = re.findall(rb"<item>.*?</item>", source, re.S)
    head = source[: source.index(b"<item>")]
    target = int(megabytes * 1024 * 1024)
    count, size = 0, len(head)
    with path.open("wb") as out:
        out.write(head)
        while size < target:
            item = items[count % len(items)]
            copy = count // len(items)
            item = re.sub(
                rb"(<guid[^>]*>)(.*?)(</guid>)", rb"\1\2-copy%d\3" % copy, item, count=1, flags=re.S
            )
            item = re.sub(rb'(<enclosure[^>]*url="[^"]*)"', rb'\1?copy=%d"' % copy, item, count=1)
            out.write(item)
            size += len(item)
            count += 1
        out.write(b"</channel></rss>")
    return count


def request(method: str, url: str, body: object, headers: dict[str, str]) -> tuple[int, float]:
    data = json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method)
    req.add_header("Content-Type", "application/json")
    for name, value in headers.items():
        req.add_header(name, value)
    started = time.monotonic()
    try:
        with urllib.request.urlopen(req, timeout=120) as response:
            response.read()
            status = response.status
    except urllib.error.HTTPError as error:
        error.read()
        status = error.code
    return status, time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mb", type=float, default=60.0, help="feed size in MB")
    parser.add_argument("--src", type=Path, help="another checkout's src/ to run")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="podsight-ingest-lock-"))
    feed = work / "big.xml"
    items = build_feed(feed, args.mb)
    print(f"feed: {feed.stat().st_size / 1e6:.1f} MB, {items:,} items")

    env = {
        k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DJANGO_SETTINGS_MODULE")
    }
    env.update(
        PODSIGHT_HOME=str(work / "home"),
        PODSIGHT_FEED_MAX_BYTES=str(feed.stat().st_size * 2),
        PODSIGHT_USER_PASSWORD=PASSWORD,
    )
    if args.src:
        env["PYTHONPATH"] = str(args.src.resolve())
    code = subprocess.run(
        [sys.executable, "-c", "import podsight; print(podsight.__file__)"],
        env=env, capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    print(f"code: {code}")

    def cli(*argv: str) -> str:
        done = subprocess.run(
            [sys.executable, "-c", CLI, *argv], env=env, capture_output=True, text=True
        )
        if done.returncode:
            sys.exit(f"podsight {' '.join(argv)} failed: {done.stderr[-2000:]}")
        return done.stdout

    shows = DATA / "rss_feeds" / "podcast-feed-parser"
    cli("ingest", "rss", "--no-progress", str(shows / "bc-sample.xml"), str(shows / "enigma.xml"))
    cli("users", "create", "alice")
    key = cli("tokens", "create", "reviewer", "--scope", "links:review").strip()
    server = subprocess.Popen(
        [sys.executable, "-c", SERVER],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    base = f"http://127.0.0.1:{int(server.stdout.readline())}"
    basic = base64.b64encode(f"alice:{PASSWORD}".encode()).decode()

    def upload(n: int) -> tuple[int, float]:
        action = {
            "podcast": "https://feeds.example.org/a.xml",
            "episode": f"https://media.example.org/a/{n}.mp3",
            "action": "download",
            "timestamp": "2024-05-01T10:00:00",
        }
        return request(
            "POST",
            f"{base}/api/2/episodes/alice.json",
            [action],
            {"Authorization": f"Basic {basic}"},
        )

    def force(n: int) -> tuple[int, float]:
        body = {"entity": "channel", "record": "1", "other": "2", "reason": f"bench {n}"}
        return request("POST", f"{base}/api/links/force", body, {"Authorization": f"Bearer {key}"})

    samples: dict[str, list[tuple[int, float]]] = {
        "gpodder upload": [],
        "links force": [],
        "write lock (direct)": [],
    }
    done = threading.Event()

    def probe() -> None:
        db = sqlite3.connect(work / "home" / "podsight.sqlite3", timeout=120, isolation_level=None)
        while not done.is_set():
            started = time.monotonic()
            db.execute("BEGIN IMMEDIATE")
            db.execute("COMMIT")
            samples["write lock (direct)"].append((0, time.monotonic() - started))
            time.sleep(0.05)
        db.close()

    prober = threading.Thread(target=probe, daemon=True)
    try:
        started = time.monotonic()
        ingest = subprocess.Popen(
            [sys.executable, "-c", CLI, "ingest", "rss", "--no-progress", str(feed)],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        prober.start()
        n = 0
        while ingest.poll() is None:
            n += 1
            name, fn = ("gpodder upload", upload) if n % 2 else ("links force", force)
            samples[name].append(fn(n))
            time.sleep(0.25)
        out, err = ingest.communicate()
        elapsed = time.monotonic() - started
    finally:
        done.set()
        if prober.is_alive():
            prober.join()
        server.terminate()
        server.wait(timeout=30)
    summary = [line for line in out.splitlines() if " feeds: " in line]
    said = summary[-1] if summary else err[-500:]
    print(f"ingest: exit {ingest.returncode}, {elapsed:.1f} s; {said}")
    for name, rows in samples.items():
        if not rows:
            continue
        waits = sorted(t for _, t in rows)
        p95 = waits[min(len(waits) - 1, int(0.95 * len(waits)))]
        counts = sorted(Counter(s for s, _ in rows).items())
        statuses = "; statuses " + ", ".join(f"{s}×{c}" for s, c in counts) if counts[0][0] else ""
        median = statistics.median(waits)
        print(
            f"{name}: {len(rows)} requests during the ingest; median {median:.3f} s, "
            f"p95 {p95:.3f} s, max {waits[-1]:.3f} s{statuses}"
        )


if __name__ == "__main__":
    main()
