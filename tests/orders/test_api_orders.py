from __future__ import annotations

import uuid

import pytest

from geopera_web.accounts.models import Workspace
from geopera_web.billing.models import Charge, Wallet
from orders.fulfilment.services import archive_order_sync
from orders.models import Order
from orders.services import order_tags_merge
from tests.factories import make_priced_capture, place_body

pytestmark = pytest.mark.django_db


def _problem(response, status):
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    return response.json()


def test_get_accepts_order_id_and_id_alias(placed_order, api_viewer):
    for key in ("order_id", "id"):
        response = api_viewer.post("orders.get", {key: str(placed_order.pk)})
        assert response.status_code == 200, response.content
        body = response.json()
        assert body["id"] == str(placed_order.pk) and body["status"] == "processing"
        assert body["groups"][0]["geometry"]["type"] == "MultiPolygon"
    # POST is the one way in: the GET form is a 405 that says so (the document declares POST only).
    got = api_viewer.get("/v1/op/orders.get", id=str(placed_order.pk))
    assert got.status_code == 405 and got["Allow"] == "POST, OPTIONS"
    assert "POST" in got.json()["detail"]


def test_get_without_id_is_422(api_viewer):
    assert api_viewer.post("orders.get", {}).status_code == 422


@pytest.mark.parametrize(
    "op,body",
    [
        ("orders.get", {"order_id": "{id}"}),
        ("orders.update", {"order_id": "{id}", "tags": ["x"]}),
        ("orders.cancel", {"order_id": "{id}"}),
        ("orders.list_assets", {"order_id": "{id}"}),
        ("orders.list", {"workspaceId": "{ws}"}),
    ],
)
def test_other_orgs_ids_are_404(placed_order, api_other, op, body):
    filled = {
        k: (v.format(id=placed_order.pk, ws=placed_order.workspace_id) if isinstance(v, str) else v)
        for k, v in body.items()
    }
    _problem(api_other.post(op, filled), 404)
    placed_order.refresh_from_db()
    assert placed_order.status == "processing" and placed_order.tags == []


def test_unknown_and_malformed_order_ids_are_404(api_operator):
    _problem(api_operator.post("orders.get", {"order_id": str(uuid.uuid4())}), 404)
    _problem(api_operator.post("orders.get", {"order_id": "nope"}), 404)


def test_update_merges_tags_as_a_deduplicated_union(placed_order, api_operator):
    api_operator.post("orders.update", {"order_id": str(placed_order.pk), "tags": ["flood", "nsw"]})
    body = api_operator.post(
        "orders.update", {"order_id": str(placed_order.pk), "tags": ["nsw", " urgent ", ""]}
    ).json()
    assert body["tags"] == ["flood", "nsw", "urgent"]
    assert body["id"] == str(placed_order.pk)


def test_cancel_releases_reservation_and_second_cancel_is_409(placed_order, api_operator, org):
    reserved = placed_order.total_credits
    assert Wallet.objects.get(org=org).reserved_credits == reserved
    response = api_operator.post("orders.cancel", {"order_id": str(placed_order.pk)})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["orderId"] == str(placed_order.pk) and body["status"] == "cancelled"
    assert body["moneyAction"] == "release" and body["credits"] == reserved
    wallet = Wallet.objects.get(org=org)
    assert wallet.reserved_credits == 0 and wallet.available_credits == 100_000
    again = _problem(api_operator.post("orders.cancel", {"order_id": str(placed_order.pk)}), 409)
    assert again["current_status"] == "cancelled"


def test_cancel_of_fulfilled_order_is_409_and_keeps_the_money(placed_order, api_operator):
    archive_order_sync(order_id=placed_order.pk)
    body = _problem(api_operator.post("orders.cancel", {"order_id": str(placed_order.pk)}), 409)
    assert body["current_status"] == "fulfilled"
    assert Charge.objects.get(pk=placed_order.charge_id).status == "captured"


