"""Query parameters read the one way the OpenAPI document states them.

The rule for every endpoint (README "REST API"): a parameter that is absent takes its
default; a parameter that is given must hold a valid value, so an empty one (``?limit=``)
is a 400 like any other invalid value, never a silent "unset". Text holds no NUL.
Whole numbers are ASCII digits only (``int()`` would take ``" 5"``, ``"5_0"`` or
``"٥"``, and ``str.isdigit`` lets ``"²"`` through to a ``ValueError``).
"""

from __future__ import annotations

import re
from collections.abc import Collection

from django import forms
from drf_spectacular.utils import extend_schema_field
from rest_framework import exceptions, serializers

__all__ = [
    "EMPTY",
    "DigitsField",
    "NO_NUL",
    "RecordRefField",
    "TextField",
    "choice_param",
    "int_param",
    "query_schema",
    "text_param",
]

EMPTY = "must not be empty: leave the parameter out to use its default"
_DIGITS = re.compile(r"[0-9]{1,19}")


def _invalid(name: str, message: str) -> exceptions.ValidationError:
    return exceptions.ValidationError({name: [message]})


def text_param(params, name: str) -> str | None:
    """The value, ``None`` when absent; 400 when empty."""
    value = params.get(name)
    if value == "":
        raise _invalid(name, EMPTY)
    if value is not None and "\x00" in value:
        raise _invalid(name, "must not contain NUL characters")
    return value


def choice_param(params, name: str, choices: Collection[str]) -> str | None:
    value = text_param(params, name)
    if value is not None and value not in choices:
        raise _invalid(name, f"must be one of: {', '.join(sorted(choices))}")
    return value


class DigitsField(forms.IntegerField):
    """A query filter's whole number by the same rule as :func:`int_param`: ASCII digits
    only (Django's IntegerField also takes ``" 5"``, ``"5.0"`` or ``"٥"``)."""

    def to_python(self, value):
        if value not in self.empty_values and not _DIGITS.fullmatch(str(value)):
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return super().to_python(value)


def int_param(params, name: str, default: int, minimum: int, maximum: int) -> int:
    value = params.get(name)
    if value is None:
        return default
    if not _DIGITS.fullmatch(value) or not minimum <= int(value) <= maximum:
        raise _invalid(name, f"must be a whole number from {minimum} to {maximum}")
    return int(value)


# --------------------------------------------------------------------------- JSON bodies

NO_NUL = r"^[^\x00]*$"


def query_schema(max_length: int) -> dict:
    """The OpenAPI schema of a search query: something besides spaces, and no NUL."""
    return {"type": "string", "maxLength": max_length, "pattern": r"^[^\x00]*[^\x00\s][^\x00]*$"}


@extend_schema_field({"type": "string", "pattern": NO_NUL})
class TextField(serializers.CharField):
    """A JSON string kept as sent. DRF's CharField also takes numbers and trims spaces,
    which the document (``type: string``) does not say; NUL is refused (PostgreSQL cannot
    store it), which the pattern says."""

    def __init__(self, **kwargs):
        kwargs.setdefault("trim_whitespace", False)
        kwargs.setdefault("allow_blank", True)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


RECORD_SOURCES = ("apple", "podcastindex", "rss", "spotify", "youtube")
_RECORD_ID = re.compile(r"[1-9][0-9]{0,17}")


@extend_schema_field(
    {
        "anyOf": [
            {"type": "integer", "minimum": 1, "maximum": 2**63 - 1},
            {"type": "string", "pattern": r"^[1-9][0-9]{0,17}$"},
            {"type": "string", "pattern": rf"^({'|'.join(RECORD_SOURCES)}):[^\x00]+$"},
        ],
        "description": "A record id, or `source:external_id`.",
    }
)
class RecordRefField(serializers.Field):
    """A source record named by id or ``source:external_id``, checked before it reaches
    the database (a 20-digit id used to overflow it)."""

    default_error_messages = {
        "invalid": "name a record by id (1 to 18 digits, no leading 0) or as "
        f"'source:external_id' with a source of: {', '.join(RECORD_SOURCES)}"
    }

    def to_internal_value(self, data):
        if isinstance(data, int) and not isinstance(data, bool) and 1 <= data < 2**63:
            return data
        if isinstance(data, str):
            if _RECORD_ID.fullmatch(data):
                return data
            source, sep, external_id = data.partition(":")
            if sep and source in RECORD_SOURCES and external_id and "\x00" not in external_id:
                return data
        self.fail("invalid")

    def to_representation(self, value):
        return value
