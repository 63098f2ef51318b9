from django.contrib import admin
from django.urls import include, path

from . import views
from .ops import health, metrics

admin.site.site_header = "geopera-web administration"
admin.site.site_title = "geopera-web admin"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", metrics.metrics, name="metrics"),
    # Browsers ask for /favicon.ico on pages without an icon link (the admin, JSON views).
    path("favicon.ico", views.favicon),
    path("admin/", admin.site.urls),
    path("", include("geopera_web.accounts.urls")),
    path("", include("geopera_web.billing.urls")),
    path("", include("geopera_web.api.urls")),
    path("", include("geopera_web.events.urls")),
    path("", include("geopera_web.audit.urls")),
    path("", include("orders.urls")),
    path("", include("tasking.urls")),
]

handler404 = "geopera_web.views.page_not_found"
handler500 = "geopera_web.views.server_error"
