"""One JSON error shape for every API failure.

``{"error": {"status": 404, "code": "not_found", "message": "...", "details": {...}}}``

``details`` is present for validation errors (field name → list of messages), and for
other errors that carry them (``invalid_cursor``).
Django-level 404/500 (unknown URL, unexpected crash) use the same shape. A database too
busy to answer in time (see :mod:`podsight.busy`) gives 503 ``database_busy`` with
``Retry-After``, from DRF views here and from plain Django views (gPodder) through
:class:`DatabaseBusyMiddleware`.
"""

from __future__ import annotations

import logging
from typing import Any

from django.http import HttpRequest, JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from podsight.busy import RETRY_AFTER_S, is_database_busy

__all__ = [
    "DatabaseBusyMiddleware",
    "database_busy_response",
    "error_body",
    "exception_handler",
    "json_not_found",
    "json_server_error",
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


class DatabaseBusyMiddleware:
    """503 + Retry-After, not 500, when a view fails because the database is busy."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception):
        if is_database_busy(exception):
            return database_busy_response(request, exception)
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
