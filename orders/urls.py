from django.urls import path

from . import views
from .catalog import stac

app_name = "orders"

urlpatterns = [
    path("archive/", views.archive, name="archive"),
    path("archive/aoi-upload", views.archive_aoi_upload, name="aoi_upload"),
    path("archive/products/", views.archive_products_page, name="products"),
    path("archive/quicklook/<str:scene_id>.svg", views.archive_quicklook, name="quicklook"),
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
    # STAC API (public read; see orders/catalog/stac.py)
    path("stac/", stac.landing, name="stac_landing"),
    path("stac", stac.landing),
    path("stac/conformance", stac.conformance, name="stac_conformance"),
    path("stac/api", stac.service_desc, name="stac_api"),
    path("stac/collections", stac.collections, name="stac_collections"),
    path("stac/collections/<str:collection_id>", stac.collection, name="stac_collection"),
    path("stac/collections/<str:collection_id>/items", stac.items, name="stac_items"),
    path("stac/collections/<str:collection_id>/items/<str:item_id>", stac.item, name="stac_item"),
    path("stac/search", stac.search, name="stac_search"),
    path("archive/cart/", views.cart_panel, name="cart_panel"),
    path("archive/cart/toggle/", views.cart_toggle_view, name="cart_toggle"),
    path("archive/cart/aoi/", views.cart_aoi_view, name="cart_aoi"),
    path("archive/cart/split/", views.cart_split_view, name="cart_split"),
    path("archive/cart/place/", views.cart_place_view, name="cart_place"),
    path("archive/cart/challenge/", views.cart_challenge_view, name="cart_challenge"),
    path("archive/cart/items/<str:capture_id>/remove/", views.cart_remove_view, name="cart_remove"),
    path("archive/cart/items/<str:capture_id>/clip/", views.cart_clip_view, name="cart_clip"),
    path("orders/", views.order_list_page, name="list"),
    path("orders/<uuid:order_id>/", views.order_detail_page, name="detail"),
    path("orders/<uuid:order_id>/tags/", views.order_tags_view, name="tags"),
    path("orders/<uuid:order_id>/cancel/", views.order_cancel_view, name="cancel"),
]
