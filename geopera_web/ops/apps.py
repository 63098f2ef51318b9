from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "geopera_web.ops"
    label = "ops"
    verbose_name = "Operations"
