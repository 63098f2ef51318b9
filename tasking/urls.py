from django.urls import path

from .views import inbox, library, requests, series, support

app_name = "tasking"

urlpatterns = [
    path("tasking/", requests.tasking_home, name="home"),
    path("tasking/new/", requests.tasking_new, name="new"),
    path("tasking/new/aoi-check/", requests.aoi_check, name="aoi_check"),
    path("tasking/new/draft/", requests.draft_save, name="draft_save"),
    path("tasking/new/place/", requests.place, name="place"),
    path("tasking/new/check/", requests.tasking_params_check, name="params_check"),
    path("tasking/series/<uuid:series_id>/", series.series_page, name="series"),
    path("tasking/series/<uuid:series_id>/cancel/", series.series_cancel_view, name="series_cancel"),
    path("inbox/", inbox.inbox, name="inbox"),
    path("inbox/badge/", inbox.inbox_badge, name="inbox_badge"),
    path("inbox/fresh/", inbox.inbox_fresh, name="inbox_fresh"),
    path("inbox/studies/<uuid:study_id>/accept/", inbox.inbox_study_accept, name="inbox_study_accept"),
    path("inbox/studies/<uuid:study_id>/reject/", inbox.inbox_study_reject, name="inbox_study_reject"),
    path(
        "inbox/quotations/<uuid:quotation_id>/decide/",
        inbox.inbox_quotation_decide,
        name="inbox_quotation_decide",
    ),
    path(
        "inbox/approvals/<uuid:approval_id>/decide/",
        inbox.inbox_approval_decide,
        name="inbox_approval_decide",
    ),
    path("templates/", library.templates_page, name="templates"),
    path("templates/new/", library.template_new, name="template_new"),
    path("templates/sensor-fields/", library.template_sensor_fields, name="template_sensor_fields"),
    path("templates/<uuid:template_id>/edit/", library.template_edit, name="template_edit"),
    path("templates/<uuid:template_id>/delete/", library.template_delete_view, name="template_delete"),
    path("templates/<uuid:template_id>/restore/", library.template_restore_view, name="template_restore"),
    path(
        "templates/<uuid:template_id>/duplicate/", library.template_duplicate_view, name="template_duplicate"
    ),
    path("support/", support.support_desk, name="support"),
    path("support/orders/<uuid:order_id>/", support.support_order, name="support_order"),
    path("support/orders/<uuid:order_id>/claim/", support.support_claim, name="support_claim"),
    path("support/orders/<uuid:order_id>/release/", support.support_release, name="support_release"),
    path("support/orders/<uuid:order_id>/study/", support.support_study_upload, name="support_study"),
    path(
        "support/orders/<uuid:order_id>/quotation/",
        support.support_quotation_upload,
        name="support_quotation",
    ),
]
