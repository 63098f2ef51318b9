"""Admin of the outbox, webhook subscriptions, their deliveries and notifications: read-only for
everyone (each changes through its service: the Webhooks page or the API). Signing secrets and the
values of a subscription's extra headers (often an endpoint's credentials) are never displayed."""

from __future__ import annotations

from django.contrib import admin

from geopera_web.admin_policy import ReadOnlyAdmin

from .models import Event, EventSubscription, Notification, WebhookDelivery


@admin.register(Event)
class EventAdmin(ReadOnlyAdmin, admin.ModelAdmin):
    list_display = ("created_at", "type", "org", "order_id", "fanned_out_at", "notified_at")
    list_filter = ("type",)
    search_fields = ("id", "org__name", "order_id")
    list_select_related = ("org",)
    date_hierarchy = "created_at"
    fields = (
        "id",
        "org",
        "type",
        "payload",
        "workspace_id",
        "order_id",
        "dedupe_key",
        "fanned_out_at",
        "notified_at",
        "created_at",
    )


@admin.register(EventSubscription)
class EventSubscriptionAdmin(ReadOnlyAdmin, admin.ModelAdmin):
    list_display = ("event_type", "endpoint_url", "org", "active", "consecutive_failures", "created_at")
    list_filter = ("active", "event_type")
    search_fields = ("endpoint_url", "org__name", "description")
    list_select_related = ("org",)
    # Not "secret", "previous_secret" or "headers": those are the org's credentials.
    fields = (
        "id",
        "org",
        "event_type",
        "endpoint_url",
        "filter_config",
        "header_names",
        "description",
        "active",
        "disabled_reason",
        "consecutive_failures",
        "secret_state",
        "created_by",
        "created_at",
        "updated_at",
    )
    readonly_fields = ("header_names", "secret_state")

    @admin.display(description="Extra headers (names only)")
    def header_names(self, obj: EventSubscription) -> str:
        return ", ".join(sorted(obj.headers or {})) or "—"

    @admin.display(description="Signing secret")
    def secret_state(self, obj: EventSubscription) -> str:
        if obj.previous_secret and obj.previous_secret_expires_at:
            return f"set (hidden); rotated, the previous one also signs until {obj.previous_secret_expires_at:%Y-%m-%d %H:%M} UTC"
        return "set (hidden)"


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdmin, admin.ModelAdmin):
    list_display = ("created_at", "subscription", "event", "status", "attempts", "http_status", "response_ms")
    list_filter = ("status",)
    search_fields = ("id", "subscription__endpoint_url", "subscription__org__name")
    list_select_related = ("subscription", "event")
    raw_id_fields = ("subscription", "event", "replay_of")
    date_hierarchy = "created_at"


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin, admin.ModelAdmin):
    list_display = ("created_at", "user", "org", "kind", "title", "read_at", "dismissed_at")
    list_filter = ("kind",)
    search_fields = ("user__email", "org__name", "title")
    list_select_related = ("user", "org")
    raw_id_fields = ("user", "event")
    date_hierarchy = "created_at"
