"""Airflow's tests run in Airflow's virtualenv, against a metadata database of their own.

Airflow reads its configuration when first imported, so the environment is set here,
before any test module imports it: AIRFLOW_HOME (and its SQLite database) in a temporary
folder, the repository's dags/ folder, no example DAGs.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DAGS = REPO / "dags"

_HOME = Path(tempfile.mkdtemp(prefix="podsight-airflow-"))
os.environ["AIRFLOW_HOME"] = str(_HOME)
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(DAGS)
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
# No airflow.cfg of the user's can change what these tests see.
os.environ.pop("AIRFLOW_CONFIG", None)
os.environ.pop("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", None)


def pytest_sessionfinish(session, exitstatus) -> None:
    shutil.rmtree(_HOME, ignore_errors=True)


@pytest.fixture(scope="session")
def airflow_db() -> Path:
    """Airflow's metadata database (SQLite in AIRFLOW_HOME), migrated: dag.test() needs it."""
    done = subprocess.run(
        [Path(sys.executable).parent / "airflow", "db", "migrate"],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return _HOME / "airflow.db"


@pytest.fixture(scope="session")
def dagbag():
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=DAGS)
