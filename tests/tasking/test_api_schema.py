from __future__ import annotations

from jsonschema import Draft202012Validator


def test_get_schema_serves_the_products_schema(api_viewer):
    response = api_viewer.post("orders.get_schema", {"data_product_id": "pleiades-neo-tasking"})
    assert response.status_code == 200
    schema = response.json()
    Draft202012Validator.check_schema(schema)
    assert schema["x-geopera"]["sensor"] == "pleiades-neo"
    assert schema["properties"]["incidenceAngle"]["maximum"] == 52


def test_get_schema_at_resource_route(api_key_caller):
    response = api_key_caller.post("orders.get_schema", {"data_product_id": "skysat-tasking"}, route=True)
    assert response.status_code == 200
    assert response.json()["properties"]["deliveredAs"]["oneOf"] == [{"const": "GeoTIFF", "title": "GeoTIFF"}]


def test_unknown_product_is_404_problem(api_viewer):
    response = api_viewer.post("orders.get_schema", {"data_product_id": "no-such-product"})
    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"
    assert "no-such-product" in response.json()["detail"]


def test_missing_product_id_is_422(api_viewer):
    response = api_viewer.post("orders.get_schema", {})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "data_product_id"]


def test_get_schema_needs_items_read(org):
    from tests.conftest import caller_for_key

    caller = caller_for_key(org, scopes=("orders:read",))
    assert caller.post("orders.get_schema", {"data_product_id": "spot-tasking"}).status_code == 403
