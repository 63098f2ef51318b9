from django.apps import AppConfig
from django.db.models.signals import post_migrate


class AccountsConfig(AppConfig):
    name = "geopera_web.accounts"
    label = "accounts"
    verbose_name = "Organizations and people"

    def ready(self) -> None:
        from geopera_web.admin_policy import support_group_sync_after_migrate
        from geopera_web.demo import register_seeder

        from .demo import seed_integrator, seed_workspace_budgets

        register_seeder(order=15, name="integrator", seeder=seed_integrator)
        # After the orders (40-70): budgets are set from what the workspaces committed.
        register_seeder(order=75, name="workspace-budgets", seeder=seed_workspace_budgets)

        # Every `migrate` resets the support group to exactly the admin policy's list.
        post_migrate.connect(support_group_sync_after_migrate, dispatch_uid="support-group-sync")
