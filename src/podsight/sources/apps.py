from django.apps import AppConfig


class SourcesConfig(AppConfig):
    name = "podsight.sources"
    label = "sources"
    verbose_name = "Per-source records and connectors"