def test_cancel_with_idempotency_key_replays(placed_order, api_operator):
    headers = {"Idempotency-Key": "cancel-1"}
    first = api_operator.post("orders.cancel", {"order_id": str(placed_order.pk)}, headers=headers)
    second = api_operator.post("orders.cancel", {"order_id": str(placed_order.pk)}, headers=headers)
    assert first.status_code == second.status_code == 200
    assert first.content == second.content


def test_viewer_cannot_cancel(placed_order, api_viewer):
    _problem(api_viewer.post("orders.cancel", {"order_id": str(placed_order.pk)}), 403)


def test_list_assets_of_fulfilled_order_is_stac_with_provenance(placed_order, api_viewer):
    empty = api_viewer.post("orders.list_assets", {"order_id": str(placed_order.pk)}).json()
    assert empty["type"] == "FeatureCollection" and empty["features"] == []
    archive_order_sync(order_id=placed_order.pk)
    body = api_viewer.post("orders.list_assets", {"order_id": str(placed_order.pk)}).json()
    assert [f["id"] for f in body["features"]] == ["SYD-A", "SYD-B"]
    item = body["features"][0]
    assert item["assets"]["visual"]["href"].startswith("https://")
    assert item["properties"]["geopera:order_id"] == str(placed_order.pk)
    derived = next(link for link in item["links"] if link["rel"] == "derived_from")
    assert derived["href"].endswith("/v1/op/orders.get") and derived["method"] == "POST"
    assert derived["body"] == {"order_id": str(placed_order.pk)}
    # Following the link as it says (POST with its body) gives the order.
    followed = api_viewer.post("orders.get", derived["body"])
    assert followed.status_code == 200 and followed.json()["id"] == str(placed_order.pk)
    assert item["geometry"]["type"] == "MultiPolygon" and item["stac_version"] == "1.0.0"


# --- list ------------------------------------------------------------------------------------------


@pytest.fixture
def many_orders(sydney_captures, api_operator, org, product):
    extra_ws = Workspace.objects.create(org=org, name="Field team")
    ids = []
    for i in range(5):
        body = place_body(
            "SYD-A" if i % 2 else "SYD-C",
            displayName=f"Survey {i}" if i < 4 else "Harbour",
            projectId=str(extra_ws.pk) if i == 4 else None,
        )
        ids.append(api_operator.post("orders.archive.place", body).json()["id"])
    order_tags_merge(org=org, actor=None, order_id=ids[0], tags=["flood", "nsw"])
    order_tags_merge(org=org, actor=None, order_id=ids[1], tags=["flood"])
    archive_order_sync(order_id=ids[2])
    return ids, extra_ws


def _list(caller, **body):
    response = caller.post("orders.list", body)
    assert response.status_code == 200, response.content
    return response.json()


def test_list_pages_and_totals(many_orders, api_viewer):
    page0 = _list(api_viewer, size=2, page=0)
    assert (page0["totalElements"], page0["totalPages"], page0["page"], page0["size"]) == (5, 3, 0, 2)
    assert len(page0["content"]) == 2
    last = _list(api_viewer, size=2, page=2)
    assert len(last["content"]) == 1
    beyond = _list(api_viewer, size=2, page=9)
    assert beyond["content"] == [] and beyond["totalElements"] == 5
    all_ids = [o["id"] for p in range(3) for o in _list(api_viewer, size=2, page=p)["content"]]
    assert sorted(all_ids) == sorted(many_orders[0])


def test_list_filters(many_orders, api_viewer, product):
    ids, ws = many_orders
    assert [o["id"] for o in _list(api_viewer, workspaceId=str(ws.pk))["content"]] == [ids[4]]
    assert {o["id"] for o in _list(api_viewer, tags="flood")["content"]} == {ids[0], ids[1]}
    assert [o["id"] for o in _list(api_viewer, tags="flood,nsw")["content"]] == [ids[0]]
    assert [o["id"] for o in _list(api_viewer, status="fulfilled")["content"]] == [ids[2]]
    assert _list(api_viewer, status="fulfilled,processing")["totalElements"] == 5
    assert [o["id"] for o in _list(api_viewer, displayName="harb")["content"]] == [ids[4]]
    assert _list(api_viewer, type="archive")["totalElements"] == 5
    assert _list(api_viewer, type="tasking")["totalElements"] == 0
    assert _list(api_viewer, orderIds=f"{ids[0]},{ids[3]}")["totalElements"] == 2
    assert _list(api_viewer, dataProductIds=product.pk)["totalElements"] == 5
    assert _list(api_viewer, dataProductIds="other-product")["totalElements"] == 0
    assert _list(api_viewer, subStatus="QUOTATION_ACCEPTED")["totalElements"] == 0


