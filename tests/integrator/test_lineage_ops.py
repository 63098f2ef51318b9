"""provenance.get (order → groups, decisions, deliveries → delivered captures, and back from a
capture), orders.tasking.groups.list, and usage.current: tenancy, roles, query counts."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from orders.fulfilment.models import DeliveredCapture
from tests.conftest import caller_for_key
from tests.factories import deliver, make_study, make_tasking_order, make_tasking_request
from tests.geometry import square_degrees

pytestmark = pytest.mark.django_db


@pytest.fixture
def delivered_order(org):
    order = make_tasking_order(
        org=org, aois=[square_degrees(151.0, -33.5, 0.05), square_degrees(152.0, -33.5, 0.05)]
    )
    g1, g2 = order.groups.order_by("position")
    deliver(order, g1, [square_degrees(151.0, -33.5, 0.03)], ref="batch-a")
    deliver(
        order, g2, [square_degrees(152.0, -33.5, 0.03), square_degrees(152.01, -33.5, 0.03)], ref="batch-b"
    )
    return order


def _pairs(body, kind):
    return {n["entity_id"] for n in body["nodes"] if n["entity_type"] == kind}


def test_down_from_an_order_reaches_groups_deliveries_and_captures(api_viewer, delivered_order):
    body = api_viewer.post(
        "provenance.get", {"entity_type": "order", "entity_id": str(delivered_order.pk), "direction": "down"}
    ).json()
    assert body["root"] == {"entity_type": "order", "entity_id": str(delivered_order.pk)}
    assert len(_pairs(body, "group")) == 2 and len(_pairs(body, "delivery")) == 2
    captures = {str(c.pk) for c in DeliveredCapture.objects.filter(order=delivered_order)}
    assert _pairs(body, "item") == captures and len(captures) == 3
    relations = {(e["src_type"], e["relation"], e["dst_type"]) for e in body["edges"]}
    assert relations == {
        ("order", "has_group", "group"),
        ("order", "delivered_in", "delivery"),
        ("group", "acquired_for", "item"),
        ("delivery", "contains", "item"),
    }
    assert {n["depth"] for n in body["nodes"] if n["entity_type"] == "item"} == {2}


def test_up_from_a_capture_reaches_its_group_batch_order_and_workspace(api_viewer, delivered_order):
    capture = DeliveredCapture.objects.filter(order=delivered_order).order_by("scene_id").first()
    body = api_viewer.post("provenance.get", {"entity_type": "item", "entity_id": str(capture.pk)}).json()
    assert body["direction"] == "up"
    assert _pairs(body, "group") == {str(capture.group_id)}
    assert _pairs(body, "delivery") == {str(capture.batch_id)}
    assert _pairs(body, "order") == {str(delivered_order.pk)}
    assert _pairs(body, "project") == {str(delivered_order.workspace_id)}
    # No sibling captures on the way up.
    assert _pairs(body, "item") == {str(capture.pk)}


def test_studies_are_in_a_tasking_requests_lineage(org, operator_user, staff_user, api_admin):
    order = make_tasking_request(org, operator_user)
    study = make_study(order, staff_user)
    down = api_admin.post(
        "provenance.get", {"entity_type": "order", "entity_id": str(order.pk), "direction": "down"}
    ).json()
    assert _pairs(down, "feasibility_study") == {str(study.pk)}
    node = next(n for n in down["nodes"] if n["entity_type"] == "feasibility_study")
    assert node["status"] == "PENDING"
    up = api_admin.post(
        "provenance.get",
        {"entity_type": "feasibility_study", "entity_id": str(study.pk), "direction": "both"},
    ).json()
    assert _pairs(up, "order") == {str(order.pk)} and _pairs(up, "project") == {str(order.workspace_id)}


def test_max_depth_stops_the_walk(api_viewer, delivered_order):
    body = api_viewer.post(
        "provenance.get",
        {"entity_type": "order", "entity_id": str(delivered_order.pk), "direction": "down", "max_depth": 1},
    ).json()
    assert not _pairs(body, "item") and len(_pairs(body, "group")) == 2


def test_another_orgs_order_or_capture_is_a_404(api_other, delivered_order):
    capture = DeliveredCapture.objects.filter(order=delivered_order).first()
    for kind, entity_id in (
        ("order", delivered_order.pk),
        ("item", capture.pk),
        ("project", delivered_order.workspace_id),
    ):
        response = api_other.post("provenance.get", {"entity_type": kind, "entity_id": str(entity_id)})
        assert response.status_code == 404, kind


def test_unknown_entity_types_and_bad_input_are_4xx(api_viewer):
    # The document declares the kinds (an enum): another is a 422 naming the field and the kinds.
    unknown = api_viewer.post("provenance.get", {"entity_type": "processing_job", "entity_id": "x"})
    assert unknown.status_code == 422, unknown.content
    [error] = unknown.json()["detail"]
    assert error["loc"] == ["body", "entity_type"] and "order" in error["msg"]
    assert (
        api_viewer.post(
            "provenance.get", {"entity_type": "order", "entity_id": "x", "direction": "sideways"}
        ).status_code
        == 422
    )
    assert (
        api_viewer.post("provenance.get", {"entity_type": "delivery", "entity_id": "9" * 30}).status_code
        == 404
    )


def test_provenance_query_count_is_bounded_by_depth_not_size(api_viewer, org):
    def count(order):
        with CaptureQueriesContext(connection) as ctx:
            api_viewer.post(
                "provenance.get", {"entity_type": "order", "entity_id": str(order.pk), "direction": "down"}
            )
        return len(ctx.captured_queries)

    small = make_tasking_order(org=org, aois=[square_degrees(151.0, -33.0, 0.05)])
    deliver(small, small.groups.get(), [square_degrees(151.0, -33.0, 0.03)], ref="s1")
    api_viewer.post("provenance.get", {"entity_type": "order", "entity_id": str(small.pk)})  # warm the token
    big = make_tasking_order(org=org, aois=[square_degrees(150.0 + i, -30.0, 0.05) for i in range(4)])
    for i, group in enumerate(big.groups.all()):
        deliver(
            big,
            group,
            [square_degrees(150.0 + i, -30.0, 0.02), square_degrees(150.01 + i, -30.0, 0.02)],
            ref=f"b{i}",
        )
    assert count(big) == count(small)


def test_tasking_groups_list_is_for_admins_and_keys_with_admin_read(
    api_admin, api_operator, org, delivered_order
):
    body = api_admin.post("orders.tasking.groups.list", {"order_id": str(delivered_order.pk)}).json()
    assert [g["name"] for g in body["groups"]] == ["AOI 1", "AOI 2"]
    assert (
        body["groups"][1]["captures_delivered"] == 2
        and body["groups"][0]["geometry"]["type"] == "MultiPolygon"
    )
    assert (
        api_operator.post("orders.tasking.groups.list", {"order_id": str(delivered_order.pk)}).status_code
        == 403
    )
    key = caller_for_key(org, scopes=["admin:read"])
    assert key.post("orders.tasking.groups.list", {"order_id": str(delivered_order.pk)}).status_code == 200
    assert (
        caller_for_key(org, scopes=["orders:read"])
        .post("orders.tasking.groups.list", {"order_id": str(delivered_order.pk)})
        .status_code
        == 403
    )


def test_tasking_groups_list_tenancy_and_query_count(api_admin, other_org, org):
    theirs = make_tasking_order(org=other_org, aois=[square_degrees(151.0, -33.0, 0.05)])
    assert api_admin.post("orders.tasking.groups.list", {"order_id": str(theirs.pk)}).status_code == 404
    small = make_tasking_order(org=org, aois=[square_degrees(151.0, -33.0, 0.05)])
    big = make_tasking_order(org=org, aois=[square_degrees(150.0 + i, -30.0, 0.05) for i in range(5)])
    api_admin.post("orders.tasking.groups.list", {"order_id": str(small.pk)})
    with CaptureQueriesContext(connection) as one:
        api_admin.post("orders.tasking.groups.list", {"order_id": str(small.pk)})
    with CaptureQueriesContext(connection) as five:
        assert (
            len(api_admin.post("orders.tasking.groups.list", {"order_id": str(big.pk)}).json()["groups"]) == 5
        )
    assert len(five.captured_queries) == len(one.captured_queries)


def test_usage_current_counts_this_months_orders_deliveries_and_credits(api_viewer, org, delivered_order):
    body = api_viewer.post("usage.current", {"organization_id": str(org.pk)}).json()
    assert body["orders"]["tasking"] == 1 and body["orders"]["placed"] == 1
    assert body["deliveries"] == {"batches": 2, "captures_delivered": 3, "captures_failed": 0}
    assert body["credits"]["committed"] == delivered_order.total_credits
    assert body["credits"]["reserved_now"] + body["credits"]["available_now"] == 100_000


def test_usage_current_of_another_org_is_a_404(api_viewer, other_org):
    assert api_viewer.post("usage.current", {"organization_id": str(other_org.pk)}).status_code == 404
    assert api_viewer.post("usage.current", {"organization_id": "nope"}).status_code == 404
    assert api_viewer.post("usage.current", {}).status_code == 422


def test_usage_current_query_count_does_not_grow_with_volume(api_viewer, org):
    body = {"organization_id": str(org.pk)}
    api_viewer.post("usage.current", body)
    with CaptureQueriesContext(connection) as empty:
        api_viewer.post("usage.current", body)
    order = make_tasking_order(org=org, aois=[square_degrees(150.0 + i, -30.0, 0.05) for i in range(3)])
    for i, group in enumerate(order.groups.all()):
        deliver(order, group, [square_degrees(150.0 + i, -30.0, 0.02)], ref=f"u{i}")
    with CaptureQueriesContext(connection) as busy:
        assert api_viewer.post("usage.current", body).json()["deliveries"]["captures_delivered"] == 3
    assert len(busy.captured_queries) == len(empty.captured_queries)
