from django.apps import AppConfig

__all__ = ["CatalogConfig"]


class CatalogConfig(AppConfig):
    name = "podsight.catalog"
    label = "catalog"
    verbose_name = "Canonical catalog"
