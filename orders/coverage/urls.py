"""Routes of coverage pages (included in the `orders` namespace by `orders/urls.py`)."""

from django.urls import path

from . import views

urlpatterns = [
    path("orders/<uuid:order_id>/coverage/", views.coverage_page, name="coverage"),
    path(
        "orders/<uuid:order_id>/coverage/<uuid:group_id>/<str:kind>.geojson",
        views.coverage_download,
        name="coverage_download",
    ),
]
