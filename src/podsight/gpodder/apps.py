from django.apps import AppConfig

__all__ = ["GpodderConfig"]


class GpodderConfig(AppConfig):
    name = "podsight.gpodder"
    label = "gpodder"
    verbose_name = "gPodder device sync"
    default_auto_field = "django.db.models.BigAutoField"
