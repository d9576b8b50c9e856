"""Small coercions shared by the API normalisers (JSON values come in many shapes)."""

from __future__ import annotations

from typing import Any

__all__ = ["as_int"]


def as_int(value: Any) -> int | None:
    """An integer from an int, a whole float or a decimal string; ``None`` otherwise
    (booleans are not numbers here, though Python says they are)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().isdecimal():
        return int(value.strip())
    return None
