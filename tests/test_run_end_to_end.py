"""What `make run` does, over a real socket: load the demo world (with its simulated
listening history and a recommender trained on it), serve, answer /api/channels and a
simulated listener's recommendations with reasons.

Runs the real CLI in subprocesses on a fresh PODSIGHT_HOME with the default SQLite
database (DATABASE_URL removed, so the PostgreSQL pass never touches a live database).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
from deltalake import DeltaTable

from podsight.demo import build_world
from podsight.demo.apis import demo_show_specs
from support import free_port, wait_until_serving

BIN = Path(sys.executable).parent


def test_demo_load_then_serve_answers_with_data(tmp_path: Path):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "PODSIGHT_FEEDS")}
    env["PODSIGHT_HOME"] = str(tmp_path / "home")
    load = subprocess.run(
        [BIN / "podsight", "demo", "load", "--shows", "8", "--listeners", "60", "--no-progress"],
        env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert load.returncode == 0, load.stdout + load.stderr
    assert "failed" in load.stdout  # the demo deliberately carries an unreadable document
    assert "listening: " in load.stdout and "status: serving" in load.stdout, load.stdout
    tastes = json.loads((tmp_path / "home" / "simulated" / "tastes.json").read_text("utf-8"))
    assert len(tastes["users"]) == 60  # the simulated dataset's truth, for evaluation
    events = DeltaTable(str(tmp_path / "home" / "lake" / "events")).to_pyarrow_table()
    assert set(events.column("client").to_pylist()) == {"simulator"}
    assert len(set(events.column("user_id").to_pylist())) > 40
    key = subprocess.run(
        [BIN / "podsight", "tokens", "create", "reader", "--scope", "staff"],
        env=env, capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    port = free_port()
    server = subprocess.Popen(
        [BIN / "podsight", "serve", "--port", str(port)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,  # no pipe left unread
    )  # fmt: skip
    try:
        base = f"http://127.0.0.1:{port}"
        wait_until_serving(f"{base}/healthz", server, timeout=30)
        channels = httpx.get(f"{base}/api/channels").json()
        # Matching ran after the sync: each demo show is one channel, its Spotify and
        # YouTube records linked to it, not left as channels of their own.
        world = demo_show_specs(build_world(seed=42, shows=8))
        assert len(channels["results"]) == len(world) == 8, channels
        assert all(c["episode_count"] >= 1 for c in channels["results"])
        on = {
            source: sum(any(r["source"] == source for r in c["sources"])
                        for c in channels["results"])
            for source in ("spotify", "youtube")
        }  # fmt: skip
        assert on == {
            "spotify": sum(1 for s in world if s.spotify_id),
            "youtube": sum(1 for s in world if s.youtube_channel_id or s.youtube_handle),
        }
        assert "need review" in load.stdout  # the summary says what waits for a person
        first = channels["results"][0]["id"]
        episodes = httpx.get(f"{base}/api/channels/{first}/episodes").json()["results"]
        assert episodes and episodes[0]["enclosure_url"]
        docs = httpx.get(f"{base}/api/docs")
        assert docs.status_code == 200
        # The Swagger UI's assets come from the package, not a CDN, and are served.
        assert "cdn" not in docs.text.lower()
        bundle = httpx.get(
            f"{base}/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js"
        )
        assert bundle.status_code == 200 and len(bundle.content) > 100_000
        # Any simulated listener has recommendations, each with its sources and a reason.
        for user in ("sim42-00001", "sim42-00060"):
            listed = httpx.get(
                f"{base}/api/users/{user}/recommendations",
                params={"n": 10}, headers={"Authorization": f"Token {key}"},
            )  # fmt: skip
            assert listed.status_code == 200, listed.text
            results = listed.json()["results"]
            assert len(results) == 10, results
            assert all(r["reason"] and r["sources"] for r in results), results
    finally:
        server.terminate()
        server.wait(timeout=10)
