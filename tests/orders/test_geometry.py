"""One geometry validator (orders.geometry) behind every geometry input: each rule has a code, and
every entry point — catalog search, cart AOI and clip, AOI files, tasking AOIs, delivery files,
STAC imports — reaches the same checks (a rule added there reaches all of them at once)."""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from geopera_web.errors import InvalidInput
from orders import geometry
from orders.catalog.services import catalog_import
from orders.fulfilment.uploads import parse_delivery_upload
from orders.geometry import GeometryError, geojson_geometry, geometry_from_geojson
from orders.models import DataProduct
from tasking.aoi import check_feature
from tests.conftest import DEMO_PASSWORD

RING = [[151.0, -34.0], [151.2, -34.0], [151.2, -33.8], [151.0, -33.8], [151.0, -34.0]]
SQUARE = {"type": "Polygon", "coordinates": [RING]}
BOWTIE = {"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]}


@pytest.mark.parametrize(
    ("obj", "code"),
    [
        ("not a dict", "not_geometry"),
        ({"type": "Polygon"}, "no_coordinates"),
        ({"type": "Point", "coordinates": [1, 2]}, "wrong_type"),
        ({"type": "MultiPolygon", "coordinates": [5]}, "empty_polygon"),
        ({"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [0, 0]]]}, "ring_too_short"),
        ({"type": "Polygon", "coordinates": [[[0, 0], ["a", 1], [1, 0], [0, 0]]]}, "bad_position"),
        ({"type": "Polygon", "coordinates": [[[0, 0], [True, 1], [1, 0], [0, 0]]]}, "bad_position"),
        ({"type": "Polygon", "coordinates": [[[0, 0], [0, 1], [1, 1], [1, 0]]]}, "ring_not_closed"),
        ({"type": "Polygon", "coordinates": [[[0, 0], [0, 91], [1, 1], [0, 0]]]}, "out_of_range"),
        ({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [2, 0], [0, 0]]]}, "no_area"),
    ],
)
def test_each_rule_has_a_code(obj, code):
    with pytest.raises(GeometryError) as info:
        geojson_geometry(obj, polygonal=True)
    assert info.value.code == code
    assert info.value.status == 400
    assert "'geometry'" in info.value.detail


@pytest.mark.django_db
def test_a_multipolygon_whose_polygon_is_a_number_is_a_400_not_a_500(api_operator, products):
    # Used to raise TypeError inside the ring check (a 500).
    body = {"host_name": "geopera-sim", "intersects": {"type": "MultiPolygon", "coordinates": [5]}}
    response = api_operator.post("catalog.search", body)
    assert response.status_code == 400, response.content
    assert "no rings" in response.json()["detail"]


def test_vertex_limit_is_checked_before_geos_builds_the_shape(monkeypatch):
    ring = [[151 + i * 1e-5, -34.0] for i in range(30)] + [[151.0, -33.9], [151.0, -34.0]]
    built = []
    monkeypatch.setattr(geometry, "GEOSGeometry", lambda *a, **k: built.append(a))
    with pytest.raises(GeometryError) as info:
        geojson_geometry({"type": "Polygon", "coordinates": [ring]}, polygonal=True, max_vertices=10)
    assert (info.value.code, info.value.params["count"], info.value.params["limit"]) == (
        "too_many_vertices",
        32,
        10,
    )
    assert built == []


def test_invalid_shape_is_repaired_or_refused_with_the_repair_offered():
    repaired = geojson_geometry(BOWTIE, polygonal=True)
    assert repaired.geom_type == "MultiPolygon" and repaired.valid and len(repaired) == 2
    with pytest.raises(GeometryError) as info:
        geojson_geometry(BOWTIE, polygonal=True, repair=False)
    assert info.value.code == "self_intersection"
    assert info.value.params["suggested"]["type"] == "MultiPolygon"


def test_a_polygon_is_promoted_and_crs_members_never_reach_gdal():
    geom = geojson_geometry(
        {**SQUARE, "crs": {"type": "name", "properties": {"name": "EPSG:3857"}}}, polygonal=True
    )
    assert geom.geom_type == "MultiPolygon" and geom.srid == 4326
    assert geom.extent == pytest.approx((151.0, -34.0, 151.2, -33.8))


def test_search_shapes_unwrap_features_and_json_strings():
    feature = {"type": "Feature", "geometry": SQUARE, "properties": {}}
    assert geometry_from_geojson(json.dumps(feature)).geom_type == "Polygon"
    with pytest.raises(GeometryError) as info:
        geometry_from_geojson({"type": "FeatureCollection", "features": [feature, feature]})
    assert info.value.code == "not_geometry"


# --- every geometry input goes through the one validator -----------------------------------------
# The validator is made to refuse everything with a marker; each entry point must report it. A
# path that parsed GeoJSON on its own would accept the square instead.

MARK = "sentinel-rule-refused-this"


@pytest.fixture
def refuse_everything(monkeypatch):
    def refuse(polygons, field):
        raise GeometryError(f"'{field}': {MARK}.", code="sentinel", what=MARK)

    monkeypatch.setattr(geometry, "_check_polygons", refuse)


@pytest.fixture
def session(operator_user) -> Client:
    client = Client()
    assert client.login(username=operator_user.email, password=DEMO_PASSWORD)
    return client


@pytest.mark.django_db
def test_catalog_search_intersects(refuse_everything, api_operator, products):
    response = api_operator.post("catalog.search", {"host_name": "geopera-sim", "intersects": SQUARE})
    assert response.status_code == 400 and MARK in response.json()["detail"]


@pytest.mark.django_db
def test_archive_estimate_clip_geometry(refuse_everything, api_operator, sydney_captures):
    response = api_operator.post(
        "orders.archive.estimate", {"captures": [{"id": "SYD-A", "geometry": SQUARE}]}
    )
    assert response.status_code == 200
    (error,) = response.json()["errors"]
    assert error["code"] == "invalid_geometry" and MARK in error["message"]


@pytest.mark.django_db
def test_cart_aoi(refuse_everything, session):
    response = session.post(
        "/archive/cart/aoi/", {"geometry": json.dumps(SQUARE)}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 400 and MARK in response.content.decode()


@pytest.mark.django_db
def test_aoi_file_upload(refuse_everything, session):
    upload = SimpleUploadedFile("aoi.geojson", json.dumps(SQUARE).encode())
    response = session.post("/archive/aoi-upload", {"file": upload})
    assert response.status_code == 400 and MARK in response.json()["error"]


@pytest.mark.django_db
def test_tasking_aoi(refuse_everything):
    check = check_feature({"type": "Feature", "geometry": SQUARE, "properties": {}}, 0, None)
    assert not check.ok and MARK in check.errors[0]["msg"]


def test_delivery_footprint(refuse_everything):
    with pytest.raises(InvalidInput) as info:
        parse_delivery_upload(json.dumps(SQUARE).encode())
    assert MARK in info.value.detail and info.value.slug == "invalid-delivery-file"


@pytest.mark.django_db
def test_stac_import(refuse_everything, products):
    product = DataProduct.objects.get(collection="pleiades")
    item = {
        "type": "Feature",
        "id": "IMPORTED-1",
        "collection": product.collection,
        "geometry": SQUARE,
        "properties": {
            "datetime": "2025-01-01T00:00:00Z",
            "eo:cloud_cover": 1,
            "gsd": 0.5,
            "view:off_nadir": 3,
        },
    }
    report = catalog_import(text=json.dumps(item))
    assert report.accepted == 0 and MARK in report.rejected[0][2]


@pytest.mark.parametrize("kind", [{"a": 1}, ["Polygon"]])
def test_a_type_that_is_not_a_string_is_a_geometry_error_not_a_type_error(kind):
    # It was looked up in a set: an unhashable `type` raised TypeError (a 500 wherever geometry is read).
    for polygonal in (True, False):
        with pytest.raises(GeometryError) as exc:
            geojson_geometry({"type": kind, "coordinates": []}, polygonal=polygonal)
        assert exc.value.code == "wrong_type"
    with pytest.raises(GeometryError):
        geometry_from_geojson({"type": "GeometryCollection", "geometries": [{"type": kind}]})
