"""Reads of the archive catalog: the search behind `catalog.search`, its NDJSON stream and STAC.

The catalog is the reseller's shared archive metadata (list prices included), not tenant data, so
these selectors take no `org`. One page = one SQL query (captures joined to their product, with the
geodesic area computed in PostGIS), whatever the page size; paging is keyset on
(acquired_at desc, id desc), which the `orders_capture_keyset` index serves, and spatial filters use
the footprint's GiST index.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from types import SimpleNamespace
from typing import Any
from uuid import UUID

from django.conf import settings
from django.contrib.gis.db.models.functions import AsGeoJSON
from django.contrib.gis.geos import GEOSGeometry, Polygon
from django.core import signing
from django.db import connection, transaction
from django.db.models import Count, F, Q, QuerySet, Window
from django.db.models.expressions import RawSQL
from django.utils.dateparse import parse_datetime

from geopera_web.errors import InvalidInput

from ..geometry import geometry_from_geojson
from ..models import Capture, DataProduct, OrderType
from ..pricing import billed_area_km2, credits_for_area
from .data import ARCHIVE_HOST
from .stac_query import DATETIME, QUERYABLES, Fields, Filter, parse_query, query_json_safe, query_q
from .stac_sql import item_sql

DEFAULT_LIMIT = 100
STREAM_CHUNK = 1000  # rows per fetch from the stream's cursor
# CATALOG_SEARCH_MAX_LIMIT / _MAX_IDS / _MAX_COLLECTIONS are read per request (never at import).
ID_MAX_CHARS = 200  # a scene id or collection id longer than this names nothing

_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")


@dataclass
class SearchParams:
    collections: list[str] | None = None
    ids: list[str] | None = None
    bbox: list[float] | None = None
    intersects: GEOSGeometry | None = None
    start: datetime | None = None
    end: datetime | None = None
    query: dict[str, dict[str, Any]] = field(default_factory=dict)
    limit: int = DEFAULT_LIMIT
    after: Cursor | None = None
    host: str | None = None
    filter: Filter | None = None
    # [(queryable name, descending)]; empty = newest first. The capture id always breaks ties.
    sort: list[tuple[str, bool]] = field(default_factory=list)
    # What the search selects (not the page): a `next` token only works with the same one.
    fingerprint: str = ""
    # The sellable archive products' ids, when the caller already read them (else read per query).
    sellable: list[str] | None = None


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


@dataclass(frozen=True)
class Cursor:
    """Where the previous page ended: its last row's sort-key values and id, plus the count that
    page reported (so later pages repeat it rather than count again)."""

    keys: tuple[Any, ...]
    capture_id: UUID
    matched: int | None = None
    estimated: bool = False


_TOKEN_SALT = "geopera.catalog.next"


def encode_token(params: SearchParams, last: Any, *, matched: int | None, estimated: bool) -> str:
    """A signed, opaque `next` token bound to the search's fingerprint (filters and sort)."""
    keys = []
    for name, _ in _sort_keys(params):
        value = getattr(last, QUERYABLES[name].column)
        keys.append(value.isoformat() if isinstance(value, datetime) else value)
    payload = {"k": keys, "i": str(last.id), "f": params.fingerprint, "m": matched, "e": int(estimated)}
    return signing.dumps(payload, salt=_TOKEN_SALT, compress=True)


def decode_token(token: Any, *, fingerprint: str, sort: list[tuple[str, bool]]) -> Cursor:
    if not isinstance(token, str) or len(token) > 4000:
        raise InvalidInput("'next' is not a token this server issued; restart the search without it.")
    try:
        data = signing.loads(token, salt=_TOKEN_SALT)
    except signing.BadSignature as exc:
        raise InvalidInput(
            "'next' is not a token this server issued; restart the search without it.", slug="invalid-token"
        ) from exc
    if not isinstance(data, dict) or data.get("f") != fingerprint:
        raise InvalidInput(
            "'next' was issued for a different search (other filters, sort or collections); "
            "page with the same parameters, or restart without the token.",
            slug="token-mismatch",
        )
    names = [name for name, _ in (sort or DEFAULT_SORT)] + ["_id"]
    keys = []
    for name, raw in zip(names[:-1], data["k"], strict=True):
        kind = QUERYABLES[name].kind
        keys.append(datetime.fromisoformat(raw) if kind == DATETIME else raw)
    return Cursor(
        keys=tuple(keys), capture_id=UUID(data["i"]), matched=data.get("m"), estimated=bool(data.get("e"))
    )


