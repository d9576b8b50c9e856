"""Helpers for tests that run podsight as a user does: a free port, waiting until a
started server answers, and the environment of a user's shell on a fresh home.
(Imported as ``support``: pytest puts this folder on the path.)"""

from __future__ import annotations

import os
import socket
import subprocess
import time
from pathlib import Path

import httpx

__all__ = ["free_port", "user_env", "wait_until_serving"]


def user_env(home: Path, **settings: str) -> dict[str, str]:
    """This process's environment without podsight's and Django's settings (a user's shell),
    on ``home``, with wide output and ``settings`` added."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PODSIGHT_", "DJANGO_")) and k != "DATABASE_URL"
    }
    env.update(PODSIGHT_HOME=str(home), COLUMNS="200", **settings)
    return env


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_serving(url: str, process: subprocess.Popen | None = None, *,
                       timeout: float = 60, ok: range = range(200, 300)) -> None:  # fmt: skip
    """Until ``url`` answers with a status in ``ok``; AssertionError when ``process``
    ended first or ``timeout`` passed (the last answer or error said)."""
    deadline = time.monotonic() + timeout
    last = "no answer"
    while True:
        if process is not None and process.poll() is not None:
            raise AssertionError(f"the server exited ({process.returncode}) before serving {url}")
        try:
            status = httpx.get(url, timeout=2).status_code
            if status in ok:
                return
            last = f"answered {status}"
        except httpx.TransportError as exc:
            last = type(exc).__name__
        if time.monotonic() > deadline:
            raise AssertionError(f"{url} not serving after {timeout} s ({last})")
        time.sleep(0.2)
