from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "geopera_web.audit"
    label = "audit"
    verbose_name = "Audit trail"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from geopera_web.demo import register_seeder

        from .demo import seed_audit

        register_seeder(order=90, name="audit", seeder=seed_audit)
