"""Archive deliveries move from Order.metadata["deliveries"] (JSON) to DeliveryBatch +
DeliveredCapture rows, like tasking deliveries.

Forwards, per archive order: one provider batch (ref `legacy-metadata`) received when the order was
delivered, and one DeliveredCapture per delivered scene, on the group that holds the scene, with its
catalog footprint, acquisition time, cloud cover and collection, and the delivered href as its
`visual` asset. Entries that cannot become rows (a scene that is not in the order, no href) stay in
metadata: nothing stored is lost. Backwards: every archive order's delivered captures go back into
metadata["deliveries"] (and `delivered_at`), and their rows are removed.
"""

import uuid

from django.db import migrations
from django.utils.dateparse import parse_datetime

LEGACY_REF = "legacy-metadata"
COG = "image/tiff; application=geotiff; profile=cloud-optimized"


def _host(order, groups):
    if order.data_product_id:
        return order.data_product.host
    for group in groups:
        if group.data_product_id:
            return group.data_product.host
    return ""


def forwards(apps, schema_editor):
    Order = apps.get_model("orders", "Order")
    OrderGroup = apps.get_model("orders", "OrderGroup")
    DeliveryBatch = apps.get_model("orders", "DeliveryBatch")
    DeliveredCapture = apps.get_model("orders", "DeliveredCapture")
    orders = Order.objects.filter(order_type="archive", metadata__has_key="deliveries").select_related(
        "data_product"
    )
    for order in orders.iterator(chunk_size=200):
        deliveries = order.metadata.get("deliveries")
        if not isinstance(deliveries, dict) or not deliveries:
            continue
        groups = list(
            OrderGroup.objects.filter(order=order).select_related("data_product").prefetch_related("captures")
        )
        by_scene = {c.scene_id: (g, c) for g in groups for c in g.captures.all()}
        raw_when = order.metadata.get("delivered_at")
        received = (parse_datetime(raw_when) if isinstance(raw_when, str) else None) or order.updated_at
        batch, _ = DeliveryBatch.objects.get_or_create(
            order=order,
            ref=LEGACY_REF,
            defaults={
                "source": "provider",
                "provider": _host(order, groups),
                "received_at": received,
                "note": "Delivered before deliveries were stored as rows.",
            },
        )
        rows, left = [], {}
        for scene_id, delivery in deliveries.items():
            hit = by_scene.get(scene_id)
            href = delivery.get("href") if isinstance(delivery, dict) else None
            if hit is None or not isinstance(href, str) or not href:
                left[scene_id] = delivery
                continue
            group, capture = hit
            asset = {"href": href, "type": delivery.get("media_type") or COG, "roles": ["data", "visual"]}
            rows.append(
                DeliveredCapture(
                    id=uuid.uuid4(),
                    order=order,
                    group=group,
                    batch=batch,
                    scene_id=scene_id,
                    footprint=capture.footprint,
                    acquired_at=capture.acquired_at,
                    delivered_at=received,
                    cloud_cover=capture.cloud_cover,
                    status="delivered",
                    assets={"visual": asset},
                    properties={"collection": capture.collection},
                    source="provider",
                )
            )
        DeliveredCapture.objects.bulk_create(rows, ignore_conflicts=True)  # (order, scene) is unique
        metadata = dict(order.metadata)
        if left:
            metadata["deliveries"] = left
        else:
            metadata.pop("deliveries", None)
            metadata.pop("delivered_at", None)
        # .update(): no save() side effects (updated_at stays when it was delivered).
        Order.objects.filter(pk=order.pk).update(metadata=metadata)


def backwards(apps, schema_editor):
    Order = apps.get_model("orders", "Order")
    DeliveryBatch = apps.get_model("orders", "DeliveryBatch")
    DeliveredCapture = apps.get_model("orders", "DeliveredCapture")
    ids = (
        DeliveredCapture.objects.filter(order__order_type="archive").values_list("order_id", flat=True).distinct()
    )
    for order in Order.objects.filter(pk__in=list(ids)).iterator(chunk_size=200):
        captures = DeliveredCapture.objects.filter(order=order).select_related("batch")
        metadata = dict(order.metadata or {})
        deliveries = dict(metadata.get("deliveries") or {})
        latest = None
        for c in captures.filter(status="delivered").order_by("scene_id"):
            assets = c.assets or {}
            visual = assets.get("visual") or next(iter(assets.values()), {})
            deliveries[c.scene_id] = {"href": visual.get("href", ""), "media_type": visual.get("type") or COG}
            latest = max(latest, c.delivered_at) if latest else c.delivered_at
        if deliveries:
            metadata["deliveries"] = deliveries
            if latest is not None and "delivered_at" not in metadata:
                metadata["delivered_at"] = latest.isoformat()
        Order.objects.filter(pk=order.pk).update(metadata=metadata)
        captures.delete()
        DeliveryBatch.objects.filter(order=order).delete()


class Migration(migrations.Migration):
    dependencies = [("orders", "0006_orderevent_kind_cancel_settlement")]

    operations = [migrations.RunPython(forwards, backwards)]
