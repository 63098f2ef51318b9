"""The archive catalog as a STAC API at /stac/: core, collections, features, item-search and the
query, sort, fields and filter (CQL2 text + JSON) extensions (see stac_query for what each accepts).

Public read, no authentication: the catalog holds the reseller's archive metadata and list prices,
nothing that belongs to an organization (ordering still needs an account). That keeps stock STAC
clients (pystac-client, QGIS, stac-browser) working without credentials.

Errors are RFC 7807 problem+json (the platform's ApiProblemMiddleware handles /stac paths).
`limit` above the maximum is clamped (the STAC spec asks for 200, not an error); below 1 is a 400.
"""

from __future__ import annotations

import json
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from geopera_web import jsonbounds
from geopera_web.api.problems import problem_response
from geopera_web.errors import InvalidInput, NotFound
from geopera_web.http.conditional import revalidated

from .extents import collection_extent
from .selectors import (
    STAC_EXTENSIONS,
    archive_products,
    build_params,
    capture_feature,
    capture_get,
    catalog_search,
    catalog_search_items,
)
from .stac_query import (
    FILTER_CONFORMANCE,
    apply_fields,
    parse_fields,
    parse_filter,
    parse_sortby,
    queryables_document,
)

STAC_VERSION = "1.0.0"
DEFAULT_STAC_LIMIT = 10
CONFORMANCE = [
    "https://api.stacspec.org/v1.0.0/core",
    "https://api.stacspec.org/v1.0.0/collections",
    "https://api.stacspec.org/v1.0.0/ogcapi-features",
    "https://api.stacspec.org/v1.0.0/item-search",
    "https://api.stacspec.org/v1.0.0/item-search#query",
    "https://api.stacspec.org/v1.0.0/item-search#sort",
    "https://api.stacspec.org/v1.0.0/item-search#fields",
    "https://api.stacspec.org/v1.0.0/ogcapi-features#query",
    "https://api.stacspec.org/v1.0.0/ogcapi-features#sort",
    "https://api.stacspec.org/v1.0.0/ogcapi-features#fields",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    *FILTER_CONFORMANCE,
]
SCHEMA_JSON = "application/schema+json"
GEOJSON = "application/geo+json"
JSON = "application/json"


def _methods(*allowed: str):
    """Like require_http_methods, but a wrong method is a 405 problem+json with an Allow header."""

    def decorator(view):
        @wraps(view)
        def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if request.method not in allowed:
                response = problem_response(
                    status=405,
                    title="Method Not Allowed",
                    slug="method-not-allowed",
                    detail=f"{request.method} is not allowed here; use {' or '.join(allowed)}.",
                    instance=request.path,
                )
                response["Allow"] = ", ".join(allowed)
                return response
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


require_GET = _methods("GET", "HEAD")


def _json(payload: Any, *, status: int = 200, content_type: str = JSON) -> HttpResponse:
    return HttpResponse(json.dumps(payload), status=status, content_type=content_type)


def _root(request: HttpRequest) -> str:
    return request.build_absolute_uri("/stac").rstrip("/")


def _base(request: HttpRequest) -> str:
    return request.build_absolute_uri("/").rstrip("/")


def _limit(value: Any) -> int:
    if value is None or value == "":
        return DEFAULT_STAC_LIMIT
    try:
        limit = int(value)
    except (TypeError, ValueError) as exc:
        raise InvalidInput(f"'limit' must be an integer, got {value!r}.") from exc
    if isinstance(value, bool) or limit < 1:
        raise InvalidInput(f"'limit' must be at least 1, got {value!r}.")
    return min(limit, settings.CATALOG_SEARCH_MAX_LIMIT)


