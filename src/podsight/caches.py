"""The process-wide caches, and one call that empties them all.

Each cache has its own public reset, called here: the HTTP response stores and rate
limiters (:func:`podsight.sources.http.reset`), the shared event log
(:func:`podsight.events.log.reset_shared`) and the episode resolver
(:meth:`podsight.events.resolve.Resolver.clear`) and the loaded search index
(:func:`podsight.content.index.reset_snapshots`) and the loaded recommendation models
(:func:`podsight.recs.serving.forget_loaded`). Tests start from a clean process state
with :func:`reset_all`; so may a long-lived process whose ``PODSIGHT_HOME`` changed.
"""

from __future__ import annotations

__all__ = ["reset_all"]


def reset_all() -> None:
    """Empty every process-wide cache, as a new process would start."""
    from podsight.content.index import reset_snapshots
    from podsight.events import log
    from podsight.events.services import resolver
    from podsight.recs.serving import forget_loaded
    from podsight.sources import http

    http.reset()
    log.reset_shared()
    resolver.clear()
    reset_snapshots()
    forget_loaded()
