"""The /archive/ page, its AOI upload (GeoJSON, KML, zipped shapefile) and the products page."""

from __future__ import annotations

import io
import json
import subprocess
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

SQUARE = {
    "type": "Polygon",
    "coordinates": [[[151.0, -34.0], [151.2, -34.0], [151.2, -33.8], [151.0, -33.8], [151.0, -34.0]]],
}


@pytest.fixture
def browser_client(operator_user) -> Client:
    c = Client()
    c.force_login(operator_user)
    return c


def upload(client: Client, name: str, data: bytes):
    return client.post("/archive/aoi-upload", {"file": SimpleUploadedFile(name, data)})


@pytest.mark.django_db
def test_archive_page_has_the_cart_contract_layout(browser_client, products):
    html = browser_client.get("/archive/").content.decode()
    assert 'id="archive-map"' in html and 'id="archive-filters"' in html
    assert '<aside id="cart-panel" class="cart-panel">' in html
    assert "{# cart panel" not in html and "Cart" in html
    assert "js/archive.js" in html
    config = json.loads(html.split('id="archive-config" type="application/json">')[1].split("</script>")[0])
    assert config["hostName"] == "geopera-sim"
    assert {c["id"] for c in config["collections"]} >= {"pleiades-neo", "spot"}


@pytest.mark.django_db
def test_archive_page_needs_sign_in(client, products):
    assert client.get("/archive/").status_code == 302


@pytest.mark.django_db
def test_session_user_can_search_with_csrf_header(operator_user, products):
    c = Client(enforce_csrf_checks=True)
    c.force_login(operator_user)
    page = c.get("/archive/")
    token = page.cookies["csrftoken"].value if "csrftoken" in page.cookies else c.cookies["csrftoken"].value
    body = json.dumps({"host_name": "geopera-sim", "limit": 5})
    assert c.post("/v1/op/catalog.search", body, content_type="application/json").status_code == 403
    ok = c.post(
        "/v1/op/catalog.search", body, content_type="application/json", headers={"X-CSRFToken": token}
    )
    assert ok.status_code == 200 and ok.json()["type"] == "FeatureCollection"


@pytest.mark.django_db
def test_products_page_lists_rates_and_minimums(browser_client, products):
    html = browser_client.get("/archive/products/").content.decode()
    assert "Pléiades Neo 30 cm" in html and "2,000 credits/km²" in html and "A$20.00" in html
    assert "25 km²" in html and "50,000 cr" in html  # 2000 × 25 km² minimum order


@pytest.mark.django_db
def test_geojson_feature_collection_upload_becomes_the_aoi(browser_client):
    fc = {
        "type": "FeatureCollection",
        "features": [{"type": "Feature", "properties": {}, "geometry": SQUARE}],
    }
    resp = upload(browser_client, "aoi.geojson", json.dumps(fc).encode())
    assert resp.status_code == 200
    geom = resp.json()["geometry"]
    assert geom["type"] == "MultiPolygon"
    xs = [p[0] for p in geom["coordinates"][0][0]]
    assert min(xs) == pytest.approx(151.0) and max(xs) == pytest.approx(151.2)


@pytest.mark.parametrize(
    "name, data, message",
    [
        ("aoi.geojson", b"{nope", "is not valid JSON"),
        (
            "aoi.geojson",
            json.dumps({"type": "Point", "coordinates": [1, 2]}).encode(),
            "expected one of MultiPolygon, Polygon",
        ),
        (
            "aoi.geojson",
            json.dumps({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1]]]}).encode(),
            "is not closed",
        ),
        (
            "aoi.geojson",
            json.dumps({"type": "Polygon", "coordinates": [[[0, 0], [500, 0], [1, 1], [0, 0]]]}).encode(),
            "outside longitude",
        ),
        (
            "aoi.geojson",
            json.dumps({"type": "Polygon", "coordinates": [[[0, 0], [300, 0], [1, 1], [0, 0]]]}).encode(),
            "crosses the antimeridian",
        ),
        (
            "world.geojson",
            json.dumps(
                {
                    "type": "Polygon",
                    "coordinates": [[[-80, -60], [80, -60], [80, 70], [-80, 70], [-80, -60]]],
                }
            ).encode(),
            "the limit is 1,000,000 km²",
        ),
        ("aoi.txt", b"hello", "unsupported file type .txt"),
        ("aoi.kml", b"<html>not kml</html>", "is not a KML document"),
        ("aoi.zip", b"PK-not-really", "is not a valid zip archive"),
        ("aoi.geojson", b"", "is empty"),
    ],
)
@pytest.mark.django_db
def test_bad_uploads_say_what_is_wrong(browser_client, name, data, message):
    resp = upload(browser_client, name, data)
    assert resp.status_code == 400
    assert message in resp.json()["error"]


