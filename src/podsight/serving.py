"""Serving: the checks before listening, one process (waitress) or several (gunicorn, for
the event ingest path's throughput).

Proxy headers (``X-Forwarded-For``, ``X-Forwarded-Proto``) are left to the application
(``podsight.security``), which believes them from ``PODSIGHT_TRUSTED_PROXIES`` only: both
servers pass them through untouched, so the rule is the same whichever serves."""

from __future__ import annotations

import ipaddress
import sys
from typing import Any, TextIO

from gunicorn.app.base import BaseApplication

__all__ = ["check_serving", "is_loopback", "serve_gunicorn", "serve_waitress", "serving_problems"]


def is_loopback(host: str) -> bool:
    """Whether listening on ``host`` reaches this machine only."""
    host = host.strip().strip("[]").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a name other than localhost may resolve anywhere


def serving_problems(host: str) -> tuple[list[str], list[str]]:
    """``(errors, warnings)`` of serving on ``host`` with the current settings."""
    from django.conf import settings

    from podsight.settings import INSECURE_SECRET_KEY, LOCAL_HOSTS

    errors: list[str] = []
    warnings: list[str] = []
    if is_loopback(host):
        return errors, warnings
    if settings.SECRET_KEY == INSECURE_SECRET_KEY:
        # Anyone who knows the built-in key (it is in the source) can forge login cookies.
        errors.append(
            f"refusing to serve on {host}, reachable from other machines, with the built-in "
            "secret key: set PODSIGHT_SECRET_KEY to a long random value (`python3 -c "
            "'import secrets; print(secrets.token_urlsafe(50))'` makes one), or serve on "
            "127.0.0.1"
        )
    if set(settings.ALLOWED_HOSTS) <= set(LOCAL_HOSTS):
        warnings.append(
            "PODSIGHT_ALLOWED_HOSTS allows only localhost names: requests that name this "
            "machine otherwise get 400. Set it to the names clients use, e.g. "
            "PODSIGHT_ALLOWED_HOSTS=podsight.example.org,192.0.2.10"
        )
    if "*" in settings.ALLOWED_HOSTS:
        warnings.append(
            "PODSIGHT_ALLOWED_HOSTS contains *: links in answers (`next`) take whatever Host a "
            "client sends; list the server's names instead"
        )
    if settings.DEBUG:
        warnings.append(
            "PODSIGHT_DEBUG is on: error pages show code and settings to anyone who can "
            "reach the server"
        )
    return errors, warnings


def check_serving(host: str, stream: TextIO | None = None) -> None:
    """Print the warnings of serving on ``host``; print the first error and exit 2 if any."""
    from podsight.bootstrap import setup_django

    setup_django()
    stream = stream or sys.stderr
    errors, warnings = serving_problems(host)
    if errors:
        print(f"error: {errors[0]}", file=stream)
        raise SystemExit(2)
    for warning in warnings:
        print(f"warning: {warning}", file=stream)


def serve_waitress(application, *, host: str, port: int, threads: int) -> None:
    """Run ``application`` under waitress, one process, until SIGINT/SIGTERM."""
    from waitress import serve

    # waitress would drop X-Forwarded-* itself: podsight.security decides instead.
    serve(
        application,
        host=host,
        port=port,
        threads=threads,
        ident="podsight",
        clear_untrusted_proxy_headers=False,
    )


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
            # The scheme comes from podsight.security, which trusts PODSIGHT_TRUSTED_PROXIES
            # only (gunicorn would believe X-Forwarded-Proto from any local process).
            "secure_scheme_headers": {},
        },
    ).run()
