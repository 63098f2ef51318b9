"""The archive map's vector tiles (/tiles/captures/{z}/{x}/{y}.mvt): layers, attributes and ids as
a decoder reads them, exact counting across tiles at every zoom, filters, caching and size."""

from __future__ import annotations

import datetime as dt
import io
import json
import math
import random

import mapbox_vector_tile
import pytest
from django.db import connection
from django.db.models.expressions import RawSQL
from django.test import Client
from django.test.utils import CaptureQueriesContext

from orders.catalog.data import ARCHIVE_HOST
from orders.models import Capture, DataProduct
from orders.pricing import credits_for_area
from tests.factories import make_capture
from tests.geometry import box

from .conftest import utc

pytestmark = pytest.mark.django_db

COLLECTIONS = ["pleiades", "spot", "pleiades-neo"]


@pytest.fixture
def operator_client(operator_user):
    client = Client()
    client.force_login(operator_user)
    return client


def seed(n: int, *, seed: int = 11, west=-12.0, south=-12.0, east=12.0, north=12.0) -> list[Capture]:
    """`n` boxes around (0°, 0°), where the tile grid's borders of every zoom meet, so many cross
    tile borders (sizes from 0.05° to 3°)."""
    rng = random.Random(seed)
    products = {p.collection: p for p in DataProduct.objects.filter(order_type="archive")}
    rows = []
    for i in range(n):
        collection = COLLECTIONS[i % len(COLLECTIONS)]
        size = rng.choice([0.05, 0.2, 0.8, 3.0])
        x0 = rng.uniform(west, east - size)
        y0 = rng.uniform(south, north - size)
        rows.append(
            Capture(
                scene_id=f"T-{i:04d}",
                collection=collection,
                host=ARCHIVE_HOST,
                data_product=products[collection],
                footprint=box(x0, y0, x0 + size, y0 + size),
                acquired_at=utc(2024, 1, 1) + dt.timedelta(days=i),
                cloud_cover=(i * 7) % 100,
                off_nadir=(i * 3) % 40,
                gsd=[0.3, 0.5, 1.5][i % 3],
                sun_elevation=40.0,
                platform="SIM",
            )
        )
    return Capture.objects.bulk_create(rows)


def tile(client, z, x, y, **filters):
    return client.get(f"/tiles/captures/{z}/{x}/{y}.mvt", filters)


def decode(resp) -> dict:
    assert resp.status_code == 200, resp.content
    assert resp["Content-Type"] == "application/vnd.mapbox-vector-tile"
    return mapbox_vector_tile.decode(resp.content) if resp.content else {}


def tiles_over(z: int, west: float, south: float, east: float, north: float):
    """Every tile address of zoom `z` that a lon/lat box touches (plus one tile around it)."""
    n = 1 << z

    def tx(lon: float) -> int:
        return int((lon + 180) / 360 * n)

    def ty(lat: float) -> int:
        r = math.radians(lat)
        return int((1 - math.log(math.tan(r) + 1 / math.cos(r)) / math.pi) / 2 * n)

    for x in range(max(0, tx(west) - 1), min(n - 1, tx(east) + 1) + 1):
        for y in range(max(0, ty(north) - 1), min(n - 1, ty(south) + 1) + 1):
            yield x, y


def counted(client, z: int, **filters) -> tuple[int, int, list[str]]:
    """(sum of density counts, footprints drawn at home, home ids) over the zoom's tiles."""
    cells = 0
    home: list[str] = []
    for x, y in tiles_over(z, -13, -13, 13, 13):
        layers = decode(tile(client, z, x, y, **filters))
        cells += sum(f["properties"]["count"] for f in layers.get("density", {}).get("features", []))
        home += [
            f["properties"]["id"]
            for f in layers.get("captures", {}).get("features", [])
            if f["properties"]["home"]
        ]
    return cells, len(home), home


