"""The malformed-geometry corpus (tests/geometry_corpus.py) through every operation, page and upload
that takes geometry. A refused case is a 4xx whose message says what to fix (problem+json on the
API, the form's error on pages) and stores nothing; an accepted case is measured as what it is.
None of them may ever be a 500. Every request sent is counted: the README's security section states
the total per run, and a test holds it to the count."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from orders.cart.models import Cart
from orders.models import Order, OrderGroup
from tasking.services import sensor_catalog_seed
from tests.conftest import caller_for_user
from tests.factories import AUTO_PRODUCT, MANUAL_PRODUCT, make_priced_capture, make_product, tasking_params
from tests.geometry_corpus import AREA_KM2, CASES, REFUSE, Case, case_ids

pytestmark = pytest.mark.django_db

corpus = pytest.mark.parametrize("case", CASES, ids=case_ids(CASES))
HX = {"HX-Request": "true"}
README = Path(__file__).resolve().parents[2] / "README.md"
# Requests per case before the uploads: catalog.search, catalog.search_stream, /stac/search POST and
# GET; the archive estimate, place and cart AOI; orders.place, orders.tasking.place, orders.estimate,
# orders.tasking.estimate; feasibility_check, opportunities_list; the request page's AOI check,
# place and draft. Each run asserts it sent exactly this many (plus its uploads).
SURFACE_REQUESTS = 16


def planned_requests(case: Case) -> int:
    """The requests one case sends: every surface, then one upload per file form of it."""
    return SURFACE_REQUESTS + len(_upload_files(case))


@pytest.fixture
def sent(monkeypatch) -> list[tuple[str, int]]:
    """(path, status) of every request the test client sends."""
    log: list[tuple[str, int]] = []
    original = Client.request

    def request(self, **environ):
        response = original(self, **environ)
        log.append((environ.get("PATH_INFO", ""), response.status_code))
        return response

    monkeypatch.setattr(Client, "request", request)
    return log


@pytest.fixture
def world(db, org):
    """A priced archive product with one capture under the Sydney square and one under the Fiji
    box over the antimeridian; the tasking sensor catalog."""
    from orders.catalog.services import archive_products_ensure

    archive_products_ensure()
    product = make_product(pid="optical-50cm", rate=100, min_area=25.0)
    make_priced_capture(product=product, bounds=(150.8, -33.8, 151.2, -33.2), scene_id="CORPUS-SYD")
    make_priced_capture(product=product, bounds=(179.0, -17.5, 180.0, -16.5), scene_id="CORPUS-FIJI-W")
    sensor_catalog_seed()
    return org


def _text(response) -> str:
    """Everything a person would read in the answer."""
    body = response.content.decode()
    if response.get("Content-Type", "").startswith(("application/problem+json", "application/json")):
        doc = json.loads(body)
        detail = doc.get("detail") if isinstance(doc, dict) else None
        if isinstance(detail, list):
            return " ".join(str(e.get("msg")) for e in detail)
        return json.dumps(doc)
    return body


class Surfaces:
    """Runs one case through every surface, collecting what went wrong (one report per case)."""

    def __init__(self, case: Case) -> None:
        self.case = case
        self.failures: list[str] = []

    def check(self, where: str, ok: bool, response=None) -> None:
        if not ok:
            said = "" if response is None else f" → {response.status_code} {_text(response)[:300]}"
            self.failures.append(f"{where}{said}")

    def refused(self, where: str, response, *, listed: bool = False) -> None:
        """A 4xx that says what to fix (problem+json under /v1 and /stac); with `listed`, a 200 that
        names the bad geometry in its `errors` (estimates and checks list them per item)."""
        status = response.status_code
        if status == 200 and listed:
            errors = response.json().get("errors") or []
            ok = bool(errors) and self.case.said_in(json.dumps(errors)) and not response.json().get("groups")
            self.check(where, ok, response)
            return
        api = response.request["PATH_INFO"].startswith(("/v1", "/stac"))
        ok = status in (400, 422) and self.case.said_in(_text(response))
        if api and status == 400:
            ok = ok and response["Content-Type"].startswith("application/problem+json")
        self.check(where, ok, response)

    def area(self, where: str, value: float, expected: float | None = None) -> None:
        expected = AREA_KM2[self.case.name] if expected is None else expected
        self.check(f"{where}: area {value} ≠ {expected}", value == pytest.approx(expected, rel=0.03))


def _capture_for(case: Case) -> str:
    return "CORPUS-FIJI-W" if case.name.startswith("antimeridian") else "CORPUS-SYD"


def _tasking_body(org, case: Case, product: str = MANUAL_PRODUCT) -> bytes:
    body = {
        "workspaceId": str(org.workspaces.first().id),
        "dataProduct": product,
        "params": tasking_params(),
        "featureCollection": "__FC__",
    }
    return json.dumps(body).replace('"__FC__"', case.feature_collection_text()).encode()


def _form(case: Case) -> dict[str, str]:
    p = tasking_params()
    return {
        "data_product_id": MANUAL_PRODUCT,
        "featureCollection": case.feature_collection_text(),
        "displayName": p["displayName"],
        "acquisitionStart": p["acquisitionStart"][:16],
        "acquisitionEnd": p["acquisitionEnd"][:16],
        "resolution": "30cm",
        "cloudCoverage": "20",
        "incidenceAngle": "25",
        "idempotency_key": f"corpus-{case.name}",
    }


def _kml(case: Case) -> bytes | None:
    """The case as a KML Placemark (polygon cases whose coordinates are lists), else None."""
    geom = case.geometry
    if not isinstance(geom, dict) or geom.get("type") not in ("Polygon", "MultiPolygon"):
        return None
    polys = geom["coordinates"] if geom["type"] == "MultiPolygon" else [geom["coordinates"]]
    if not isinstance(polys, list) or not polys or not all(isinstance(p, list) and p for p in polys):
        return None
    if not all(isinstance(r, list) and all(isinstance(q, list) for q in r) for p in polys for r in p):
        return None

    def ring(r: list) -> str:
        pts = " ".join(",".join(str(v) for v in q) for q in r)
        return f"<LinearRing><coordinates>{pts}</coordinates></LinearRing>"

    def poly(p: list) -> str:
        inner = "".join(f"<innerBoundaryIs>{ring(r)}</innerBoundaryIs>" for r in p[1:])
        return f"<Polygon><outerBoundaryIs>{ring(p[0])}</outerBoundaryIs>{inner}</Polygon>"

    shapes = "".join(poly(p) for p in polys)
    body = f"<MultiGeometry>{shapes}</MultiGeometry>" if len(polys) > 1 else shapes
    return (
        '<?xml version="1.0" encoding="UTF-8"?><kml xmlns="http://www.opengis.net/kml/2.2">'
        f"<Document><Placemark><name>{case.name}</name>{body}</Placemark></Document></kml>"
    ).encode()


def _upload_files(case: Case) -> list[tuple[str, bytes]]:
    """The case as the AOI files a person could upload: GeoJSON, and KML where it can be written."""
    files = [("aoi.geojson", case.text.encode())]
    if (kml := _kml(case)) is not None:
        files.append(("aoi.kml", kml))
    return files


@corpus
def test_every_geometry_input_refuses_or_measures_the_case(world, operator_user, case, sent):
    s = Surfaces(case)
    api = caller_for_user(operator_user, world)
    raw = lambda op, body: api.post(op, raw=body if isinstance(body, bytes) else body.encode())  # noqa: E731
    page = Client()
    page.force_login(operator_user)
    as_filter = case.outcome(polygonal=False)
    as_cart = case.outcome()
    as_tasking = case.outcome(repair=False)

    # Catalog search: a filter (any geometry type; self-intersections repaired).
    for op in ("catalog.search", "catalog.search_stream"):
        r = raw(op, f'{{"host_name":"geopera-sim","intersects":{case.text}}}')
        s.refused(op, r) if as_filter == REFUSE else s.check(op, r.status_code == 200, r)
    for where, r in (
        (
            "POST /stac/search",
            Client().post("/stac/search", f'{{"intersects":{case.text}}}', "application/json"),
        ),
        ("GET /stac/search", Client().get("/stac/search", {"intersects": case.text})),
    ):
        s.refused(where, r) if as_filter == REFUSE else s.check(where, r.status_code == 200, r)

    # The archive cart: the estimate (a bad clip is listed per capture), placing, the cart's AOI.
    clip = f'{{"captures":[{{"id":"{_capture_for(case)}","geometry":{case.text}}}]}}'
    r = raw("orders.archive.estimate", clip)
    if as_cart == REFUSE:
        s.refused("orders.archive.estimate", r, listed=True)
    else:
        s.check("orders.archive.estimate", r.status_code == 200 and len(r.json()["groups"]) == 1, r)
        if r.status_code == 200 and r.json()["groups"]:
            # Over the antimeridian, only the part west of ±180 lies on the capture: half the box.
            half = AREA_KM2[case.name] / 2 if case.name == "antimeridian_split" else None
            s.area("orders.archive.estimate", r.json()["groups"][0]["aoi_km2"], half)
    r = raw("orders.archive.place", clip)
    if as_cart == REFUSE:
        s.refused("orders.archive.place", r)
        s.check("orders.archive.place stored an order", not Order.objects.exists())
    else:
        s.check("orders.archive.place", r.status_code == 202, r)
        s.check("archive group is 2-D", not any(g.geometry.hasz for g in OrderGroup.objects.all()))
    Order.objects.all().delete()
    r = page.post("/archive/cart/aoi/", {"geometry": case.text}, headers=HX)
    cart = Cart.objects.filter(user=operator_user).first()
    if as_cart == REFUSE:
        s.refused("cart AOI", r)
        s.check("cart AOI stored", cart is None or cart.aoi is None)
    else:
        s.check("cart AOI", r.status_code == 200 and cart is not None and cart.aoi is not None, r)
        s.check("cart AOI is 2-D", cart is None or cart.aoi is None or not cart.aoi.hasz)

    # Tasking: placement and estimates (polygons; self-intersections refused with the fix).
    for op in ("orders.place", "orders.tasking.place", "orders.estimate"):
        r = raw(op, _tasking_body(world, case))
        if as_tasking == REFUSE:
            s.refused(op, r, listed=op == "orders.estimate")
            s.check(f"{op} stored an order", not Order.objects.exists())
        else:
            s.check(op, r.status_code in (200, 202), r)
            if op != "orders.estimate" and r.status_code in (200, 202):
                group = Order.objects.get().groups.get()
                s.check(f"{op} group is 2-D", not group.geometry.hasz)
                s.area(op, group.area_km2)
        Order.objects.all().delete()
    r = raw(
        "orders.tasking.estimate",
        f'{{"groups":[{{"dataProduct":"{MANUAL_PRODUCT}","geometry":{case.text}}}]}}',
    )
    if as_tasking == REFUSE:
        s.refused("orders.tasking.estimate", r, listed=True)
    else:
        s.check("orders.tasking.estimate", r.status_code == 200 and len(r.json()["groups"]) == 1, r)
        if r.status_code == 200 and r.json()["groups"]:
            s.area("orders.tasking.estimate", r.json()["groups"][0]["areaKm2"])
    for op in ("orders.tasking.feasibility_check", "orders.tasking.opportunities_list"):
        r = raw(op, _tasking_body(world, case, product=AUTO_PRODUCT))
        if as_tasking == REFUSE:
            s.refused(op, r, listed=True)
        else:
            s.check(op, r.status_code == 200 and r.json()["errors"] == [], r)

    # The request page: the live AOI check, placing, a draft (which keeps nothing unusable).
    check = page.post("/tasking/new/aoi-check/", _form(case), headers=HX)
    place = page.post("/tasking/new/place/", _form(case), headers=HX)
    draft = page.post("/tasking/new/draft/", _form(case), headers=HX)
    s.check("page AOI check", check.status_code == 200, check)
    s.check("page draft", draft.status_code == 200, draft)
    drafts = Order.objects.filter(status=Order.Status.DRAFT)
    if as_tasking == REFUSE:
        s.check("page AOI check names the problem", case.said_in(check.content.decode()), check)
        s.refused("page place", place)
        s.check("page place stored an order", not Order.objects.exclude(status=Order.Status.DRAFT).exists())
        s.check("draft kept an unusable AOI", drafts.count() == 1 and drafts.get().groups.count() == 0)
    else:
        s.check("page AOI check", 'data-testid="aoi-row-0"' in check.content.decode(), check)
        s.check("page place", place.status_code == 204, place)
        if drafts.count() == 1 and drafts.get().groups.count() == 1:
            s.area("draft", drafts.get().groups.get().area_km2)
        else:
            s.check("draft keeps the AOI", False)

    # Uploads, through the public upload endpoint only (GeoJSON, and KML where it can be written).
    for name, data in _upload_files(case):
        r = page.post("/archive/aoi-upload", {"file": SimpleUploadedFile(name, data)})
        if as_cart == REFUSE:
            s.check(f"upload {name}", r.status_code == 400 and bool(r.json().get("error")), r)
        else:
            ok = r.status_code == 200
            if ok:
                coords = r.json()["geometry"]["coordinates"]
                ok = all(len(q) == 2 for poly in coords for ring in poly for q in ring)
            s.check(f"upload {name} (2-D geometry)", ok, r)

    assert not s.failures, "\n".join(s.failures)
    assert [r for r in sent if r[1] >= 500] == []
    assert len(sent) == planned_requests(case), sent


def test_the_readme_states_the_corpus_as_run():
    """The security section's figures are the corpus's: its cases and the requests one run sends
    (each case's run asserts it sent exactly planned_requests), and 5xx found = 0."""
    text = " ".join(README.read_text().split())
    stated = re.search(
        r"geometry_corpus\.py` \((\d+) cases.*?([\d,]+) requests per run, \*\*5xx found: (\d+)\*\*", text
    )
    assert stated, "the README's security section no longer states the corpus figures"
    cases, requests, errors = stated.groups()
    assert int(cases) == len(CASES)
    assert int(requests.replace(",", "")) == sum(planned_requests(c) for c in CASES)
    assert errors == "0"


@pytest.mark.parametrize(
    ("bbox", "says"),
    [
        ("151,-34,NaN,-33", "finite"),
        ("151,-34,inf,-33", "finite"),
        ("151,-95,152,-33", "latitude"),
        ("151,-33,152,-34", "south"),
        ("151,-34,152", "4"),
        ("a,b,c,d", "number"),
    ],
)
def test_stac_search_bbox_is_refused_with_the_reason(world, bbox, says):
    response = Client().get("/stac/search", {"bbox": bbox})
    assert response.status_code == 400, response.content[:300]
    assert says.lower() in response.json()["detail"].lower()


def test_a_bbox_over_the_antimeridian_finds_captures_on_its_east_side(world):
    # west > east is the STAC way to cross ±180: two boxes, never a 340°-wide one.
    response = Client().get("/stac/search", {"bbox": "179.5,-17.2,-179.5,-16.8"})
    assert response.status_code == 200
    assert [f["id"] for f in response.json()["features"]] == ["CORPUS-FIJI-W"]
    wide = Client().get("/stac/search", {"bbox": "-170,-17.2,170,-16.8"})
    assert [f["id"] for f in wide.json()["features"]] == []
