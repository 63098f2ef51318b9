"""Placing tasking requests: orders.place / orders.tasking.place / estimates / geometry checks / drafts."""

from __future__ import annotations

import pytest

from orders.models import Order
from tasking.services import tasking_draft_save, tasking_order_place
from tests.tasking.flow_helpers import MANUAL_PRODUCT, bowtie, fc, params, square

pytestmark = pytest.mark.django_db


def place_body(org, *geoms, product=MANUAL_PRODUCT, **overrides):
    return {
        "workspaceId": str(org.workspaces.first().id),
        "dataProduct": product,
        "params": params(),
        "featureCollection": fc(*(geoms or [square()])),
        **overrides,
    }


def test_orders_place_queues_feasibility_with_one_group_per_feature(api_operator, org):
    r = api_operator.post("orders.place", place_body(org, square(), square(lon=150.0)))
    assert r.status_code == 200, r.content
    body = r.json()
    assert (body["status"], body["subStatus"]) == ("pending", "FEASIBILITY_WAITING_UPLOAD")
    assert len(body["groups"]) == 2
    order = Order.objects.get(id=body["id"])
    assert order.order_type == "tasking" and order.groups.count() == 2
    assert order.events.filter(to_status="pending/FEASIBILITY_WAITING_UPLOAD").exists()
    # ~144 km² each, above the 100 km² minimum: billed by area at 4200 cr/km²
    assert 130 < order.groups.first().area_km2 < 160


def test_tasking_place_answers_202(api_operator, org):
    r = api_operator.post("orders.tasking.place", place_body(org), route=True)
    assert r.status_code == 202, r.content
    assert r.json()["subStatus"] == "FEASIBILITY_WAITING_UPLOAD"


def test_tasking_place_with_missing_fields_is_422(api_operator):
    r = api_operator.post("orders.tasking.place", {"params": {}})
    assert r.status_code == 422
    locs = [e["loc"] for e in r.json()["detail"]]
    assert ["body", "workspaceId"] in locs and ["body", "dataProduct"] in locs


def test_self_intersecting_feature_is_422_naming_it_with_the_made_valid_shape(api_operator, org):
    r = api_operator.post("orders.place", place_body(org, square(), bowtie()))
    assert r.status_code == 422
    err = r.json()["detail"][0]
    assert err["loc"] == ["body", "featureCollection", "features", 1, "geometry"]
    assert "feature 2 self-intersects" in err["msg"] and "made-valid shape" in err["msg"]
    assert err["suggestedGeometry"]["type"] == "MultiPolygon"
    assert not Order.objects.exists()


def test_oversize_feature_is_422_suggesting_a_split(api_operator, org):
    r = api_operator.post("orders.place", place_body(org, square(km=60)))
    assert r.status_code == 422
    assert "split it into smaller areas" in r.json()["detail"][0]["msg"]


def test_unclosed_ring_and_point_geometry_are_refused(api_operator, org):
    ring = square()["coordinates"][0][:-1]
    r = api_operator.post(
        "orders.place",
        place_body(org, {"type": "Polygon", "coordinates": [ring]}, {"type": "Point", "coordinates": [1, 2]}),
    )
    assert r.status_code == 422
    types = [e["type"] for e in r.json()["detail"]]
    assert types == ["value_error.ring_not_closed", "value_error.geometry_type"]


def test_bad_params_are_422_naming_the_field(api_operator, org):
    body = place_body(org)
    body["params"]["cloudCoverage"] = 400
    r = api_operator.post("orders.place", body)
    assert r.status_code == 422
    assert ["body", "params", "cloudCoverage"] in [e["loc"] for e in r.json()["detail"]]


def test_viewer_and_other_orgs_workspace_cannot_place(api_viewer, api_operator, org, other_org):
    assert api_viewer.post("orders.place", place_body(org)).status_code == 403
    body = place_body(org, workspaceId=str(other_org.workspaces.first().id))
    assert api_operator.post("orders.place", body).status_code == 404


def test_orders_estimate_prices_each_feature_and_lists_errors(api_operator):
    r = api_operator.post(
        "orders.estimate",
        {"dataProduct": MANUAL_PRODUCT, "featureCollection": fc(square(km=5), square(km=12), bowtie())},
    )
    assert r.status_code == 200, r.content
    body = r.json()
    assert [g["index"] for g in body["groups"]] == [0, 1]
    small = body["groups"][0]
    assert small["billedAreaKm2"] == 100 and small["credits"] == 100 * 4200  # product minimum
    assert body["errors"][0]["index"] == 2
    assert body["totalCredits"] == sum(g["credits"] for g in body["groups"])
    assert body["totalAud"] == body["totalCredits"] / 100


