"""One fulfilment subsystem: a registry that refuses unknown hosts (the simulator only when settings
name it), archive deliveries stored as rows like tasking ones, one STAC builder for both order
types, manual recording for both, and the migrations that moved data out of Order.metadata."""

from __future__ import annotations

import json

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from geopera_web.billing.models import Charge
from orders.fulfilment.registry import UnknownProvider, adapter_get, is_configured
from orders.fulfilment.services import archive_order_sync, fulfilment_sync, manual_delivery_record
from orders.models import DataProduct, DeliveredCapture, DeliveryBatch, Order
from orders.placement import placer_for
from tests.factories import deliver, make_priced_capture, make_product, make_tasking_order, place_body
from tests.on_commit import besides_outbox

pytestmark = pytest.mark.django_db
AOI = (151.0, -33.0, 151.1, -32.9)


def test_an_unknown_host_is_an_error_never_the_simulator(settings):
    assert is_configured("geopera-sim")
    with pytest.raises(UnknownProvider) as exc:
        adapter_get("geopera-simm")
    assert exc.value.slug == "unknown-provider" and "geopera-simm" in exc.value.detail
    settings.FULFILMENT_ADAPTERS = {}
    assert not is_configured("geopera-sim")
    with pytest.raises(UnknownProvider):
        adapter_get("geopera-sim")


def test_a_product_with_a_mistyped_host_cannot_be_priced_or_placed(api_operator):
    product = make_product(pid="typo-product")
    DataProduct.objects.filter(pk=product.pk).update(host="geopera-simm")
    make_priced_capture(product=product, bounds=(151.1, -33.9, 151.2, -33.8), scene_id="TYPO-1")
    body = api_operator.post("orders.archive.estimate", {"captures": [{"id": "TYPO-1"}]}).json()
    assert body["groups"] == [] and body["errors"][0]["code"] == "unsupported_product"
    assert "no provider is configured" in body["errors"][0]["message"]
    assert api_operator.post("orders.archive.place", place_body("TYPO-1")).status_code == 422
    assert not Order.objects.exists()


def test_an_order_whose_host_loses_its_adapter_is_never_charged(placed_order, settings):
    settings.FULFILMENT_ADAPTERS = {}
    with pytest.raises(UnknownProvider):
        archive_order_sync(order_id=placed_order.pk)
    placed_order.refresh_from_db()
    assert placed_order.status == "processing" and not placed_order.provider_ref
    assert Charge.objects.get(pk=placed_order.charge_id).status == Charge.Status.AUTHORIZED


def test_archive_deliveries_are_rows_served_by_the_one_stac_builder(placed_order, org, api_operator):
    result = fulfilment_sync(order_id=placed_order.pk)
    assert result.new_batches == 1 and result.order.status == "fulfilled"
    batch = DeliveryBatch.objects.get(order=placed_order)
    assert (batch.source, batch.provider) == ("provider", "geopera-sim")
    rows = DeliveredCapture.objects.filter(order=placed_order).order_by("scene_id")
    assert [r.scene_id for r in rows] == ["SYD-A", "SYD-B"]
    assert all(r.group.order_id == placed_order.pk and r.assets["visual"]["href"] for r in rows)
    assert fulfilment_sync(order_id=placed_order.pk).new_batches == 0  # settled: nothing more

    archive = api_operator.post("orders.list_assets", {"order_id": str(placed_order.pk)}).json()
    tasking_order = make_tasking_order(org=org, aois=[AOI])
    deliver(tasking_order, tasking_order.groups.get(), [AOI], ref="t1")
    tasking = api_operator.post("orders.list_assets", {"order_id": str(tasking_order.pk)}).json()
    assert set(archive) == set(tasking)
    a_item, t_item = archive["features"][0], tasking["features"][0]
    assert set(t_item) <= set(a_item) and a_item["collection"] == "test-collection"
    assert {k for k in t_item["properties"] if k.startswith("geopera:")} == {
        k for k in a_item["properties"] if k.startswith("geopera:")
    }
    assert [link["rel"] for link in a_item["links"]] == [link["rel"] for link in t_item["links"]]


