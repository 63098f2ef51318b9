from __future__ import annotations

from django.contrib import admin

from geopera_web.admin_policy import AuditedAdmin, ReadOnlyAdmin, SafeJSONAdmin

from .models import (
    FeasibilityOption,
    FeasibilityStudy,
    Quotation,
    Sensor,
    SeriesOccurrence,
    SupportClaim,
    TaskingProduct,
    TaskingSeries,
    TaskingTemplate,
)


class TaskingProductInline(SafeJSONAdmin, admin.TabularInline):
    model = TaskingProduct
    extra = 0
    fields = ("data_product", "resolutions", "series_pricing", "position")


@admin.register(Sensor)
class SensorAdmin(SafeJSONAdmin, AuditedAdmin, admin.ModelAdmin):
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
class TaskingProductAdmin(SafeJSONAdmin, AuditedAdmin, admin.ModelAdmin):
    list_display = ("data_product", "sensor", "series_pricing", "position")
    list_filter = ("series_pricing",)
    list_select_related = ("data_product", "sensor")


@admin.register(TaskingTemplate)
class TaskingTemplateAdmin(ReadOnlyAdmin, admin.ModelAdmin):
    list_display = ("name", "org", "sensor", "resolution", "usage_count", "last_used_at", "deleted_at")
    list_filter = ("sensor", "org")
    search_fields = ("name", "description")
    list_select_related = ("org", "sensor")
    readonly_fields = ("usage_count", "last_used_at", "created_by", "updated_by", "deleted_by", "created_at")


# --- tasking flow: studies and quotations (read-only decisions: they change only through services) --


class FeasibilityOptionInline(ReadOnlyAdmin, admin.TabularInline):
    model = FeasibilityOption
    extra = 0
    can_delete = False
    readonly_fields = (
        "position",
        "description",
        "window_start",
        "window_end",
        "expected_captures",
        "expected_revisits",
        "max_off_nadir",
        "price_credits",
        "valid_until",
    )


@admin.register(FeasibilityStudy)
class FeasibilityStudyAdmin(ReadOnlyAdmin, admin.ModelAdmin):
    list_display = ("id", "org", "order", "decision", "source", "deadline", "created_at")
    list_filter = ("decision", "source")
    search_fields = ("order__display_name", "org__name")
    readonly_fields = (
        "org",
        "order",
        "decision",
        "source",
        "deadline",
        "created_by",
        "accepted_option",
        "decided_by",
        "decided_at",
    )
    inlines = [FeasibilityOptionInline]


@admin.register(Quotation)
class QuotationAdmin(ReadOnlyAdmin, admin.ModelAdmin):
    list_display = ("id", "org", "order", "credits", "decision", "valid_until", "created_at")
    list_filter = ("decision",)
    search_fields = ("order__display_name", "org__name")
    readonly_fields = (
        "org",
        "order",
        "credits",
        "valid_until",
        "decision",
        "created_by",
        "decided_by",
        "decided_at",
    )


@admin.register(FeasibilityOption)
class FeasibilityOptionAdmin(ReadOnlyAdmin, admin.ModelAdmin):
    list_display = ("description", "study", "price_credits", "window_start", "window_end", "valid_until")
    search_fields = ("description",)
    readonly_fields = FeasibilityOptionInline.readonly_fields + ("study",)


@admin.register(SupportClaim)
class SupportClaimAdmin(ReadOnlyAdmin, admin.ModelAdmin):
    """Who works on which desk order; claimed and released on the desk (tasking.desk), only shown here."""

    list_display = ("order", "staff", "claimed_at")
    search_fields = ("order__display_name", "staff__email")
    readonly_fields = ("order", "staff", "claimed_at")


class SeriesOccurrenceInline(ReadOnlyAdmin, admin.TabularInline):
    model = SeriesOccurrence
    extra = 0
    fields = ("index", "window_start", "window_end", "state", "credits", "order", "rolled_in_km2", "note")
    readonly_fields = fields
    ordering = ("index",)


@admin.register(TaskingSeries)
class TaskingSeriesAdmin(ReadOnlyAdmin, admin.ModelAdmin):
    """A recurring acquisition: created, started and cancelled only through the tasking services
    (the series page and `orders.tasking.series.*`), shown here for the support desk."""

    list_display = ("parent", "org", "frequency", "occurrence_count", "state", "total_credits", "created_at")
    list_filter = ("state", "frequency")
    search_fields = ("parent__display_name", "org__name")
    list_select_related = ("parent", "org")
    readonly_fields = (
        "org",
        "parent",
        "frequency",
        "occurrence_count",
        "until",
        "roll_remainder",
        "pricing",
        "state",
        "total_credits",
        "accepted_at",
        "cancelled_at",
        "created_at",
        "updated_at",
    )
    inlines = [SeriesOccurrenceInline]


@admin.register(SeriesOccurrence)
class SeriesOccurrenceAdmin(ReadOnlyAdmin, admin.ModelAdmin):
    """One occurrence of a series: its window, state and child order (service-written only)."""

    list_display = ("series", "index", "window_start", "window_end", "state", "credits", "order")
    list_filter = ("state",)
    list_select_related = ("series__parent", "order")
    readonly_fields = SeriesOccurrenceInline.fields
