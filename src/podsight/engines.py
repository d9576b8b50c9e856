"""Where a step's heavy part runs: ``local`` (this process: DuckDB, onnxruntime, implicit)
or ``spark`` (a job of the ``podsight_spark`` package, ``spark_jobs/``, run in its own
virtualenv).

The steps that take ``engine`` (``events.engagement``, ``content.analyze``, ``recs.train``)
ask :func:`current` which one applies: the step's argument, else the setting
``PODSIGHT_ENGINE`` (default ``local``). A Spark job is a subprocess,
``<spark python> -m podsight_spark run NAME --params JSON``: Spark lives in its own
virtualenv (``make venv-spark``; pyspark and its Java are not in podsight's), and this
side never imports it. The job logs on stderr, which goes to podsight's log file line by
line, and prints its result as one JSON object on the last line of stdout.

docs/pipeline.md "Engines" describes the settings; docs/scale-out.md the cluster side.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

from podsight.errors import ConfigurationError, PodsightError

__all__ = [
    "ENGINES",
    "SparkJobError",
    "SparkUnavailable",
    "current",
    "run_spark_job",
    "spark_python",
]

ENGINES = ("local", "spark")
ENGINE_SETTING = "PODSIGHT_ENGINE"
SPARK_PYTHON_SETTING = "PODSIGHT_SPARK_PYTHON"
# The repository's root (src/podsight/engines.py → ../..), where `make venv-spark` builds.
ROOT = Path(__file__).resolve().parents[2]

logger = logging.getLogger("podsight.engines.spark")
# How podsight_spark's CLI starts the one stderr line that says why a job failed.
_ERROR_PREFIX = "podsight_spark: error:"
# Seconds a job gets to stop after SIGTERM before SIGKILL, when podsight is interrupted:
# inside `docker stop`'s default 10 s, so the job is gone before podsight is killed.
STOP_GRACE_S = 5.0


class SparkUnavailable(ConfigurationError):
    """No Python with the ``podsight_spark`` package to run a Spark job with."""


class SparkJobError(PodsightError):
    """A Spark job ran and failed; the message is the job's own."""

    code = "spark_job_failed"


def current(engine: str | None = None) -> str:
    """The engine a step runs on: ``engine`` when given, else ``PODSIGHT_ENGINE``
    (default ``local``)."""
    if engine is not None and str(engine).strip():
        chosen, where = str(engine).strip().lower(), "engine"
    else:
        chosen = (os.environ.get(ENGINE_SETTING) or "").strip().lower() or "local"
        where = ENGINE_SETTING
    if chosen not in ENGINES:
        raise ConfigurationError(
            f"{where}={chosen!r} is not an engine; use one of {', '.join(ENGINES)}"
        )
    return chosen


def spark_python() -> Path:
    """The Python that runs Spark jobs: ``PODSIGHT_SPARK_PYTHON``, else the repository's
    ``.venv-spark/bin/python``; :class:`SparkUnavailable` saying how to get one."""
    configured = (os.environ.get(SPARK_PYTHON_SETTING) or "").strip()
    if configured:
        path = Path(configured).expanduser()
        if not (path.is_file() and os.access(path, os.X_OK)):
            raise SparkUnavailable(
                f"{SPARK_PYTHON_SETTING}={configured!r} is not an executable Python; point it at "
                "the python of a virtualenv with spark_jobs installed (`make venv-spark` builds "
                "one at .venv-spark)"
            )
        return path
    default = ROOT / ".venv-spark" / "bin" / "python"
    if not default.is_file():
        raise SparkUnavailable(
            f"engine=spark needs the Spark virtualenv, and {default} does not exist: run "
            f"`make venv-spark` in {ROOT}, or set {SPARK_PYTHON_SETTING} to a python with "
            "spark_jobs installed (or use engine=local)"
        )
    return default


def _job_env(python: Path) -> dict[str, str]:
    """The job's environment: ours, less what would make its Python import another
    podsight (a PYTHONPATH meant for podsight's interpreter); Spark's Python workers run
    the same interpreter unless PYSPARK_PYTHON says otherwise (else they would start the
    first ``python3`` on PATH, without the jobs' packages)."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    env.setdefault("PYSPARK_PYTHON", str(python))
    return env


def _result(stdout: str) -> dict[str, Any] | None:
    """The JSON object on the last non-empty line of the job's stdout, if there is one."""
    lines = [line.strip() for line in stdout.splitlines() if line.strip()]
    if not lines:
        return None
    try:
        found = json.loads(lines[-1])
    except ValueError:
        return None
    return found if isinstance(found, dict) else None


