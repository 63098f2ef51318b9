"""Admin of coverage snapshots (read-only history)."""

from __future__ import annotations

from django.contrib.gis import admin

from geopera_web.admin_policy import GeometryAsTextAdmin, ReadOnlyAdmin

from ..models import CoverageSnapshot


@admin.register(CoverageSnapshot)
class CoverageSnapshotAdmin(ReadOnlyAdmin, GeometryAsTextAdmin):
    list_display = (
        "group",
        "order",
        "computed_at",
        "percent",
        "covered_km2",
        "remainder_km2",
        "captures_delivered",
    )
    list_select_related = ("group", "order")
    search_fields = ("order__id", "group__name")
    date_hierarchy = "computed_at"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
