"""The shared HTTP layer of the API connectors, against a real server on 127.0.0.1."""

from __future__ import annotations

import logging
import os
import time
import uuid

import pytest

from podsight.demo.apiserver import ApiRequest, ApiServer, Fault, Reply
from podsight.sources import http
from podsight.sources.http import (
    ApiAuthError,
    ApiClient,
    ApiNotFound,
    ApiRateLimited,
    ApiResponseError,
    ApiUnavailable,
    redact,
    retry_after_seconds,
)


class Echo:
    """A backend answering every GET with its path and query."""

    def __init__(self) -> None:
        self.version = 1

    def handle(self, request: ApiRequest) -> Reply:
        if request.path.startswith("/missing"):
            return Reply.error(404, "no such show")
        return Reply(200, {"path": request.path, "query": request.query, "v": self.version})


def client(server: ApiServer, **kw) -> ApiClient:
    kw.setdefault("cache", http.cache_storage())
    return ApiClient("spotify", server.url("spotify"), **kw)


@pytest.mark.parametrize("mode", ["etag", "max-age", "last-modified", "etag-only"])
def test_unchanged_upstream_is_never_downloaded_twice(replay_apis, mode):
    server = replay_apis.serve({"spotify": Echo()}, cache_mode=mode)
    api = client(server)
    first = api.get("shows/{id}", {"market": "US"}, id="abc")
    for _ in range(3):
        again = api.get("shows/{id}", {"market": "US"}, id="abc")
        assert again.data == first.data
    assert len(server.full_responses()) == 1, [r.status for r in server.requests]
    if mode == "max-age":
        assert api.stats.cache_hits == 3 and server.count() == 1
    else:
        assert api.stats.revalidated == 3 and server.count(status=304) == 3


def test_changed_upstream_is_downloaded_again(replay_apis):
    backend = Echo()
    server = replay_apis.serve({"spotify": backend}, cache_mode="etag")
    api = client(server)
    assert api.get("shows/{id}", id="abc").data["v"] == 1
    backend.version = 2
    response = api.get("shows/{id}", id="abc")
    assert response.data["v"] == 2 and response.cache_outcome == "miss"
    assert len(server.full_responses()) == 2


def test_cache_survives_a_new_client_and_process_state(replay_apis, api_home):
    """A daily job starts a new process each time: the SQLite store outlives the client."""
    server = replay_apis.serve({"spotify": Echo()}, cache_mode="etag")
    client(server).get("shows/{id}", id="abc")
    http.reset()  # as if a new process started
    second = client(server).get("shows/{id}", id="abc")
    assert second.revalidated
    assert (api_home / "cache" / "http.sqlite").is_file()
    assert len(server.full_responses()) == 1


def test_redis_cache_backend(replay_apis, monkeypatch):
    redis = pytest.importorskip("redis")
    url = os.environ.get("PODSIGHT_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    try:
        redis.Redis.from_url(url).ping()
    except redis.RedisError as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"Redis is required under CI but {url} does not answer: {exc}")
        pytest.skip(f"Redis at {url} does not answer: {exc}")
    monkeypatch.setenv("PODSIGHT_CACHE_URL", url)
    storage = http.cache_storage()
    assert type(storage).__name__ == "RedisStorage"
    show = f"redis-{uuid.uuid4().hex}"  # the Redis database is shared between runs
    server = replay_apis.serve({"spotify": Echo()}, cache_mode="etag")
    ApiClient("spotify", server.url("spotify"), cache=storage).get("shows/{id}", id=show)
    http.reset()
    again = ApiClient("spotify", server.url("spotify"), cache=http.cache_storage())
    assert again.get("shows/{id}", id=show).revalidated
    assert len(server.full_responses()) == 1


def test_unreachable_redis_says_what_to_do(replay_apis, monkeypatch):
    monkeypatch.setenv("PODSIGHT_CACHE_URL", "redis://127.0.0.1:1/0")
    with pytest.raises(http.ApiError, match="unset PODSIGHT_CACHE_URL"):
        http.cache_storage()


def test_retry_after_is_honoured_on_429_and_503(replay_apis):
    waits: list[float] = []
    server = replay_apis.serve({"spotify": Echo()})
    server.inject(
        "spotify",
        "/shows",
        Fault(Reply(429, {"error": {"message": "slow down"}}, {"Retry-After": "3"})),
        Fault(Reply(503, b"busy", {"Retry-After": "2"})),
    )
    api = client(server, sleep=waits.append)
    assert api.get("shows/{id}", id="x").data["path"] == "/shows/x"
    assert waits == [3.0, 2.0]
    assert api.stats.retries == 2


def test_a_long_retry_after_stops_instead_of_hanging(replay_apis):
    server = replay_apis.serve({"spotify": Echo()})
    server.inject("spotify", "/shows", Fault(Reply(429, b"", {"Retry-After": "86400"})))
    api = client(server, sleep=lambda s: pytest.fail("must not sleep"))
    with pytest.raises(ApiRateLimited, match="run the sync again later"):
        api.get("shows/{id}", id="x")