def _signal_group(pgid: int, sig: int) -> bool:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        return False
    return True


def _stop_job(process: subprocess.Popen, name: str) -> None:
    """Stop the job's whole process group: SIGTERM, then SIGKILL after ``STOP_GRACE_S``."""
    pgid = process.pid  # the job leads its own group (start_new_session)
    logger.warning("stopping the Spark job %s (process group %d)", name, pgid)
    if not _signal_group(pgid, signal.SIGTERM):
        return
    deadline = time.monotonic() + STOP_GRACE_S
    try:
        process.wait(timeout=STOP_GRACE_S)
    except subprocess.TimeoutExpired:
        pass
    # Children (a JVM) may outlive the job's Python: wait for the group, then kill it.
    while time.monotonic() < deadline and _signal_group(pgid, 0):
        time.sleep(0.05)
    if _signal_group(pgid, signal.SIGKILL):
        logger.warning("the Spark job %s did not stop within %.0f s: killed", name, STOP_GRACE_S)
    process.wait()


def run_spark_job(name: str, /, **params: Any) -> dict[str, Any]:
    """Run the Spark job ``name`` with ``params`` (JSON-serialisable) and return its
    result; :class:`SparkJobError` with the job's message when it fails."""
    python = spark_python()
    command = [str(python), "-m", "podsight_spark", "run", name, "--params", json.dumps(params)]
    logger.info("spark job %s: %s", name, json.dumps(params))
    started = time.monotonic()
    tail: list[str] = []
    try:
        process = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
            command,
            cwd=ROOT if ROOT.is_dir() else None,
            env=_job_env(python),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            errors="replace",
            # Its own process group: the job's JVM and Python workers are stopped with it
            # (_stop_job), and a terminal's Ctrl-C reaches podsight, which stops them.
            start_new_session=True,
        )
    except OSError as exc:
        raise SparkUnavailable(f"cannot start {python} for the Spark job {name}: {exc}") from None

    def drain() -> None:
        # Line by line into the log file as the job runs (Spark's stage lines included),
        # keeping the last few for the error message.
        assert process.stderr is not None
        for line in process.stderr:
            text = line.rstrip()
            if text:
                logger.info("spark %s: %s", name, text)
                tail.append(text)
                del tail[:-20]

    reader = threading.Thread(target=drain, name=f"spark-{name}-stderr", daemon=True)
    reader.start()
    assert process.stdout is not None
    try:
        stdout = process.stdout.read()
        code = process.wait()
    except BaseException:
        # Ctrl-C, SIGTERM (the CLI and the scheduler raise KeyboardInterrupt), anything:
        # a job left running after podsight released its locks would later commit rows
        # computed from data that others have changed since.
        _stop_job(process, name)
        raise
    reader.join()
    seconds = time.monotonic() - started
    result = _result(stdout)
    if code != 0:
        # The CLI's own line (`podsight_spark: error: …`), else its log's last line.
        said = [line.split(_ERROR_PREFIX, 1)[1].strip() for line in tail if _ERROR_PREFIX in line]
        message = (result or {}).get("error") or (said or tail or ["no message"])[-1]
        if "No module named podsight_spark" in "\n".join(tail):
            raise SparkUnavailable(
                f"{python} has no podsight_spark package: run `make venv-spark`, or install "
                f"spark_jobs into that virtualenv (pip install -e spark_jobs)"
            )
        raise SparkJobError(
            f"the Spark job {name} failed (exit {code}) after {seconds:.1f} s: {message} "
            "(the job's whole log is in podsight's log file)"
        )
    if result is None:
        raise SparkJobError(
            f"the Spark job {name} printed no JSON result on its last line of output "
            f"(got {stdout.strip()[-200:]!r}); are podsight and spark_jobs the same version?"
        )
    if "error" in result:
        raise SparkJobError(f"the Spark job {name} failed: {result['error']}")
    logger.info("spark job %s done in %.1f s: %s", name, seconds, json.dumps(result))
    return result
