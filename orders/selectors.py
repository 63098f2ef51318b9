"""Every read of orders, always scoped to the caller's org (missing and not-yours are one 404).

Reads of the sub-domains live with them: `orders.catalog.selectors` (the shared catalog),
`orders.cart.selectors`, `orders.fulfilment.selectors`, `orders.coverage.selectors`."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Prefetch, Q, QuerySet

from geopera_web.accounts.models import Organization
from geopera_web.accounts.selectors import workspace_get
from geopera_web.errors import InvalidInput, NotFound, parse_uuid

from .models import Capture, Order, OrderEvent, OrderGroup, OrderType


def order_get(*, org: Organization, order_id: object, for_update: bool = False) -> Order:
    oid = parse_uuid(order_id)
    qs = Order.objects.filter(org=org, id=oid) if oid else Order.objects.none()
    if for_update:
        # Lock the order row only (a nullable joined row cannot be locked, and need not be).
        qs = qs.select_for_update(of=("self",))
    order = qs.select_related("workspace", "data_product", "charge").first()
    if order is None:
        raise NotFound("Order not found.")
    return order


def _with_groups(qs: QuerySet[Order]) -> QuerySet[Order]:
    """Everything the order serializers and pages read, in a constant number of queries."""
    return qs.select_related("workspace", "data_product", "charge", "created_by").prefetch_related(
        Prefetch(
            "groups",
            queryset=OrderGroup.objects.select_related("data_product").prefetch_related(
                Prefetch(
                    "captures", queryset=Capture.objects.only("id", "scene_id", "collection", "acquired_at")
                )
            ),
        )
    )


def order_get_detail(*, org: Organization, order_id: object) -> Order:
    """An order with its groups and their captures prefetched (API `orders.get`, the detail page)."""
    oid = parse_uuid(order_id)
    order = _with_groups(Order.objects.filter(org=org, id=oid)).first() if oid else None
    if order is None:
        raise NotFound("Order not found.")
    return order


def order_events(*, order: Order) -> QuerySet[OrderEvent]:
    return order.events.select_related("actor").order_by("created_at", "id")


def order_events_latest(*, order: Order, skip: int, rows: int) -> list[OrderEvent]:
    """`rows` events of `order` in time order, the newest ones after skipping the `skip` newest
    (the order page shows the latest and pages back in time)."""
    page = order.events.select_related("actor").order_by("-created_at", "-id")[skip : skip + rows]
    return list(reversed(page))


def order_list(*, org: Organization) -> QuerySet[Order]:
    return Order.objects.filter(org=org).select_related("workspace", "data_product")


def order_get_for_support(*, order_id: object) -> Order:
    """Any org's order, for support staff pages only (the caller has checked `is_staff`)."""
    oid = parse_uuid(order_id)
    order = Order.objects.select_related("org", "data_product").filter(id=oid).first() if oid else None
    if order is None:
        raise NotFound("Order not found.")
    return order


SORT_FIELDS: dict[str, str] = {
    "createdAt": "created_at",
    "updatedAt": "updated_at",
    "status": "status",
    "type": "order_type",
    "displayName": "display_name",
    "totalCredits": "total_credits",
}

# The `sort` of orders.list as the server reads it (and the document declares it): a field, then
# optionally a comma and a direction in any case.
SORT_PATTERN = "^(" + "|".join(SORT_FIELDS) + ")(,([aA][sS][cC]|[dD][eE][sS][cC])?)?$"


@dataclass(frozen=True)
class OrderFilters:
    """OrdersListInput, parsed. Comma-separated lists are split; empty means "no filter"."""

    workspace_id: str | None = None
    type: str | None = None
    status: list[str] | None = None
    sub_status: list[str] | None = None
    display_name: str | None = None
    data_product_ids: list[str] | None = None
    order_ids: list[str] | None = None
    tags: list[str] | None = None
    sort: str = "createdAt,desc"


