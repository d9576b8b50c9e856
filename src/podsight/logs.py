"""Where log lines go: every line worth keeping to a rotated file under
``PODSIGHT_HOME/logs/``, and only warnings and errors to the console, so progress bars and
summaries stay readable. ``PODSIGHT_LOG_LEVEL`` (or ``podsight --verbose``) brings the
detail back to the console.

Several podsight processes write the same file at once (``make run``: server, consumer,
simulator; gunicorn workers), so rotation goes through concurrent-log-handler, which
locks the file while it rolls over; the standard RotatingFileHandler would have each
process rename the others' files away.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from rich.console import Console

from podsight.errors import ConfigurationError

__all__ = ["LOG_FILE_NAME", "console_level", "django_logging", "log_file"]

LOG_FILE_NAME = "podsight.log"
_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
_MAX_BYTES = 10 * 1024 * 1024
_BACKUPS = 5
# The console the log handler writes to: stderr, so stdout carries only results.
STDERR = Console(stderr=True)


def console_level() -> str:
    """``PODSIGHT_LOG_LEVEL``: the lowest level shown on the console (default WARNING)."""
    raw = (os.environ.get("PODSIGHT_LOG_LEVEL") or "WARNING").strip().upper()
    if raw not in _LEVELS:
        raise ConfigurationError(
            f"PODSIGHT_LOG_LEVEL={raw!r} is not a log level; use one of {', '.join(_LEVELS)}"
        )
    return raw


def log_file(home: Path) -> Path:
    return home / "logs" / LOG_FILE_NAME


def django_logging(home: Path) -> dict[str, Any]:
    """The ``LOGGING`` setting: console from ``PODSIGHT_LOG_LEVEL``, file at INFO (DEBUG
    when the console asks for DEBUG)."""
    console = console_level()
    file_level = "DEBUG" if console == "DEBUG" else "INFO"
    path = log_file(home)
    path.parent.mkdir(parents=True, exist_ok=True)
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "file": {"format": "%(asctime)s %(process)d %(levelname)s %(name)s %(message)s"},
        },
        "handlers": {
            # Rich writes through the current sys.stderr, so a line logged while a progress
            # bar is live is printed above the bar instead of tearing it.
            "console": {
                "class": "rich.logging.RichHandler",
                "level": console,
                "show_path": False,
                "markup": False,
                "rich_tracebacks": False,
                "console": "ext://podsight.logs.STDERR",
            },
            "file": {
                "class": "concurrent_log_handler.ConcurrentRotatingFileHandler",
                "level": file_level,
                "formatter": "file",
                "filename": str(path),
                "maxBytes": _MAX_BYTES,
                "backupCount": _BACKUPS,
                "encoding": "utf-8",
                "use_gzip": False,
            },
        },
        "loggers": {
            "podsight": {"handlers": ["console", "file"], "level": file_level},
            # Tracebacks of unexpected errors: the file only; the CLI prints one line.
            "podsight.internal": {"handlers": ["file"], "level": "ERROR", "propagate": False},
            # A request's unhandled exception (the API answers 500): its traceback in the
            # file; Django's default sends it to the console only with DEBUG on.
            "django.request": {"handlers": ["file"], "level": "ERROR", "propagate": False},
            # Notes the CLI's progress view printed already: the file keeps them.
            "podsight.progress.printed": {
                "handlers": ["file"],
                "level": file_level,
                "propagate": False,
            },
            "waitress": {"handlers": ["console", "file"], "level": "INFO"},
        },
    }
