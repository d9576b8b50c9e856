"""Serving with several processes (gunicorn), for the event ingest path's throughput."""

from __future__ import annotations

from typing import Any

from gunicorn.app.base import BaseApplication

__all__ = ["serve_gunicorn"]


class _Server(BaseApplication):
    def __init__(self, application, options: dict[str, Any]) -> None:
        self.application = application
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        return self.application


def serve_gunicorn(application, *, host: str, port: int, workers: int, threads: int) -> None:
    """Run ``application`` under gunicorn until SIGINT/SIGTERM."""
    _Server(
        application,
        {
            "bind": f"{host}:{port}",
            "workers": workers,
            "threads": threads,
            "worker_class": "gthread" if threads > 1 else "sync",
            # A 5,000-event batch must never be cut off by a slow disk's fsync.
            "timeout": 120,
            "keepalive": 30,
            "accesslog": None,
            "errorlog": "-",
            "loglevel": "warning",
            "proc_name": "podsight",
        },
    ).run()