def test_tile_layers_attributes_and_feature_ids(operator_client, products):
    seed(40)
    layers = decode(tile(operator_client, 3, 4, 3))
    assert set(layers) == {"captures"}
    feats = layers["captures"]["features"]
    assert feats and layers["captures"]["extent"] == 4096
    rows = {
        c.scene_id: c
        for c in Capture.objects.filter(scene_id__in=[f["properties"]["id"] for f in feats]).select_related(
            "data_product"
        )
    }
    area = dict(
        Capture.objects.filter(scene_id__in=rows)
        .annotate(a=RawSQL("ST_Area(footprint::geography) / 1e6", ()))
        .values_list("scene_id", "a")
    )
    for f in feats:
        p = f["properties"]
        assert set(p) == {"id", "collection", "acquired", "cloud", "off_nadir", "gsd", "credits", "home"}
        c = rows[p["id"]]
        assert f["id"] == c.tile_key and f["type"] == "Feature"
        assert f["geometry"]["type"] in ("Polygon", "MultiPolygon")
        assert p["collection"] == c.collection and p["gsd"] == c.gsd
        assert p["acquired"] == c.acquired_at.strftime("%Y-%m-%dT%H:%M:%SZ")
        assert p["cloud"] == round(c.cloud_cover, 1) and p["off_nadir"] == round(c.off_nadir, 1)
        assert p["credits"] == credits_for_area(product=c.data_product, area_km2=area[c.scene_id])
    assert len({f["id"] for f in feats}) == len(feats)


def test_a_crowded_tile_carries_a_density_grid_instead(operator_client, products, settings):
    settings.TILES_MAX_FEATURES = 5
    seed(120)
    resp = tile(operator_client, 0, 0, 0)
    layers = decode(resp)
    assert set(layers) == {"density"}
    cells = layers["density"]["features"]
    # A density tile's size is bounded by its grid, whatever the number of captures it counts.
    assert len(cells) <= settings.TILES_DENSITY_GRID**2 and len(resp.content) <= 48 * len(cells)
    assert sum(c["properties"]["count"] for c in cells) == 120
    assert all(set(c["properties"]) == {"count"} and c["properties"]["count"] > 0 for c in cells)
    assert len({c["id"] for c in cells}) == len(cells)
    # Cells are squares of the 16 × 16 grid (in tile units 4096 / 16 = 256 a side).
    ring = cells[0]["geometry"]["coordinates"][0]
    xs, ys = {p[0] for p in ring}, {p[1] for p in ring}
    assert max(xs) - min(xs) == 256 and max(ys) - min(ys) == 256


@pytest.mark.parametrize(
    ("filters", "summary"),
    [
        ({}, True),  # z0–z6 density cells from the summary table
        ({}, False),  # the same, counted live
        ({"collections": "pleiades,spot"}, True),  # the summary is keyed by collection
        (
            {"collections": "pleiades,spot", "query": json.dumps({"eo:cloud_cover": {"lte": 50}})},
            True,
        ),  # live
    ],
)
def test_every_matching_capture_is_counted_exactly_once_at_every_zoom(
    operator_client, products, settings, filters, summary
):
    settings.TILES_MAX_FEATURES = 6
    settings.TILES_DENSITY_SUMMARY = summary
    seed(300)
    qs = Capture.objects.all()
    if filters:
        qs = qs.filter(collection__in=["pleiades", "spot"])
    if "query" in filters:
        qs = qs.filter(cloud_cover__lte=50)
    expected = qs.count()
    assert expected > 0
    mixed = 0
    for z in range(0, 7):
        cells, drawn, home = counted(operator_client, z, **filters)
        mixed += bool(cells and drawn)
        assert cells + drawn == expected, z
        assert len(set(home)) == len(home), z  # a footprint is "home" in one tile only
        if z <= 1:
            assert drawn == 0 and cells == expected  # all aggregated: the cells alone add up
    assert mixed >= 2  # zooms where some tiles draw footprints and others count them


def summary_rows() -> set[tuple]:
    with connection.cursor() as c:
        c.execute(
            "SELECT level, cx, cy, host, collection, data_product_id, n FROM orders_capturedensity WHERE n <> 0"
        )
        return set(c.fetchall())


