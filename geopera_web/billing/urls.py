from django.urls import path

from . import views

app_name = "billing"

urlpatterns = [
    path("billing/", views.overview, name="overview"),
    path("billing/ledger.csv", views.ledger_csv, name="ledger_csv"),
]
