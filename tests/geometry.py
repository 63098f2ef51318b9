"""The one module of test geometries: lon/lat boxes and squares as GeoJSON or GEOS, a self-crossing
bow tie, FeatureCollections. Every test builds its shapes from here."""

from __future__ import annotations

import math
from typing import Any

from django.contrib.gis.geos import GEOSGeometry, MultiPolygon, Polygon

KM_PER_DEGREE = 111.32


def ring(x0: float, y0: float, x1: float, y1: float) -> list[list[float]]:
    """A closed, counter-clockwise lon/lat ring around a box."""
    return [[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]


def box_coords(x0: float, y0: float, x1: float, y1: float) -> list[list[list[float]]]:
    """GeoJSON Polygon `coordinates` of a lon/lat box."""
    return [ring(x0, y0, x1, y1)]


def geojson_box(x0: float, y0: float, x1: float, y1: float) -> dict[str, Any]:
    """A GeoJSON Polygon for a lon/lat box."""
    return {"type": "Polygon", "coordinates": box_coords(x0, y0, x1, y1)}


def box(west: float, south: float, east: float, north: float) -> MultiPolygon:
    """A GEOS MultiPolygon (SRID 4326) for a lon/lat box."""
    return MultiPolygon(Polygon.from_bbox((west, south, east, north)), srid=4326)


def mpoly(wkt_or_bbox: Any) -> MultiPolygon:
    """A MultiPolygon (SRID 4326) from WKT, or from a box (minx, miny, maxx, maxy)."""
    geom = Polygon.from_bbox(wkt_or_bbox) if isinstance(wkt_or_bbox, tuple) else GEOSGeometry(wkt_or_bbox)
    if geom.geom_type == "Polygon":
        geom = MultiPolygon(geom)
    geom.srid = 4326
    return geom


def square(lon: float = 151.0, lat: float = -33.5, km: float = 12.0) -> dict[str, Any]:
    """A closed GeoJSON lon/lat square of roughly `km` × `km` centred on (lon, lat)."""
    dlat = km / KM_PER_DEGREE / 2
    dlon = km / (KM_PER_DEGREE * math.cos(math.radians(lat))) / 2
    return geojson_box(lon - dlon, lat - dlat, lon + dlon, lat + dlat)


def square_degrees(lon: float, lat: float, half: float) -> Polygon:
    """A GEOS Polygon (SRID 4326) `half` degrees either side of (lon, lat)."""
    polygon = Polygon.from_bbox((lon - half, lat - half, lon + half, lat + half))
    polygon.srid = 4326
    return polygon


def bowtie(lon: float = 151.0, lat: float = -33.5, d: float = 0.1) -> dict[str, Any]:
    """A self-intersecting GeoJSON Polygon (two triangles meeting at (lon, lat))."""
    corners = [[lon - d, lat - d], [lon + d, lat + d], [lon + d, lat - d], [lon - d, lat + d]]
    return {"type": "Polygon", "coordinates": [[*corners, corners[0]]]}


def fc(*geometries: dict[str, Any]) -> dict[str, Any]:
    """A FeatureCollection with one feature per geometry, named "AOI 1", "AOI 2", …"""
    return {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "geometry": g, "properties": {"name": f"AOI {i + 1}"}}
            for i, g in enumerate(geometries)
        ],
    }
