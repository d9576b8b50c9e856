from django.apps import AppConfig

__all__ = ["ContentConfig"]


class ContentConfig(AppConfig):
    name = "podsight.content"
    label = "content"
    verbose_name = "Episode content: transcripts, passages, search and analysis"
    default_auto_field = "django.db.models.BigAutoField"
