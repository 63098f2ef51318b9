from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "orders"
    verbose_name = "Catalog and orders"

    def ready(self) -> None:
        from . import hooks  # noqa: F401  (registers navigation, dashboard and demo hooks)
        from .approvals import kinds  # noqa: F401  (the spend-approval decision kind)
