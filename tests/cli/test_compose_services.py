"""compose.yaml's podsight services run together as compose wires them, without Docker: each
service's command and settings as `docker compose config` resolves them, on one shared
PODSIGHT_HOME (the named volume), with this machine's PostgreSQL (on the PostgreSQL pass)
and Redis standing in for the `postgres` and `redis` services. Events sent to the API reach
the lake through the consumer; each service stops within Docker's stop timeout.

Each service runs as a container's process 1 does: in a PID namespace of its own
(`unshare --pid`), under the image's ENTRYPOINT (tini), and is stopped as `docker stop`
stops it, SIGTERM to that process 1 from outside. Process 1 gets no default signal actions,
so without tini `podsight serve` ignored SIGTERM and would be killed 10 s later."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from deltalake import DeltaTable

from support import compose_services, free_port, wait_until_serving

from .conftest import PODSIGHT, user_env

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.network, pytest.mark.database]

REDIS_URL = os.environ.get("PODSIGHT_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
SECRET = "compose-services-test-" + "k" * 40
# `docker compose stop` waits this long before SIGKILL, unless the service sets more.
DOCKER_STOP_TIMEOUT_S = 10


def _redis_or_skip() -> str:
    import redis

    try:
        redis.Redis.from_url(REDIS_URL).ping()
    except redis.RedisError as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"Redis is required under CI but {REDIS_URL} does not answer: {exc}")
        pytest.skip(f"Redis at {REDIS_URL} does not answer: {exc}")
    return REDIS_URL


def _entrypoint() -> list[str]:
    """The image's ENTRYPOINT (Dockerfile), to be found on this machine too."""
    dockerfile = (ROOT / "Dockerfile").read_text("utf-8")
    (entrypoint,) = re.findall(r"^ENTRYPOINT (\[.*\])$", dockerfile, re.M)
    argv = json.loads(entrypoint)
    missing = [tool for tool in ("unshare", argv[0]) if not shutil.which(tool)]
    if missing:
        reason = f"{', '.join(missing)} not installed (apt-get install tini; .ci/run installs it)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true: {reason}")
        pytest.skip(reason)
    return argv


