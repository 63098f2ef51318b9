"""Reads of the tasking configuration. Templates are always org-scoped: another org's template and
a missing one are the same 404. The sensor catalog is global (the same for every org)."""

from __future__ import annotations

from django.db.models import F, Q, QuerySet

from geopera_web.accounts.models import Organization
from geopera_web.errors import NotFound, parse_uuid

from .models import Sensor, TaskingProduct, TaskingTemplate


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
