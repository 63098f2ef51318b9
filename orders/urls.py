from django.urls import path

from . import stac, views

app_name = "orders"

urlpatterns = [
    path("archive/", views.archive, name="archive"),
    path("archive/aoi-upload", views.archive_aoi_upload, name="aoi_upload"),
    path("archive/products/", views.archive_products_page, name="products"),
    path("archive/quicklook/<str:scene_id>.svg", views.archive_quicklook, name="quicklook"),
    path("orders/", views.order_list_page, name="list"),
    path("orders/<uuid:order_id>/coverage/", views.coverage_page, name="coverage"),
    path(
        "orders/<uuid:order_id>/coverage/<uuid:group_id>/<str:kind>.geojson",
        views.coverage_download,
        name="coverage_download",
    ),
    path(
        "support/orders/<uuid:order_id>/deliveries/new",
        views.support_delivery_new,
        name="support_delivery_new",
    ),
    # STAC API (public read; see orders/stac.py)
    path("stac/", stac.landing, name="stac_landing"),
    path("stac", stac.landing),
    path("stac/conformance", stac.conformance, name="stac_conformance"),
    path("stac/api", stac.service_desc, name="stac_api"),
    path("stac/collections", stac.collections, name="stac_collections"),
    path("stac/collections/<str:collection_id>", stac.collection, name="stac_collection"),
    path("stac/collections/<str:collection_id>/items", stac.items, name="stac_items"),
    path("stac/collections/<str:collection_id>/items/<str:item_id>", stac.item, name="stac_item"),
    path("stac/search", stac.search, name="stac_search"),
]
