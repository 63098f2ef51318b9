"""Reads of the archive cart (a person's own, inside one org)."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser

from geopera_web.accounts.models import Organization

from ..models import Cart, CartItem


def cart_get(*, org: Organization, user: AbstractBaseUser) -> Cart | None:
    return Cart.objects.filter(org=org, user=user).first()


def cart_items(*, cart: Cart | None) -> list[CartItem]:
    if cart is None:
        return []
    return list(
        CartItem.objects.filter(cart=cart)
        .select_related("capture", "capture__data_product")
        .order_by("added_at", "id")
    )
