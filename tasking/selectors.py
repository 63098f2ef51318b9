"""Reads of the tasking configuration. Templates are always org-scoped: another org's template and
a missing one are the same 404. The sensor catalog is global (the same for every org)."""

from __future__ import annotations

from typing import Any

from django.db.models import F, Q, QuerySet

from geopera_web.accounts.models import Organization
from geopera_web.errors import NotFound, parse_uuid
from orders.inbox import DecisionPage, decisions_page, decisions_pending_count

from .models import FeasibilityStudy, Quotation, Sensor, TaskingProduct, TaskingTemplate


def sensor_list(*, include_inactive: bool = False) -> QuerySet[Sensor]:
    qs = Sensor.objects.all()
    if not include_inactive:
        qs = qs.filter(is_active=True)
    return qs.prefetch_related("products__data_product")


def sensor_get(*, sensor_id: str) -> Sensor:
    """An active sensor by its wire id, or NotFound."""
    sensor = Sensor.objects.filter(id=str(sensor_id), is_active=True).first()
    if sensor is None:
        raise NotFound(f"No sensor {sensor_id!r} in the catalog.")
    return sensor


def tasking_product_list() -> QuerySet[TaskingProduct]:
    """Active tasking products of active sensors, in catalog order."""
    return TaskingProduct.objects.filter(data_product__is_active=True, sensor__is_active=True).select_related(
        "data_product", "sensor"
    )


def tasking_product_get(*, product_id: str) -> TaskingProduct:
    """An active tasking product by its data product id (the wire `data_product_id`), or NotFound."""
    product = tasking_product_list().filter(data_product_id=str(product_id)).first()
    if product is None:
        raise NotFound(
            f"No tasking data product {product_id!r}. The sensors and their products are listed by "
            "orders.tasking.sensors.",
            slug="unknown-data-product",
        )
    return product


def tasking_product_for_sensor(*, sensor: Sensor) -> TaskingProduct | None:
    """The product a template for `sensor` prefills (the sensor's first active product)."""
    return tasking_product_list().filter(sensor=sensor).first()


def template_list(*, org: Organization, q: str = "", sensor_id: str = "") -> QuerySet[TaskingTemplate]:
    """The org's active templates, most recently used or changed first; `q` searches name and
    description, `sensor_id` filters by sensor."""
    qs = TaskingTemplate.objects.filter(org=org, deleted_at__isnull=True).select_related(
        "sensor", "created_by"
    )
    if q.strip():
        term = q.strip()
        qs = qs.filter(
            Q(name__icontains=term) | Q(description__icontains=term) | Q(sensor__name__icontains=term)
        )
    if sensor_id:
        qs = qs.filter(sensor_id=sensor_id)
    # Used templates first (most recent use first), then never-used ones by last change.
    return qs.order_by(F("last_used_at").desc(nulls_last=True), "-updated_at")


def template_get(*, org: Organization, template_id: object, for_update: bool = False) -> TaskingTemplate:
    """An active template of `org`, or NotFound (deleted, missing and another org's look the same)."""
    tid = parse_uuid(template_id)
    qs = (
        TaskingTemplate.objects.filter(org=org, id=tid, deleted_at__isnull=True)
        if tid
        else TaskingTemplate.objects.none()
    )
    if for_update:
        qs = qs.select_for_update()
    template = qs.select_related("sensor").first()
    if template is None:
        raise NotFound("Template not found.")
    return template


def template_get_including_deleted(
    *, org: Organization, template_id: object, for_update: bool = False
) -> TaskingTemplate:
    """Also a soft-deleted template, for provenance ("made from template X") and undo."""
    tid = parse_uuid(template_id)
    qs = TaskingTemplate.objects.filter(org=org, id=tid) if tid else TaskingTemplate.objects.none()
    if for_update:
        qs = qs.select_for_update()
    template = qs.select_related("sensor").first()
    if template is None:
        raise NotFound("Template not found.")
    return template


# --- tasking flow: orders, studies, quotations, the decisions inbox, the support queue -----------


def tasking_order_list(*, org: Organization) -> QuerySet:
    """The org's tasking orders (drafts included), newest first."""
    from orders.models import Order, OrderType

    return (
        Order.objects.filter(org=org, order_type=OrderType.TASKING)
        .select_related("workspace", "data_product", "created_by")
        .prefetch_related("groups")
        .order_by("-created_at")
    )


def tasking_draft_get(*, org: Organization, draft_id: object) -> Any:
    """A DRAFT tasking order of the org, or NotFound."""
    from orders.models import Order

    order = tasking_order_list(org=org).filter(id=parse_uuid(draft_id), status=Order.Status.DRAFT).first()
    if order is None:
        raise NotFound("Draft not found.")
    return order


