from django.apps import AppConfig

__all__ = ["SourcesConfig"]


class SourcesConfig(AppConfig):
    name = "podsight.sources"
    label = "sources"
    verbose_name = "Per-source records and connectors"
