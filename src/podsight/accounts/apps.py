from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "podsight.accounts"
    label = "accounts"
    verbose_name = "API tokens and users"
    default_auto_field = "django.db.models.BigAutoField"
