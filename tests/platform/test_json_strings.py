"""A string PostgreSQL cannot hold — a NUL (`\\u0000`) or a lone UTF-16 surrogate (`\\ud800`) —
anywhere in a JSON body (a value or an object key, at any depth) is a 422 whose `loc` names the
field, on every way a JSON body comes in: DRF's parser (every /v1 operation, the archive page's
JSON search post), the operation dispatcher itself, `jsonbounds.loads` (STAC search, form fields
holding GeoJSON). Nothing is stored: not the order, not the subscription, not the idempotency record.
"""

from __future__ import annotations

import json

import pytest
from django.test import Client

from geopera_web import jsonbounds
from geopera_web.api.models import IdempotencyRecord
from geopera_web.events.models import EventSubscription
from orders.models import Order
from tasking.models import TaskingTemplate
from tests.conftest import caller_for_user
from tests.tasking.flow_helpers import MANUAL_PRODUCT, fc, params, square

pytestmark = pytest.mark.django_db

# Written as JSON escapes, as an attacker's client would send them (a raw NUL is already invalid JSON).
BAD = {"nul": "\\u0000", "surrogate": "\\ud800", "low-surrogate": "x\\udc00y"}


def _place(org):
    return {
        "workspaceId": str(org.workspaces.first().id),
        "dataProduct": MANUAL_PRODUCT,
        "params": params(),
        "featureCollection": fc(square()),
    }


# (operation, body builder, path to poison, where the poison goes: "value" or "key")
CASES = {
    "place-params-value": ("orders.place", _place, ["params", "displayName"], "value"),
    "place-params-key": ("orders.place", _place, ["params"], "key"),
    "tasking-place-feature-property": (
        "orders.tasking.place",
        _place,
        ["featureCollection", "features", 0, "properties", "name"],
        "value",
    ),
    "tasking-place-geometry-type": (
        "orders.tasking.place",
        _place,
        ["featureCollection", "features", 0, "geometry", "type"],
        "value",
    ),
    "feasibility-params": (
        "orders.tasking.feasibility_check",
        lambda org: {"dataProduct": MANUAL_PRODUCT, "featureCollection": fc(square()), "params": params()},
        ["params", "displayName"],
        "value",
    ),
    "estimate-groups-geometry-key": (
        "orders.tasking.estimate",
        lambda org: {"groups": [{"dataProduct": MANUAL_PRODUCT, "geometry": square(), "name": "a"}]},
        ["groups", 0, "geometry"],
        "key",
    ),
    "estimate-groups-name": (
        "orders.tasking.estimate",
        lambda org: {"groups": [{"dataProduct": MANUAL_PRODUCT, "geometry": square(), "name": "a"}]},
        ["groups", 0, "name"],
        "value",
    ),
    "search-query": (
        "catalog.search",
        lambda org: {"query": {"eo:cloud_cover": {"lt": 10}}},
        ["query"],
        "key",
    ),
    "search-intersects": (
        "catalog.search",
        lambda org: {"intersects": square()},
        ["intersects", "type"],
        "value",
    ),
    "subscription-filter-config": (
        "event_subscriptions.create",
        lambda org: {
            "event_type": "*",
            "endpoint_url": "https://hooks.example.com/in",
            "filter_config": {"order_type": "tasking"},
        },
        ["filter_config", "order_type"],
        "value",
    ),
    "subscription-headers-key": (
        "event_subscriptions.create",
        lambda org: {
            "event_type": "*",
            "endpoint_url": "https://hooks.example.com/in",
            "headers": {"X-Team": "ingest"},
        },
        ["headers"],
        "key",
    ),
    "template-description": (
        "orders.tasking.templates.save",
        lambda org: {
            "name": "Weekly",
            "description": "Paddocks",
            "sensor": "pleiades-neo",
            "resolution": "30cm",
            "capture_frequency": "WEEKLY",
            "datum": "GDA2020",
            "file_format": "GeoTIFF",
            "max_cloud_coverage": 10,
            "max_nadir_angle": 25,
        },
        ["description"],
        "value",
    ),
}

MARK = "POISON-HERE"


def poisoned(body: dict, path: list, where: str, bad: str) -> tuple[bytes, list]:
    """The JSON text of `body` with `bad` (a JSON escape) inside the value at `path` or inside a new
    key of the object at `path`; and the `loc` the refusal must name."""
    node = body
    for step in path[:-1] if where == "value" else path:
        node = node[step]
    if where == "value":
        node[path[-1]] = MARK
        loc = ["body", *path]
    else:
        node[MARK] = 1
        loc = ["body", *path, None]  # the key itself, checked below
    text = json.dumps(body).replace(MARK, f"a{bad}b")
    return text.encode(), loc


