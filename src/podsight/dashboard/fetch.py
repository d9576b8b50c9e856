"""A page's independent API calls at once: the page waits for the slowest, not the sum."""

from __future__ import annotations

from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from podsight.dashboard.client import ApiCallError, ApiClient

__all__ = ["get_all"]


def get_all(client: ApiClient, calls: Mapping[str, tuple[str, dict[str, Any]]]) -> dict[str, Any]:
    """``{name: (path, params)}`` → ``{name: answer}``, where a call that failed has its
    :class:`ApiCallError` as the answer (for the page to show where the data would be).
    No Streamlit call happens off the page's thread."""
    if len(calls) <= 1:
        return {name: _get(client, path, params) for name, (path, params) in calls.items()}
    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        futures = {
            name: pool.submit(_get, client, path, params) for name, (path, params) in calls.items()
        }
        return {name: future.result() for name, future in futures.items()}


def _get(client: ApiClient, path: str, params: dict[str, Any]) -> Any:
    try:
        return client.get(path, **params)
    except ApiCallError as exc:
        return exc
