"""Request bounds that were module constants are settings read when a request is handled: moving the
setting moves the limit, the refusal says the limit, and the served document states the value in force."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from geopera_web.errors import InvalidInput
from tests.geometry import square

pytestmark = pytest.mark.django_db


def _schema(client, op_id: str) -> dict:
    doc = client.get("/v1/openapi.json").json()
    ref = doc["paths"][f"/v1/op/{op_id}"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    return doc["components"]["schemas"][ref["$ref"].split("/")[-1]]


def _prop(schema: dict) -> dict:
    if "anyOf" in schema:
        return next(s for s in schema["anyOf"] if s.get("type") != "null")
    return schema


def test_approval_policy_credits_follow_credits_max(settings, client, api_admin):
    for field in ("approvalThresholdCredits", "monthlyBudgetCredits"):
        assert _prop(_schema(client, "orders.policies.update")["properties"][field])["maximum"] == 10**12
    assert api_admin.post("orders.policies.update", {"approvalThresholdCredits": 5_000}).status_code == 200
    settings.CREDITS_MAX = 1_000
    refused = api_admin.post("orders.policies.update", {"approvalThresholdCredits": 5_000})
    assert refused.status_code == 422, refused.content
    assert "1,000" in json.dumps(refused.json()) or "1000" in json.dumps(refused.json())
    assert refused.json()["detail"][0]["loc"] == ["body", "approvalThresholdCredits"]
    schema = _schema(client, "orders.policies.update")
    assert _prop(schema["properties"]["monthlyBudgetCredits"])["maximum"] == 1_000
    assert "CREDITS_MAX" in _prop(schema["properties"]["monthlyBudgetCredits"])["description"]


def _refusal(response) -> str:
    assert response.status_code == 422, response.content
    return json.dumps(response.json())


def test_order_tags_follow_their_settings(settings, client, api_operator):
    from orders.services import order_tags_clean

    assert order_tags_clean(["a", "b", "c"]) == ["a", "b", "c"]
    settings.ORDER_MAX_TAGS = 2
    with pytest.raises(InvalidInput, match="at most 2 tags"):
        order_tags_clean(["a", "b", "c"])
    settings.ORDER_TAG_MAX_CHARS = 3
    with pytest.raises(InvalidInput, match="at most 3"):
        order_tags_clean(["abcd"])
    body = {"order_id": "00000000-0000-0000-0000-000000000000", "tags": ["a", "b", "c"]}
    assert "no more than 2" in _refusal(api_operator.post("orders.update", body))
    assert "no more than 3" in _refusal(api_operator.post("orders.update", {**body, "tags": ["abcd"]}))
    for op_id in ("orders.update", "orders.place", "orders.estimate", "orders.archive.place"):
        tags = _prop(_schema(client, op_id)["properties"]["tags"])
        assert tags["maxItems"] == 2 and tags["items"]["maxLength"] == 3, op_id
        assert "ORDER_MAX_TAGS" in tags["description"]


def test_the_tag_bound_defaults_to_the_reference_rule(client):
    # The "50-tag rule" (the reference states no maxItems for tags).
    tags = _prop(_schema(client, "orders.place")["properties"]["tags"])
    assert tags["maxItems"] == 50
    # A display name is bounded by its column: a constant, stated where it is taken.
    for op_id in ("orders.place", "orders.estimate", "orders.archive.place"):
        assert _schema(client, op_id)["properties"]["displayName"]["maxLength"] == 200, op_id


def test_cart_captures_follow_the_setting(settings, client, api_viewer):
    captures = [{"id": f"X{i}"} for i in range(3)]
    assert api_viewer.post("orders.archive.estimate", {"captures": captures}).status_code == 200
    settings.CART_MAX_CAPTURES = 2
    assert "no more than 2" in _refusal(api_viewer.post("orders.archive.estimate", {"captures": captures}))
    for op_id in ("orders.archive.estimate", "orders.archive.place"):
        captures_schema = _schema(client, op_id)["properties"]["captures"]
        assert captures_schema["maxItems"] == 2 and "CART_MAX_CAPTURES" in captures_schema["description"]


def test_page_number_and_billing_offset_follow_their_settings(settings, client, api_admin):
    assert api_admin.post("orders.list", {"page": 6}).status_code == 200
    settings.API_MAX_PAGE_NUMBER = 5
    assert "5" in _refusal(api_admin.post("orders.list", {"page": 6}))
    assert "5" in _refusal(api_admin.post("orders.approvals.list", {"page": 6}))
    assert _schema(client, "orders.list")["properties"]["page"]["maximum"] == 5
    assert api_admin.post("billing.credits.transactions", {"offset": 11}).status_code == 200
    settings.BILLING_PAGE_MAX_OFFSET = 10
    assert "10" in _refusal(api_admin.post("billing.credits.transactions", {"offset": 11}))
    assert _schema(client, "billing.credits.transactions")["properties"]["offset"]["maximum"] == 10


def test_orders_page_size_is_capped_by_the_setting(settings, client, api_admin):
    assert api_admin.post("orders.list", {"size": 50}).json()["size"] == 50
    settings.ORDERS_PAGE_MAX_SIZE = 7
    assert api_admin.post("orders.list", {"size": 50}).json()["size"] == 7
    assert "Capped at 7" in _schema(client, "orders.list")["properties"]["size"]["description"]


def test_stac_filter_bounds_follow_their_settings(settings):
    from orders.catalog.stac_query import parse_filter, parse_query

    text = "eo:cloud_cover < 10"
    assert parse_filter(text, lang="cql2-text", crs=None, get=True) is not None
    settings.STAC_FILTER_MAX_CHARS = len(text) - 1
    with pytest.raises(InvalidInput, match=f"longer than {len(text) - 1} characters"):
        parse_filter(text, lang="cql2-text", crs=None, get=True)
    settings.STAC_FILTER_MAX_CHARS = 20_000
    in_list = "platform IN ('PHR1A', 'PHR1B', 'SPOT6')"
    assert parse_filter(in_list, lang="cql2-text", crs=None, get=True) is not None
    assert parse_query({"platform": {"in": ["PHR1A", "PHR1B", "SPOT6"]}})
    settings.STAC_FILTER_MAX_IN_VALUES = 2
    with pytest.raises(InvalidInput, match="1 to 2 values"):
        parse_filter(in_list, lang="cql2-text", crs=None, get=True)
    with pytest.raises(InvalidInput, match="1 to 2 values"):
        parse_query({"platform": {"in": ["PHR1A", "PHR1B", "SPOT6"]}})


def test_aoi_upload_area_follows_the_setting(settings):
    from orders.aoi_files import aoi_from_upload

    data = json.dumps(square(150, -33, 20)).encode()
    assert aoi_from_upload(filename="a.geojson", data=data).area > 0
    settings.AOI_UPLOAD_MAX_KM2 = 100
    with pytest.raises(InvalidInput, match="the limit is 100 km²"):
        aoi_from_upload(filename="a.geojson", data=data)


def test_prediction_window_and_outline_points_follow_their_settings(settings):
    from tasking import orbits
    from tasking.feasibility import prediction_window_days

    now = timezone.now()
    params = {
        "acquisitionStart": (now + timedelta(days=1)).isoformat(),
        "acquisitionEnd": (now + timedelta(days=100)).isoformat(),
    }
    assert round(prediction_window_days(params)) == 62
    settings.TASKING_WINDOW_MAX_DAYS = 3
    assert round(prediction_window_days(params)) == 3
    with pytest.raises(InvalidInput, match="at most 3 days"):
        orbits.predict_passes(
            norad_ids=[],
            aoi=square(150, -33, 20),
            start=now,
            end=now + timedelta(days=4),
            max_off_nadir_deg=30,
        )
    big = square(150, -33, 1_000)  # ~36 degrees of outline: densified to the points cap
    assert len(orbits._Aoi.from_geometry(big).points_ecef) > 500
    settings.TASKING_ORBIT_MAX_AOI_POINTS = 40
    assert len(orbits._Aoi.from_geometry(big).points_ecef) <= 44


def test_watches_per_org_follow_the_setting(settings, org, operator_user):
    from orders.watches.services import watch_create

    aoi = square(151, -33.8, 10)
    watch_create(org=org, user=operator_user, name="one", aoi=aoi)
    settings.WATCHES_MAX_PER_ORG = 1
    with pytest.raises(InvalidInput, match="at most 1 watches"):
        watch_create(org=org, user=operator_user, name="two", aoi=aoi)


def test_api_key_lifetime_follows_the_setting(settings, client, org, admin_user, api_admin):
    from geopera_web.accounts.forms import ApiKeyForm
    from geopera_web.accounts.services import api_key_create
    from geopera_web.errors import ApplicationError

    body = {"name": "k", "permissions": ["orders:read"], "expires_in_days": 20}
    assert api_admin.post("api_keys.create", body).status_code == 200
    settings.API_KEY_MAX_TTL_DAYS = 10
    assert "10" in _refusal(api_admin.post("api_keys.create", body))
    assert _prop(_schema(client, "api_keys.create")["properties"]["expires_in_days"])["maximum"] == 10
    with pytest.raises(ApplicationError, match="between 1 and 10"):
        api_key_create(org=org, name="k", scopes=["orders:read"], actor=admin_user, expires_in_days=20)
    form = ApiKeyForm(data={"name": "k", "scopes": ["orders:read"], "expires_in_days": 20})
    assert not form.is_valid() and "10" in str(form.errors["expires_in_days"])


def test_page_sizes_lists_and_walks_follow_their_settings(settings, client, api_admin):
    assert api_admin.post("orders.approvals.list", {"size": 50}).status_code == 200
    assert api_admin.post("notifications.list", {"limit": 150, "offset": 60}).status_code == 200
    settings.API_PAGE_MAX_SIZE = 40
    settings.NOTIFICATIONS_PAGE_MAX_LIMIT = 100
    settings.NOTIFICATIONS_PAGE_MAX_OFFSET = 50
    settings.WEBHOOK_DRAIN_MAX_LIMIT = 30
    settings.LINEAGE_MAX_DEPTH = 5
    for op_id in (
        "orders.approvals.list",
        "orders.tasking.decisions.pending",
        "orders.tasking.quotations.list",
    ):
        assert "40" in _refusal(api_admin.post(op_id, {"size": 50})), op_id
        assert _schema(client, op_id)["properties"]["size"]["maximum"] == 40, op_id
    for body, most in (({"limit": 150}, "100"), ({"offset": 60}, "50")):
        refused = api_admin.post("notifications.list", body)
        assert most in _refusal(refused)
        assert [e["loc"] for e in refused.json()["detail"]] == [["body", *body]]
    deep = api_admin.post("provenance.get", {"entity_type": "order", "entity_id": "x", "max_depth": 6})
    assert "5" in _refusal(deep)
    assert [e["loc"] for e in deep.json()["detail"]] == [["body", "max_depth"]]
    assert _prop(_schema(client, "webhooks.drain")["properties"]["limit"])["maximum"] == 30
    assert _schema(client, "provenance.get")["properties"]["max_depth"]["maximum"] == 5
