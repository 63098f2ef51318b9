from django.urls import path

from . import flow_views, views

app_name = "tasking"

urlpatterns = [
    path("tasking/", flow_views.tasking_home, name="home"),
    path("tasking/new/", flow_views.tasking_new, name="new"),
    path("tasking/new/aoi-check/", flow_views.aoi_check, name="aoi_check"),
    path("tasking/new/draft/", flow_views.draft_save, name="draft_save"),
    path("tasking/new/place/", flow_views.place, name="place"),
    path("tasking/new/check/", views.tasking_params_check, name="params_check"),
    path("inbox/", flow_views.inbox, name="inbox"),
    path("inbox/badge/", flow_views.inbox_badge, name="inbox_badge"),
    path("inbox/studies/<uuid:study_id>/accept/", flow_views.inbox_study_accept, name="inbox_study_accept"),
    path("inbox/studies/<uuid:study_id>/reject/", flow_views.inbox_study_reject, name="inbox_study_reject"),
    path(
        "inbox/quotations/<uuid:quotation_id>/decide/",
        flow_views.inbox_quotation_decide,
        name="inbox_quotation_decide",
    ),
    path("templates/", views.templates_page, name="templates"),
    path("templates/new/", views.template_new, name="template_new"),
    path("templates/sensor-fields/", views.template_sensor_fields, name="template_sensor_fields"),
    path("templates/<uuid:template_id>/edit/", views.template_edit, name="template_edit"),
    path("templates/<uuid:template_id>/delete/", views.template_delete_view, name="template_delete"),
    path("templates/<uuid:template_id>/restore/", views.template_restore_view, name="template_restore"),
    path("templates/<uuid:template_id>/duplicate/", views.template_duplicate_view, name="template_duplicate"),
    path("support/", flow_views.support_desk, name="support"),
    path("support/orders/<uuid:order_id>/", flow_views.support_order, name="support_order"),
    path("support/orders/<uuid:order_id>/study/", flow_views.support_study_upload, name="support_study"),
    path(
        "support/orders/<uuid:order_id>/quotation/",
        flow_views.support_quotation_upload,
        name="support_quotation",
    ),
]
