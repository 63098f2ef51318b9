"""The archive map's vector tiles: `/tiles/captures/{z}/{x}/{y}.mvt` (Mapbox Vector Tile 2.1).

One SQL statement per tile (`capture_tile`), built around the search's own filters
(`catalog_filters_apply`, parsed by `build_params` like catalog.search):

- **captures** layer: every matching footprint that intersects the tile, clipped to the tile (plus
  a buffer), simplified to the tile's 4096-unit grid, with only what the map draws and its popup
  shows first: `id` (the scene id, as the cart and the search name a capture), `collection`,
  `acquired`, `cloud`, `off_nadir`, `gsd`, `credits` (list price: rate × max(geodesic area, minimum),
  rounded up, as `orders.pricing`) and `home` (the capture's tile point lies in this tile).
- **density** layer, instead, when more than `TILES_MAX_FEATURES` footprints match in the tile: a
  `TILES_DENSITY_GRID`² grid of cells with `count`. Each capture is counted in the one cell that
  holds its `tile_point` (a stored point on its surface, EPSG:3857, GiST-indexed), with the cell
  chosen by integer arithmetic on the point alone, so the cells of all tiles of a zoom partition
  the catalog: the counts of a zoom add up to the SQL count of the filters, and at every zoom each
  matching capture is either drawn (`home` true in exactly one tile) or counted once.

Feature ids are the capture's `tile_key` (MVT ids are integers) and, for cells, the cell's index
in the zoom's whole grid (row × cells per row + column).
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.gis.geos import Polygon
from django.db import connection
from django.db.models import BooleanField, F
from django.db.models.expressions import RawSQL

from ..models import Capture, OrderType
from .selectors import SearchParams, catalog_filters_apply

MAX_ZOOM = 22
EXTENT = 4096  # MVT units per tile side
BUFFER = 64  # units of footprint drawn beyond the tile edge (strokes meet across tiles)
FORMAT_VERSION = 1  # bump when the layers or attributes change: old ETags must not match
_R = 6378137.0
_ORIGIN = math.pi * _R  # half the Web Mercator world's width, metres
_WORLD = 2 * _ORIGIN


@dataclass(frozen=True)
class TileAddress:
    z: int
    x: int
    y: int

    @classmethod
    def checked(cls, z: int, x: int, y: int) -> TileAddress | None:
        """The tile, or None when it does not exist (zoom above MAX_ZOOM, x or y off the grid)."""
        if not 0 <= z <= MAX_ZOOM:
            return None
        n = 1 << z
        if not (0 <= x < n and 0 <= y < n):
            return None
        return cls(z, x, y)

    @staticmethod
    def max_zoom() -> int:
        return MAX_ZOOM

    @property
    def size_m(self) -> float:
        return _WORLD / (1 << self.z)

    def bounds_3857(self) -> tuple[float, float, float, float]:
        size = self.size_m
        west = -_ORIGIN + self.x * size
        north = _ORIGIN - self.y * size
        return west, north - size, west + size, north

    def bounds_4326(self, *, margin: float = 0.0) -> tuple[float, float, float, float]:
        """The tile in degrees (a Mercator tile is a lon/lat rectangle), grown by `margin` of its size."""
        west, south, east, north = self.bounds_3857()
        pad = self.size_m * margin
        west, south, east, north = (
            west - pad,
            max(-_ORIGIN, south - pad),
            east + pad,
            min(_ORIGIN, north + pad),
        )

        def lon(m: float) -> float:
            return max(-180.0, min(180.0, math.degrees(m / _R)))

        def lat(m: float) -> float:
            return math.degrees(math.atan(math.sinh(m / _R)))

        return lon(west), lat(south), lon(east), lat(north)


def catalog_version() -> int:
    """The catalog's version (bumped by a trigger on every change of captures or products)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT version FROM orders_catalogversion WHERE id = 1")
        row = cursor.fetchone()
    return row[0] if row else 0


def tile_etag(*, tile: TileAddress, params: SearchParams, version: int) -> str:
    """A strong ETag for the tile as it is now: catalog version, address, normalised filters, and
    the settings that shape a tile."""
    key = "|".join(
        str(v)
        for v in (
            FORMAT_VERSION,
            version,
            tile.z,
            tile.x,
            tile.y,
            params.fingerprint,
            settings.TILES_MAX_FEATURES,
            settings.TILES_DENSITY_GRID,
        )
    )
    return '"' + hashlib.sha256(key.encode()).hexdigest()[:32] + '"'


def _sellable() -> Any:
    return Capture.objects.filter(data_product__order_type=OrderType.ARCHIVE, data_product__is_active=True)


