"""Operations of the orders app, registered with the platform registry: the order resource
(orders.get, .list, .update, .cancel, .list_assets) and orders.archive.place. The sub-packages
register theirs (catalog.search*, orders.coverage.*, orders.archive.estimate) in their own
`api.py`, imported here so the platform's autodiscovery of `orders.api` finds them."""

from __future__ import annotations

import json
import math
from typing import Any

from rest_framework import serializers

from geopera_web.accounts.models import Scope
from geopera_web.api.fields import page_field
from geopera_web.api.registry import Effect, OpContext, operation
from geopera_web.billing.services import credits_to_aud

from .cart.api import ArchiveEstimateGroup, ArchivePlaceInput, _km2
from .cart.services import archive_order_place
from .catalog import api as catalog_api  # noqa: F401  (catalog.search, catalog.search_stream)
from .coverage import api as coverage_api  # noqa: F401  (orders.coverage.*)
from .fulfilment.selectors import delivered_assets
from .models import Order, OrderGroup, OrderType
from .selectors import MAX_PAGE_SIZE, order_filters_parse, order_get_assets, order_get_detail, order_search
from .services import order_cancel, order_cancel_preview, order_tags_merge


def order_group_to_wire(group: OrderGroup, *, geometry: bool = False) -> dict[str, Any]:
    params = group.params or {}
    out = {
        "id": str(group.pk),
        "name": group.name,
        "captures": sorted(c.scene_id for c in group.captures.all()),
        "aoi_km2": _km2(group.area_km2),
        "credits": group.credits,
        "aud": credits_to_aud(group.credits),
        "dataProduct": group.data_product_id,
        "acquisitionDate": group.acquisition_date.isoformat() if group.acquisition_date else None,
        "billedAreaKm2": _km2(group.billed_area_km2),
        "creditsPerKm2": params.get("creditsPerKm2"),
        "minAreaKm2": params.get("minAreaKm2"),
    }
    if geometry:
        out["geometry"] = json.loads(group.geometry.json)
    return out


def order_to_wire(order: Order, *, geometry: bool = False) -> dict[str, Any]:
    """The order resource (OrderOutput). Precondition: groups and their captures are prefetched."""
    return {
        "id": str(order.pk),
        "displayName": order.display_name,
        "status": order.status,
        "subStatus": order.sub_status,
        "orderType": order.order_type,
        "billingMode": order.billing_mode,
        "currency": "AUD",
        "totalAud": credits_to_aud(order.total_credits),
        "totalCredits": order.total_credits,
        "workspaceId": str(order.workspace_id),
        "dataProduct": order.data_product_id,
        "licenseType": order.license_type,
        "splitByDate": order.split_by_date,
        "tags": list(order.tags),
        "createdAt": order.created_at.isoformat(),
        "updatedAt": order.updated_at.isoformat(),
        "groups": [order_group_to_wire(g, geometry=geometry) for g in order.groups.all()],
    }


class OrderGroupOutput(ArchiveEstimateGroup):
    """A priced group of a placed order (same keys as the estimate's groups, plus its id)."""

    id = serializers.UUIDField()
    name = serializers.CharField()
    geometry = serializers.JSONField(required=False, help_text="GeoJSON billed area (orders.get only).")


class OrderOutput(serializers.Serializer):
    """An order. `status`: draft, pending, processing, active, fulfilled, partially_fulfilled,
    failed, cancelled, rejected, expired."""

    id = serializers.UUIDField()
    displayName = serializers.CharField()  # noqa: N815
    status = serializers.CharField()
    subStatus = serializers.CharField()  # noqa: N815
    orderType = serializers.CharField(help_text="archive | tasking")  # noqa: N815
    billingMode = serializers.CharField(help_text="credit | card | enterprise")  # noqa: N815
    currency = serializers.CharField(help_text='Always "AUD".')
    totalAud = serializers.FloatField()  # noqa: N815
    totalCredits = serializers.IntegerField()  # noqa: N815
    workspaceId = serializers.UUIDField()  # noqa: N815
    dataProduct = serializers.CharField(allow_null=True)  # noqa: N815
    licenseType = serializers.CharField()  # noqa: N815
    splitByDate = serializers.BooleanField()  # noqa: N815
    tags = serializers.ListField(child=serializers.CharField())
    createdAt = serializers.DateTimeField()  # noqa: N815
    updatedAt = serializers.DateTimeField()  # noqa: N815
    groups = OrderGroupOutput(many=True)


