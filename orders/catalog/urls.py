"""Routes of the archive catalog (included in the `orders` namespace by `orders/urls.py`)."""

from django.urls import path, re_path

from . import stac, views

urlpatterns = [
    path("archive/", views.archive, name="archive"),
    path("archive/aoi-upload", views.archive_aoi_upload, name="aoi_upload"),
    path("archive/products/", views.archive_products_page, name="products"),
    path("archive/quicklook/<str:scene_id>.svg", views.archive_quicklook, name="quicklook"),
    # Vector tiles of the catalog for the map; the zoom is range-checked in the view (0–22).
    re_path(
        r"^tiles/captures/(?P<z>[0-9]{1,2})/(?P<x>[0-9]{1,7})/(?P<y>[0-9]{1,7})\.mvt$",
        views.capture_tile_view,
        name="capture_tile",
    ),
    # STAC API (public read; see orders/catalog/stac.py)
    path("stac/", stac.landing, name="stac_landing"),
    path("stac", stac.landing),
    path("stac/conformance", stac.conformance, name="stac_conformance"),
    path("stac/api", stac.service_desc, name="stac_api"),
    path("stac/collections", stac.collections, name="stac_collections"),
    path("stac/queryables", stac.queryables, name="stac_queryables"),
    path("stac/collections/<str:collection_id>", stac.collection, name="stac_collection"),
    path(
        "stac/collections/<str:collection_id>/queryables",
        stac.collection_queryables,
        name="stac_collection_queryables",
    ),
    path("stac/collections/<str:collection_id>/items", stac.items, name="stac_items"),
    path("stac/collections/<str:collection_id>/items/<str:item_id>", stac.item, name="stac_item"),
    path("stac/search", stac.search, name="stac_search"),
]
