from django.urls import path

from . import views

app_name = "orders"

urlpatterns = [
    path("archive/", views.archive, name="archive"),
    path("orders/", views.order_list_page, name="list"),
]
