"""Server-authoritative pricing of an archive cart, in PostGIS, in two queries whatever its size.

A cart is a list of `{"id": <Capture.scene_id>, "geometry": <optional GeoJSON Polygon/MultiPolygon>}`.
Each capture's *billed geometry* is its footprint, or footprint ∩ the given geometry when one is given
(so it can never be larger than the footprint). Captures are grouped per data product (and per
acquisition date, UTC, when `split_by_date`); a group's area is the geodesic area of the UNION of its
billed geometries (`ST_Area(geography)`), so overlapping footprints are never charged twice, and its
credits are `credits_for_area` (rate × max(area, product minimum), rounded up).

Captures that cannot be priced become `errors` (never an exception): unknown id, a product that is not
an active archive product, a geometry that is not a usable polygon, a geometry that does not overlap
the footprint.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.contrib.gis.geos import GEOSGeometry, MultiPolygon
from django.db import connection

from geopera_web.billing.services import credits_to_aud

from ..fulfilment.registry import is_configured as provider_configured
from ..geometry import GeometryError, geojson_geometry
from ..models import Capture, DataProduct, OrderType
from ..pricing import billed_area_km2, credits_for_area


class ErrorCode:
    UNKNOWN_CAPTURE = "unknown_capture"
    AMBIGUOUS_CAPTURE = "ambiguous_capture"
    UNSUPPORTED_PRODUCT = "unsupported_product"
    INVALID_GEOMETRY = "invalid_geometry"
    NO_OVERLAP = "geometry_outside_footprint"


@dataclass(frozen=True)
class QuoteError:
    index: int  # position in the request's `captures`
    capture_id: str
    code: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.capture_id,
            "captureId": self.capture_id,
            "code": self.code,
            "message": self.message,
        }


@dataclass
class QuoteGroup:
    data_product: DataProduct
    acquisition_date: dt.date | None
    capture_ids: list[str] = field(default_factory=list)  # scene ids, first-seen order, distinct
    capture_pks: list[Any] = field(default_factory=list)
    geometry: MultiPolygon | None = None
    area_km2: float = 0.0
    billed_area_km2: float = 0.0
    credits: int = 0

    @property
    def aud(self) -> float:
        return credits_to_aud(self.credits)

    @property
    def name(self) -> str:
        when = f" · {self.acquisition_date.isoformat()}" if self.acquisition_date else ""
        return f"{self.data_product.name}{when}"


@dataclass
class ArchiveQuote:
    groups: list[QuoteGroup]
    errors: list[QuoteError]

    @property
    def total_credits(self) -> int:
        return sum(g.credits for g in self.groups)

    @property
    def total_aud(self) -> float:
        return credits_to_aud(self.total_credits)


# The cart's wording for what `orders.geometry` refuses (the estimate lists it per capture).
_CLIP_MESSAGES: dict[str, str] = {
    "not_geometry": "The geometry must be a GeoJSON object with `type` and `coordinates`.",
    "wrong_type": "The geometry must be a Polygon or MultiPolygon, not {kind!r}.",
    "too_many_vertices": "The geometry has {count} vertices; simplify it to at most {limit}.",
    "empty": "The geometry is empty.",
    "out_of_range": "Coordinates must be longitude, latitude in degrees (WGS 84), in that order.",
    "no_area": "The geometry is invalid and has no area once repaired (is it a line or a point?).",
}


def parse_polygon_geojson(raw: Any) -> tuple[MultiPolygon | None, str]:
    """A valid MultiPolygon in SRID 4326 from GeoJSON, or (None, why it is not usable).

    Self-intersections and the like are repaired; what cannot be repaired into an area is refused."""
    try:
        return geojson_geometry(raw, polygonal=True, max_vertices=settings.GEOMETRY_MAX_VERTICES), ""
    except GeometryError as exc:
        template = _CLIP_MESSAGES.get(exc.code)
        if template is None:
            return None, f"The geometry is not valid GeoJSON ({exc.what}). Check that every ring is closed."
        return None, template.format(**exc.params)


_GROUP_SQL = """
WITH items AS (
    SELECT t.grp, t.ord,
           CASE WHEN t.clip IS NULL THEN c.footprint
                ELSE ST_CollectionExtract(
                         ST_Intersection(c.footprint, ST_GeomFromEWKB(decode(t.clip, 'hex'))), 3)
           END AS billed
    FROM unnest(%s::int[], %s::int[], %s::uuid[], %s::text[]) AS t(grp, ord, cid, clip)
    JOIN orders_capture c ON c.id = t.cid
), flagged AS (
    SELECT grp, ord, billed,
           (billed IS NULL OR ST_IsEmpty(billed) OR ST_Area(billed) = 0) AS empty
    FROM items
), grouped AS (
    SELECT grp,
           array_agg(ord ORDER BY ord) FILTER (WHERE empty) AS empty_ords,
           ST_Union(billed) FILTER (WHERE NOT empty) AS u
    FROM flagged GROUP BY grp
)
SELECT grp, empty_ords,
       CASE WHEN u IS NULL THEN NULL ELSE encode(ST_AsEWKB(ST_Multi(u)), 'hex') END,
       CASE WHEN u IS NULL THEN 0 ELSE ST_Area(u::geography) / 1e6 END
