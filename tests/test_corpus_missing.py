"""Without the shared corpus, the tests that need it skip with one reason, and the rest
run; under ``CI=true`` the run fails at once, saying what is missing."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# One test that reads the corpus (through rss_corpus → test_data) and one that does not.
SAMPLE = [
    "tests/sources/test_rss_breakage.py::test_php_warnings_before_xml_declaration",
    "tests/test_clock.py::test_bad_settings_are_refused_with_the_format",
]


def _pytest(tmp_path: Path, ci: bool) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "PODSIGHT_TEST_CLOCK")}
    env["PODSIGHT_TEST_DATA"] = str(tmp_path / "no-corpus")
    if ci:
        env["CI"] = "true"
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rs", *SAMPLE],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_outside_ci_corpus_tests_skip_with_one_reason(tmp_path):
    run = _pytest(tmp_path, ci=False)
    out = run.stdout + run.stderr
    assert run.returncode == 0, out
    reason = f"the shared test corpus is not at {tmp_path / 'no-corpus'}: set PODSIGHT_TEST_DATA"
    assert f"SKIPPED [1] tests/sources/test_rss_breakage.py: {reason}" in out
    assert f"1 tests skipped: {reason}" in out
    assert "5 passed, 1 skipped" in out  # the other test (5 cases) ran
    assert "error" not in out.lower() and "Traceback" not in out


def test_under_ci_a_missing_corpus_fails_the_run(tmp_path):
    run = _pytest(tmp_path, ci=True)
    out = run.stdout + run.stderr
    assert run.returncode == 1, out
    assert (
        "CI=true and 1 selected tests need the corpus: the shared test corpus is not at "
        f"{tmp_path / 'no-corpus'}: set PODSIGHT_TEST_DATA" in out
    )
    assert "passed" not in out and "Traceback" not in out
