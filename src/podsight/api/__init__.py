"""Shared REST plumbing; each app's views live in its own ``api`` module.

- ``urls.py``: the routes under ``/api/`` (gPodder's are in ``gpodder/urls.py``);
- ``errors.py``: one error shape for every failure, the database-busy answer;
- ``pagination.py``: signed cursor pagination; ``params.py``: query parameters;
- ``body.py``: reading a request body under a limit;
- ``schema.py``: the OpenAPI document (gPodder's part merged from ``gpodder/schema.py``).
"""

# The package exports nothing itself: its public names are declared by the modules above.
__all__: list[str] = []