def summary_recount() -> set[tuple]:
    """The summary as it should be: every capture counted afresh (levels 4–12), in Python from the
    stored points, with the cell arithmetic written out independently of `orders_tile_cell`."""
    origin = math.pi * 6378137.0
    rows: dict[tuple, int] = {}
    with connection.cursor() as c:
        c.execute(
            "SELECT ST_X(tile_point), ST_Y(tile_point), host, collection, data_product_id FROM orders_capture"
        )
        points = c.fetchall()
    for px, py, host, collection, product in points:
        for level in range(4, 13):
            cells = 1 << level
            size = 2 * origin / cells
            cx = min(max(math.floor((px + origin) / size), 0), cells - 1)
            cy = min(max(math.floor((-py + origin) / size), 0), cells - 1)
            key = (level, cx, cy, host, collection, product)
            rows[key] = rows.get(key, 0) + 1
    return {(*k, v) for k, v in rows.items()}


def test_rebuild_tile_density_restores_a_drifted_summary(products):
    """Captures written with the summary's triggers disabled (as `pg_restore --disable-triggers`
    does) leave it short; `manage.py rebuild_tile_density` recounts it to match a fresh recount."""
    from django.core.management import call_command

    from orders.catalog.tiles import catalog_version

    seed(60)
    assert summary_rows() == summary_recount()
    with connection.cursor() as c:
        c.execute("SET CONSTRAINTS ALL IMMEDIATE")  # no deferred FK checks pending: ALTER may run
        c.execute("ALTER TABLE orders_capture DISABLE TRIGGER orders_capture_density_insert")
        c.execute("ALTER TABLE orders_capture DISABLE TRIGGER orders_capture_density_delete")
        c.execute("ALTER TABLE orders_capture DISABLE TRIGGER orders_capture_density_update")
    Capture.objects.filter(scene_id__in=[f"T-{i:04d}" for i in range(10, 20)]).update(
        footprint=box(20, 20, 21, 21)
    )
    Capture.objects.filter(scene_id__in=["T-0001", "T-0002"]).delete()
    with connection.cursor() as c:
        c.execute("SET CONSTRAINTS ALL IMMEDIATE")
        c.execute("ALTER TABLE orders_capture ENABLE TRIGGER orders_capture_density_insert")
        c.execute("ALTER TABLE orders_capture ENABLE TRIGGER orders_capture_density_delete")
        c.execute("ALTER TABLE orders_capture ENABLE TRIGGER orders_capture_density_update")
    drifted = summary_rows()
    assert drifted != summary_recount()  # the drift is real
    before = catalog_version()
    call_command("rebuild_tile_density", stdout=io.StringIO())
    assert summary_rows() == summary_recount() != drifted
    assert catalog_version() > before  # cached tiles drawn from the drifted counts go stale
    with connection.cursor() as c:  # the triggers still keep it afterwards
        c.execute("SELECT count(*) FROM orders_capturedensity WHERE n < 0")
        assert c.fetchone() == (0,)
    Capture.objects.filter(scene_id="T-0003").delete()
    assert summary_rows() == summary_recount()


def density_of(client, z: int, **filters) -> dict[int, int]:
    cells: dict[int, int] = {}
    for x, y in tiles_over(z, -13, -13, 13, 13):
        for f in decode(tile(client, z, x, y, **filters)).get("density", {}).get("features", []):
            cells[f["id"]] = f["properties"]["count"]
    return cells


def test_the_density_summary_follows_every_write_and_matches_the_live_count(
    operator_client, products, settings
):
    """Inserts, moves, re-collections, deletes, a bulk update and a product taken off sale: the
    summary table equals a fresh recount after each, and its tiles equal the live-counted ones."""
    settings.TILES_MAX_FEATURES = 6
    settings.TILES_RATE_LIMIT = "100000/min"
    caps = seed(200)
    assert summary_rows() == summary_recount() and summary_rows()
    Capture.objects.filter(pk=caps[0].pk).update(footprint=box(100, 10, 101, 11))
    Capture.objects.filter(pk=caps[1].pk).update(collection="spot", data_product=products["spot"])
    Capture.objects.filter(pk__in=[c.pk for c in caps[2:20]]).delete()
    Capture.objects.filter(collection="pleiades").update(cloud_cover=1.0)  # no cell changes
    make_capture("LATE", footprint=box(-1, -1, -0.5, -0.5))
    assert summary_rows() == summary_recount()
    DataProduct.objects.filter(collection="spot").update(is_active=False)  # not sellable: not drawn
    sellable = Capture.objects.filter(data_product__is_active=True).count()
    for z in range(0, 8):
        settings.TILES_DENSITY_SUMMARY = True
        from_summary = density_of(operator_client, z)
        by_collection = density_of(operator_client, z, collections="pleiades")
        settings.TILES_DENSITY_SUMMARY = False
        assert from_summary == density_of(operator_client, z), z
        assert by_collection == density_of(operator_client, z, collections="pleiades"), z
        if z <= 1:
            assert sum(from_summary.values()) == sellable
            assert sum(by_collection.values()) == Capture.objects.filter(collection="pleiades").count()
    Capture.objects.all().delete()
    assert summary_rows() == set()


