"""What the watch tests share: the watched area over Botany Bay, a STAC Item to import over it,
a FeatureCollection's text for `catalog_import`, and a watch made through the service."""

from __future__ import annotations

import json
from typing import Any

from orders.models import Watch
from orders.watches.services import watch_create
from tests.geometry import geojson_box

AREA = geojson_box(151.00, -34.00, 151.20, -33.80)  # the watched area


def item(
    scene_id: str,
    bounds: tuple[float, float, float, float] = (151.00, -34.00, 151.10, -33.80),
    cloud: float = 5.0,
    off_nadir: float = 10.0,
    collection: str = "pleiades",
) -> dict[str, Any]:
    """A STAC Item of the archive over `bounds` (west, south, east, north)."""
    x0, y0, x1, y1 = bounds
    return {
        "type": "Feature",
        "stac_version": "1.0.0",
        "id": scene_id,
        "collection": collection,
        "geometry": {"type": "Polygon", "coordinates": [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]]},
        "properties": {
            "datetime": "2026-11-30T00:10:00Z",
            "eo:cloud_cover": cloud,
            "gsd": 0.5,
            "view:off_nadir": off_nadir,
            "platform": "PHR1B",
        },
    }


def collection_text(*items: dict[str, Any]) -> str:
    return json.dumps({"type": "FeatureCollection", "features": list(items)})


def make_watch(org: Any, user: Any, aoi: Any = AREA, **kw: Any) -> Watch:
    return watch_create(org=org, user=user, name=kw.pop("name", "w"), aoi=aoi, **kw)
