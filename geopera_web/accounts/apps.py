from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "geopera_web.accounts"
    label = "accounts"
    verbose_name = "Organizations and people"
