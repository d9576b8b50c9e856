from django.apps import AppConfig


class MatchingConfig(AppConfig):
    name = "podsight.matching"
    default_auto_field = "django.db.models.BigAutoField"
