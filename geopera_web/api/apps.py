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

        from corsheaders.signals import check_request_enabled

        from geopera_web.http.cors import public_cors_request

        check_request_enabled.connect(public_cors_request, dispatch_uid="geopera-public-cors")
