"""Routes of the gPodder.net API v2 at the server root (``docs/events.md``), so an app
needs only the server's base URL. Included before ``api/`` in ``podsight.urls``."""

from django.urls import re_path

from podsight.accounts.services import USERNAME_PATTERN
from podsight.gpodder import api

__all__ = ["urlpatterns"]

# Usernames as `podsight users create` allows them and the reference's device ids
# ([\w.-]); a trailing ".json" is the format, not part of the id (the regex backtracks).
USER = rf"(?P<username>{USERNAME_PATTERN})"
DEVICE = r"(?P<deviceid>[\w.-]+)"
FORMAT = r"(?P<fmt>\w+)"

urlpatterns = [
    re_path(rf"^api/2/auth/{USER}/login\.json$", api.auth_login, name="gpodder-login"),
    re_path(rf"^api/2/auth/{USER}/logout\.json$", api.auth_logout, name="gpodder-logout"),
    re_path(rf"^api/2/devices/{USER}\.json$", api.device_list, name="gpodder-devices"),
    re_path(rf"^api/2/devices/{USER}/{DEVICE}\.json$", api.device_update, name="gpodder-device"),
    re_path(
        rf"^api/2/subscriptions/{USER}/{DEVICE}\.json$",
        api.subscription_changes,
        name="gpodder-subscription-changes",
    ),
    re_path(rf"^api/2/episodes/{USER}\.json$", api.episode_actions, name="gpodder-episodes"),
    re_path(
        rf"^subscriptions/{USER}/{DEVICE}\.{FORMAT}$",
        api.device_subscriptions,
        name="gpodder-device-subscriptions",
    ),
    re_path(
        rf"^subscriptions/{USER}\.{FORMAT}$",
        api.user_subscriptions,
        name="gpodder-user-subscriptions",
    ),
]
