"""Routes of the orders app, one `orders` namespace: the order pages here, and each
sub-package's routes (catalog and STAC, cart, coverage, fulfilment) from its own `urls.py`."""

from django.urls import path

from . import views
from .approvals.urls import urlpatterns as approvals_urls
from .cart.urls import urlpatterns as cart_urls
from .catalog.urls import urlpatterns as catalog_urls
from .coverage.urls import urlpatterns as coverage_urls
from .fulfilment.urls import urlpatterns as fulfilment_urls
from .watches.urls import urlpatterns as watches_urls

app_name = "orders"

urlpatterns = [
    *catalog_urls,
    *cart_urls,
    *coverage_urls,
    *fulfilment_urls,
    *approvals_urls,
    *watches_urls,
    path("orders/", views.order_list_page, name="list"),
    path("orders/<uuid:order_id>/", views.order_detail_page, name="detail"),
    path("orders/<uuid:order_id>/assets/", views.order_assets_more, name="detail_assets"),
    path("orders/<uuid:order_id>/timeline/", views.order_timeline_more, name="detail_timeline"),
    path(
        "orders/<uuid:order_id>/lineage/deliveries/",
        views.order_lineage_deliveries_more,
        name="detail_lineage_deliveries",
    ),
    path(
        "orders/<uuid:order_id>/lineage/groups/<str:group_id>/",
        views.order_lineage_group_more,
        name="detail_lineage_group",
    ),
    path("orders/<uuid:order_id>/tags/", views.order_tags_view, name="tags"),
    path("orders/<uuid:order_id>/watch/", views.order_watch_view, name="watch"),
    path("orders/<uuid:order_id>/cancel/", views.order_cancel_view, name="cancel"),
]
