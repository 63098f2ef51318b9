from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "orders"
    verbose_name = "Catalog and orders"

    def ready(self) -> None:
        from . import hooks  # noqa: F401  (registers navigation, dashboard and demo hooks)
        from .catalog import extents  # noqa: F401  (a saved or deleted capture forgets its extent)
        from .gdal_safety import gdal_harden

        gdal_harden()  # no VRT driver, no GDAL network access, in every web and worker process
