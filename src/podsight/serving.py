"""Serving: the checks before listening, one process (waitress) or several (gunicorn, for
the event ingest path's throughput).

Proxy headers (``X-Forwarded-For``, ``X-Forwarded-Proto``) are left to the application
(``podsight.security``), which believes them from ``PODSIGHT_TRUSTED_PROXIES`` only: both
servers pass them through untouched, so the rule is the same whichever serves."""

from __future__ import annotations

import errno
import ipaddress
import signal
import socket
import sys
from typing import Any, TextIO

from gunicorn.app.base import BaseApplication
from gunicorn.arbiter import Arbiter

from podsight.errors import PodsightError, UsageError

__all__ = [
    "CannotServe",
    "check_address",
    "check_serving",
    "is_loopback",
    "serve_gunicorn",
    "serve_waitress",
    "serving_problems",
]


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
    # Loopback is private, unless a reverse proxy on this machine passes others' requests.
    if is_loopback(host) and not settings.TRUSTED_PROXIES:
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
    """Print the warnings of serving on ``host``; raise the first error (exit 2) if any."""
    from podsight.bootstrap import setup_django

    setup_django()
    stream = stream or sys.stderr
    errors, warnings = serving_problems(host)
    if errors:
        raise UsageError(errors[0])
    for warning in warnings:
        print(f"warning: {warning}", file=stream)


class CannotServe(PodsightError):
    """The server cannot listen where asked; the message says what to change."""


def check_address(host: str, port: int) -> None:
    """Bind ``host:port`` once and let go, so a bad host or a taken port is one clear error
    before any server starts (gunicorn would retry for seconds and log its own lines)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except (socket.gaierror, UnicodeError) as exc:
        raise UsageError(
            f"--host {host!r} is not an address of this machine or a name it can resolve "
            "(use 127.0.0.1 for this machine only, or 0.0.0.0 for every interface)"
        ) from exc
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            raise CannotServe(_bind_message(host, port, exc)) from exc


def _bind_message(host: str, port: int, exc: OSError) -> str:
    if exc.errno == errno.EADDRINUSE:
        return (
            f"port {port} on {host} is in use by another program; stop it, or choose another "
            "port with --port"
        )
    if exc.errno == errno.EADDRNOTAVAIL:
        return f"{host} is not an address of this machine; use 127.0.0.1 or 0.0.0.0"
    if exc.errno == errno.EACCES:
        return f"not allowed to listen on port {port}; use a port above 1023"
    return f"cannot listen on {host}:{port}: {exc.strerror or exc}"


def serve_waitress(application, *, host: str, port: int, threads: int) -> None:
    """Run ``application`` under waitress until SIGINT/SIGTERM."""
    from waitress.server import create_server

    try:
        # waitress would drop X-Forwarded-* itself: podsight.security decides instead.
        server = create_server(
            application, host=host, port=port, threads=threads, ident="podsight",
            clear_untrusted_proxy_headers=False,
        )  # fmt: skip
    except OSError as exc:  # taken since check_address
        raise CannotServe(_bind_message(host, port, exc)) from exc
    try:
        server.run()
    except KeyboardInterrupt:
        pass


class _GracefulArbiter(Arbiter):
    """Ctrl-C stops gracefully: workers get SIGTERM, not SIGQUIT. A gthread worker handles
    SIGQUIT by shutting its thread pool down inside the signal handler, which deadlocks
    when the signal lands in the pool's own ``submit`` (CPython issue 121649): the worker
    then hangs forever, holding the port."""

    def handle_int(self) -> None:
        self.stop(graceful=True)
        raise StopIteration


def _graceful_worker(worker) -> None:  # noqa: ANN001 - gunicorn's post_worker_init hook
    # Ctrl-C in a terminal signals the whole process group, workers included: let them
    # finish their requests and leave their loop, as on SIGTERM (same deadlock otherwise).
    signal.signal(signal.SIGINT, worker.handle_exit)
    signal.signal(signal.SIGQUIT, worker.handle_exit)


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

    def run(self) -> None:
        try:
            _GracefulArbiter(self).run()
        except RuntimeError as exc:  # gunicorn's own start-up failures
            raise CannotServe(f"gunicorn could not start: {exc}") from exc


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
            "post_worker_init": _graceful_worker,
            # The scheme comes from podsight.security, which trusts PODSIGHT_TRUSTED_PROXIES
            # only (gunicorn would believe X-Forwarded-Proto from any local process).
            "secure_scheme_headers": {},
            "graceful_timeout": 15,
        },
    ).run()
