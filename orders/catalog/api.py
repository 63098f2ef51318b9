"""catalog.search and catalog.search_stream (registered from orders/api.py)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from django.conf import settings
from django.http import HttpResponse, StreamingHttpResponse
from rest_framework import serializers

from geopera_web.api.fields import SettingBoundsMixin
from geopera_web.api.registry import Effect, OpContext, operation
from geopera_web.errors import NotFound

from .selectors import (
    DEFAULT_LIMIT,
    ID_MAX_CHARS,
    build_params,
    capture_feature,
    catalog_search,
    catalog_search_items,
    catalog_stream,
    hosts_of,
    sellable_products,
)
from .stac_query import apply_fields, parse_fields


class CatalogSearchInput(SettingBoundsMixin, serializers.Serializer):
    """Field names as in the reference's CatalogSearchInput. The list and page bounds are settings,
    read when the serializer is built."""

    setting_bounds = {
        "collections": {"max_length": "CATALOG_SEARCH_MAX_COLLECTIONS"},
        "ids": {"max_length": "CATALOG_SEARCH_MAX_IDS"},
        "limit": {"max_value": "CATALOG_SEARCH_MAX_LIMIT"},
    }

    collections = serializers.ListField(
        child=serializers.CharField(max_length=ID_MAX_CHARS),
        required=False,
        allow_null=True,
        help_text="At most {max_length} (CATALOG_SEARCH_MAX_COLLECTIONS).",
    )
    ids = serializers.ListField(
        child=serializers.CharField(max_length=ID_MAX_CHARS),
        required=False,
        allow_null=True,
        help_text="At most {max_length} (CATALOG_SEARCH_MAX_IDS).",
    )
    datetime = serializers.CharField(required=False, allow_null=True, allow_blank=True)
    limit = serializers.IntegerField(
        required=False,
        min_value=1,
        default=DEFAULT_LIMIT,
        help_text="Page size, at most {max_value} (CATALOG_SEARCH_MAX_LIMIT; above it: 422).",
    )
    query = serializers.DictField(required=False, allow_null=True)
    bbox = serializers.ListField(child=serializers.FloatField(), required=False, allow_null=True)
    intersects = serializers.DictField(required=False, allow_null=True)
    full_catalog = serializers.BooleanField(required=False, allow_null=True)
    host_name = serializers.CharField()
    next = serializers.CharField(required=False, allow_null=True, allow_blank=True)


class CatalogSearchPageInput(CatalogSearchInput):
    fields = serializers.DictField(
        required=False,
        allow_null=True,
        help_text=(
            'STAC API fields extension: `{"include": [...], "exclude": [...]}` with dotted paths '
            "(e.g. `properties.price.credits`). Absent: whole Items. `include` given: the Item's "
            "type, stac_version, id and collection plus what it names; `exclude` drops paths "
            "(a more specific `include` wins)."
        ),
    )


class CatalogSearchStreamInput(CatalogSearchInput):
    # The stream has no page size: `limit` caps the whole stream (settings: a default and a maximum).
    setting_bounds = {
        **CatalogSearchInput.setting_bounds,
        "limit": {"max_value": "CATALOG_STREAM_MAX_ITEMS", "text_default": "CATALOG_STREAM_DEFAULT_ITEMS"},
    }

    limit = serializers.IntegerField(
        required=False,
        min_value=1,
        allow_null=True,
        default=None,  # CATALOG_STREAM_DEFAULT_ITEMS, read per request
        help_text=(
            "Items in the whole stream: {text_default} when absent or null "
            "(CATALOG_STREAM_DEFAULT_ITEMS), at most {max_value} (CATALOG_STREAM_MAX_ITEMS; above it: 422)."
        ),
    )


def _params(data: dict[str, Any], *, limit: int):
    host = data["host_name"]
    products = sellable_products()  # read once: the host check and the search's product filter
    hosts = hosts_of(products)
    if host not in hosts:
        raise NotFound(
            f"Unknown host {host!r}. Hosts with an archive catalog: {', '.join(hosts)}.",
            slug="unknown-host",
        )
    params = build_params(data, limit=limit, host=host)
    params.sellable = [pk for pk, _ in products]
    return params


@operation(
    "catalog.search",
    scope="catalog:read",
    effect=Effect.READ,
    input=CatalogSearchPageInput,
    summary="Search a commercial-imagery host's catalog (STAC, price-enriched).",
    description=(
        "Returns a GeoJSON FeatureCollection of STAC Items, newest first. Each feature's "
        "`properties.price` has `credits_per_km2`, `min_area_km2`, `area_km2` (geodesic), "
        "`billed_area_km2`, `credits` (rate × max(area, minimum), rounded up) and `aud`. "
        "`next` is an opaque token for the following page (null on the last page); pass it back "
        "with the same filters. `bbox` and `intersects` are mutually exclusive (400). `fields` "
        "(STAC fields extension) returns only the Item fields asked for."
    ),
)
def catalog_search_op(ctx: OpContext, data: dict[str, Any]) -> HttpResponse | dict[str, Any]:
    params = _params(data, limit=data["limit"])
    fields = parse_fields(data.get("fields"))
    base = ctx.request.build_absolute_uri("/").rstrip("/")
    items = catalog_search_items(params=params, fields=fields, base_url=base)
    if items is not None:
        # The Items arrive as JSON text from PostgreSQL: joined into the body, never parsed here.
        tail = json.dumps(_envelope(items, len(items.items)))
        body = '{"type": "FeatureCollection", "features": [' + ", ".join(items.items) + "], " + tail[1:]
        return HttpResponse(body.encode(), content_type="application/json")
    page = catalog_search(params=params)  # `fields` names paths only the Python Item has
    features = [apply_fields(capture_feature(c, base_url=base), fields) for c in page.captures]
    return {"type": "FeatureCollection", "features": features, **_envelope(page, len(features))}


def _envelope(page: Any, returned: int) -> dict[str, Any]:
    return {
        "next": page.next_token,
        "numberReturned": returned,
        "numberMatched": page.number_matched,
        "context": {
            "limit": page.limit,
            "returned": returned,
            "matched": page.number_matched,
            "matched_estimated": page.matched_estimated,
        },
    }


@operation(
    "catalog.search_stream",
    scope="catalog:read",
    effect=Effect.READ,
    input=CatalogSearchStreamInput,
    response_types=("application/x-ndjson",),
    summary="Multi-vendor progressive catalog search.",
    description=(
        "The same filters as catalog.search; the response is NDJSON, one STAC Item per line, read "
        "from a server-side cursor so any result size streams in constant memory."
    ),
)
def catalog_search_stream_op(ctx: OpContext, data: dict[str, Any]) -> StreamingHttpResponse:
    params = _params(data, limit=0)
    base = ctx.request.build_absolute_uri("/").rstrip("/")

    def lines() -> Iterator[bytes]:
        limit = data.get("limit") or settings.CATALOG_STREAM_DEFAULT_ITEMS
        for capture in catalog_stream(params=params, max_items=limit):
            yield (json.dumps(capture_feature(capture, base_url=base), separators=(",", ":")) + "\n").encode()

    return StreamingHttpResponse(lines(), content_type="application/x-ndjson")
