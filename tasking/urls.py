from django.urls import path

from . import views

app_name = "tasking"

urlpatterns = [
    path("tasking/", views.tasking_home, name="home"),
    path("tasking/new/", views.tasking_new, name="new"),
    path("tasking/new/check/", views.tasking_params_check, name="params_check"),
    path("inbox/", views.inbox, name="inbox"),
    path("templates/", views.templates_page, name="templates"),
    path("templates/new/", views.template_new, name="template_new"),
    path("templates/sensor-fields/", views.template_sensor_fields, name="template_sensor_fields"),
    path("templates/<uuid:template_id>/edit/", views.template_edit, name="template_edit"),
    path("templates/<uuid:template_id>/delete/", views.template_delete_view, name="template_delete"),
    path("templates/<uuid:template_id>/restore/", views.template_restore_view, name="template_restore"),
    path("templates/<uuid:template_id>/duplicate/", views.template_duplicate_view, name="template_duplicate"),
    path("support/", views.support_desk, name="support"),
]