@require_GET
@revalidated()
def landing(request: HttpRequest) -> HttpResponse:
    root = _root(request)
    links = [
        {"rel": "self", "href": f"{root}/", "type": JSON},
        {"rel": "root", "href": f"{root}/", "type": JSON},
        {"rel": "conformance", "href": f"{root}/conformance", "type": JSON},
        {"rel": "data", "href": f"{root}/collections", "type": JSON},
        {"rel": "search", "href": f"{root}/search", "type": GEOJSON, "method": "GET"},
        {"rel": "search", "href": f"{root}/search", "type": GEOJSON, "method": "POST"},
        {
            "rel": "http://www.opengis.net/def/rel/ogc/1.0/queryables",
            "href": f"{root}/queryables",
            "type": SCHEMA_JSON,
            "title": "Queryables of the search",
        },
        {
            "rel": "service-desc",
            "href": f"{root}/api",
            "type": "application/vnd.oai.openapi+json;version=3.0",
            "title": "OpenAPI description of this STAC API",
        },
        {
            "rel": "service-doc",
            "href": request.build_absolute_uri("/v1/docs"),
            "type": "text/html",
            "title": "API documentation",
        },
    ]
    links += [
        {"rel": "child", "href": f"{root}/collections/{p.collection}", "type": JSON, "title": p.name}
        for p in archive_products()
    ]
    return _json(
        {
            "type": "Catalog",
            "stac_version": STAC_VERSION,
            "id": "geopera-archive",
            "title": "geopera archive catalog",
            "description": "Commercial satellite imagery captures available to order, with list prices.",
            "conformsTo": CONFORMANCE,
            "links": links,
        }
    )


@require_GET
@revalidated()
def conformance(request: HttpRequest) -> HttpResponse:
    return _json({"conformsTo": CONFORMANCE})


@require_GET
@revalidated()
def service_desc(request: HttpRequest) -> HttpResponse:
    """A small OpenAPI description of the STAC endpoints (service-desc)."""
    paths = {
        "/": "Landing page",
        "/conformance": "Conformance classes",
        "/collections": "Collections",
        "/collections/{collectionId}": "A collection",
        "/collections/{collectionId}/items": "Items of a collection",
        "/collections/{collectionId}/items/{featureId}": "One item",
        "/search": "Item search",
    }

    def param(name: str) -> dict[str, Any]:
        return {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}

    def op(summary: str, path: str, media: str) -> dict[str, Any]:
        names = [part[1:-1] for part in path.split("/") if part.startswith("{")]
        return {
            "summary": summary,
            **({"parameters": [param(n) for n in names]} if names else {}),
            "responses": {
                "200": {"description": "OK", "content": {media: {"schema": {"type": "object"}}}},
                "400": {"description": "Bad request", "content": {"application/problem+json": {}}},
                "404": {"description": "Not found", "content": {"application/problem+json": {}}},
            },
        }

    media = {
        "/collections/{collectionId}/items": GEOJSON,
        "/collections/{collectionId}/items/{featureId}": GEOJSON,
    }
    media |= {
        "/search": GEOJSON,
        "/queryables": SCHEMA_JSON,
        "/collections/{collectionId}/queryables": SCHEMA_JSON,
    }
    paths |= {
        "/queryables": "Queryables of the search",
        "/collections/{collectionId}/queryables": "Queryables",
    }
    doc = {
        "openapi": "3.0.3",
        "info": {"title": "geopera STAC API", "version": STAC_VERSION},
        "servers": [{"url": _root(request)}],
        "paths": {
            p: {
                "get": op(s, p, media.get(p, JSON)),
                **({"post": op(s, p, GEOJSON)} if p == "/search" else {}),
            }
            for p, s in paths.items()
        },
    }
    return _json(doc, content_type="application/vnd.oai.openapi+json;version=3.0")


def _collection_doc(request: HttpRequest, product) -> dict[str, Any]:
    root = _root(request)
    cid = product.collection
    return {
        "type": "Collection",
        "stac_version": STAC_VERSION,
        "stac_extensions": STAC_EXTENSIONS,
        "id": cid,
        "title": product.name,
        "description": product.description or product.name,
        "license": "proprietary",
        "keywords": ["satellite", "imagery", "archive"],
        "providers": [{"name": product.host, "roles": ["producer", "host"]}],
        "extent": collection_extent(cid),
        "summaries": {
            "sat:orbit_state": ["ascending", "descending"],
            "geopera:credits_per_km2": [product.credits_per_km2],
            "geopera:min_area_km2": [product.min_area_km2],
        },
        "links": [
            {"rel": "self", "href": f"{root}/collections/{cid}", "type": JSON, "title": product.name},
            {"rel": "root", "href": f"{root}/", "type": JSON, "title": "geopera archive catalog"},
            {"rel": "parent", "href": f"{root}/", "type": JSON, "title": "geopera archive catalog"},
            {"rel": "items", "href": f"{root}/collections/{cid}/items", "type": GEOJSON, "title": "Items"},
            {
                "rel": "license",
                "href": request.build_absolute_uri("/archive/products/"),
                "type": "text/html",
                "title": "Licence terms and list prices (proprietary, per order)",
            },
            {
                "rel": "http://www.opengis.net/def/rel/ogc/1.0/queryables",
                "href": f"{root}/collections/{cid}/queryables",
                "type": SCHEMA_JSON,
                "title": "Queryables",
            },
        ],
    }


