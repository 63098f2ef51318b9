"""Pages of the archive catalog: the map-centric archive browser (its cart panel is
`orders.cart.views`), AOI upload, synthetic quicklooks and the product list."""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotModified, JsonResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils.http import parse_etags
from django.views.decorators.http import require_GET, require_POST

from geopera_web import jsonbounds
from geopera_web.accounts.decorators import org_required
from geopera_web.api.problems import problem_response
from geopera_web.errors import InvalidInput, NotFound

from ..aoi_files import aoi_from_upload
from .data import ARCHIVE_HOST, quicklook_shapes
from .selectors import (
    SearchParams,
    archive_products,
    build_params,
    known_hosts,
    quicklook_cloud_cover,
)
from .tiles import TileAddress, capture_tile, catalog_version, tile_etag


@require_GET
@org_required
def archive(request: HttpRequest) -> HttpResponse:
    """The map-centric archive: filters + results | map | cart panel. All searching happens in
    static/js/archive.js against catalog.search with the session (filters live in the URL)."""
    products = list(archive_products())
    config = {
        "searchUrl": "/v1/op/catalog.search",
        "tileUrl": "/tiles/captures/{z}/{x}/{y}.mvt",
        "tileMaxZoom": TileAddress.max_zoom(),
        "aoiUploadUrl": "/archive/aoi-upload",
        "hostName": ARCHIVE_HOST,
        "pageSize": 200,
        "maxFeatures": settings.CATALOG_SEARCH_MAX_LIMIT,
        "collections": [
            {
                "id": p.collection,
                "name": p.name,
                "creditsPerKm2": p.credits_per_km2,
                "minAreaKm2": p.min_area_km2,
            }
            for p in products
        ],
    }
    return render(request, "orders/archive.html", {"products": products, "archive_config": config})


@require_POST
@org_required
def archive_aoi_upload(request: HttpRequest) -> JsonResponse:
    """An uploaded AOI file → its GeoJSON geometry, or a 400 saying exactly what is wrong."""
    upload = request.FILES.get("file")
    if upload is None:
        return JsonResponse(
            {"error": "Choose a file to upload (GeoJSON, KML or zipped shapefile)."}, status=400
        )
    if upload.size and upload.size > settings.AOI_UPLOAD_MAX_BYTES:
        return JsonResponse(
            {"error": f"{upload.name} is larger than {settings.AOI_UPLOAD_MAX_BYTES // 1_000_000} MB."},
            status=400,
        )
    try:
        geom = aoi_from_upload(filename=upload.name or "upload", data=upload.read())
    except InvalidInput as exc:
        return JsonResponse({"error": exc.detail}, status=400)
    return JsonResponse({"geometry": json.loads(geom.geojson), "name": upload.name})


@require_GET
def archive_quicklook(request: HttpRequest, scene_id: str) -> HttpResponse:
    """A synthetic quicklook (SVG) for a simulated scene: terrain colours from the scene id, clouds
    in proportion to its cloud cover. Public like the STAC catalog that links to it."""
    cloud = quicklook_cloud_cover(scene_id=scene_id)
    if cloud is None:
        raise Http404("No such scene.")
    svg = render_to_string("orders/quicklook.svg", quicklook_shapes(scene_id=scene_id, cloud_cover=cloud))
    response = HttpResponse(svg, content_type="image/svg+xml")
    response["Cache-Control"] = "public, max-age=86400"
    return response


@require_GET
@org_required
def archive_products_page(request: HttpRequest) -> HttpResponse:
    return render(request, "orders/products.html", {"products": archive_products()})


# The archive panel's filters, as catalog.search takes them (lists comma-separated, `query` and
# `intersects` as JSON): the same parsing and validation (build_params).
TILE_FILTERS = ("collections", "ids", "datetime", "query", "intersects", "host_name")
MVT_CONTENT_TYPE = "application/vnd.mapbox-vector-tile"


def _tile_params(request: HttpRequest) -> SearchParams:
    unknown = sorted(set(request.GET) - set(TILE_FILTERS))
    if unknown:
        raise InvalidInput(
            f"Unknown parameter(s) {', '.join(unknown)}; a tile takes {', '.join(TILE_FILTERS)}.",
            slug="unknown-parameter",
        )
    data: dict[str, Any] = {}
    for name in TILE_FILTERS:
        values = request.GET.getlist(name)
        if len(values) > 1:
            raise InvalidInput(
                f"'{name}' is given {len(values)} times; give it once (lists comma-separated)."
            )
        if not values or values[0] == "":
            continue
        if name == "intersects":
            try:
                data[name] = jsonbounds.loads(values[0])
            except ValueError as exc:
                raise InvalidInput("'intersects' is not valid GeoJSON (JSON).") from exc
            if not isinstance(data[name], dict):
                raise InvalidInput("'intersects' must be a GeoJSON geometry object.")
        else:
            data[name] = values[0]
    host = data.pop("host_name", ARCHIVE_HOST)
    if host != ARCHIVE_HOST and host not in known_hosts():
        raise NotFound(f"Unknown host {host!r}.", slug="unknown-host")
    return build_params(data, limit=1, host=host)


@require_GET
@org_required
def capture_tile_view(request: HttpRequest, z: str, x: str, y: str) -> HttpResponse:
    """One vector tile of the archive catalog for the map (orders/catalog/tiles.py). A tile that
    does not exist is a 404, a bad filter a 400 problem; an unchanged tile is a 304 decided on the
    catalog's version alone (the tile statement does not run)."""
    tile = TileAddress.checked(int(z), int(x), int(y))
    if tile is None:
        raise Http404("No such tile.")
    try:
        params = _tile_params(request)
    except (InvalidInput, NotFound) as exc:
        return problem_response(status=exc.status, title=exc.title, detail=exc.detail, slug=exc.slug)
    response: HttpResponse
    if_none_match = request.headers.get("If-None-Match", "").strip()
    if if_none_match:
        etag = tile_etag(tile=tile, params=params, version=catalog_version())
        if if_none_match == "*" or etag in parse_etags(if_none_match):
            return _tile_headers(HttpResponseNotModified(), etag)
    # The version comes back with the tile, from the same snapshot (one round trip).
    version, data = capture_tile(tile=tile, params=params)
    response = HttpResponse(data, content_type=MVT_CONTENT_TYPE)
    return _tile_headers(response, tile_etag(tile=tile, params=params, version=version))


def _tile_headers(response: HttpResponse, etag: str) -> HttpResponse:
    response["ETag"] = etag
    response["Cache-Control"] = "private, no-cache"
    response["Vary"] = "Cookie"
    return response
