"""`podsight serve` on a host other machines reach refuses the built-in secret key, and
says what to set; loopback serving needs nothing."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from podsight.serving import is_loopback, serving_problems
from podsight.settings import INSECURE_SECRET_KEY
from support import free_port

BIN = Path(sys.executable).parent


def test_serve_on_all_interfaces_with_the_built_in_key_refuses_to_start(tmp_path: Path):
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "DJANGO_SETTINGS_MODULE", "PODSIGHT_SECRET_KEY")
    }
    env["PODSIGHT_HOME"] = str(tmp_path / "home")
    started = time.monotonic()
    # Were the check missing, this would serve until the timeout (and fail the test).
    result = subprocess.run(
        [BIN / "podsight", "serve", "--host", "0.0.0.0", "--port", str(free_port())],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2, (result.stdout, result.stderr)
    lines = [x for x in result.stderr.splitlines() if x.startswith("error: ")]
    assert len(lines) == 1, result.stderr
    assert "PODSIGHT_SECRET_KEY" in lines[0]
    assert "Traceback" not in result.stderr + result.stdout
    assert "serving on" not in result.stderr
    assert time.monotonic() - started < 30


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.1.1", "localhost", "::1", "[::1]"])
def test_loopback_hosts_need_nothing(host, settings):
    settings.SECRET_KEY = INSECURE_SECRET_KEY
    assert is_loopback(host)
    assert serving_problems(host) == ([], [])


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.20", "podsight.example.org"])
def test_other_hosts_need_a_secret_key_and_are_told_about_allowed_hosts(host, settings):
    assert not is_loopback(host)
    settings.SECRET_KEY = INSECURE_SECRET_KEY
    errors, _ = serving_problems(host)
    assert len(errors) == 1 and "PODSIGHT_SECRET_KEY" in errors[0]

    settings.SECRET_KEY = "k" * 50
    settings.ALLOWED_HOSTS = ["localhost", "127.0.0.1", "[::1]"]
    errors, warnings = serving_problems(host)
    assert errors == []
    assert len(warnings) == 1 and "PODSIGHT_ALLOWED_HOSTS=" in warnings[0]

    settings.ALLOWED_HOSTS = ["podsight.example.org"]
    assert serving_problems(host) == ([], [])


def test_loopback_behind_a_trusted_proxy_is_checked_like_a_public_host(settings):
    """nginx on this machine forwarding to 127.0.0.1: the world reaches the server."""
    settings.SECRET_KEY = INSECURE_SECRET_KEY
    settings.TRUSTED_PROXIES = ["127.0.0.1/32"]
    errors, _ = serving_problems("127.0.0.1")
    assert errors and "PODSIGHT_SECRET_KEY" in errors[0]
