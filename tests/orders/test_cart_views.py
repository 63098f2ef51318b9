from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from django.test import Client
from django.utils import timezone

from geopera_web.accounts.models import Workspace
from geopera_web.billing.gateways import TestGateway
from geopera_web.billing.models import Charge, LedgerEntry
from orders.models import Cart, CartItem, Order
from tests.factories import make_org, make_user
from tests.geometry import geojson_box

pytestmark = pytest.mark.django_db
HX = {"HX-Request": "true"}


@pytest.fixture
def operator_client(operator_user):
    client = Client()
    client.force_login(operator_user)
    return client


def _state(response) -> dict:
    html = response.content.decode()
    start = html.index('<script id="cart-state" type="application/json">') + len(
        '<script id="cart-state" type="application/json">'
    )
    return json.loads(html[start : html.index("</script>", start)])


def test_included_partial_without_context_lazy_loads_the_panel(operator_client):
    from django.template.loader import render_to_string

    html = render_to_string("orders/_cart_panel.html", {})
    assert 'hx-get="/archive/cart/"' in html and "cart.js" in html
    response = operator_client.get("/archive/cart/")
    assert response.status_code == 200
    assert "Your cart is empty" in response.content.decode()


def test_toggle_adds_and_removes_and_cart_survives_logout(
    sydney_captures, operator_client, operator_user, org
):
    response = operator_client.post("/archive/cart/toggle/", {"capture_id": "SYD-A"}, headers=HX)
    assert response.status_code == 200
    assert _state(response)["captureIds"] == ["SYD-A"]
    operator_client.post("/archive/cart/toggle/", {"capture_id": "SYD-B"}, headers=HX)
    operator_client.logout()
    again = Client()
    again.force_login(operator_user)
    panel = again.get("/archive/cart/")
    assert _state(panel)["captureIds"] == ["SYD-A", "SYD-B"]
    assert 'id="cart-estimate"' in panel.content.decode()
    removed = again.post("/archive/cart/toggle/", {"capture_id": "SYD-A"}, headers=HX)
    assert _state(removed)["captureIds"] == ["SYD-B"]


def test_cart_is_per_user_and_per_org(sydney_captures, operator_client, org, admin_user):
    operator_client.post("/archive/cart/toggle/", {"capture_id": "SYD-A"})
    admin = Client()
    admin.force_login(admin_user)
    assert _state(admin.get("/archive/cart/"))["captureIds"] == []
    other = make_org(name="Elsewhere")
    stranger = make_user(org=other, role="admin")
    c = Client()
    c.force_login(stranger)
    assert _state(c.get("/archive/cart/"))["captureIds"] == []


def test_unknown_capture_toggle_is_a_404_toast(operator_client):
    response = operator_client.post("/archive/cart/toggle/", {"capture_id": "NOPE"}, headers=HX)
    assert response.status_code == 404
    assert response["HX-Retarget"] == "#toasts"


def test_clip_to_aoi_bills_footprint_intersection(sydney_captures, operator_client):
    operator_client.post("/archive/cart/toggle/", {"capture_id": "SYD-A"})
    whole = _state(operator_client.get("/archive/cart/"))["totalCredits"]
    refused = operator_client.post("/archive/cart/items/SYD-A/clip/", {"clip": "1"}, headers=HX)
    assert refused.status_code == 400  # no AOI yet
    operator_client.post(
        "/archive/cart/aoi/", {"geometry": json.dumps(geojson_box(151.15, -33.95, 151.30, -33.80))}
    )
    clipped = _state(operator_client.post("/archive/cart/items/SYD-A/clip/", {"clip": "1"}))
    assert clipped["clipped"] == ["SYD-A"]
    assert clipped["totalCredits"] < whole
    item = CartItem.objects.get()
    assert item.clip_geometry is not None
    unclipped = _state(operator_client.post("/archive/cart/items/SYD-A/clip/", {"clip": "0"}))
    assert unclipped["totalCredits"] == whole


def test_bad_aoi_is_a_400_with_a_message(operator_client):
    response = operator_client.post(
        "/archive/cart/aoi/", {"geometry": '{"type": "Point", "coordinates": [1, 2]}'}, headers=HX
    )
    assert response.status_code == 400
    assert "Polygon" in response.content.decode()
    assert operator_client.post("/archive/cart/aoi/", {"geometry": "{nope"}, headers=HX).status_code == 400


