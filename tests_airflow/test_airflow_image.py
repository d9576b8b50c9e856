"""docker/airflow.Dockerfile's layout, as its image has it, without Docker: the files it
COPYs from the repository put where it puts them, and the .pth file it writes, so that
Airflow's path has only the podsight files it copies (the graph), not podsight's
dependencies. DagBag loads both DAGs from there with no import errors, and every podsight
module it imported comes from those copies."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DOCKERFILE = REPO / "docker" / "airflow.Dockerfile"


def _instructions() -> list[tuple[str, str]]:
    joined, pending = [], ""
    for raw in DOCKERFILE.read_text("utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        joined.append(pending + line)
        pending = ""
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1]) for line in joined]


def _lay_out(root: Path) -> dict[str, str]:
    """The repository's files copied under ``root`` as the final stage COPYs them; the
    stage's ENV (with ``root`` before its absolute paths)."""
    stages: list[list[tuple[str, str]]] = []
    for op, args in _instructions():
        if op == "FROM":
            stages.append([])
        if stages:  # not the ARGs before the first FROM
            stages[-1].append((op, args))
    env: dict[str, str] = {}
    for op, args in stages[-1]:
        if op == "COPY" and not args.startswith("--from"):
            *sources, dest = args.split()
            target = root / dest.lstrip("/")
            for source in sources:
                path = REPO / source
                if path.is_dir():
                    shutil.copytree(path, target, dirs_exist_ok=True)
                else:
                    target.mkdir(parents=True, exist_ok=True)
                    shutil.copy(path, target / path.name)
        elif op == "ENV":
            for name, value in re.findall(r"(\w+)=(\S+)", args):
                env[name] = str(root / value.lstrip("/")) if value.startswith("/") else value
        elif op == "RUN":
            for folder, pth in re.findall(r"echo (\S+) > (\S+\.pth)", args):
                env["_PTH"] = str(root / folder.lstrip("/"))
                env["_PTH_FILE"] = pth
    return env


def test_the_image_layout_loads_the_dags_from_the_graph_alone(tmp_path: Path) -> None:
    root = tmp_path / "image"
    image_env = _lay_out(root)
    graph_dir = Path(image_env["_PTH"])
    assert image_env["_PTH_FILE"].startswith("/opt/airflow/lib/python3.11/site-packages/")
    copied = sorted(str(p.relative_to(graph_dir)) for p in graph_dir.rglob("*.py"))
    assert copied == [
        "podsight/__init__.py", "podsight/pipeline/__init__.py", "podsight/pipeline/graph.py",
    ]  # fmt: skip
    dags = Path(image_env["AIRFLOW__CORE__DAGS_FOLDER"])
    assert (dags / "podsight_daily.py").is_file()

    probe = (
        "import json, sys\n"
        "from airflow.dag_processing.dagbag import DagBag\n"
        "bag = DagBag()\n"
        "print(json.dumps({'errors': {k: str(v) for k, v in bag.import_errors.items()},\n"
        "  'dags': sorted(bag.dags),\n"
        "  'podsight': sorted(m.__file__ for n, m in list(sys.modules.items())\n"
        "                     if n.split('.')[0] == 'podsight')}))\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "PODSIGHT_"))}
    env.update(
        AIRFLOW_HOME=str(tmp_path / "airflow-home"),
        AIRFLOW__CORE__DAGS_FOLDER=str(dags),
        AIRFLOW__CORE__LOAD_EXAMPLES=image_env["AIRFLOW__CORE__LOAD_EXAMPLES"],
        # What the image's .pth file adds; it comes before this virtualenv's own .pth
        # (podsight's whole src), so a podsight module not copied fails to import.
        PYTHONPATH=str(graph_dir),
    )
    ran = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         env=env, timeout=300)  # fmt: skip
    assert ran.returncode == 0, ran.stderr[-3000:]
    found = json.loads(ran.stdout.strip().splitlines()[-1])
    assert found["errors"] == {}
    assert found["dags"] == ["podsight_daily", "podsight_weekly"]
    assert found["podsight"], "the DAG imported no podsight module"
    assert all(f.startswith(str(graph_dir)) for f in found["podsight"]), found["podsight"]
