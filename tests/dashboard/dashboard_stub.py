"""A stand-in for the dashboard's API client: answers from a table, records each call.

Pages get it instead of :class:`~podsight.dashboard.client.ApiClient`, so AppTest tests
check what a page shows for given answers and which endpoint each action calls, without
a server. A call with no answer in the table fails the test loudly (a 599 error the page
would show, and ``unanswered`` lists it)."""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from typing import Any

from podsight.dashboard.client import ApiCallError, ApiClient

__all__ = ["StubClient"]

Answer = Any  # a JSON-like value, an ApiCallError to raise, or a callable(params, json)


class StubClient(ApiClient):
    def __init__(self, staff: bool = True, username: str = "ops") -> None:
        super().__init__("http://stub.invalid", token="stub-token")
        self.caller = {"username": username, "staff": staff, "scopes": [], "expires_at": None}
        self.routes: list[tuple[str, re.Pattern[str], Answer]] = []
        self.calls: list[tuple[str, str, dict[str, Any], Any]] = []
        self.unanswered: list[tuple[str, str]] = []

    def on(self, method: str, path: str, answer: Answer) -> StubClient:
        """Answer ``method path`` (a regular expression matched in full; later entries
        win) with ``answer``."""
        self.routes.append((method.upper(), re.compile(path), answer))
        return self

    def called(self, method: str, path: str) -> list[tuple[dict[str, Any], Any]]:
        """(params, json) of each call to ``method path`` (a full-match pattern)."""
        pattern = re.compile(path)
        return [(p, j) for m, pth, p, j in self.calls if m == method.upper()
                and pattern.fullmatch(pth)]  # fmt: skip

    def request(self, method, path, params=None, json=None):
        clean = {k: v for k, v in (params or {}).items() if v is not None and v != ""}
        self.calls.append((method.upper(), path, clean, json))
        for m, pattern, answer in reversed(self.routes):
            if m == method.upper() and pattern.fullmatch(path):
                if isinstance(answer, ApiCallError):
                    raise answer
                if isinstance(answer, Callable):
                    return answer(clean, json)
                return copy.deepcopy(answer)
        self.unanswered.append((method.upper(), path))
        raise ApiCallError(599, "stub", f"the stub has no answer for {method} {path}")
