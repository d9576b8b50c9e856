"""Serving the dashboard: Streamlit's server running :mod:`podsight.dashboard.app`.

Streamlit runs in a process of its own (its server owns signals and its event loop); this
one waits for it and passes Ctrl-C on, and a SIGTERM too (``make run`` stops its background
services so; without it Streamlit would outlive this process). Usage statistics are off and
nothing is fetched at run time: the charts' Vega-Lite comes inside the streamlit wheel.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import httpx

__all__ = ["api_answers", "command", "serve_dashboard"]

APP = Path(__file__).with_name("app.py")


def command(host: str, port: int) -> list[str]:
    """The Streamlit command line serving the app on ``host:port``."""
    return [
        sys.executable, "-m", "streamlit", "run", str(APP),
        "--server.address", host,
        "--server.port", str(port),
        "--server.headless", "true",
        "--server.fileWatcherType", "none",
        "--server.runOnSave", "false",
        "--browser.gatherUsageStats", "false",
        "--global.developmentMode", "false",
        "--client.toolbarMode", "viewer",
        # A bug's traceback goes to the console, never to the browser (app.py says so).
        "--client.showErrorDetails", "none",
        "--theme.base", "light",
    ]  # fmt: skip


def api_answers(api_url: str, timeout: float = 2.0) -> bool:
    """Whether ``{api_url}/healthz`` answers (the dashboard starts either way)."""
    try:
        return httpx.get(f"{api_url.rstrip('/')}/healthz", timeout=timeout).status_code == 200
    except httpx.HTTPError:
        return False


def serve_dashboard(host: str, port: int, api_url: str) -> int:
    """Run Streamlit until it stops or Ctrl-C; its exit status."""
    env = {**os.environ, "PODSIGHT_DASHBOARD_API_URL": api_url}
    process = subprocess.Popen(command(host, port), env=env)
    previous = None
    if threading.current_thread() is threading.main_thread():  # where signals are handled
        previous = signal.signal(signal.SIGTERM, lambda *_: process.terminate())
    try:
        return process.wait()
    except KeyboardInterrupt:  # from a terminal the child got it too; from `kill -INT` not
        if process.poll() is None:
            process.send_signal(signal.SIGINT)  # Streamlit stops cleanly on a second one too
        try:
            return process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.terminate()
        try:
            return process.wait(timeout=10)
        except subprocess.TimeoutExpired:  # stuck: it must not outlive this process
            process.kill()
            return process.wait()
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
