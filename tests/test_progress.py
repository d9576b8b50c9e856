"""The progress interface: silent by default, notes never lost, Rich only in the CLI."""

from __future__ import annotations

import io
import logging

from rich.console import Console

from podsight.progress import SILENT, RichProgress


def test_silent_shows_nothing_and_logs_notes(caplog):
    with caplog.at_level(logging.INFO, logger="podsight.progress"):
        with SILENT.task("ingest", total=3) as task:
            task.advance(item="a")
            task.update(total=4, completed=2)
        SILENT.note("skipped youtube: no key", level=logging.WARNING)
    assert [r.getMessage() for r in caplog.records] == ["skipped youtube: no key"]
    assert caplog.records[0].levelno == logging.WARNING


def test_rich_prints_notes_escaped_and_keeps_bars_off_a_pipe():
    out = io.StringIO()
    view = RichProgress(Console(file=out, width=200, force_terminal=False))
    with view.task("ingest", total=2) as task:
        task.advance(item="[bold]feed")
        task.advance()
    view.note("show [x] failed", level=logging.ERROR)
    # No bar on a pipe (it would leave blank lines); the note's brackets survive markup.
    assert out.getvalue() == "show [x] failed\n"


def test_a_printed_note_is_not_logged_to_the_console_again(tmp_path):
    """RichProgress prints a note itself; the log file keeps it, the console handler (which
    shows warnings) must not show it a second time."""
    from podsight.logs import django_logging

    config = django_logging(tmp_path)["loggers"]["podsight.progress.printed"]
    assert config["handlers"] == ["file"] and config["propagate"] is False
