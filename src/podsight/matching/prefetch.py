"""Read-only work done ahead of the run that needs it, in forked worker processes.

A matching run decides channel links one at a time, in order, because each link changes
what the next decision sees; but most of a decision (pairing two channels' episodes) only
reads the run's in-memory state. :class:`Prefetch` forks workers that compute those parts
for a known sequence of keys from the state as it was at the fork, and hands the results
back in the same order. The caller uses a result only where the state it was computed from
has not changed since, and computes the rest itself: the outcome is the same as computing
everything in one process, only sooner on a machine with more than one core.

Workers are forked (``fork`` start method) so they share the state without pickling it;
they never touch the database, whose connection they inherit but must not use.
"""

from __future__ import annotations

import multiprocessing
import os
from collections import deque
from collections.abc import Callable, Hashable, Sequence
from typing import Any

from podsight.conf import env

__all__ = ["MIN_KEYS", "Prefetch", "match_workers"]

MIN_KEYS = 32  # fewer keys than this are not worth forking for
WORKER_NICENESS = 10

# What the forked workers read: set just before the fork, cleared after the pool closes.
_compute: Callable[[Any, Any], Any] | None = None
_state: Any = None
# How many keys the consumer has taken (shared memory): workers skip keys already past.
_taken: Any = None


def match_workers() -> int:
    """``PODSIGHT_MATCH_WORKERS``: worker processes matching forks besides its own
    (``0``: none); by default one per CPU this process may use, at most 4 (each may come
    to hold a copy of the run's state). They run at a lower priority than the process
    that forked them, which uses a CPU of its own whenever it has work."""
    raw = env("PODSIGHT_MATCH_WORKERS")
    if raw:
        try:
            workers = int(raw)
        except ValueError:
            message = f"PODSIGHT_MATCH_WORKERS must be a whole number, not {raw!r}"
            raise ValueError(message) from None
        if workers < 0:
            raise ValueError(f"PODSIGHT_MATCH_WORKERS must be 0 or more, not {workers}")
        return workers
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cpus = os.cpu_count() or 1
    return min(cpus, 4)


def _lower_priority() -> None:
    # The process taking the results is the run's critical path: workers yield to it.
    os.nice(WORKER_NICENESS)


def _run(task: tuple[int, Any]) -> tuple[Any, bool, Any]:
    """``(key, computed, result)``; not computed when the consumer went past it."""
    assert _compute is not None, "a prefetch worker started without its state"
    position, key = task
    if position < _taken.value:
        return key, False, None
    return key, True, _compute(_state, key)


class Prefetch:
    """Results of ``compute(state, key)`` for ``keys``, computed ahead by ``workers``
    forked processes and taken back in order with :meth:`take`.

    With no workers, too few keys, or no ``fork`` on this platform, nothing is computed
    ahead and :meth:`take` answers ``None``: the caller computes in-process, as it must
    anyway for keys whose state changed.
    """

    def __init__(
        self,
        compute: Callable[[Any, Any], Any],
        state: Any,
        keys: Sequence[Hashable],
        workers: int,
    ) -> None:
        global _compute, _state, _taken
        self._expected: deque[Hashable] = deque()
        self._results: Any = None  # the pool's ordered result iterator
        self._behind = 0  # results not taken in time, dropped as they arrive
        self._pool = None
        if not self.worthwhile(len(keys), workers):
            return
        if _compute is not None:
            raise RuntimeError("one prefetch at a time: the forked state is process-wide")
        _compute, _state = compute, state
        _taken = multiprocessing.get_context("fork").RawValue("q", 0)
        self._pool = multiprocessing.get_context("fork").Pool(workers, initializer=_lower_priority)
        self._expected.extend(keys)
        # One key per task: the consumer needs the first results soon, keys vary in cost,
        # and only then is the result iterator one that can be polled without waiting.
        self._results = self._pool.imap(_run, enumerate(keys), chunksize=1)

    @staticmethod
    def worthwhile(keys: int, workers: int) -> bool:
        """Whether ``keys`` keys and ``workers`` workers make a prefetch fork at all."""
        return (
            workers >= 1 and keys >= MIN_KEYS and "fork" in multiprocessing.get_all_start_methods()
        )

    def take(self, key: Hashable) -> Any | None:
        """The result for ``key`` if it was computed ahead and is ready, else ``None``.
        Every key given must be asked for, in the order given.

        Never waits: while the workers are still behind (at the start, before their
        caches are warm), the caller computes for itself, and the workers' results for
        those keys are dropped when they arrive.
        """
        if self._results is None or not self._expected or self._expected[0] != key:
            return None
        self._expected.popleft()
        _taken.value += 1
        while self._behind:
            if self._next() is None:
                self._behind += 1  # this key's result is behind those still awaited
                return None
            self._behind -= 1
        found = self._next()
        if found is None:
            self._behind += 1
            return None
        done, computed, result = found
        assert done == key, f"prefetch out of order: {done!r} for {key!r}"
        return result if computed else None

    def _next(self) -> tuple[Any, bool, Any] | None:
        try:
            return self._results.next(timeout=0)
        except multiprocessing.TimeoutError:
            return None

    def close(self) -> None:
        global _compute, _state, _taken
        if self._pool is not None:
            self._pool.terminate()
            self._pool.join()
            self._pool = None
            _compute, _state, _taken = None, None, None
        self._results = None
        self._expected.clear()
        self._behind = 0

    def __enter__(self) -> Prefetch:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
