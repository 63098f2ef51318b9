"""Reads of the archive catalog: the search behind `catalog.search`, its NDJSON stream and STAC.

The catalog is the reseller's shared archive metadata (list prices included), not tenant data, so
these selectors take no `org`. One page = one SQL query (captures joined to their product, with the
geodesic area computed in PostGIS), whatever the page size; paging is keyset on
(acquired_at desc, id desc), which the `orders_capture_keyset` index serves, and spatial filters use
the footprint's GiST index.
"""

from __future__ import annotations

import base64
import json
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from django.contrib.gis.db.models.functions import AsGeoJSON
from django.contrib.gis.geos import GEOSGeometry, Polygon
from django.db.models import Q, QuerySet
from django.db.models.expressions import RawSQL
from django.utils.dateparse import parse_datetime

from geopera_web.errors import InvalidInput

from ..geometry import geometry_from_geojson
from ..models import Capture, DataProduct, OrderType
from ..pricing import billed_area_km2, credits_for_area
from .data import ARCHIVE_HOST

DEFAULT_LIMIT = 100
MAX_LIMIT = 500

# STAC property name -> Capture field. `cloudCoverage` is the provider shape named in CloudQuery.
QUERYABLE = {
    "eo:cloud_cover": "cloud_cover",
    "cloudCoverage": "cloud_cover",
    "view:off_nadir": "off_nadir",
    "gsd": "gsd",
    "view:sun_elevation": "sun_elevation",
}
QUERY_OPS = {"lt": "lt", "lte": "lte", "gt": "gt", "gte": "gte", "eq": "exact"}

_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")


@dataclass
class SearchParams:
    collections: list[str] | None = None
    ids: list[str] | None = None
    bbox: list[float] | None = None
    intersects: GEOSGeometry | None = None
    start: datetime | None = None
    end: datetime | None = None
    query: dict[str, dict[str, float]] = field(default_factory=dict)
    limit: int = DEFAULT_LIMIT
    after: tuple[datetime, UUID] | None = None
    host: str | None = None


# --- parsing (shared by the operation and STAC) ---------------------------------------------------


def parse_instant(value: str, *, field: str = "datetime") -> datetime:
    if not _RFC3339.match(value):
        raise InvalidInput(
            f"'{field}' has {value!r}, which is not an RFC 3339 date-time "
            "(e.g. 2024-01-31T00:00:00Z, with a time zone)."
        )
    try:
        parsed = parse_datetime(value.upper())
    except ValueError:
        parsed = None
    if parsed is None:
        raise InvalidInput(f"'{field}' has {value!r}, which is not a real date-time.")
    return parsed


def parse_datetime_range(value: str | None) -> tuple[datetime | None, datetime | None]:
    """STAC datetime: an instant, or `start/end` with `..` (or empty) for an open end."""
    if value is None or value == "":
        return None, None
    if not isinstance(value, str):
        raise InvalidInput("'datetime' must be a string.")
    if "/" not in value:
        instant = parse_instant(value)
        return instant, instant
    parts = value.split("/")
    if len(parts) != 2:
        raise InvalidInput(f"'datetime' {value!r} must be an instant or 'start/end'.")
    start_s, end_s = parts
    open_start, open_end = start_s in ("", ".."), end_s in ("", "..")
    if open_start and open_end:
        raise InvalidInput("'datetime' cannot be open at both ends; give a start or an end.")
    start = None if open_start else parse_instant(start_s)
    end = None if open_end else parse_instant(end_s)
    if start and end and start > end:
        raise InvalidInput(f"'datetime' starts after it ends ({start_s} > {end_s}).")
    return start, end