def counts() -> tuple[int, ...]:
    return (
        Order.objects.count(),
        EventSubscription.objects.count(),
        IdempotencyRecord.objects.count(),
        TaskingTemplate.objects.count(),
    )


@pytest.fixture(autouse=True)
def _catalog(db):
    from tasking.services import sensor_catalog_seed

    sensor_catalog_seed()


@pytest.mark.parametrize("bad", list(BAD.values()), ids=list(BAD))
@pytest.mark.parametrize("case", list(CASES.values()), ids=list(CASES))
def test_a_bad_string_anywhere_in_an_operation_body_is_a_422_naming_the_field(admin_user, org, case, bad):
    op, build, path, where = case
    api = caller_for_user(admin_user, org)
    clean = api.post(op, build(org), headers={"Idempotency-Key": "clean-body"})
    assert clean.status_code < 500, clean.content[:300]  # the same body, unpoisoned, is no 500
    before = counts()
    raw, loc = poisoned(build(org), path, where, bad)
    response = api.post(op, raw=raw, headers={"Idempotency-Key": "poisoned-body"})
    assert response.status_code == 422, response.content[:400]
    errors = response.json()["detail"]
    assert len(errors) == 1, errors
    error = errors[0]
    if where == "value":
        assert error["loc"] == loc
    else:
        assert error["loc"][:-1] == loc[:-1]
        assert error["loc"][-1] == json.loads(f'"a{bad}b"')  # the offending key, as sent
    kind = "NUL" if bad == BAD["nul"] else "surrogate"
    assert kind in error["msg"], error
    assert counts() == before


@pytest.mark.parametrize("bad", list(BAD.values()), ids=list(BAD))
def test_the_archive_pages_json_search_post_is_refused_the_same_way(operator_user, org, bad):
    client = Client()
    client.force_login(operator_user)
    raw = json.dumps({"query": {"eo:cloud_cover": {"lt": 10}}, "collections": ["X"]}).replace(
        '"X"', f'"a{bad}"'
    )
    response = client.post("/v1/op/catalog.search", data=raw, content_type="application/json")
    assert response.status_code == 422, response.content[:300]
    assert response.json()["detail"][0]["loc"] == ["body", "collections", 0]


@pytest.mark.parametrize("bad", list(BAD.values()), ids=list(BAD))
def test_the_public_stac_search_is_refused_the_same_way(bad):
    raw = json.dumps({"query": {"aBAD": {"eq": 1}}, "limit": 5}).replace("BAD", bad)
    response = Client().post("/stac/search", data=raw, content_type="application/json")
    assert response.status_code == 422, response.content[:300]
    assert response.json()["detail"][0]["loc"][:2] == ["body", "query"]


def test_loads_names_the_path_and_is_a_json_decode_error():
    with pytest.raises(jsonbounds.JSONBadString) as info:
        jsonbounds.loads('{"a": [1, {"b": "x\\u0000"}]}')
    assert info.value.path == ("a", 1, "b")
    assert isinstance(info.value, json.JSONDecodeError)  # form fields turn it into a form error
    with pytest.raises(jsonbounds.JSONBadString) as info:
        jsonbounds.loads('"\\ud83d"')  # half of an emoji
    assert info.value.path == ()
    # A surrogate *pair* is one ordinary character, and other control characters are fine.
    assert jsonbounds.loads('{"e": "\\ud83d\\ude00", "t": "\\u0001"}') == {"e": "\U0001f600", "t": "\x01"}


def test_the_dispatcher_checks_bodies_no_parser_checked(admin_user, org):
    """`_run` walks the body itself: whatever parsed it (a form parser on some future operation), a
    NUL never reaches a handler."""
    from geopera_web.api.views import OperationView

    assert OperationView.refuse_bad_strings({"a": {"b": ["ok", "x\x00"]}}) is not None
    response = OperationView.refuse_bad_strings({"a": {"b": ["ok", "x\x00"]}})
    assert response.status_code == 422
    assert json.loads(response.content)["detail"][0]["loc"] == ["body", "a", "b", 1]
    assert OperationView.refuse_bad_strings({"a": {"b": ["ok"]}}) is None


def test_a_stac_get_parameter_holding_json_is_refused_the_same_way():
    response = Client().get("/stac/search", {"intersects": '{"type": "Poly\\u0000gon"}'})
    assert response.status_code == 422, response.content[:300]
    assert response.json()["detail"][0]["loc"] == ["query", "intersects", "type"]
