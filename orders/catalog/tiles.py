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
  A crowded tile up to z8 whose filters are only host and collections reads its cells' counts from
  the density summary (`orders_capturedensity`, kept by triggers on captures, migration 0015)
  instead of counting its points: the same cells (`orders_tile_cell`), the same counts.

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


# The density summary's grid levels (cells per world side 2**level; migration 0015 keeps these).
SUMMARY_LEVELS = range(4, 13)


def summary_level(*, tile: TileAddress, params: SearchParams) -> int | None:
    """The summary level that holds this tile's density cells, or None when the tile must count
    live: filters the summary is not keyed by (only host and collections are), a grid that is not
    a power of two, or a zoom past the summary's levels."""
    if not settings.TILES_DENSITY_SUMMARY:
        return None
    if (
        params.ids is not None
        or params.bbox is not None
        or params.intersects is not None
        or params.start is not None
        or params.end is not None
        or params.query
        or params.filter is not None
    ):
        return None
    cells = (1 << tile.z) * settings.TILES_DENSITY_GRID
    level = cells.bit_length() - 1
    if cells != 1 << level or level not in SUMMARY_LEVELS:
        return None
    return level


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

    # The cell of a point, by arithmetic on the point alone (so every tile agrees), clamped onto the
    # grid (the east edge x = +origin belongs to the last column): `orders_tile_cell`, the same SQL
    # function the density summary's triggers use (migration 0015).
    def col(px: str) -> str:
        return f"orders_tile_cell({px}, {cells_per_row})"

    def row(py: str) -> str:
        return f"orders_tile_cell(-({py}), {cells_per_row})"

    level = summary_level(tile=tile, params=params)
    if level is None:  # live: count the matching points in the tile (and a cell around it)
        pre, pre_params = "", []
        cand_sql = fp_sql
        n_sql = "SELECT count(*) AS n FROM cand"
        cells_sql = f"""
    SELECT cx, cy, count(*) AS count
    FROM (SELECT {col("px")} AS cx, {row("py")} AS cy FROM ({pt_sql}) p
          WHERE (SELECT n FROM n) > {limit}) q
    WHERE cx / {grid} = {x} AND cy / {grid} = {y}
    GROUP BY cx, cy"""
        cells_params = pt_params
    else:
        # The summary's counts for the tile's cells, of sellable products, for the filters. Each
        # capture counted there has its point in the tile, so its footprint meets the tile: more
        # than `limit` of them means a density tile without counting the footprints at all.
        where, pre_params = ["p.order_type = %s", "p.is_active"], [OrderType.ARCHIVE.value]
        if params.host:
            where.append("d.host = %s")
            pre_params.append(params.host)
        if params.collections is not None:
            where.append("d.collection = ANY(%s)")
            pre_params.append(list(params.collections))
        pre = f"""
cells_all AS (
    SELECT d.cx::bigint AS cx, d.cy::bigint AS cy, sum(d.n)::bigint AS count
    FROM orders_capturedensity d JOIN orders_dataproduct p ON p.id = d.data_product_id
    WHERE d.level = {level}
      AND d.cx BETWEEN {x * grid} AND {x * grid + grid - 1}
      AND d.cy BETWEEN {y * grid} AND {y * grid + grid - 1}
      AND {" AND ".join(where)}
    GROUP BY d.cx, d.cy
    HAVING sum(d.n) > 0
),
total AS (SELECT COALESCE(sum(count), 0) AS t FROM cells_all),"""
        cand_sql = f"SELECT * FROM ({fp_sql}) f WHERE (SELECT t FROM total) <= {limit}"
        n_sql = f"SELECT CASE WHEN (SELECT t FROM total) > {limit} THEN {limit + 1} ELSE (SELECT count(*) FROM cand) END AS n"
        cells_sql = f"SELECT cx, cy, count FROM cells_all WHERE (SELECT n FROM n) > {limit}"
        cells_params = []
    tolerance = tile.size_m / EXTENT
    sql = f"""
WITH {pre}
cand AS MATERIALIZED ({cand_sql}),
n AS ({n_sql}),
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
cells AS ({cells_sql}),
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
    return sql, [*pre_params, *fp_params, *cells_params]


def tile_fetch(cursor: Any, sql: str, sql_params: list[Any]) -> bytes:
    """Run a tile statement without JIT compilation and return its bytes, in one round trip (as
    `capture_tile` runs it; the bench times this as the bare statement).

    The planner's estimates for a crowded tile pass `jit_above_cost`, and compiling costs more
    than it saves (≈25 ms of a ≈50 ms z6 tile at 1,000,000 captures). `SET LOCAL` lasts for the
    implicit transaction of the multi-statement string (client-side binding, Django's default with
    psycopg 3); inside a caller's transaction the trailing statement puts the setting back."""
    cursor.execute(f"SET LOCAL jit = off; {sql}; SET LOCAL jit TO DEFAULT", sql_params)
    cursor.nextset()
    (data,) = cursor.fetchone()
    return bytes(data)


def capture_tile(*, tile: TileAddress, params: SearchParams) -> tuple[int, bytes]:
    """The catalog's version and the tile's MVT bytes (empty when nothing matches there), in one
    statement: the version is the one the tile was read at (its ETag describes exactly it)."""
    sql, sql_params = capture_tile_sql(tile=tile, params=params)
    versioned = (
        "SELECT (SELECT version FROM orders_catalogversion WHERE id = 1) AS version, t.data "
        f"FROM ({sql}) t(data)"
    )
    with connection.cursor() as cursor:
        cursor.execute(f"SET LOCAL jit = off; {versioned}; SET LOCAL jit TO DEFAULT", sql_params)
        cursor.nextset()
        version, data = cursor.fetchone()
    return version or 0, bytes(data)
