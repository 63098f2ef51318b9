from __future__ import annotations

from django.contrib.gis import admin

from .models import Capture, Cart, CartItem, DataProduct, Order, OrderEvent, OrderGroup


@admin.register(DataProduct)
class DataProductAdmin(admin.ModelAdmin):
    list_display = ("id", "name", "order_type", "collection", "credits_per_km2", "min_area_km2", "is_active")
    list_filter = ("order_type", "is_active", "collection")
    search_fields = ("id", "name", "collection")


@admin.register(Capture)
class CaptureAdmin(admin.GISModelAdmin):
    list_display = ("scene_id", "collection", "platform", "acquired_at", "cloud_cover", "off_nadir", "gsd")
    list_filter = ("collection", "platform")
    search_fields = ("scene_id",)
    date_hierarchy = "acquired_at"
    list_select_related = ("data_product",)
    show_full_result_count = False


class OrderGroupInline(admin.TabularInline):
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


class OrderEventInline(admin.TabularInline):
    model = OrderEvent
    extra = 0
    fields = ("created_at", "kind", "from_status", "to_status", "actor_label", "message")
    readonly_fields = fields
    can_delete = False
    max_num = 0


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
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
class OrderGroupAdmin(admin.GISModelAdmin):
    list_display = ("order", "position", "name", "data_product", "area_km2", "credits")
    search_fields = ("order__id", "name")
    list_select_related = ("order", "data_product")
    raw_id_fields = ("order", "captures")


@admin.register(OrderEvent)
class OrderEventAdmin(admin.ModelAdmin):
    list_display = ("created_at", "order", "kind", "from_status", "to_status", "actor_label", "message")
    list_filter = ("kind",)
    search_fields = ("order__id", "message", "actor_label")
    list_select_related = ("order",)

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class CartItemInline(admin.TabularInline):
    model = CartItem
    extra = 0
    fields = ("capture", "clip_geometry", "added_at")
    readonly_fields = fields
    can_delete = False


@admin.register(Cart)
class CartAdmin(admin.ModelAdmin):
    list_display = ("user", "org", "split_by_date", "updated_at")
    list_select_related = ("user", "org")
    readonly_fields = ("org", "user", "split_by_date", "aoi", "updated_at")
    inlines = [CartItemInline]


@admin.register(CartItem)
class CartItemAdmin(admin.ModelAdmin):
    list_display = ("capture", "cart", "added_at")
    list_select_related = ("capture", "cart__user")
    raw_id_fields = ("capture", "cart")
