"""The dashboard: a Streamlit app that is a client of podsight's REST API.

It holds no SQL and no domain logic: every page reads and acts through
:class:`~podsight.dashboard.client.ApiClient`, so it works against a local or a remote
server and is held to the API's permissions. ``podsight dashboard`` serves it
(step ``dashboard``); docs/dashboard.md describes each page.
"""

__all__: list[str] = []
