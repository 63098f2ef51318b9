from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "geopera_web.ops"
    label = "ops"
    verbose_name = "Operations"

    def ready(self) -> None:
        # Task metrics: the worker's signal handlers, and the web's /metrics collector.
        from .task_metrics import collector_register

        collector_register()
