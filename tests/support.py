"""Helpers for tests that run podsight as a user does: a free port, and waiting until a
started server answers. (Imported as ``support``: pytest puts this folder on the path.)"""

from __future__ import annotations

import socket
import subprocess
import time

import httpx

__all__ = ["free_port", "wait_until_serving"]


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