def test_tasking_estimate_uses_camel_case_totals_and_per_group_errors(api_operator):
    r = api_operator.post(
        "orders.tasking.estimate",
        {
            "groups": [
                {"dataProduct": MANUAL_PRODUCT, "geometry": square()},
                {"dataProduct": "no-such-product", "geometry": square()},
            ]
        },
    )
    assert r.status_code == 200
    body = r.json()
    assert set(body) >= {"groups", "errors", "totalCredits", "totalAud"}
    assert len(body["groups"]) == 1 and body["errors"][0]["index"] == 1


def test_feasibility_check_gives_reasons_per_feature(api_operator):
    r = api_operator.post(
        "orders.tasking.feasibility_check",
        {"dataProduct": MANUAL_PRODUCT, "featureCollection": fc(square()), "params": params(cloudCoverage=5)},
    )
    assert r.status_code == 200
    body = r.json()
    assert body["needsStudy"] is True
    codes = {x["code"] for x in body["features"][0]["reasons"]}
    assert {"manual_feasibility_sensor", "cloud_beyond_auto_limit"} <= codes


def test_opportunities_are_empty_for_manual_feasibility_sensors(api_operator):
    r = api_operator.post(
        "orders.tasking.opportunities_list",
        {"dataProduct": MANUAL_PRODUCT, "featureCollection": fc(square()), "params": params()},
    )
    assert r.status_code == 200
    assert r.json()["opportunities"] == [] and r.json()["feasibility"] == "manual"


def test_draft_is_saved_and_then_placed(org, operator_user):
    draft = tasking_draft_save(
        org=org,
        actor=operator_user,
        data_product_id=MANUAL_PRODUCT,
        params={"displayName": "Half done"},
        feature_collection=fc(square()),
    )
    assert draft.status == Order.Status.DRAFT and draft.groups.count() == 1
    placed = tasking_order_place(
        org=org,
        actor=operator_user,
        data_product_id=MANUAL_PRODUCT,
        params=params(),
        feature_collection=fc(square(), square(lon=150)),
        draft_id=draft.id,
    )
    assert placed.id == draft.id
    placed.refresh_from_db()
    assert placed.status == Order.Status.PENDING and placed.groups.count() == 2
    assert placed.events.filter(kind="status_changed", from_status="draft").exists()


def test_page_idempotency_key_places_once(org, operator_user):
    kw = {
        "org": org,
        "actor": operator_user,
        "data_product_id": MANUAL_PRODUCT,
        "params": params(),
        "feature_collection": fc(square()),
        "idempotency_key": "k-1",
    }
    assert tasking_order_place(**kw).id == tasking_order_place(**kw).id
    assert Order.objects.count() == 1


def test_the_page_key_is_a_column_unique_per_org(org, other_org, operator_user, other_admin):
    from django.db import IntegrityError, transaction

    kw = {"data_product_id": MANUAL_PRODUCT, "params": params(), "feature_collection": fc(square())}
    mine = tasking_order_place(org=org, actor=operator_user, idempotency_key="k-1", **kw)
    theirs = tasking_order_place(org=other_org, actor=other_admin, idempotency_key="k-1", **kw)
    assert mine.id != theirs.id  # the key is per org
    assert mine.idempotency_key == "k-1" and "idempotency_key" not in mine.metadata
    with pytest.raises(IntegrityError), transaction.atomic():
        Order.objects.filter(pk=theirs.pk).update(org=org)


def test_opportunities_for_an_automatic_sensor_are_real_sgp4_passes_inside_the_window(api_operator):
    from tests.tasking.flow_helpers import AUTO_PRODUCT

    p = params()
    r = api_operator.post(
        "orders.tasking.opportunities_list",
        {"dataProduct": AUTO_PRODUCT, "featureCollection": fc(square()), "params": p},
    )
    assert r.status_code == 200
    opps = r.json()["opportunities"]
    assert opps, "Pléiades passes over Sydney within a month"
    assert all(p["acquisitionStart"] <= o["start"] < o["end"] <= p["acquisitionEnd"] for o in opps)
    assert all(o["offNadirDeg"] <= 25 and o["sunElevationDeg"] >= 10 for o in opps)
    assert {o["noradId"] for o in opps} <= {38012, 39019}
    check = api_operator.post(
        "orders.tasking.feasibility_check",
        {"dataProduct": AUTO_PRODUCT, "featureCollection": fc(square()), "params": p},
    ).json()
    assert check["needsStudy"] is False and check["features"][0]["predictedPasses"] == len(opps)
