from django.apps import AppConfig


class TaskingConfig(AppConfig):
    name = "tasking"
    verbose_name = "Tasking"

    def ready(self) -> None:
        from . import hooks  # noqa: F401  (registers navigation, dashboard and demo hooks)
