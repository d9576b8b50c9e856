"""Keyset (cursor) pagination over an ``ordering`` parameter, nulls last, ties broken by id.

DRF's CursorPagination cannot page over nullable sort keys (an episode without a
publish date would break the cursor), so the cursor here carries the last row's
sort value and id and the next page is "after" that pair, which stays correct
while rows are being inserted.
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime
from typing import Any

from django.db.models import F, Q, QuerySet
from rest_framework import exceptions
from rest_framework.pagination import BasePagination
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

__all__ = ["KeysetPagination"]


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
        raw = request.query_params.get(self.ordering_param) or view.default_ordering
        descending = raw.startswith("-")
        name = raw.lstrip("-")
        fields: dict[str, str] = view.ordering_fields
        if name not in fields:
            allowed = ", ".join(sorted(fields) + sorted(f"-{f}" for f in fields))
            raise _bad(self.ordering_param, f"unknown ordering {raw!r}; use one of: {allowed}")
        return raw, fields[name], descending

    def _page_size(self, request) -> int:
        raw = request.query_params.get(self.page_size_param)
        if raw is None:
            return self.page_size
        try:
            size = int(raw)
        except ValueError:
            size = 0
        if size < 1:
            raise _bad(
                self.page_size_param, f"must be a whole number from 1 to {self.max_page_size}"
            )
        return min(size, self.max_page_size)

    def _decode(self, token: str, ordering: str) -> tuple[Any, int]:
        try:
            payload = json.loads(
                base64.urlsafe_b64decode(token.encode() + b"=" * (-len(token) % 4))
            )
            if payload["o"] != ordering:
                raise _bad(self.cursor_param, "cursor belongs to another ordering")
            return payload["v"], int(payload["i"])
        except (ValueError, KeyError, TypeError, binascii.Error) as exc:
            raise _bad(self.cursor_param, "invalid cursor") from exc

    @staticmethod
    def _encode(ordering: str, value: Any, pk: int) -> str:
        if isinstance(value, datetime):
            value = value.isoformat()
        raw = json.dumps({"o": ordering, "v": value, "i": pk}, separators=(",", ":"))
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    def paginate_queryset(self, queryset: QuerySet, request, view=None):
        ordering, field, descending = self._ordering(request, view)
        size = self._page_size(request)
        token = request.query_params.get(self.cursor_param)
        if token:
            value, pk = self._decode(token, ordering)
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
                "description": "Opaque cursor from a previous page's `next` link.",
                "schema": {"type": "string"},
            },
            {
                "name": self.page_size_param,
                "in": "query",
                "required": False,
                "description": f"Items per page, 1–{self.max_page_size} "
                f"(default {self.page_size}).",
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