def _csv(value: str | None) -> list[str] | None:
    if not value:
        return None
    items = [v.strip() for v in str(value).split(",") if v.strip()]
    return items or None


def order_filters_parse(data: dict) -> OrderFilters:
    """Validate the list filters; a value that can never match is a 422 naming the field."""
    errors: list[dict] = []
    statuses = _csv(data.get("status"))
    if statuses and (bad := [s for s in statuses if s not in Order.Status.values]):
        errors.append(
            {
                "loc": ["body", "status"],
                "msg": f"Unknown status {', '.join(bad)}; one of {', '.join(Order.Status.values)}.",
                "type": "value_error",
            }
        )
    order_type = data.get("type") or None
    if order_type and order_type not in OrderType.values:
        errors.append(
            {
                "loc": ["body", "type"],
                "msg": f"type must be one of {', '.join(OrderType.values)}.",
                "type": "value_error",
            }
        )
    order_ids = _csv(data.get("orderIds"))
    if order_ids and any(parse_uuid(o) is None for o in order_ids):
        errors.append({"loc": ["body", "orderIds"], "msg": "Order ids are UUIDs.", "type": "value_error"})
    sort = data.get("sort") or "createdAt,desc"
    field, _, direction = str(sort).partition(",")
    if field.strip() not in SORT_FIELDS or direction.strip().lower() not in ("", "asc", "desc"):
        errors.append(
            {
                "loc": ["body", "sort"],
                "msg": f"sort is '<field>,<asc|desc>' with field one of {', '.join(SORT_FIELDS)}.",
                "type": "value_error",
            }
        )
    if errors:
        raise InvalidInput("Invalid list filters.", status=422, errors=errors)
    return OrderFilters(
        workspace_id=data.get("workspaceId") or None,
        type=order_type,
        status=statuses,
        sub_status=_csv(data.get("subStatus")),
        display_name=(data.get("displayName") or "").strip() or None,
        data_product_ids=_csv(data.get("dataProductIds")),
        order_ids=order_ids,
        tags=_csv(data.get("tags")),
        sort=f"{field.strip()},{direction.strip().lower() or 'asc'}",
    )


def order_search(*, org: Organization, filters: OrderFilters, with_groups: bool = True) -> QuerySet[Order]:
    """The org's orders matching every given filter, sorted (ties broken by id, so paging is stable).

    `workspaceId` of another org (or none) is a 404, like every other id; `tags` keeps orders that
    carry ALL the listed tags; `dataProductIds` matches the order's product or any group's."""
    qs = Order.objects.filter(org=org)
    if filters.workspace_id:
        workspace = workspace_get(org=org, workspace_id=filters.workspace_id)
        if workspace is None:
            raise NotFound("Workspace not found in your organization.", slug="workspace-not-found")
        qs = qs.filter(workspace=workspace)
    if filters.type:
        qs = qs.filter(order_type=filters.type)
    if filters.status:
        qs = qs.filter(status__in=filters.status)
    if filters.sub_status:
        qs = qs.filter(sub_status__in=filters.sub_status)
    if filters.display_name:
        qs = qs.filter(display_name__icontains=filters.display_name)
    if filters.order_ids:
        qs = qs.filter(id__in=[parse_uuid(o) for o in filters.order_ids])
    if filters.data_product_ids:
        qs = qs.filter(
            Q(data_product_id__in=filters.data_product_ids)
            | Q(
                id__in=OrderGroup.objects.filter(data_product_id__in=filters.data_product_ids).values(
                    "order_id"
                )
            )
        )
    if filters.tags:
        qs = qs.filter(tags__contains=filters.tags)
    field, direction = filters.sort.split(",")
    column = SORT_FIELDS[field]
    prefix = "-" if direction == "desc" else ""
    qs = qs.order_by(f"{prefix}{column}", f"{prefix}id")
    return _with_groups(qs) if with_groups else qs.select_related("workspace", "data_product")
