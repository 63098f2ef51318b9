"""The one validator of geometry that comes from outside (request bodies, uploaded files, imports).

Every geometry input goes through `geojson_geometry` (GeoJSON objects) or `polygonal_from_geos`
(shapes GDAL read from a file): the catalog search's `intersects`, the archive cart's AOI and clip
geometries, uploaded AOI files, tasking AOIs, delivery footprints and imported STAC items. It
checks, in this order: the object and its type; the vertex count (from list lengths alone, before
any position is read or GEOS sees the shape); the coordinate arrays of every type (finite [lon,
lat] numbers inside WGS 84 — NaN and Infinity are refused — each ring at least 4 positions and
closed, no edge wrapping more than 180° of longitude: a shape over the antimeridian must be split
at ±180, RFC 7946 §3.1.9, never read as a 340°-wide one); that GEOS can build it and that it is
not empty; validity (made valid, or refused with the made-valid shape offered); and, for areas,
that something with an area is left. Positions are forced to 2-D: a height (KML always has one,
GeoJSON may) is dropped everywhere, so every stored geometry is 2-D. Winding order is free (PostGIS
measures either way the same).

Bad input raises `GeometryError` (an `InvalidInput`, so a 400 — or the caller's 422 — with a
message a person can act on; never a GEOS/GDAL exception that would end as a 500). Its `code`
names the rule that failed and `params` the facts (the position, the vertex count, ...), so a
caller that words its messages its own way (a tasking AOI, a delivery file, the cart) translates
codes instead of re-implementing checks. A new rule belongs here, with a code and a default
message: every input gets it at once.
"""

from __future__ import annotations

import itertools
import json
import math
from typing import Any

from django.conf import settings
from django.contrib.gis.geos import GEOSException, GEOSGeometry, MultiPolygon, Polygon
from django.db import connection

from geopera_web import jsonbounds
from geopera_web.errors import InvalidInput

# Limits are read per call (never copied at import), so the environment and override_settings move them:
# GEOMETRY_MAX_VERTICES per AOI / search geometry (counted before GEOS builds it) and
# GEOMETRY_MAX_FEATURES per request's FeatureCollection (one order group each).


def max_vertices_default() -> int:
    """GEOMETRY_MAX_VERTICES, now."""
    return settings.GEOMETRY_MAX_VERTICES


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
    bad_position, out_of_range, antimeridian, ring_not_closed, too_many_vertices, unreadable,
    empty, self_intersection, no_area.

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
    max_vertices: int | None = None,
    repair: bool = True,
) -> GEOSGeometry:
    """A valid 2-D GEOS geometry (SRID 4326) from a GeoJSON geometry object (a dict).

    `polygonal=True` accepts only Polygon/MultiPolygon and returns a MultiPolygon. `repair=False`
    refuses an invalid (self-intersecting) shape with code `self_intersection` instead of making
    it valid. Positions are forced to 2-D ([lon, lat]; a height or measure is dropped). Raises
    GeometryError.
    """
    if not isinstance(obj, dict):
        raise _fail(field, "must be a GeoJSON geometry object", code="not_geometry")
    kind = obj.get("type")
    allowed = POLYGONAL if polygonal else _GEOJSON_TYPES
    if not isinstance(kind, str) or kind not in allowed:  # a dict or list `type` is no type (not a 500)
        raise _fail(
            field,
            f"has type {kind!r}; expected one of {', '.join(sorted(allowed))}",
            code="wrong_type",
            kind=kind,
        )
    if max_vertices is None:
        max_vertices = max_vertices_default()
    # Count first (cheap: list lengths only), so a 200,000-vertex shape is refused before its
    # positions are even looked at, let alone handed to GEOS.
    _check_vertices(_count_positions(obj), max_vertices, field)
    flat = _check_geometry(obj, field, top=True)
    try:
        # Only the geometry's own members reach GDAL's GeoJSON reader (never a `crs` it might follow).
        geom = GEOSGeometry(json.dumps(flat))
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
    obj: Any, *, field: str = "intersects", polygonal: bool = False, max_vertices: int | None = None
) -> GEOSGeometry:
    """Like `geojson_geometry`, but also takes a JSON string, a Feature, or a FeatureCollection
    of exactly one feature (what search bodies and GeoJSON files carry)."""
    if isinstance(obj, str):
        try:
            obj = jsonbounds.loads(obj)
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
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


