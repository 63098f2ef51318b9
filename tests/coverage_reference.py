"""Coverage computed independently of PostGIS: shapely for the geometry, pyproj.Geod for geodesic
area on WGS84. The coverage tests and `make bench` (section `coverage`) check the product against it.

Both sides read the AOI as a polygon with straight edges in lon/lat, densified every 0.05°
(orders.coverage explains why), so the geodesic areas of the two computations agree."""

from __future__ import annotations

from typing import Any

import shapely
from pyproj import Geod
from shapely import wkt as shapely_wkt
from shapely.geometry import box

from orders.coverage.calculations import SEGMENT_DEGREES

GEOD = Geod(ellps="WGS84")


def km2(geom: Any) -> float:
    """Geodesic area of a shapely geometry in km² (0 for None or empty)."""
    if geom is None or geom.is_empty:
        return 0.0
    # Exterior rings counter-clockwise, holes clockwise: pyproj sums signed ring areas.
    area, _ = GEOD.geometry_area_perimeter(shapely.orient_polygons(shapely.segmentize(geom, SEGMENT_DEGREES)))
    return abs(area) / 1e6


def independent(aoi_wkt: str, footprints: list[Any]) -> tuple[float, float, float]:
    """(requested, covered, remainder) km² of an AOI (WKT) under footprints (bbox tuples or WKT)."""
    aoi = shapely.segmentize(shapely_wkt.loads(aoi_wkt), SEGMENT_DEGREES)
    fps = [box(*f) if isinstance(f, tuple) else shapely_wkt.loads(f) for f in footprints]
    union = shapely.union_all(fps) if fps else None
    covered = aoi.intersection(union) if union is not None else None
    remainder = aoi.difference(union) if union is not None else aoi
    return km2(aoi), km2(covered), km2(remainder)
