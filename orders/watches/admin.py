"""Admin of watches and what they matched: read-only (a watch is its org's, kept on the Watches page;
alerts and matches are written by the matcher)."""

from __future__ import annotations

from django.contrib.gis import admin

from geopera_web.admin_policy import ReadOnlyAdmin

from .models import Watch, WatchAlert, WatchMatch, WatchWatcher


@admin.register(Watch)
class WatchAdmin(ReadOnlyAdmin, admin.ModelAdmin):
    list_display = (
        "name",
        "org",
        "created_by",
        "aoi_km2",
        "min_new_coverage_percent",
        "covered_at",
        "created_at",
    )
    list_select_related = ("org", "created_by")
    search_fields = ("name", "org__name")
    raw_id_fields = ("order", "created_by")


@admin.register(WatchAlert)
class WatchAlertAdmin(ReadOnlyAdmin, admin.ModelAdmin):
    list_display = ("watch", "capture_count", "new_coverage_percent", "created_at")
    list_select_related = ("watch",)


@admin.register(WatchMatch)
class WatchMatchAdmin(ReadOnlyAdmin, admin.ModelAdmin):
    list_display = ("watch", "capture", "created_at")
    list_select_related = ("watch", "capture")
    raw_id_fields = ("watch", "alert", "capture")


@admin.register(WatchWatcher)
class WatchWatcherAdmin(ReadOnlyAdmin, admin.ModelAdmin):
    list_display = ("watch", "user", "created_at")
    list_select_related = ("watch", "user")
    raw_id_fields = ("watch", "user")