def _product_for(collection_id: str):
    product = archive_products().filter(collection=collection_id).first()
    if product is None:
        raise NotFound(f"No collection {collection_id!r}.")
    return product


@require_GET
@revalidated()
def collections(request: HttpRequest) -> HttpResponse:
    root = _root(request)
    return _json(
        {
            "collections": [_collection_doc(request, p) for p in archive_products()],
            "links": [
                {"rel": "self", "href": f"{root}/collections", "type": JSON},
                {"rel": "root", "href": f"{root}/", "type": JSON},
                {"rel": "parent", "href": f"{root}/", "type": JSON},
            ],
        }
    )


@require_GET
@revalidated()
def collection(request: HttpRequest, collection_id: str) -> HttpResponse:
    return _json(_collection_doc(request, _product_for(collection_id)))


def _feature_collection(request: HttpRequest, params, extra_links, fields=None) -> HttpResponse:
    """A page of items. `numberMatched` / `context.matched` are on every page; when the planner's
    estimate stood in for an exact count (large matches), `context.matched_estimated` is true.

    `extra_links(next_token)` gives the page's links. The Items are written by PostgreSQL and
    joined into the body unparsed (selectors.catalog_search_items); a `fields` path only the
    Python Item answers takes the Python path."""
    root = _root(request)
    base = _base(request)
    items = catalog_search_items(params=params, fields=fields, base_url=base, stac_root=root)
    if items is not None:
        page: Any = items
        features_json = "[" + ", ".join(items.items) + "]"
        returned = len(items.items)
    else:
        page = catalog_search(params=params)
        features = [
            apply_fields(capture_feature(c, base_url=base, stac_root=root), fields) for c in page.captures
        ]
        features_json = json.dumps(features)
        returned = len(features)
    rest = {
        "numberReturned": returned,
        "numberMatched": page.number_matched,
        "context": {
            "limit": page.limit,
            "returned": returned,
            "matched": page.number_matched,
            "matched_estimated": page.matched_estimated,
        },
        "links": [{"rel": "root", "href": f"{root}/", "type": JSON}, *extra_links(page.next_token)],
    }
    body = '{"type": "FeatureCollection", "features": ' + features_json + ", " + json.dumps(rest)[1:]
    return HttpResponse(body.encode(), content_type=GEOJSON)


# Parameters of a search (GET query string or POST body); anything else is a 400, never ignored.
SEARCH_PARAMETERS = {
    "collections", "ids", "bbox", "intersects", "datetime", "limit", "query", "filter", "filter-lang",
    "filter-crs", "sortby", "fields", "token",
}  # fmt: skip


def _check_names(names, *, allowed: set[str], where: str) -> None:
    unknown = sorted(set(names) - allowed)
    if unknown:
        raise InvalidInput(
            f"Unsupported {where} {', '.join(repr(u) for u in unknown)}; this API takes "
            f"{', '.join(sorted(allowed))}.",
            slug="unsupported-parameter",
        )


def _extensions(data: dict[str, Any], *, get: bool) -> dict[str, Any]:
    """filter / sortby / fields parsed from a GET query or a POST body."""
    return {
        "filter": parse_filter(
            data.get("filter"), lang=data.get("filter-lang"), crs=data.get("filter-crs"), get=get
        ),
        "sort": parse_sortby(data.get("sortby")),
    }


def _get_next_link(request: HttpRequest, token: str | None) -> list[dict]:
    if not token:
        return []
    query = {k: v for k, v in request.GET.items() if k != "token"}
    query["token"] = token
    href = request.build_absolute_uri(request.path) + "?" + urlencode(query)
    return [{"rel": "next", "href": href, "type": GEOJSON, "method": "GET"}]


def _get_input(request: HttpRequest, *, allowed: set[str] = SEARCH_PARAMETERS) -> dict[str, Any]:
    """STAC GET parameters → the search input shape (comma lists, JSON-encoded intersects/query)."""
    _check_names(request.GET.keys(), allowed=allowed, where="query parameter(s)")
    for name in request.GET:
        if len(request.GET.getlist(name)) > 1:
            raise InvalidInput(f"'{name}' is given more than once.")
    data: dict[str, Any] = {}
    for name in (
        "collections",
        "ids",
        "bbox",
        "datetime",
        "query",
        "token",
        "filter",
        "filter-lang",
        "filter-crs",
        "sortby",
    ):
        if request.GET.get(name) not in (None, ""):
            data[name] = request.GET[name]
    if request.GET.get("intersects"):
        try:
            data["intersects"] = jsonbounds.loads(request.GET["intersects"])
        except jsonbounds.JSONBadString as exc:
            raise exc.as_invalid_input(("query", "intersects")) from None
        except json.JSONDecodeError as exc:
            raise InvalidInput(f"'intersects' is not valid JSON: {exc.msg}.") from exc
    return data