class Container:
    """A service's command as a container's process 1, under the image's entrypoint."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], log: Path) -> None:
        self.name = name
        self._log = log.open("wb")
        self.outer = subprocess.Popen(
            ["unshare", "--pid", "--fork", *_entrypoint(), *argv],
            env=env, stdout=self._log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        self.pid1 = self._first_child()

    def _first_child(self) -> int:
        children = Path(f"/proc/{self.outer.pid}/task/{self.outer.pid}/children")
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            found = children.read_text().split() if children.exists() else []
            if found:
                return int(found[0])
            time.sleep(0.05)
        raise AssertionError(f"{self.name}: unshare started no process 1")

    def poll(self) -> int | None:
        return self.outer.poll()

    def stop(self, grace_s: float = DOCKER_STOP_TIMEOUT_S) -> None:
        """As `docker stop` does: SIGTERM to process 1, then the container must end within
        the grace period (the service's stop_grace_period, else Docker's 10 s)."""
        started = time.monotonic()
        os.kill(self.pid1, signal.SIGTERM)
        try:
            self.outer.wait(timeout=grace_s)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(
                f"{self.name} did not stop within {grace_s} s of SIGTERM"
            ) from None
        assert time.monotonic() - started < grace_s

    def kill(self) -> None:
        if self.outer.poll() is None:
            os.kill(self.pid1, signal.SIGKILL)  # what Docker does after the timeout
            self.outer.wait(timeout=30)
        self._log.close()


def _env(service: dict, home: Path) -> dict[str, str]:
    """The service's environment here: compose's host names become this machine's servers
    (user_env puts this test's own PostgreSQL database in on the PostgreSQL pass, else the
    home's SQLite file stands in for the `postgres` service)."""
    settings = dict(service["environment"])
    assert settings.pop("PODSIGHT_HOME") == "/data"
    assert settings.pop("DATABASE_URL").endswith("@postgres:5432/podsight")
    assert settings.pop("PODSIGHT_CACHE_URL") == "redis://redis:6379/0"
    return user_env(home, PODSIGHT_CACHE_URL=REDIS_URL, **settings)


def _argv(command: list[str], **ports: int) -> list[str]:
    """The service's command with this machine's ports for the container's."""
    assert command[0] == "podsight"
    argv = [PODSIGHT, *command[1:]]
    for inner, outer in ((8000, ports.get("api")), (8501, ports.get("dashboard"))):
        if outer:
            argv = [str(outer) if a == str(inner) else a for a in argv]
    if ports.get("api"):
        argv = [a.replace("http://api:8000", f"http://127.0.0.1:{ports['api']}") for a in argv]
    return argv


def _healthcheck(service: dict, inner: int, outer: int) -> subprocess.CompletedProcess:
    test = service["healthcheck"]["test"]
    assert test[:2] == ["CMD", "python"]  # the image's virtualenv python: sys.executable here
    argv = [a.replace(f"127.0.0.1:{inner}", f"127.0.0.1:{outer}") for a in test[2:]]
    return subprocess.run([sys.executable, *argv], capture_output=True, text=True, timeout=30)


def test_the_compose_services_run_together_on_one_home(
    seeded_home: Path, tmp_path: Path, database: str | None
) -> None:
    _redis_or_skip()
    compose_env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME")}
    services = compose_services({**compose_env, "PODSIGHT_SECRET_KEY": SECRET})
    home = seeded_home  # the volume every podsight service mounts as /data

    migrate = subprocess.run(
        _argv(services["migrate"]["command"]),
        capture_output=True,
        text=True,
        timeout=300,
        env=_env(services["migrate"], home),
    )
    assert migrate.returncode == 0, migrate.stderr

    ports = {"api": free_port(), "dashboard": free_port()}
    running: dict[str, Container] = {}

    def start(name: str) -> subprocess.Popen:
        argv = _argv(services[name]["command"], **ports)
        running[name] = Container(name, argv, _env(services[name], home), tmp_path / f"{name}.log")
        return running[name].outer

    try:
        api = start("api")
        wait_until_serving(f"http://127.0.0.1:{ports['api']}/healthz", api, timeout=90)
        check = _healthcheck(services["api"], 8000, ports["api"])
        assert check.returncode == 0, check.stderr
        start("consumer")
        dashboard = start("dashboard")
        wait_until_serving(
            f"http://127.0.0.1:{ports['dashboard']}/_stcore/health", dashboard, timeout=90
        )
        check = _healthcheck(services["dashboard"], 8501, ports["dashboard"])
        assert check.returncode == 0, check.stderr
        # The dashboard reaches the API by the name compose gives it (`api`, allowed).
        assert "api" in services["api"]["environment"]["PODSIGHT_ALLOWED_HOSTS"].split(",")

        # What README "Containers" has a user run in the api container, then listeners.
        env = _env(services["api"], home)
        key = subprocess.run(
            [PODSIGHT, "tokens", "create", "compose-test", "--scope", "events:write"],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
            check=True,
        ).stdout.strip()
        sent = subprocess.run(
            [
                PODSIGHT,
                "simulate",
                "listeners",
                "--url",
                f"http://127.0.0.1:{ports['api']}",
                "--token",
                key,
                "--users",
                "5",
                "--events",
                "60",
                "--speedup",
                "0",
                "--no-progress",
            ],
            capture_output=True,
            text=True,
            env=env,
            timeout=300,
        )
        assert sent.returncode == 0, sent.stdout + sent.stderr

        # The consumer, another process on the same home, writes them to the lake.
        events = home / "lake" / "events"
        deadline = time.monotonic() + 120
        written = 0
        while written < 60 and time.monotonic() < deadline:
            if (events / "_delta_log").is_dir():
                written = DeltaTable(str(events)).to_pyarrow_table(columns=["event_id"]).num_rows
            time.sleep(0.5)
        assert written == 60, f"the consumer wrote {written} events of 60 within 120 s"
        if database:  # the PostgreSQL pass: the services used it, not a SQLite file
            assert not (home / "podsight.sqlite3").exists()

        # The scheduler: nothing ran yet, so its first run starts at once; `docker stop`
        # gives it its stop_grace_period to end the step at hand and record the run.
        start("scheduler")
        runs = [PODSIGHT, "pipeline", "runs", "--limit", "1"]
        deadline = time.monotonic() + 120
        listed = ""
        while "running" not in listed and time.monotonic() < deadline:
            assert running["scheduler"].poll() is None, "the scheduler exited"
            listed = subprocess.run(runs, capture_output=True, text=True, env=env).stdout
        assert "running" in listed, f"no pipeline run started within 120 s:\n{listed}"
        grace = services["scheduler"]["stop_grace_period"]
        assert grace == "5m0s"
        running["scheduler"].stop(grace_s=300)
        listed = subprocess.run(runs, capture_output=True, text=True, env=env).stdout
        assert "running" not in listed and "interrupted" in listed, listed

        for name in ("dashboard", "consumer", "api"):
            running[name].stop()
        # The API's healthcheck says so once it is down.
        assert _healthcheck(services["api"], 8000, ports["api"]).returncode != 0
    finally:
        for container in running.values():
            container.kill()
