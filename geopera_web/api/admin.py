from django.contrib import admin

from geopera_web.admin_policy import ReadOnlyAdmin

from .models import IdempotencyRecord


@admin.register(IdempotencyRecord)
class IdempotencyRecordAdmin(ReadOnlyAdmin, admin.ModelAdmin):
    list_display = ("created_at", "org", "operation", "key", "state", "status_code", "expires_at")
    list_filter = ("operation", "state")
    search_fields = ("key", "org__name")
    readonly_fields = [f.name for f in IdempotencyRecord._meta.fields]
    list_select_related = ("org",)