@require_GET
@revalidated()
def items(request: HttpRequest, collection_id: str) -> HttpResponse:
    _product_for(collection_id)
    data = _get_input(request, allowed=SEARCH_PARAMETERS - {"collections", "ids", "intersects"})
    data["collections"] = [collection_id]
    params = build_params(data, limit=_limit(request.GET.get("limit")), **_extensions(data, get=True))
    fields = parse_fields(request.GET.get("fields"))
    root = _root(request)

    def links(token: str | None) -> list[dict]:
        return [
            {"rel": "self", "href": request.build_absolute_uri(), "type": GEOJSON},
            {"rel": "collection", "href": f"{root}/collections/{collection_id}", "type": JSON},
            *_get_next_link(request, token),
        ]

    return _feature_collection(request, params, links, fields)


@require_GET
@revalidated()
def item(request: HttpRequest, collection_id: str, item_id: str) -> HttpResponse:
    _product_for(collection_id)
    capture = capture_get(scene_id=item_id, collection=collection_id)
    if capture is None:
        raise NotFound(f"No item {item_id!r} in collection {collection_id!r}.")
    return _json(
        capture_feature(capture, base_url=_base(request), stac_root=_root(request)), content_type=GEOJSON
    )


@csrf_exempt  # public, cookie-less read; a POST here changes nothing
@_methods("GET", "POST")
def search(request: HttpRequest) -> HttpResponse:
    root = _root(request)
    if request.method == "POST":
        try:
            body = jsonbounds.loads(request.body or b"{}")
        except jsonbounds.JSONBadString as exc:
            raise exc.as_invalid_input() from None
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise InvalidInput(f"The request body is not valid JSON: {exc}.") from exc
        if not isinstance(body, dict):
            raise InvalidInput("The request body must be a JSON object.")
        _check_names(body.keys(), allowed=SEARCH_PARAMETERS, where="search member(s)")
        if "bbox" in body and not isinstance(body["bbox"], list | type(None)):
            # Comma-separated strings are the GET form only; POST bodies carry a JSON array.
            raise InvalidInput("'bbox' in a POST body must be a JSON array of numbers.")
        if isinstance(body.get("sortby"), str):
            raise InvalidInput("'sortby' in a POST body is a list of {field, direction}.")
        if "fields" in body and not isinstance(body["fields"], dict):
            raise InvalidInput("'fields' in a POST body is an object with include/exclude lists.")
        params = build_params(body, limit=_limit(body.get("limit")), **_extensions(body, get=False))
        fields = parse_fields(body.get("fields"))

        def links(token: str | None) -> list[dict]:
            out = [{"rel": "self", "href": f"{root}/search", "type": GEOJSON}]
            if token:
                out.append(
                    {
                        "rel": "next",
                        "href": f"{root}/search",
                        "type": GEOJSON,
                        "method": "POST",
                        "body": {**body, "token": token},
                        "merge": False,
                    }
                )
            return out
    else:
        data = _get_input(request)
        params = build_params(data, limit=_limit(request.GET.get("limit")), **_extensions(data, get=True))
        fields = parse_fields(request.GET.get("fields"))

        def links(token: str | None) -> list[dict]:
            return [
                {"rel": "self", "href": request.build_absolute_uri(), "type": GEOJSON},
                *_get_next_link(request, token),
            ]

    return _feature_collection(request, params, links, fields)


@require_GET
@revalidated()
def queryables(request: HttpRequest) -> HttpResponse:
    url = f"{_root(request)}/queryables"
    return _json(queryables_document(url=url), content_type=SCHEMA_JSON)


@require_GET
@revalidated()
def collection_queryables(request: HttpRequest, collection_id: str) -> HttpResponse:
    _product_for(collection_id)
    url = f"{_root(request)}/collections/{collection_id}/queryables"
    return _json(queryables_document(url=url, collection=collection_id), content_type=SCHEMA_JSON)
