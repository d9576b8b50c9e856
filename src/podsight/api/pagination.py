"""Keyset (cursor) pagination over an ``ordering`` parameter, nulls last, ties broken by id.

DRF's CursorPagination cannot page over nullable sort keys (an episode without a
publish date would break the cursor), so the cursor here carries the last row's
sort value and id and the next page is "after" that pair, which stays correct
while rows are being inserted.

Cursors are signed (``django.core.signing``, salted), so a client cannot make one up; the
decoded value is also checked against the sort field's type, because the built-in
development ``SECRET_KEY`` is public and a forged value must never reach the database.
Any bad cursor is a 400 ``invalid_cursor``.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

from django.core import signing
from django.db import models
from django.db.models import F, Q, QuerySet
from django.utils.dateparse import parse_datetime
from rest_framework import exceptions, status
from rest_framework.pagination import BasePagination
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

from podsight.api.params import int_param, text_param

__all__ = ["CURSOR_SALT", "InvalidCursor", "KeysetPagination", "sign_cursor", "unsign_cursor"]

CURSOR_SALT = "podsight.api.cursor"
# What every database's signed 64-bit integer column holds.
INT64 = 2**63 - 1
# A cursor is a signed query value; anything longer was not made by this API.
MAX_CURSOR = 4096
MAX_TEXT = 10_000


class InvalidCursor(exceptions.APIException):
    """400 ``invalid_cursor``: the cursor was not handed out by this API (for this query)."""

    status_code = status.HTTP_400_BAD_REQUEST
    default_code = "invalid_cursor"

    def __init__(self, reason: str, param: str = "cursor") -> None:
        super().__init__(
            f"Invalid cursor: {reason}. Use the `next` link of a previous page as it came, "
            "or leave the cursor out to start from the first page.",
            code=self.default_code,
        )
        self.details = {param: [reason]}


def sign_cursor(payload: Any) -> str:
    return signing.dumps(payload, salt=CURSOR_SALT)


def unsign_cursor(token: str) -> Any:
    """The payload of a cursor this API signed; :class:`InvalidCursor` otherwise (forged,
    changed, or signed under another ``SECRET_KEY``)."""
    if len(token) > MAX_CURSOR:
        raise InvalidCursor("too long")
    try:
        return signing.loads(token, salt=CURSOR_SALT)
    except (signing.BadSignature, ValueError, UnicodeError, RecursionError) as exc:
        raise InvalidCursor("not a cursor this API handed out (bad signature)") from exc


def valid_id(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= INT64


def _field(model: type[models.Model], path: str) -> models.Field:
    *relations, name = path.split("__")
    for relation in relations:
        model = model._meta.get_field(relation).related_model
    return model._meta.get_field(name)


def _checked_value(field: models.Field, value: Any) -> Any:
    """The cursor's sort value as the filter needs it; :class:`InvalidCursor` when it is not
    a value of the field's type (the filter would raise, or overflow the database)."""
    if value is None:
        if field.null:
            return None
        raise InvalidCursor("the sort value is missing")
    if isinstance(field, models.DateTimeField):
        try:
            when = parse_datetime(value) if isinstance(value, str) else None
            # A time at the calendar's edge overflows once made UTC for the query.
            if when is not None and when.tzinfo is not None:
                when.astimezone(UTC)
        except (ValueError, OverflowError):
            when = None  # well formed but impossible: month 13, year 1 at +01:00…
        if when is None or when.tzinfo is None:
            raise InvalidCursor("the sort value is not a time with a time zone")
        return when
    if isinstance(field, models.IntegerField | models.AutoField):
        if isinstance(value, bool) or not isinstance(value, int) or abs(value) > INT64:
            raise InvalidCursor("the sort value is not a 64-bit integer")
        return value
    if isinstance(field, models.FloatField):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InvalidCursor("the sort value is not a number")
        if not math.isfinite(value):
            raise InvalidCursor("the sort value is not a finite number")
        return float(value)
    if isinstance(field, models.CharField | models.TextField):
        if not isinstance(value, str) or len(value) > MAX_TEXT:
            raise InvalidCursor("the sort value is not a text")
        return value
    raise InvalidCursor("this ordering cannot be resumed")  # a field type not handled above


def _bad(field: str, message: str) -> exceptions.ValidationError:
    return exceptions.ValidationError({field: [message]})


