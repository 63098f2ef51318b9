from django.urls import path

from . import views

app_name = "events"

urlpatterns = [
    path("notifications/", views.notifications_page, name="notifications"),
    path("notifications/preferences/", views.preferences_save, name="preferences"),
    path("notifications/bell/", views.bell, name="bell"),
    path("notifications/read-all", views.notification_action, {"action": "read-all"}, name="read_all"),
    path("notifications/<uuid:pk>/read", views.notification_action, {"action": "read"}, name="read"),
    path("notifications/<uuid:pk>/dismiss", views.notification_action, {"action": "dismiss"}, name="dismiss"),
    path("settings/webhooks/", views.webhooks_page, name="webhooks"),
]
