from django.urls import path

from . import views

app_name = "orders"

urlpatterns = [
    path("archive/", views.archive, name="archive"),
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
]
