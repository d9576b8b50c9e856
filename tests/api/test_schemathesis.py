"""The OpenAPI document is true of the running server: schemathesis against `podsight serve`.

A real server in a subprocess, on a fresh PODSIGHT_HOME with the demo world loaded, users
and a token with every scope, serves /api/schema; schemathesis loads it from there and
sends every operation (REST and gPodder) generated requests, valid and invalid, with
every check that holds for this API. Any server error or disagreement with the document
fails the test. Cursors get their own hostile strategies (forged, tampered, signed with
the server's key but carrying wrong types): each must be a 400 ``invalid_cursor``.

The run is schemathesis's own CLI (`schemathesis run`, coverage and fuzzing phases, all
checks) rather than its pytest plugin, whose lazy loader sets ``node._nodeid``, which
pytest 9.2 no longer has. Its hooks are in ``schemathesis_hooks.py`` beside this file.

Bounded and reproducible: a fixed seed, deterministic generation, one worker, at most
``PODSIGHT_SCHEMATHESIS_EXAMPLES`` (default 30) examples per operation, no example
database; about a minute on the 2-core machine. Under the PostgreSQL pass (``DATABASE_URL``
set) the server runs on a database of its own on that server, made and dropped here,
since 500s can be database-specific.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest
import requests
import schemathesis
from django.core import signing
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.specs.openapi import checks as openapi_checks

from podsight.api.pagination import CURSOR_SALT
from podsight.sources.podcastindex.dump.sample import write_sample_dump
from support import free_port, wait_until_serving

# django_db: so that the PostgreSQL pass (`-m django_db`) runs it too.
pytestmark = [pytest.mark.network, pytest.mark.django_db]

BIN = Path(sys.executable).parent
PASSWORD = "schemathesis-password"
SECRET_KEY = "schemathesis-secret-key-of-this-test-server"
SEED = 20261115
MAX_EXAMPLES = int(os.environ.get("PODSIGHT_SCHEMATHESIS_EXAMPLES", "30"))
# Operations whose request validation has rules JSON Schema cannot state (an event's one
# reference out of four kinds, times not in the future, calendar-valid timestamps, a
# window of 1 min to 24 h written as "1h30m"): their documents describe the shape, and
# the server refuses more, so "valid data is accepted" cannot be checked there. Every
# other check, negative data included, still runs on them.
SHAPE_ONLY = [
    "events_ingest",
    "stats_live",
    "gpodder_episode_actions_upload",
    "gpodder_device_subscriptions_replace",
]


@dataclass
class Live:
    url: str
    token: str
    session: str
    channel_ids: list[int]
    episode_ids: list[int]
    signout_token: str = ""


@pytest.fixture(scope="module")
def server_database_url() -> Iterator[str | None]:
    """A PostgreSQL database of the server's own when the suite runs on PostgreSQL."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        yield None
        return
    import psycopg

    name = f"podsight_schemathesis_{os.getpid()}"
    # Through the maintenance database, as pytest-django does: DATABASE_URL's own database
    # need not exist (the suite runs on test_<name>).
    maintenance = urlunsplit(urlsplit(url)._replace(path="/postgres"))
    with psycopg.connect(maintenance, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.execute(f'CREATE DATABASE "{name}"')
    yield urlunsplit(urlsplit(url)._replace(path=f"/{name}"))
    with psycopg.connect(maintenance, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _run(args: list, env: dict, **kwargs) -> str:
    done = subprocess.run(args, env=env, capture_output=True, text=True, timeout=300, **kwargs)
    assert done.returncode == 0, f"{args}: {done.stdout[-2000:]}{done.stderr[-2000:]}"
    return done.stdout


@pytest.fixture(scope="module")
def live(tmp_path_factory, server_database_url) -> Iterator[Live]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "PODSIGHT_FEEDS", "DJANGO_SETTINGS_MODULE")
    }
    env["PODSIGHT_HOME"] = str(tmp_path_factory.mktemp("schemathesis-home"))
    env["PODSIGHT_SECRET_KEY"] = SECRET_KEY
    env["PODSIGHT_LOG_LEVEL"] = "WARNING"
    if server_database_url:
        env["DATABASE_URL"] = server_database_url
    podsight = str(BIN / "podsight")
    # The lockout after failed logins has tests of its own (tests/accounts); here every
    # made-up credential must meet the 401 the document promises, not a lockout.
    env["PODSIGHT_LOGIN_MAX_FAILURES"] = env["PODSIGHT_LOGIN_MAX_FAILURES_PER_CLIENT"] = "1000000"
    # Catalog, matched links (demo load runs matching) for /api/links to list and act on,
    # and an imported dump so the directory searches rather than answering 503.
    _run([podsight, "demo", "load", "--shows", "4", "--listeners", "0", "--no-progress"], env)
    dump = write_sample_dump(Path(env["PODSIGHT_HOME"]) / "podcastindex_feeds.db", 300, seed=9)
    _run([podsight, "import", "podcastindex", str(dump), "--no-progress"], env)
    for user in ("alice", "bob"):
        _run([podsight, "users", "create", user], {**env, "PODSIGHT_USER_PASSWORD": PASSWORD})
    scopes = ["--scope", "events:write", "--scope", "links:review", "--scope", "staff"]
    token = _run([podsight, "tokens", "create", "schemathesis", *scopes, "--user", "alice"], env)
    token = token.strip()
    # What DELETE /api/auth/token (sign out) revokes, not the run's token.
    signout = _run([podsight, "tokens", "create", "schemathesis-signout", "--user", "bob"], env)
    port = free_port()
    # To a file, not a pipe: nobody reads a pipe while the run goes on, and a server
    # blocked on a full one stops answering.
    server_log = Path(env["PODSIGHT_HOME"]) / "serve.log"
    server = subprocess.Popen(
        [podsight, "serve", "--port", str(port)],
        env=env,
        stdout=server_log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        try:
            wait_until_serving(f"{url}/healthz", server)
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n{server_log.read_text()}") from None
        live = _seed(url, token, env)
        live.signout_token = signout.strip()
        if server_database_url:  # the server really is on PostgreSQL
            import psycopg

            with psycopg.connect(server_database_url) as db:
                (count,) = db.execute("SELECT count(*) FROM catalog_channel").fetchone()
            assert count >= len(live.channel_ids) > 0
        yield live
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def _seed(url: str, token: str, env: dict) -> Live:
    """Listening events in the lake, a recommendation model trained on them and a gPodder
    device, so that the history, the live stats, the recommendations and the subscription
    lists answer with data, not only empty shapes."""
    auth = {"Authorization": f"Token {token}"}
    channels = httpx.get(f"{url}/api/channels", params={"page_size": 500}).json()["results"]
    episodes = httpx.get(f"{url}/api/episodes", params={"page_size": 500}).json()["results"]
    assert channels and episodes
    now = datetime.now(UTC)
    events = [
        {
            "event_id": str(uuid.uuid4()),
            "user_id": "alice",
            "type": "play",
            "episode": episode["id"],
            "occurred_at": (now - timedelta(minutes=i + 1)).isoformat(),
            "position_s": 0,
        }
        for i, episode in enumerate(episodes[:5])
    ] + [
        # Likes: positive engagement for the recommendation model trained below.
        {
            "event_id": str(uuid.uuid4()),
            "user_id": "alice",
            "type": "like",
            "episode": episode["id"],
            "occurred_at": (now - timedelta(seconds=30 + i)).isoformat(),
        }
        for i, episode in enumerate(episodes[:3])
    ]
    sent = httpx.post(f"{url}/api/events", json={"events": events}, headers=auth)
    assert sent.status_code == 202, sent.text
    _run([str(BIN / "podsight"), "events", "consume", "--once"], env)
    # A recommendation model trained on those plays, so that the recommendation endpoints
    # answer lists (not only 409 no_model) and their documents are checked against them.
    _run([str(BIN / "podsight"), "recs", "train", "--models", "als,popular,fresh,trending",
          "--no-progress"], env)  # fmt: skip
    feeds = "\n".join(f"https://example.com/feed/{i}.xml" for i in range(3))
    put = httpx.put(f"{url}/subscriptions/alice/phone.txt", content=feeds, auth=("alice", PASSWORD))
    assert put.status_code == 200, put.text
    login = httpx.post(f"{url}/api/2/auth/alice/login.json", auth=("alice", PASSWORD))
    assert login.status_code == 200 and login.cookies.get("sessionid"), login.text
    return Live(
        url,
        token,
        login.cookies["sessionid"],
        [c["id"] for c in channels],
        [e["id"] for e in episodes],
    )


def _config(live: Live) -> str:
    """The run's settings as a schemathesis.toml (the CLI's config file)."""
    shape_only = ", ".join(f'"{op}"' for op in SHAPE_ONLY)
    return f"""
seed = {SEED}
request-timeout = 30
hooks = "schemathesis_hooks"
# One worker: the run is then reproducible (requests in a fixed order against a server
# whose state they change), and Python 3.11.7's ast.parse, which hypothesis calls to
# describe filters, failed under two workers here (SystemError "AST constructor
# recursion depth mismatch").
workers = 1

[generation]
max-examples = {MAX_EXAMPLES}
deterministic = true
database = "none"

[phases.stateful]
enabled = false

[checks]
enabled = true

[auth.openapi.apiToken]
api_key = "Token {live.token}"

# The login cookie rather than Basic: each Basic request hashes the password (~0.3 s of
# CPU), which would make the gPodder operations most of the run's time. Basic itself is
# what the seeding above and tests/gpodder/test_api.py use.
[auth.openapi.gpodderSession]
api_key = "{live.session}"

# Paths name the user the credentials are for: another name is refused (403), which
# would leave the rest of those operations untried.
[parameters]
"path.username" = "alice"
"path.user_id" = "alice"

[[operations]]
include-operation-id = [{shape_only}]
checks.positive_data_acceptance.enabled = false

# Sign-out revokes the token it is sent with: here the run's own, which would leave every
# later request unauthenticated. test_sign_out_does_what_the_document_says checks it.
[[operations]]
include-operation-id = ["auth_token_destroy"]
enabled = false
"""


@pytest.fixture(scope="module")
def api_schema(live: Live):
    return schemathesis.openapi.from_url(f"{live.url}/api/schema?format=json")


@pytest.fixture(scope="module")
def session() -> Iterator[requests.Session]:
    with requests.Session() as http:
        yield http


def test_the_server_does_what_its_openapi_document_says(live, tmp_path):
    config = tmp_path / "schemathesis.toml"
    config.write_text(_config(live))
    report = tmp_path / "report.json"
    started = time.monotonic()
    run = subprocess.run(
        [
            BIN / "schemathesis",
            "--config-file",
            str(config),
            "run",
            f"{live.url}/api/schema?format=json",
            "--report",
            "json",
            "--report-json-path",
            str(report),
            "--output-truncate",
            "false",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "NO_COLOR": "1", "PYTHONPATH": str(Path(__file__).parent)},
        cwd=tmp_path,
    )
    elapsed = time.monotonic() - started
    assert run.returncode == 0, run.stdout[-20000:] + run.stderr[-3000:]
    result = json.loads(report.read_text())
    operations, cases = result["operations"], result["test_cases"]
    print(
        f"\nschemathesis: {operations['tested']} of {operations['total']} operations, "
        f"{cases['generated']} test cases, {len(result['failures'])} failures, "
        f"{len(result['errors'])} errors in {elapsed:.0f} s"
    )
    # Every operation but sign-out (left out of the run, tested on its own below).
    assert operations["tested"] == operations["total"] - 1 >= 24
    assert result["failures"] == [] and result["errors"] == []
    assert result["phases"]["coverage"]["status"] == "success"
    assert result["phases"]["fuzzing"]["status"] == "success"


# --------------------------------------------------------------------------- cursors


def _b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


ORDERINGS = ["id", "-id", "title", "published_at", "-published_at", "duration_s", "created_at"]
# Ids no row can have: each makes any payload that carries it invalid.
BAD_IDS = st.sampled_from([0, -1, 2**63, 2**70, "1", 1.5, None, True, [], {}])
ANY_VALUE = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
    st.sampled_from(["not a date", "2024-01-01T00:00:00", "9999-12-31T23:59:59-23:59", 2**70]),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)
