"""Admin of orders, their groups and events. The sub-packages register their own models in
their `admin.py`, imported here so Django's admin autodiscovery of `orders.admin` finds them."""

from __future__ import annotations

from django.contrib.gis import admin

from geopera_web.admin_policy import GeometryAsTextAdmin, ReadOnlyAdmin

from .approvals import admin as approvals_admin  # noqa: F401
from .cart import admin as cart_admin  # noqa: F401
from .catalog import admin as catalog_admin  # noqa: F401
from .coverage import admin as coverage_admin  # noqa: F401
from .fulfilment import admin as fulfilment_admin  # noqa: F401
from .models import Order, OrderEvent, OrderGroup
from .watches import admin as watches_admin  # noqa: F401


class OrderGroupInline(ReadOnlyAdmin, admin.TabularInline):
    model = OrderGroup
    extra = 0
    fields = (
        "position",
        "name",
        "data_product",
        "area_km2",
        "billed_area_km2",
        "credits",
        "acquisition_date",
    )
    readonly_fields = fields
    can_delete = False


class OrderEventInline(ReadOnlyAdmin, admin.TabularInline):
    model = OrderEvent
    extra = 0
    fields = ("created_at", "kind", "from_status", "to_status", "actor_label", "message")
    readonly_fields = fields
    can_delete = False
    max_num = 0


@admin.register(Order)
class OrderAdmin(ReadOnlyAdmin, admin.ModelAdmin):
    list_display = (
        "id",
        "display_name",
        "org",
        "order_type",
        "status",
        "sub_status",
        "total_credits",
        "created_at",
    )
    list_filter = ("order_type", "status", "sub_status", "billing_mode")
    search_fields = ("id", "display_name", "org__name")
    list_select_related = ("org",)
    readonly_fields = (
        "org",
        "workspace",
        "order_type",
        "status",
        "sub_status",
        "billing_mode",
        "total_credits",
        "charge",
        "created_by",
        "created_at",
        "updated_at",
    )
    inlines = [OrderGroupInline, OrderEventInline]


@admin.register(OrderGroup)
class OrderGroupAdmin(ReadOnlyAdmin, GeometryAsTextAdmin):
    list_display = ("order", "position", "name", "data_product", "area_km2", "credits")
    search_fields = ("order__id", "name")
    list_select_related = ("order", "data_product")
    raw_id_fields = ("order", "captures")


@admin.register(OrderEvent)
class OrderEventAdmin(ReadOnlyAdmin, admin.ModelAdmin):
    list_display = ("created_at", "order", "kind", "from_status", "to_status", "actor_label", "message")
    list_filter = ("kind",)
    search_fields = ("order__id", "message", "actor_label")
    list_select_related = ("order",)

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
