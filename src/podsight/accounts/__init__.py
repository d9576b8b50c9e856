"""API tokens for client applications, and the Django users they may act for.

- ``models.py``: ``ApiToken`` (only a digest of the key is kept) and its scopes, and
  ``CacheEntry``, the database cache's table (failed-login counts without Redis);
- ``services.py``: creating and revoking tokens, creating users;
- ``auth.py``: DRF authentication by token and the scope permission;
- ``throttle.py``: the brake on password guessing over HTTP Basic (gPodder logins).
"""

# The package exports nothing itself: its public names are declared by the modules above.
__all__: list[str] = []
