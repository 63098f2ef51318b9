from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "geopera_web.billing"
    label = "billing"
    verbose_name = "Billing and credits"
