"""Routes of the gPodder.net API v2 at the server root (``docs/events.md``), so an app
needs only the server's base URL. Included before ``api/`` in ``podsight.urls``."""

from django.urls import re_path

from podsight.accounts.services import USERNAME_PATTERN
from podsight.events import gpodder

# Usernames as `podsight users create` allows them and the reference's device ids
# ([\w.-]); a trailing ".json" is the format, not part of the id (the regex backtracks).
USER = rf"(?P<username>{USERNAME_PATTERN})"
DEVICE = r"(?P<deviceid>[\w.-]+)"
FORMAT = r"(?P<fmt>\w+)"

urlpatterns = [
    re_path(rf"^api/2/auth/{USER}/login\.json$", gpodder.auth_login, name="gpodder-login"),
    re_path(rf"^api/2/auth/{USER}/logout\.json$", gpodder.auth_logout, name="gpodder-logout"),
    re_path(rf"^api/2/devices/{USER}\.json$", gpodder.device_list, name="gpodder-devices"),
    re_path(
        rf"^api/2/devices/{USER}/{DEVICE}\.json$", gpodder.device_update, name="gpodder-device"
    ),
    re_path(
        rf"^api/2/subscriptions/{USER}/{DEVICE}\.json$",
        gpodder.subscription_changes,
        name="gpodder-subscription-changes",
    ),
    re_path(rf"^api/2/episodes/{USER}\.json$", gpodder.episode_actions, name="gpodder-episodes"),
    re_path(
        rf"^subscriptions/{USER}/{DEVICE}\.{FORMAT}$",
        gpodder.device_subscriptions,
        name="gpodder-device-subscriptions",
    ),
    re_path(
        rf"^subscriptions/{USER}\.{FORMAT}$",
        gpodder.user_subscriptions,
        name="gpodder-user-subscriptions",
    ),
]
