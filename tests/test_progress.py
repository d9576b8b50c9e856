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


def test_a_requests_unhandled_exception_leaves_its_traceback_in_the_log_file(tmp_path):
    """The API answers 500 with "it has been logged": Django logs the traceback on
    ``django.request``, which must reach the file (its default handler needs DEBUG)."""
    import logging
    import logging.config

    from podsight.logs import django_logging, log_file

    config = django_logging(tmp_path)
    saved = logging.getLogger("django.request")
    old = (saved.handlers[:], saved.level, saved.propagate)
    try:
        logging.config.dictConfig(config)
        try:
            raise ZeroDivisionError("the failing view")
        except ZeroDivisionError:
            logging.getLogger("django.request").error("Internal Server Error: /x", exc_info=True)
        for handler in logging.getLogger("django.request").handlers:
            handler.flush()
        text = log_file(tmp_path).read_text("utf-8")
        assert "Internal Server Error: /x" in text
        assert "Traceback" in text and "ZeroDivisionError: the failing view" in text
    finally:
        for handler in logging.getLogger("django.request").handlers:
            handler.close()
        saved.handlers[:], saved.level, saved.propagate = old
        from django.conf import settings

        logging.config.dictConfig(settings.LOGGING)