def test_split_by_date_toggle_changes_groups(sydney_captures, operator_client):
    operator_client.post("/archive/cart/toggle/", {"capture_id": "SYD-A"})
    operator_client.post("/archive/cart/toggle/", {"capture_id": "SYD-C"})
    one = operator_client.get("/archive/cart/").content.decode()
    assert one.count('class="cart-group"') == 1
    split = operator_client.post("/archive/cart/split/", {"splitByDate": "true"}).content.decode()
    assert split.count('class="cart-group"') == 2
    assert Cart.objects.get().split_by_date is True


def test_panel_shows_error_next_to_unpriceable_capture_and_disables_place(sydney_captures, operator_client):
    from orders.models import DataProduct

    operator_client.post("/archive/cart/toggle/", {"capture_id": "SYD-A"})
    DataProduct.objects.update(is_active=False)
    html = operator_client.get("/archive/cart/").content.decode()
    assert 'data-code="unsupported_product"' in html
    assert 'id="cart-place" disabled' in html


def test_panel_shows_wallet_after_order(sydney_captures, operator_client):
    operator_client.post("/archive/cart/toggle/", {"capture_id": "SYD-A"})
    html = operator_client.get("/archive/cart/").content.decode()
    assert "Wallet after this order" in html


def test_panel_query_count_is_constant(
    sydney_captures, operator_client, product, django_assert_max_num_queries
):
    from tests.factories import make_priced_capture

    operator_client.get("/archive/cart/")  # warm the session/org lookups
    for i in range(15):
        make_priced_capture(
            product=product, bounds=(151 + i * 0.01, -34, 151.02 + i * 0.01, -33.98), scene_id=f"Q{i}"
        )
        operator_client.post("/archive/cart/toggle/", {"capture_id": f"Q{i}"})
    with django_assert_max_num_queries(14):
        assert len(_state(operator_client.get("/archive/cart/"))["captureIds"]) == 15


def _fill(client, *ids):
    for i in ids:
        client.post("/archive/cart/toggle/", {"capture_id": i})


def test_place_button_redirects_to_order_and_empties_cart(sydney_captures, operator_client, org):
    _fill(operator_client, "SYD-A", "SYD-B")
    ws = Workspace.objects.get(org=org, is_default=True)
    response = operator_client.post(
        "/archive/cart/place/",
        {"idempotency_key": "k-1", "projectId": str(ws.pk), "licenseType": "standard"},
        headers=HX,
    )
    order = Order.objects.get(org=org)
    assert response.status_code == 200
    assert response["HX-Redirect"] == f"/orders/{order.pk}/?placed=1"
    assert order.status == "processing" and order.license_type == "standard"
    assert not CartItem.objects.exists()


def test_double_click_with_same_key_places_one_order(sydney_captures, operator_client, org):
    _fill(operator_client, "SYD-A")
    first = operator_client.post("/archive/cart/place/", {"idempotency_key": "same"}, headers=HX)
    second = operator_client.post("/archive/cart/place/", {"idempotency_key": "same"}, headers=HX)
    assert first["HX-Redirect"] == second["HX-Redirect"]
    assert Order.objects.filter(org=org).count() == 1
    assert LedgerEntry.objects.filter(org=org, kind="reserve").count() == 1


def test_viewer_cannot_place_from_cart(sydney_captures, viewer_user):
    client = Client()
    client.force_login(viewer_user)
    _fill(client, "SYD-A")
    assert client.post("/archive/cart/place/", {"idempotency_key": "v"}).status_code == 403
    assert not Order.objects.exists()


def test_place_with_insufficient_credits_shows_402_in_panel(sydney_captures, db):
    poor = make_org(name="Poor", credits=10)
    user = make_user(org=poor, role="operator")
    client = Client()
    client.force_login(user)
    _fill(client, "SYD-A")
    response = client.post("/archive/cart/place/", {"idempotency_key": "p"}, headers=HX)
    assert response.status_code == 402
    assert "Insufficient credits" in response.content.decode()
    assert CartItem.objects.count() == 1 and not Order.objects.exists()


