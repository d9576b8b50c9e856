"""One JSON error shape for every API failure.

``{"error": {"status": 404, "code": "not_found", "message": "...", "details": {...}}}``

``details`` is present for validation errors (field name → list of messages), and for
other errors that carry them (``invalid_cursor``).
Django-level 404/500 (unknown URL, unexpected crash) use the same shape. A database too
busy to answer in time (see :mod:`podsight.busy`) gives 503 ``database_busy`` with
``Retry-After``, from DRF views here and from plain Django views (gPodder) through
:class:`DatabaseBusyMiddleware`.

A :class:`~podsight.errors.PodsightError` that no view handled is translated here, once,
by its class (``http_status`` and ``code``, see :mod:`podsight.errors`): input 400, not
found 404, upstream 502, configuration or storage 503, the root 500. Its message is
written for people, so 4xx answers carry it; 5xx answers carry it too when it is about a
source or storage (nothing secret), and a generic one otherwise (the log has the text).
"""

from __future__ import annotations

import json
import logging
from typing import Any

from django.http import HttpRequest, JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from podsight.busy import RETRY_AFTER_S, is_database_busy
from podsight.errors import PodsightError, SourceError, StorageError

__all__ = [
    "DatabaseBusyMiddleware",
    "database_busy_response",
    "error_body",
    "exception_handler",
    "json_not_found",
    "json_server_error",
    "podsight_error_response",
]

log = logging.getLogger(__name__)


def error_body(status_code: int, code: str, message: str, details: Any = None) -> dict[str, Any]:
    error: dict[str, Any] = {"status": status_code, "code": code, "message": message}
    if details:
        error["details"] = details
    return {"error": error}


def _flatten(detail: Any) -> Any:
    if isinstance(detail, dict):
        return {k: _flatten(v) for k, v in detail.items()}
    if isinstance(detail, list):
        return [_flatten(v) for v in detail]
    return str(detail)


_BUSY_MESSAGE = (
    "The database is busy with other writes and could not take this request in time; "
    "nothing of it was stored. Retry after the number of seconds in Retry-After."
)


def database_busy_response(request: HttpRequest | None, exc: BaseException) -> JsonResponse:
    log.warning("database busy on %s: %s", getattr(request, "path", "?"), exc)
    response = JsonResponse(error_body(503, "database_busy", _BUSY_MESSAGE), status=503)
    response["Retry-After"] = str(RETRY_AFTER_S)
    return response


def podsight_error_response(request: HttpRequest | None, exc: PodsightError) -> JsonResponse:
    """The JSON answer to an expected failure, by its class (see the module docstring)."""
    status_code = exc.http_status
    path = getattr(request, "path", "?")
    if status_code >= 500:
        log.warning("%s on %s: %s", type(exc).__name__, path, exc)
    # Shown: what the client can act on (4xx) and what failed upstream or in storage (no
    # setting, no secret in those); any other 5xx, a direct subclass of the root included.
    if status_code < 500 or isinstance(exc, SourceError | StorageError):
        message = str(exc)
    else:
        # A failed run or a setting: what to fix is the operator's business, in the log.
        message = "The server cannot answer this request now; the reason has been logged."
    response = JsonResponse(
        error_body(status_code, exc.code, message, getattr(exc, "details", None)),
        status=status_code,
    )
    retry_after = getattr(exc, "retry_after", None)
    # Only when it is this server's wait (throttled, unavailable), not an upstream's.
    if retry_after is not None and status_code in (429, 503):
        response["Retry-After"] = str(int(retry_after))
    return response


class DatabaseBusyMiddleware:
    """503 + Retry-After, not 500, when a view fails because the database is busy; and a
    :class:`PodsightError` from a plain Django view (gPodder) as the JSON error."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception):
        if is_database_busy(exception):
            return database_busy_response(request, exception)
        if isinstance(exception, PodsightError):
            return podsight_error_response(request, exception)
        return None


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if is_database_busy(exc):
        return database_busy_response(context.get("request"), exc)
    if isinstance(exc, exceptions.ValidationError):
        details = _flatten(exc.detail)
        if not isinstance(details, dict):
            details = {"non_field_errors": details if isinstance(details, list) else [details]}
        body = error_body(400, "invalid", "The request has invalid parameters.", details)
        return Response(body, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, PodsightError):
        answer = podsight_error_response(context.get("request"), exc)
        response = Response(json.loads(answer.content), status=answer.status_code)
        if answer.has_header("Retry-After"):
            response["Retry-After"] = answer["Retry-After"]
        return response
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    detail = getattr(exc, "detail", None)
    code = getattr(detail, "code", None) or getattr(exc, "default_code", "error")
    message = str(detail) if detail is not None else str(exc)
    # An exception may carry details of its own (pagination's InvalidCursor does).
    response.data = error_body(
        response.status_code, str(code), message, getattr(exc, "details", None)
    )
    return response


def json_not_found(request, exception=None) -> JsonResponse:
    return JsonResponse(error_body(404, "not_found", f"Nothing at {request.path}."), status=404)


def json_server_error(request) -> JsonResponse:
    log.error("unhandled error on %s", request.path)
    return JsonResponse(
        error_body(500, "server_error", "Internal error; it has been logged."), status=500
    )
