"""`podsight dashboard` stops with Streamlit, its child, however it is asked to stop."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from support import free_port, user_env, wait_until_serving

pytestmark = pytest.mark.network

PODSIGHT = Path(sys.executable).parent / "podsight"


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["TERM", "INT"])
def test_a_stopped_dashboard_leaves_no_streamlit_behind(tmp_path: Path, signum: int) -> None:
    port = free_port()
    process = subprocess.Popen(
        [PODSIGHT, "dashboard", "--port", str(port), "--api", "http://127.0.0.1:9"],
        env=user_env(tmp_path / "home"), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True,  # a group of its own: what is left of it can be found
    )  # fmt: skip
    try:
        wait_until_serving(f"http://127.0.0.1:{port}/_stcore/health", process, timeout=60)
        # Only the `podsight dashboard` process is signalled (as `make run`'s trap does,
        # and as a supervisor would), not its group: it must pass the signal on.
        os.kill(process.pid, signum)
        assert process.wait(timeout=60) is not None  # a busy machine stops slowly
        deadline = time.monotonic() + 15
        while True:
            try:
                os.killpg(process.pid, 0)  # anything of the group still alive?
            except ProcessLookupError:
                break
            assert time.monotonic() < deadline, "Streamlit outlived `podsight dashboard`"
            time.sleep(0.1)
    finally:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
