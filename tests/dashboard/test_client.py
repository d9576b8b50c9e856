"""The dashboard's API client against a real server: errors keep the API's words, paged
lists are followed to the end, an absent server is a message saying what to start."""

from __future__ import annotations

import socket

import pytest
from rest_framework.test import APIClient

from podsight.accounts.services import create_user
from podsight.dashboard.client import ApiCallError, ApiClient, ApiUnreachable


class _Bridge(ApiClient):
    """An ApiClient whose HTTP goes through Django's test client (same process, same
    test database), so paging and errors are the server's own."""

    def __init__(self) -> None:
        super().__init__("http://testserver")
        self._test = APIClient()

    def request(self, method, path, params=None, json=None):
        if path.startswith("http://testserver"):
            path = path[len("http://testserver") :]
        clean = {k: v for k, v in (params or {}).items() if v is not None and v != ""}
        if self.token:
            self._test.credentials(HTTP_AUTHORIZATION=f"Token {self.token}")
        response = getattr(self._test, method.lower())(
            path, clean if method == "GET" else json, format=None if method == "GET" else "json"
        )
        if response.status_code == 204:
            return None
        body = response.json()
        if response.status_code >= 400:
            error = body["error"]
            raise ApiCallError(response.status_code, error["code"], error["message"])
        return body


@pytest.mark.django_db
def test_pages_follow_the_next_link_to_the_end():
    from podsight.catalog.models import Channel

    Channel.objects.bulk_create([Channel(title=f"Show {i:02d}") for i in range(7)])
    client = _Bridge()
    titles = [c["title"] for c in client.pages("/api/channels", page_size=3, ordering="title")]
    assert titles == [f"Show {i:02d}" for i in range(7)]
    assert len(list(client.pages("/api/channels", limit=4, page_size=3))) == 4


@pytest.mark.django_db
def test_sign_in_and_errors_carry_the_apis_words():
    create_user("ann", "a long listener password")
    client = _Bridge()
    with pytest.raises(ApiCallError) as refused:
        client.sign_in("ann", "wrong")
    assert refused.value.status == 401 and refused.value.code == "invalid_credentials"
    client.sign_in("ann", "a long listener password")
    assert client.username == "ann" and not client.staff
    with pytest.raises(ApiCallError) as other:
        client.get("/api/users/bob/history")
    assert other.value.status == 403
    client.sign_out()
    assert client.token is None


def test_an_absent_server_says_what_to_start():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(ApiUnreachable) as absent:
        ApiClient(f"http://127.0.0.1:{port}", timeout=2).get("/api/channels")
    assert "podsight serve" in absent.value.message
