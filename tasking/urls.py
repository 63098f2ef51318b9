from django.urls import path

from . import views

app_name = "tasking"

urlpatterns = [
    path("tasking/", views.tasking_home, name="home"),
    path("inbox/", views.inbox, name="inbox"),
    path("templates/", views.templates_page, name="templates"),
    path("support/", views.support_desk, name="support"),
]
