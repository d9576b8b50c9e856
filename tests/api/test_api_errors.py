"""The API's one translation of :class:`~podsight.errors.PodsightError`: a status by the
error's branch and the shared JSON body, from DRF views (the exception handler) and from
plain Django views (the middleware)."""

from __future__ import annotations

import json

import pytest
from django.test import RequestFactory
from rest_framework.test import APIClient

from podsight.accounts.services import NoSuchToken
from podsight.api.errors import DatabaseBusyMiddleware
from podsight.demo.simulate import SimulationError
from podsight.errors import (
    ConfigurationError,
    InputError,
    NotFoundError,
    PodsightError,
    SourceError,
    StorageError,
    UsageError,
)
from podsight.pipeline import steps
from podsight.sources.http import ApiUnavailable
from podsight.sources.rss.fetch import FetchTimeoutError

pytestmark = pytest.mark.django_db

CASES = [
    (InputError("that document is not a feed"), 400, "invalid", True),
    (UsageError("wrong request"), 400, "bad_request", True),
    (NoSuchToken("no token named 'x'"), 404, "not_found", True),
    (NotFoundError("nothing by that name"), 404, "not_found", True),
    (ApiUnavailable("Spotify did not answer"), 502, "upstream_error", True),
    (FetchTimeoutError("the feed took too long"), 502, "upstream_error", True),
    (SourceError("upstream broke"), 502, "upstream_error", True),
    (StorageError("the event log is down"), 503, "unavailable", True),
    # What an operator must fix stays in the log: the client gets a generic message.
    (ConfigurationError("PODSIGHT_SECRET_KEY is unset"), 503, "not_configured", False),
    (PodsightError("the run failed"), 500, "error", False),
    # A root subclass outside every branch (here the simulator's) is no less generic.
    (SimulationError("the listeners stopped"), 500, "error", False),
]


def _raising(exc: Exception):
    def search(*args, **kwargs):
        raise exc

    return search


@pytest.mark.parametrize(("exc", "status", "code", "shown"), CASES,
                         ids=[type(c[0]).__name__ for c in CASES])  # fmt: skip
def test_a_podsight_error_from_a_view_is_a_json_error_by_its_branch(
    monkeypatch, exc, status, code, shown
):
    monkeypatch.setitem(steps.STEPS, "directory.search", _raising(exc))
    response = APIClient().get("/api/directory", {"q": "history"})
    assert response.status_code == status
    error = response.json()["error"]
    assert error["status"] == status and error["code"] == code
    assert (str(exc) in error["message"]) is shown, error


@pytest.mark.parametrize(("exc", "status", "code", "shown"), CASES[:4] + CASES[-2:],
                         ids=[type(c[0]).__name__ for c in CASES[:4] + CASES[-2:]])  # fmt: skip
def test_a_podsight_error_from_a_plain_django_view_is_the_same_json(exc, status, code, shown):
    request = RequestFactory().get("/api/2/anything")
    response = DatabaseBusyMiddleware(lambda r: None).process_exception(request, exc)
    assert response.status_code == status
    assert json.loads(response.content)["error"]["code"] == code


def test_other_exceptions_are_left_to_django():
    request = RequestFactory().get("/api/2/anything")
    assert DatabaseBusyMiddleware(lambda r: None).process_exception(request, KeyError()) is None
