"""Password guessing against a live server: what it costs an unrelated request.

    .venv/bin/python bench/login_guessing.py [--parallel 80] [--rounds 3] [--seconds 5]

Serves a throw-away home (``podsight serve``: waitress, one process, 8 threads) with one
user, then measures ``GET /api/channels`` once every 100 ms: first for ``--seconds``
alone, then while ``--parallel`` threads each send ``--rounds`` HTTP Basic logins with a
wrong password for that user to ``/api/2/auth/{user}/login.json``. Prints the GET
latency (p50, p95, max) of both phases and how the guesses were answered (401: the
password was hashed and checked; 429: refused before that).
"""

from __future__ import annotations

import argparse
import base64
import http.client
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

BIN = Path(sys.executable).parent
USER, PASSWORD = "alice", "correct horse battery staple"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _request(port: int, method: str, path: str, headers: dict[str, str] | None = None) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        conn.request(method, path, body=b"" if method == "POST" else None, headers=headers or {})
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


def _wait_for(port: int, server: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"the server exited with {server.returncode}")
        try:
            if _request(port, "GET", "/healthz") == 200:
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("the server did not answer /healthz within 60 s")


def _probe(port: int, stop: threading.Event, out: list[float]) -> None:
    while not stop.is_set():
        started = time.perf_counter()
        status = _request(port, "GET", "/api/channels?page_size=1")
        if status != 200:
            raise SystemExit(f"GET /api/channels answered {status}")
        out.append((time.perf_counter() - started) * 1000)
        stop.wait(0.1)


def _summary(latencies: list[float]) -> str:
    ordered = sorted(latencies)
    p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
    return (
        f"n={len(ordered)} p50={statistics.median(ordered):.1f} ms "
        f"p95={p95:.1f} ms max={ordered[-1]:.1f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parallel", type=int, default=80)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()

    home = tempfile.mkdtemp(prefix="podsight-bench-login-")
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL",)}
    env["PODSIGHT_HOME"] = home
    subprocess.run(
        [BIN / "podsight", "users", "create", USER, "--password", PASSWORD],
        env=env,
        check=True,
        capture_output=True,
    )
    port = _free_port()
    server = subprocess.Popen(
        [BIN / "podsight", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_for(port, server)
        quiet: list[float] = []
        stop = threading.Event()
        probe = threading.Thread(target=_probe, args=(port, stop, quiet))
        probe.start()
        time.sleep(args.seconds)
        stop.set()
        probe.join()

        answers: Counter[int] = Counter()
        lock = threading.Lock()
        wrong = base64.b64encode(f"{USER}:wrong".encode()).decode()

        def guess() -> None:
            for _ in range(args.rounds):
                status = _request(
                    port,
                    "POST",
                    f"/api/2/auth/{USER}/login.json",
                    {"Authorization": f"Basic {wrong}"},
                )
                with lock:
                    answers[status] += 1

        loaded: list[float] = []
        stop = threading.Event()
        probe = threading.Thread(target=_probe, args=(port, stop, loaded))
        guessers = [threading.Thread(target=guess) for _ in range(args.parallel)]
        started = time.perf_counter()
        probe.start()
        for thread in guessers:
            thread.start()
        for thread in guessers:
            thread.join()
        took = time.perf_counter() - started
        stop.set()
        probe.join()
    finally:
        server.terminate()
        server.wait(timeout=30)

    print(f"GET /api/channels alone:           {_summary(quiet)}")
    print(f"GET /api/channels during guessing: {_summary(loaded)}")
    print(
        f"{args.parallel} × {args.rounds} wrong logins in {took:.1f} s: "
        + ", ".join(f"{n} × {status}" for status, n in sorted(answers.items()))
    )


if __name__ == "__main__":
    main()