# How deep a geometry type's `coordinates` nest down to positions.
_DEPTH = {"Point": 0, "MultiPoint": 1, "LineString": 1, "MultiLineString": 2, "Polygon": 2, "MultiPolygon": 3}


def _count_positions(obj: Any, _depth: int = 0) -> int:
    """Positions in a GeoJSON geometry, from list lengths alone (garbage counts as 0; the checks
    that follow name it)."""
    if not isinstance(obj, dict):
        return 0
    kind = obj.get("type")
    if kind == "GeometryCollection":
        members = obj.get("geometries")
        if not isinstance(members, list) or _depth > 0:
            return 0
        return sum(_count_positions(m, _depth + 1) for m in members)
    depth = _DEPTH.get(kind) if isinstance(kind, str) else None
    if depth is None:
        return 0

    def count(node: Any, d: int) -> int:
        if not isinstance(node, list):
            return 0
        if d == 0:
            return 1
        if d == 1:
            return len(node)
        return sum(count(child, d - 1) for child in node)

    return count(obj.get("coordinates"), depth)


def _check_geometry(obj: Any, field: str, *, top: bool = False) -> dict[str, Any]:
    """Check one GeoJSON geometry's members before GEOS sees them; returns the geometry with only
    its own members and 2-D positions."""
    kind = obj.get("type") if isinstance(obj, dict) and isinstance(obj.get("type"), str) else None
    if kind == "GeometryCollection":
        members = obj.get("geometries")
        if not top:
            raise _fail(
                field, "nests a GeometryCollection in a GeometryCollection", code="wrong_type", kind=kind
            )
        if not isinstance(members, list) or not members:
            raise _fail(field, "is a GeometryCollection without geometries", code="no_coordinates")
        return {"type": kind, "geometries": [_check_geometry(m, field) for m in members]}
    if kind not in _DEPTH:
        raise _fail(
            field,
            f"has a member of type {kind!r}; expected one of {', '.join(sorted(_GEOJSON_TYPES))}",
            code="wrong_type",
            kind=kind,
        )
    coords = obj.get("coordinates")
    if not isinstance(coords, list) or not coords:
        raise _fail(field, "has no coordinates", code="no_coordinates")
    if kind == "Point":
        out: Any = _position(coords, field, ring=None)
    elif kind in POLYGONAL:
        out = _check_polygons(coords if kind == "MultiPolygon" else [coords], field)
        if kind == "Polygon":
            out = out[0]
    elif kind == "MultiPoint":
        out = [_position(p, field, ring=None) for p in coords]
    elif kind == "LineString":
        out = _line(coords, field)
    else:  # MultiLineString
        out = [_line(line, field) for line in coords]
    return {"type": kind, "coordinates": out}


def _line(line: Any, field: str) -> list[list[float]]:
    if not isinstance(line, list) or len(line) < 2:
        raise _fail(field, "a line needs at least 2 positions", code="ring_too_short", sep=": ", ring=None)
    out = [_position(p, field, ring=None) for p in line]
    _check_edges(out, field, ring=None)
    return out


def _position(pos: Any, field: str, *, ring: int | None) -> list[float]:
    """[lon, lat] of a GeoJSON position: finite numbers inside WGS 84 (a height is dropped)."""
    where = f"ring {ring}" if ring is not None else "it"
    if not isinstance(pos, list | tuple) or len(pos) < 2 or not all(map(_is_number, pos[:2])):
        raise _fail(
            field,
            f"{where} has a position that is not [lon, lat] finite numbers: {_short(pos)}",
            code="bad_position",
            sep=": ",
            ring=ring,
            position=_short(pos),
        )
    lon, lat = float(pos[0]), float(pos[1])
    if not -90 <= lat <= 90:
        raise _out_of_range(field, position=[lon, lat])
    if not -180 <= lon <= 180:
        if -360 <= lon <= 360:
            raise _antimeridian(field, position=[lon, lat])
        raise _out_of_range(field, position=[lon, lat])
    return [lon, lat]


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _check_edges(positions: list[list[float]], field: str, *, ring: int | None) -> None:
    """An edge that jumps more than 180° of longitude is a shape crossing the antimeridian written
    as one ring: as coordinates it goes the long way round the world (a box 0.4° wide becomes
    359.6° wide). Edges along ±180 itself (a world box) are fine."""
    for (x0, _), (x1, _) in itertools.pairwise(positions):
        if abs(x1 - x0) > 180 and not (abs(x0) == 180 and abs(x1) == 180):
            raise _antimeridian(field, ring=ring)


