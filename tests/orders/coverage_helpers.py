"""Helpers for deliveries and coverage tests: ACTIVE tasking orders built directly (no tasking flow),
with AOI groups and a charge authorized through the billing service, as acceptance would leave them."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib.gis.geos import GEOSGeometry, MultiPolygon, Polygon
from django.utils import timezone

from geopera_web.accounts.models import Workspace
from geopera_web.billing.services import charge_authorize
from orders.fulfilment.delivery import BatchData, CaptureData
from orders.fulfilment.services import delivery_batch_record
from orders.models import DataProduct, Order, OrderGroup, OrderType
from orders.services import order_transition


def mpoly(wkt_or_coords: Any) -> MultiPolygon:
    """A MultiPolygon from WKT, or from a box (minx, miny, maxx, maxy)."""
    if isinstance(wkt_or_coords, tuple):
        geom = Polygon.from_bbox(wkt_or_coords)
    else:
        geom = GEOSGeometry(wkt_or_coords)
    if geom.geom_type == "Polygon":
        geom = MultiPolygon(geom)
    geom.srid = 4326
    return geom


def tasking_product() -> DataProduct:
    product, _ = DataProduct.objects.get_or_create(
        id="sim-tasking-50cm",
        defaults={
            "name": "Simulated tasking 50 cm",
            "order_type": OrderType.TASKING,
            "collection": "sim-tasking",
            "credits_per_km2": 1000,
            "min_area_km2": 25,
        },
    )
    return product


def make_tasking_order(
    *,
    org,
    aois: list[Any],
    credits: list[int] | None = None,
    status: str = Order.Status.ACTIVE,
    params: dict | None = None,
    metadata: dict | None = None,
    names: list[str] | None = None,
    authorize: bool = True,
    charged: int | None = None,
) -> Order:
    """`charged` is what the org accepted to pay (a quotation), when it differs from the groups'
    list prices in `credits`."""
    product = tasking_product()
    workspace = Workspace.objects.filter(org=org).first() or Workspace.objects.create(
        org=org, name="Default workspace", is_default=True
    )
    credits = credits or [10_000] * len(aois)
    now = timezone.now()
    order = Order.objects.create(
        org=org,
        workspace=workspace,
        order_type=OrderType.TASKING,
        status=Order.Status.PENDING,
        display_name="Test tasking order",
        data_product=product,
        billing_mode=org.billing_mode,
        total_credits=sum(credits) if charged is None else charged,
        params={
            "acquisitionStart": (now - timedelta(days=1)).isoformat().replace("+00:00", "Z"),
            "acquisitionEnd": (now + timedelta(days=30)).isoformat().replace("+00:00", "Z"),
            **(params or {}),
        },
        metadata=metadata or {},
    )
    for i, aoi in enumerate(aois):
        geom = mpoly(aoi)
        OrderGroup.objects.create(
            order=order,
            position=i,
            name=(names[i] if names else f"AOI {i + 1}"),
            data_product=product,
            geometry=geom,
            area_km2=1.0,
            billed_area_km2=1.0,
            credits=credits[i],
        )
    if authorize:
        charge = charge_authorize(org=org, credits=order.total_credits, reference=f"order:{order.pk}")
        order.charge = charge
        order.save(update_fields=["charge"])
    if status == Order.Status.ACTIVE:
        order_transition(order=order, to=Order.Status.ACTIVE, message="Quotation accepted (test).")
    return order


def deliver(order: Order, group: OrderGroup, footprints: list[Any], *, ref: str, status: str = "delivered"):
    """Record one provider batch with the given footprints for `group`."""
    captures = tuple(
        CaptureData(
            group_id=group.pk,
            scene_id=f"{ref}-{i}",
            footprint=mpoly(fp),
            acquired_at=timezone.now() - timedelta(hours=1),
            cloud_cover=5.0,
            status=status,
            assets={"visual": {"href": f"https://example.test/{ref}-{i}.tif", "type": "image/tiff"}},
        )
        for i, fp in enumerate(footprints)
    )
    return delivery_batch_record(
        order=order, batch=BatchData(ref=ref, available_at=timezone.now(), captures=captures), provider="test"
    )