KML = b"""<?xml version="1.0" encoding="UTF-8"?>
<kml xmlns="http://www.opengis.net/kml/2.2"><Document><Placemark><name>Harbour</name>
<Polygon><outerBoundaryIs><LinearRing><coordinates>
151.0,-34.0,0 151.2,-34.0,0 151.2,-33.8,0 151.0,-33.8,0 151.0,-34.0,0
</coordinates></LinearRing></outerBoundaryIs></Polygon></Placemark></Document></kml>"""


@pytest.mark.django_db
def test_kml_upload_is_read_with_gdal(browser_client):
    resp = upload(browser_client, "harbour.kml", KML)
    assert resp.status_code == 200, resp.content
    ring = resp.json()["geometry"]["coordinates"][0][0]
    assert {round(x, 6) for x, _ in ring} == {151.0, 151.2}


def _shapefile_zip(tmp_path, *, srs: str = "EPSG:3857", with_prj: bool = True) -> bytes:
    src = tmp_path / "aoi.geojson"
    src.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [{"type": "Feature", "properties": {"name": "x"}, "geometry": SQUARE}],
            }
        )
    )
    out = tmp_path / "shp"
    out.mkdir()
    subprocess.run(
        ["ogr2ogr", "-f", "ESRI Shapefile", "-t_srs", srs, str(out / "site.shp"), str(src)],
        check=True,
        capture_output=True,
    )
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for f in out.iterdir():
            if f.suffix == ".prj" and not with_prj:
                continue
            z.write(f, f"site/{f.name}")
    return buf.getvalue()


@pytest.mark.django_db
def test_zipped_shapefile_is_reprojected_with_its_own_prj(browser_client, tmp_path):
    resp = upload(browser_client, "site.zip", _shapefile_zip(tmp_path, srs="EPSG:3857"))
    assert resp.status_code == 200, resp.content
    ring = resp.json()["geometry"]["coordinates"][0][0]
    xs, ys = [p[0] for p in ring], [p[1] for p in ring]
    assert min(xs) == pytest.approx(151.0, abs=1e-6) and max(ys) == pytest.approx(-33.8, abs=1e-6)


@pytest.mark.django_db
def test_zipped_shapefile_without_prj_is_refused_with_a_reason(browser_client, tmp_path):
    resp = upload(browser_client, "site.zip", _shapefile_zip(tmp_path, with_prj=False))
    assert resp.status_code == 400
    assert "missing .prj" in resp.json()["error"]


@pytest.mark.django_db
def test_zip_without_a_shapefile_is_refused(browser_client):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("readme.txt", "hi")
    resp = upload(browser_client, "stuff.zip", buf.getvalue())
    assert resp.status_code == 400 and "contains no .shp file" in resp.json()["error"]


@pytest.mark.django_db
def test_synthetic_quicklook_is_public_svg_with_clouds_in_proportion(client, products):
    from .conftest import make_capture

    make_capture("CLEAR-1", cloud=0)
    make_capture("CLOUDY-1", cloud=80)
    clear = client.get("/archive/quicklook/CLEAR-1.svg")
    cloudy = client.get("/archive/quicklook/CLOUDY-1.svg")
    assert clear.status_code == cloudy.status_code == 200
    assert clear["Content-Type"] == "image/svg+xml"
    assert clear.content.count(b"<ellipse") == 0 and cloudy.content.count(b"<ellipse") == 10
    assert client.get("/archive/quicklook/CLOUDY-1.svg").content == cloudy.content  # deterministic
    assert client.get("/archive/quicklook/missing.svg").status_code == 404


@pytest.mark.django_db
def test_seeded_scenes_link_their_own_quicklook(products):
    from datetime import date

    from orders.catalog.data import generate_scenes
    from orders.catalog.services import captures_bulk_load
    from orders.models import Capture

    captures_bulk_load(rows=generate_scenes(count=3, seed=1, end_date=date(2026, 1, 1)))
    capture = Capture.objects.first()
    assert capture.thumbnail_url == f"/archive/quicklook/{capture.scene_id}.svg?size=thumb"