def capture_tile_sql(*, tile: TileAddress, params: SearchParams) -> tuple[str, list[Any]]:
    """The tile's one statement and its parameters (also what the bench times bare)."""
    limit = settings.TILES_MAX_FEATURES
    grid = settings.TILES_DENSITY_GRID
    z, x, y = tile.z, tile.x, tile.y
    cells_per_row = (1 << z) * grid
    cell = _WORLD / cells_per_row
    env = f"ST_TileEnvelope({z}, {x}, {y})"
    west, south, east, north = tile.bounds_3857()

    base = catalog_filters_apply(_sellable(), params)
    footprints = (
        base.filter(footprint__intersects=Polygon.from_bbox(tile.bounds_4326()))
        .values("tile_key", "scene_id", "collection", "acquired_at", "cloud_cover", "off_nadir", "gsd")
        .annotate(
            clipped=RawSQL(
                "ST_ClipByBox2D(orders_capture.footprint, ST_MakeEnvelope(%s, %s, %s, %s, 4326))",
                tile.bounds_4326(margin=BUFFER / EXTENT),
            ),
            area_km2=RawSQL("ST_Area(orders_capture.footprint::geography) / 1e6", ()),
            px=RawSQL("ST_X(orders_capture.tile_point)", ()),
            py=RawSQL("ST_Y(orders_capture.tile_point)", ()),
            rate=F("data_product__credits_per_km2"),
            min_area=F("data_product__min_area_km2"),
        )[: limit + 1]
    )
    points = base.filter(
        RawSQL(
            "orders_capture.tile_point && ST_MakeEnvelope(%s, %s, %s, %s, 3857)",
            (west - cell, south - cell, east + cell, north + cell),
            output_field=BooleanField(),
        )
    ).annotate(
        px=RawSQL("ST_X(orders_capture.tile_point)", ()), py=RawSQL("ST_Y(orders_capture.tile_point)", ())
    )
    points = points.values("px", "py")
    fp_sql, fp_params = footprints.query.sql_with_params()
    pt_sql, pt_params = points.query.sql_with_params()

    # The cell of a point, by integer arithmetic on the point alone (so every tile agrees), clamped
    # onto the grid (the east edge x = +origin belongs to the last column).
    def col(px: str) -> str:
        return f"LEAST(GREATEST(floor(({px} + {_ORIGIN!r}) / {cell!r}), 0), {cells_per_row - 1})::bigint"

    def row(py: str) -> str:
        return f"LEAST(GREATEST(floor(({_ORIGIN!r} - {py}) / {cell!r}), 0), {cells_per_row - 1})::bigint"

    tolerance = tile.size_m / EXTENT
    sql = f"""
WITH cand AS MATERIALIZED ({fp_sql}),
n AS (SELECT count(*) AS n FROM cand),
feat AS (
    SELECT ST_AsMVTGeom(ST_Simplify(ST_Transform(clipped, 3857), {tolerance!r}, true), {env},
                        {EXTENT}, {BUFFER}, true) AS geom,
           tile_key AS fid,
           scene_id AS id,
           collection,
           to_char(acquired_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS acquired,
           round(cloud_cover::numeric, 1)::float8 AS cloud,
           round(off_nadir::numeric, 1)::float8 AS off_nadir,
           gsd,
           GREATEST(0, CEIL(rate * GREATEST(area_km2, min_area) - 1e-9 * rate))::bigint AS credits,
           ({col("px")} / {grid} = {x} AND {row("py")} / {grid} = {y}) AS home
    FROM cand
    WHERE (SELECT n FROM n) <= {limit}
),
cells AS (
    SELECT cx, cy, count(*) AS count
    FROM (SELECT {col("px")} AS cx, {row("py")} AS cy FROM ({pt_sql}) p
          WHERE (SELECT n FROM n) > {limit}) q
    WHERE cx / {grid} = {x} AND cy / {grid} = {y}
    GROUP BY cx, cy
),
dens AS (
    SELECT ST_AsMVTGeom(ST_MakeEnvelope({-_ORIGIN!r} + cx * {cell!r}, {_ORIGIN!r} - (cy + 1) * {cell!r},
                                        {-_ORIGIN!r} + (cx + 1) * {cell!r}, {_ORIGIN!r} - cy * {cell!r}, 3857),
                        {env}, {EXTENT}, 0, true) AS geom,
           cy * {cells_per_row} + cx AS fid,
           count
    FROM cells
)
SELECT COALESCE((SELECT ST_AsMVT(feat.*, 'captures', {EXTENT}, 'geom', 'fid') FROM feat), ''::bytea)
    || COALESCE((SELECT ST_AsMVT(dens.*, 'density', {EXTENT}, 'geom', 'fid') FROM dens), ''::bytea)
"""
    return sql, [*fp_params, *pt_params]


def capture_tile(*, tile: TileAddress, params: SearchParams) -> bytes:
    """The tile's MVT bytes (empty when nothing matches there), in one statement."""
    sql, sql_params = capture_tile_sql(tile=tile, params=params)
    with connection.cursor() as cursor:
        cursor.execute(sql, sql_params)
        (data,) = cursor.fetchone()
    return bytes(data)
