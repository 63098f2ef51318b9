"""Pages of the archive catalog: the map-centric archive browser (its cart panel is
`orders.cart.views`), AOI upload, synthetic quicklooks and the product list."""

from __future__ import annotations

import json

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.views.decorators.http import require_GET, require_POST

from geopera_web.accounts.decorators import org_required
from geopera_web.errors import InvalidInput

from ..aoi_files import MAX_UPLOAD_BYTES, aoi_from_upload
from .data import ARCHIVE_HOST, quicklook_shapes
from .selectors import MAX_LIMIT, archive_products, quicklook_cloud_cover


@require_GET
@org_required
def archive(request: HttpRequest) -> HttpResponse:
    """The map-centric archive: filters + results | map | cart panel. All searching happens in
    static/js/archive.js against catalog.search with the session (filters live in the URL)."""
    products = list(archive_products())
    config = {
        "searchUrl": "/v1/op/catalog.search",
        "aoiUploadUrl": "/archive/aoi-upload",
        "hostName": ARCHIVE_HOST,
        "pageSize": 200,
        "maxFeatures": MAX_LIMIT,
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
    if upload.size and upload.size > MAX_UPLOAD_BYTES:
        return JsonResponse(
            {"error": f"{upload.name} is larger than {MAX_UPLOAD_BYTES // 1_000_000} MB."}, status=400
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