def test_the_density_summary_follows_seed_and_import(products, tmp_path):
    from io import StringIO

    from django.core.management import call_command

    from .test_import_catalog import item

    call_command("seed_catalog", count=300, seed=5, stdout=StringIO())
    assert Capture.objects.count() == 300 and summary_rows() == summary_recount()
    path = tmp_path / "items.json"
    far = {"type": "Polygon", "coordinates": [[[10, 40], [10.2, 40], [10.2, 40.2], [10, 40.2], [10, 40]]]}
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [item("IMP-1"), item("IMP-2")]}))
    call_command("import_catalog", str(path), stdout=StringIO())
    assert summary_rows() == summary_recount()
    # Re-importing an item with a new footprint moves its count (the upsert's UPDATE).
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [item("IMP-1", geometry=far)]}))
    call_command("import_catalog", str(path), stdout=StringIO())
    assert Capture.objects.count() == 302 and summary_rows() == summary_recount()


def test_filters_narrow_the_tile_like_the_search(operator_client, products):
    make_capture("OLD", footprint=box(1, 1, 2, 2), acquired_at=utc(2020, 1, 1), cloud=80)
    make_capture("NEW", collection="spot", footprint=box(1, 1, 2, 2), acquired_at=utc(2025, 1, 1), cloud=5)

    def ids(**f):
        layers = decode(tile(operator_client, 4, 8, 7, **f))
        return sorted(x["properties"]["id"] for x in layers.get("captures", {}).get("features", []))

    assert ids() == ["NEW", "OLD"]
    assert ids(collections="spot") == ["NEW"]
    assert ids(datetime="2024-01-01T00:00:00Z/..") == ["NEW"]
    assert ids(query=json.dumps({"eo:cloud_cover": {"gte": 50}})) == ["OLD"]
    assert ids(ids="OLD") == ["OLD"]
    aoi = {"type": "Polygon", "coordinates": [[[1.5, 1.5], [1.6, 1.5], [1.6, 1.6], [1.5, 1.5]]]}
    assert ids(intersects=json.dumps(aoi)) == ["NEW", "OLD"]
    far = {"type": "Polygon", "coordinates": [[[5.5, 5.5], [5.6, 5.5], [5.6, 5.6], [5.5, 5.5]]]}
    assert ids(intersects=json.dumps(far)) == []


