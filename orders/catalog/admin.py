"""Admin of the catalog: data products and captures."""

from __future__ import annotations

from django.contrib.gis import admin

from geopera_web.admin_policy import AuditedAdmin, GeometryAsTextAdmin

from ..models import Capture, DataProduct


@admin.register(DataProduct)
class DataProductAdmin(AuditedAdmin, admin.ModelAdmin):
    list_display = ("id", "name", "order_type", "collection", "credits_per_km2", "min_area_km2", "is_active")
    list_filter = ("order_type", "is_active", "collection")
    search_fields = ("id", "name", "collection")


@admin.register(Capture)
class CaptureAdmin(GeometryAsTextAdmin):
    list_display = ("scene_id", "collection", "platform", "acquired_at", "cloud_cover", "off_nadir", "gsd")
    list_filter = ("collection", "platform")
    search_fields = ("scene_id",)
    date_hierarchy = "acquired_at"
    list_select_related = ("data_product",)
    show_full_result_count = False
