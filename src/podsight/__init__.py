"""podsight: a self-hostable podcast data platform (docs/architecture.md).

One Django app per domain noun: :mod:`.catalog` (canonical channels and episodes),
:mod:`.sources` (what each source says: records, feeds, connectors, the Podcast Index
dump), :mod:`.matching` (linking records across sources), :mod:`.directory` (search over
the dump's feeds), :mod:`.events` (listening: the event log and the consumer into the
lake), :mod:`.gpodder` (gPodder device sync), :mod:`.accounts` (API tokens, users).
Beside them: :mod:`.lake` (every Delta table), :mod:`.pipeline` (the steps every front
end calls), :mod:`.cli`, :mod:`.api` (shared REST plumbing), :mod:`.demo` (the demo world
and the listener simulator), and the project's plumbing (``settings``, ``urls``,
``bootstrap``, ``conf``, ``errors``, ``logs``, ``progress``, ``serving``, ``security``).
"""

__all__ = ["__version__"]

__version__ = "0.1.0"
