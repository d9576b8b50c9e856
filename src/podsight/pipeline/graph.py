"""The pipeline graph: which steps run on a schedule, in what order, with what parameters.

This module is the only place the order is written. The local runner
(:mod:`podsight.pipeline.runner`), the scheduler and the Airflow DAG
(``dags/podsight_daily.py``) all read :data:`GRAPH`; none of them lists steps itself.

A :class:`Node` names a registered step (:data:`podsight.pipeline.STEPS`), the nodes it
needs, the parameters it runs with, how often it retries, and the cadence it belongs to
(``daily`` or ``weekly``). A node with ``when`` runs only where that condition holds (the
weekly directory import needs a dump path); otherwise it is skipped, and a skipped node
does not stop its dependents.

Pure data and plain functions: no Django, so Airflow's virtualenv can import it.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

__all__ = [
    "CADENCES",
    "GRAPH",
    "Node",
    "ancestors",
    "build",
    "dependents",
    "nodes",
    "ordered",
    "select",
]

CADENCES = ("daily", "weekly")


def _dump_configured() -> str | None:
    """Why the weekly directory import cannot run, or None when it can."""
    if os.environ.get("PODSIGHT_PODCASTINDEX_DUMP"):
        return None
    return "PODSIGHT_PODCASTINDEX_DUMP is not set (the Podcast Index dump to import weekly)"


@dataclass(frozen=True)
class Node:
    """One step of the graph.

    ``name`` is the node's id (the step's name unless a step appears twice);
    ``step`` the registered step it calls; ``needs`` the nodes that must succeed (or be
    skipped) first; ``params`` the keyword arguments; ``retries`` how many more attempts
    after a failure, ``backoff_s`` the wait before the first retry (doubling after each);
    ``when`` returns why the node cannot run here (None: it can); ``engine``: whether the
    step takes ``engine=local|spark``."""

    name: str
    step: str
    needs: tuple[str, ...] = ()
    params: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    cadence: str = "daily"
    retries: int = 2
    backoff_s: float = 30.0
    when: Callable[[], str | None] | None = None
    engine: bool = False
    doc: str = ""

    def __post_init__(self) -> None:
        if self.cadence not in CADENCES:
            raise ValueError(f"node {self.name!r}: cadence must be one of {CADENCES}")
        object.__setattr__(self, "params", MappingProxyType(dict(self.params)))

    def skip_reason(self) -> str | None:
        """Why this node does not run here, or None."""
        return self.when() if self.when is not None else None


def build(*declared: Node) -> Mapping[str, Node]:
    """A graph of these nodes, each declared after the nodes it needs."""
    by_name: dict[str, Node] = {}
    for node in declared:
        if node.name in by_name:
            raise ValueError(f"node {node.name!r} is declared twice")
        unknown = [need for need in node.needs if need not in by_name]
        if unknown:
            # Declared in dependency order, so a cycle or a typo cannot be written.
            raise ValueError(f"node {node.name!r} needs {unknown}, not declared before it")
        by_name[node.name] = node
    return MappingProxyType(by_name)


GRAPH: Mapping[str, Node] = build(
    # Catalog: every source, then one canonical show and episode per real one.
    Node("sources.sync", "sources.sync", doc="sync the shows of the sources file"),
    Node("match", "match", needs=("sources.sync",), doc="link records across sources"),
    # Understanding: transcripts of the episodes matching found, then their analysis.
    Node(
        "content.transcripts", "content.transcripts", needs=("match",),
        doc="fetch new transcripts",
    ),  # fmt: skip
    Node(
        "content.analyze", "content.analyze", needs=("content.transcripts",),
        engine=True, doc="passages, embeddings, topics, sponsors, chapters",
    ),  # fmt: skip
    # Listening, beside the catalog branch: the log into the lake, then engagement.
    Node(
        "events.consume", "events.consume", params={"once": True, "refresh": False},
        doc="move the event log into the lake",
    ),  # fmt: skip
    Node(
        "events.engagement", "events.engagement", needs=("events.consume",),
        engine=True, doc="engagement_daily from events",
    ),  # fmt: skip
    # Recommendations: trained on both branches, then promoted, then served lists.
    Node(
        "recs.train", "recs.train", needs=("content.analyze", "events.engagement"),
        params={"promote": False, "if_changed": True}, engine=True,
        doc="fit a new candidate version when its inputs changed",
    ),  # fmt: skip
    Node(
        "recs.promote", "recs.promote", needs=("recs.train",), params={"version": "latest"},
        doc="promote the new candidate through the gate",
    ),  # fmt: skip
    Node(
        "recs.refresh", "recs.refresh", needs=("recs.promote",),
        doc="precompute every known listener's list",
    ),  # fmt: skip
    # Weekly: the directory from the Podcast Index dump, where one is configured.
    Node(
        "directory.import", "podcastindex.import_dump", cadence="weekly",
        when=_dump_configured, retries=1, doc="re-import the Podcast Index dump",
    ),  # fmt: skip
)


def nodes(cadences: Iterable[str] = CADENCES) -> list[Node]:
    """The nodes of these cadences, in dependency order (declaration order)."""
    wanted = set(cadences)
    return [node for node in GRAPH.values() if node.cadence in wanted]


def dependents(name: str, graph: Mapping[str, Node] = GRAPH) -> set[str]:
    """Every node that needs ``name``, directly or through others."""
    found: set[str] = set()
    for node in graph.values():  # dependency order: a node's needs come before it
        if name in node.needs or found.intersection(node.needs):
            found.add(node.name)
    return found


def ancestors(name: str, graph: Mapping[str, Node] = GRAPH) -> set[str]:
    """Every node ``name`` needs, directly or through others."""
    found: set[str] = set()
    pending = list(graph[name].needs)
    while pending:
        need = pending.pop()
        if need not in found:
            found.add(need)
            pending.extend(graph[need].needs)
    return found


def ordered(names: Iterable[str], graph: Mapping[str, Node] = GRAPH) -> list[Node]:
    """These nodes in dependency order."""
    wanted = set(names)
    return [node for node in graph.values() if node.name in wanted]


def select(
    *,
    only: Iterable[str] = (),
    start: str | None = None,
    cadences: Iterable[str] = CADENCES,
    graph: Mapping[str, Node] = GRAPH,
) -> list[Node]:
    """The nodes one run executes: ``only`` these (their needs are not added: they are
    taken as done), or ``start`` and everything after it, of the given cadences.

    Raises ``KeyError`` naming the unknown node."""
    names = [node.name for node in graph.values() if node.cadence in set(cadences)]
    for name in [*only, *([start] if start else [])]:
        if name not in graph:
            raise KeyError(name)
    if only:
        return ordered(only, graph)
    if start:
        return ordered({start, *dependents(start, graph)}, graph)
    return ordered(names, graph)
