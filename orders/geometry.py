"""The one validator of geometry that comes from outside (request bodies, uploaded files, imports).

Every geometry input goes through `geojson_geometry` (GeoJSON objects) or `polygonal_from_geos`
(shapes GDAL read from a file): the catalog search's `intersects`, the archive cart's AOI and clip
geometries, uploaded AOI files, tasking AOIs, delivery footprints and imported STAC items. It
checks, in this order: the object and its type; the coordinate arrays (each ring at least 4
[lon, lat] number positions, inside WGS 84, closed); the vertex count (before GEOS ever sees the
shape); that GEOS can build it and that it is not empty; validity (made valid, or refused with
the made-valid shape offered); and, for areas, that something with an area is left.

Bad input raises `GeometryError` (an `InvalidInput`, so a 400 — or the caller's 422 — with a
message a person can act on; never a GEOS/GDAL exception that would end as a 500). Its `code`
names the rule that failed and `params` the facts (the position, the vertex count, ...), so a
caller that words its messages its own way (a tasking AOI, a delivery file, the cart) translates
codes instead of re-implementing checks. A new rule belongs here, with a code and a default
message: every input gets it at once.
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
POLYGONAL = frozenset({"Polygon", "MultiPolygon"})


class GeometryError(InvalidInput):
    """A geometry that cannot be used. `code` is one of:

    not_json, not_geometry, wrong_type, no_coordinates, empty_polygon, ring_too_short,
    bad_position, out_of_range, ring_not_closed, too_many_vertices, unreadable, empty,
    self_intersection, no_area.

    `params` carries what the message needs: `position`, `ring`, `count`, `limit`, `kind`,
    `reason` (GEOS's), `suggested` (the made-valid GeoJSON, for self_intersection).
    """

    def __init__(self, detail: str, *, code: str, what: str = "", **params: Any) -> None:
        super().__init__(detail)
        self.code = code
        # The problem without the field name, for callers that put it in their own sentence.
        self.what = what or detail
        self.params = params


def _fail(field: str, what: str, *, code: str, sep: str = " ", **params: Any) -> GeometryError:
    return GeometryError(f"'{field}'{sep}{what}.", code=code, what=what, **params)


def geojson_geometry(
    obj: Any,
    *,
    field: str = "geometry",
    polygonal: bool = False,
    max_vertices: int = MAX_VERTICES,
    repair: bool = True,
) -> GEOSGeometry:
    """A valid GEOS geometry (SRID 4326) from a GeoJSON geometry object (a dict).

    `polygonal=True` accepts only Polygon/MultiPolygon and returns a MultiPolygon. `repair=False`
    refuses an invalid (self-intersecting) shape with code `self_intersection` instead of making
    it valid. Raises GeometryError.
    """
    if not isinstance(obj, dict):
        raise _fail(field, "must be a GeoJSON geometry object", code="not_geometry")
    kind = obj.get("type")
    allowed = POLYGONAL if polygonal else _GEOJSON_TYPES
    if kind not in allowed:
        raise _fail(
            field,
            f"has type {kind!r}; expected one of {', '.join(sorted(allowed))}",
            code="wrong_type",
            kind=kind,
        )
    if kind == "GeometryCollection":
        coords = obj.get("geometries")
        if not isinstance(coords, list) or not coords:
            raise _fail(field, "is a GeometryCollection without geometries", code="no_coordinates")
    else:
        coords = obj.get("coordinates")
    if not isinstance(coords, list) or not coords:
        raise _fail(field, "has no coordinates", code="no_coordinates")
    if kind in POLYGONAL:
        count = _check_polygons(coords if kind == "MultiPolygon" else [coords], field)
        _check_vertices(count, max_vertices, field)
    try:
        # Only the geometry's own members reach GDAL's GeoJSON reader (never a `crs` it might follow).
        member = "geometries" if kind == "GeometryCollection" else "coordinates"
        geom = GEOSGeometry(json.dumps({"type": kind, member: coords}))
    except (GEOSException, ValueError, TypeError) as exc:
        raise GeometryError(
            f"'{field}' is not a valid GeoJSON geometry ({exc}).",
            code="unreadable",
            what=str(exc),
            reason=str(exc),
        ) from exc
    geom.srid = 4326
    return _finish(geom, field=field, polygonal=polygonal, max_vertices=max_vertices, repair=repair)


def geometry_from_geojson(
    obj: Any, *, field: str = "intersects", polygonal: bool = False, max_vertices: int = MAX_VERTICES
) -> GEOSGeometry:
    """Like `geojson_geometry`, but also takes a JSON string, a Feature, or a FeatureCollection
    of exactly one feature (what search bodies and GeoJSON files carry)."""
    if isinstance(obj, str):
        try:
            obj = json.loads(obj)
        except json.JSONDecodeError as exc:
            raise _fail(field, f"is not valid JSON: {exc.msg}", code="not_json") from exc
    if isinstance(obj, dict) and obj.get("type") == "Feature":
        obj = obj.get("geometry")
    if isinstance(obj, dict) and obj.get("type") == "FeatureCollection":
        feats = obj.get("features") or []
        if len(feats) != 1 or not isinstance(feats[0], dict):
            raise _fail(
                field,
                f"is a FeatureCollection with {len(feats)} features; send one geometry",
                code="not_geometry",
            )
        obj = feats[0].get("geometry")
    return geojson_geometry(obj, field=field, polygonal=polygonal, max_vertices=max_vertices)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _check_polygons(polygons: list, field: str) -> int:
    """Check every ring of every polygon before GEOS sees them; returns the number of positions."""
    count = 0
    ring_no = 0
    for polygon in polygons:
        if not isinstance(polygon, list) or not polygon:
            raise _fail(field, "a polygon has no rings", code="empty_polygon", sep=": ")
        for ring in polygon:
            i = ring_no
            ring_no += 1
            if not isinstance(ring, list) or len(ring) < 4:
                raise _fail(
                    field,
                    f"ring {i} needs at least 4 positions (first = last)",
                    code="ring_too_short",
                    sep=": ",
                    ring=i,
                )
            for pos in ring:
                if not isinstance(pos, list | tuple) or len(pos) < 2 or not all(map(_is_number, pos[:2])):
                    raise _fail(
                        field,
                        f"ring {i} has a position that is not [lon, lat]: {pos!r}",
                        code="bad_position",
                        sep=": ",
                        ring=i,
                        position=pos,
                    )
                if not (-180 <= pos[0] <= 180 and -90 <= pos[1] <= 90):
                    raise _out_of_range(field, position=list(pos[:2]))
            if list(ring[0][:2]) != list(ring[-1][:2]):
                raise _fail(
                    field,
                    f"ring {i} is not closed (its first and last positions differ)",
                    code="ring_not_closed",
                    sep=": ",
                    ring=i,
                )
            count += len(ring)
    return count


def _out_of_range(field: str, **params: Any) -> GeometryError:
    return _fail(
        field,
        "has coordinates outside longitude -180..180 / latitude -90..90 "
        "(GeoJSON is [longitude, latitude] in WGS 84)",
        code="out_of_range",
        **params,
    )


def _check_vertices(count: int, limit: int, field: str) -> None:
    if count > limit:
        raise _fail(
            field,
            f"has {count:,} vertices; the limit is {limit:,}. Simplify it first",
            code="too_many_vertices",
            count=count,
            limit=limit,
        )


def _finish(
    geom: GEOSGeometry, *, field: str, polygonal: bool, max_vertices: int, repair: bool = True
) -> GEOSGeometry:
    if geom.srid is None:
        geom.srid = 4326
    if geom.empty:
        raise _fail(field, "is empty", code="empty")
    _check_vertices(geom.num_coords, max_vertices, field)
    minx, miny, maxx, maxy = geom.extent
    if minx < -180 or maxx > 180 or miny < -90 or maxy > 90:
        raise _out_of_range(field)
    if not geom.valid:
        if not repair:
            parts = _polygon_parts(geom.make_valid())
            suggested = json.loads(MultiPolygon(parts, srid=4326).geojson) if parts else None
            raise _fail(
                field,
                f"is not a valid shape ({geom.valid_reason})",
                code="self_intersection",
                reason=geom.valid_reason,
                suggested=suggested,
            )
        geom = geom.make_valid()
    if polygonal:
        parts = _polygon_parts(geom)
        if not parts:
            raise _fail(field, "has no area (its rings collapse to lines or points)", code="no_area")
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
