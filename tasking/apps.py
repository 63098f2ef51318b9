from django.apps import AppConfig


class TaskingConfig(AppConfig):
    name = "tasking"
    verbose_name = "Tasking"

    def ready(self) -> None:
        from geopera_web.ops.sweeper import register_sweep

        from . import (  # noqa: F401  (decision kinds; navigation, dashboard and demo hooks)
            decisions,
            hooks,
            lineage,  # noqa: F401  (studies and quotations in an order's lineage)
        )
        from .sweeps import sweep_automatic_studies

        register_sweep("automatic feasibility studies", sweep_automatic_studies)
