"""`usage.current`: what an org used in the current billing period (the UTC calendar month).

Metered here: credits (charges made this month, by the invoice rule), orders placed, deliveries
and delivered captures. Storage and tile serving are not metered by this platform (deliveries
are links to the provider's assets), so the response has no figures for them.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Count, Q
from django.utils import timezone
from rest_framework import serializers

from geopera_web.accounts.models import Organization, Scope
from geopera_web.api.registry import Effect, OpContext, operation
from geopera_web.billing.selectors import charges_net_since, wallet_get
from geopera_web.errors import NotFound, parse_uuid

from .fulfilment.models import DeliveredCapture, DeliveryBatch
from .models import Order, OrderType


def _period(now: dt.datetime | None = None) -> tuple[dt.datetime, dt.datetime]:
    now = (now or timezone.now()).astimezone(dt.UTC)
    start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    end = start.replace(year=start.year + (start.month == 12), month=start.month % 12 + 1)
    return start, end


def usage_current(*, org: Organization) -> dict[str, Any]:
    """This month's usage of `org` (five aggregate queries, whatever the volume)."""
    start, end = _period()
    wallet = wallet_get(org=org)
    money = charges_net_since(org=org, since=start)
    orders = Order.objects.filter(org=org, created_at__gte=start).exclude(status=Order.Status.DRAFT)
    counts = orders.aggregate(
        placed=Count("id"),
        archive=Count("id", filter=Q(order_type=OrderType.ARCHIVE)),
        tasking=Count("id", filter=Q(order_type=OrderType.TASKING)),
        cancelled=Count("id", filter=Q(status=Order.Status.CANCELLED)),
    )
    captures = DeliveredCapture.objects.filter(order__org=org, delivered_at__gte=start).aggregate(
        delivered=Count("id", filter=Q(status=DeliveredCapture.Status.DELIVERED)),
        failed=Count("id", filter=Q(status=DeliveredCapture.Status.FAILED)),
    )
    batches = DeliveryBatch.objects.filter(order__org=org, received_at__gte=start).count()
    return {
        "organization_id": str(org.pk),
        "billing_mode": org.billing_mode,
        "period_start": start,
        "period_end": end,
        "credits": {
            "committed": money["committed"],
            "held": money["held"],
            "settled": money["settled"],
            "charges": money["charges"],
            "available_now": wallet.available_credits,
            "reserved_now": wallet.reserved_credits,
        },
        "orders": counts,
        "deliveries": {
            "batches": batches,
            "captures_delivered": captures["delivered"],
            "captures_failed": captures["failed"],
        },
    }


class UsageCurrentInput(serializers.Serializer):
    organization_id = serializers.CharField(max_length=64, help_text="Your organization's id.")


class UsageCredits(serializers.Serializer):
    committed = serializers.IntegerField(help_text="held + settled: what this month's charges cost.")
    held = serializers.IntegerField(help_text="Charges authorized this month and not settled yet.")
    settled = serializers.IntegerField(help_text="Captured this month's charges, net of refunds.")
    charges = serializers.IntegerField()
    available_now = serializers.IntegerField()
    reserved_now = serializers.IntegerField()


class UsageOrders(serializers.Serializer):
    placed = serializers.IntegerField(help_text="Orders placed this month (drafts excluded).")
    archive = serializers.IntegerField()
    tasking = serializers.IntegerField()
    cancelled = serializers.IntegerField()


class UsageDeliveries(serializers.Serializer):
    batches = serializers.IntegerField()
    captures_delivered = serializers.IntegerField()
    captures_failed = serializers.IntegerField()


class UsageCurrentOutput(serializers.Serializer):
    """The current UTC month of the caller's organization: credits (integer credits; 100 = A$1),
    orders and deliveries. Storage and tiles are not metered by this platform."""

    organization_id = serializers.CharField()
    billing_mode = serializers.CharField()
    period_start = serializers.DateTimeField()
    period_end = serializers.DateTimeField()
    credits = UsageCredits()
    orders = UsageOrders()
    deliveries = UsageDeliveries()


@operation(
    "usage.current",
    scope=Scope.USAGE_READ,
    effect=Effect.READ,
    input=UsageCurrentInput,
    output=UsageCurrentOutput,
    summary="Usage stats for the current billing period (storage, tiles, credits, jobs).",
)
def usage_current_op(ctx: OpContext, data: dict[str, Any]) -> dict[str, Any]:
    """`organization_id` must be the caller's own organization (any other id is a 404, whether it
    exists or not). Every member may read it."""
    if parse_uuid(data["organization_id"]) != ctx.org.pk:
        raise NotFound("Organization not found.", slug="organization-not-found")
    return usage_current(org=ctx.org)
