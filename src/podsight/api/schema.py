"""The OpenAPI document (``/api/schema``) as the server behaves: every operation lists the
errors it can answer with, in the one error shape of :mod:`podsight.api.errors`.

* :class:`AutoSchema` adds the error responses that follow from how a view is built:
  400 when it takes input, 401/403 when it authenticates by token, 404 when its path
  names a resource, 415 when DRF parses its body, 503 everywhere (the database may be
  busy). Views add their own (413, 409…) with :func:`error_response` in ``extend_schema``.
* :func:`postprocess` states the query rule shared by every endpoint (a parameter given
  with an empty value is a 400, see README "REST API") and adds the gPodder API, whose
  plain Django views drf-spectacular cannot see (:mod:`podsight.gpodder.schema`).

``tests/api/test_schemathesis.py`` holds the document to the live server.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular import openapi
from drf_spectacular.hooks import postprocess_schema_enums
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers

from podsight.accounts.auth import ApiTokenAuthentication
from podsight.api.params import NO_NUL

__all__ = ["ERROR_REF", "AutoSchema", "error_response", "error_response_object", "postprocess"]

ERROR_REF = {"$ref": "#/components/schemas/Error"}

DESCRIPTIONS = {
    400: "Invalid request: `details` names each bad parameter or field.",
    401: "No valid credentials (`not_authenticated`, `invalid_token`, `token_revoked`…).",
    403: "The credentials do not allow this (`missing_scope`, another user's data).",
    404: "No such resource (`not_found`).",
    405: "Method not allowed here.",
    409: "The request conflicts with the current state (`conflict`).",
    413: "The body is too large (`too_large`, `batch_too_large`).",
    415: "The body is not sent as `application/json` (`unsupported_media_type`).",
    429: "`throttled`: too many failed logins for the account or the client, or too many "
    "password checks at once on the server; retry after `Retry-After` seconds.",
    503: "Temporarily unavailable: the database is busy (`database_busy`) or the event log "
    "cannot store (`log_unavailable`); retry later (after `Retry-After` seconds when sent).",
}

_RETRY_AFTER = {
    "description": "Seconds to wait before retrying.",
    "schema": {"type": "integer", "minimum": 0},
}
HEADERS = {
    401: {
        "WWW-Authenticate": {
            "description": "The authentication scheme to use.",
            "required": True,
            "schema": {"type": "string"},
        }
    },
    429: {"Retry-After": {**_RETRY_AFTER, "required": True}},
    503: {"Retry-After": _RETRY_AFTER},
}


class ErrorBodySerializer(serializers.Serializer):
    status = serializers.IntegerField(help_text="The HTTP status, repeated.")
    code = serializers.CharField(help_text="Machine-readable reason, e.g. `invalid_cursor`.")
    message = serializers.CharField(help_text="What went wrong and what to do, for people.")
    details = serializers.JSONField(
        required=False,
        help_text="Per parameter or field: a list of messages (validation errors); other "
        "structured context for some codes.",
    )


class ErrorSerializer(serializers.Serializer):
    """``{"error": {...}}``: the shape of every error of this API."""

    error = ErrorBodySerializer()


def error_response(description: str) -> OpenApiResponse:
    """For ``extend_schema(responses={413: error_response("…")})``."""
    return OpenApiResponse(ErrorSerializer, description=description)


def error_response_object(status: int, description: str | None = None) -> dict[str, Any]:
    """A response object in the error shape, for hand-written parts of the document."""
    response: dict[str, Any] = {
        "description": description or DESCRIPTIONS[status],
        "content": {"application/json": {"schema": ERROR_REF}},
    }
    if status in HEADERS:
        response["headers"] = HEADERS[status]
    return response


class AutoSchema(openapi.AutoSchema):
    def _error_statuses(self) -> list[int]:
        statuses = [503]
        view, method = self.view, self.method.upper()
        has_body = method in ("POST", "PUT", "PATCH")
        # A path parameter only fails to match (404) unless it is free text.
        takes_input = has_body or any(
            p.get("in") == "query"
            or (p.get("in") == "path" and p.get("schema", {}).get("type") == "string")
            for p in self._get_parameters()
        )
        if takes_input:
            statuses.append(400)
        if any(isinstance(a, ApiTokenAuthentication) for a in view.get_authenticators()):
            statuses += [401, 403]
        if "{" in self.path:
            statuses.append(404)
        if has_body and view.parser_classes:
            statuses.append(415)
        return statuses

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        for status in sorted(self._error_statuses()):
            code = str(status)
            if code not in responses:
                responses[code] = self._get_response_for_code(
                    error_response(DESCRIPTIONS[status]), code, direction=direction
                )
        for status, headers in HEADERS.items():
            if str(status) in responses:
                responses[str(status)].setdefault("headers", headers)
        return responses


def _require_values(result: dict[str, Any]) -> None:
    """A query parameter given must have a value (README "REST API"): the server answers 400
    for ``?source=``, so the document says a string parameter is at least one character,
    and holds no NUL (refused too: PostgreSQL cannot compare it)."""
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                schema = parameter.get("schema", {})
                if parameter.get("in") == "query" and schema.get("type") == "string":
                    schema.setdefault("minLength", 1)
                    if not {"enum", "format", "pattern"} & set(schema):
                        schema["pattern"] = NO_NUL


def postprocess(result, generator, request, public):
    result = postprocess_schema_enums(result, generator)
    _require_values(result)
    from podsight.gpodder.schema import add_gpodder

    add_gpodder(result)
    return result
