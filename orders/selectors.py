"""Every read of orders, always scoped to the caller's org (missing and not-yours are one 404)."""

from __future__ import annotations

from django.db.models import QuerySet

from geopera_web.accounts.models import Organization
from geopera_web.errors import NotFound, parse_uuid

from .models import Order


def order_get(*, org: Organization, order_id: object, for_update: bool = False) -> Order:
    oid = parse_uuid(order_id)
    qs = Order.objects.filter(org=org, id=oid) if oid else Order.objects.none()
    if for_update:
        qs = qs.select_for_update()
    order = qs.select_related("workspace", "data_product").first()
    if order is None:
        raise NotFound("Order not found.")
    return order


def order_list(*, org: Organization) -> QuerySet[Order]:
    return Order.objects.filter(org=org).select_related("workspace", "data_product")