# Structurally wrong or with an impossible row id: never a cursor the server could make.
BAD_PAYLOADS = st.one_of(
    st.fixed_dictionaries(
        {"o": st.sampled_from(ORDERINGS) | st.text(max_size=10), "v": ANY_VALUE, "i": BAD_IDS}
    ),
    st.just({}),
    st.lists(ANY_VALUE, max_size=3).filter(lambda v: len(v) != 2),
    st.tuples(st.sampled_from([2, -1, True, "0", None]), ANY_VALUE).map(list),
    st.tuples(st.sampled_from([0, 1]), BAD_IDS).map(list),
    ANY_VALUE,
)
RAW_JSON = st.one_of(
    st.fixed_dictionaries(
        {"o": st.sampled_from(ORDERINGS), "v": ANY_VALUE, "i": ANY_VALUE | BAD_IDS}
    ).map(json.dumps),
    st.sampled_from(
        [
            '{"o": "duration_s", "v": Infinity, "i": 1}',
            '{"o": "-published_at", "v": 1e400, "i": 1}',
            '{"o": "id", "v": 1, "i": 1e400}',
            "{}",
            "NaN",
            "{",
            "0:99999999999999999999999",
        ]
    ),
)
FORGED_CURSORS = st.one_of(
    # The unsigned base64 JSON that cursors used to be, with hostile values.
    RAW_JSON.map(_b64),
    # Correctly signed with the server's own key (as a leaked or default key allows) but
    # carrying what no page could have: the type checks behind the signature must hold.
    BAD_PAYLOADS.map(lambda p: signing.dumps(p, key=SECRET_KEY, salt=CURSOR_SALT)),
    # Signed-looking: a real payload with a made-up signature, or another salt's.
    RAW_JSON.map(lambda raw: f"{_b64(raw)}:{_b64(raw)[:27]}"),
    st.just(signing.dumps({"o": "id", "v": 1, "i": 1}, key=SECRET_KEY, salt="other")),
    st.just(signing.dumps({"o": "id", "v": 1, "i": 1}, key="another-key", salt=CURSOR_SALT)),
    # Anything at all.
    st.text(max_size=300),
)

