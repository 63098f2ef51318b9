"""Files support staff upload to record a delivery by hand: a STAC Item, a GeoJSON Feature /
FeatureCollection (one feature) or a bare Polygon / MultiPolygon. The footprint goes through the
one geometry validator (`orders.geometry`); every refusal says what to fix."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.contrib.gis.geos import MultiPolygon
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from geopera_web import jsonbounds
from geopera_web.errors import InvalidInput
from geopera_web.safe_urls import assets_with_stored_hrefs

from ..geometry import GeometryError, geojson_geometry


def _number(value: Any, default: float) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return default
    return number if math.isfinite(number) else default


SCENE_ID_MAX_CHARS = 200  # DeliveredCapture.scene_id


@dataclass(frozen=True)
class ParsedUpload:
    footprint: MultiPolygon
    scene_id: str
    acquired_at: datetime | None
    cloud_cover: float | None
    assets: dict
    properties: dict
    kind: str  # "stac-item" | "geojson"


def _bad(msg: str) -> InvalidInput:
    return InvalidInput(msg, slug="invalid-delivery-file")


def parse_delivery_upload(raw: bytes) -> ParsedUpload:
    """A STAC Item, a GeoJSON Feature/FeatureCollection (one feature) or a bare Polygon /
    MultiPolygon, as a valid MultiPolygon in EPSG:4326. Every refusal says what to fix."""
    if len(raw) > settings.DELIVERY_UPLOAD_MAX_BYTES:
        raise _bad(
            f"The file is {len(raw) // 1024} KB; the limit is {settings.DELIVERY_UPLOAD_MAX_BYTES // 1024 // 1024} MB."
        )
    try:
        doc = jsonbounds.loads(raw.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise _bad(f"The file is not JSON ({exc}). Upload a STAC Item or a GeoJSON footprint.") from None
    if not isinstance(doc, dict) or "type" not in doc:
        raise _bad(
            'The file is JSON but not GeoJSON: it needs a "type" (Feature, FeatureCollection or Polygon).'
        )
    kind = "geojson"
    props: dict = {}
    assets: dict = {}
    scene_id = ""
    if doc["type"] == "FeatureCollection":
        feats = doc.get("features") or []
        if len(feats) != 1:
            raise _bad(
                f"The FeatureCollection has {len(feats)} features; upload one capture's footprint at a time."
            )
        doc = feats[0]
    if doc.get("type") == "Feature":
        if "stac_version" in doc:
            kind = "stac-item"
        props = doc.get("properties") or {}
        assets = doc.get("assets") or {}
        scene_id = str(doc.get("id") or "")
        geometry = doc.get("geometry")
        if not isinstance(props, dict) or not isinstance(assets, dict):
            raise _bad("The feature's properties and assets must be JSON objects.")
    else:
        geometry = doc
    if not isinstance(geometry, dict) or geometry.get("type") not in ("Polygon", "MultiPolygon"):
        got = geometry.get("type") if isinstance(geometry, dict) else "nothing"
        raise _bad(f"The footprint must be a Polygon or MultiPolygon; the file has {got}.")
    footprint = _footprint(geometry)
    acquired = None
    if props.get("datetime") or props.get("start_datetime"):
        try:
            acquired = parse_datetime(str(props.get("datetime") or props.get("start_datetime")))
        except ValueError:  # well formed but impossible, e.g. 2026-02-30
            acquired = None
        if acquired is None:
            raise _bad(f"properties.datetime {props.get('datetime')!r} is not an ISO 8601 date-time.")
        if timezone.is_naive(acquired):
            acquired = timezone.make_aware(acquired, UTC)
    cloud = props.get("eo:cloud_cover")
    if cloud is not None:
        cloud = _number(cloud, -1)
        if not 0 <= cloud <= 100:
            raise _bad("properties.eo:cloud_cover must be a percentage between 0 and 100.")
    if kind == "stac-item" and not assets:
        raise _bad("The STAC Item has no assets; a delivery needs at least one asset href.")
    _, refused = assets_with_stored_hrefs(assets)
    for name, why in refused.items():
        raise _bad(f"Asset {name!r}: {why}. Give each asset an absolute https:// (or http://) href.")
    if len(scene_id) > SCENE_ID_MAX_CHARS:
        raise _bad(f"The item id is longer than {SCENE_ID_MAX_CHARS} characters; a scene id is shorter.")
    return ParsedUpload(footprint, scene_id, acquired, cloud, assets, props, kind)


# The delivery page's wording for what `orders.geometry` refuses in a footprint file.
_FOOTPRINT_MESSAGES: dict[str, str] = {
    "no_coordinates": "The footprint has no coordinates.",
    "empty_polygon": "Each polygon needs at least one ring of coordinates.",
    "ring_too_short": "Each ring needs at least 4 positions (the first repeated at the end).",
    "bad_position": "{position_text} is not a [longitude, latitude] position.",
    "out_of_range": "Position {position} is outside longitude −180…180 / latitude −90…90: "
    "coordinates must be WGS84 degrees, longitude first.",
    "ring_not_closed": "A ring is not closed: its last position must repeat its first.",
    "too_many_vertices": "The footprint has {count} vertices; simplify it below {limit}.",
    "unreadable": "The footprint geometry cannot be read: {reason}.",
    "empty": "The footprint has no area (are all its positions on one line?).",
    "no_area": "The footprint has no area (are all its positions on one line?).",
}


def _footprint(geometry: dict) -> MultiPolygon:
    try:
        return geojson_geometry(
            geometry, field="footprint", polygonal=True, max_vertices=settings.DELIVERY_FOOTPRINT_MAX_VERTICES
        )
    except GeometryError as exc:
        template = _FOOTPRINT_MESSAGES.get(exc.code)
        if template is None:
            raise _bad(exc.detail) from None
        params = {**exc.params, "position_text": str(exc.params.get("position"))[:40]}
        raise _bad(template.format(**params)) from None
