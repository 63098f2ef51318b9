"""Writes to the archive catalog: bulk loading generated scenes (COPY) and importing STAC items.

The catalog is the reseller's shared archive metadata, not tenant data: no org owns a Capture.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib.gis.geos import MultiPolygon
from django.db import connection, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from geopera_web import jsonbounds
from geopera_web.safe_urls import assets_with_stored_hrefs

from ..geometry import GeometryError, geojson_geometry
from ..models import Capture, DataProduct, OrderType
from .data import ARCHIVE_HOST, SENSORS, SceneRow, properties_json
from .extents import collection_extents_forget


def watches_match_enqueue(*, since: datetime) -> None:
    from ..watches.services import watches_match_enqueue as enqueue  # watches depend on the catalog

    enqueue(since=since)


@transaction.atomic
def archive_products_ensure() -> int:
    """Create or update the archive DataProducts (idempotent). Returns how many were created."""
    created = 0
    for s in SENSORS:
        _, was_created = DataProduct.objects.update_or_create(
            id=s.product_id,
            defaults={
                "name": s.name,
                "order_type": OrderType.ARCHIVE,
                "collection": s.collection,
                "host": ARCHIVE_HOST,
                "description": s.description,
                "credits_per_km2": s.credits_per_km2,
                "min_area_km2": s.min_area_km2,
                "is_active": True,
            },
        )
        created += int(was_created)
    # A table this small never reaches autovacuum's analyze threshold (50 changed rows). Never
    # analysed, the planner guesses one sellable product, and the catalog's queries (map tiles,
    # search) then loop over the products with a ~170,000-entry data_product_id index scan each:
    # the z9 Sydney tile took 250 ms instead of 50 at 1,000,000 captures.
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE orders_dataproduct")
    return created


_COPY_COLUMNS = (
    "id, scene_id, collection, host, data_product_id, footprint, acquired_at, cloud_cover, off_nadir, "
    "gsd, sun_elevation, platform, quicklook_url, thumbnail_url, properties, created_at"
)


def captures_bulk_load(*, rows: Iterable[SceneRow], batch_size: int = 200_000) -> int:
    """Load generated scenes with PostgreSQL COPY (psycopg 3) into a staging table, then insert
    them, skipping scenes already present (so re-running a seed is harmless). Returns rows inserted.

    One transaction per batch: a million rows never sit in one giant transaction or in memory.
    The next batch is generated in a helper thread while PostgreSQL inserts the current one (the
    driver releases the GIL while it waits), so generation and indexing overlap.
    Precondition: `rows` is only iterated here (the helper thread consumes it, never the caller).
    """
    iterator = iter(rows)

    def take() -> list[SceneRow]:
        return list(itertools.islice(iterator, batch_size))

    inserted = 0
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="scene-gen") as pool:
        pending = pool.submit(take)
        while True:
            batch = pending.result()
            if not batch:
                break
            pending = pool.submit(take)
            inserted += _load_batch(batch)
            collection_extents_forget(row.collection for row in batch)
    return inserted


@transaction.atomic
def _load_batch(batch: list[SceneRow]) -> int:
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMP TABLE IF NOT EXISTS capture_stage (LIKE orders_capture INCLUDING DEFAULTS) "
            "ON COMMIT DELETE ROWS"
        )
        raw = cursor.cursor  # the psycopg 3 cursor under Django's wrapper
        with raw.copy(f"COPY capture_stage ({_COPY_COLUMNS}) FROM STDIN") as copy:
            for r in batch:
                copy.write_row(
                    (
                        r.id,
                        r.scene_id,
                        r.collection,
                        ARCHIVE_HOST,
                        r.product_id,
                        r.footprint_wkt,
                        r.acquired_at,
                        r.cloud_cover,
                        r.off_nadir,
                        r.gsd,
                        r.sun_elevation,
                        r.platform,
                        f"/archive/quicklook/{r.scene_id}.svg",
                        f"/archive/quicklook/{r.scene_id}.svg?size=thumb",
                        properties_json(r),
                        now,
                    )
                )
        cursor.execute(
            f"INSERT INTO orders_capture ({_COPY_COLUMNS}) SELECT {_COPY_COLUMNS} FROM capture_stage "
            # Spatially sorted rows touch fewer GiST pages per insert.
            "ORDER BY ST_GeoHash(ST_Centroid(footprint), 5) ON CONFLICT DO NOTHING"
        )
        count = cursor.rowcount
        cursor.execute("TRUNCATE capture_stage")
    if count:
        watches_match_enqueue(since=now)
    return count


# --- STAC item import -----------------------------------------------------------------------------

REQUIRED_PROPERTIES = ("datetime", "eo:cloud_cover", "gsd", "view:off_nadir")


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    rejected: list[tuple[str, str, str]] = field(default_factory=list)  # (where, item id, why)

    @property
    def accepted(self) -> int:
        return self.created + self.updated


class ItemRejected(ValueError):
    pass


def iter_stac_items(text: str) -> Iterator[tuple[str, Any]]:
    """(where, item) pairs from an ItemCollection / single Item JSON, or NDJSON (one item a line).

    A line that is not JSON yields (where, ItemRejected) so the caller reports it and carries on.
    """
    stripped = text.lstrip()
    if stripped.startswith(("{", "[")):
        try:
            doc = jsonbounds.loads(text)
        except json.JSONDecodeError:
            doc = None  # maybe NDJSON: fall through
        if doc is not None:
            if isinstance(doc, dict) and doc.get("type") == "FeatureCollection":
                features = doc.get("features")
                if not isinstance(features, list):
                    yield "document", ItemRejected("FeatureCollection has no 'features' array")
                    return
                for i, item in enumerate(features):
                    yield f"features[{i}]", item
                return
            if isinstance(doc, list):
                for i, item in enumerate(doc):
                    yield f"[{i}]", item
                return
            yield "document", doc
            return
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            yield f"line {lineno}", jsonbounds.loads(line)
        except json.JSONDecodeError as exc:
            yield f"line {lineno}", ItemRejected(f"not valid JSON ({exc.msg} at column {exc.colno})")


def _number(props: dict, key: str, lo: float, hi: float) -> float:
    value = props.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ItemRejected(f"property '{key}' must be a number, got {value!r}")
    if not lo <= value <= hi:
        raise ItemRejected(f"property '{key}' = {value} is outside {lo}..{hi}")
    return float(value)


# The import report's wording for what `orders.geometry` refuses in an item's geometry.
_ITEM_GEOMETRY_MESSAGES: dict[str, str] = {
    "too_many_vertices": "geometry has {count} vertices (limit {limit})",
    "empty": "geometry is empty",
    "out_of_range": "geometry coordinates are outside longitude -180..180 / latitude -90..90",
    "no_area": "geometry has no area once made valid",
}


def _footprint(geometry: Any) -> MultiPolygon:
    if not isinstance(geometry, dict) or geometry.get("type") not in ("Polygon", "MultiPolygon"):
        kind = geometry.get("type") if isinstance(geometry, dict) else type(geometry).__name__
        raise ItemRejected(f"geometry must be a Polygon or MultiPolygon, got {kind}")
    try:
        return geojson_geometry(geometry, polygonal=True, max_vertices=settings.CATALOG_IMPORT_MAX_VERTICES)
    except GeometryError as exc:
        template = _ITEM_GEOMETRY_MESSAGES.get(exc.code)
        raise ItemRejected(
            template.format(**exc.params) if template else f"geometry is not valid GeoJSON ({exc.what})"
        ) from exc


def _acquired(props: dict) -> datetime:
    value = props.get("datetime")
    try:
        parsed = parse_datetime(value) if isinstance(value, str) else None
    except ValueError:
        parsed = None
    if parsed is None:
        raise ItemRejected(f"property 'datetime' must be an RFC 3339 date-time, got {value!r}")
    if timezone.is_naive(parsed):
        raise ItemRejected(f"property 'datetime' {value!r} has no time zone (add Z or an offset)")
    return parsed


def capture_values_from_item(
    *, item: Any, products: dict[str, DataProduct], collection_map: dict[str, str]
) -> dict[str, Any]:
    """Validate one STAC Item and return Capture field values. Raises ItemRejected with the reason."""
    if not isinstance(item, dict):
        raise ItemRejected(f"an item must be a JSON object, got {type(item).__name__}")
    if item.get("type") != "Feature":
        raise ItemRejected(f"'type' must be 'Feature', got {item.get('type')!r}")
    scene_id = item.get("id")
    if not isinstance(scene_id, str) or not scene_id.strip() or len(scene_id) > 200:
        raise ItemRejected("'id' must be a non-empty string of at most 200 characters")
    props = item.get("properties")
    if not isinstance(props, dict):
        raise ItemRejected("'properties' must be an object")
    missing = [p for p in REQUIRED_PROPERTIES if props.get(p) is None]
    if missing:
        raise ItemRejected("missing required properties: " + ", ".join(missing))
    collection = item.get("collection")
    if not isinstance(collection, str) or not collection:
        raise ItemRejected("'collection' is missing")
    target = collection_map.get(collection, collection)
    # A mapping may name a product id or another collection.
    product = products.get(target) or products.get(collection_map.get(target, ""))
    if product is None:
        known = ", ".join(sorted({p.collection for p in products.values()}))
        raise ItemRejected(f"collection {collection!r} is not sold by any archive product (known: {known})")
    footprint = _footprint(item.get("geometry"))
    acquired = _acquired(props)
    cloud = _number(props, "eo:cloud_cover", 0, 100)
    off_nadir = _number(props, "view:off_nadir", 0, 90)
    gsd = _number(props, "gsd", 0.01, 1000)
    sun = props.get("view:sun_elevation")
    sun_elevation = _number(props, "view:sun_elevation", -90, 90) if sun is not None else None
    # Only absolute http(s) hrefs are stored (a javascript:/data:/relative quicklook is dropped,
    # and why is kept in the capture's properties as geopera:refused_assets).
    assets, refused_assets = assets_with_stored_hrefs(item.get("assets") or {})

    def href(*names: str) -> str:
        for n in names:
            a = assets.get(n)
            if isinstance(a, dict) and len(a["href"]) <= 500:
                return a["href"]
        return ""

    known_keys = {"datetime", "eo:cloud_cover", "view:off_nadir", "gsd", "view:sun_elevation", "platform"}
    return {
        "scene_id": scene_id.strip(),
        "collection": product.collection,
        "host": product.host,
        "data_product": product,
        "footprint": footprint,
        "acquired_at": acquired,
        "cloud_cover": cloud,
        "off_nadir": off_nadir,
        "gsd": gsd,
        "sun_elevation": sun_elevation,
        "platform": str(props.get("platform") or "")[:100],
        "quicklook_url": href("overview", "quicklook", "visual"),
        "thumbnail_url": href("thumbnail"),
        "properties": {
            **{k: v for k, v in props.items() if k not in known_keys},
            **({"geopera:refused_assets": refused_assets} if refused_assets else {}),
        },
    }


def catalog_import(*, text: str, collection_map: dict[str, str] | None = None) -> ImportReport:
    """Upsert every valid STAC item of `text` (keyed by collection + scene id); report the others.

    Each item is saved in its own savepoint, so one bad item never undoes or blocks the rest.
    """
    products = {p.id: p for p in DataProduct.objects.filter(order_type=OrderType.ARCHIVE, is_active=True)}
    # Items name collections; products are keyed by id: map each collection to its product.
    by_collection = {p.collection: p.id for p in products.values()}
    mapping = {**by_collection, **(collection_map or {})}
    report = ImportReport()
    touched: set[str] = set()
    started = timezone.now()
    for where, item in iter_stac_items(text):
        item_id = item.get("id") if isinstance(item, dict) else None
        label = str(item_id) if item_id is not None else "?"
        if isinstance(item, ItemRejected):
            report.rejected.append((where, label, str(item)))
            continue
        try:
            values = capture_values_from_item(item=item, products=products, collection_map=mapping)
        except ItemRejected as exc:
            report.rejected.append((where, label, str(exc)))
            continue
        with transaction.atomic():
            capture, created = Capture.objects.update_or_create(
                collection=values.pop("collection"),
                scene_id=values.pop("scene_id"),
                defaults=values,
            )
        touched.add(capture.collection)
        if created:
            report.created += 1
        else:
            report.updated += 1
    collection_extents_forget(touched)
    if report.created:
        # New captures may be what someone is watching for: matched in bulk after commit.
        watches_match_enqueue(since=started)
    return report