def _fingerprint(**parts: Any) -> str:
    def plain(v: Any) -> Any:
        if isinstance(v, GEOSGeometry):
            return v.ewkt
        if isinstance(v, datetime):
            return v.isoformat()
        return v

    canonical = json.dumps({k: plain(v) for k, v in parts.items()}, sort_keys=True, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()[:24]


def build_params(
    data: dict[str, Any],
    *,
    limit: int,
    host: str | None = None,
    filter: Filter | None = None,
    sort: list[tuple[str, bool]] | None = None,
) -> SearchParams:
    """Validated SearchParams from an (already type-checked) input dict. Raises InvalidInput (400).

    `filter` and `sort` come parsed (STAC only: see stac_query); they are part of the fingerprint
    a `next` token is bound to."""
    if data.get("bbox") is not None and data.get("intersects") is not None:
        raise InvalidInput("Give either 'bbox' or 'intersects', not both.")
    start, end = parse_datetime_range(data.get("datetime"))
    token = data.get("next") or data.get("token")
    intersects = data.get("intersects")
    params = SearchParams(
        collections=_str_list(data.get("collections"), "collections"),
        ids=_str_list(data.get("ids"), "ids"),
        bbox=parse_bbox(data.get("bbox")),
        intersects=geometry_from_geojson(intersects) if intersects is not None else None,
        start=start,
        end=end,
        query=parse_query(data.get("query")),
        limit=limit,
        host=host,
        filter=filter,
        sort=sort or [],
    )
    params.fingerprint = _fingerprint(
        collections=params.collections,
        ids=params.ids,
        bbox=params.bbox,
        intersects=params.intersects,
        start=params.start,
        end=params.end,
        query=query_json_safe(params.query),
        filter=filter.fingerprint if filter else None,
        sort=params.sort,
        host=host,
    )
    if token:
        params.after = decode_token(token, fingerprint=params.fingerprint, sort=params.sort)
    return params


def _str_list(value: Any, name: str) -> list[str] | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        value = [v for v in value.split(",") if v]
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise InvalidInput(f"'{name}' must be a list of strings.")
    setting = "CATALOG_SEARCH_MAX_IDS" if name == "ids" else "CATALOG_SEARCH_MAX_COLLECTIONS"
    limit = getattr(settings, setting)
    if len(value) > limit:
        raise InvalidInput(
            f"'{name}' has {len(value):,} entries; the limit is {limit:,} per search ({setting}). "
            "Search in several requests.",
            limit=limit,
        )
    if any(len(v) > ID_MAX_CHARS for v in value):
        raise InvalidInput(f"Every entry of '{name}' must be at most {ID_MAX_CHARS} characters.")
    return list(value)


def known_hosts() -> list[str]:
    return hosts_of(sellable_products())


def sellable_products() -> list[tuple[str, str]]:
    """(id, host) of every active archive product: one query, for a request to read once."""
    return list(
        DataProduct.objects.filter(order_type=OrderType.ARCHIVE, is_active=True)
        .order_by()
        .values_list("id", "host")
    )


def hosts_of(products: list[tuple[str, str]]) -> list[str]:
    return sorted({host for _, host in products} | {ARCHIVE_HOST})


# --- the query ------------------------------------------------------------------------------------


def _bbox_q(bbox: list[float]) -> Q:
    west, south, east, north = bbox
    if west <= east:
        return Q(footprint__intersects=Polygon.from_bbox((west, south, east, north)))
    # Crosses the antimeridian: two boxes.
    return Q(footprint__intersects=Polygon.from_bbox((west, south, 180, north))) | Q(
        footprint__intersects=Polygon.from_bbox((-180, south, east, north))
    )


def catalog_filtered(params: SearchParams) -> QuerySet[Capture]:
    """The captures a search matches (filters only: no columns chosen, no order)."""
    # A literal list of the (few) sellable products rather than a join condition: with the join,
    # PostgreSQL loops over the products and repeats the GiST scan for each one (seen in EXPLAIN on
    # 1M rows); with the list it runs one GiST bitmap scan and filters.
    if params.sellable is None:
        params.sellable = [pk for pk, _ in sellable_products()]
    # No sellable product: an id no product has, so the statements still run and match nothing
    # (an empty IN () makes Django skip the SQL, which EXPLAIN and the raw page SQL cannot).
    sellable = params.sellable or [""]
    return catalog_filters_apply(Capture.objects.filter(data_product_id__in=sellable), params)


def catalog_filters_apply(qs: QuerySet[Capture], params: SearchParams) -> QuerySet[Capture]:
    """`qs` narrowed by a search's filters (host, collections, ids, area, dates, query, CQL2): the
    one place they become SQL (the search, its stream and the map's vector tiles)."""
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
    if params.query:
        qs = qs.filter(query_q(params.query))
    if params.filter is not None:
        qs = qs.filter(params.filter.q)
    return qs


def _with_columns(qs: QuerySet[Capture], params: SearchParams) -> QuerySet[Capture]:
    """What a STAC Item needs, newest first (or the search's sort): the footprint as GeoJSON and its
    geodesic area, computed by PostgreSQL, never the raw geometry."""
    return (
        qs.select_related("data_product")
        .defer("footprint", "data_product__description")
        .annotate(
            footprint_geojson=AsGeoJSON("footprint", precision=6),
            area_km2=RawSQL("ST_Area(orders_capture.footprint::geography) / 1e6", ()),
        )
        .order_by(*_ordering(params))
    )


def catalog_queryset(params: SearchParams) -> QuerySet[Capture]:
    """Filtered, ordered captures for a search (no limit or cursor applied)."""
    return _with_columns(catalog_filtered(params), params)


def catalog_page_queryset(params: SearchParams, *, limit: int) -> QuerySet[Capture]:
    """One page of a search as one statement, in two steps inside it: the page's ids are chosen on
    the filters and sort keys alone (narrow rows, no geometry serialised), then only those rows are
    read whole, their footprints turned into GeoJSON and their areas computed.

    The planner picks the path for the ids: the GiST index for an area (EXPLAIN-tested), and, for
    a continent-sized box, the newest-first B-tree walked until the page is full. Forcing the GiST
    index there was measured slower (it must visit every match to sort them: 2× at 200,000
    captures, growing with the catalog), so it is left to the planner (README, Performance)."""
    keys = catalog_filtered(params)
    if params.after is not None:
        keys = keys.filter(_after_q(params))
    page_ids = keys.order_by(*_ordering(params)).values("pk")[:limit]
    return _with_columns(Capture.objects.filter(pk__in=page_ids), params)


DEFAULT_SORT = [("datetime", True)]


def _sort_keys(params: SearchParams) -> list[tuple[str, bool]]:
    return params.sort or DEFAULT_SORT


def _ordering(params: SearchParams) -> list[Any]:
    order = [
        F(QUERYABLES[name].column).desc() if desc else F(QUERYABLES[name].column).asc()
        for name, desc in _sort_keys(params)
    ]
    return [*order, "-id"]


def _after_q(params: SearchParams) -> Q:
    """Keyset condition "after the cursor" for any sort (sortable columns are NOT NULL): the OR
    over each key of (all earlier keys equal, this one beyond), with the id as the last key."""
    after = params.after
    assert after is not None
    keys = [
        (QUERYABLES[name].column, desc, value)
        for (name, desc), value in zip(_sort_keys(params), after.keys, strict=True)
    ]
    keys.append(("id", True, after.capture_id))
    condition = Q(pk__in=[])
    equal = Q()
    for column, desc, value in keys:
        condition |= equal & Q(**{f"{column}__{'lt' if desc else 'gt'}": value})
        equal &= Q(**{column: value})
    return condition


@dataclass
class SearchPage:
    captures: list[Capture]
    next_token: str | None
    limit: int
    number_matched: int | None = None
    matched_estimated: bool = False


# Up to this many rows (the planner's estimate) a search is counted exactly; above, the planner's
# estimate is reported and flagged (`context.matched_estimated`). Counting a million-row match
# exactly would cost more than the page itself.
# That bound is the setting CATALOG_EXACT_COUNT_MAX (read per search).


def catalog_estimate(params: SearchParams) -> int:
    """The planner's estimate of a search's matches (EXPLAIN: planning only, no rows read)."""
    plan = json.loads(catalog_filtered(params).values("id").explain(format="json"))
    return int(plan[0]["Plan"]["Plan Rows"])


def catalog_count(params: SearchParams) -> tuple[int, bool]:
    """(matches, estimated): exact when the planner expects at most CATALOG_EXACT_COUNT_MAX rows."""
    estimate = catalog_estimate(params)
    if estimate <= settings.CATALOG_EXACT_COUNT_MAX:
        return catalog_filtered(params).count(), False
    return estimate, True


def _page_of(
    params: SearchParams, rows: list[Any], count: Callable[[list[Any]], tuple[int, bool]]
) -> tuple[list[Any], bool, int, bool]:
    """A keyset page's tail, from the `limit + 1` rows read (the extra one says more follow):
    (the page's rows, has_more, matched, estimated). The match count is the one page one counted
    (carried by the token), the page itself when it holds the whole result, else `count(rows)`."""
    has_more = len(rows) > params.limit
    rows = rows[: params.limit]
    if params.after is not None and params.after.matched is not None:
        return rows, has_more, params.after.matched, params.after.estimated  # counted on page one
    if params.after is None and not has_more:
        return rows, has_more, len(rows), False  # the whole result is on this page
    return rows, has_more, *count(rows)


def catalog_search(*, params: SearchParams) -> SearchPage:
    """One page of captures, newest first, plus the token for the next page (None on the last).

    Keyset paging: a row inserted between pages lands either before the cursor (not seen, as it is
    newer than the page already read) or after it (seen in its place) — never a duplicate or a miss
    of the rows that were there.
    """
    rows = list(catalog_page_queryset(params, limit=params.limit + 1))
    rows, has_more, matched, estimated = _page_of(params, rows, lambda _rows: catalog_count(params))
    next_token = encode_token(params, rows[-1], matched=matched, estimated=estimated) if has_more else None
    return SearchPage(
        captures=rows,
        next_token=next_token,
        limit=params.limit,
        number_matched=matched,
        matched_estimated=estimated,
    )


@dataclass
class ItemsPage:
    """A page of STAC Items as JSON text (built by PostgreSQL), with what the response says."""

    items: list[str]
    next_token: str | None
    limit: int
    number_matched: int | None
    matched_estimated: bool


def catalog_page_items_sql(
    params: SearchParams, *, limit: int, item: tuple[str, list[Any]], with_count: bool
) -> tuple[str, list[Any]]:
    """One page as one statement: the page's ids chosen on the filters and sort keys alone (narrow
    rows: no footprint is read or sorted for a row off the page), then only those rows joined to
    their product and written out as STAC Items by PostgreSQL. With `with_count` the id step also
    counts every match (`count(*) OVER ()`): the spatial plans visit every match to sort them
    anyway, so the exact count costs no second scan."""
    keys = catalog_filtered(params)
    if params.after is not None:
        keys = keys.filter(_after_q(params))
    columns = ["pk"]
    if with_count:
        keys = keys.annotate(_matched=Window(Count("*")))
        columns.append("_matched")
    ids_sql, ids_params = keys.order_by(*_ordering(params)).values(*columns)[:limit].query.sql_with_params()
    sort = [
        (Capture._meta.get_field(QUERYABLES[name].column).column, desc) for name, desc in _sort_keys(params)
    ]
    order = ", ".join(f'c."{col}" {"DESC" if desc else "ASC"}' for col, desc in [*sort, ("id", True)])
    item_sql, item_params = item
    sql = (
        f"SELECT {''.join(f'c.{chr(34)}{col}{chr(34)}, ' for col, _ in sort)}c.id, "
        f"{'page.n' if with_count else 'NULL::bigint'}, ({item_sql})::text "
        f"FROM ({ids_sql}) AS page(id{', n' if with_count else ''}) "
        f"JOIN {Capture._meta.db_table} c ON c.id = page.id "
        f"JOIN {DataProduct._meta.db_table} p ON p.id = c.data_product_id "
        "CROSS JOIN LATERAL (SELECT ST_Area(c.footprint::geography) / 1e6 AS km2) a "
        f"ORDER BY {order}"
    )
    return sql, [*item_params, *ids_params]


def catalog_search_items(
    *, params: SearchParams, fields: Fields | None, base_url: str, stac_root: str | None = None
) -> ItemsPage | None:
    """`catalog_search`, with the Items written by PostgreSQL holding only the `fields` asked for;
    None when `fields` names a path only the Python path answers (see stac_sql).

    Queries: the planner's estimate (EXPLAIN) on a first page, then the page statement — which
    also counts the matches when the estimate is small enough to count exactly."""
    item = item_sql(fields=fields, base_url=base_url, stac_root=stac_root, extensions=STAC_EXTENSIONS)
    if item is None:
        return None
    estimate: int | None = None
    if params.after is None:
        estimate = catalog_estimate(params)
    with_count = estimate is not None and estimate <= settings.CATALOG_EXACT_COUNT_MAX
    sql, sql_params = catalog_page_items_sql(params, limit=params.limit + 1, item=item, with_count=with_count)
    with connection.cursor() as cursor:
        cursor.execute(sql, sql_params)
        rows = cursor.fetchall()

    def count(page: list[Any]) -> tuple[int, bool]:
        if with_count:  # the page statement counted every match (count(*) OVER ())
            return int(page[0][-2]), False
        if estimate is not None:
            return estimate, True
        return catalog_count(params)

    rows, has_more, matched, estimated = _page_of(params, rows, count)
    next_token = None
    if has_more:
        last = rows[-1]
        names = [QUERYABLES[name].column for name, _ in _sort_keys(params)]
        values = dict(zip(names, last[: len(names)], strict=True))
        values["id"] = last[len(names)]
        next_token = encode_token(params, SimpleNamespace(**values), matched=matched, estimated=estimated)
    return ItemsPage(
        items=[row[-1] for row in rows],
        next_token=next_token,
        limit=params.limit,
        number_matched=matched,
        matched_estimated=estimated,
    )


def catalog_stream(*, params: SearchParams, max_items: int | None = None) -> Iterator[Capture]:
    """Every matching capture, read through a server-side cursor in chunks (never all in memory).

    The cursor is read inside a transaction: outside one, Django declares it WITH HOLD, and
    PostgreSQL then computes the whole result (into a temp file) before the first row. Inside, it
    is a plain cursor, so the first row leaves as soon as the plan yields it. The transaction only
    reads and lasts as long as the stream (closing the generator ends it)."""
    qs = catalog_queryset(params)
    if params.after is not None:
        qs = qs.filter(_after_q(params))
    if max_items is not None:
        qs = qs[:max_items]
    with transaction.atomic():
        yield from qs.iterator(chunk_size=STREAM_CHUNK)


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
    "https://stac-extensions.github.io/sat/v1.0.0/schema.json",  # sat:orbit_state
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
