from django.contrib import admin

from geopera_web.admin_policy import ReadOnlyAdmin

from .models import AuditEvent
from .selectors import AUDIT_FAMILIES


class ActionFamilyFilter(admin.SimpleListFilter):
    """By action family, from the fixed list (a filter on the field itself would scan the whole
    trail for its distinct values on every page)."""

    title = "action"
    parameter_name = "family"

    def lookups(self, request, model_admin):
        return list(AUDIT_FAMILIES.items())

    def queryset(self, request, queryset):
        if self.value() in AUDIT_FAMILIES:
            return queryset.filter(action__startswith=self.value() + ".")
        return queryset


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin, admin.ModelAdmin):
    """Support staff read every org's trail; nobody changes it."""

    list_display = ("created_at", "actor_label", "org", "action", "target_type", "target_id", "request_id")
    list_filter = (ActionFamilyFilter,)
    search_fields = ("actor_label", "org__name", "action", "target_id", "request_id")
    list_select_related = ("org",)
    # No date_hierarchy and no full count: both would read the whole trail on every page.
    show_full_result_count = False