CURSOR_CHECKS = [
    openapi_checks.status_code_conformance,
    openapi_checks.content_type_conformance,
    openapi_checks.response_schema_conformance,
]


def test_forged_cursors_are_400_invalid_cursor_on_every_paginated_operation(
    api_schema, live, session
):
    operations = [
        result.ok()
        for result in api_schema.get_all_operations()
        if any(p.name == "cursor" for p in result.ok().query)
    ]
    assert {op.path for op in operations} >= {
        "/api/channels",
        "/api/episodes",
        "/api/links",
        "/api/directory",
        "/api/jobs",
        "/api/pipeline/runs",
    }

    for operation in operations:
        _forged_cursor_test(operation, live, session)()


def _forged_cursor_test(operation, live: Live, session: requests.Session):
    path_parameters = {"id": live.channel_ids[0]} if "{id}" in operation.path else {}

    @settings(
        max_examples=MAX_EXAMPLES * 4,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(cursor=FORGED_CURSORS, ordering=st.none() | st.sampled_from(["id", "-title"]))
    def forged(cursor: str, ordering: str | None) -> None:
        query = {"cursor": cursor}
        if operation.path == "/api/directory":
            query["q"] = "history"  # a search is required; the cursor is what is forged
        elif ordering and not operation.path.startswith(("/api/links", "/api/jobs",
                                                          "/api/pipeline")):  # fmt: skip
            query["ordering"] = ordering  # (those have other orderings, or none)
        # The token: lists that need one (jobs: staff) must reach their cursor check.
        auth = {"Authorization": f"Token {live.token}"}
        case = operation.Case(path_parameters=path_parameters, query=query, headers=auth)
        response = case.call(session=session)
        assert response.status_code == 400, (cursor, response.status_code, response.text)
        assert response.json()["error"]["code"] == "invalid_cursor", response.text
        case.validate_response(response, checks=CURSOR_CHECKS)

    return forged


def test_sign_out_does_what_the_document_says(api_schema, live, session):
    operation = api_schema["/api/auth/token"]["DELETE"]
    headers = {"Authorization": f"Token {live.signout_token}"}
    for expected in (204, 401):  # signed out, then that token is revoked
        case = operation.Case(headers=headers)
        response = case.call(session=session)
        assert response.status_code == expected, response.text
        case.validate_response(response)
