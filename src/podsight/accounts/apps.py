from django.apps import AppConfig

__all__ = ["AccountsConfig"]


class AccountsConfig(AppConfig):
    name = "podsight.accounts"
    label = "accounts"
    verbose_name = "API tokens and users"
    default_auto_field = "django.db.models.BigAutoField"
