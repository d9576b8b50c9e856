"""The steps a dashboard (any API client with the staff scope) may start as jobs, and the
parameters of each it may set.

Types come from the step's own annotations (``pipeline/steps.py``); this table only
narrows them: which parameters an API client may set at all (never a path on the server,
such as ``sources_file`` or ``labels``, nor a whole show spec) and the bounds a value must
keep. One table gives both the OpenAPI schema of ``POST /api/jobs`` (:func:`request_schema`)
and its validation (:func:`validate`), so the two cannot disagree.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from typing import Any

from podsight.errors import InputError
from podsight.pipeline.steps import STEPS
from podsight.recs.core import ALGORITHMS
from podsight.sources.sync import SOURCES

__all__ = ["ALLOWED", "InvalidJob", "Rule", "param_schema", "request_schema", "validate"]

INT64 = 2**63 - 1
# A feed URL given to ingest.rss: http(s) and printable ASCII (percent-encode the rest). No
# file paths: the API must not make the server read its own files.
URL_PATTERN = r"^https?://[!-~]+$"
MAX_URL = 2048


class InvalidJob(InputError):
    """A job request names no allowed step or gives parameters it does not take: 400, with
    ``details`` (field → messages) as the API's validation errors carry them."""

    def __init__(self, message: str, details: dict[str, list[str]]) -> None:
        super().__init__(message)
        self.details = details


@dataclass(frozen=True)
class Rule:
    """One parameter of a step that API clients may set: ``bounds`` is JSON Schema merged
    into the schema of the parameter's annotated type (``items`` into its items)."""

    name: str
    description: str
    bounds: dict[str, Any] = field(default_factory=dict)


_COUNT = {"minimum": 1, "maximum": 1_000_000}
_CONCURRENCY = {"minimum": 1, "maximum": 32}
_ID = {"minimum": 1, "maximum": INT64}

ALLOWED: dict[str, tuple[Rule, ...]] = {
    "match": (
        Rule("full", "re-examine every record, not only those changed since the last run"),
        Rule("pair_counts", "also count links per source pair (in the report)"),
    ),
    "recs.train": (
        Rule(
            "models",
            "candidate models to blend (default: all the data supports)",
            {"minItems": 1, "maxItems": len(ALGORITHMS), "items": {"enum": sorted(ALGORITHMS)}},
        ),
        Rule("force", "promote the new version even when the gate would reject it"),
    ),
    # Each recomputes every known listener's list: seconds to minutes, so a job.
    "recs.promote": (
        Rule("version", "the trained version to serve (GET /api/recs/models)", {"maxLength": 64}),
        Rule("force", "promote it even when the gate would refuse it"),
    ),
    "recs.rollback": (),
    "ingest.rss": (
        Rule(
            "locations",
            "feed URLs to fetch and store (a show's feed: sync that show)",
            {
                "minItems": 1,
                "maxItems": 20,
                "items": {"pattern": URL_PATTERN, "maxLength": MAX_URL},
            },
        ),
        Rule("concurrency", "feeds fetched at once", _CONCURRENCY),
    ),
    "content.transcripts": (
        Rule("limit", "at most this many episodes, the least recently checked first", _COUNT),
        Rule("asr", "transcribe episodes without a transcript link (slow)"),
        Rule("concurrency", "transcripts fetched at once", _CONCURRENCY),
    ),
    "content.analyze": (
        Rule("limit", "analyse at most this many episodes", _COUNT),
        Rule(
            "episode_ids",
            "only these episodes",
            {"minItems": 1, "maxItems": 1000, "items": _ID},
        ),
        Rule("force", "analyse again episodes already analysed from the same transcript"),
    ),
    "directory.add": (
        Rule("podcastindex_id", "the Podcast Index feed id (GET /api/directory)", _ID),
    ),
    "sources.sync": (
        Rule(
            "sources",
            "only these sources (default: every source with credentials)",
            {"minItems": 1, "maxItems": len(SOURCES), "items": {"enum": list(SOURCES)}},
        ),
        Rule("cache", "use the kept API answers and conditional requests"),
    ),
}

_SCALARS = {
    "int": {"type": "integer"},
    "float": {"type": "number"},
    "bool": {"type": "boolean"},
    "str": {"type": "string", "pattern": r"^[^\x00]*$"},
}


def _type_schema(annotation: str) -> dict[str, Any]:
    """JSON Schema of a step parameter's annotation (as written, ``from __future__``)."""
    text = annotation.replace(" ", "")
    if text.endswith("|None"):
        return {**_type_schema(text.removesuffix("|None")), "nullable": True}
    if text in _SCALARS:
        return dict(_SCALARS[text])
    match = re.fullmatch(r"(?:Sequence|list)\[(\w+)\]", text)
    if match and match[1] in _SCALARS:
        return {"type": "array", "items": dict(_SCALARS[match[1]])}
    raise TypeError(f"a job parameter cannot be of type {annotation!r}")


