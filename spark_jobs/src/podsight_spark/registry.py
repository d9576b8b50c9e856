"""Jobs by dotted name, each with the parameters it takes (names, types, defaults).

A job is a function ``fn(spark, **params) -> dict``; :func:`run` checks the parameters
against the job's declared ones before Spark starts, so a typo fails at once with the
list of what the job takes, and returns the job's result with ``seconds`` added.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from podsight_spark.errors import JobError

__all__ = ["JOBS", "REQUIRED", "Job", "Param", "job", "run", "validate"]


class _Required:
    def __repr__(self) -> str:
        return "REQUIRED"


REQUIRED: Any = _Required()


@dataclass(frozen=True)
class Param:
    type: type | tuple[type, ...]
    default: Any = REQUIRED
    help: str = ""
    choices: tuple[Any, ...] = ()


@dataclass(frozen=True)
class Job:
    name: str
    fn: Callable[..., dict[str, Any]]
    params: dict[str, Param] = field(default_factory=dict)
    help: str = ""


JOBS: dict[str, Job] = {}


def job(name: str, *, params: dict[str, Param], help: str = ""):  # noqa: A002
    """Register ``fn`` as the job ``name`` (e.g. ``events.engagement``)."""

    def register(fn: Callable[..., dict[str, Any]]):
        if name in JOBS:
            raise RuntimeError(f"two jobs named {name!r}")
        JOBS[name] = Job(name, fn, params, help or (fn.__doc__ or "").strip().split("\n")[0])
        return fn

    return register


def _type_name(t: type | tuple[type, ...]) -> str:
    if isinstance(t, tuple):
        return " or ".join(x.__name__ for x in t)
    return t.__name__


def get(name: str) -> Job:
    _load()
    try:
        return JOBS[name]
    except KeyError:
        raise JobError(
            f"no job {name!r}; the jobs are: {', '.join(sorted(JOBS))} "
            "(python -m podsight_spark list)"
        ) from None


def validate(spec: Job, params: dict[str, Any]) -> dict[str, Any]:
    """``params`` checked against the job's: unknown names, missing required ones, types
    and choices; defaults filled in."""
    if not isinstance(params, dict):
        raise JobError(f"{spec.name}: --params must be a JSON object, not {type(params).__name__}")
    unknown = sorted(set(params) - set(spec.params))
    if unknown:
        raise JobError(
            f"{spec.name}: unknown parameter(s) {', '.join(unknown)}; it takes "
            f"{', '.join(sorted(spec.params)) or 'none'}"
        )
    out: dict[str, Any] = {}
    for name, p in spec.params.items():
        if name not in params or params[name] is None:
            if p.default is REQUIRED:
                raise JobError(f"{spec.name}: parameter {name!r} is required ({p.help})")
            out[name] = p.default
            continue
        value = params[name]
        types = p.type if isinstance(p.type, tuple) else (p.type,)
        # JSON has one number type: an integer is a valid float, a bool is not a number.
        if float in types and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if isinstance(value, bool) and bool not in types or not isinstance(value, types):
            raise JobError(
                f"{spec.name}: parameter {name!r} must be {_type_name(p.type)}, "
                f"got {json_repr(value)}"
            )
        if p.choices and value not in p.choices:
            raise JobError(
                f"{spec.name}: parameter {name!r} must be one of "
                f"{', '.join(map(str, p.choices))}, got {json_repr(value)}"
            )
        out[name] = value
    return out


def json_repr(value: Any) -> str:
    import json

    try:
        return json.dumps(value)
    except TypeError:
        return repr(value)


def run(name: str, params: dict[str, Any], *, spark=None) -> dict[str, Any]:
    """Run the job ``name`` with ``params`` (validated first); ``spark``: a session to use
    (default: :func:`podsight_spark.session.get_session`)."""
    spec = get(name)
    checked = validate(spec, params)
    started = time.perf_counter()
    if spark is None:
        from podsight_spark.session import get_session

        spark = get_session(f"podsight {name}")
    result = spec.fn(spark, **checked)
    return {"job": name, **result, "seconds": round(time.perf_counter() - started, 3)}


def _load() -> None:
    # Importing the jobs registers them.
    from podsight_spark import jobs  # noqa: F401
