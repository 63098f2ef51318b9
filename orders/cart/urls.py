"""Routes of the archive cart panel (included in the `orders` namespace by `orders/urls.py`)."""

from django.urls import path

from . import views

urlpatterns = [
    path("archive/cart/", views.cart_panel, name="cart_panel"),
    path("archive/cart/toggle/", views.cart_toggle_view, name="cart_toggle"),
    path("archive/cart/aoi/", views.cart_aoi_view, name="cart_aoi"),
    path("archive/cart/split/", views.cart_split_view, name="cart_split"),
    path("archive/cart/review/", views.cart_review_view, name="cart_review"),
    path("archive/cart/place/", views.cart_place_view, name="cart_place"),
    path("archive/cart/challenge/", views.cart_challenge_view, name="cart_challenge"),
    path("archive/cart/items/<str:capture_id>/remove/", views.cart_remove_view, name="cart_remove"),
    path("archive/cart/items/<str:capture_id>/clip/", views.cart_clip_view, name="cart_clip"),
]
