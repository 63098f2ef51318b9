from django.apps import AppConfig


class TaskingConfig(AppConfig):
    name = "tasking"
    verbose_name = "Tasking"

    def ready(self) -> None:
        from . import decisions, hooks  # noqa: F401  (decision kinds; navigation, dashboard and demo hooks)
