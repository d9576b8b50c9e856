"""The ``podsight`` command line: ``main.py`` (the app, its entry, error translation and
registration), one module per command group (``ingest``, ``demo``, ``importing``,
``discover``, ``sources``: sync and replay, ``match``: match and links, ``accounts``:
tokens and users, ``events``: consume and simulate, ``directory``, ``ops``: serve and
migrate), ``render.py`` (reports as tables and lines) and ``output.py`` (consoles).
Commands only call pipeline steps and render their reports (``tests/cli/test_layers.py``).
"""

# The package exports nothing itself: its public names are declared by the modules above.
__all__: list[str] = []
