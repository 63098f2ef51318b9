"""Admin of carts (read-only: a cart is its owner's)."""

from __future__ import annotations

from django.contrib.gis import admin

from geopera_web.admin_policy import ReadOnlyAdmin

from ..models import Cart, CartItem


class CartItemInline(ReadOnlyAdmin, admin.TabularInline):
    model = CartItem
    extra = 0
    fields = ("capture", "clip_geometry", "added_at")
    readonly_fields = fields
    can_delete = False


@admin.register(Cart)
class CartAdmin(ReadOnlyAdmin, admin.ModelAdmin):
    list_display = ("user", "org", "split_by_date", "updated_at")
    list_select_related = ("user", "org")
    readonly_fields = ("org", "user", "split_by_date", "aoi", "updated_at")
    inlines = [CartItemInline]


@admin.register(CartItem)
class CartItemAdmin(ReadOnlyAdmin, admin.ModelAdmin):
    list_display = ("capture", "cart", "added_at")
    list_select_related = ("capture", "cart__user")
    raw_id_fields = ("capture", "cart")
