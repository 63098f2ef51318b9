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

        from django.core.signals import request_started

        from geopera_web.db.availability import request_started_reset

        # A 503 says "nothing was changed" only if the request ran no statement (problems.py).
        request_started.connect(request_started_reset, dispatch_uid="geopera-db-used-reset")