@pytest.mark.parametrize(
    ("filters", "says"),
    [
        ({"datetime": "yesterday"}, "RFC 3339"),
        ({"query": "{not json"}, "not valid JSON"),
        ({"query": json.dumps({"eo:cloud_cover": {"between": 3}})}, "unknown operator"),
        ({"intersects": "[1,2]"}, "GeoJSON"),
        ({"intersects": json.dumps({"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [0, 0]]]})}, ""),
        ({"bbox": "0,0,1,1"}, "Unknown parameter"),
        ({"collections": "a" * 300}, "at most 200"),
    ],
)
def test_bad_filters_are_a_400_problem(operator_client, products, filters, says):
    resp = tile(operator_client, 2, 1, 1, **filters)
    assert resp.status_code == 400
    assert resp["Content-Type"] == "application/problem+json"
    assert says in resp.json()["detail"]


def test_a_repeated_filter_and_an_unknown_host_are_refused(operator_client, products):
    resp = operator_client.get("/tiles/captures/1/0/0.mvt?collections=spot&collections=pleiades")
    assert resp.status_code == 400 and "once" in resp.json()["detail"]
    resp = tile(operator_client, 1, 0, 0, host_name="elsewhere")
    assert resp.status_code == 404 and resp["Content-Type"] == "application/problem+json"


@pytest.mark.parametrize("path", ["23/0/0", "0/1/0", "0/0/1", "3/8/0", "3/0/8", "99/0/0", "1/-1/0", "1/0/x"])
def test_tiles_off_the_grid_are_404(operator_client, products, path):
    assert operator_client.get(f"/tiles/captures/{path}.mvt").status_code == 404


def test_z22_corner_tile_exists(operator_client, products):
    n = (1 << 22) - 1
    assert operator_client.get(f"/tiles/captures/22/{n}/{n}.mvt").status_code == 200


def test_tiles_need_a_signed_in_member(client, products):
    resp = client.get("/tiles/captures/0/0/0.mvt")
    assert resp.status_code == 302 and "/login" in resp["Location"]


def test_unchanged_tile_is_a_304_without_the_tile_query_and_an_import_changes_the_etag(
    operator_client, products
):
    seed(10)
    with CaptureQueriesContext(connection) as queries:
        first = tile(operator_client, 2, 2, 1)
    # Without If-None-Match the catalog version is read in the tile's own statement (one round
    # trip, the same snapshot), not before it.
    versioned = [q["sql"] for q in queries.captured_queries if "orders_catalogversion" in q["sql"]]
    assert len(versioned) == 1 and "ST_AsMVT" in versioned[0]
    etag = first["ETag"]
    assert first.status_code == 200 and etag.startswith('"') and first["Cache-Control"] == "private, no-cache"
    with CaptureQueriesContext(connection) as queries:
        again = operator_client.get("/tiles/captures/2/2/1.mvt", HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304 and again["ETag"] == etag and again.content == b""
    assert not any("ST_AsMVT" in q["sql"] for q in queries.captured_queries)
    # Other filters are another tile.
    assert tile(operator_client, 2, 2, 1, collections="spot")["ETag"] != etag
    # A capture imported anywhere changes the catalog's version.
    make_capture("NEW-ONE", footprint=box(100, 10, 101, 11))
    changed = operator_client.get("/tiles/captures/2/2/1.mvt", HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200 and changed["ETag"] != etag
    # So does a price change (tiles carry list prices).
    etag = changed["ETag"]
    DataProduct.objects.filter(collection="pleiades").update(credits_per_km2=999)
    assert operator_client.get("/tiles/captures/2/2/1.mvt", HTTP_IF_NONE_MATCH=etag).status_code == 200


def test_the_largest_tile_stays_under_500_kb(operator_client, products, settings):
    """TILES_MAX_FEATURES footprints of 400 vertices each, all in one z12 tile (lon 0–0.088°):
    the fullest tile a footprint layer can be."""
    limit = settings.TILES_MAX_FEATURES
    rng = random.Random(3)
    products_ = {p.collection: p for p in DataProduct.objects.filter(order_type="archive")}
    from django.contrib.gis.geos import MultiPolygon, Polygon

    rows = []
    for i in range(limit):
        cx, cy, r = rng.uniform(0.01, 0.078), rng.uniform(-0.078, -0.01), rng.uniform(0.002, 0.02)
        ring = [
            (cx + r * math.cos(2 * math.pi * k / 400), cy + r * math.sin(2 * math.pi * k / 400))
            for k in range(400)
        ]
        ring.append(ring[0])
        rows.append(
            Capture(
                scene_id=f"BIG-{i:04d}-{'x' * 40}",
                collection="pleiades",
                host=ARCHIVE_HOST,
                data_product=products_["pleiades"],
                footprint=MultiPolygon(Polygon(ring), srid=4326),
                acquired_at=utc(2024, 1, 1) + dt.timedelta(minutes=i),
                cloud_cover=rng.uniform(0, 100),
                off_nadir=rng.uniform(0, 40),
                gsd=rng.uniform(0.3, 2),
                sun_elevation=40.0,
                platform="SIM",
            )
        )
    Capture.objects.bulk_create(rows)
    for z in (12, 14):  # the whole cluster in one tile; z14: zoomed in, fewer but larger shapes
        resp = tile(operator_client, z, 1 << (z - 1), 1 << (z - 1))
        layers = decode(resp)
        assert len(resp.content) < 500_000, (z, len(resp.content))
    assert len(layers["captures"]["features"]) > 0
    full = tile(operator_client, 12, 2048, 2048)
    assert len(decode(full)["captures"]["features"]) == limit and len(full.content) < 500_000
    make_capture("ONE-MORE", footprint=box(0.02, -0.05, 0.03, -0.04))
    assert set(decode(tile(operator_client, 12, 2048, 2048))) == {"density"}


def test_footprints_are_simplified_for_the_zoom(operator_client, products):
    from django.contrib.gis.geos import MultiPolygon, Polygon

    ring = [
        (10 + 5 * math.cos(2 * math.pi * k / 5000), 10 + 5 * math.sin(2 * math.pi * k / 5000))
        for k in range(5000)
    ]
    ring.append(ring[0])
    c = make_capture("ROUND")
    Capture.objects.filter(pk=c.pk).update(footprint=MultiPolygon(Polygon(ring), srid=4326))
    geom = decode(tile(operator_client, 2, 2, 1))["captures"]["features"][0]["geometry"]
    assert len(geom["coordinates"][0]) < 200


def test_tiles_are_rate_limited_per_user(operator_client, products, settings):
    settings.TILES_RATE_LIMIT = "3/min"
    codes = [tile(operator_client, 0, 0, 0).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]


def test_the_archive_products_are_analysed_for_the_planner(db):
    """The tile and search joins need the planner to know how many sellable products there are
    (unanalysed, it guesses one and picks a nested loop over a huge index scan per product)."""
    from orders.catalog.services import archive_products_ensure

    archive_products_ensure()
    with connection.cursor() as c:
        c.execute("SELECT reltuples FROM pg_class WHERE relname = 'orders_dataproduct'")
        (reltuples,) = c.fetchone()
    assert reltuples >= DataProduct.objects.filter(order_type="archive").count() > 0


def _density_groups(write) -> int:
    """How many summary groups the density trigger formed while `write()` ran, read from the
    trigger statement's own plan (auto_explain, nested statements, with ANALYZE, sent to this
    connection as NOTICEs): rows the upsert's aggregate kept plus those its HAVING removed."""
    notices: list[str] = []

    def collect(diag) -> None:
        notices.append(diag.message_primary or "")

    connection.ensure_connection()
    connection.connection.add_notice_handler(collect)
    names = ("log_min_duration", "log_nested_statements", "log_analyze", "log_level", "log_format")
    try:
        with connection.cursor() as c:
            c.execute("LOAD 'auto_explain'")
            for name, value in zip(names, ("0", "on", "on", "notice", "json"), strict=True):
                c.execute(f"SET auto_explain.{name} = '{value}'")
        write()
    finally:
        with connection.cursor() as c:
            for name in names:
                c.execute(f"RESET auto_explain.{name}")
        connection.connection.remove_notice_handler(collect)
    plans = [json.loads(n[n.index("{") :]) for n in notices if "INSERT INTO orders_capturedensity" in n]
    assert plans, notices  # the trigger ran its upsert

    def groups(node: dict) -> int:
        own = (
            node["Actual Rows"] + node.get("Rows Removed by Filter", 0)
            if node["Node Type"] == "Aggregate"
            else 0
        )
        return own + sum(groups(child) for child in node.get("Plans", []))

    return sum(groups(p["Plan"]) for p in plans)


def test_an_update_touching_no_summary_key_does_not_regroup_the_summary(products):
    """Cloud, date or quicklook edits leave the summary alone without grouping every updated row;
    a footprint or collection change still moves its counts (the summary counts per cell, host,
    collection and product: an acquisition date is not one of its keys)."""
    caps = seed(40)
    before = summary_rows()
    assert before == summary_recount()
    unrelated = _density_groups(
        lambda: Capture.objects.update(cloud_cover=2.0, acquired_at=utc(2024, 1, 2), quicklook_url="q")
    )
    assert unrelated == 0 and summary_rows() == before
    moved = _density_groups(
        lambda: Capture.objects.filter(pk=caps[0].pk).update(footprint=box(100, 10, 101, 11))
    )
    assert 0 < moved <= 2 * 9  # one capture out of one cell and into another, at nine levels
    assert summary_rows() == summary_recount() != before
    Capture.objects.filter(pk=caps[1].pk).update(collection="spot", data_product=products["spot"])
    assert summary_rows() == summary_recount()
