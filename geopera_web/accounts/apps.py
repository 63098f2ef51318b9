from django.apps import AppConfig
from django.db.models.signals import post_migrate


class AccountsConfig(AppConfig):
    name = "geopera_web.accounts"
    label = "accounts"
    verbose_name = "Organizations and people"

    def ready(self) -> None:
        from geopera_web.admin_policy import support_group_sync_after_migrate
        from geopera_web.demo import register_seeder

        from .demo import seed_integrator

        register_seeder(order=15, name="integrator", seeder=seed_integrator)

        # Every `migrate` resets the support group to exactly the admin policy's list.
        post_migrate.connect(support_group_sync_after_migrate, dispatch_uid="support-group-sync")