def test_server_errors_and_resets_are_retried_then_reported(replay_apis):
    waits: list[float] = []
    server = replay_apis.serve({"spotify": Echo()})
    server.inject("spotify", "/shows", *[Fault(reset=True)] * 2, Fault(Reply(502, b"")))
    api = client(server, sleep=waits.append, max_attempts=4)
    assert api.get("shows/{id}", id="x").status == 200
    assert len(waits) == 3 and waits == sorted(waits)  # exponential backoff
    server.inject("spotify", "/shows", *[Fault(Reply(500, b"oops"))] * 4)
    with pytest.raises(ApiUnavailable, match="HTTP 500"):
        api.get("shows/{id}", id="y")


def test_timeouts_become_unavailable(replay_apis):
    server = replay_apis.serve({"spotify": Echo()})
    server.inject("spotify", "/shows", *[Fault(delay_s=0.6)] * 2)
    api = client(server, timeout=0.2, max_attempts=2, sleep=lambda s: None)
    with pytest.raises(ApiUnavailable, match="timed out"):
        api.get("shows/{id}", id="x")


def test_error_statuses_map_to_precise_errors(replay_apis):
    server = replay_apis.serve({"spotify": Echo()})
    api = client(server)
    with pytest.raises(ApiNotFound, match="no such show"):
        api.get("missing/{id}", id="x")
    server.inject("spotify", "/shows", Fault(Reply(401, {"error": {"message": "bad token"}})))
    with pytest.raises(ApiAuthError, match="check the spotify credentials"):
        api.get("shows/{id}", id="x")
    server.inject("spotify", "/shows", Fault(Reply(200, b"<html>proxy login</html>")))
    with pytest.raises(ApiResponseError, match="not valid JSON"):
        api.get("shows/{id}", id="z")


def test_secrets_stay_out_of_logs_and_payloads(replay_apis, caplog):
    caplog.set_level(logging.DEBUG)
    server = replay_apis.serve({"spotify": Echo()})
    api = client(server)
    api.get("videos", {"id": "a,b", "key": "SECRET-KEY-123"})
    payload = api.take_payloads()[0]
    assert "SECRET-KEY-123" not in caplog.text
    assert "SECRET-KEY-123" not in payload.url and "SECRET-KEY-123" not in str(payload.params)
    assert "key=REDACTED" in payload.url
    line = next(r.getMessage() for r in caplog.records if r.name == "podsight.sources.http")
    assert "source=spotify endpoint=videos status=200 cache=miss elapsed=" in line


def test_only_fresh_responses_become_payloads(replay_apis):
    server = replay_apis.serve({"spotify": Echo()}, cache_mode="etag")
    api = client(server)
    api.get("shows/{id}", id="a")
    api.get("shows/{id}", id="a")
    payloads = api.take_payloads()
    assert [(p.endpoint, p.params) for p in payloads] == [("shows/{id}", {"id": "a"})]
    assert api.take_payloads() == []


def test_per_host_rate_limit(replay_apis):
    server = replay_apis.serve({"spotify": Echo()}, cache_mode="none")
    api = client(server, rate=(2, 1.0), cache=False)
    started = time.perf_counter()
    for i in range(5):
        api.get("shows/{id}", id=str(i))
    elapsed = time.perf_counter() - started
    # 5 calls at 2 per second: the 3rd waits for the first second, the 5th for the second.
    assert elapsed >= 1.8, elapsed


def test_retry_after_forms():
    assert retry_after_seconds("7") == 7.0
    assert retry_after_seconds(None) is None
    assert retry_after_seconds("soon") is None
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # in the past


def test_redact_keeps_everything_but_secrets():
    assert redact("https://x.test/v3/videos?id=1&key=abc&part=snippet") == (
        "https://x.test/v3/videos?id=1&key=REDACTED&part=snippet"
    )
    assert redact("https://x.test/v1/shows/1") == "https://x.test/v1/shows/1"


def test_closing_one_client_leaves_the_shared_cache_usable(replay_apis):
    server = replay_apis.serve({"spotify": Echo()})
    first = client(server)
    first.get("shows/{id}", id="a")
    first.close()
    second = ApiClient("spotify", server.url("spotify"))  # cache=True: the shared store
    assert second.get("shows/{id}", id="a").revalidated


def test_rate_limit_setting(monkeypatch):
    assert http.rate_setting("apple", (20, 60)) == (20, 60)
    monkeypatch.setenv("PODSIGHT_APPLE_RATE_LIMIT", "5/2")
    assert http.rate_setting("apple", (20, 60)) == (5, 2.0)
    monkeypatch.setenv("PODSIGHT_APPLE_RATE_LIMIT", "off")
    assert http.rate_setting("apple", (20, 60)) is None
    monkeypatch.setenv("PODSIGHT_APPLE_RATE_LIMIT", "fast")
    with pytest.raises(ValueError, match="PODSIGHT_APPLE_RATE_LIMIT"):
        http.rate_setting("apple", (20, 60))
