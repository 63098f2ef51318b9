from django.contrib import admin

from geopera_web.admin_policy import ReadOnlyAdmin

from .models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin, admin.ModelAdmin):
    """Support staff read every org's trail; nobody changes it."""

    list_display = ("created_at", "actor_label", "org", "action", "target_type", "target_id", "request_id")
    list_filter = ("action",)
    search_fields = ("actor_label", "org__name", "action", "target_id", "request_id")
    list_select_related = ("org",)
    date_hierarchy = "created_at"