class OrderGetInput(serializers.Serializer):
    """`order_id` is the reference's name; `id` is accepted as an alias (the guide's examples use it)."""

    order_id = serializers.CharField(max_length=100)

    def to_internal_value(self, data):  # type: ignore[override]
        if isinstance(data, dict) and not data.get("order_id") and data.get("id"):
            data = {**data, "order_id": data["id"]}
        return super().to_internal_value(data)


class OrderCancelInput(OrderGetInput):
    dryRun = serializers.BooleanField(  # noqa: N815
        required=False,
        default=False,
        help_text="true: change nothing, answer what cancelling now would charge and release (the "
        "preview to show before a person confirms).",
    )
    expectedChargeCredits = serializers.IntegerField(  # noqa: N815
        required=False,
        allow_null=True,
        min_value=0,
        help_text="The `chargedCredits` of the preview the person confirmed. When deliveries since "
        "then changed it, nothing is cancelled and the 409 problem carries the new `preview`.",
    )


class OrderAssetsInput(OrderGetInput):
    pass


class CancelSettlementLine(serializers.Serializer):
    """One AOI of an acquiring tasking order: what its delivered share costs and what goes back."""

    groupId = serializers.UUIDField()  # noqa: N815
    name = serializers.CharField()
    credits = serializers.IntegerField(help_text="The AOI's share of what the order was charged.")
    coveredPercent = serializers.FloatField()  # noqa: N815
    remainderShare = serializers.FloatField(help_text="Uncovered km² / requested km², to 1e-6.")  # noqa: N815
    chargeCredits = serializers.IntegerField(help_text="Charged for this AOI's delivered share.")  # noqa: N815
    releaseCredits = serializers.IntegerField(  # noqa: N815
        help_text="round-down(credits × remainderShare): given back for what was not delivered."
    )
    refundCredits = serializers.IntegerField(help_text="Same as releaseCredits (window-end name).")  # noqa: N815


class OrderCancelOutput(serializers.Serializer):
    """The cancelled order (or, with `dryRun`, the order as it is) and what happens to its money.

    An acquiring tasking order that already received deliveries is settled by the same pro-rata
    rule as the end of its acquisition window: per AOI, the delivered share is charged and
    round-down(credits × uncovered share) is released (`moneyAction: "settle"`)."""

    orderId = serializers.UUIDField()  # noqa: N815
    status = serializers.CharField()
    dryRun = serializers.BooleanField()  # noqa: N815
    billingMode = serializers.CharField()  # noqa: N815
    moneyAction = serializers.CharField(help_text="release | settle | refund | none")  # noqa: N815
    credits = serializers.IntegerField(help_text="Credits given back (released or refunded).")
    aud = serializers.FloatField()
    chargedCredits = serializers.IntegerField(help_text="Credits charged for what was delivered.")  # noqa: N815
    chargedAud = serializers.FloatField()  # noqa: N815
    releasedCredits = serializers.IntegerField()  # noqa: N815
    groups = CancelSettlementLine(many=True, help_text="Per AOI (tasking orders); empty otherwise.")
    message = serializers.CharField()


class OrdersListInput(serializers.Serializer):
    workspaceId = serializers.CharField(required=False, allow_null=True, allow_blank=True)  # noqa: N815
    type = serializers.CharField(required=False, allow_null=True, allow_blank=True)
    status = serializers.CharField(
        required=False, allow_null=True, allow_blank=True, help_text="Comma-separated."
    )
    subStatus = serializers.CharField(required=False, allow_null=True, allow_blank=True)  # noqa: N815
    displayName = serializers.CharField(  # noqa: N815
        required=False, allow_null=True, allow_blank=True, help_text="Case-insensitive substring."
    )
    dataProductIds = serializers.CharField(required=False, allow_null=True, allow_blank=True)  # noqa: N815
    orderIds = serializers.CharField(required=False, allow_null=True, allow_blank=True)  # noqa: N815
    tags = serializers.CharField(
        required=False,
        allow_null=True,
        allow_blank=True,
        help_text="Comma-separated; orders with ALL of them.",
    )
    size = serializers.IntegerField(
        required=False, default=20, min_value=1, help_text=f"Capped at {MAX_PAGE_SIZE}."
    )
    page = page_field()
    sort = serializers.CharField(
        required=False,
        default="createdAt,desc",
        help_text="'<field>,<asc|desc>'; field: createdAt, updatedAt, status, type, displayName, totalCredits.",
    )


