from django.contrib import admin

from .models import IdempotencyRecord


@admin.register(IdempotencyRecord)
class IdempotencyRecordAdmin(admin.ModelAdmin):
    list_display = ("created_at", "org", "operation", "key", "state", "status_code", "expires_at")
    list_filter = ("operation", "state")
    search_fields = ("key", "org__name")
    readonly_fields = [f.name for f in IdempotencyRecord._meta.fields]
    list_select_related = ("org",)

    def has_add_permission(self, request) -> bool:
        return False
