"""Operations of the orders app, registered with the platform registry: the order resource
(orders.get, .list, .update, .cancel, .list_assets) and orders.archive.place. The sub-packages
register theirs (catalog.search*, orders.coverage.*, orders.archive.estimate) in their own
`api.py`, imported here so the platform's autodiscovery of `orders.api` finds them."""

from __future__ import annotations

import json
import math
from typing import Any

from django.conf import settings
from rest_framework import serializers

from geopera_web.accounts.models import Scope
from geopera_web.api.fields import (
    UUID_PATTERN,
    PatternField,
    SettingBoundsMixin,
    comma_separated_field,
    page_field,
)
from geopera_web.api.registry import Effect, OpContext, operation
from geopera_web.billing.services import credits_to_aud
from geopera_web.errors import InvalidInput, PermissionDenied

from . import usage as usage_api  # noqa: F401  (usage.current)
from .approvals import api as approvals_api  # noqa: F401  (orders.approvals.*, orders.policies.*)
from .cart.api import ArchiveEstimateGroup, ArchivePlaceInput, _km2, quote_to_wire
from .cart.pricing import archive_quote
from .cart.services import archive_order_place
from .catalog import api as catalog_api  # noqa: F401  (catalog.search, catalog.search_stream)
from .coverage import api as coverage_api  # noqa: F401  (orders.coverage.*)
from .fulfilment.selectors import delivered_assets
from .geometry import features_of
from .lineage import api as lineage_api  # noqa: F401  (provenance.get, orders.tasking.groups.list)
from .models import Capture, Order, OrderGroup, OrderType
from .placement import Placer, order_estimate, order_place, register_placer
from .selectors import (
    SORT_FIELDS,
    SORT_PATTERN,
    order_filters_parse,
    order_get_detail,
    order_search,
)
from .services import (
    MAX_DISPLAY_NAME,
    TAGS_BOUNDS,
    TAGS_HELP,
    order_cancel,
    order_cancel_preview,
    order_tags_merge,
)
from .watches import api as watches_api  # noqa: F401  (orders.watches.*)

# An order's name is bounded by its column (Order.display_name), so that bound is a constant.
DISPLAY_NAME_HELP = f"The order's name, at most {MAX_DISPLAY_NAME} characters (its column)."


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
        "dataProductName": group.data_product.name,
        "acquisitionDate": group.acquisition_date.isoformat() if group.acquisition_date else None,
        "billedAreaKm2": _km2(group.billed_area_km2),
        # The rate in force when the group was priced (archive groups keep it in params); tasking
        # groups are priced from their product.
        "creditsPerKm2": params.get("creditsPerKm2", group.data_product.credits_per_km2),
        "minAreaKm2": params.get("minAreaKm2", group.data_product.min_area_km2),
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


class CancelSeriesOccurrence(serializers.Serializer):
    index = serializers.IntegerField(help_text="1-based position in the series.")
    orderId = serializers.UUIDField(  # noqa: N815
        allow_null=True, help_text="Its child order; null for an occurrence not ordered yet."
    )


class CancelSeriesCancelledOccurrence(CancelSeriesOccurrence):
    money = serializers.DictField(
        required=False,
        help_text="What cancelling its child order does with its money (the keys of orders.cancel's "
        "money fields); absent for an occurrence not ordered yet (nothing was charged).",
    )


class CancelSeriesPlan(serializers.Serializer):
    """Cancelling the parent order of a recurring series cancels the series: every occurrence not
    yet started (its window has not opened) is cancelled with its own order's settlement, and the
    started ones run on (orders.tasking.series.cancel answers the same)."""

    cancelledOccurrences = CancelSeriesCancelledOccurrence(many=True)  # noqa: N815
    runningOn = CancelSeriesOccurrence(  # noqa: N815
        many=True, help_text="Started occurrences: they are not cancelled and keep their charge."
    )
    releasedCredits = serializers.IntegerField(help_text="What the cancelled occurrences' holds give back.")  # noqa: N815
    summary = serializers.CharField(help_text="The plan in one sentence (also the answer's message).")


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
    series = CancelSeriesPlan(
        allow_null=True,
        help_text="The parent order of a recurring series: which occurrences are (or would be) "
        "cancelled and which started ones run on; the money fields above are their sum. Null for "
        "any other order.",
    )
    message = serializers.CharField()


