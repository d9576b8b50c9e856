from django.apps import AppConfig

__all__ = ["RecsConfig"]


class RecsConfig(AppConfig):
    name = "podsight.recs"
    label = "recs"
    verbose_name = "Recommendations: candidate models, blending, serving and evaluation"
    default_auto_field = "django.db.models.BigAutoField"
