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
    path("settings/webhooks/<uuid:pk>/", views.webhook_detail, name="webhook"),
    path("settings/webhooks/<uuid:pk>/log", views.webhook_log, name="webhook_log"),
    path("settings/webhooks/<uuid:pk>/edit", views.webhook_edit, name="webhook_edit"),
    path("settings/webhooks/<uuid:pk>/active", views.webhook_active, name="webhook_active"),
    path("settings/webhooks/<uuid:pk>/delete", views.webhook_delete, name="webhook_delete"),
    path("settings/webhooks/<uuid:pk>/test", views.webhook_test, name="webhook_test"),
    path("settings/webhooks/<uuid:pk>/rotate", views.webhook_rotate, name="webhook_rotate"),
    path("settings/webhooks/<uuid:pk>/replay", views.webhook_replay_range, name="webhook_replay"),
    path(
        "settings/webhooks/<uuid:pk>/deliveries/<uuid:delivery_pk>/replay",
        views.webhook_replay_one,
        name="webhook_replay_one",
    ),
]
