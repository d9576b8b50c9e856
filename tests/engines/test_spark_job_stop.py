"""A Spark job does not outlive podsight: Ctrl-C or SIGTERM of the process running
``run_spark_job`` stops the job's whole process group (its JVM too), SIGKILL after a grace
period for a job that ignores SIGTERM. Here the job is a stand-in that starts a child (the
JVM's place) and sleeps."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from podsight import engines

# `<python> -m podsight_spark run NAME --params JSON`: starts a "JVM", says both pids, sleeps.
FAKE = """#!{python}
import json, signal, subprocess, sys, time
params = json.loads(sys.argv[6])
if params.get("stubborn"):
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
jvm = subprocess.Popen(["sleep", "300"])
with open(params["pids"], "w") as out:
    out.write(f"{{__import__('os').getpid()}} {{jvm.pid}}")
print("job started", file=sys.stderr, flush=True)
time.sleep(300)
"""

# The process running a step, as `podsight pipeline run` is: SIGTERM ends it as Ctrl-C does.
PARENT = """
import signal, sys
from podsight import engines

def stop(signum, frame):
    raise KeyboardInterrupt

signal.signal(signal.SIGTERM, stop)
engines.run_spark_job("events.engagement", pids=sys.argv[1], stubborn=sys.argv[2] == "1")
"""


def _alive(pid: int) -> bool:
    # A zombie no one reaped (PID 1 of a container may not) is gone for our purposes.
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return False
    return state not in ("Z", "X")


@pytest.mark.parametrize(
    ("sig", "stubborn"),
    [(signal.SIGTERM, False), (signal.SIGINT, False), (signal.SIGTERM, True)],
    ids=["sigterm", "ctrl-c", "sigterm-ignored-by-the-job"],
)
def test_interrupting_podsight_stops_the_spark_job_and_its_children(
    tmp_path: Path, sig: int, stubborn: bool
) -> None:
    fake = tmp_path / "spark-python"
    fake.write_text(FAKE.format(python=sys.executable), "utf-8")
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    pids = tmp_path / "pids"
    env = {**os.environ, "PODSIGHT_SPARK_PYTHON": str(fake), "PODSIGHT_HOME": str(tmp_path)}
    parent = subprocess.Popen(
        [sys.executable, "-c", PARENT, str(pids), "1" if stubborn else "0"], env=env,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    job = jvm = 0
    try:
        deadline = time.monotonic() + 60
        while not (pids.exists() and len(pids.read_text().split()) == 2):
            assert parent.poll() is None, parent.communicate()
            assert time.monotonic() < deadline, "the job never started"
            time.sleep(0.05)
        job, jvm = map(int, pids.read_text().split())
        assert _alive(job) and _alive(jvm)
        os.kill(parent.pid, sig)
        _, stderr = parent.communicate(timeout=getattr(engines, "STOP_GRACE_S", 5) + 30)
        assert "KeyboardInterrupt" in stderr  # the interruption is passed on, not swallowed
        assert not _alive(job), "the Spark job outlived podsight"
        assert not _alive(jvm), "the Spark job's children outlived podsight"
    finally:
        for pid in (parent.pid, job, jvm):
            if pid and _alive(pid):
                os.kill(pid, signal.SIGKILL)