def study_get(*, org: Organization, study_id: object, for_update: bool = False) -> FeasibilityStudy:
    sid = parse_uuid(study_id)
    qs = FeasibilityStudy.objects.filter(org=org, id=sid) if sid else FeasibilityStudy.objects.none()
    if for_update:
        qs = qs.select_for_update(of=("self",))
    study = qs.select_related("order", "decided_by", "accepted_option").first()
    if study is None:
        raise NotFound("Feasibility study not found.")
    return study


def quotation_get(*, org: Organization, quotation_id: object, for_update: bool = False) -> Quotation:
    qid = parse_uuid(quotation_id)
    qs = Quotation.objects.filter(org=org, id=qid) if qid else Quotation.objects.none()
    if for_update:
        qs = qs.select_for_update(of=("self",))
    quotation = qs.select_related("order", "decided_by").first()
    if quotation is None:
        raise NotFound("Quotation not found.")
    return quotation


def _filtered(qs: QuerySet, *, filters: dict[str, Any]) -> QuerySet:
    """The reference's list filters: id, workspaceId, orderId, decision (malformed ids match nothing)."""
    for key, lookup in (("id", "id"), ("workspaceId", "order__workspace_id"), ("orderId", "order_id")):
        value = filters.get(key)
        if value:
            parsed = parse_uuid(value)
            qs = qs.filter(**{lookup: parsed}) if parsed else qs.none()
    if filters.get("decision"):
        qs = qs.filter(decision=str(filters["decision"]).upper())
    return qs


def study_list(*, org: Organization, filters: dict[str, Any] | None = None) -> QuerySet[FeasibilityStudy]:
    qs = FeasibilityStudy.objects.filter(org=org).select_related(
        "order", "order__workspace", "order__data_product", "decided_by"
    )
    return _filtered(qs, filters=filters or {}).prefetch_related("options").order_by("-created_at", "-id")


def quotation_list(*, org: Organization, filters: dict[str, Any] | None = None) -> QuerySet[Quotation]:
    qs = Quotation.objects.filter(org=org).select_related(
        "order", "order__workspace", "order__data_product", "decided_by"
    )
    return _filtered(qs, filters=filters or {}).order_by("-created_at", "-id")


def decisions_pending(
    *,
    org: Organization,
    size: int = 20,
    workspace_id: object = None,
    kinds: str | list[str] | None = None,
    cursor: str | None = None,
    offset: int = 0,
    with_groups: bool = True,
    **more: Any,
) -> DecisionPage:
    """One page of every waiting decision of the org (studies, quotations, spend approvals and any
    other registered kind), newest first: one statement for the page with its rows' payloads
    (see `orders.inbox.decisions_page`, which also takes `with_total` and the extras)."""
    return decisions_page(
        org=org,
        size=size,
        kinds=kinds,
        workspace_id=workspace_id,
        cursor=cursor,
        offset=offset,
        with_groups=with_groups,
        **more,
    )


def pending_decision_count(
    *, org: Organization, workspace_id: object = None, kinds: str | list[str] | None = None
) -> int:
    return decisions_pending_count(org=org, workspace_id=workspace_id, kinds=kinds)


# Support staff work across orgs, and only through these two selectors (the desk is staff_required).
SUPPORT_SUB_STATUSES = ("FEASIBILITY_WAITING_UPLOAD", "QUOTATION_WAITING_UPLOAD")


def support_queue() -> QuerySet:
    """Tasking orders of ALL orgs waiting for a study or a quotation, oldest first."""
    from orders.models import Order, OrderType

    return (
        Order.objects.filter(
            order_type=OrderType.TASKING, status=Order.Status.PENDING, sub_status__in=SUPPORT_SUB_STATUSES
        )
        .select_related("org", "workspace", "data_product", "created_by")
        .prefetch_related("groups")
        .order_by("updated_at", "created_at")
    )


def support_order_get(*, order_id: object) -> Any:
    """Any org's tasking order, for the support desk only."""
    from orders.models import Order, OrderType

    oid = parse_uuid(order_id)
    order = (
        Order.objects.filter(id=oid, order_type=OrderType.TASKING)
        .select_related("org", "workspace", "data_product", "created_by")
        .prefetch_related("groups", "feasibility_studies__options", "quotations", "events")
        .first()
        if oid
        else None
    )
    if order is None:
        raise NotFound("Order not found.")
    return order


def template_provenance(*, org: Organization, metadata: dict | None) -> dict | None:
    """Which template an order was made from, for display: {"id", "name", "deleted"} from
    Order.metadata {"template_id", "template_name"}. The live name wins (it may have been
    renamed); a deleted template still answers, flagged; if the row is gone the stored name is used."""
    metadata = metadata or {}
    template_id = metadata.get("template_id")
    if not template_id:
        return None
    try:
        template = template_get_including_deleted(org=org, template_id=template_id)
    except NotFound:
        return {"id": str(template_id), "name": metadata.get("template_name") or "", "deleted": True}
    return {"id": str(template.id), "name": template.name, "deleted": template.is_deleted}
