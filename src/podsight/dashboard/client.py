"""The dashboard's only way to data: podsight's REST API over HTTP.

One :class:`ApiClient` per signed-in browser session. It keeps the sign-in token
(``POST /api/auth/token``) and sends it with every call; an error answer becomes an
:class:`ApiCallError` carrying the API's status, code and message (written for people, so
pages show it as is); a server that does not answer is :class:`ApiUnreachable`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from podsight.errors import PodsightError

__all__ = ["ApiCallError", "ApiClient", "ApiUnreachable", "DEFAULT_API_URL"]

DEFAULT_API_URL = "http://127.0.0.1:8000"


class ApiCallError(PodsightError):
    """The API answered with an error; ``message`` is its own, for people; ``details`` its
    error's details when it sent any (fields → messages, or e.g. ``{"job": id}``)."""

    def __init__(self, status: int, code: str, message: str, details: Any = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details


class ApiUnreachable(ApiCallError):
    """No answer from the API (not running, wrong address, timed out)."""

    def __init__(self, base_url: str, reason: str) -> None:
        super().__init__(
            0,
            "unreachable",
            f"The podsight API at {base_url} does not answer ({reason}). Start it with "
            "`podsight serve`, or point the dashboard at it with `--api URL`.",
        )


class ApiClient:
    """Calls ``{base_url}/api/…`` as the signed-in user.

    ``caller`` is what ``/api/auth/me`` says of the token: ``username``, ``staff``,
    ``scopes``, ``expires_at`` (None before signing in)."""

    def __init__(
        self, base_url: str = DEFAULT_API_URL, token: str | None = None, timeout: float = 30.0
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.caller: dict[str, Any] | None = None
        # Set by a 401 to a call sent with a token (expired, revoked): the app then ends
        # the session and shows the sign-in form with this message.
        self.expired: str | None = None
        self._http = httpx.Client(base_url=self.base_url, timeout=timeout)

    # --- who ---------------------------------------------------------------
    @property
    def staff(self) -> bool:
        return bool(self.caller and self.caller.get("staff"))

    @property
    def username(self) -> str | None:
        return self.caller.get("username") if self.caller else None

    def sign_in(self, username: str, password: str) -> dict[str, Any]:
        """Exchange a username and password for a token; ``ApiCallError`` (401
        ``invalid_credentials``, 429 ``throttled``) otherwise."""
        answer = self.request(
            "POST", "/api/auth/token", json={"username": username, "password": password}
        )
        self.token = answer.pop("token")
        self.caller = answer
        return answer

    def sign_out(self) -> None:
        """Revoke the token (an already invalid one is as good as signed out)."""
        if self.token:
            try:
                self.request("DELETE", "/api/auth/token")
            except ApiCallError as exc:
                if exc.status != 401:
                    raise
        self.token = None
        self.caller = None

    def me(self) -> dict[str, Any]:
        self.caller = self.request("GET", "/api/auth/me")
        return self.caller

    # --- calls -------------------------------------------------------------
    def get(self, path: str, **params: Any) -> Any:
        return self.request("GET", path, params=params)

    def post(self, path: str, json: Any = None, **params: Any) -> Any:
        return self.request("POST", path, params=params, json=json)

    def delete(self, path: str) -> Any:
        return self.request("DELETE", path)

    def pages(self, path: str, limit: int = 1000, **params: Any) -> Iterator[Any]:
        """Items of a cursor-paged list, up to ``limit``: the catalog's lists say where
        the next page is in ``next`` (a URL whose ``cursor`` is taken), the links list in
        ``next_cursor``."""
        seen = 0
        cursor = None
        while True:
            answer = self.get(path, **params, **({"cursor": cursor} if cursor else {}))
            for item in answer.get("results", []):
                yield item
                seen += 1
                if seen >= limit:
                    return
            cursor = answer.get("next_cursor")
            if not cursor and answer.get("next"):
                cursor = parse_qs(urlsplit(answer["next"]).query).get("cursor", [None])[0]
            if not cursor:
                return

    def request(
        self,
        method: str,
        path: str,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
    ) -> Any:
        """The decoded JSON answer (None for 204). Parameters that are None are left
        out (the API refuses empty values)."""
        clean = {k: v for k, v in (params or {}).items() if v is not None and v != ""}
        headers = {"Authorization": f"Token {self.token}"} if self.token else {}
        try:
            response = self._http.request(method, path, params=clean, json=json, headers=headers)
        except httpx.TimeoutException:
            raise ApiUnreachable(self.base_url, "timed out") from None
        except httpx.TransportError as exc:
            raise ApiUnreachable(self.base_url, type(exc).__name__) from None
        if response.status_code == 204 or not response.content:
            if response.is_success:
                return None
        try:
            body = response.json()
        except ValueError:
            body = None
        if response.is_success:
            return body
        error = (body or {}).get("error") if isinstance(body, dict) else None
        if response.status_code == 401 and self.token and path != "/api/auth/token":
            message = error.get("message") if isinstance(error, dict) else None
            self.expired = str(message or "This sign-in is no longer valid; sign in again.")
        if isinstance(error, dict):
            raise ApiCallError(
                response.status_code,
                str(error.get("code", "error")),
                str(error.get("message")),
                error.get("details"),
            )
        raise ApiCallError(
            response.status_code,
            "error",
            f"The API answered {response.status_code} to {method} {path} without a reason.",
        )
