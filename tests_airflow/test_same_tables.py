"""A whole daily run by Airflow (``dag.test()``) leaves a podsight home as ``podsight
pipeline run`` leaves its twin: the same database rows, lake tables and models, and cached
recommendations for the same listeners (tests_airflow/fingerprint.py says why not their order).

Both twins start as one small demo home (``podsight demo load``) with new listening in its
event log, so the run has work to do on both branches of the graph: the listening branch
consumes the new events, recomputes engagement, trains, promotes and refreshes; the
catalog branch syncs the demo's feeds (its APIs are served only while ``demo load`` runs,
so the twins' sources file lists the demo feeds alone) and finds nothing new. podsight
runs in its own virtualenv (``PODSIGHT_BIN``, ``PODSIGHT_PYTHON``: ``make test-airflow``
passes them; default the repository's ``.venv``).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import REPO
from podsight.pipeline import graph

PODSIGHT_BIN = Path(os.environ.get("PODSIGHT_BIN") or REPO / ".venv" / "bin" / "podsight")
PODSIGHT_PYTHON = Path(os.environ.get("PODSIGHT_PYTHON") or REPO / ".venv" / "bin" / "python")
FINGERPRINT = Path(__file__).with_name("fingerprint.py")
# The small demo of tests/dashboard/test_browser.py: 2 shows, 8 listeners.
DEMO = ["--seed", "4", "--shows", "2", "--listeners", "8"]
# Two hours of new plays by the same listeners, written straight into the event log.
NEW_LISTENING = ["--users", "8", "--seed", "4", "--duration", "2h", "--rate", "0.02",
                 "--speedup", "0", "--direct", "--no-progress"]  # fmt: skip


_DOCUMENT_LINKS = re.compile(r"<podcast:(?:transcript|chapters) [^>]*/>")


def _env(home: Path, **settings: str) -> dict[str, str]:
    # The twins differ only by their home: no setting of the caller's reaches them, and no
    # DATABASE_URL (each home has its SQLite database, copied with it).
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PODSIGHT_", "AIRFLOW"))}
    env.pop("DATABASE_URL", None)
    # Retries do not wait (a failure still fails the test, after its retries).
    env.update(PODSIGHT_HOME=str(home), PODSIGHT_PIPELINE_BACKOFF_SCALE="0", **settings)
    return env


def _run(args: list[str | Path], home: Path, timeout: float = 1200, **settings: str) -> str:
    done = subprocess.run(
        [str(a) for a in args], env=_env(home, **settings), capture_output=True, text=True,
        timeout=timeout,
    )  # fmt: skip
    assert done.returncode == 0, (
        f"{args} exited {done.returncode}:\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}"
    )
    return done.stdout


def _fingerprint(home: Path) -> dict:
    return json.loads(_run([PODSIGHT_PYTHON, FINGERPRINT], home))


@pytest.fixture(scope="module")
def twins(tmp_path_factory) -> tuple[Path, Path, dict]:
    if not PODSIGHT_BIN.exists():
        pytest.fail(f"podsight is not at {PODSIGHT_BIN}: run `make venv` or set PODSIGHT_BIN")
    root = tmp_path_factory.mktemp("twins")
    # The demo world's feeds, without their transcript and chapters links: those point at
    # the demo's own server, up only while `demo load` runs (the analysis then works from
    # the show notes, as for any feed without transcripts).
    _run([PODSIGHT_BIN, "demo", "load", *DEMO, "--listeners", "0", "--no-content",
          "--no-apis", "--no-progress"], root / "world")  # fmt: skip
    feeds = root / "feeds"
    feeds.mkdir()
    for written in sorted((root / "world" / "demo" / "feeds").glob("*.xml")):
        text = _DOCUMENT_LINKS.sub("", written.read_text("utf-8"))
        (feeds / written.name).write_text(text, "utf-8")
    paths = sorted(feeds.glob("*.xml"))
    assert paths, "the demo wrote no feeds"

    base = root / "base"
    _run([PODSIGHT_BIN, "demo", "load", *DEMO, "--no-progress"], base,
         PODSIGHT_FEEDS=" ".join(map(str, paths)))  # fmt: skip
    _run([PODSIGHT_BIN, "simulate", "listeners", *NEW_LISTENING], base)
    # What sources.sync follows in both twins (demo load lists the same feeds there).
    (base / "sources.toml").write_text(
        "".join(f'[[shows]]\nname = "{p.stem}"\nrss_url = "{p}"\n\n' for p in paths)
    )
    before = _fingerprint(base)
    homes = []
    for name in ("cli", "airflow"):
        shutil.copytree(base, root / name, symlinks=True)
        homes.append(root / name)
    return homes[0], homes[1], before


def test_airflow_run_equals_podsight_pipeline_run(twins, dagbag, airflow_db, monkeypatch):
    cli_home, airflow_home, before = twins
    _run([PODSIGHT_BIN, "pipeline", "run", "--no-progress"], cli_home)

    for name, value in _env(airflow_home).items():
        monkeypatch.setenv(name, value)
    for name in os.environ:
        if name.startswith("PODSIGHT_") and name not in (
            "PODSIGHT_HOME",
            "PODSIGHT_PIPELINE_BACKOFF_SCALE",
        ):
            monkeypatch.delenv(name)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("PODSIGHT_BIN", str(PODSIGHT_BIN))
    run = dagbag.dags["podsight_daily"].test()
    states = {ti.task_id: str(ti.state) for ti in run.get_task_instances()}
    assert states == {node.name: "success" for node in graph.nodes(["daily"])}

    by_cli, by_airflow = _fingerprint(cli_home), _fingerprint(airflow_home)
    for part in ("database", "lake", "cached"):
        assert by_airflow[part] == by_cli[part], part
    _same_models(by_cli["models"], by_airflow["models"])
    # The run did work on the listening branch (or the comparison would prove little).
    assert by_cli["lake"]["events"]["rows"] > before["lake"]["events"]["rows"]
    assert by_cli["models"] != before["models"]


def _same_models(by_cli: list[str], by_airflow: list[str]) -> None:
    # What each version was trained on and which metrics it measured (fingerprint.py says
    # why not their values).
    assert by_airflow == by_cli
