from django.apps import AppConfig
from django.utils.module_loading import autodiscover_modules


class ApiConfig(AppConfig):
    name = "geopera_web.api"
    label = "api"
    verbose_name = "Operations API"

    def ready(self) -> None:
        # Domain apps register their operations in their own `api.py`; the platform imports none
        # of them by name.
        autodiscover_modules("api")