def test_three_d_secure_challenge_then_same_key_places_once(sydney_captures, db):
    org = make_org(name="Card Co", billing_mode="card")
    org.payment_method = TestGateway.THREE_DS
    org.save(update_fields=["payment_method"])
    client = Client()
    client.force_login(make_user(org=org, role="operator"))
    _fill(client, "SYD-A")
    challenged = client.post("/archive/cart/place/", {"idempotency_key": "3ds-key"}, headers=HX)
    assert challenged.status_code == 402
    html = challenged.content.decode()
    assert "Complete bank challenge" in html and 'value="3ds-key"' in html
    secret = html.split('name="client_secret" value="')[1].split('"')[0]
    done = client.post(
        "/archive/cart/challenge/", {"client_secret": secret, "idempotency_key": "3ds-key"}, headers=HX
    )
    order = Order.objects.get(org=org)
    assert done["HX-Redirect"] == f"/orders/{order.pk}/?placed=1"
    assert order.billing_mode == "card"
    assert Charge.objects.filter(org=org).count() == 1


def test_click_while_first_is_in_flight_waits_and_retries_with_the_same_key(
    sydney_captures, operator_client, org
):
    from geopera_web.api.idempotency import request_fingerprint
    from geopera_web.api.models import IdempotencyRecord

    _fill(operator_client, "SYD-A")
    body = {"via": "cart", "projectId": None, "licenseType": "standard"}
    IdempotencyRecord.objects.create(
        org=org,
        operation="orders.archive.place",
        key="busy",
        request_hash=request_fingerprint(body),
        expires_at=timezone.now() + dt.timedelta(hours=1),
    )
    response = operator_client.post("/archive/cart/place/", {"idempotency_key": "busy"}, headers=HX)
    html = response.content.decode()
    assert response.status_code == 200 and "being placed" in html
    assert 'hx-trigger="load delay:1s"' in html and '"idempotency_key": "busy"' in html
    assert not Order.objects.exists()


def test_broker_outage_does_not_fail_a_committed_placement(
    sydney_captures, api_operator, monkeypatch, django_capture_on_commit_callbacks
):
    from orders import tasks

    def down(*args, **kwargs):
        raise ConnectionError("broker down")

    monkeypatch.setattr(tasks.fulfil_archive_order, "delay", down)
    with django_capture_on_commit_callbacks(execute=True):
        response = api_operator.post("orders.archive.place", {"captures": [{"id": "SYD-A"}]})
    assert response.status_code == 202
    assert Order.objects.get().status == "processing"


def test_review_step_states_the_order_and_spends_nothing(sydney_captures, operator_client, viewer_user, org):
    _fill(operator_client, "SYD-A")
    r = operator_client.post(
        "/archive/cart/review/", {"licenseType": "extended", "idempotency_key": "k1"}, headers=HX
    )
    html = r.content.decode()
    assert r.status_code == 200 and 'data-testid="cart-review"' in html and "data-autoshow" in html
    assert "Extended (partners, resale)" in html and 'name="idempotency_key" value="k1"' in html
    assert not Order.objects.exists() and not LedgerEntry.objects.filter(org=org, kind="reserve").exists()
    viewer = Client()
    viewer.force_login(viewer_user)
    assert viewer.post("/archive/cart/review/", {}).status_code == 403


def test_cart_areas_have_thousands_separators(product, operator_client):
    from tests.factories import make_priced_capture

    # ≈ 0.5° × 0.5° near Sydney: some 2,500 km², more than a thousand.
    make_priced_capture(product=product, bounds=(150.50, -34.20, 151.00, -33.70), scene_id="SYD-BIG")
    panel = operator_client.post("/archive/cart/toggle/", {"capture_id": "SYD-BIG"}, headers=HX)
    html = panel.content.decode()
    cells = re.findall(r'<td class="num">([\d,.]+)</td>', html)
    assert cells and all(re.fullmatch(r"\d{1,3}(,\d{3})+\.\d{2}", c) for c in cells), cells
    review = operator_client.post("/archive/cart/review/", {}, headers=HX).content.decode()
    assert re.search(r"· \d,\d{3}\.\d{2} km² ·", review), "the review step's group line"
