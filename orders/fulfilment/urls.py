"""Routes of fulfilment pages (included in the `orders` namespace by `orders/urls.py`)."""

from django.urls import path

from . import views

urlpatterns = [
    path(
        "support/orders/<uuid:order_id>/deliveries/new",
        views.support_delivery_new,
        name="support_delivery_new",
    ),
]
