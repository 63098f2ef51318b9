"""The STAC API against the tools its users have, over a live server: stac-api-validator with
every advertised conformance class, pystac-client (every search parameter, paging past 1,000
items) and pystac's JSON-Schema validation of items and collections (schemas vendored in
tests/orders/stac_schemas, so nothing is downloaded)."""

from __future__ import annotations

import json
import subprocess
import uuid
from datetime import timedelta
from pathlib import Path

import pytest

from orders.catalog.services import archive_products_ensure
from orders.models import Capture, DataProduct
from tests.geometry import box

from .conftest import utc

pytestmark = pytest.mark.django_db(transaction=True)

VALIDATOR = Path(__file__).resolve().parents[2] / "var/tools/stac-api-validator/bin/stac-api-validator"
SCHEMAS = Path(__file__).resolve().parent / "stac_schemas"
SYDNEY = {"type": "Polygon", "coordinates": [[[150, -35], [152, -35], [152, -33], [150, -33], [150, -35]]]}


def _load(count: int, *, collection: str = "pleiades") -> None:
    """`count` captures over Sydney, one hour apart, cloud cover 0..49, two platforms."""
    archive_products_ensure()
    product = DataProduct.objects.get(collection=collection, order_type="archive")
    start = utc(2024, 1, 1)
    Capture.objects.bulk_create(
        [
            Capture(
                id=uuid.uuid4(),
                scene_id=f"syd-{i:05d}",
                collection=collection,
                data_product=product,
                footprint=box(151.0 + (i % 7) * 0.01, -34.0, 151.2, -33.8),
                acquired_at=start + timedelta(hours=i // 2),  # pairs share a time: ties need the id
                cloud_cover=float(i % 50),
                off_nadir=5.0,
                gsd=0.5,
                sun_elevation=40.0,
                platform="PHR1A" if i % 2 else "PHR1B",
                thumbnail_url="/static/img/quicklook.svg",
                properties={
                    "sat:orbit_state": "descending",
                    "instruments": ["optical"],
                    "constellation": "pleiades",
                },
            )
            for i in range(count)
        ],
        batch_size=2000,
    )


@pytest.fixture
def open_stac(settings):
    settings.STAC_SEARCH_RATE_LIMIT = "100000/min"
    settings.STAC_ITEMS_RATE_LIMIT = "100000/min"


def _offline_pystac_validator():
    import pystac.validation
    from pystac.validation.stac_validator import JsonSchemaSTACValidator

    validator = JsonSchemaSTACValidator()
    for path in SCHEMAS.rglob("*.json"):
        validator.schema_cache["https://" + path.relative_to(SCHEMAS).as_posix()] = json.loads(
            path.read_text()
        )
    pystac.validation.set_validator(validator)
    return validator


def test_stac_api_validator_finds_no_errors_in_any_advertised_class(live_server, open_stac):
    assert VALIDATOR.exists(), "run `make tools` (make test does) to build var/tools/stac-api-validator"
    _load(40)
    args = [str(VALIDATOR), "--root-url", f"{live_server.url}/stac/", "--collection", "pleiades"]
    for cc in ("core", "collections", "features", "item-search", "filter", "item-search#sort",
               "item-search#fields", "item-search#query"):  # fmt: skip
        args += ["--conformance", cc]
    args += ["--geometry", json.dumps(SYDNEY), "--fields-nested-property", "properties.eo:cloud_cover"]
    args += ["--query-comparison-field", "eo:cloud_cover", "--query-eq-value", "3", "--query-neq-value", "3"]
    for op in ("lt", "lte", "gt", "gte"):
        args += [f"--query-{op}-value", "10"]
    args += ["--query-substring-field", "platform", "--query-starts-with-value", "PHR"]
    args += ["--query-ends-with-value", "1A", "--query-contains-value", "HR1"]
    args += ["--query-in-field", "instruments", "--query-in-values", "optical"]
    run = subprocess.run(args, capture_output=True, text=True, timeout=400)
    out = run.stdout + run.stderr
    assert "Traceback" not in out, out[-4000:]
    errors = out.split("Errors:", 1)[1].splitlines() if "Errors:" in out else []
    # Offline, its stac-validator cannot download the JSON Schemas (pystac validates those below,
    # from vendored copies); every other finding counts.
    real = [e for e in errors if e.startswith("- ") and "schemas.stacspec.org" not in e]
    assert "Errors:" in out and real == [], "\n".join(real) or out[-4000:]


def test_pystac_client_every_parameter_and_paging_past_a_thousand(live_server, open_stac):
    from pystac_client import Client as StacClient

    validator = _offline_pystac_validator()
    _load(1030)
    api = StacClient.open(f"{live_server.url}/stac/")
    try:
        for coll in api.get_collections():
            coll.validate()  # STAC 1.0.0 collection schema + declared extensions, offline
        pleiades = api.get_collection("pleiades")
        assert pleiades.extent.spatial.bboxes[0] == pytest.approx([151.0, -34.0, 151.2, -33.8])
        assert pleiades.extent.temporal.intervals[0][0].isoformat().startswith("2024-01-01")

        everything = api.search(collections=["pleiades"], limit=500, max_items=None)
        assert everything.matched() == 1030
        seen = [item.id for item in everything.items()]
        assert len(seen) == 1030 and len(set(seen)) == 1030
        sample = list(api.search(collections=["pleiades"], limit=50, max_items=50).items())
        for item in sample:
            item.validate()

        shorthand = api.search(bbox=[150, -35, 152, -33], query=["eo:cloud_cover<2"], limit=100)
        as_dict = api.search(intersects=SYDNEY, query={"eo:cloud_cover": {"lt": 2}}, limit=100)
        assert shorthand.matched() == as_dict.matched() == 1030 // 50 * 2 + 2
        assert {i.properties["eo:cloud_cover"] for i in shorthand.items()} == {0.0, 1.0}

        text = api.search(filter="eo:cloud_cover = 7 AND platform = 'PHR1A'", filter_lang="cql2-text")
        as_json = api.search(
            filter={"op": "and", "args": [{"op": "=", "args": [{"property": "eo:cloud_cover"}, 7]},
                                          {"op": "=", "args": [{"property": "platform"}, "PHR1A"]}]},
        )  # fmt: skip
        assert sorted(i.id for i in text.items()) == sorted(i.id for i in as_json.items())
        assert text.matched() == 21

        day = api.search(datetime="2024-01-02T00:00:00Z/2024-01-02T23:59:59Z", sortby="-eo:cloud_cover")
        clouds = [i.properties["eo:cloud_cover"] for i in day.items()]
        assert len(clouds) == 48 and clouds == sorted(clouds, reverse=True)

        slim = next(api.search(max_items=1, fields={"include": ["id", "properties.gsd"]}).items_as_dicts())
        assert slim["properties"] == {"gsd": 0.5} and "geometry" not in slim
    finally:
        api._stac_io.session.close()  # end keep-alive threads before the test database goes
        assert validator.schema_cache  # (offline schemas were in use)
