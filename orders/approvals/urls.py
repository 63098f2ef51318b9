from django.urls import path

from . import views

urlpatterns = [
    path("policies/", views.policies_page, name="policies"),
]