def test_support_records_an_archive_delivery_by_hand(
    placed_order, staff_user, api_operator, django_capture_on_commit_callbacks
):
    group = placed_order.groups.first()
    x0, y0, x1, y1 = group.geometry.extent
    item = {
        "type": "Feature",
        "stac_version": "1.0.0",
        "id": "HAND-1",
        "geometry": {"type": "Polygon", "coordinates": [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]]},
        "properties": {"datetime": "2026-03-01T00:30:00Z"},
        "assets": {"visual": {"href": "https://provider.example/HAND-1.tif", "type": "image/tiff"}},
    }
    with django_capture_on_commit_callbacks() as callbacks:
        capture = manual_delivery_record(
            order=placed_order, group_id=group.pk, upload=json.dumps(item).encode(), actor=staff_user
        )
    assert capture.source == "manual" and capture.created_by == staff_user
    assert besides_outbox(callbacks) == []  # archive orders have no coverage to recompute
    assert placed_order.events.filter(kind="delivery_recorded").count() == 1
    items = api_operator.post("orders.list_assets", {"order_id": str(placed_order.pk)}).json()["features"]
    assert [(i["id"], i["properties"]["geopera:source"]) for i in items] == [("HAND-1", "manual")]


def test_an_unknown_data_product_is_a_404_for_every_placer(api_operator):
    from geopera_web.errors import NotFound

    with pytest.raises(NotFound) as exc:
        placer_for(data_product_id="nope")
    assert exc.value.slug == "unknown-data-product"
    body = {"workspaceId": "x", "dataProduct": "nope", "featureCollection": {}}
    assert api_operator.post("orders.place", body).status_code == 404
    assert api_operator.post("orders.estimate", body).status_code == 404


# --- the migrations that moved data out of Order.metadata ----------------------------------------


def _migrate(target):
    executor = MigrationExecutor(connection)
    executor.migrate([target])
    return executor.loader.project_state([target]).apps


def _latest():
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


@pytest.mark.django_db(transaction=True)
def test_archive_deliveries_migrate_from_metadata_to_rows_and_back(placed_order):
    try:
        old = _migrate(("orders", "0006_orderevent_kind_cancel_settlement")).get_model("orders", "Order")
        deliveries = {
            "SYD-A": {"href": "https://x.example/a.tif", "media_type": "image/tiff"},
            "SYD-B": {"href": "https://x.example/b.tif", "media_type": "image/tiff"},
            "NOT-IN-ORDER": {"href": "https://x.example/z.tif", "media_type": "image/tiff"},
        }
        metadata = {"deliveries": deliveries, "delivered_at": "2026-03-02T10:00:00+00:00", "keep": 1}
        old.objects.filter(pk=placed_order.pk).update(metadata=metadata)

        new = _migrate(("orders", "0007_archive_deliveries_as_rows"))
        rows = new.get_model("orders", "DeliveredCapture").objects.filter(order_id=placed_order.pk)
        assert sorted(r.scene_id for r in rows) == ["SYD-A", "SYD-B"]
        a = rows.get(scene_id="SYD-A")
        assert a.assets["visual"] == {
            "href": "https://x.example/a.tif",
            "type": "image/tiff",
            "roles": ["data", "visual"],
        }
        assert a.delivered_at.isoformat() == "2026-03-02T10:00:00+00:00" and a.footprint.equals(
            # The historical model: the current one has columns a later migration adds.
            new.get_model("orders", "Capture").objects.get(scene_id="SYD-A").footprint
        )
        moved = new.get_model("orders", "Order").objects.get(pk=placed_order.pk).metadata
        # What could not become a row stays where it was: nothing stored is lost.
        assert moved["deliveries"] == {"NOT-IN-ORDER": deliveries["NOT-IN-ORDER"]} and moved["keep"] == 1

        back = _migrate(("orders", "0006_orderevent_kind_cancel_settlement"))
        restored = back.get_model("orders", "Order").objects.get(pk=placed_order.pk).metadata
        assert restored["deliveries"] == deliveries and restored["keep"] == 1
        assert (
            not back.get_model("orders", "DeliveredCapture").objects.filter(order_id=placed_order.pk).exists()
        )
    finally:
        _latest()


@pytest.mark.django_db(transaction=True)
def test_the_idempotency_key_migrates_to_a_column_and_back(placed_order):
    try:
        old = _migrate(("orders", "0007_archive_deliveries_as_rows")).get_model("orders", "Order")
        old.objects.filter(pk=placed_order.pk).update(metadata={"idempotency_key": "form-1", "demo": "x"})
        new = _migrate(("orders", "0008_order_idempotency_key_column")).get_model("orders", "Order")
        row = new.objects.get(pk=placed_order.pk)
        assert (row.idempotency_key, row.metadata) == ("form-1", {"demo": "x"})
        back = _migrate(("orders", "0007_archive_deliveries_as_rows")).get_model("orders", "Order")
        assert back.objects.get(pk=placed_order.pk).metadata == {"demo": "x", "idempotency_key": "form-1"}
    finally:
        _latest()
