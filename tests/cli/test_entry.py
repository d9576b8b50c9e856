"""The CLI entry's handling of errors, in process (a fault is injected into a step)."""

from __future__ import annotations

import logging

import pytest
from typer.testing import CliRunner

from podsight.cli.main import app
from podsight.errors import PodsightError, UsageError
from podsight.pipeline import steps

pytestmark = pytest.mark.django_db


def _replay_raising(exc: Exception):
    def replay(*args, **kwargs):
        raise exc

    return replay


def test_an_unexpected_exception_is_one_line_and_a_logged_traceback(monkeypatch, caplog):
    monkeypatch.setitem(steps.STEPS, "sources.replay", _replay_raising(KeyError("boom")))
    with caplog.at_level(logging.ERROR, logger="podsight.internal"):
        result = CliRunner().invoke(app, ["replay", "--no-progress"])
    assert result.exit_code == 1
    lines = [x for x in result.stderr.splitlines() if x.startswith("error:")]
    assert len(lines) == 1 and "This is a bug" in lines[0] and "KeyError" in lines[0]
    assert "Traceback" not in result.output
    [record] = [r for r in caplog.records if r.name == "podsight.internal"]
    assert record.exc_info and record.exc_info[0] is KeyError  # the traceback goes to the file


@pytest.mark.parametrize(("exc", "code"), [(PodsightError("it failed"), 1),
                                           (UsageError("wrong input"), 2)])  # fmt: skip
def test_expected_errors_print_their_message_and_exit_code(monkeypatch, exc, code):
    monkeypatch.setitem(steps.STEPS, "sources.replay", _replay_raising(exc))
    result = CliRunner().invoke(app, ["replay", "--no-progress"])
    assert result.exit_code == code
    assert result.stderr.strip() == f"error: {exc}"
