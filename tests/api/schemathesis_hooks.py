"""Hooks of the schemathesis run (``tests/api/test_schemathesis.py`` loads them).

A cursor is opaque and signed: the only valid ones are those the server handed out, which
no JSON Schema can describe, so a generated "valid" cursor is in truth a forged one. Valid
requests go without one; forged cursors have their own test with hostile strategies.
"""

from __future__ import annotations

import schemathesis


@schemathesis.hook
def before_call(context, case, kwargs):
    meta = case.meta
    if meta is not None and meta.generation.mode.is_positive and case.query:
        case.query.pop("cursor", None)
