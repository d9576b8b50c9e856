"""Hooks of the schemathesis run (``tests/api/test_schemathesis.py`` loads them).

A cursor is opaque and signed: the only valid ones are those the server handed out, which
no JSON Schema can describe, so a generated "valid" cursor is in truth a forged one. Valid
requests go without one; forged cursors have their own test with hostile strategies.

``POST /api/jobs`` would start real work (matching, training, fetching generated feed
URLs) for every valid request: they go as ``dry_run``, which checks the request the same
way and starts nothing. Jobs that run have their own tests (tests/jobs).
"""

from __future__ import annotations

import schemathesis


@schemathesis.hook
def before_call(context, case, kwargs):
    meta = case.meta
    positive = meta is not None and meta.generation.mode.is_positive
    if positive and case.query:
        case.query.pop("cursor", None)
    if case.operation.path == "/api/jobs" and case.method.upper() == "POST":
        if isinstance(case.body, dict):
            if positive:
                case.body["dry_run"] = True
            else:
                # An invalid request stays invalid (whatever made it so is left alone).
                case.body.setdefault("dry_run", True)
