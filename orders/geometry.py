"""Validating geometry that comes from outside (request bodies, uploaded files).

Everything becomes SRID 4326; bad input raises `InvalidInput` (400) with a message a person can act
on — never a GEOS/GDAL exception that would end as a 500.
"""

from __future__ import annotations

import json
from typing import Any

from django.contrib.gis.geos import GEOSException, GEOSGeometry, MultiPolygon, Polygon
from django.db import connection

from geopera_web.errors import InvalidInput

MAX_VERTICES = 10_000
# Roughly the size of New South Wales; larger AOIs are almost always a mistake (a world polygon).
MAX_AOI_KM2 = 1_000_000.0

_GEOJSON_TYPES = {
    "Point",
    "MultiPoint",
    "LineString",
    "MultiLineString",
    "Polygon",
    "MultiPolygon",
    "GeometryCollection",
}


def geometry_from_geojson(
    obj: Any, *, field: str = "intersects", polygonal: bool = False, max_vertices: int = MAX_VERTICES
) -> GEOSGeometry:
    """A valid GEOS geometry (SRID 4326) from a GeoJSON geometry object (or a Feature wrapping one).

    `polygonal=True` requires (Multi)Polygon and returns a MultiPolygon (a Polygon is promoted).
    """
    if isinstance(obj, str):
        try:
            obj = json.loads(obj)
        except json.JSONDecodeError as exc:
            raise InvalidInput(f"'{field}' is not valid JSON: {exc.msg}.") from exc
    if isinstance(obj, dict) and obj.get("type") == "Feature":
        obj = obj.get("geometry")
    if isinstance(obj, dict) and obj.get("type") == "FeatureCollection":
        feats = obj.get("features") or []
        if len(feats) != 1 or not isinstance(feats[0], dict):
            raise InvalidInput(
                f"'{field}' is a FeatureCollection with {len(feats)} features; send one geometry."
            )
        obj = feats[0].get("geometry")
    if not isinstance(obj, dict):
        raise InvalidInput(f"'{field}' must be a GeoJSON geometry object.")
    kind = obj.get("type")
    allowed = {"Polygon", "MultiPolygon"} if polygonal else _GEOJSON_TYPES
    if kind not in allowed:
        raise InvalidInput(f"'{field}' has type {kind!r}; expected one of {', '.join(sorted(allowed))}.")
    if kind == "GeometryCollection":
        members = obj.get("geometries")
        if not isinstance(members, list) or not members:
            raise InvalidInput(f"'{field}' is a GeometryCollection without geometries.")
        coords = members
    else:
        coords = obj.get("coordinates")
    if not isinstance(coords, list) or not coords:
        raise InvalidInput(f"'{field}' has no coordinates.")
    if kind in ("Polygon", "MultiPolygon"):
        _check_rings(coords if kind == "Polygon" else [r for p in coords for r in (p or [])], field)
    try:
        geom = GEOSGeometry(json.dumps(obj), srid=4326)
    except (GEOSException, ValueError, TypeError) as exc:
        raise InvalidInput(f"'{field}' is not a valid GeoJSON geometry ({exc}).") from exc
    return _finish(geom, field=field, polygonal=polygonal, max_vertices=max_vertices)


def _check_rings(rings: list, field: str) -> None:
    for i, ring in enumerate(rings):
        if not isinstance(ring, list) or len(ring) < 4:
            raise InvalidInput(f"'{field}': ring {i} needs at least 4 positions (first = last).")
        for pos in ring:
            if (
                not isinstance(pos, list | tuple)
                or len(pos) < 2
                or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in pos[:2])
            ):
                raise InvalidInput(f"'{field}': ring {i} has a position that is not [lon, lat]: {pos!r}.")
        if list(ring[0][:2]) != list(ring[-1][:2]):
            raise InvalidInput(f"'{field}': ring {i} is not closed (its first and last positions differ).")


def _finish(geom: GEOSGeometry, *, field: str, polygonal: bool, max_vertices: int) -> GEOSGeometry:
    if geom.srid is None:
        geom.srid = 4326
    if geom.empty:
        raise InvalidInput(f"'{field}' is empty.")
    if geom.num_coords > max_vertices:
        raise InvalidInput(
            f"'{field}' has {geom.num_coords:,} vertices; the limit is {max_vertices:,}. Simplify it first."
        )
    minx, miny, maxx, maxy = geom.extent
    if minx < -180 or maxx > 180 or miny < -90 or maxy > 90:
        raise InvalidInput(
            f"'{field}' has coordinates outside longitude -180..180 / latitude -90..90 "
            "(GeoJSON is [longitude, latitude] in WGS 84)."
        )
    if not geom.valid:
        geom = geom.make_valid()
    if polygonal:
        parts = _polygon_parts(geom)
        if not parts:
            raise InvalidInput(f"'{field}' has no area (its rings collapse to lines or points).")
        geom = MultiPolygon(parts, srid=4326)
    return geom


def _polygon_parts(geom: GEOSGeometry) -> list[Polygon]:
    if isinstance(geom, Polygon):
        return [geom] if not geom.empty and geom.area > 0 else []
    if geom.geom_type in ("MultiPolygon", "GeometryCollection"):
        out: list[Polygon] = []
        for part in geom:
            out.extend(_polygon_parts(part))
        return out
    return []


def polygonal_from_geos(geom: GEOSGeometry, *, field: str = "aoi") -> MultiPolygon:
    """Validate an already-parsed geometry (e.g. read by GDAL) the same way as GeoJSON input."""
    return _finish(geom, field=field, polygonal=True, max_vertices=MAX_VERTICES)  # type: ignore[return-value]


def geodesic_area_km2(geom: GEOSGeometry) -> float:
    """Area on the WGS 84 ellipsoid, in km², computed by PostGIS (geography), never planar degrees."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT ST_Area(ST_GeomFromEWKB(%s)::geography) / 1e6", [bytes(geom.ewkb)])
        return float(cursor.fetchone()[0] or 0.0)