class OrdersListInput(SettingBoundsMixin, serializers.Serializer):
    setting_bounds = {"size": {"text_max": "ORDERS_PAGE_MAX_SIZE"}}

    workspaceId = serializers.CharField(required=False, allow_null=True, allow_blank=True)  # noqa: N815
    type = serializers.ChoiceField(
        choices=list(OrderType.values), required=False, allow_null=True, allow_blank=True
    )
    status = comma_separated_field(list(Order.Status.values), help_text="Comma-separated.")
    subStatus = serializers.CharField(required=False, allow_null=True, allow_blank=True)  # noqa: N815
    displayName = serializers.CharField(  # noqa: N815
        required=False, allow_null=True, allow_blank=True, help_text="Case-insensitive substring."
    )
    dataProductIds = serializers.CharField(required=False, allow_null=True, allow_blank=True)  # noqa: N815
    orderIds = comma_separated_field(item=UUID_PATTERN, help_text="Comma-separated order ids.")  # noqa: N815
    tags = serializers.CharField(
        required=False,
        allow_null=True,
        allow_blank=True,
        help_text="Comma-separated; orders with ALL of them.",
    )
    size = serializers.IntegerField(
        required=False, default=20, min_value=1, help_text="Capped at {text_max} (ORDERS_PAGE_MAX_SIZE)."
    )
    page = page_field()
    sort = PatternField(
        SORT_PATTERN,
        required=False,
        default="createdAt,desc",
        help_text="'<field>,<asc|desc>'; field: createdAt, updatedAt, status, type, displayName, totalCredits "
        "(the direction in any case, ascending when omitted).",
        error_messages={
            "invalid": "sort is '<field>,<asc|desc>' with field one of " + ", ".join(SORT_FIELDS) + "."
        },
    )


class OrdersListOutput(serializers.Serializer):
    """One page of orders (Spring-style page, as the providers' APIs answer)."""

    content = OrderOutput(many=True)
    totalElements = serializers.IntegerField()  # noqa: N815
    totalPages = serializers.IntegerField()  # noqa: N815
    page = serializers.IntegerField(help_text="0-based page number.")
    size = serializers.IntegerField()
    sort = serializers.CharField()


class OrderUpdateInput(SettingBoundsMixin, serializers.Serializer):
    setting_bounds = TAGS_BOUNDS

    order_id = serializers.CharField(max_length=100)
    tags = serializers.ListField(
        child=serializers.CharField(allow_blank=True, trim_whitespace=True),
        required=False,
        allow_null=True,
        help_text=TAGS_HELP,
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
    "creates a processing archive order. `projectId` defaults to the org's default workspace. A cart naming "
    "a capture that is not in the catalog is a 404 listing them (`errors`); one with a capture that "
    "cannot be priced (geometry outside the footprint, unsupported product) is a 422 listing them. An operator's order above the org's "
    "spend-policy approval threshold spends nothing: it is `pending` / `APPROVAL_WAITING_RESPONSE` until an "
    "admin decides the spend approval (orders.approvals.decide; `approvalNote` is the operator's note). The "
    "workspace's monthly budget is enforced with the spend (402 `budget-exceeded` naming what is left).",
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
        approval_note=data.get("approvalNote") or "",
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
    size = min(int(data.get("size") or 20), settings.ORDERS_PAGE_MAX_SIZE)
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
    "share per AOI (the pro-rata rule of the window-end settlement) and the rest is released. The parent "
    "order of a recurring series cancels the series: `series` lists the occurrences cancelled and the "
    "started ones that run on, and `message` says it.",
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
        "series": effect.series.as_wire() if effect.series is not None else None,
        "message": message,
    }


class OrderAssetsOutput(serializers.Serializer):
    """A STAC ItemCollection (GeoJSON FeatureCollection) of the items delivered for the order, archive
    or tasking alike. Each item has its assets (`assets.visual.href`), the properties
    `geopera:order_id`, `geopera:group_id`, `geopera:group_name`, `geopera:delivered_at`,
    `geopera:source`, and `rel=via` / `rel=derived_from` links to the order (provenance). Empty
    until something is delivered."""

    type = serializers.CharField(help_text='"FeatureCollection"')
    features = serializers.ListField(child=serializers.DictField())
    numberMatched = serializers.IntegerField()  # noqa: N815
    numberReturned = serializers.IntegerField()  # noqa: N815


