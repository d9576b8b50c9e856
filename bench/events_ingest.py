"""Event ingestion under load: ``POST /api/events`` batches through a real server into the
local (SQLite) event log, then ``events consume`` into the lake.

    .venv/bin/python bench/events_ingest.py [--seconds 20] [--workers 2] [--clients 4]

Sets up a throw-away home with a catalog from real feeds of the test-data corpus, serves
the API (``podsight serve --workers N``, gunicorn), and sends pre-built batches with
unique event ids over keep-alive connections from ``--clients`` threads:
  1. throughput: 5,000-event batches for ``--seconds``;
  2. latency: 1,000-event batches for ``--seconds``, p50/p99 per batch;
then stops the server, runs the consumer once and checks the ``events`` table holds
exactly the accepted events. Target: ≥ 50,000 events/s on the 2-core machine. The peer
figure (Gorse inserting ~17,000 feedback rows/s into PostgreSQL + Redis) is the one the
issue quotes from Gorse's published benchmark, not measured here.
"""

from __future__ import annotations

import argparse
import http.client
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parent.parent
GORSE_ROWS_PER_S = 17_000
FEEDS = [
    "podcast-feed-parser/podnews.xml",
    "podcast-feed-parser/bc-sample.xml",
    "partytime/themnshow.xml",
    "podcast-feed-parser/tvillingpodden.xml",
]
TYPES = ["play", "progress", "progress", "progress", "pause", "complete", "skip", "like"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _bodies(episodes: list[tuple[int, int]], batches: int, size: int, seed: int) -> list[bytes]:
    now = datetime.now(UTC)
    out = []
    for b in range(batches):
        items = []
        for i in range(size):
            episode, duration = episodes[(b * size + i) % len(episodes)]
            kind = TYPES[i % len(TYPES)]
            item = {
                "event_id": str(uuid.uuid4()),
                "user_id": f"user-{(seed + b * size + i) % 5_000}",
                "episode": episode,
                "type": kind,
                "occurred_at": (now - timedelta(seconds=(b * size + i) % 86_400)).isoformat(),
                "session_id": f"s{b}-{i % 50}",
                "device": "bench",
            }
            if kind in ("play", "progress", "pause", "skip"):
                item["position_s"] = float((i * 37) % max(duration, 1))
            items.append(item)
        out.append(orjson.dumps({"events": items}))
    return out


def _wait_for(port: int, server: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"the server exited with {server.returncode}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("the server did not answer /healthz within 60 s")


def _load(port: int, key: str, bodies: list[bytes], clients: int, seconds: float):
    """Send bodies from ``clients`` threads until they run out or time is up."""
    lock = threading.Lock()
    queue = list(reversed(bodies))
    latencies: list[float] = []
    accepted = 0
    errors: list[str] = []
    sent_ids: list[bytes] = []
    stop_at = time.perf_counter() + seconds

    def client() -> None:
        nonlocal accepted
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        headers = {"Authorization": f"Token {key}", "Content-Type": "application/json"}
        while time.perf_counter() < stop_at:
            with lock:
                if not queue:
                    return
                body = queue.pop()
            started = time.perf_counter()
            conn.request("POST", "/api/events", body, headers)
            response = conn.getresponse()
            payload = response.read()
            took = time.perf_counter() - started
            result = orjson.loads(payload)
            with lock:
                latencies.append(took)
                if response.status != 202 or result.get("errors"):
                    errors.append(payload[:300].decode(errors="replace"))
                accepted += result.get("accepted", 0)
                sent_ids.append(body)

    started = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    return accepted, elapsed, latencies, errors, sent_ids


def _pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1] if len(values) > 1 else values[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="Per phase.")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--home", type=Path)
    args = parser.parse_args()
    home = args.home or Path(tempfile.mkdtemp(prefix="podsight-eventbench-"))
    home.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "PODSIGHT_HOME": str(home),
        "DATABASE_URL": f"sqlite:///{home / 'db.sqlite3'}",
        "PODSIGHT_EVENT_LOG": "local",
    }
    os.environ.update(env)
    from podsight.bootstrap import ensure_database

    ensure_database()
    from podsight.accounts.models import SCOPE_EVENTS_WRITE
    from podsight.accounts.services import create_token
    from podsight.catalog.models import Episode
    from podsight.sources.rss.ingest import ingest_feeds

    data = Path(os.environ.get("PODSIGHT_TEST_DATA", ROOT.parent / "shared" / "data"))
    ingest_feeds([str(data / "rss_feeds" / f) for f in FEEDS])
    episodes = [(pk, d or 1800) for pk, d in Episode.objects.values_list("id", "duration_s")]
    _, key = create_token(f"bench-{uuid.uuid4().hex[:6]}", [SCOPE_EVENTS_WRITE])
    # Enough batches for each phase at 150k events/s; unused ones are never sent.
    big = _bodies(episodes, int(args.seconds * 30) + 10, 5_000, seed=1)
    small = _bodies(episodes, int(args.seconds * 150) + 10, 1_000, seed=2)

    port = _free_port()
    server = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "podsight"),
            "serve",
            "--port",
            str(port),
            "--workers",
            str(args.workers),
            "--threads",
            str(args.threads),
        ],
        env=env,
    )
    try:
        _wait_for(port, server)
        _load(port, key, big[:4], args.clients, 30)  # warm: imports, caches, connections
        accepted_warm = 4 * 5_000
        a_accepted, a_elapsed, _, a_errors, a_sent = _load(
            port, key, big[4:], args.clients, args.seconds
        )
        b_accepted, b_elapsed, b_lat, b_errors, b_sent = _load(
            port, key, small, args.clients, args.seconds
        )
    finally:
        server.terminate()
        server.wait(30)

    from podsight import lake
    from podsight.events.consumer import consume

    started = time.perf_counter()
    report = consume(once=True, batch_size=200_000)
    consume_s = time.perf_counter() - started
    total = accepted_warm + a_accepted + b_accepted
    counts = lake.query(
        "SELECT count(*) AS n, count(DISTINCT event_id) AS d FROM e", e="events"
    ).to_pylist()[0]
    sent = {
        item["event_id"]
        for body in big[:4] + a_sent + b_sent
        for item in orjson.loads(body)["events"]
    }
    stored = set(lake.query("SELECT event_id FROM e", e="events").column("event_id").to_pylist())

    print(
        f"event ingestion on {os.cpu_count()} cores, {args.workers} server process(es), "
        f"{args.clients} client connections, local log (SQLite WAL, synchronous=FULL)"
    )
    print(f"{'':34}{'events/s':>12}")
    print(
        f"{'podsight, 5,000-event batches':34}{a_accepted / a_elapsed:>12,.0f}"
        f"   ({a_accepted:,} in {a_elapsed:.1f} s)"
    )
    print(
        f"{'podsight, 1,000-event batches':34}{b_accepted / b_elapsed:>12,.0f}"
        f"   ({b_accepted:,} in {b_elapsed:.1f} s)"
    )
    print(f"{'Gorse (published, PG + Redis)':34}{GORSE_ROWS_PER_S:>12,}")
    print(
        f"1,000-event batch latency under that load: p50 {_pct(b_lat, 50) * 1000:.1f} ms, "
        f"p99 {_pct(b_lat, 99) * 1000:.1f} ms ({len(b_lat)} batches)"
    )
    print(
        f"errors in responses: {len(a_errors) + len(b_errors)}"
        + (f" (first: {(a_errors + b_errors)[0]})" if a_errors or b_errors else "")
    )
    print(
        f"consume --once: {report} in {consume_s:.1f} s "
        f"({report.events_written / consume_s:,.0f} events/s)"
    )
    exact = counts["n"] == counts["d"] == total and stored == sent
    print(
        f"events table: {counts['n']:,} rows, {counts['d']:,} distinct ids; accepted "
        f"{total:,}; same ids as sent: {stored == sent} → {'EXACT' if exact else 'MISMATCH'}"
    )
    print("target: ≥ 50,000 events/s accepted durably")


if __name__ == "__main__":
    main()
