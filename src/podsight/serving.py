"""Serving the WSGI application: waitress in one process, gunicorn pre-forking several
(for the event ingest path's throughput)."""

from __future__ import annotations

import errno
import signal
import socket
from typing import Any

from gunicorn.app.base import BaseApplication
from gunicorn.arbiter import Arbiter

from podsight.errors import PodsightError, UsageError

__all__ = ["CannotServe", "check_address", "serve_gunicorn", "serve_waitress"]


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
        server = create_server(application, host=host, port=port, threads=threads, ident="podsight")
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
            "graceful_timeout": 15,
        },
    ).run()