def param_schema(step: str, rule: Rule) -> dict[str, Any]:
    """The JSON Schema of one allowed parameter: its annotated type within its bounds."""
    found = {p.name: p for p in STEPS[step].params}
    if rule.name not in found:
        raise LookupError(f"step {step!r} has no parameter {rule.name!r}")
    schema = _type_schema(found[rule.name].annotation)
    bounds = copy.deepcopy(rule.bounds)
    if "items" in bounds:
        schema["items"] = {**schema["items"], **bounds.pop("items")}
    schema.update(bounds)
    for part in (schema, schema.get("items", {})):
        if "enum" in part:  # the names say all; no pattern beside them
            part.pop("pattern", None)
    schema["description"] = rule.description
    return schema


def _required(step: str) -> list[str]:
    allowed = {r.name for r in ALLOWED[step]}
    return [p.name for p in STEPS[step].params if p.required and p.name in allowed]


def request_schema() -> dict[str, Any]:
    """The body of ``POST /api/jobs``: one variant per allowed step."""
    variants = []
    for step, rules in ALLOWED.items():
        params: dict[str, Any] = {
            "type": "object",
            "properties": {r.name: param_schema(step, r) for r in rules},
            "additionalProperties": False,
        }
        required = _required(step)
        if required:
            params["required"] = required
        variants.append(
            {
                "type": "object",
                "title": step,
                "description": STEPS[step].summary,
                "properties": {
                    "step": {"type": "string", "enum": [step]},
                    "params": params,
                    "dry_run": {
                        "type": "boolean",
                        "description": "Only check the request: start nothing, answer 200 "
                        "with the step and its parameters as they would run.",
                    },
                },
                "required": ["step", "params"] if required else ["step"],
                "additionalProperties": False,
            }
        )
    return {"oneOf": variants}


def _problems(schema: dict[str, Any], value: Any) -> list[str]:
    """What is wrong with ``value`` against the small part of JSON Schema used here."""
    if value is None:
        return [] if schema.get("nullable") else ["must not be null"]
    kind = schema.get("type")
    if kind == "integer":
        if isinstance(value, bool) or not isinstance(value, int):
            return ["must be a whole number"]
    elif kind == "number":
        if isinstance(value, bool) or not isinstance(value, int | float):
            return ["must be a number"]
    elif kind == "boolean":
        if not isinstance(value, bool):
            return ["must be true or false"]
    elif kind == "string":
        if not isinstance(value, str):
            return ["must be a text"]
    elif kind == "array":
        if not isinstance(value, list):
            return ["must be a list"]
    if "enum" in schema and value not in schema["enum"]:
        return [f"must be one of: {', '.join(map(str, schema['enum']))}"]
    if "minimum" in schema and value < schema["minimum"]:
        return [f"must be at least {schema['minimum']}"]
    if "maximum" in schema and value > schema["maximum"]:
        return [f"must be at most {schema['maximum']}"]
    if "maxLength" in schema and len(value) > schema["maxLength"]:
        return [f"must be at most {schema['maxLength']} characters"]
    if "pattern" in schema and not re.fullmatch(schema["pattern"], value):
        if schema["pattern"] == URL_PATTERN:
            return ["must be an http(s) URL of printable ASCII characters"]
        return ["must not contain NUL characters"]
    if kind == "array":
        if len(value) < schema.get("minItems", 0):
            return [f"must hold at least {schema['minItems']} item(s)"]
        if len(value) > schema.get("maxItems", len(value)):
            return [f"must hold at most {schema['maxItems']} items"]
        for i, item in enumerate(value):
            found = _problems(schema["items"], item)
            if found:
                return [f"item {i}: {found[0]}"]
    return []


def validate(body: Any) -> tuple[str, dict[str, Any], bool]:
    """``(step, params, dry_run)`` of a job request; :class:`InvalidJob` naming each bad
    field otherwise."""
    if not isinstance(body, dict):
        raise InvalidJob(
            "The body must be a JSON object.", {"non_field_errors": ["must be a JSON object"]}
        )
    details: dict[str, list[str]] = {}
    for key in sorted(set(body) - {"step", "params", "dry_run"}):
        details[key] = ["unknown field: give step, params and dry_run only"]
    step = body.get("step")
    if step is None:
        details["step"] = ["this field is required"]
    elif not isinstance(step, str) or step not in ALLOWED:
        details["step"] = [f"must be one of the steps a job may run: {', '.join(ALLOWED)}"]
    dry_run = body.get("dry_run", False)
    if not isinstance(dry_run, bool):
        details["dry_run"] = ["must be true or false"]
    params = body.get("params", {})
    if not isinstance(params, dict):
        details["params"] = ["must be a JSON object of the step's parameters"]
    elif "step" not in details:
        rules = {r.name: r for r in ALLOWED[step]}
        for name in sorted(set(params) - set(rules)):
            takes = ", ".join(rules) or "none"
            details[f"params.{name}"] = [f"{step} takes no parameter {name!r} here (it takes: "
                                         f"{takes})"]  # fmt: skip
        for name in _required(step):
            if name not in params:
                details[f"params.{name}"] = ["this parameter is required"]
        for name, value in params.items():
            if name in rules:
                problems = _problems(param_schema(step, rules[name]), value)
                if problems:
                    details[f"params.{name}"] = problems
    if details:
        raise InvalidJob("The job request has invalid fields; see details.", details)
    return step, dict(params), dry_run
