from django.apps import AppConfig

__all__ = ["MatchingConfig"]


class MatchingConfig(AppConfig):
    name = "podsight.matching"
    default_auto_field = "django.db.models.BigAutoField"