@operation(
    "orders.list_assets",
    scope=Scope.ITEMS_READ,
    effect=Effect.READ,
    input=OrderAssetsInput,
    output=OrderAssetsOutput,
    summary="List the items + assets delivered for an order (STAC FeatureCollection).",
)
def order_list_assets_op(ctx: OpContext, data: dict) -> dict:
    return delivered_assets(
        org=ctx.org, order_id=data["order_id"], base_url=ctx.request.build_absolute_uri("/")
    )


# --- orders.place / orders.estimate: dispatched to the placer of the product's order type -------


FEATURE_COLLECTION_HELP = (
    "GeoJSON FeatureCollection: tasking AOIs (Polygon/MultiPolygon) or, for archive products, the captures "
    "to order. At most {text_features} features (`GEOMETRY_MAX_FEATURES`) and {text_vertices} vertices "
    "per geometry (`GEOMETRY_MAX_VERTICES`), 422 naming the limit."
)
FEATURE_COLLECTION_BOUNDS = {
    "featureCollection": {"text_features": "GEOMETRY_MAX_FEATURES", "text_vertices": "GEOMETRY_MAX_VERTICES"}
}


class OrderPlaceInput(SettingBoundsMixin, serializers.Serializer):
    setting_bounds = {**FEATURE_COLLECTION_BOUNDS, **TAGS_BOUNDS}

    workspaceId = serializers.CharField()  # noqa: N815 (wire casing)
    dataProduct = serializers.CharField()  # noqa: N815
    displayName = serializers.CharField(  # noqa: N815
        required=False, default="", allow_blank=True, max_length=MAX_DISPLAY_NAME, help_text=DISPLAY_NAME_HELP
    )
    params = serializers.DictField(required=False, default=dict)
    featureCollection = serializers.DictField(  # noqa: N815
        required=False, default=dict, help_text=FEATURE_COLLECTION_HELP
    )
    tags = serializers.ListField(
        child=serializers.CharField(),
        required=False,
        allow_null=True,
        default=None,
        help_text=TAGS_HELP,
    )


class OrderPlaceOutput(serializers.Serializer):
    """The placed order (additionalProperties in the reference; these fields are stable)."""

    id = serializers.CharField()
    status = serializers.CharField()
    subStatus = serializers.CharField()  # noqa: N815
    orderType = serializers.CharField()  # noqa: N815
    groups = serializers.ListField(child=serializers.DictField())
    seriesId = serializers.UUIDField(  # noqa: N815
        required=False,
        allow_null=True,
        help_text="Tasking: the recurring series this request became (params.occurrences or "
        "params.recurUntil), to follow with orders.tasking.series.get / .cancel; null for a one-off "
        "request. The id answered is the series' parent order, which carries its study and quotation.",
    )
    captureFrequency = serializers.ChoiceField(  # noqa: N815
        choices=["DAILY", "WEEKLY", "MONTHLY"],
        required=False,
        allow_null=True,
        help_text="Tasking series: how often it recurs; null for a one-off request.",
    )
    occurrenceCount = serializers.IntegerField(  # noqa: N815
        required=False,
        allow_null=True,
        help_text="Tasking series: how many occurrences (child orders) it has; null for a one-off request.",
    )
    perOccurrenceCredits = serializers.IntegerField(  # noqa: N815
        required=False,
        allow_null=True,
        help_text="Tasking series: the estimate of one occurrence (the order's estimate is the "
        "series'); null for a one-off request.",
    )


class EstimateInput(SettingBoundsMixin, serializers.Serializer):
    setting_bounds = {**FEATURE_COLLECTION_BOUNDS, **TAGS_BOUNDS}

    dataProduct = serializers.CharField()  # noqa: N815
    displayName = serializers.CharField(  # noqa: N815
        required=False, default="", allow_blank=True, max_length=MAX_DISPLAY_NAME, help_text=DISPLAY_NAME_HELP
    )
    params = serializers.DictField(required=False, default=dict)
    featureCollection = serializers.DictField(  # noqa: N815
        required=False, default=dict, help_text=FEATURE_COLLECTION_HELP
    )
    tags = serializers.ListField(
        child=serializers.CharField(),
        required=False,
        allow_null=True,
        default=None,
        help_text=TAGS_HELP,
    )


