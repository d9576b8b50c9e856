"""Near real time: seconds from a listening event accepted by ``POST /api/events`` to the
listener's changed list from ``GET /api/users/{id}/recommendations`` (target ≤ 5 s).

    .venv/bin/python bench/recs_realtime.py [--trials 10] [--home DIR]

Builds (once per ``--home``) a platform as a user would: real feeds of the shared corpus
ingested, simulated listeners' history (80 listeners, 14 days) consumed into the lake, a
model trained and serving. Then starts ``podsight serve`` and ``podsight events
consume`` and, for each trial, a different listener finishes and likes the episode on
top of their list; the list is polled every 50 ms until that episode is gone from it
(a finished episode is never recommended again, so the list must change). Prints each
trial, the median and the maximum, and the consumer's refresh lines. The first trial
includes the consumer loading the model. Not a test: ``tests/recs/test_realtime.py``
holds the target.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
FEEDS = [
    "podcast-feed-parser/podnews.xml",
    "podcast-feed-parser/planet-money.xml",
    "podcast-feed-parser/the-daily.xml",
    "podcast-feed-parser/80000HoursPodcast.xml",
    "podcast-feed-parser/tvillingpodden.xml",
]


def _env(home: Path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PODSIGHT_", "DJANGO_")) and k != "DATABASE_URL"
    }
    env.update(PODSIGHT_HOME=str(home))
    return env


def _run(env: dict, *args: str) -> str:
    done = subprocess.run([BIN / "podsight", *args], env=env, capture_output=True, text=True)
    if done.returncode:
        sys.exit(f"podsight {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def _prepare(env: dict, corpus: Path) -> None:
    _run(env, "ingest", "rss", *(str(corpus / f) for f in FEEDS))
    _run(
        env, "simulate", "listeners", "--direct", "--speedup", "0", "--users", "80",
        "--duration", "14d", "--rate", "0.05", "--seed", "7", "--no-progress",
    )  # fmt: skip
    _run(env, "events", "consume", "--once")
    _run(env, "recs", "train", "--models", "als,fresh,trending,popular", "--no-progress")


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _listed(base: str, key: str, user: str) -> list[str]:
    response = httpx.get(
        f"{base}/api/users/{user}/recommendations", params={"n": 10},
        headers={"Authorization": f"Token {key}"}, timeout=10,
    )  # fmt: skip
    response.raise_for_status()
    return [item["episode"] for item in response.json()["results"]]


def _finish_and_like(base: str, key: str, user: str, episode: str) -> None:
    now = datetime.now(UTC) - timedelta(seconds=1)
    session = str(uuid.uuid4())

    def event(kind: str, at: datetime, **fields) -> dict:
        return {"event_id": str(uuid.uuid4()), "user_id": user, "episode": int(episode),
                "type": kind, "occurred_at": at.isoformat(), **fields}  # fmt: skip

    events = [
        event("play", now - timedelta(minutes=40), position_s=0, session_id=session),
        event("complete", now - timedelta(seconds=2), session_id=session),
        event("like", now),
    ]
    response = httpx.post(f"{base}/api/events", json={"events": events},
                          headers={"Authorization": f"Token {key}"}, timeout=10)  # fmt: skip
    if response.status_code != 202:
        sys.exit(f"POST /api/events answered {response.status_code}: {response.text}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=10)
    parser.add_argument("--home", type=Path, default=None)
    args = parser.parse_args()
    corpus = Path(os.environ.get("PODSIGHT_TEST_DATA") or ROOT.parent / "shared" / "data")
    home = args.home or Path(tempfile.mkdtemp(prefix="podsight-realtime-"))
    env = _env(home)
    if not (home / "models").is_dir():
        print(f"preparing {home} …", flush=True)
        _prepare(env, corpus / "rss_feeds")
    key = _run(env, "tokens", "create", f"bench-{uuid.uuid4().hex[:8]}",
               "--scope", "events:write", "--scope", "staff").strip()  # fmt: skip
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    log = home / "consumer.out"
    with open(log, "w") as out:
        server = subprocess.Popen([BIN / "podsight", "serve", "--port", str(port)], env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
        consumer = subprocess.Popen([BIN / "podsight", "--verbose", "events", "consume"],
                                    env=env, stdout=out, stderr=subprocess.STDOUT)  # fmt: skip
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    sys.exit("the server did not start")
                time.sleep(0.2)
            took = []
            for i in range(1, args.trials + 1):
                user = f"sim7-{i:05d}"
                before = _listed(base, key, user)
                _finish_and_like(base, key, user, before[0])
                accepted = time.monotonic()
                while before[0] in _listed(base, key, user):
                    if time.monotonic() - accepted > 60:
                        sys.exit(f"{user}'s list did not change within 60 s")
                    time.sleep(0.05)
                took.append(time.monotonic() - accepted)
                print(f"trial {i:2d} ({user}): {took[-1]:.2f} s", flush=True)
                time.sleep(0.5)
        finally:
            for process in (consumer, server):
                process.terminate()
            for process in (consumer, server):
                process.wait(timeout=30)
    print(
        f"accepted → changed list over {len(took)} trials: median "
        f"{statistics.median(took):.2f} s, max {max(took):.2f} s (target ≤ 5 s); "
        f"without the first (model load): median {statistics.median(took[1:] or took):.2f} s, "
        f"max {max(took[1:] or took):.2f} s"
    )
    refreshes = [line for line in log.read_text().splitlines() if "refreshed" in line]
    print(f"consumer refreshes ({len(refreshes)}):")
    for line in refreshes:
        print("  " + line.strip()[-90:])


if __name__ == "__main__":
    main()
