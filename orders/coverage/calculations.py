"""Covered vs remainder per AOI group, computed in PostGIS (pure calculations: no writes).

Per group: covered = AOI ∩ ST_Union(delivered footprints), remainder = AOI − that union.

- Footprints count for an AOI when they are `delivered` captures of the same order that intersect
  it (whichever group they were delivered for: a strip imaged for one AOI also covers a
  neighbouring one). The GiST index on footprints answers the ST_Intersects.
- The AOI is first densified (ST_Segmentize, 0.05°) so that its straight lon/lat edges and the
  geodesic edges that `ST_Area(geography)` measures agree to well under a metre; without that, on a
  several-degree AOI the split points that intersection puts on long edges would make covered +
  remainder differ from the AOI's area by more than 1e-6 (the parts' shared edges cancel exactly;
  only boundary edges cut in two would drift). For the same reason covered and remainder are
  densified again before they are measured: their edges taken from long footprint edges are
  straight lon/lat lines too.
- Footprints are clipped to the AOI first, then unioned: the union of the clipped footprints is the
  covered part itself, and the remainder is one difference, AOI − covered (one union and one
  overlay, the work of the naive `ST_Difference(aoi, ST_Union(all))`; `make bench` compares them).
  The clip works on ST_Subdivide pieces of the AOI (a footprint is only cut by the pieces it
  touches, and one a piece covers is taken whole), so a large or detailed AOI costs little more.
  Holes, MultiPolygons, overlapping footprints (the union) and footprints sticking out of the AOI
  (the clip) need nothing special.
- Areas are geodesic (`ST_Area(geom::geography)`, spheroid), in km².
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib.gis.geos import GEOSGeometry, MultiPolygon
from django.db import connection

# Changing how coverage is computed changes every fingerprint, so all groups get recomputed.
ALGORITHM_VERSION = "cov-v2"
SEGMENT_DEGREES = 0.05
SUBDIVIDE_MAX_VERTICES = 256


@dataclass(frozen=True)
class GroupCoverage:
    group_id: Any
    requested_km2: float
    covered_km2: float
    remainder_km2: float
    covered: MultiPolygon | None
    remainder: MultiPolygon | None
    captures_delivered: int
    last_delivery_at: datetime | None

    @property
    def percent(self) -> float:
        return 100.0 * self.covered_km2 / self.requested_km2 if self.requested_km2 else 0.0


_FINGERPRINT_SQL = """
SELECT g.id,
       md5(%(version)s || md5(ST_AsEWKB(g.geometry)) || COALESCE(
           string_agg(d.id::text || md5(ST_AsEWKB(d.footprint)), ',' ORDER BY d.id), ''))
FROM orders_ordergroup g
LEFT JOIN orders_deliveredcapture d
       ON d.order_id = g.order_id AND d.status = 'delivered' AND ST_Intersects(d.footprint, g.geometry)
WHERE g.order_id = %(order_id)s
GROUP BY g.id
"""


def group_fingerprints(*, order_id: Any) -> dict[Any, str]:
    """{group id: digest of its AOI and of every delivered footprint that touches it}."""
    with connection.cursor() as cur:
        cur.execute(_FINGERPRINT_SQL, {"order_id": order_id, "version": ALGORITHM_VERSION})
        return dict(cur.fetchall())


_COVERAGE_SQL = """
WITH aoi AS (
    SELECT g.id AS group_id, ST_Segmentize(g.geometry, %(seg)s) AS geom
    FROM orders_ordergroup g
    WHERE g.order_id = %(order_id)s AND g.id = ANY(%(group_ids)s)
),
parts AS (
    SELECT a.group_id, ST_Subdivide(a.geom, %(max_vertices)s) AS geom FROM aoi a
),
pieces AS (
    SELECT p.group_id, d.id, d.delivered_at,
           CASE WHEN ST_Covers(p.geom, d.footprint) THEN d.footprint
                ELSE ST_CollectionExtract(ST_Intersection(d.footprint, p.geom), 3) END AS geom
    FROM parts p
    JOIN orders_deliveredcapture d
      ON d.order_id = %(order_id)s AND d.status = 'delivered' AND ST_Intersects(d.footprint, p.geom)
),
covered AS (
    SELECT group_id, ST_Multi(ST_CollectionExtract(ST_Union(geom), 3)) AS geom,
           count(DISTINCT id) AS n, max(delivered_at) AS last_at
    FROM pieces GROUP BY group_id
),
merged AS (
    SELECT a.group_id, c.geom AS cov, c.n, c.last_at,
           CASE WHEN c.geom IS NULL OR ST_IsEmpty(c.geom) THEN ST_Multi(a.geom)
                ELSE ST_Multi(ST_CollectionExtract(ST_Difference(a.geom, c.geom), 3)) END AS rem
    FROM aoi a LEFT JOIN covered c USING (group_id)
)
SELECT a.group_id,
       ST_Area(a.geom::geography) / 1e6,
       COALESCE(ST_Area(ST_Segmentize(m.cov, %(seg)s)::geography), 0) / 1e6,
       COALESCE(ST_Area(ST_Segmentize(m.rem, %(seg)s)::geography), 0) / 1e6,
       CASE WHEN m.cov IS NULL OR ST_IsEmpty(m.cov) THEN NULL ELSE ST_AsEWKB(m.cov) END,
       CASE WHEN m.rem IS NULL OR ST_IsEmpty(m.rem) THEN NULL ELSE ST_AsEWKB(m.rem) END,
       COALESCE(m.n, 0),
       m.last_at
FROM aoi a
JOIN merged m USING (group_id)
"""


def _geom(value: Any) -> MultiPolygon | None:
    if value is None:
        return None
    geom = GEOSGeometry(memoryview(bytes(value)))
    geom.srid = 4326
    return geom


def compute_group_coverage(*, order_id: Any, group_ids: list[Any]) -> list[GroupCoverage]:
    """Coverage of the given groups of one order, as of the committed deliveries now."""
    if not group_ids:
        return []
    with connection.cursor() as cur:
        cur.execute(
            _COVERAGE_SQL,
            {
                "order_id": order_id,
                "group_ids": list(group_ids),
                "seg": SEGMENT_DEGREES,
                "max_vertices": SUBDIVIDE_MAX_VERTICES,
            },
        )
        rows = cur.fetchall()
    return [
        GroupCoverage(
            group_id=gid,
            requested_km2=req,
            covered_km2=cov_km2,
            remainder_km2=rem_km2,
            covered=_geom(cov),
            remainder=_geom(rem),
            captures_delivered=n,
            last_delivery_at=last_at,
        )
        for gid, req, cov_km2, rem_km2, cov, rem, n, last_at in rows
    ]


def requested_km2_sql(alias: str = "g") -> str:
    """The SQL expression for a group's requested area, measured exactly as coverage measures it."""
    return f"ST_Area(ST_Segmentize({alias}.geometry, {SEGMENT_DEGREES})::geography) / 1e6"