def _archive_captures(data: dict[str, Any]) -> list[dict[str, Any]]:
    """An archive FeatureCollection as the archive cart: each feature names a catalog capture (its
    `id`, or `properties.id`) and may carry a geometry to clip to. Every capture must be of the
    requested data product."""
    product_id = data["dataProduct"]
    captures: list[dict[str, Any]] = []
    errors: list[dict[str, Any]] = []
    for i, feature in enumerate(features_of(data.get("featureCollection"))):
        props = feature.get("properties") or {} if isinstance(feature, dict) else {}
        capture_id = (feature.get("id") if isinstance(feature, dict) else None) or props.get("id")
        if not capture_id:
            errors.append(
                {
                    "loc": ["body", "featureCollection", "features", i, "id"],
                    "msg": "An archive feature names the catalog capture it buys: set its `id` "
                    "to the capture's id from catalog.search.",
                    "type": "value_error.missing",
                }
            )
            continue
        item: dict[str, Any] = {"id": str(capture_id)}
        if isinstance(feature.get("geometry"), dict):
            item["geometry"] = feature["geometry"]
        captures.append(item)
    if errors:
        raise InvalidInput("Some features do not name a capture.", status=422, errors=errors)
    other = sorted(
        Capture.objects.filter(scene_id__in=[c["id"] for c in captures])
        .exclude(data_product_id=product_id)
        .values_list("scene_id", flat=True)
    )
    if other:
        raise InvalidInput(
            f"Captures {', '.join(other)} are not {product_id} captures.",
            status=422,
            errors=[
                {
                    "loc": ["body", "featureCollection"],
                    "msg": f"{cid} is not a {product_id} capture.",
                    "type": "value_error.product_mismatch",
                }
                for cid in other
            ],
        )
    return captures


def _place_archive(ctx: OpContext, data: dict[str, Any]) -> dict[str, Any]:
    """Archive products through orders.place: the same service (and money path) as
    orders.archive.place, so the same guard: API keys do not place archive orders."""
    if ctx.principal.is_api_key:
        raise PermissionDenied(
            "API keys cannot place archive orders: they spend the organization's money and need a person "
            "(sign in, or use a user token).",
            slug="api-key-not-allowed",
        )
    order = archive_order_place(
        org=ctx.org,
        actor=ctx.principal,
        captures=_archive_captures(data),
        workspace_id=data.get("workspaceId"),
        split_by_date=bool((data.get("params") or {}).get("splitByDate")),
        license_type=(data.get("params") or {}).get("licenseType") or "standard",
        display_name=data.get("displayName") or "",
        tags=data.get("tags") or [],
        idempotency_key=ctx.idempotency_key,
    )
    return order_to_wire(order_get_detail(org=ctx.org, order_id=order.pk))


def _estimate_archive(ctx: OpContext, data: dict[str, Any]) -> dict[str, Any]:
    quote = archive_quote(
        captures=_archive_captures(data),
        split_by_date=bool((data.get("params") or {}).get("splitByDate")),
    )
    # The archive estimate's shape, with the camelCase totals this operation uses for tasking too.
    return {**quote_to_wire(quote), "totalCredits": quote.total_credits, "totalAud": quote.total_aud}


register_placer(Placer(order_type=OrderType.ARCHIVE, place=_place_archive, estimate=_estimate_archive))


@operation(
    "orders.place",
    scope="orders:write",
    effect=Effect.SPEND,
    input=OrderPlaceInput,
    output=OrderPlaceOutput,
    summary="Place order(s) from a FeatureCollection (archive reserves; tasking queues feasibility).",
)
def orders_place(ctx: OpContext, data: dict[str, Any]) -> dict[str, Any]:
    """Archive products: the features name catalog captures (optionally clipped by their geometry);
    the order is placed and paid like orders.archive.place (a person must place it).
    Tasking products: one order in PENDING / FEASIBILITY_WAITING_UPLOAD with one group per feature
    (each geometry validated: type, closed rings, vertices, self-intersection with the made-valid
    shape suggested, area limits → 422 naming the feature); params validated with the product's
    schema (422 naming the field). Nothing is charged until an option or quotation is accepted."""
    return order_place(ctx, data)


@operation(
    "orders.estimate",
    scope="items:read",
    effect=Effect.READ,
    input=EstimateInput,
    summary="Price-preview an order without committing (provider-compatible).",
)
def orders_estimate(ctx: OpContext, data: dict[str, Any]) -> dict[str, Any]:
    """Archive products: the archive estimate of the captures the features name. Tasking products:
    one priced group per feature (geodesic km², billed at the product minimum), `errors` for
    features that cannot be priced, `totalCredits` and `totalAud`."""
    return order_estimate(ctx, data)
