from django.apps import AppConfig

__all__ = ["EventsConfig"]


class EventsConfig(AppConfig):
    name = "podsight.events"
    label = "events"
    default_auto_field = "django.db.models.BigAutoField"