def _antimeridian(field: str, **params: Any) -> GeometryError:
    return _fail(
        field,
        "crosses the antimeridian (longitude ±180) as a single shape; split it at ±180 into a "
        "MultiPolygon with one part on each side, longitudes within -180..180 (RFC 7946 §3.1.9)",
        code="antimeridian",
        **params,
    )


def _check_polygons(polygons: list, field: str) -> list[list[list[list[float]]]]:
    """Check every ring of every polygon before GEOS sees them; returns their 2-D coordinates."""
    out: list[list[list[list[float]]]] = []
    ring_no = 0
    for polygon in polygons:
        if not isinstance(polygon, list) or not polygon:
            raise _fail(field, "a polygon has no rings", code="empty_polygon", sep=": ")
        rings: list[list[list[float]]] = []
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
            flat = [_position(pos, field, ring=i) for pos in ring]
            if flat[0] != flat[-1]:
                raise _fail(
                    field,
                    f"ring {i} is not closed (its first and last positions differ)",
                    code="ring_not_closed",
                    sep=": ",
                    ring=i,
                )
            _check_edges(flat, field, ring=i)
            rings.append(flat)
        out.append(rings)
    return out


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
    if not all(map(math.isfinite, (minx, miny, maxx, maxy))):
        raise _fail(
            field, "has a position that is not [lon, lat] finite numbers", code="bad_position", sep=": "
        )
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
    """Validate an already-parsed geometry (e.g. read by GDAL from a KML or shapefile) the same way
    as GeoJSON input: the vertex limit first, then the same walk over its positions (2-D, finite,
    inside WGS 84, not wrapped over the antimeridian) and the same finish."""
    _check_vertices(geom.num_coords, max_vertices_default(), field)
    if geom.empty:
        raise _fail(field, "is empty", code="empty")
    try:
        obj = json.loads(geom.json or "")  # GDAL gives no JSON for a NaN coordinate
    except ValueError as exc:
        raise _fail(
            field, "has a position that is not [lon, lat] finite numbers", code="bad_position", sep=": "
        ) from exc
    return geojson_geometry(obj, field=field, polygonal=True)  # type: ignore[return-value]


def geodesic_area_km2(geom: GEOSGeometry) -> float:
    """Area on the WGS 84 ellipsoid, in km², computed by PostGIS (geography), never planar degrees."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT ST_Area(ST_GeomFromEWKB(%s)::geography) / 1e6", [bytes(geom.ewkb)])
        return float(cursor.fetchone()[0] or 0.0)


def features_of(feature_collection: Any) -> list[dict[str, Any]]:
    """The features of a request's `featureCollection` (a bare Feature or Polygon/MultiPolygon is
    accepted as one). Each feature's geometry is checked by its caller (`geojson_geometry`)."""
    fc = feature_collection
    if isinstance(fc, str):
        try:
            fc = jsonbounds.loads(fc)
        except ValueError:
            raise InvalidInput("featureCollection is not valid JSON.", slug="invalid-geojson") from None
    if not isinstance(fc, dict) or not fc:
        raise InvalidInput(
            "featureCollection must be a GeoJSON FeatureCollection with at least one Polygon feature.",
            slug="invalid-geojson",
        )
    kind = fc.get("type")
    if kind == "FeatureCollection":
        features = fc.get("features")
    elif kind == "Feature":
        features = [fc]
    elif kind in ("Polygon", "MultiPolygon"):
        features = [{"type": "Feature", "geometry": fc, "properties": {}}]
    else:
        raise InvalidInput(
            f"featureCollection has type {kind!r}; send a GeoJSON FeatureCollection of Polygons.",
            slug="invalid-geojson",
        )
    if not isinstance(features, list) or not features:
        raise InvalidInput(
            "The FeatureCollection has no features: draw or upload at least one area.", slug="no-features"
        )
    max_features = settings.GEOMETRY_MAX_FEATURES
    if len(features) > max_features:
        raise InvalidInput(
            f"The FeatureCollection has {len(features)} features; one request takes at most {max_features}. "
            "Split it into several requests.",
            slug="too-many-features",
        )
    return features
