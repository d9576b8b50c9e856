"""Query parameters read the one way the OpenAPI document states them.

The rule for every endpoint (README "REST API"): a parameter that is absent takes its
default; a parameter that is given must hold a valid value, so an empty one (``?limit=``)
is a 400 like any other invalid value, never a silent "unset". Whole numbers are ASCII
digits only (``int()`` would take ``" 5"``, ``"5_0"`` or ``"٥"``, and ``str.isdigit``
lets ``"²"`` through to a ``ValueError``).
"""

from __future__ import annotations

import re
from collections.abc import Collection

from rest_framework import exceptions

__all__ = ["EMPTY", "choice_param", "int_param", "text_param"]

EMPTY = "must not be empty: leave the parameter out to use its default"
_DIGITS = re.compile(r"[0-9]{1,19}")


def _invalid(name: str, message: str) -> exceptions.ValidationError:
    return exceptions.ValidationError({name: [message]})


def text_param(params, name: str) -> str | None:
    """The value, ``None`` when absent; 400 when empty."""
    value = params.get(name)
    if value == "":
        raise _invalid(name, EMPTY)
    return value


def choice_param(params, name: str, choices: Collection[str]) -> str | None:
    value = text_param(params, name)
    if value is not None and value not in choices:
        raise _invalid(name, f"must be one of: {', '.join(sorted(choices))}")
    return value


def int_param(params, name: str, default: int, minimum: int, maximum: int) -> int:
    value = params.get(name)
    if value is None:
        return default
    if not _DIGITS.fullmatch(value) or not minimum <= int(value) <= maximum:
        raise _invalid(name, f"must be a whole number from {minimum} to {maximum}")
    return int(value)