def parse_bbox(value: Any) -> list[float] | None:
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = [float(v) for v in value.split(",")]
        except ValueError as exc:
            raise InvalidInput("'bbox' must be 4 (or 6) comma-separated numbers.") from exc
    if not isinstance(value, list | tuple) or len(value) not in (4, 6):
        raise InvalidInput("'bbox' must have 4 numbers [west, south, east, north] (or 6 with heights).")
    try:
        nums = [float(v) for v in value]
    except (TypeError, ValueError) as exc:
        raise InvalidInput("'bbox' must contain only numbers.") from exc
    if any(math.isnan(v) or math.isinf(v) for v in nums):
        raise InvalidInput("'bbox' must contain finite numbers.")
    west, south, east, north = (nums[0], nums[1], nums[3], nums[4]) if len(nums) == 6 else nums
    if not (-180 <= west <= 180 and -180 <= east <= 180 and -90 <= south <= 90 and -90 <= north <= 90):
        raise InvalidInput("'bbox' is outside longitude -180..180 / latitude -90..90.")
    if south > north:
        raise InvalidInput("'bbox' has its south edge above its north edge.")
    return [west, south, east, north]


def parse_query(value: Any) -> dict[str, dict[str, float]]:
    """`{"eo:cloud_cover": {"lte": 20}}`; operators lt/lte/gt/gte/eq, also the reference's GT/GTE/LT/LTE."""
    if value in (None, ""):
        return {}
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError as exc:
            raise InvalidInput(f"'query' is not valid JSON: {exc.msg}.") from exc
    if not isinstance(value, dict):
        raise InvalidInput("'query' must be an object of property → {operator: number}.")
    out: dict[str, dict[str, float]] = {}
    for prop, ops in value.items():
        if prop not in QUERYABLE:
            raise InvalidInput(
                f"'query' cannot filter on {prop!r}; queryable: {', '.join(sorted(QUERYABLE))}."
            )
        if not isinstance(ops, dict) or not ops:
            raise InvalidInput(f"'query.{prop}' must be an object such as {{\"lte\": 20}}.")
        for op, operand in ops.items():
            if operand is None:
                continue  # the reference's CloudQuery allows null operators
            lop = str(op).lower()
            if lop not in QUERY_OPS:
                raise InvalidInput(f"'query.{prop}' has unknown operator {op!r}; use lt, lte, gt, gte or eq.")
            if isinstance(operand, bool) or not isinstance(operand, int | float):
                raise InvalidInput(f"'query.{prop}.{op}' must be a number, got {operand!r}.")
            out.setdefault(prop, {})[lop] = float(operand)
    return out