class OrdersListOutput(serializers.Serializer):
    """One page of orders (Spring-style page, as the providers' APIs answer)."""

    content = OrderOutput(many=True)
    totalElements = serializers.IntegerField()  # noqa: N815
    totalPages = serializers.IntegerField()  # noqa: N815
    page = serializers.IntegerField(help_text="0-based page number.")
    size = serializers.IntegerField()
    sort = serializers.CharField()


class OrderUpdateInput(serializers.Serializer):
    order_id = serializers.CharField(max_length=100)
    tags = serializers.ListField(
        child=serializers.CharField(max_length=60, allow_blank=True, trim_whitespace=True),
        required=False,
        allow_null=True,
        max_length=50,
    )


class OrderUpdateOutput(OrderOutput):
    """The order after the merge-patch (tags: union of old and new, de-duplicated)."""


@operation(
    "orders.archive.place",
    scope=Scope.ORDERS_WRITE,
    effect=Effect.SPEND,
    input=ArchivePlaceInput,
    output=OrderOutput,
    user_only=True,
    success_status=202,
    summary="Invoke Archive Place",
    description="Re-prices the captures on the server, secures the money per the org's billing mode "
    "(402 when it cannot: insufficient credits, no/declined card, 3-D Secure with `client_secret`), and "
    "creates a processing archive order. `projectId` defaults to the org's default workspace. A cart with "
    "any capture that cannot be priced is refused with 422 listing them.",
)
def archive_place(ctx: OpContext, data: dict) -> dict:
    order = archive_order_place(
        org=ctx.org,
        actor=ctx.principal,
        captures=list(data["captures"]),
        workspace_id=data.get("projectId"),
        license_type=data.get("licenseType") or "standard",
        split_by_date=bool(data.get("splitByDate")),
        display_name=data.get("displayName") or "",
        tags=data.get("tags") or [],
        idempotency_key=ctx.idempotency_key,
    )
    return order_to_wire(order_get_detail(org=ctx.org, order_id=order.pk))


@operation(
    "orders.get",
    scope=Scope.ORDERS_READ,
    effect=Effect.READ,
    input=OrderGetInput,
    output=OrderOutput,
    summary="Get a single order (org-scoped).",
)
def order_get_op(ctx: OpContext, data: dict) -> dict:
    return order_to_wire(order_get_detail(org=ctx.org, order_id=data["order_id"]), geometry=True)


@operation(
    "orders.list",
    scope=Scope.ORDERS_READ,
    effect=Effect.READ,
    input=OrdersListInput,
    output=OrdersListOutput,
    summary="List the org's orders (filtered, paged, provider-compatible).",
)
def order_list_op(ctx: OpContext, data: dict) -> dict:
    filters = order_filters_parse(data)
    size = min(int(data.get("size") or 20), MAX_PAGE_SIZE)
    page = int(data.get("page") or 0)
    qs = order_search(org=ctx.org, filters=filters)
    total = qs.count()
    rows = list(qs[page * size : page * size + size]) if page * size < total else []
    return {
        "content": [order_to_wire(o) for o in rows],
        "totalElements": total,
        "totalPages": math.ceil(total / size) if total else 0,
        "page": page,
        "size": size,
        "sort": filters.sort,
    }


@operation(
    "orders.update",
    scope=Scope.ORDERS_WRITE,
    effect=Effect.COMPUTE,
    input=OrderUpdateInput,
    output=OrderUpdateOutput,
    summary="Patch an order's tags (metadata only; provider merge-patch).",
)
def order_update_op(ctx: OpContext, data: dict) -> dict:
    order = order_tags_merge(
        org=ctx.org, actor=ctx.principal, order_id=data["order_id"], tags=list(data.get("tags") or [])
    )
    return order_to_wire(order_get_detail(org=ctx.org, order_id=order.pk))