def test_list_sorts(many_orders, api_viewer):
    newest_first = [o["id"] for o in _list(api_viewer, sort="createdAt,desc")["content"]]
    oldest_first = [o["id"] for o in _list(api_viewer, sort="createdAt,asc")["content"]]
    assert newest_first == list(reversed(oldest_first)) == list(reversed(many_orders[0]))
    by_status = [o["status"] for o in _list(api_viewer, sort="status,asc")["content"]]
    assert by_status == sorted(by_status)


@pytest.mark.parametrize(
    "body,loc",
    [
        ({"sort": "price,desc"}, "sort"),
        ({"sort": "createdAt,sideways"}, "sort"),
        ({"status": "lost"}, "status"),
        ({"type": "banana"}, "type"),
        ({"orderIds": "not-a-uuid"}, "orderIds"),
        ({"size": 0}, "size"),
        ({"page": -1}, "page"),
    ],
)
def test_list_bad_input_is_422(api_viewer, body, loc):
    response = api_viewer.post("orders.list", body)
    assert response.status_code == 422, response.content
    assert ["body", loc] in [d["loc"] for d in response.json()["detail"]]


def test_list_size_is_capped_at_100(api_viewer):
    assert _list(api_viewer, size=1000)["size"] == 100


def test_list_and_get_query_counts_do_not_grow_with_orders(
    sydney_captures, api_operator, org, product, django_assert_max_num_queries
):
    from geopera_web.billing.services import wallet_topup

    wallet_topup(org=org, credits=1_000_000)
    for _ in range(3):
        api_operator.post("orders.archive.place", place_body("SYD-A", "SYD-B"))

    def run():
        return _list(api_operator, size=50)

    # Auth (token + membership + last-use) and throttling are fixed costs; the rest must not grow.
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as small:
        assert run()["totalElements"] == 3
    for i in range(6):
        make_priced_capture(
            product=product, bounds=(151 + i * 0.01, -34, 151.05 + i * 0.01, -33.95), scene_id=f"X{i}"
        )
        api_operator.post("orders.archive.place", place_body("SYD-A", f"X{i}", splitByDate=True))
    with CaptureQueriesContext(connection) as big:
        assert run()["totalElements"] == 9
    assert len(small.captured_queries) > 0
    assert len(big.captured_queries) <= len(small.captured_queries)
    with django_assert_max_num_queries(12):
        run()


def test_estimate_query_count_is_constant(product, api_operator, django_assert_max_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    ids = [
        make_priced_capture(product=product, bounds=(151 + i * 0.01, -34, 151.03 + i * 0.01, -33.97)).scene_id
        for i in range(30)
    ]
    with CaptureQueriesContext(connection) as one:
        api_operator.post("orders.archive.estimate", {"captures": [{"id": ids[0]}]})
    with CaptureQueriesContext(connection) as many:
        body = api_operator.post(
            "orders.archive.estimate", {"captures": [{"id": i} for i in ids], "splitByDate": True}
        ).json()
    assert 0 < len(many.captured_queries) <= len(one.captured_queries)
    with django_assert_max_num_queries(8):
        api_operator.post("orders.archive.estimate", {"captures": [{"id": i} for i in ids]})
    assert len(body["groups"]) == 1 and not body["errors"]


def test_orders_of_another_org_never_listed(placed_order, api_other):
    assert _list(api_other)["totalElements"] == 0


def test_order_status_values_on_the_wire(placed_order, api_viewer):
    assert _list(api_viewer)["content"][0]["status"] in Order.Status.values
