from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "podsight.catalog"
    label = "catalog"
    verbose_name = "Canonical catalog"
