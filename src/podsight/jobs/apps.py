from django.apps import AppConfig

__all__ = ["JobsConfig"]


class JobsConfig(AppConfig):
    name = "podsight.jobs"
    label = "jobs"
    verbose_name = "Jobs"