class KeysetPagination(BasePagination):
    """Views declare ``ordering_fields`` (public name → model field) and ``default_ordering``."""

    page_size = 50
    max_page_size = 500
    cursor_param = "cursor"
    page_size_param = "page_size"
    ordering_param = "ordering"

    def _ordering(self, request, view) -> tuple[str, str, bool]:
        raw = text_param(request.query_params, self.ordering_param) or view.default_ordering
        descending = raw.startswith("-")
        name = raw[1:] if descending else raw
        fields: dict[str, str] = view.ordering_fields
        if name not in fields:
            allowed = ", ".join(sorted(fields) + sorted(f"-{f}" for f in fields))
            raise _bad(self.ordering_param, f"unknown ordering {raw!r}; use one of: {allowed}")
        return raw, fields[name], descending

    def _page_size(self, request) -> int:
        # Over the maximum is refused like 0 is, not clamped: a client asking for 1,000
        # must learn that it gets 500 a page.
        return int_param(
            request.query_params, self.page_size_param, self.page_size, 1, self.max_page_size
        )

    def _decode(self, token: str, ordering: str, model, field: str) -> tuple[Any, int]:
        payload = unsign_cursor(token)
        if not isinstance(payload, dict) or set(payload) != {"o", "v", "i"}:
            raise InvalidCursor("not a cursor of a list")
        if payload["o"] != ordering:
            raise InvalidCursor(
                f"the cursor belongs to ordering {str(payload['o'])[:40]!r}, not {ordering!r}"
            )
        if not valid_id(payload["i"]):
            raise InvalidCursor("the row id is not a positive 64-bit integer")
        return _checked_value(_field(model, field), payload["v"]), payload["i"]

    @staticmethod
    def _encode(ordering: str, value: Any, pk: int) -> str:
        if isinstance(value, datetime):
            value = value.isoformat()
        return sign_cursor({"o": ordering, "v": value, "i": pk})

    def paginate_queryset(self, queryset: QuerySet, request, view=None):
        ordering, field, descending = self._ordering(request, view)
        size = self._page_size(request)
        token = request.query_params.get(self.cursor_param)
        if token is not None:
            value, pk = self._decode(token, ordering, queryset.model, field)
            cmp, id_cmp = ("lt", "lt") if descending else ("gt", "gt")
            if value is None:
                after = Q(**{f"{field}__isnull": True, f"pk__{id_cmp}": pk})
            else:
                after = (
                    Q(**{f"{field}__{cmp}": value})
                    | Q(**{field: value, f"pk__{id_cmp}": pk})
                    | Q(**{f"{field}__isnull": True})
                )
            queryset = queryset.filter(after)
        expr = F(field).desc(nulls_last=True) if descending else F(field).asc(nulls_last=True)
        queryset = queryset.order_by(expr, "-pk" if descending else "pk")
        rows = list(queryset[: size + 1])
        self._request, self._has_next = request, len(rows) > size
        rows = rows[:size]
        self._next = None
        if self._has_next and rows:
            last = rows[-1]
            self._next = self._encode(ordering, _lookup(last, field), last.pk)
        self._size = size
        return rows

    def get_next_link(self) -> str | None:
        if self._next is None:
            return None
        url = self._request.build_absolute_uri()
        return replace_query_param(url, self.cursor_param, self._next)

    def get_paginated_response(self, data):
        return Response({"results": data, "next": self.get_next_link(), "page_size": self._size})

    def get_paginated_response_schema(self, schema):
        return {
            "type": "object",
            "required": ["results", "next"],
            "properties": {
                "results": schema,
                "next": {"type": "string", "format": "uri", "nullable": True},
                "page_size": {"type": "integer"},
            },
        }

    def get_schema_operation_parameters(self, view):
        names = sorted(view.ordering_fields)
        return [
            {
                "name": self.cursor_param,
                "in": "query",
                "required": False,
                "description": "Opaque cursor from a previous page's `next` link (signed: "
                "anything else is a 400 `invalid_cursor`).",
                "schema": {"type": "string"},
            },
            {
                "name": self.page_size_param,
                "in": "query",
                "required": False,
                "description": f"Items per page, 1–{self.max_page_size} "
                f"(default {self.page_size}); more is a 400, not clamped.",
                "schema": {"type": "integer", "minimum": 1, "maximum": self.max_page_size},
            },
            {
                "name": self.ordering_param,
                "in": "query",
                "required": False,
                "description": "Sort key (prefix `-` for descending); "
                f"default `{view.default_ordering}`.",
                "schema": {"type": "string", "enum": names + [f"-{n}" for n in names]},
            },
        ]


def _lookup(row: Any, field: str) -> Any:
    value = row
    for part in field.split("__"):
        value = getattr(value, part)
    return value
