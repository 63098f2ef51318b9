"""The Django admin's add/change forms that support staff (is_staff, in the support group, not a
superuser) can reach, fed hostile values field by field: NaN/Infinity, 10^30 integers, negative
amounts, NUL characters, 20,000-character strings, impossible dates, `javascript:` URLs, malformed
JSON and geometry. Every case must be a form error (200 with the admin's error list), never a 5xx,
and nothing may be stored. Studies and quotations are read-only in the admin (they change through
the support desk's services): a post to them is a 403 and stores nothing.

The case count is written in the README's Security model (`CASES` below, asserted there)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.contrib.gis.geos import GEOSGeometry
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from geopera_web.accounts.services import support_group_ensure
from geopera_web.audit.models import AuditEvent
from geopera_web.billing.models import LedgerEntry, Wallet
from orders.models import DataProduct, DeliveredCapture, DeliveryBatch
from tasking.models import FeasibilityStudy, Quotation, Sensor, TaskingProduct
from tests.factories import make_org, make_tasking_order, make_user
from tests.geometry import box_coords

pytestmark = pytest.mark.django_db

AOI = (151.0, -33.0, 151.1, -32.9)

# --- hostile values, by the kind of field they are thrown at -------------------------------------

NUL = "abc\x00def"
LONG = "x" * 20_000
HUGE_INT = "1" + "0" * 30  # 10^30
INTEGER = ["nan", "inf", "-inf", HUGE_INT, "-" + HUGE_INT, "1e30", "-5", "12.5", NUL, "ten"]
FLOAT = ["nan", "inf", "-inf", "1e309", HUGE_INT, "-5", NUL, "ten"]
TEXT = [NUL, LONG]
SLUG = [NUL, LONG, "javascript:alert(1)", "../../etc/passwd", "has space"]
CHOICE = [NUL, LONG, "not-a-choice"]
JSON_LIST = [
    "NaN",
    "[NaN]",
    "[Infinity]",
    f"[{HUGE_INT}]",
    '["a\\u0000b"]',
    '["\\ud800"]',
    '{"not": "a list"}',
    '"just a string"',
    "[" * 200 + "]" * 200,
    json.dumps(["x" * 20_000]),
    "[1, 2",
    "[{}]",
]


JSON_SHORT = ["NaN", '["a\\u0000b"]', '{"not": "a list"}', "[1, 2", json.dumps(["x" * 20_000])]


def cases(kind: list[str], *fields: str) -> list[tuple[str, str]]:
    return [(f, v) for f in fields for v in kind]


# --- the forms -------------------------------------------------------------------------------------


@dataclass
class Target:
    """One admin form support staff can post: where, a valid body, and the hostile cases."""

    name: str
    url: Callable[[dict[str, Any]], str]
    data: Callable[[dict[str, Any]], dict[str, Any]]
    hostile: list[tuple[str, Any]]
    ok_status: int = 302
    refused_status: int = 200  # a form error
    files: Callable[[dict[str, Any]], dict[str, Any]] = field(default=lambda w: {})


SENSOR_JSON_LISTS = (
    "resolutions",
    "bands",
    "satellites",
    "spectral_bundles",
    "acquisition_modes",
    "processing_levels",
    "radiometric_processing",
    "pixel_codings",
    "projections",
    "capture_frequencies",
    "file_formats",
    "datums",
)


def sensor_data(world: dict[str, Any], sensor_id: str = "hostile-sat") -> dict[str, Any]:
    return {
        "id": sensor_id,
        "name": "Hostile Sat",
        "constellation": "Hostile",
        "operator": "Ops",
        "sensor_type": "optical",
        "description": "A sensor.",
        "is_active": "on",
        "satellites": json.dumps([{"name": "HS-1", "norad_id": 12345}]),
        "swath_km": "14",
        "revisit_days": "1.5",
        "resolutions": json.dumps(["50cm", "1m"]),
        "bands": json.dumps([{"name": "red", "min_nm": 600, "max_nm": 700}]),
        "spectral_bundles": json.dumps(["pansharpened"]),
        "acquisition_modes": json.dumps(["mono"]),
        "processing_levels": json.dumps(["ortho"]),
        "radiometric_processing": json.dumps(["reflectance"]),
        "pixel_codings": json.dumps(["12bits"]),
        "projections": json.dumps([4326]),
        "capture_frequencies": json.dumps(["ONCE", "WEEKLY"]),
        "file_formats": json.dumps(["GeoTIFF"]),
        "datums": json.dumps(["WGS84"]),
        "min_cloud_coverage": "0",
        "max_cloud_coverage": "30",
        "min_off_nadir": "0",
        "max_off_nadir": "30",
        "min_window_days": "1",
        "feasibility": "manual",
        "sources": "Operator's brochure.",
        "position": "3",
        "products-TOTAL_FORMS": "0",
        "products-INITIAL_FORMS": "0",
        "products-MIN_NUM_FORMS": "0",
        "products-MAX_NUM_FORMS": "1000",
    }


SENSOR_HOSTILE = [
    *cases(
        INTEGER, "min_cloud_coverage", "max_cloud_coverage", "max_off_nadir", "min_window_days", "position"
    ),
    *cases(FLOAT, "swath_km", "revisit_days"),
    *cases(TEXT, "name", "operator", "description", "sources"),
    *cases(SLUG, "id"),
    *cases(CHOICE, "sensor_type", "feasibility"),
    *cases(JSON_LIST, "resolutions", "bands", "satellites", "projections", "capture_frequencies"),
    *cases(JSON_SHORT, *SENSOR_JSON_LISTS[5:]),
    ("min_cloud_coverage", "80"),  # above the maximum
    ("max_off_nadir", "91"),
    ("capture_frequencies", '["HOURLY"]'),
    ("capture_frequencies", "[]"),
    ("resolutions", "[]"),
    ("projections", '["EPSG:4326"]'),
    ("projections", "[-1]"),
    ("satellites", '[{"name": "x", "norad_id": "abc"}]'),
    ("satellites", '[{"norad_id": 1}]'),
    ("bands", '[{"name": "red", "min_nm": "far"}]'),
    ("bands", '["red"]'),
]


def product_data(world: dict[str, Any], pid: str = "hostile-product") -> dict[str, Any]:
    return {
        "id": pid,
        "name": "Hostile product",
        "order_type": "archive",
        "collection": "hostile-collection",
        "host": "geopera-sim",
        "description": "Sells things.",
        "credits_per_km2": "120",
        "min_area_km2": "25",
        "max_area_km2": "5000",
        "is_active": "on",
    }


PRODUCT_HOSTILE = [
    *cases(INTEGER, "credits_per_km2"),
    *cases(FLOAT, "min_area_km2", "max_area_km2"),
    *cases(TEXT, "name", "collection", "host", "description"),
    *cases(SLUG, "id"),
    *cases(CHOICE, "order_type"),
    ("min_area_km2", "6000"),  # above the largest area
    ("max_area_km2", "0"),
    ("host", "javascript:alert(1)"),
    ("collection", "javascript:alert(1)"),
]


def tasking_product_data(world: dict[str, Any]) -> dict[str, Any]:
    return {
        "data_product": world["tasking_dp"].pk,
        "sensor": world["sensor"].pk,
        "resolutions": json.dumps(["50cm"]),
        "series_pricing": "occurrence",
        "position": "1",
    }


TASKING_PRODUCT_HOSTILE = [
    *cases(INTEGER, "position"),
    *cases(JSON_LIST, "resolutions"),
    ("resolutions", '["3km"]'),  # not one the sensor offers
    ("data_product", "archive-dp"),  # not a tasking product
    ("data_product", NUL),
    ("sensor", "no-such-sensor"),
    ("sensor", LONG),
    ("series_pricing", "per-pass"),  # not a choice
    ("series_pricing", NUL),
]


def stac_item(**over: Any) -> dict[str, Any]:
    item = {
        "type": "Feature",
        "stac_version": "1.0.0",
        "id": "HOSTILE_SCENE_1",
        "geometry": {"type": "Polygon", "coordinates": box_coords(150.95, -33.05, 151.05, -32.85)},
        "properties": {"datetime": "2026-11-20T00:12:34Z", "eo:cloud_cover": 3.5},
        "assets": {"visual": {"href": "https://provider.example/visual.tif", "type": "image/tiff"}},
        "links": [],
    }
    item.update(over)
    return item


def delivery_data(world: dict[str, Any]) -> dict[str, Any]:
    return {"order": str(world["order"].pk), "group": str(world["group"].pk), "note": "by hand"}


def delivery_file(raw: bytes | dict[str, Any]) -> Callable[[dict[str, Any]], dict[str, Any]]:
    body = raw if isinstance(raw, bytes) else json.dumps(raw).encode()
    return lambda world: {"upload": SimpleUploadedFile("item.json", body, "application/json")}


def _props(**p: Any) -> dict[str, Any]:
    return {"datetime": "2026-11-20T00:12:34Z", **p}


DELIVERY_UPLOADS = [
    ("upload", b"NaN"),
    ("upload", b"\x00\x00\x00"),
    ("upload", b"{" * 500),
    ("upload", stac_item(properties=_props(datetime="2026-02-30T00:00:00Z"))),
    ("upload", stac_item(properties=_props(datetime="not a date"))),
    ("upload", stac_item(properties=_props(datetime="99999-01-01T00:00:00Z"))),
    ("upload", stac_item(properties=_props(**{"eo:cloud_cover": "NaN"}))),
    ("upload", stac_item(properties=_props(**{"eo:cloud_cover": 1e30}))),
    ("upload", stac_item(id="a\u0000b")),
    ("upload", stac_item(id="x" * 20_000)),
    ("upload", stac_item(assets={"visual": {"href": "javascript:alert(1)"}})),
    (
        "upload",
        stac_item(geometry={"type": "Polygon", "coordinates": [[[151, -33], [151.1, -33], [151, -33.1]]]}),
    ),
    ("upload", stac_item(geometry={"type": "Polygon", "coordinates": [[[float("nan"), -33], [151.1, -33]]]})),
    (
        "upload",
        stac_item(
            geometry={"type": "Polygon", "coordinates": [[[500, -33], [501, -33], [501, -32], [500, -33]]]}
        ),
    ),
    ("upload", stac_item(geometry={"type": "Point", "coordinates": [151.0, -33.0]})),
    ("upload", stac_item(geometry={"type": "Polygon", "coordinates": []})),
    (
        "upload",
        stac_item(geometry={"type": "Polygon", "coordinates": box_coords(10, 10, 11, 11)}),
    ),  # no overlap
]
DELIVERY_HOSTILE = [
    ("order", "not-a-uuid"),
    ("order", NUL),
    ("group", "00000000-0000-0000-0000-000000000000"),
    ("note", NUL),
    ("note", LONG),
    *DELIVERY_UPLOADS,
]


def capture_change_data(world: dict[str, Any]) -> dict[str, Any]:
    return {"status": "failed", "status_reason": "clouds"}


CAPTURE_CHANGE_HOSTILE = [*cases(CHOICE, "status"), *cases(TEXT, "status_reason")]


def movement_data(world: dict[str, Any]) -> dict[str, Any]:
    return {"credits": "500", "memo": "Goodwill"}


TOPUP_HOSTILE = [*cases(INTEGER, "credits"), ("credits", "0"), *cases(TEXT, "memo")]
ADJUST_HOSTILE = [
    *[(f, v) for f, v in cases(INTEGER, "credits") if v != "-5"],
    ("credits", "-1000001"),  # below zero
    *cases(TEXT, "memo"),
]


def study_url(world: dict[str, Any]) -> str:
    return f"/admin/tasking/feasibilitystudy/{world['study'].pk}/change/"


TARGETS: dict[str, Target] = {
    t.name: t
    for t in [
        Target("sensor add", lambda w: "/admin/tasking/sensor/add/", sensor_data, SENSOR_HOSTILE),
        Target(
            "sensor change",
            lambda w: f"/admin/tasking/sensor/{w['sensor'].pk}/change/",
            lambda w: sensor_data(w, sensor_id=w["sensor"].pk),
            SENSOR_HOSTILE[::3],  # the same form as "sensor add": a third of its cases
        ),
        Target("product add", lambda w: "/admin/orders/dataproduct/add/", product_data, PRODUCT_HOSTILE),
        Target(
            "product change",
            lambda w: "/admin/orders/dataproduct/archive-dp/change/",
            lambda w: product_data(w, pid="archive-dp"),
            PRODUCT_HOSTILE[::2],  # the same form as "product add": half of its cases
        ),
        Target(
            "tasking product add",
            lambda w: "/admin/tasking/taskingproduct/add/",
            tasking_product_data,
            TASKING_PRODUCT_HOSTILE,
        ),
        Target(
            "manual delivery add",
            lambda w: "/admin/orders/deliveredcapture/add/",
            delivery_data,
            DELIVERY_HOSTILE,
            files=delivery_file(stac_item()),
        ),
        Target(
            "delivered capture change",
            lambda w: f"/admin/orders/deliveredcapture/{w['capture'].pk}/change/",
            capture_change_data,
            CAPTURE_CHANGE_HOSTILE,
        ),
        Target(
            "wallet top-up",
            lambda w: f"/admin/billing/wallet/{w['wallet'].pk}/topup/",
            movement_data,
            TOPUP_HOSTILE,
        ),
        Target(
            "wallet adjust",
            lambda w: f"/admin/billing/wallet/{w['wallet'].pk}/adjust/",
            movement_data,
            ADJUST_HOSTILE,
        ),
        Target(
            "study change (read-only)",
            study_url,
            lambda w: {"decision": "accepted", "deadline": "2099-01-01 00:00:00"},
            [("decision", "accepted"), ("deadline", "2026-02-30 00:00:00"), ("decision", NUL)],
            ok_status=403,
            refused_status=403,
        ),
        Target(
            "quotation add (read-only)",
            lambda w: "/admin/tasking/quotation/add/",
            lambda w: {"order": str(w["order"].pk), "credits": "100", "valid_until_0": "2099-01-01"},
            [("credits", "-5"), ("credits", HUGE_INT), ("valid_until_0", "2026-02-30")],
            ok_status=403,
            refused_status=403,
        ),
        Target(
            "quotation change (read-only)",
            lambda w: f"/admin/tasking/quotation/{w['quotation'].pk}/change/",
            lambda w: {"credits": "100"},
            [("credits", "-5"), ("credits", "nan"), ("credits", HUGE_INT)],
            ok_status=403,
            refused_status=403,
        ),
    ]
}

CASES = [(name, f, v) for name, t in TARGETS.items() for f, v in t.hostile]


def _case_id(case: tuple[str, str, Any]) -> str:
    name, f, v = case
    text = v if isinstance(v, str) else json.dumps(v) if isinstance(v, dict) else v.decode("latin-1")
    text = text.replace("\x00", "NUL")
    return f"{name}:{f}={text[:24]}{'…' if len(text) > 24 else ''}"


# --- the world they are posted against ------------------------------------------------------------


@pytest.fixture
def world(db) -> dict[str, Any]:
    from tasking.models import FeasibilityOption

    org = make_org(credits=1_000_000)
    admin_user = make_user(org=org, role="admin")
    sensor = Sensor.objects.create(
        id="existing-sat",
        name="Existing",
        constellation="E",
        operator="Ops",
        resolutions=["50cm", "1m"],
        capture_frequencies=["ONCE"],
        file_formats=["GeoTIFF"],
        datums=["WGS84"],
    )
    DataProduct.objects.create(
        id="archive-dp", name="Archive", order_type="archive", collection="c", credits_per_km2=10
    )
    tasking_dp = DataProduct.objects.create(
        id="tasking-dp", name="Tasking", order_type="tasking", collection="t", credits_per_km2=10
    )
    order = make_tasking_order(org=org, aois=[AOI], names=["Hunter"])
    group = order.groups.get()
    capture = DeliveredCapture.objects.create(
        order=order,
        group=group,
        scene_id="EXISTING_1",
        footprint=group.geometry,
        acquired_at=order.created_at,
        delivered_at=order.created_at,
    )
    from django.utils import timezone

    study = FeasibilityStudy.objects.create(
        org=org, order=order, deadline=timezone.now() + timezone.timedelta(days=3), created_by=admin_user
    )
    FeasibilityOption.objects.create(
        study=study,
        description="Standard",
        window_start=timezone.now(),
        window_end=timezone.now() + timezone.timedelta(days=10),
        max_off_nadir=20,
        valid_until=timezone.now() + timezone.timedelta(days=3),
    )
    quotation = Quotation.objects.create(
        org=org, order=order, credits=100, valid_until=timezone.now() + timezone.timedelta(days=3)
    )
    return {
        "org": org,
        "sensor": sensor,
        "tasking_dp": tasking_dp,
        "order": order,
        "group": group,
        "capture": capture,
        "wallet": Wallet.objects.get(org=org),
        "study": study,
        "quotation": quotation,
    }


@pytest.fixture
def support_client(db) -> Client:
    user = make_user(org=None, role=None, email="desk-hostile@geopera.example", staff=True)
    user.groups.add(support_group_ensure())
    assert not user.is_superuser
    client = Client(raise_request_exception=False)
    client.force_login(user)
    return client


STORED = (Sensor, TaskingProduct, DataProduct, DeliveredCapture, DeliveryBatch, Wallet, LedgerEntry)


def _rows(model) -> list[str]:
    def text(value: Any) -> str:
        return value.wkt if isinstance(value, GEOSGeometry) else repr(value)

    return sorted("|".join(map(text, row)) for row in model.objects.values_list())


def snapshot() -> dict[str, Any]:
    rows = {m.__name__: _rows(m) for m in (*STORED, FeasibilityStudy, Quotation)}
    rows["audit"] = AuditEvent.objects.filter(action__startswith="wallet.").count()
    return rows


def post(client: Client, target: Target, world: dict[str, Any], **override: Any):
    data = {**target.data(world), **target.files(world)}
    for key, value in override.items():
        if key == "upload":
            data.update(delivery_file(value)(world))
        else:
            data[key] = value
    return client.post(target.url(world), data)


# --- the tests ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(TARGETS))
def test_the_valid_form_is_accepted(support_client, world, name):
    """The harness is sound: each form's base body succeeds (or, read-only, is a 403)."""
    target = TARGETS[name]
    response = post(support_client, target, world)
    assert response.status_code == target.ok_status, response.content.decode()[:2000]


@pytest.mark.parametrize("name", list(TARGETS))
def test_every_hostile_value_is_a_form_error_and_stores_nothing(support_client, world, name):
    """Each of the target's cases in turn (one world per form, to keep the sweep fast); every case
    that answers otherwise is listed in the failure."""
    target = TARGETS[name]
    failures = []
    for fieldname, value in target.hostile:
        label = _case_id((name, fieldname, value))
        before = snapshot()
        response = post(support_client, target, world, **{fieldname: value})
        body = response.content.decode(errors="replace")
        if response.status_code >= 500:
            failures.append(f"{label}: {response.status_code}")
        elif response.status_code != target.refused_status:
            failures.append(f"{label}: {response.status_code} (wanted {target.refused_status})")
        elif target.refused_status == 200 and "errornote" not in body and "errorlist" not in body:
            failures.append(f"{label}: 200 without a form error")
        elif snapshot() != before:
            failures.append(f"{label}: something was stored")
    assert not failures, f"{len(failures)} of {len(target.hostile)}:\n" + "\n".join(failures)


def test_the_sweep_size_is_what_the_readme_says():
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    assert f"{len(CASES)} hostile admin posts" in readme, len(CASES)
