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
- Large AOIs are cut with ST_Subdivide so each intersection works on a small piece; the pieces are
  dissolved back with ST_Union. Holes, MultiPolygons, overlapping footprints (unioned first) and
  footprints sticking out of the AOI (clipped by the intersection) need nothing special.
- Areas are geodesic (`ST_Area(geom::geography)`, spheroid), in km².
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib.gis.geos import GEOSGeometry, MultiPolygon
from django.db import connection

# Changing how coverage is computed changes every fingerprint, so all groups get recomputed.
ALGORITHM_VERSION = "cov-v1"
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
fp AS (
    SELECT a.group_id, ST_Union(d.footprint) AS geom, count(*) AS n, max(d.delivered_at) AS last_at
    FROM aoi a
    JOIN orders_deliveredcapture d
      ON d.order_id = %(order_id)s AND d.status = 'delivered' AND ST_Intersects(d.footprint, a.geom)
    GROUP BY a.group_id
),
parts AS (
    SELECT a.group_id, ST_Subdivide(a.geom, %(max_vertices)s) AS geom FROM aoi a
),
split AS (
    SELECT p.group_id,
           CASE WHEN f.geom IS NULL OR NOT ST_Intersects(p.geom, f.geom) THEN NULL
                WHEN ST_Covers(f.geom, p.geom) THEN p.geom
                ELSE ST_CollectionExtract(ST_Intersection(p.geom, f.geom), 3) END AS cov,
           CASE WHEN f.geom IS NULL OR NOT ST_Intersects(p.geom, f.geom) THEN p.geom
                WHEN ST_Covers(f.geom, p.geom) THEN NULL
                ELSE ST_CollectionExtract(ST_Difference(p.geom, f.geom), 3) END AS rem
    FROM parts p LEFT JOIN fp f USING (group_id)
),
merged AS (
    SELECT group_id,
           ST_Multi(ST_CollectionExtract(ST_Union(cov), 3)) AS cov,
           ST_Multi(ST_CollectionExtract(ST_Union(rem), 3)) AS rem
    FROM split GROUP BY group_id
)
SELECT a.group_id,
       ST_Area(a.geom::geography) / 1e6,
       COALESCE(ST_Area(ST_Segmentize(m.cov, %(seg)s)::geography), 0) / 1e6,
       COALESCE(ST_Area(ST_Segmentize(m.rem, %(seg)s)::geography), 0) / 1e6,
       CASE WHEN m.cov IS NULL OR ST_IsEmpty(m.cov) THEN NULL ELSE ST_AsEWKB(m.cov) END,
       CASE WHEN m.rem IS NULL OR ST_IsEmpty(m.rem) THEN NULL ELSE ST_AsEWKB(m.rem) END,
       COALESCE(f.n, 0),
       f.last_at
FROM aoi a
JOIN merged m USING (group_id)
LEFT JOIN fp f USING (group_id)
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
