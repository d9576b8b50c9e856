"""The pipeline graph against the commands run by hand, on the real CLI in subprocesses.

One small demo world (seed 8, 2 shows: 32 episodes, 21 with transcripts) is served by
``podsight demo apis --inputs``: the four APIs, the episodes' transcripts and chapters,
and the feeds and sources file written into home A. Home B (the twin) lists the same shows. Then:

- A: ``podsight pipeline run`` (nothing to train on yet); B: ``sync``, ``match``,
  ``content transcripts``, ``content analyze``;
- the same simulated listening (made once in A's event log, the log copied to B);
- A: ``podsight pipeline run`` again; B: ``events consume --once``, ``events
  engagement``, ``recs train``;

and both homes hold the same catalog, lake tables, model and recommendations. A third
run on A right after does only incremental work (its timings printed beside the first
two's). Last, the demo server stops: ``content.transcripts`` fails for real, what needs it
is recorded ``blocked`` with why, the listening branch still runs; with the server back,
the next run recovers.

SQLite homes (DATABASE_URL removed), as a user's first run has.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pyarrow.compute as pc
import pytest
from deltalake import DeltaTable

from support import free_port, wait_until_serving

BIN = Path(sys.executable).parent
SEED, SHOWS, LISTENERS = "8", "2", 8


@dataclass
class Demo:
    a: Path
    b: Path
    env: dict[str, str]
    port: int
    server: subprocess.Popen
    runs: dict[str, dict[str, tuple[str, float, str]]]  # A's runs: node -> (status, s, text)


def _podsight(home: Path, env: dict[str, str], *args: str, code: int = 0) -> str:
    ran = subprocess.run(
        [BIN / "podsight", *args, *(["--no-progress"] if _progress(args) else [])],
        env={**env, "PODSIGHT_HOME": str(home)}, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert ran.returncode == code, f"{args}: {ran.returncode}\n{ran.stdout}\n{ran.stderr}"
    return ran.stdout + ran.stderr


def _progress(args: tuple[str, ...]) -> bool:
    # The commands with a progress bar take --no-progress.
    return args[:1] in (("sync",), ("match",), ("pipeline",), ("recs",), ("simulate",)) or (
        args[:2] in (("content", "transcripts"), ("content", "analyze"))
    )


def _serve(home: Path, env: dict[str, str], port: int) -> subprocess.Popen:
    server = subprocess.Popen(
        [BIN / "podsight", "demo", "apis", "--seed", SEED, "--shows", SHOWS, "--port",
         str(port), "--inputs"],
        env={**env, "PODSIGHT_HOME": str(home)}, stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    wait_until_serving(f"http://127.0.0.1:{port}/itunes/search?term=x", server, timeout=60)
    return server


def _settings(server: subprocess.Popen) -> dict[str, str]:
    """The `export NAME=value` lines the server printed, up to its `then:` line."""
    found = {}
    for line in server.stdout:
        if line.startswith("then:"):
            return found
        if line.strip().startswith("export "):
            name, value = line.strip().removeprefix("export ").split("=", 1)
            found[name] = value
    raise AssertionError("the demo server printed no settings")


def _last_run(home: Path) -> dict[str, tuple[str, float, str]]:
    with sqlite3.connect(home / "podsight.sqlite3") as db:
        (run,) = db.execute("SELECT max(id) FROM jobs_pipelinerun").fetchone()
        rows = db.execute(
            "SELECT node, status, seconds, summary, error FROM jobs_pipelinesteprun "
            "WHERE run_id = ? ORDER BY position", [run],
        ).fetchall()  # fmt: skip
    return {n: (s, round(sec or 0.0, 2), summary or error) for n, s, sec, summary, error in rows}


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    root = tmp_path_factory.mktemp("acceptance")
    a, b = root / "a", root / "b"
    b.mkdir()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PODSIGHT_", "SPOTIFY_", "YOUTUBE_", "PODCASTINDEX_"))
           and k != "DATABASE_URL"}  # fmt: skip
    env.update(PODSIGHT_PIPELINE_BACKOFF_SCALE="0", COLUMNS="200")
    port = free_port()
    server = _serve(a, env, port)
    env.update(_settings(server))
    assert env["PODSIGHT_ALLOW_PRIVATE_URLS"] == "1"
    shutil.copy(a / "sources.toml", b / "sources.toml")  # the same shows, the same feed files
    runs = {}
    try:
        _podsight(a, env, "pipeline", "run")
        runs["first"] = _last_run(a)
        for args in (["sync"], ["match"], ["content", "transcripts"], ["content", "analyze"]):
            _podsight(b, env, *args)
        # The listening history: once, in A's log; the same log for B.
        _podsight(a, env, "simulate", "listeners", "--direct", "--users", str(LISTENERS),
                  "--rate", str(0.0002 * LISTENERS), "--duration", "30d", "--seed", SEED,
                  "--speedup", "0")  # fmt: skip
        shutil.copytree(a / "events", b / "events")
        shutil.copytree(a / "simulated", b / "simulated")
        _podsight(a, env, "pipeline", "run")
        runs["second"] = _last_run(a)
        for args in (["events", "consume", "--once"], ["events", "engagement"], ["recs", "train"]):
            _podsight(b, env, *args)
        _podsight(a, env, "pipeline", "run")
        runs["third"] = _last_run(a)
        demo = Demo(a, b, env, port, server, runs)
        yield demo
    finally:
        demo_server = locals().get("demo")
        for process in {server, getattr(demo_server, "server", server)}:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()


def _rows(home: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(home / "podsight.sqlite3") as db:
        return db.execute(sql).fetchall()


def _table(home: Path, name: str) -> tuple[int, str]:
    table = DeltaTable(str(home / "lake" / name)).to_pyarrow_table()
    keys = [c for c in ("event_id", "day", "user_id", "episode_id") if c in table.column_names]
    ordered = table.take(pc.sort_indices(table, [(k, "ascending") for k in keys]))
    digest = hashlib.sha256(json.dumps(ordered.to_pylist(), default=str).encode()).hexdigest()
    return table.num_rows, digest


def _distinct(home: Path, name: str, columns: list[str]) -> set[tuple]:
    table = DeltaTable(str(home / "lake" / name)).to_pyarrow_table().select(columns)
    return {tuple(row.values()) for row in table.to_pylist()}


def _content(home: Path, name: str) -> tuple[int, str]:
    """A content table's rows and a digest of what they say: the columns that record when
    a home wrote them (``*_at`` timestamps) left out, vectors to 5 places."""
    import pyarrow as pa

    table = DeltaTable(str(home / "lake" / name)).to_pyarrow_table()
    kept = [
        f.name for f in table.schema
        if not (pa.types.is_timestamp(f.type) or f.name.endswith("_at"))
    ]  # fmt: skip
    rows = []
    for row in table.select(kept).to_pylist():
        for column, value in row.items():
            if isinstance(value, list) and value and isinstance(value[0], float):
                row[column] = [round(v, 5) for v in value]
        rows.append(json.dumps(row, sort_keys=True, default=str))
    return table.num_rows, hashlib.sha256("\n".join(sorted(rows)).encode()).hexdigest()


def test_the_pipeline_builds_what_the_commands_by_hand_build(demo: Demo):
    a, b = demo.a, demo.b
    for sql in (
        "SELECT id, title, merged_into_id FROM catalog_channel ORDER BY id",
        "SELECT id, channel_id, title, guid, merged_into_id FROM catalog_episode ORDER BY id",
    ):
        found = _rows(a, sql)
        assert found and found == _rows(b, sql), sql
    assert len(_rows(a, "SELECT id FROM catalog_channel WHERE merged_into_id IS NULL")) == 2
    assert _rows(a, "SELECT count(*) FROM content_episodeanalysis") == _rows(
        b, "SELECT count(*) FROM content_episodeanalysis"
    )
    for name in ("events", "engagement_daily"):
        rows, digest = _table(a, name)
        assert rows > 0 and (rows, digest) == _table(b, name), name
    for name in ("transcripts", "passages"):
        rows, digest = _content(a, name)
        assert rows > 0 and (rows, digest) == _content(b, name), name
    # The API payloads and metrics are histories: a home that synced more often holds more
    # observations. Which API endpoints were asked, and what was measured of what, is the same.
    for name, columns in (
        ("api_payloads", ["source", "endpoint"]),  # params: an incremental sync asks "since"
        ("source_metrics", ["source", "kind", "external_id", "metric"]),
    ):
        asked = [_distinct(home, name, columns) for home in (a, b)]
        assert asked[0] and asked[0] == asked[1], name
    # One version trained in each home (A's first run had no listening to train on).
    sql = "SELECT status, metrics, data FROM recs_modelversion"
    (status_a, metrics_a, data_a), (status_b, metrics_b, data_b) = (
        *_rows(a, sql), *_rows(b, sql)
    )  # fmt: skip
    assert status_a == status_b == "serving"
    data_a, data_b = json.loads(data_a), json.loads(data_b)
    assert {k: data_a[k] for k in ("users", "items", "interactions")} == {
        k: data_b[k] for k in ("users", "items", "interactions")
    }
    assert data_a["fingerprint"] == data_b["fingerprint"]
    hybrid_a, hybrid_b = json.loads(metrics_a)["hybrid"], json.loads(metrics_b)["hybrid"]
    assert hybrid_a.keys() == hybrid_b.keys() and hybrid_a["ndcg@10"] is not None
    # Trained a minute apart: the decayed weights differ in the last digits only.
    for metric, value in hybrid_a.items():
        assert value == pytest.approx(hybrid_b[metric], abs=1e-6), metric
    # Every listener's list, cached in both, with the same episodes first.
    sql = "SELECT user_id, items FROM recs_cachedrecommendations ORDER BY user_id"
    lists_a, lists_b = dict(_rows(a, sql)), dict(_rows(b, sql))
    assert lists_a.keys() == lists_b.keys() and len(lists_a) >= 4
    for user in sorted(lists_a)[:4]:
        top_a = [i["episode"] for i in json.loads(lists_a[user])[:10]]
        top_b = [i["episode"] for i in json.loads(lists_b[user])[:10]]
        assert top_a == top_b, user


def test_a_run_right_after_does_only_incremental_work(demo: Demo):
    first, second, third = (demo.runs[k] for k in ("first", "second", "third"))
    print("\nnode                 first run        second run       third run")  # noqa: T201
    for node in first:
        cells = [f"{run[node][0][:9]:9} {run[node][1]:6.2f}" for run in (first, second, third)]
        print(f"{node:20} " + "  ".join(cells))  # noqa: T201
    totals = [sum(s for _, s, _ in run.values()) for run in (first, second, third)]
    print("total (s)            " + "  ".join(f"{t:16.2f}" for t in totals))  # noqa: T201
    assert all(status == "succeeded" for status, _, _ in third.values()), third
    text = {node: found[2] for node, found in third.items()}
    assert "incremental run" in text["match"]
    assert "0 transcripts stored" in text["content.transcripts"]
    assert text["content.analyze"].startswith("0 episodes analysed")
    assert "0 event(s) written" in text["events.consume"]
    assert "not recomputed" in text["events.engagement"]
    assert "no new data since version" in text["recs.train"]
    assert "already serves: nothing to promote" in text["recs.promote"]
    assert "0 of" in text["recs.refresh"] and "nothing new" in text["recs.refresh"]
    # The first run trained nothing (no listening yet); the second did.
    assert "no listening" in first["recs.train"][2]
    assert "candidate" in second["recs.train"][2] and "serving" in second["recs.promote"][2]


def test_a_failing_step_blocks_its_dependents_and_the_next_run_recovers(demo: Demo):
    # The demo server gone: every transcript fetch fails (connection refused).
    demo.server.send_signal(signal.SIGINT)
    demo.server.wait(timeout=10)
    out = _podsight(demo.a, demo.env, "pipeline", "run", code=1)
    assert "failed: content.transcripts" in out, out
    failed = _last_run(demo.a)
    assert failed["content.transcripts"][0] == "failed"
    assert failed["content.analyze"][:1] == ("blocked",)
    assert failed["content.analyze"][2] == "needs content.transcripts, which failed"
    for node in ("recs.train", "recs.promote", "recs.refresh"):
        assert failed[node][0] == "blocked", node
        assert "(content.transcripts failed)" in failed[node][2], failed[node]
    assert failed["events.consume"][0] == failed["events.engagement"][0] == "succeeded"
    with sqlite3.connect(demo.a / "podsight.sqlite3") as db:
        attempts = db.execute(
            "SELECT attempts FROM jobs_pipelinesteprun WHERE node = 'content.transcripts' "
            "ORDER BY id DESC LIMIT 1"
        ).fetchone()[0]
    assert attempts == 3  # two retries, as the graph says
    # The server back (same world, same address): the next run recovers.
    demo.server = _serve(demo.a, demo.env, demo.port)
    _podsight(demo.a, demo.env, "pipeline", "run")
    recovered = _last_run(demo.a)
    assert all(status == "succeeded" for status, _, _ in recovered.values()), recovered
