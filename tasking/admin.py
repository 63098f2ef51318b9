from __future__ import annotations

from django.contrib import admin

from .models import Sensor, TaskingProduct, TaskingTemplate


class TaskingProductInline(admin.TabularInline):
    model = TaskingProduct
    extra = 0
    fields = ("data_product", "resolutions", "position")


@admin.register(Sensor)
class SensorAdmin(admin.ModelAdmin):
    """Staff keep the catalog's facts current here; the order-form schemas follow automatically."""

    list_display = (
        "id",
        "name",
        "operator",
        "sensor_type",
        "feasibility",
        "max_cloud_coverage",
        "max_off_nadir",
        "position",
        "is_active",
    )
    list_filter = ("sensor_type", "feasibility", "is_active")
    list_editable = ("position", "is_active")
    search_fields = ("id", "name", "constellation", "operator")
    inlines = [TaskingProductInline]
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "id",
                    "name",
                    "constellation",
                    "operator",
                    "sensor_type",
                    "description",
                    "is_active",
                )
            },
        ),
        ("Satellites", {"fields": ("satellites", "swath_km", "revisit_days")}),
        (
            "What it captures",
            {
                "fields": (
                    "resolutions",
                    "bands",
                    "spectral_bundles",
                    "acquisition_modes",
                    "processing_levels",
                    "radiometric_processing",
                    "pixel_codings",
                )
            },
        ),
        (
            "Settings customers may choose",
            {
                "fields": (
                    "capture_frequencies",
                    "file_formats",
                    "datums",
                    "projections",
                    ("min_cloud_coverage", "max_cloud_coverage"),
                    ("min_off_nadir", "max_off_nadir"),
                    "min_window_days",
                    "feasibility",
                )
            },
        ),
        ("Provenance", {"fields": ("sources", "position")}),
    )


@admin.register(TaskingProduct)
class TaskingProductAdmin(admin.ModelAdmin):
    list_display = ("data_product", "sensor", "position")
    list_select_related = ("data_product", "sensor")


@admin.register(TaskingTemplate)
class TaskingTemplateAdmin(admin.ModelAdmin):
    list_display = ("name", "org", "sensor", "resolution", "usage_count", "last_used_at", "deleted_at")
    list_filter = ("sensor", "org")
    search_fields = ("name", "description")
    list_select_related = ("org", "sensor")
    readonly_fields = ("usage_count", "last_used_at", "created_by", "updated_by", "deleted_by", "created_at")