FROM grouped ORDER BY grp
"""


@dataclass(frozen=True)
class _FoundCapture:
    pk: Any
    scene_id: str
    collection: str
    acquired_at: dt.datetime
    data_product: DataProduct


def _captures_by_scene(ids: list[str]) -> dict[str, list[_FoundCapture]]:
    """The captures a cart names, by scene id, with their products: one query, and only what
    grouping needs (the footprints stay in PostgreSQL: the group SQL reads them). Plain rows, not
    model instances, and the ids as one array parameter: at 500 captures the ORM's instances and
    its IN list cost several times the query itself."""
    product_fields = list(DataProduct._meta.concrete_fields)
    columns = ", ".join(f'p."{f.column}"' for f in product_fields)
    sql = (
        f"SELECT c.id, c.scene_id, c.collection, c.acquired_at, {columns} "
        f"FROM {Capture._meta.db_table} c JOIN {DataProduct._meta.db_table} p ON p.id = c.data_product_id "
        "WHERE c.scene_id = ANY(%s)"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [sorted(set(ids))])
        rows = cursor.fetchall()
    names = [f.attname for f in product_fields]
    products: dict[Any, DataProduct] = {}
    found: dict[str, list[_FoundCapture]] = {}
    for pk, scene_id, collection, acquired_at, *product_row in rows:
        product = products.get(product_row[0])
        if product is None:  # plain columns (no field converts its database value)
            product = products[product_row[0]] = DataProduct.from_db(connection.alias, names, product_row)
        found.setdefault(scene_id, []).append(
            _FoundCapture(
                pk=pk, scene_id=scene_id, collection=collection, acquired_at=acquired_at, data_product=product
            )
        )
    return found


def archive_quote(*, captures: list[dict[str, Any]], split_by_date: bool = False) -> ArchiveQuote:
    """Price a cart. Precondition: `captures` is a list of dicts with a string `id` (the API
    serializer guarantees the shape). Never raises for bad captures: they become errors."""
    errors: list[QuoteError] = []
    ids = [str(item["id"]) for item in captures]
    found = _captures_by_scene(ids) if ids else {}

    parsed: dict[str, tuple[str | None, str]] = {}  # a cart clipped to one AOI repeats it: parse once
    groups: dict[tuple[str, dt.date | None], QuoteGroup] = {}
    group_index: dict[tuple[str, dt.date | None], int] = {}
    rows: list[tuple[int, int, Any, str | None]] = []  # (group index, input position, capture pk, clip)
    for index, item in enumerate(captures):
        scene_id = ids[index]
        matches = found.get(scene_id, [])
        if not matches:
            errors.append(
                QuoteError(
                    index, scene_id, ErrorCode.UNKNOWN_CAPTURE, f"No capture {scene_id!r} in the catalog."
                )
            )
            continue
        if len(matches) > 1:
            errors.append(
                QuoteError(
                    index,
                    scene_id,
                    ErrorCode.AMBIGUOUS_CAPTURE,
                    f"{scene_id!r} exists in several collections ({', '.join(sorted(c.collection for c in matches))}).",
                )
            )
            continue
        capture = matches[0]
        product = capture.data_product
        if product.order_type != OrderType.ARCHIVE or not product.is_active:
            errors.append(
                QuoteError(
                    index,
                    scene_id,
                    ErrorCode.UNSUPPORTED_PRODUCT,
                    f"{product.name} cannot be ordered from the archive at the moment.",
                )
            )
            continue
        if not provider_configured(product.host):
            errors.append(
                QuoteError(
                    index,
                    scene_id,
                    ErrorCode.UNSUPPORTED_PRODUCT,
                    f"{product.name} cannot be ordered: no provider is configured to fulfil it ({product.host}).",
                )
            )
            continue
        clip_hex: str | None = None
        if item.get("geometry") is not None:
            key_json = json.dumps(item["geometry"], sort_keys=True, default=str)
            if key_json not in parsed:
                clip, why = parse_polygon_geojson(item["geometry"])
                hexewkb = None if clip is None else clip.hexewkb
                parsed[key_json] = (hexewkb.decode() if isinstance(hexewkb, bytes) else hexewkb, why)
            clip_hex, why = parsed[key_json]
            if clip_hex is None:
                errors.append(QuoteError(index, scene_id, ErrorCode.INVALID_GEOMETRY, why))
                continue
        day = capture.acquired_at.astimezone(dt.UTC).date() if split_by_date else None
        key = (product.pk, day)
        if key not in groups:
            groups[key] = QuoteGroup(data_product=product, acquisition_date=day)
            group_index[key] = len(group_index)
        rows.append((group_index[key], index, capture.pk, clip_hex))

    ordered = list(groups.values())
    if rows:
        with connection.cursor() as cursor:
            cursor.execute(
                _GROUP_SQL,
                [[r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows], [r[3] for r in rows]],
            )
            results = cursor.fetchall()
        empty_positions: set[int] = set()
        for grp, empty_ords, geom_hex, km2 in results:
            group = ordered[grp]
            empty_positions.update(empty_ords or [])
            if geom_hex:
                group.geometry = GEOSGeometry(geom_hex)
                group.area_km2 = float(km2)
        for grp, position, pk, _clip in rows:
            if position in empty_positions:
                errors.append(
                    QuoteError(
                        position,
                        ids[position],
                        ErrorCode.NO_OVERLAP,
                        "The geometry given for this capture does not overlap its footprint: nothing to bill.",
                    )
                )
                continue
            group = ordered[grp]
            if ids[position] not in group.capture_ids:
                group.capture_ids.append(ids[position])
                group.capture_pks.append(pk)
    priced = []
    for group in ordered:
        if not group.capture_ids:
            continue
        group.billed_area_km2 = billed_area_km2(product=group.data_product, area_km2=group.area_km2)
        group.credits = credits_for_area(product=group.data_product, area_km2=group.area_km2)
        priced.append(group)
    priced.sort(key=lambda g: (g.data_product.pk, g.acquisition_date or dt.date.min))
    errors.sort(key=lambda e: e.index)
    return ArchiveQuote(groups=priced, errors=errors)
