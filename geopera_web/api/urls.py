from django.urls import path, re_path

from . import views

app_name = "api"

urlpatterns = [
    path("v1/openapi.json", views.openapi_json, name="openapi"),
    path("v1/docs", views.docs, name="docs"),
    path("v1/op/<str:op_id>", views.OperationView.as_view(), name="op"),
    re_path(r"^v1/(?P<route>[a-z0-9_/.-]+)$", views.OperationView.as_view(), name="route"),
]
