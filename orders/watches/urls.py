from django.urls import path

from . import views

urlpatterns = [
    path("watches/", views.watches_page, name="watches"),
    path("watches/new/", views.watch_new, name="watch_new"),
    path("watches/<uuid:watch_id>/delete/", views.watch_delete_view, name="watch_delete"),
    path("watches/<uuid:watch_id>/watch/", views.watch_watch_view, name="watch_watch"),
    path("watches/alerts/<uuid:alert_id>/", views.watch_alert_open, name="watch_alert_open"),
]