@operation(
    "orders.cancel",
    scope=Scope.ORDERS_WRITE,
    effect=Effect.SPEND,
    input=OrderCancelInput,
    output=OrderCancelOutput,
    summary="Cancel an order (policy-gated), refunding/voiding its reservation.",
    description="Cancels the order and settles its money; `dryRun: true` previews the same answer "
    "without changing anything. An acquiring tasking order with deliveries is charged for the delivered "
    "share per AOI (the pro-rata rule of the window-end settlement) and the rest is released.",
)
def order_cancel_op(ctx: OpContext, data: dict) -> dict:
    if data.get("dryRun"):
        order, effect = order_cancel_preview(org=ctx.org, order_id=data["order_id"])
        message = effect.sentence
    else:
        order, effect = order_cancel(
            org=ctx.org,
            actor=ctx.principal,
            order_id=data["order_id"],
            expected_charge_credits=data.get("expectedChargeCredits"),
        )
        message = effect.done_sentence
    return {
        "orderId": str(order.pk),
        "status": order.status,
        "dryRun": bool(data.get("dryRun")),
        **effect.as_wire(),
        "message": message,
    }


class OrderAssetsOutput(serializers.Serializer):
    """A STAC ItemCollection (GeoJSON FeatureCollection) of the items delivered for the order. Each
    item has `assets.visual.href`, the property `geopera:order_id` and a `rel=derived_from` link to
    the order (provenance). Empty until the order is fulfilled."""

    type = serializers.CharField(help_text='"FeatureCollection"')
    features = serializers.ListField(child=serializers.DictField())
    numberMatched = serializers.IntegerField()  # noqa: N815
    numberReturned = serializers.IntegerField()  # noqa: N815


def order_assets(order: Order, *, order_href: str) -> dict[str, Any]:
    """STAC items for what the provider delivered (recorded at fulfilment). Precondition: groups
    and captures prefetched (`order_get_detail`)."""
    deliveries = (order.metadata or {}).get("deliveries") or {}
    captures = {c.scene_id: c for g in order.groups.all() for c in g.captures.all()}
    features = []
    for scene_id in sorted(deliveries):
        capture = captures.get(scene_id)
        delivery = deliveries[scene_id]
        features.append(
            {
                "type": "Feature",
                "stac_version": "1.0.0",
                "id": scene_id,
                "collection": capture.collection if capture else None,
                "geometry": json.loads(capture.footprint.json) if capture else None,
                "bbox": list(capture.footprint.extent) if capture else None,
                "properties": {
                    "datetime": capture.acquired_at.isoformat() if capture else None,
                    "geopera:order_id": str(order.pk),
                    "geopera:delivered_at": order.metadata.get("delivered_at"),
                },
                "assets": {
                    "visual": {
                        "href": delivery["href"],
                        "type": delivery.get("media_type"),
                        "roles": ["data", "visual"],
                    }
                },
                "links": [
                    {"rel": "derived_from", "href": order_href, "type": "application/json", "title": "Order"}
                ],
            }
        )
    return {
        "type": "FeatureCollection",
        "features": features,
        "numberMatched": len(features),
        "numberReturned": len(features),
    }


@operation(
    "orders.list_assets",
    scope=Scope.ITEMS_READ,
    effect=Effect.READ,
    input=OrderAssetsInput,
    output=OrderAssetsOutput,
    summary="List the items + assets delivered for an order (STAC FeatureCollection).",
)
def order_list_assets_op(ctx: OpContext, data: dict) -> dict:
    order = order_get_assets(org=ctx.org, order_id=data["order_id"])
    if order.order_type == OrderType.TASKING:
        # Tasking deliveries are DeliveredCaptures, with provenance back to the order and its AOI.
        return delivered_assets(org=ctx.org, order_id=order.pk, base_url=ctx.request.build_absolute_uri("/"))
    href = ctx.request.build_absolute_uri(f"/v1/op/orders.get?order_id={order.pk}")
    return order_assets(order, order_href=href)
