"""The registry: each step's name, docstring, parameters and report type.

A step is a plain function with keyword parameters (typed) that returns a report
dataclass. :func:`step` registers it as a :class:`Step` under a dotted name; front ends
list :data:`STEPS` and call :func:`run_step` (or the :class:`Step` itself), so the CLI,
the API, the dashboard, the local runner and Airflow DAGs share one entry per piece of
work and no logic of their own.

The report type is named as ``"module:Class"`` and imported only when asked for: the
report modules need Django, and the registry is imported by the CLI before Django is set
up. ``progress`` (a :class:`~podsight.progress.Progress`, the caller's view of long work)
is not listed among a step's parameters: it is how a step is watched, not what it does.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = ["STEPS", "Param", "Step", "run_step", "step"]

# Not a parameter of the work itself (see the module docstring).
_WATCHING = frozenset({"progress"})


@dataclass(frozen=True)
class Param:
    """One parameter of a step; ``annotation`` is its type as written."""

    name: str
    annotation: str
    default: Any = inspect.Parameter.empty

    @property
    def required(self) -> bool:
        return self.default is inspect.Parameter.empty


@dataclass(frozen=True)
class Step:
    """A registered piece of work: ``run(**params)`` returns an instance of ``report``."""

    name: str
    fn: Callable[..., Any]
    report_name: str

    @property
    def doc(self) -> str:
        return inspect.getdoc(self.fn) or ""

    @property
    def summary(self) -> str:
        return self.doc.split("\n\n", 1)[0].replace("\n", " ")

    @property
    def params(self) -> tuple[Param, ...]:
        return tuple(
            Param(p.name, str(p.annotation), p.default)
            for p in inspect.signature(self.fn).parameters.values()
            if p.name not in _WATCHING
        )

    @property
    def report(self) -> type:
        module, _, name = self.report_name.partition(":")
        return getattr(importlib.import_module(module), name)

    def run(self, *args: Any, **params: Any) -> Any:
        return self.fn(*args, **params)

    # A step is called like the function it wraps (``STEPS["directory.search"](q, …)``).
    __call__ = run


STEPS: dict[str, Step] = {}


def step(name: str, *, report: str) -> Callable[[Callable[..., Any]], Step]:
    """Register the decorated function as the step ``name`` returning ``report``
    (``"module:Class"``)."""

    def register(fn: Callable[..., Any]) -> Step:
        if not inspect.getdoc(fn):
            raise TypeError(f"step {name!r} needs a docstring: it is what front ends list")
        registered = Step(name, fn, report)
        STEPS[name] = registered
        return registered

    return register


def run_step(name: str, /, **params: Any) -> Any:
    """Run the step registered as ``name`` with ``params``; its report.

    Looked up at each call, so a test can stand a fake in for a step in :data:`STEPS`."""
    try:
        found = STEPS[name]
    except KeyError:
        raise LookupError(f"no step named {name!r}; known: {', '.join(sorted(STEPS))}") from None
    return found(**params)