def encode_token(acquired_at: datetime, capture_id: UUID) -> str:
    raw = json.dumps({"t": acquired_at.isoformat(), "i": str(capture_id)}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_token(token: str) -> tuple[datetime, UUID]:
    try:
        padded = token + "=" * (-len(token) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode()).decode())
        when = datetime.fromisoformat(data["t"])
        return when, UUID(data["i"])
    except (ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:
        raise InvalidInput(
            "'next' is not a token this server issued; restart the search without it."
        ) from exc


def build_params(data: dict[str, Any], *, limit: int, host: str | None = None) -> SearchParams:
    """Validated SearchParams from an (already type-checked) input dict. Raises InvalidInput (400)."""
    if data.get("bbox") is not None and data.get("intersects") is not None:
        raise InvalidInput("Give either 'bbox' or 'intersects', not both.")
    start, end = parse_datetime_range(data.get("datetime"))
    token = data.get("next") or data.get("token")
    intersects = data.get("intersects")
    return SearchParams(
        collections=_str_list(data.get("collections"), "collections"),
        ids=_str_list(data.get("ids"), "ids"),
        bbox=parse_bbox(data.get("bbox")),
        intersects=geometry_from_geojson(intersects) if intersects is not None else None,
        start=start,
        end=end,
        query=parse_query(data.get("query")),
        limit=limit,
        after=decode_token(token) if token else None,
        host=host,
    )


def _str_list(value: Any, name: str) -> list[str] | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        value = [v for v in value.split(",") if v]
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise InvalidInput(f"'{name}' must be a list of strings.")
    return list(value)


def known_hosts() -> list[str]:
    hosts = set(
        DataProduct.objects.filter(order_type=OrderType.ARCHIVE, is_active=True).values_list(
            "host", flat=True
        )
    )
    return sorted(hosts | {ARCHIVE_HOST})


# --- the query ------------------------------------------------------------------------------------


def _bbox_q(bbox: list[float]) -> Q:
    west, south, east, north = bbox
    if west <= east:
        return Q(footprint__intersects=Polygon.from_bbox((west, south, east, north)))
    # Crosses the antimeridian: two boxes.
    return Q(footprint__intersects=Polygon.from_bbox((west, south, 180, north))) | Q(
        footprint__intersects=Polygon.from_bbox((-180, south, east, north))
    )


def catalog_queryset(params: SearchParams) -> QuerySet[Capture]:
    """Filtered, ordered captures for a search (no limit or cursor applied)."""
    # A literal list of the (few) sellable products rather than a join condition: with the join,
    # PostgreSQL loops over the products and repeats the GiST scan for each one (seen in EXPLAIN on
    # 1M rows); with the list it runs one GiST bitmap scan and filters.
    sellable = list(
        DataProduct.objects.filter(order_type=OrderType.ARCHIVE, is_active=True).values_list("id", flat=True)
    )
    qs = Capture.objects.filter(data_product_id__in=sellable)
    if params.host:
        qs = qs.filter(host=params.host)
    if params.collections is not None:
        qs = qs.filter(collection__in=params.collections)
    if params.ids is not None:
        qs = qs.filter(scene_id__in=params.ids)
    if params.bbox is not None:
        qs = qs.filter(_bbox_q(params.bbox))
    if params.intersects is not None:
        qs = qs.filter(footprint__intersects=params.intersects)
    if params.start is not None:
        qs = qs.filter(acquired_at__gte=params.start)
    if params.end is not None:
        qs = qs.filter(acquired_at__lte=params.end)
    for prop, ops in params.query.items():
        column = QUERYABLE[prop]
        for op, operand in ops.items():
            qs = qs.filter(**{f"{column}__{QUERY_OPS[op]}": operand})
    return (
        qs.select_related("data_product")
        .defer("footprint", "data_product__description")
        .annotate(
            footprint_geojson=AsGeoJSON("footprint", precision=6),
            area_km2=RawSQL("ST_Area(orders_capture.footprint::geography) / 1e6", ()),
        )
        .order_by("-acquired_at", "-id")
    )


def _after_q(after: tuple[datetime, UUID]) -> Q:
    when, cid = after
    return Q(acquired_at__lt=when) | Q(acquired_at=when, id__lt=cid)


@dataclass
class SearchPage:
    captures: list[Capture]
    next_token: str | None
    limit: int
    number_matched: int | None = None


def catalog_search(*, params: SearchParams) -> SearchPage:
    """One page of captures, newest first, plus the token for the next page (None on the last).

    Keyset paging: a row inserted between pages lands either before the cursor (not seen, as it is
    newer than the page already read) or after it (seen in its place) — never a duplicate or a miss
    of the rows that were there.
    """
    qs = catalog_queryset(params)
    if params.after is not None:
        qs = qs.filter(_after_q(params.after))
    rows = list(qs[: params.limit + 1])
    next_token = None
    if len(rows) > params.limit:
        rows = rows[: params.limit]
        last = rows[-1]
        next_token = encode_token(last.acquired_at, last.id)
    # numberMatched only where it costs nothing: a first page that holds every match.
    matched = len(rows) if params.after is None and next_token is None else None
    return SearchPage(captures=rows, next_token=next_token, limit=params.limit, number_matched=matched)


def catalog_stream(*, params: SearchParams, max_items: int | None = None) -> Iterator[Capture]:
    """Every matching capture, read through a server-side cursor in chunks (never all in memory)."""
    qs = catalog_queryset(params)
    if params.after is not None:
        qs = qs.filter(_after_q(params.after))
    if max_items is not None:
        qs = qs[:max_items]
    yield from qs.iterator(chunk_size=1000)


def capture_get(*, scene_id: str, collection: str | None = None) -> Capture | None:
    params = SearchParams(ids=[scene_id], collections=[collection] if collection else None, limit=1)
    return catalog_queryset(params).first()


def quicklook_cloud_cover(*, scene_id: str) -> float | None:
    return Capture.objects.filter(scene_id=scene_id).values_list("cloud_cover", flat=True).first()


def archive_products() -> QuerySet[DataProduct]:
    return DataProduct.objects.filter(order_type=OrderType.ARCHIVE, is_active=True).order_by(
        "-credits_per_km2"
    )


# --- serialisation --------------------------------------------------------------------------------

STAC_EXTENSIONS = [
    "https://stac-extensions.github.io/eo/v1.1.0/schema.json",
    "https://stac-extensions.github.io/view/v1.0.0/schema.json",
]


def _bbox_of(geometry: dict) -> list[float]:
    xs: list[float] = []
    ys: list[float] = []

    def walk(c: Any) -> None:
        if c and isinstance(c[0], int | float):
            xs.append(c[0])
            ys.append(c[1])
        else:
            for sub in c:
                walk(sub)

    walk(geometry.get("coordinates", []))
    return [min(xs), min(ys), max(xs), max(ys)] if xs else []


def price_of(*, product: DataProduct, area_km2: float) -> dict[str, Any]:
    credits = credits_for_area(product=product, area_km2=area_km2)
    return {
        "product_id": product.id,
        "product_name": product.name,
        "credits_per_km2": product.credits_per_km2,
        "min_area_km2": product.min_area_km2,
        "area_km2": round(area_km2, 4),
        "billed_area_km2": round(billed_area_km2(product=product, area_km2=area_km2), 4),
        "credits": credits,
        "aud": round(credits / 100, 2),
    }


def capture_feature(capture: Capture, *, base_url: str = "", stac_root: str | None = None) -> dict[str, Any]:
    """A STAC Item (GeoJSON Feature) for a capture from `catalog_queryset`, with its list price.

    `base_url` ("https://host") makes relative asset links absolute; `stac_root` ("https://host/stac")
    adds STAC navigation links.
    """
    geometry = json.loads(capture.footprint_geojson)  # type: ignore[attr-defined]
    product = capture.data_product
    props: dict[str, Any] = {
        **(capture.properties or {}),
        "datetime": capture.acquired_at.isoformat().replace("+00:00", "Z"),
        "platform": capture.platform,
        "gsd": capture.gsd,
        "eo:cloud_cover": capture.cloud_cover,
        "view:off_nadir": capture.off_nadir,
        "view:sun_elevation": capture.sun_elevation,
        "host": capture.host,
        "price": price_of(product=product, area_km2=capture.area_km2),  # type: ignore[attr-defined]
    }
    assets: dict[str, Any] = {}
    if capture.thumbnail_url:
        assets["thumbnail"] = {
            "href": _absolute(capture.thumbnail_url, base_url),
            "type": "image/svg+xml" if ".svg" in capture.thumbnail_url else "image/png",
            "roles": ["thumbnail"],
            "title": "Thumbnail",
        }
    if capture.quicklook_url:
        assets["overview"] = {
            "href": _absolute(capture.quicklook_url, base_url),
            "type": "image/svg+xml" if ".svg" in capture.quicklook_url else "image/jpeg",
            "roles": ["overview"],
            "title": "Quicklook",
        }
    feature: dict[str, Any] = {
        "type": "Feature",
        "stac_version": "1.0.0",
        "stac_extensions": STAC_EXTENSIONS,
        "id": capture.scene_id,
        "collection": capture.collection,
        "geometry": geometry,
        "bbox": _bbox_of(geometry),
        "properties": props,
        "assets": assets,
        "links": [],
    }
    if stac_root is not None:
        coll = f"{stac_root}/collections/{capture.collection}"
        feature["links"] = [
            {"rel": "self", "href": f"{coll}/items/{capture.scene_id}", "type": "application/geo+json"},
            {"rel": "collection", "href": coll, "type": "application/json"},
            {"rel": "parent", "href": coll, "type": "application/json"},
            {"rel": "root", "href": f"{stac_root}/", "type": "application/json"},
        ]
    return feature


def _absolute(href: str, base_url: str) -> str:
    return base_url + href if href.startswith("/") and base_url else href
