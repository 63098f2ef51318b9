"""Admin of carts (read-only: a cart is its owner's)."""

from __future__ import annotations

from django.contrib.gis import admin

from ..models import Cart, CartItem


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
